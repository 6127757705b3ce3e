//! Revisions: every write of an item stores the item as JSON, who made the
//! change, when and why, so any earlier state can be listed, compared and
//! restored.

use crate::content::{Item, ItemKind, Lang, SiteSettings};

use super::super::Store;
use super::super::backend::Tx;
use super::super::error::{Error, Result};
use super::{Change, Written};

/// A revision without its data, for lists.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RevisionInfo {
    /// Its id.
    pub id: i64,
    /// `create`, `update`, `delete` or `restore`.
    pub action: String,
    /// Who made the change.
    pub author: String,
    /// Why.
    pub note: String,
    /// The content version the change made.
    pub version: i64,
    /// When (unix seconds).
    pub created_at: i64,
}

/// A revision with the item as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// What and when.
    pub info: RevisionInfo,
    /// The item's kind.
    pub kind: ItemKind,
    /// The item's key.
    pub key: String,
    /// The item's JSON after the change (before it, for a delete).
    pub data: String,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn add(
    tx: &mut Tx,
    site_id: i64,
    kind: ItemKind,
    key: &str,
    action: &str,
    data: &str,
    change: Change<'_>,
    version: i64,
    ts: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO revisions (site_id, kind, key, action, data, author, note, version, created_at) \
         VALUES ($1, $2, $3, $4, json($5), $6, $7, $8, $9) RETURNING id",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .bind(action)
    .bind(data)
    .bind(change.author)
    .bind(change.note)
    .bind(version)
    .bind(ts)
    .fetch_one(&mut **tx)
    .await?)
}

impl Store {
    /// The revisions of an item, newest first.
    pub async fn revisions(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Vec<RevisionInfo>> {
        Ok(sqlx::query_as(
            "SELECT id, action, author, note, version, created_at FROM revisions \
             WHERE site_id = $1 AND kind = $2 AND key = $3 ORDER BY id DESC",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The languages of an item whose text is older than another
    /// language's: the last revision that changed any `<lang>.` field came
    /// before the last one that changed another language's (a translation
    /// to bring up to date). Read from the item's revisions, oldest first.
    pub async fn older_translations(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Vec<Lang>> {
        let data: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(data AS TEXT) FROM revisions WHERE site_id = $1 AND kind = $2 AND key = $3 ORDER BY id",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        // The index of the revision that last changed each language.
        let mut last: std::collections::BTreeMap<Lang, usize> = std::collections::BTreeMap::new();
        let mut before = String::from("{}");
        for (i, now) in data.iter().enumerate() {
            for field in changed_fields(&before, now) {
                if let Some(lang) = field.split('.').next().and_then(|l| l.parse::<Lang>().ok()) {
                    last.insert(lang, i);
                }
            }
            before.clone_from(now);
        }
        let newest = last.values().copied().max().unwrap_or(0);
        Ok(last.into_iter().filter(|(_, i)| *i < newest).map(|(l, _)| l).collect())
    }

    /// The latest changes to any item of the site, newest first: the audit
    /// log, as (kind, key, revision).
    pub async fn recent_revisions(&self, site_id: i64, limit: i64) -> Result<Vec<(ItemKind, String, RevisionInfo)>> {
        type Row = (String, String, i64, String, String, String, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT kind, key, id, action, author, note, version, created_at FROM revisions \
             WHERE site_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(site_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, key, id, action, author, note, version, created_at)| {
                let info = RevisionInfo { id, action, author, note, version, created_at };
                Ok((kind.parse().map_err(Error::Corrupt)?, key, info))
            })
            .collect()
    }

    /// Every revision of the site with its data, oldest first.
    pub async fn site_revisions(&self, site_id: i64) -> Result<Vec<Revision>> {
        type Row = (i64, String, String, String, String, i64, i64, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, action, author, note, CAST(data AS TEXT), version, created_at, kind, key FROM revisions \
             WHERE site_id = $1 ORDER BY id",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, action, author, note, data, version, created_at, kind, key)| {
                let info = RevisionInfo { id, action, author, note, version, created_at };
                Ok(Revision { info, kind: kind.parse().map_err(Error::Corrupt)?, key, data })
            })
            .collect()
    }

    /// One revision with its data.
    pub async fn revision(&self, site_id: i64, id: i64) -> Result<Revision> {
        let info: RevisionInfo = sqlx::query_as(
            "SELECT id, action, author, note, version, created_at FROM revisions WHERE site_id = $1 AND id = $2",
        )
        .bind(site_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no revision {id}")))?;
        let (kind, key, data): (String, String, String) =
            sqlx::query_as("SELECT kind, key, CAST(data AS TEXT) FROM revisions WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Revision { info, kind: kind.parse().map_err(Error::Corrupt)?, key, data })
    }

    /// Makes a revision's state the current one, as a new revision. An item
    /// in the trash is refused (a `Conflict`): it is restored from the trash
    /// first (`restore_item`).
    pub async fn restore_revision(&self, site_id: i64, id: i64, change: Change<'_>) -> Result<Written> {
        let rev = self.revision(site_id, id).await?;
        if rev.kind == ItemKind::Settings {
            let settings: SiteSettings =
                serde_json::from_str(&rev.data).map_err(|e| Error::Corrupt(format!("revision {id}: {e}")))?;
            return self.save_settings(site_id, &settings, change).await;
        }
        // A document's text comes with its file (`document_text`).
        let item = Item::from_json(rev.kind, &rev.key, &rev.data).map_err(Error::Corrupt)?;
        self.save_item(site_id, &item, change).await
    }
}

/// The fields in which two states of an item differ, as paths such as
/// `status`, `en.title` or `sources`: what an editor sees when comparing
/// two revisions.
pub fn changed_fields(before: &str, after: &str) -> Vec<String> {
    fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        use serde_json::Value::Object;
        match (a, b) {
            (Object(x), Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let null = serde_json::Value::Null;
                    let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&sub, x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), out);
                }
            }
            _ if a != b => out.push(path.to_owned()),
            _ => {}
        }
    }
    let parse = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    walk("", &parse(before), &parse(after), &mut out);
    out
}
