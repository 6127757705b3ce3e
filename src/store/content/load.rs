//! Reading items back: one item, or a whole site in the caller's transaction.

use std::collections::{BTreeMap, HashSet};

use crate::content::{ArchivedNewsletter, Elsewhere, Included, Item, ItemKind, Site, SiteSettings};

use super::super::backend::Conn;
use super::super::error::{Error, Result};

/// One stored row, turned into its item with the row's times.
fn to_item(kind: &str, key: &str, data: &str, file_text: String, created: i64, updated: i64) -> Result<Item> {
    let kind: ItemKind = kind.parse().map_err(Error::Corrupt)?;
    let mut item = Item::from_json(kind, key, data).map_err(Error::Corrupt)?;
    if let Some(meta) = item.meta_mut() {
        meta.created_at = created;
        meta.updated_at = updated;
    }
    if let Item::Document(d) = &mut item {
        d.extracted_text = file_text;
    }
    Ok(item)
}

type Row = (String, String, String, String, i64, i64);

/// The live item of this kind and key.
pub(super) async fn item(conn: &mut Conn, site_id: i64, kind: ItemKind, key: &str) -> Result<Option<Item>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT kind, key, data, file_text, created_at, updated_at FROM items \
         WHERE site_id = $1 AND kind = $2 AND key = $3 AND deleted_at IS NULL",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(k, key, data, text, c, u)| to_item(&k, &key, &data, text, c, u)).transpose()
}

/// Every live item of a kind with its latest revision, by key.
pub(super) async fn items_of(conn: &mut Conn, site_id: i64, kind: ItemKind) -> Result<Vec<(Item, i64)>> {
    let rows: Vec<(String, String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT i.kind, i.key, i.data, i.file_text, i.created_at, i.updated_at,          (SELECT MAX(r.id) FROM revisions r WHERE r.site_id = i.site_id AND r.kind = i.kind AND r.key = i.key)          FROM items i WHERE i.site_id = $1 AND i.kind = $2 AND i.deleted_at IS NULL ORDER BY i.key",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(|(k, key, data, text, c, u, rev)| Ok((to_item(&k, &key, &data, text, c, u)?, rev))).collect()
}

/// Every live item of a site, sorted for display.
pub(super) async fn site(conn: &mut Conn, site_id: i64) -> Result<Site> {
    let key: String = sqlx::query_scalar("SELECT key FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no site with the id {site_id}")))?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT kind, key, data, file_text, created_at, updated_at FROM site_items \
         WHERE in_site = $1 AND deleted_at IS NULL",
    )
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut site = Site { key, ..Site::default() };
    let mut settings = None;
    for (kind, key, data, text, created, updated) in rows {
        if kind == ItemKind::Settings.as_str() {
            let s: SiteSettings =
                serde_json::from_str(&data).map_err(|e| Error::Corrupt(format!("site settings: {e}")))?;
            settings = Some(s);
        } else {
            site.push(to_item(&kind, &key, &data, text, created, updated)?);
        }
    }
    site.set_settings(settings.ok_or_else(|| Error::NotFound(format!("the site {site_id} has no settings")))?);
    site.newsletters = archived_newsletters(conn, site_id).await?;
    site.included = included(conn, site_id).await?;
    site.elsewhere = elsewhere(conn, site_id, &site).await?;
    site.sort();
    Ok(site)
}

/// The other sites that show items of this one whose editors ask for
/// "also on …", each with its settings and pages (to name and address it).
async fn elsewhere(conn: &mut Conn, site_id: i64, site: &Site) -> Result<Vec<Elsewhere>> {
    let asking: HashSet<(ItemKind, &str)> =
        site.items().filter(|i| i.meta().is_some_and(|m| m.also_on)).map(|i| (i.kind(), i.key())).collect();
    if asking.is_empty() {
        return Ok(Vec::new());
    }
    // Those including this site's items, the owners of those it includes,
    // and the other sites including those.
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT s.site_id, i.kind, i.key FROM item_sites s JOIN items i ON i.id = s.item_id WHERE i.site_id = $1 \
         UNION SELECT i.site_id, i.kind, i.key FROM item_sites s JOIN items i ON i.id = s.item_id WHERE s.site_id = $1 \
         UNION SELECT o.site_id, i.kind, i.key FROM item_sites s JOIN items i ON i.id = s.item_id \
         JOIN item_sites o ON o.item_id = i.id WHERE s.site_id = $1 AND o.site_id <> $1",
    )
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_site: BTreeMap<i64, Vec<(ItemKind, String)>> = BTreeMap::new();
    for (other, kind, key) in rows {
        let kind: ItemKind = kind.parse().map_err(Error::Corrupt)?;
        if asking.contains(&(kind, key.as_str())) {
            by_site.entry(other).or_default().push((kind, key));
        }
    }
    let mut out = Vec::new();
    for (other, mut items) in by_site {
        items.sort();
        out.push(Elsewhere { site: pages_of(conn, other).await?, url: None, items });
    }
    Ok(out)
}

/// A site with its key, settings and pages only.
async fn pages_of(conn: &mut Conn, site_id: i64) -> Result<Site> {
    let key: String =
        sqlx::query_scalar("SELECT key FROM sites WHERE id = $1").bind(site_id).fetch_one(&mut *conn).await?;
    let mut site = Site { key, ..Site::default() };
    site.set_settings(super::read_settings(conn, site_id).await?);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT kind, key, data, file_text, created_at, updated_at FROM items \
         WHERE site_id = $1 AND kind = 'page' AND deleted_at IS NULL",
    )
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    for (kind, key, data, text, created, updated) in rows {
        site.push(to_item(&kind, &key, &data, text, created, updated)?);
    }
    Ok(site)
}

/// The items the site shows that another site stores, if any.
async fn included(conn: &mut Conn, site_id: i64) -> Result<Option<Included>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT o.key, i.kind, i.key FROM item_sites s JOIN items i ON i.id = s.item_id \
         JOIN sites o ON o.id = i.site_id WHERE s.site_id = $1 AND i.deleted_at IS NULL ORDER BY i.kind, i.key",
    )
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    let Some(from) = rows.first().map(|r| r.0.clone()) else { return Ok(None) };
    let items = rows
        .into_iter()
        .map(|(_, kind, key)| Ok((kind.parse().map_err(Error::Corrupt)?, key)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Included { from, items }))
}

/// The newsletters in the public archive, newest first.
async fn archived_newsletters(conn: &mut Conn, site_id: i64) -> Result<Vec<ArchivedNewsletter>> {
    let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, lang, subject, body, sent_at FROM newsletters \
         WHERE site_id = $1 AND archived_at IS NOT NULL AND sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC",
    )
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, lang, subject, body, sent_at)| {
            let lang = lang.parse().map_err(Error::Corrupt)?;
            Ok(ArchivedNewsletter { id, lang, subject, body, sent_at })
        })
        .collect()
}
