//! Document files (`files`): PDFs uploaded in the admin or imported with a
//! bundle, with the text read from them. The file itself is
//! `<files>/<name>`; a document names it in its `file` field.

use super::Store;
use super::error::{Error, Result};

/// A document file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentFile {
    /// The stored name (`report-2016.pdf`), also its address `/files/<name>`.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// The text read from it, for search.
    pub text: String,
    /// Why there is no text, where there is none.
    pub note: String,
    /// Who uploaded it (`import` for files from a bundle).
    pub created_by: String,
    /// When (unix seconds).
    pub created_at: i64,
}

const COLUMNS: &str = "name, media_type, text, note, created_by, created_at";

impl Store {
    /// Records a file; `false` when the name is taken.
    pub async fn add_file(&self, f: &DocumentFile) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO files (name, media_type, text, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&f.name)
        .bind(&f.media_type)
        .bind(&f.text)
        .bind(&f.note)
        .bind(&f.created_by)
        .bind(f.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every file, newest first.
    pub async fn files(&self) -> Result<Vec<DocumentFile>> {
        let sql = format!("SELECT {COLUMNS} FROM files ORDER BY created_at DESC, id DESC");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?)
    }

    /// One file.
    pub async fn file(&self, name: &str) -> Result<Option<DocumentFile>> {
        let sql = format!("SELECT {COLUMNS} FROM files WHERE name = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(&self.pool).await?)
    }

    /// Every document that names a file, in any site, in the trash too
    /// (restoring one must find its file): its key and the file's name.
    pub async fn file_users(&self) -> Result<Vec<(String, String)>> {
        let users = self.stored_file_users().await?.into_iter();
        Ok(users.filter(|(_, kind, ..)| kind == "document").map(|(_, _, key, name)| (key, name)).collect())
    }

    /// Every item of any site that names a stored file (a document's file,
    /// a page's or news post's image), in the trash too: (site key, kind,
    /// item key, file name).
    pub async fn stored_file_users(&self) -> Result<Vec<(String, String, String, String)>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT s.key, i.kind, i.key, i.data FROM items i JOIN sites s ON s.id = i.site_id \
             WHERE i.kind IN ('document', 'page', 'news') ORDER BY s.key, i.kind, i.key",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(site, kind, key, data)| {
                let json: serde_json::Value = serde_json::from_str(&data).ok()?;
                let field = if kind == "document" { "file" } else { "image" };
                let name = json.get(field)?.as_str()?.to_owned();
                Some((site, kind, key, name))
            })
            .collect())
    }

    /// Forgets a file (the caller removes it from the disk).
    pub async fn remove_file(&self, name: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM files WHERE name = $1").bind(name).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("the file `{name}`")));
        }
        Ok(())
    }
}
