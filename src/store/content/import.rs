//! Importing a bundle into a site that may hold content already: items are
//! matched by kind and key, new ones created, changed ones updated (each
//! with a revision naming the import), unchanged ones left alone, and
//! nothing deleted unless asked. All in one transaction: the whole bundle
//! or nothing, and a dry run is the same work rolled back.

use std::collections::HashSet;

use crate::content::{Included, Invalid, Item, ItemKind, ItemRef, Site};

use super::super::backend::{self, Tx};
use super::super::error::{Error, Result};
use super::{Change, FileSource, Mode, Record, Store, insert_site, load, read_settings, trash, write_unchecked};

/// What an import may do to what is there.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportRules<'a> {
    /// Move to the trash the live items the bundle lacks.
    pub prune: bool,
    /// Change only items whose latest revision is by this author (an
    /// upgrade of the default content, `"system"`): an item an editor
    /// changed, trashed or deleted is kept as the editor left it. `None`:
    /// the bundle wins.
    pub only_by: Option<&'a str>,
    /// Check and plan everything, then roll it back.
    pub dry_run: bool,
    /// What a dry run of the same import planned to remove (`Delete` and
    /// `Exclude`), as shown to whoever confirmed it: a run that would now
    /// remove anything else (the site changed meanwhile) is refused whole.
    pub confirmed: Option<&'a [Planned]>,
}

/// What an import does to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A new item.
    Create,
    /// A changed item, updated.
    Update,
    /// An item the bundle lacks, moved to the trash (`prune`).
    Delete,
    /// An item left as it is, and why.
    Keep(String),
    /// An item of another site, shown on this one from now on
    /// (`shared.toml`).
    Include,
    /// An item of another site this one stops showing (`prune`).
    Exclude,
}

/// One item's action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Its kind (`settings` for the site's settings).
    pub kind: ItemKind,
    /// Its key.
    pub key: String,
    /// What the import does to it.
    pub action: Action,
}

/// What an import did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Every item created, updated, deleted or kept, in bundle order.
    pub planned: Vec<Planned>,
    /// How many items were already as the bundle has them.
    pub unchanged: usize,
}

impl ImportReport {
    /// Whether the import changes anything.
    pub fn changes_anything(&self) -> bool {
        self.planned.iter().any(|p| !matches!(p.action, Action::Keep(_)))
    }

    fn note(&mut self, kind: ItemKind, key: &str, action: Action) {
        self.planned.push(Planned { kind, key: key.to_owned(), action });
    }
}

impl Store {
    /// Imports a validated bundle into the site with its key, creating the
    /// site in a database that holds none. Refused as a whole (nothing
    /// written) when the result would break a rule: a reference to an
    /// item that is not there, a name taken by an item the bundle lacks.
    pub async fn import_bundle(
        &self,
        bundle: &Site,
        rules: ImportRules<'_>,
        change: Change<'_>,
    ) -> Result<ImportReport> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let ts = crate::store::now();
        let mut report = ImportReport::default();
        let existing = site_for(&mut tx, bundle).await?;
        let site_id = match existing {
            Some(id) => id,
            None => {
                report.note(ItemKind::Settings, "site", Action::Create);
                insert_site(&mut tx, &bundle.key, &bundle.settings(), change, ts).await?
            }
        };
        let run = Run { site_id, bundle, rules, change, ts };
        if existing.is_some() {
            import_settings(&mut tx, &run, &mut report).await?;
        }
        // Items another site stores are shown, not written (`shared.toml`).
        for item in bundle.items().filter(|i| !bundle.shows_from_elsewhere(i.kind(), i.key())) {
            if let Some(action) = import_item(&mut tx, &run, item).await? {
                report.note(item.kind(), item.key(), action);
            } else {
                report.unchanged += 1;
            }
        }
        if let Some(included) = &bundle.included {
            show_included(&mut tx, &run, included, &mut report).await?;
        }
        if rules.prune {
            prune(&mut tx, &run, &mut report).await?;
        }
        if let Some(confirmed) = rules.confirmed {
            let (now, then) = (removals(&report.planned), removals(confirmed));
            if !now.is_subset(&then) {
                let list: Vec<String> = now.difference(&then).map(|(kind, key)| format!("{kind} `{key}`")).collect();
                return Err(Error::Conflict(format!(
                    "the site changed since the plan was made: the import would now also remove {}; \
                     nothing was imported, run it again",
                    list.join(", ")
                )));
            }
        }
        super::check_no_dangling(&mut tx, site_id).await?;
        super::check_including_sites_of(&mut tx, site_id).await?;
        let problems = load::site(&mut tx, site_id).await?.problems();
        if !problems.is_empty() {
            let list: Vec<String> = problems.into_iter().map(|p| p.0).collect();
            return Err(Invalid(format!("after the import: {}", list.join("\n"))).into());
        }
        if rules.dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(report)
    }
}

