//! Content, one item at a time: create, update, delete to the trash,
//! restore, load; every write with its revision and a new content version,
//! in one transaction.
//!
//! Each item is stored as its JSON (the bundle format's fields) in `items`,
//! with the columns the store queries beside it; `item_links` and
//! `item_names` are derived from the item on every write. Kind-specific
//! rules live with the content model (`content::item`, `content::validate`),
//! so this module is the same for every kind: one write path, not fourteen.

mod import;
mod list;
mod load;
mod revisions;
mod sharing;

use crate::content::{Included, Invalid, Item, ItemKind, ItemLink, ItemRef, Lang, Site, SiteSettings, Status};

use super::Store;
use super::backend::{self, Conn, Flag, Tx};
use super::error::{Error, Result};

pub use import::{Action, ImportReport, ImportRules, Planned};
pub use list::{ListFilter, Listed};
pub use revisions::{Revision, RevisionInfo, changed_fields};
pub use sharing::SiteName;

/// Who makes a change, and why: stored with its revision.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// The editor's e-mail, or `import`, `system`.
    pub author: &'a str,
    /// A short note ("fixed a typo", "imported from the bundle").
    pub note: &'a str,
}

/// The author and note of the built-in default content. An upgrade of the
/// default (`casefile import --default`) changes only items whose latest
/// revision is by this author: nobody has edited them since.
pub const DEFAULT_CONTENT: Change<'static> = Change { author: "system", note: "the built-in default site" };

/// What a write made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// The site's content version after the write.
    pub version: i64,
    /// The revision that records it.
    pub revision: i64,
}

/// An item in the trash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trashed {
    /// Its kind.
    pub kind: ItemKind,
    /// Its key.
    pub key: String,
    /// When it was deleted (unix seconds).
    pub deleted_at: i64,
}

/// How a write treats an existing item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Create,
    Update,
    Upsert,
}

/// One item as the store writes it.
struct Record<'a> {
    kind: ItemKind,
    key: &'a str,
    status: Status,
    published_at: Option<i64>,
    /// When a new row says it last changed: an imported item's own time
    /// (a bundle's `updated`); the write's time where it has none.
    updated_at: Option<i64>,
    data: String,
    file_text: &'a str,
    /// A document's file, whose text is the document's (`document_text`).
    file: Option<&'a str>,
    /// Where the document's file comes from on this write.
    file_source: FileSource,
    /// What lists show: the title, and the languages that have one.
    title: String,
    text_langs: String,
    links: Vec<ItemLink<'a>>,
    names: Vec<(String, String)>,
}

/// Where a document's file comes from on a write, which decides what is
/// recorded for it (`document_text`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileSource {
    /// Uploaded before (the admin, the Admin API, a restored revision):
    /// it must be among the recorded files.
    Uploaded,
    /// Brought by a bundle into a new site: recorded with its text unless
    /// a file of that name is already.
    Bundle,
    /// Brought by a bundle imported into an existing site, perhaps as a new
    /// version: its text replaces the recorded one.
    BundleUpdate,
}

impl<'a> Record<'a> {
    fn of(item: ItemRef<'a>) -> Record<'a> {
        let meta = item.meta();
        let data = item.to_json();
        let (title, text_langs) = list_columns(&data);
        Record {
            title,
            text_langs,
            kind: item.kind(),
            key: item.key(),
            status: meta.map_or(Status::Published, |m| m.status),
            published_at: meta.and_then(|m| m.published_at),
            updated_at: meta.map(|m| m.updated_at).filter(|t| *t > 0),
            data,
            file_text: match item {
                ItemRef::Document(d) => &d.extracted_text,
                _ => "",
            },
            file: match item {
                ItemRef::Document(d) => d.file.as_deref(),
                _ => None,
            },
            file_source: FileSource::Uploaded,
            links: item.links(),
            names: item.names(),
        }
    }

    fn settings(s: &SiteSettings) -> Record<'static> {
        Record {
            kind: ItemKind::Settings,
            key: "site",
            status: Status::Published,
            published_at: None,
            updated_at: None,
            data: serde_json::to_string(s).expect("settings serialise"),
            file_text: "",
            file: None,
            file_source: FileSource::Uploaded,
            title: String::new(),
            text_langs: String::new(),
            links: Vec::new(),
            names: Vec::new(),
        }
    }
}

