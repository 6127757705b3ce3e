//! The uploaded images of a site (`media`): their key, name, size and
//! alternative text per language. The files are under `<files>/media/`.

use super::Store;
use super::backend::{Conn, Flag};
use super::error::{Error, Result};

/// An uploaded image.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaFile {
    /// `img-<hash>-<w>x<h>`.
    pub key: String,
    /// The file name it was uploaded as (shown to editors only).
    pub name: String,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Size of the original.
    pub bytes: i64,
    /// JSON: alternative text per language (`{"en": "…", "de": "…"}`).
    pub alt: String,
    /// Who uploaded it.
    pub created_by: String,
    /// When (unix seconds).
    pub created_at: i64,
}

impl MediaFile {
    /// The alternative text in `lang` ("" where there is none).
    pub fn alt_in(&self, lang: &str) -> String {
        let alt: serde_json::Value = serde_json::from_str(&self.alt).unwrap_or_default();
        alt.get(lang).and_then(|v| v.as_str()).unwrap_or("").to_owned()
    }
}

const COLUMNS: &str = "key, name, width, height, bytes, alt, created_by, created_at";

impl Store {
    /// Records an upload; `false` when the site has this image already.
    pub async fn add_media(&self, site_id: i64, m: &MediaFile) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO media (site_id, key, name, width, height, bytes, alt, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (site_id, key) DO NOTHING",
        )
        .bind(site_id)
        .bind(&m.key)
        .bind(&m.name)
        .bind(m.width)
        .bind(m.height)
        .bind(m.bytes)
        .bind(&m.alt)
        .bind(&m.created_by)
        .bind(m.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The site's images, newest first.
    pub async fn media(&self, site_id: i64) -> Result<Vec<MediaFile>> {
        let sql = format!("SELECT {COLUMNS} FROM media WHERE site_id = $1 ORDER BY created_at DESC, id DESC");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(site_id).fetch_all(&self.pool).await?)
    }

    /// One image.
    pub async fn media_file(&self, site_id: i64, key: &str) -> Result<Option<MediaFile>> {
        let sql = format!("SELECT {COLUMNS} FROM media WHERE site_id = $1 AND key = $2");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(site_id).bind(key).fetch_optional(&self.pool).await?)
    }

    /// Replaces an image's alternative texts (JSON).
    pub async fn set_media_alt(&self, site_id: i64, key: &str, alt: &str) -> Result<()> {
        let done = sqlx::query("UPDATE media SET alt = $3 WHERE site_id = $1 AND key = $2")
            .bind(site_id)
            .bind(key)
            .bind(alt)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("the image `{key}`")));
        }
        Ok(())
    }

    /// The items whose text shows the image, as `kind key` (and "in the
    /// trash" for those there: restored, they would show it again).
    pub async fn media_used_by(&self, site_id: i64, key: &str) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        used_by(&mut conn, site_id, key).await
    }

    /// Forgets an image no item shows, live or in the trash (a `Conflict`
    /// naming them otherwise). Returns whether its files are unused now:
    /// the same image uploaded to another site shares them, and they are
    /// the caller's to remove only when no site has it.
    pub async fn delete_media(&self, site_id: i64, key: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let users = used_by(&mut tx, site_id, key).await?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!("the image is shown by {}", users.join(", "))));
        }
        sqlx::query("DELETE FROM media WHERE site_id = $1 AND key = $2")
            .bind(site_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let elsewhere: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM media WHERE key = $1").bind(key).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(elsewhere == 0)
    }
}

async fn used_by(conn: &mut Conn, site_id: i64, key: &str) -> Result<Vec<String>> {
    let rows: Vec<(String, String, Flag)> = sqlx::query_as(
        "SELECT kind, key, deleted_at IS NOT NULL FROM items WHERE site_id = $1 AND data LIKE $2 ORDER BY kind, key",
    )
    .bind(site_id)
    .bind(format!("%media:{key}%"))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, key, Flag(trashed))| match trashed {
            true => format!("{kind} `{key}` (in the trash)"),
            false => format!("{kind} `{key}`"),
        })
        .collect())
}