/// The items a plan moves to the trash or stops showing.
fn removals(planned: &[Planned]) -> std::collections::BTreeSet<(ItemKind, &str)> {
    planned
        .iter()
        .filter(|p| matches!(p.action, Action::Delete | Action::Exclude))
        .map(|p| (p.kind, p.key.as_str()))
        .collect()
}

/// The site with the bundle's key; none when it is to be made: in a
/// database that holds no site, or beside the site whose items the bundle
/// shows (`shared.toml`). Another site's bundle is refused: a mistake.
async fn site_for(tx: &mut Tx, bundle: &Site) -> Result<Option<i64>> {
    let key = &bundle.key;
    let sites: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, key FROM sites ORDER BY id").fetch_all(&mut **tx).await?;
    let companion = bundle.included.as_ref().is_some_and(|i| sites.iter().any(|(_, k)| *k == i.from));
    match sites.iter().find(|(_, k)| k == key) {
        Some((id, _)) => Ok(Some(*id)),
        None if sites.is_empty() || companion => Ok(None),
        None => Err(Error::Conflict(format!(
            "this database holds the site `{}`, and the bundle is the site `{key}` (the key in its site.toml)",
            sites[0].1
        ))),
    }
}

/// One import: what goes into which site, by which rules, as whose change.
struct Run<'a> {
    site_id: i64,
    bundle: &'a Site,
    rules: ImportRules<'a>,
    change: Change<'a>,
    ts: i64,
}

async fn import_settings(tx: &mut Tx, run: &Run<'_>, report: &mut ImportReport) -> Result<()> {
    let settings = run.bundle.settings();
    if read_settings(tx, run.site_id).await? == settings {
        report.unchanged += 1;
    } else if let Some(why) = kept_because(tx, run, ItemKind::Settings, "site").await? {
        report.note(ItemKind::Settings, "site", Action::Keep(why));
    } else {
        let record = Record::settings(&settings);
        write_unchecked(tx, run.site_id, &record, Mode::Update, run.change, run.ts).await?;
        report.note(ItemKind::Settings, "site", Action::Update);
    }
    Ok(())
}

/// Imports one item; `None` when it is already as the bundle has it.
async fn import_item(tx: &mut Tx, run: &Run<'_>, item: ItemRef<'_>) -> Result<Option<Action>> {
    let (site_id, only_by) = (run.site_id, run.rules.only_by);
    let (kind, key) = (item.kind(), item.key());
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT data, file_text, deleted_at FROM items WHERE site_id = $1 AND kind = $2 AND key = $3")
            .bind(site_id)
            .bind(kind.as_str())
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
    let mut incoming = item.to_owned();
    let action = if row.is_some() { Action::Update } else { Action::Create };
    match row {
        None => {
            // Revisions without a row: an editor deleted it for good.
            if only_by.is_some() && super::latest_revision(tx, site_id, kind, key).await? > 0 {
                return Ok(Some(Action::Keep("deleted from the trash".into())));
            }
        }
        Some((_, _, Some(_))) if only_by.is_some() => return Ok(Some(Action::Keep("in the trash".into()))),
        Some((_, _, Some(_))) => {
            return Err(Error::Conflict(format!(
                "the {kind} `{key}` is in the trash: restore it, or empty it from the trash, and import again"
            )));
        }
        Some((data, file_text, None)) => {
            let mut previous = Item::from_json(kind, key, &data).map_err(Error::Corrupt)?;
            if let Item::Document(d) = &mut previous {
                d.extracted_text = file_text;
            }
            incoming.keep_old_slugs(&previous);
            if same(&incoming, &previous) {
                return Ok(None);
            }
            if let Some(why) = kept_because(tx, run, kind, key).await? {
                return Ok(Some(Action::Keep(why)));
            }
        }
    }
    // Items of a bundle refer to each other in any order: references are
    // checked once all are in.
    let record = Record { file_source: FileSource::BundleUpdate, ..Record::of(incoming.as_ref()) };
    write_unchecked(tx, site_id, &record, Mode::Upsert, run.change, run.ts).await?;
    Ok(Some(action))
}

/// Two states of an item are the same when their stored JSON and (for a
/// document) the text of their file are.
fn same(a: &Item, b: &Item) -> bool {
    fn text(i: &Item) -> Option<&str> {
        match i {
            Item::Document(d) => Some(&d.extracted_text),
            _ => None,
        }
    }
    text(a) == text(b) && a.as_ref().to_json() == b.as_ref().to_json()
}