impl Store {
    /// Creates a site with its settings; returns its id.
    pub async fn create_site(&self, key: &str, settings: &SiteSettings, change: Change<'_>) -> Result<i64> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let id = insert_site(&mut tx, key, settings, change, super::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The settings of a site.
    pub async fn settings(&self, site_id: i64) -> Result<SiteSettings> {
        let mut conn = self.pool.acquire().await?;
        read_settings(&mut conn, site_id).await
    }

    /// The settings of a site with their latest revision (for `save_settings_if`).
    pub async fn settings_at(&self, site_id: i64) -> Result<(SiteSettings, i64)> {
        let mut tx = backend::begin_read(&self.pool).await?;
        let settings = read_settings(&mut tx, site_id).await?;
        let revision = latest_revision(&mut tx, site_id, ItemKind::Settings, "site").await?;
        tx.commit().await?;
        Ok((settings, revision))
    }

    /// Replaces a site's settings. Every item must still be valid (a new
    /// language needs every item's text in it).
    pub async fn save_settings(&self, site_id: i64, settings: &SiteSettings, change: Change<'_>) -> Result<Written> {
        self.save_settings_if(site_id, settings, None, change).await
    }

    /// The same, if the settings' latest revision is still `expected`
    /// (two owners never overwrite each other); else [`Error::Stale`].
    pub async fn save_settings_if(
        &self,
        site_id: i64,
        settings: &SiteSettings,
        expected: Option<i64>,
        change: Change<'_>,
    ) -> Result<Written> {
        check_settings(settings)?;
        let mut tx = backend::begin_write(&self.pool).await?;
        if let Some(expected) = expected {
            let latest = latest_revision(&mut tx, site_id, ItemKind::Settings, "site").await?;
            if latest != expected {
                return Err(Error::Stale(format!("the settings were changed meanwhile (revision {latest})")));
            }
        }
        let mut site = load::site(&mut tx, site_id).await?;
        site.set_settings(settings.clone());
        site.validate()?;
        let written = write(&mut tx, site_id, &Record::settings(settings), Mode::Update, change, super::now()).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Creates an item; a live or trashed item of the same kind and key is a conflict.
    pub async fn create_item(&self, site_id: i64, item: &Item, change: Change<'_>) -> Result<Written> {
        self.save(site_id, item, Mode::Create, change).await
    }

    /// Creates an item that the sites `shown_on` (keys) show too.
    pub async fn create_item_shown_on(
        &self,
        site_id: i64,
        item: &Item,
        shown_on: &[String],
        change: Change<'_>,
    ) -> Result<Written> {
        self.save_if(site_id, item, Mode::Create, (None, Some(shown_on)), change).await
    }

    /// Replaces an existing, live item.
    pub async fn update_item(&self, site_id: i64, item: &Item, change: Change<'_>) -> Result<Written> {
        self.save(site_id, item, Mode::Update, change).await
    }

    /// Creates or replaces an item.
    pub async fn save_item(&self, site_id: i64, item: &Item, change: Change<'_>) -> Result<Written> {
        self.save(site_id, item, Mode::Upsert, change).await
    }

    /// Replaces an existing, live item if its latest revision is still
    /// `expected` (optimistic locking: two editors never overwrite each
    /// other); else [`Error::Stale`].
    pub async fn update_item_if(
        &self,
        site_id: i64,
        item: &Item,
        expected: i64,
        change: Change<'_>,
    ) -> Result<Written> {
        self.save_if(site_id, item, Mode::Update, (Some(expected), None), change).await
    }

    /// [`Store::update_item_if`], and the sites `shown_on` (keys) show
    /// the item besides its own, from this write on (one transaction).
    pub async fn update_item_shown_on_if(
        &self,
        site_id: i64,
        item: &Item,
        expected: i64,
        shown_on: &[String],
        change: Change<'_>,
    ) -> Result<Written> {
        self.save_if(site_id, item, Mode::Update, (Some(expected), Some(shown_on)), change).await
    }

    /// Every live item of a kind, drafts included, with its latest revision.
    pub async fn items_of(&self, site_id: i64, kind: ItemKind) -> Result<Vec<(Item, i64)>> {
        let mut conn = self.pool.acquire().await?;
        load::items_of(&mut conn, site_id, kind).await
    }

    /// The live item of this kind and key with its latest revision.
    pub async fn item_at(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Option<(Item, i64)>> {
        let mut conn = self.pool.acquire().await?;
        let Some(item) = load::item(&mut conn, site_id, kind, key).await? else { return Ok(None) };
        Ok(Some((item, latest_revision(&mut conn, site_id, kind, key).await?)))
    }

    async fn save(&self, site_id: i64, item: &Item, mode: Mode, change: Change<'_>) -> Result<Written> {
        self.save_if(site_id, item, mode, (None, None), change).await
    }

    /// Writes an item if its latest revision is `expected` (when given),
    /// making it shown on the sites `shown_on` (when given).
    async fn save_if(
        &self,
        site_id: i64,
        item: &Item,
        mode: Mode,
        (expected, shown_on): (Option<i64>, Option<&[String]>),
        change: Change<'_>,
    ) -> Result<Written> {
        let mut tx = backend::begin_write(&self.pool).await?;
        if let Some(expected) = expected {
            let (kind, key) = (item.as_ref().kind(), item.as_ref().key());
            let latest = latest_revision(&mut tx, site_id, kind, key).await?;
            if latest != expected {
                return Err(Error::Stale(format!(
                    "the {kind} `{key}` was changed meanwhile (revision {latest}, not {expected})"
                )));
            }
        }
        let langs = read_settings(&mut tx, site_id).await?.languages;
        // A changed slug keeps its old address, whoever makes the change.
        let mut item = item.clone();
        if mode != Mode::Create
            && let Some(previous) = load::item(&mut tx, site_id, item.as_ref().kind(), item.as_ref().key()).await?
        {
            item.keep_old_slugs(&previous);
        }
        item.as_ref().check(&langs)?;
        let (kind, key) = (item.as_ref().kind(), item.as_ref().key());
        let written = write(&mut tx, site_id, &Record::of(item.as_ref()), mode, change, super::now()).await?;
        if let Some(keys) = shown_on {
            sharing::share(&mut tx, site_id, kind, key, keys).await?;
        }
        // The sites that show it (as they are after this save) stay whole.
        let (id, _) = live_row(&mut tx, site_id, kind, key).await?;
        sharing::check_including_sites(&mut tx, id).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// The live item of this kind and key.
    pub async fn item(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Option<Item>> {
        let mut conn = self.pool.acquire().await?;
        load::item(&mut conn, site_id, kind, key).await
    }

    /// Moves an item to the trash. Refused while another item refers to it.
    pub async fn delete_item(&self, site_id: i64, kind: ItemKind, key: &str, change: Change<'_>) -> Result<Written> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let (id, data) = live_row(&mut tx, site_id, kind, key).await?;
        let referrers: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.kind, i.key FROM item_links l JOIN items i ON i.id = l.item_id \
             WHERE (l.site_id = $1 OR l.site_id IN (SELECT site_id FROM item_sites WHERE item_id = $4)) \
             AND l.kind = $2 AND l.key = $3 AND i.deleted_at IS NULL ORDER BY i.kind, i.key",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !referrers.is_empty() {
            let list: Vec<String> = referrers.iter().map(|(k, x)| format!("{k} `{x}`")).collect();
            return Err(Error::Conflict(format!(
                "the {kind} `{key}` cannot be deleted: {} still refer to it; remove those references first",
                list.join(", ")
            )));
        }
        let written = trash(&mut tx, site_id, (id, &data), kind, key, change, super::now()).await?;
        // Items other sites store may refer to it where this site shows them.
        let showing: Vec<i64> = sqlx::query_scalar("SELECT site_id FROM item_sites WHERE item_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        for site in std::iter::once(site_id).chain(showing) {
            match check_no_dangling(&mut tx, site).await {
                Err(Error::Invalid(why)) => {
                    return Err(Error::Conflict(format!("the {kind} `{key}` cannot be deleted: {}", why.0)));
                }
                other => other?,
            }
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Brings an item back from the trash, if its references still resolve
    /// and its names are still free.
    pub async fn restore_item(&self, site_id: i64, kind: ItemKind, key: &str, change: Change<'_>) -> Result<Written> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, data, file_text FROM items WHERE site_id = $1 AND kind = $2 AND key = $3 AND deleted_at IS NOT NULL",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, data, file_text) = row.ok_or_else(|| Error::NotFound(format!("the trash holds no {kind} `{key}`")))?;
        let item = Item::from_json(kind, key, &data).map_err(Error::Corrupt)?;
        // The site may have gained a language since the item was trashed.
        item.as_ref().check(&read_settings(&mut tx, site_id).await?.languages)?;
        let record = Record { file_text: &file_text, ..Record::of(item.as_ref()) };
        sqlx::query("UPDATE items SET deleted_at = NULL WHERE id = $1").bind(id).execute(&mut *tx).await?;
        set_links(&mut tx, site_id, id, &record).await?;
        set_names(&mut tx, site_id, id, &record).await?;
        check_no_dangling(&mut tx, site_id).await?;
        sharing::check_including_sites(&mut tx, id).await?;
        let written = finish(&mut tx, site_id, kind, key, "restore", &data, change, super::now()).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Deletes a trashed item for good (its revisions stay). A petition
    /// that still has signatures is kept: erase or let them expire first.
    pub async fn purge_item(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<()> {
        let mut tx = backend::begin_write(&self.pool).await?;
        if kind == ItemKind::Petition {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signatures WHERE site_id = $1 AND petition = $2")
                .bind(site_id)
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
            if n > 0 {
                return Err(Error::Conflict(format!("the petition `{key}` still has {n} signatures")));
            }
        }
        let done =
            sqlx::query("DELETE FROM items WHERE site_id = $1 AND kind = $2 AND key = $3 AND deleted_at IS NOT NULL")
                .bind(site_id)
                .bind(kind.as_str())
                .bind(key)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("the trash holds no {kind} `{key}`")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// What is in a site's trash, most recently deleted first.
    pub async fn trash(&self, site_id: i64) -> Result<Vec<Trashed>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT kind, key, deleted_at FROM items WHERE site_id = $1 AND deleted_at IS NOT NULL \
             ORDER BY deleted_at DESC, id DESC",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, key, deleted_at)| Ok(Trashed { kind: kind.parse().map_err(Error::Corrupt)?, key, deleted_at }))
            .collect()
    }

    /// Loads every live item of a site, drafts included, sorted for display,
    /// from one read transaction: never half of an edit.
    pub async fn load_site(&self, site_id: i64) -> Result<Site> {
        Ok(self.snapshot(site_id).await?.1)
    }

    /// The content version and every live item, read in one transaction, so
    /// the version names exactly the state loaded.
    pub async fn snapshot(&self, site_id: i64) -> Result<(i64, Site)> {
        let mut tx = backend::begin_read(&self.pool).await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM content_version WHERE site_id = $1")
            .bind(site_id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        let site = load::site(&mut tx, site_id).await?;
        tx.commit().await?;
        Ok((version, site))
    }

    /// Writes a whole site (a parsed bundle) into a new site, in one
    /// transaction: all of it or nothing. Returns the site's id.
    pub async fn import_site(&self, site: &Site, change: Change<'_>) -> Result<i64> {
        site.validate()?;
        let mut tx = backend::begin_write(&self.pool).await?;
        let ts = super::now();
        let id = insert_site(&mut tx, &site.key, &site.settings(), change, ts).await?;
        if let Some(included) = &site.included {
            include(&mut tx, id, included).await?;
        }
        insert_items(&mut tx, id, site, change, ts).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes every item of `site` into the existing site `site_id`, which
    /// holds no items yet, and replaces its settings: one transaction.
    pub async fn import_items(&self, site_id: i64, site: &Site, change: Change<'_>) -> Result<()> {
        site.validate()?;
        let mut tx = backend::begin_write(&self.pool).await?;
        let ts = super::now();
        write(&mut tx, site_id, &Record::settings(&site.settings()), Mode::Upsert, change, ts).await?;
        insert_items(&mut tx, site_id, site, change, ts).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_site(tx: &mut Tx, key: &str, settings: &SiteSettings, change: Change<'_>, ts: i64) -> Result<i64> {
    crate::content::check_key(key)?;
    check_settings(settings)?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO sites (key, created_at, updated_at) VALUES ($1, $2, $2) ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(key)
    .bind(ts)
    .fetch_optional(&mut **tx)
    .await?;
    let id = id.ok_or_else(|| Error::Conflict(format!("a site with the key `{key}` exists already")))?;
    write(tx, id, &Record::settings(settings), Mode::Create, change, ts).await?;
    Ok(id)
}

/// Makes the site `site_id` show the items `included` names, stored by
/// another site (which must have them, live).
async fn include(tx: &mut Tx, site_id: i64, included: &Included) -> Result<()> {
    let owner: i64 = sqlx::query_scalar("SELECT id FROM sites WHERE key = $1")
        .bind(&included.from)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("the site `{}` to include items from", included.from)))?;
    for (kind, key) in &included.items {
        let added = sqlx::query(
            "INSERT INTO item_sites (item_id, site_id) SELECT id, $1 FROM items \
             WHERE site_id = $2 AND kind = $3 AND key = $4 AND deleted_at IS NULL",
        )
        .bind(site_id)
        .bind(owner)
        .bind(kind.as_str())
        .bind(key)
        .execute(&mut **tx)
        .await?;
        if added.rows_affected() != 1 {
            return Err(Error::NotFound(format!("the {kind} `{key}` of the site `{}`", included.from)));
        }
    }
    bump_version(tx, site_id).await?;
    Ok(())
}

/// Creates every item of a validated site (not those it includes, which
/// another site stores).
async fn insert_items(tx: &mut Tx, site_id: i64, site: &Site, change: Change<'_>, ts: i64) -> Result<()> {
    for item in site.items().filter(|i| !site.shows_from_elsewhere(i.kind(), i.key())) {
        // Sources and press reports refer to each other: links are checked
        // once all are in (`validate` checked them already).
        let record = Record { file_source: FileSource::Bundle, ..Record::of(item) };
        write_unchecked(tx, site_id, &record, Mode::Create, change, ts).await?;
    }
    check_no_dangling(tx, site_id).await
}

/// Refuses a state in which a live item the site shows (its own, or one
/// it shows from another site) refers to something the site does not
/// show, naming every such reference.
async fn check_no_dangling(tx: &mut Tx, site_id: i64) -> Result<()> {
    let dangling: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT i.kind, i.key, l.kind, l.key, i.site_id FROM item_links l JOIN site_items i ON i.id = l.item_id \
         WHERE i.in_site = $1 AND i.deleted_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM site_items t WHERE t.in_site = $1 AND t.kind = l.kind AND t.key = l.key \
          AND t.deleted_at IS NULL) ORDER BY i.kind, i.key, l.kind, l.key",
    )
    .bind(site_id)
    .fetch_all(&mut **tx)
    .await?;
    if dangling.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = dangling
        .iter()
        .map(|(k, x, tk, tx, owner)| match *owner == site_id {
            true => format!("the {k} `{x}` refers to the {tk} `{tx}`, which does not exist"),
            false => format!(
                "the {k} `{x}`, shown from another site, refers to the {tk} `{tx}`, which this site does not show"
            ),
        })
        .collect();
    Err(Invalid(list.join("\n")).into())
}

/// [`check_no_dangling`] and the site's own rules on every other site that
/// shows items of `site_id`.
async fn check_including_sites_of(tx: &mut Tx, site_id: i64) -> Result<()> {
    let including: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT s.site_id FROM item_sites s JOIN items i ON i.id = s.item_id WHERE i.site_id = $1",
    )
    .bind(site_id)
    .fetch_all(&mut **tx)
    .await?;
    for other in including {
        check_no_dangling(tx, other).await?;
        sharing::check_whole(tx, other, "on a site that shows items of this one").await?;
    }
    Ok(())
}

fn check_settings(s: &SiteSettings) -> Result<()> {
    if s.languages.is_empty() {
        return Err(Invalid("a site needs at least one language".into()).into());
    }
    if let Some(l) = s.languages.iter().find(|l| !s.text.contains_key(l)) {
        return Err(Invalid(format!("site settings: no `[{l}]` text")).into());
    }
    s.contact.check()?;
    Ok(())
}

async fn read_settings(conn: &mut Conn, site_id: i64) -> Result<SiteSettings> {
    let data: Option<String> = sqlx::query_scalar(
        "SELECT data FROM items WHERE site_id = $1 AND kind = 'settings' AND key = 'site' AND deleted_at IS NULL",
    )
    .bind(site_id)
    .fetch_optional(&mut *conn)
    .await?;
    let data = data.ok_or_else(|| Error::NotFound(format!("no site with the id {site_id}")))?;
    serde_json::from_str(&data).map_err(|e| Error::Corrupt(format!("site settings: {e}")))
}

/// The id and JSON of a live item, or NotFound.
async fn live_row(tx: &mut Tx, site_id: i64, kind: ItemKind, key: &str) -> Result<(i64, String)> {
    sqlx::query_as("SELECT id, data FROM items WHERE site_id = $1 AND kind = $2 AND key = $3 AND deleted_at IS NULL")
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no {kind} `{key}`")))
}

/// Moves the live row `(id, data)` to the trash: its links and names go
/// with it (a trashed item holds nothing), and so do its review links (a
/// later item with the same key is another item).
async fn trash(
    tx: &mut Tx,
    site_id: i64,
    (id, data): (i64, &str),
    kind: ItemKind,
    key: &str,
    change: Change<'_>,
    ts: i64,
) -> Result<Written> {
    sqlx::query("UPDATE items SET deleted_at = $2 WHERE id = $1").bind(id).bind(ts).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM item_links WHERE item_id = $1").bind(id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM item_names WHERE item_id = $1").bind(id).execute(&mut **tx).await?;
    sqlx::query(
        "UPDATE review_links SET revoked_at = $4 WHERE site_id = $1 AND kind = $2 AND key = $3 AND revoked_at IS NULL",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .bind(ts)
    .execute(&mut **tx)
    .await?;
    finish(tx, site_id, kind, key, "delete", data, change, ts).await
}

/// The newest revision of an item (0 when it has none).
async fn latest_revision(conn: &mut Conn, site_id: i64, kind: ItemKind, key: &str) -> Result<i64> {
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(id) FROM revisions WHERE site_id = $1 AND kind = $2 AND key = $3")
            .bind(site_id)
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
    Ok(latest.unwrap_or(0))
}

async fn write(tx: &mut Tx, site_id: i64, r: &Record<'_>, mode: Mode, change: Change<'_>, ts: i64) -> Result<Written> {
    if mode != Mode::Update {
        sharing::check_not_shown(tx, site_id, r.kind, r.key).await?;
    }
    let written = write_unchecked(tx, site_id, r, mode, change, ts).await?;
    for &(kind, key) in &r.links {
        let exists: Flag = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM site_items WHERE in_site = $1 AND kind = $2 AND key = $3 \
             AND deleted_at IS NULL)",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
        if !exists.0 {
            return Err(Error::Invalid(Invalid(format!(
                "the {} `{}` refers to the {kind} `{key}`, which does not exist",
                r.kind, r.key
            ))));
        }
    }
    Ok(written)
}

async fn write_unchecked(
    tx: &mut Tx,
    site_id: i64,
    r: &Record<'_>,
    mode: Mode,
    change: Change<'_>,
    ts: i64,
) -> Result<Written> {
    let existing: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, deleted_at FROM items WHERE site_id = $1 AND kind = $2 AND key = $3")
            .bind(site_id)
            .bind(r.kind.as_str())
            .bind(r.key)
            .fetch_optional(&mut **tx)
            .await?;
    let (kind, key) = (r.kind, r.key);
    let file_text = document_text(tx, r, change, ts).await?;
    let id =
        match (existing, mode) {
            (Some((_, Some(_))), _) => {
                return Err(Error::Conflict(format!(
                    "the {kind} `{key}` is in the trash: restore it, or empty it from the trash first"
                )));
            }
            (Some(_), Mode::Create) => {
                return Err(Error::Conflict(format!("a {kind} with the key `{key}` exists already")));
            }
            (None, Mode::Update) => return Err(Error::NotFound(format!("there is no {kind} `{key}`"))),
            (Some((id, None)), _) => {
                sqlx::query(
                    "UPDATE items SET status = $2, published_at = $3, data = $4, file_text = $5, updated_at = $6, \
                 title = $7, text_langs = $8 WHERE id = $1",
                )
                .bind(id)
                .bind(r.status.as_str())
                .bind(r.published_at)
                .bind(&r.data)
                .bind(&file_text)
                .bind(ts)
                .bind(&r.title)
                .bind(&r.text_langs)
                .execute(&mut **tx)
                .await?;
                id
            }
            (None, _) => sqlx::query_scalar(
                "INSERT INTO items (site_id, kind, key, status, published_at, data, file_text, created_at, updated_at, \
                 title, text_langs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
            )
            .bind(site_id)
            .bind(kind.as_str())
            .bind(key)
            .bind(r.status.as_str())
            .bind(r.published_at)
            .bind(&r.data)
            .bind(&file_text)
            .bind(r.updated_at.unwrap_or(ts))
            .bind(&r.title)
            .bind(&r.text_langs)
            .fetch_one(&mut **tx)
            .await?,
        };
    set_links(tx, site_id, id, r).await?;
    set_names(tx, site_id, id, r).await?;
    let action = if existing.is_some() { "update" } else { "create" };
    finish(tx, site_id, kind, key, action, &r.data, change, ts).await
}

/// The searchable text of what `r` is: a document's is its file's (one
/// file, one text, whoever saves the document). A file named by an edit
/// must have been uploaded; one a bundle brings is recorded with the text
/// read on import, which replaces the recorded one on an import into an
/// existing site (it may bring a new version).
async fn document_text(tx: &mut Tx, r: &Record<'_>, change: Change<'_>, ts: i64) -> Result<String> {
    let Some(name) = r.file else { return Ok(r.file_text.to_owned()) };
    let on_conflict = match r.file_source {
        FileSource::Uploaded => {
            let text: Option<String> = sqlx::query_scalar("SELECT text FROM files WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
            return text.ok_or_else(|| {
                Invalid(format!("`{name}` is not among the uploaded files: upload it first (Files in the admin)"))
                    .into()
            });
        }
        FileSource::Bundle => "DO NOTHING",
        FileSource::BundleUpdate => "DO UPDATE SET text = excluded.text",
    };
    let media_type = crate::documents::media_type(name).unwrap_or("application/octet-stream");
    let sql = format!(
        "INSERT INTO files (name, media_type, text, note, created_by, created_at) VALUES ($1, $2, $3, '', $4, $5) \
         ON CONFLICT (name) {on_conflict}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(media_type)
        .bind(r.file_text)
        .bind(change.author)
        .bind(ts)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar("SELECT text FROM files WHERE name = $1").bind(name).fetch_one(&mut **tx).await?)
}

/// The title (in the first language that has one) and the languages with
/// a title, space-separated in code order, from an item's JSON.
fn list_columns(data: &str) -> (String, String) {
    let json: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let title_in = |l: Lang| json.get(l.code()).and_then(|t| t.get("title")).and_then(|t| t.as_str()).unwrap_or("");
    let title = Lang::ALL.iter().map(|l| title_in(*l)).find(|t| !t.is_empty()).unwrap_or("").to_owned();
    let mut langs: Vec<&str> = Lang::ALL.iter().filter(|l| !title_in(**l).is_empty()).map(|l| l.code()).collect();
    langs.sort_unstable();
    (title, langs.join(" "))
}

async fn set_links(tx: &mut Tx, site_id: i64, item_id: i64, r: &Record<'_>) -> Result<()> {
    sqlx::query("DELETE FROM item_links WHERE item_id = $1").bind(item_id).execute(&mut **tx).await?;
    for &(kind, key) in &r.links {
        sqlx::query("INSERT INTO item_links (item_id, site_id, kind, key) VALUES ($1, $2, $3, $4)")
            .bind(item_id)
            .bind(site_id)
            .bind(kind.as_str())
            .bind(key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_names(tx: &mut Tx, site_id: i64, item_id: i64, r: &Record<'_>) -> Result<()> {
    sqlx::query("DELETE FROM item_names WHERE item_id = $1").bind(item_id).execute(&mut **tx).await?;
    for (space, name) in &r.names {
        let inserted = sqlx::query(
            "INSERT INTO item_names (item_id, site_id, space, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(item_id)
        .bind(site_id)
        .bind(space)
        .bind(name)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let owner: Option<(String, String)> = sqlx::query_as(
                "SELECT i.kind, i.key FROM item_names n JOIN items i ON i.id = n.item_id \
                 WHERE n.site_id = $1 AND n.space = $2 AND n.name = $3",
            )
            .bind(site_id)
            .bind(space)
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?;
            let by = owner.map_or_else(String::new, |(k, x)| format!(" by the {k} `{x}`"));
            return Err(Error::Conflict(format!("the {} `{}`: the {space} name `{name}` is taken{by}", r.kind, r.key)));
        }
    }
    Ok(())
}

/// The other sites that show one item (`$1` its site, `$2` kind, `$3` key).
const INCLUDING_SITES: &str = "SELECT s.site_id FROM item_sites s JOIN items i ON i.id = s.item_id \
     WHERE i.site_id = $1 AND i.kind = $2 AND i.key = $3";

/// The sites that share items with the site `$1`, either way, or show the
/// same items of a third site.
const SHARING_SITES: &str = "SELECT s.site_id FROM item_sites s JOIN items i ON i.id = s.item_id WHERE i.site_id = $1 \
     UNION SELECT i.site_id FROM item_sites s JOIN items i ON i.id = s.item_id WHERE s.site_id = $1 \
     UNION SELECT o.site_id FROM item_sites s JOIN item_sites o ON o.item_id = s.item_id \
     WHERE s.site_id = $1 AND o.site_id <> $1";

/// Bumps the content version and records the revision.
#[allow(clippy::too_many_arguments)]
async fn finish(
    tx: &mut Tx,
    site_id: i64,
    kind: ItemKind,
    key: &str,
    action: &str,
    data: &str,
    change: Change<'_>,
    ts: i64,
) -> Result<Written> {
    let version = bump_version(tx, site_id).await?;
    // The sites that show the item too see the change as well; a change of
    // the site's name or pages reaches every site whose "also on" names
    // them (see `load::elsewhere`).
    let others: Vec<i64> = match kind {
        ItemKind::Settings | ItemKind::Page => {
            sqlx::query_scalar(SHARING_SITES).bind(site_id).fetch_all(&mut **tx).await?
        }
        _ => {
            let query = sqlx::query_scalar(INCLUDING_SITES).bind(site_id).bind(kind.as_str()).bind(key);
            query.fetch_all(&mut **tx).await?
        }
    };
    for other in others {
        bump_version(tx, other).await?;
    }
    let revision = revisions::add(tx, site_id, kind, key, action, data, change, version, ts).await?;
    Ok(Written { version, revision })
}

/// Moves the site's content version in `tx` and tells the other instances
/// at commit: every instance reloads its snapshot.
pub(in crate::store) async fn bump_version(tx: &mut Tx, site_id: i64) -> Result<i64> {
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO content_version (site_id, version) VALUES ($1, 1) \
         ON CONFLICT (site_id) DO UPDATE SET version = content_version.version + 1 RETURNING version",
    )
    .bind(site_id)
    .fetch_one(&mut **tx)
    .await?;
    super::changes::announce(tx, site_id).await?;
    Ok(version)
}
