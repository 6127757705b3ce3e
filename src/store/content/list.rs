//! The admin's lists: pages of items by kind with a search and a status
//! filter, counts per kind, and what lacks a translation. Read from the
//! columns written beside each item (`title`, `text_langs`), so a list of
//! thousands is one paged query.

use super::super::Store;
use super::super::error::{Error, Result};
use crate::content::{ItemKind, Lang, Status};

/// One row of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its key.
    pub key: String,
    /// Draft or published.
    pub status: Status,
    /// Its title in the first language that has one (empty for kinds
    /// without titles).
    pub title: String,
    /// The languages that have a title.
    pub text_langs: Vec<Lang>,
}

/// What a list asks for.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Part of the key or title (any case); empty for all.
    pub q: String,
    /// Only items with this status.
    pub status: Option<Status>,
    /// Sorted by title instead of key.
    pub by_title: bool,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

const WHERE: &str = "WHERE site_id = $1 AND kind = $2 AND deleted_at IS NULL \
     AND ($3 = '' OR lower(key) LIKE $3 ESCAPE '\\' OR lower(title) LIKE $3 ESCAPE '\\') \
     AND ($4 = '' OR status = $4)";

type Row = (String, String, String, String);

fn listed((key, status, title, langs): Row) -> Result<Listed> {
    let status = match status.as_str() {
        "draft" => Status::Draft,
        "published" => Status::Published,
        other => return Err(Error::Corrupt(format!("item `{key}`: status `{other}`"))),
    };
    let text_langs = langs.split_whitespace().filter_map(|l| l.parse().ok()).collect();
    Ok(Listed { key, status, title, text_langs })
}

impl Store {
    /// A page of live items of a kind, and how many match in all.
    pub async fn list_items(&self, site_id: i64, kind: ItemKind, f: &ListFilter) -> Result<(i64, Vec<Listed>)> {
        let pattern = if f.q.is_empty() { String::new() } else { format!("%{}%", like_escaped(&f.q.to_lowercase())) };
        let status = f.status.map_or("", |s| s.as_str());
        // Built from constants only (WHERE and one of two orders); every
        // value is a bound parameter. Both read the covering index
        // `items_list`, not the rows.
        let count = format!("SELECT COUNT(*) FROM items {WHERE}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(site_id)
            .bind(kind.as_str())
            .bind(&pattern)
            .bind(status)
            .fetch_one(&self.pool)
            .await?;
        let order = if f.by_title { "lower(title), key" } else { "key" };
        let page =
            format!("SELECT key, status, title, text_langs FROM items {WHERE} ORDER BY {order} LIMIT $5 OFFSET $6");
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(page))
            .bind(site_id)
            .bind(kind.as_str())
            .bind(&pattern)
            .bind(status)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&self.pool)
            .await?;
        Ok((total, rows.into_iter().map(listed).collect::<Result<_>>()?))
    }

    /// Live items and drafts per kind.
    pub async fn item_counts(&self, site_id: i64) -> Result<Vec<(ItemKind, i64, i64)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT kind, COUNT(*), COUNT(*) FILTER (WHERE status = 'draft') FROM items \
             WHERE site_id = $1 AND deleted_at IS NULL GROUP BY kind",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(k, n, d)| Ok((k.parse().map_err(Error::Corrupt)?, n, d))).collect()
    }

    /// Items with texts that lack one in some of `langs`, at most `limit`.
    pub async fn untranslated(&self, site_id: i64, langs: &[Lang], limit: i64) -> Result<Vec<(ItemKind, Listed)>> {
        let mut all: Vec<&str> = langs.iter().map(|l| l.code()).collect();
        all.sort_unstable();
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT kind, key, status, title, text_langs FROM items \
             WHERE site_id = $1 AND deleted_at IS NULL AND text_langs <> '' AND text_langs <> $2 \
             ORDER BY kind, key LIMIT $3",
        )
        .bind(site_id)
        .bind(all.join(" "))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, key, status, title, langs)| {
                Ok((kind.parse().map_err(Error::Corrupt)?, listed((key, status, title, langs))?))
            })
            .filter(|r| r.as_ref().map_or(true, |(_, l)| langs.iter().any(|x| !l.text_langs.contains(x))))
            .collect()
    }
}

/// `text` for a LIKE pattern with `\` as the escape character.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(super::like_escaped("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