/// Why an item is kept under `only_by`: the latest change is someone else's.
async fn kept_because(tx: &mut Tx, run: &Run<'_>, kind: ItemKind, key: &str) -> Result<Option<String>> {
    let Some(importer) = run.rules.only_by else { return Ok(None) };
    let author: Option<String> = sqlx::query_scalar(
        "SELECT author FROM revisions WHERE site_id = $1 AND kind = $2 AND key = $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(run.site_id)
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(author.filter(|a| a != importer).map(|a| format!("changed by {a}")))
}

/// Shows the items `included` names (stored by another site) that the
/// site does not show yet.
async fn show_included(tx: &mut Tx, run: &Run<'_>, included: &Included, report: &mut ImportReport) -> Result<()> {
    let owner: i64 = sqlx::query_scalar("SELECT id FROM sites WHERE key = $1")
        .bind(&included.from)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("the site `{}` to show items of", included.from)))?;
    let mut changed = false;
    for (kind, key) in &included.items {
        let item: Option<(i64, bool)> = sqlx::query_as(
            "SELECT i.id, EXISTS (SELECT 1 FROM item_sites s WHERE s.item_id = i.id AND s.site_id = $4) FROM items i \
             WHERE i.site_id = $1 AND i.kind = $2 AND i.key = $3 AND i.deleted_at IS NULL",
        )
        .bind(owner)
        .bind(kind.as_str())
        .bind(key)
        .bind(run.site_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|(id, shown): (i64, super::super::backend::Flag)| (id, shown.0));
        match item {
            Some((_, true)) => report.unchanged += 1,
            Some((id, false)) => {
                super::sharing::check_not_shown_own(tx, run.site_id, *kind, key).await?;
                sqlx::query("INSERT INTO item_sites (item_id, site_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(run.site_id)
                    .execute(&mut **tx)
                    .await?;
                report.note(*kind, key, Action::Include);
                changed = true;
            }
            None => return Err(Error::NotFound(format!("the {kind} `{key}` of the site `{}`", included.from))),
        }
    }
    if changed {
        bump_every_site(tx).await?;
    }
    Ok(())
}

/// Moves every site's content version: which site shows what changed, and
/// with it the "also on …" of the others.
async fn bump_every_site(tx: &mut Tx) -> Result<()> {
    let sites: Vec<i64> = sqlx::query_scalar("SELECT id FROM sites").fetch_all(&mut **tx).await?;
    for site in sites {
        super::bump_version(tx, site).await?;
    }
    Ok(())
}

/// Moves to the trash every live item the bundle lacks (under `only_by`,
/// only those nobody else changed).
async fn prune(tx: &mut Tx, run: &Run<'_>, report: &mut ImportReport) -> Result<()> {
    let wanted: HashSet<(ItemKind, &str)> = run.bundle.items().map(|i| (i.kind(), i.key())).collect();
    let live: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, kind, key, data FROM items WHERE site_id = $1 AND deleted_at IS NULL AND kind <> 'settings' \
         ORDER BY kind, key",
    )
    .bind(run.site_id)
    .fetch_all(&mut **tx)
    .await?;
    for (id, kind, key, data) in live {
        let kind: ItemKind = kind.parse().map_err(Error::Corrupt)?;
        if wanted.contains(&(kind, key.as_str())) {
            continue;
        }
        if let Some(why) = kept_because(tx, run, kind, &key).await? {
            report.note(kind, &key, Action::Keep(why));
            continue;
        }
        trash(tx, run.site_id, (id, &data), kind, &key, run.change, run.ts).await?;
        report.note(kind, &key, Action::Delete);
    }
    let shown: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT i.id, i.kind, i.key FROM item_sites s JOIN items i ON i.id = s.item_id WHERE s.site_id = $1 \
         ORDER BY i.kind, i.key",
    )
    .bind(run.site_id)
    .fetch_all(&mut **tx)
    .await?;
    for (id, kind, key) in shown {
        let kind: ItemKind = kind.parse().map_err(Error::Corrupt)?;
        if !wanted.contains(&(kind, key.as_str())) {
            sqlx::query("DELETE FROM item_sites WHERE item_id = $1 AND site_id = $2")
                .bind(id)
                .bind(run.site_id)
                .execute(&mut **tx)
                .await?;
            bump_every_site(tx).await?;
            report.note(kind, &key, Action::Exclude);
        }
    }
    Ok(())
}
