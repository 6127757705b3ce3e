//! Items one site shows from another: which sites show an item, and the
//! rules that keep every site whole when that changes (an item's
//! references resolve on every site that shows it; a site never shows two
//! items of one kind and key).

use crate::content::{Invalid, ItemKind, SHAREABLE};

use super::super::Store;
use super::super::backend::{Conn, Flag, Tx};
use super::super::error::{Error, Result};

/// A site of the install, for the editor's "Shown on".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteName {
    /// Its key.
    pub key: String,
    /// Its name, in its own default language.
    pub name: String,
    /// Its languages, the default first.
    pub languages: Vec<crate::content::Lang>,
}

impl Store {
    /// Every site of the install with its name, the first first.
    pub async fn site_names(&self) -> Result<Vec<(i64, SiteName)>> {
        let mut conn = self.pool.acquire().await?;
        let sites: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, key FROM sites ORDER BY id").fetch_all(&mut *conn).await?;
        let mut out = Vec::new();
        for (id, key) in sites {
            let settings = super::read_settings(&mut conn, id).await?;
            let name = settings.languages.first().and_then(|l| settings.text.get(l)).map(|t| t.name.clone());
            let languages = settings.languages.clone();
            out.push((id, SiteName { name: name.unwrap_or_else(|| key.clone()), key, languages }));
        }
        Ok(out)
    }

    /// How many live items the site has of its own, and how many it
    /// shows from other sites.
    pub async fn site_counts(&self, site_id: i64) -> Result<(i64, i64)> {
        let own: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM items WHERE site_id = $1 AND kind <> 'settings' AND deleted_at IS NULL",
        )
        .bind(site_id)
        .fetch_one(&self.pool)
        .await?;
        let shown: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM item_sites s JOIN items i ON i.id = s.item_id \
             WHERE s.site_id = $1 AND i.deleted_at IS NULL",
        )
        .bind(site_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((own, shown))
    }

    /// The keys of the other sites that show the item of `site_id`.
    pub async fn shown_on(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        shown_on(&mut conn, site_id, kind, key).await
    }

    /// The items of a kind this site shows from other sites: the key of the
    /// site that stores each, its key and its title.
    pub async fn shown_from_others(&self, site_id: i64, kind: ItemKind) -> Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT o.key, i.key, i.title FROM item_sites s JOIN items i ON i.id = s.item_id \
             JOIN sites o ON o.id = i.site_id WHERE s.site_id = $1 AND i.kind = $2 AND i.deleted_at IS NULL \
             ORDER BY i.key",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// The item of another site this one shows, as the key of the site
    /// that stores it, if any: it is edited there.
    pub async fn owner_of_shared(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        Ok(owner_of_shared(&mut conn, site_id, kind, key).await?.filter(|(_, trashed)| !trashed).map(|(o, _)| o))
    }
}

async fn shown_on(conn: &mut Conn, site_id: i64, kind: ItemKind, key: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.key FROM item_sites s JOIN items i ON i.id = s.item_id JOIN sites o ON o.id = s.site_id \
         WHERE i.site_id = $1 AND i.kind = $2 AND i.key = $3 ORDER BY o.id",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .fetch_all(&mut *conn)
    .await?)
}

/// The site that stores the item this site shows, and whether the item
/// is in that site's trash.
async fn owner_of_shared(conn: &mut Conn, site_id: i64, kind: ItemKind, key: &str) -> Result<Option<(String, bool)>> {
    let row: Option<(String, Flag)> = sqlx::query_as(
        "SELECT o.key, i.deleted_at IS NOT NULL FROM item_sites s JOIN items i ON i.id = s.item_id \
         JOIN sites o ON o.id = i.site_id WHERE s.site_id = $1 AND i.kind = $2 AND i.key = $3",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(owner, trashed)| (owner, trashed.0)))
}

/// Refuses a new item whose kind and key the site shows already, from
/// another site.
pub(super) async fn check_not_shown(tx: &mut Tx, site_id: i64, kind: ItemKind, key: &str) -> Result<()> {
    match owner_of_shared(tx, site_id, kind, key).await? {
        Some((owner, false)) => Err(Error::Conflict(format!(
            "this site shows the {kind} `{key}` of the site `{owner}` already: edit it there, or choose another key"
        ))),
        Some((owner, true)) => Err(Error::Conflict(format!(
            "the {kind} `{key}` of the site `{owner}`, in its trash, is shown here once restored: choose another key"
        ))),
        None => Ok(()),
    }
}

/// Makes the live item of `site_id` shown on exactly the sites `keys`
/// besides its own; the sites that gain or lose it see the change. The
/// caller checks the sites that show it then ([`check_including_sites`]).
pub(super) async fn share(tx: &mut Tx, site_id: i64, kind: ItemKind, key: &str, keys: &[String]) -> Result<()> {
    if !keys.is_empty() && !SHAREABLE.contains(&kind) {
        return Err(
            Invalid(format!("a {kind} is not shown on other sites (timeline, press, documents, sources are)")).into()
        );
    }
    let item_id: i64 =
        sqlx::query_scalar("SELECT id FROM items WHERE site_id = $1 AND kind = $2 AND key = $3 AND deleted_at IS NULL")
            .bind(site_id)
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
    let mut wanted = Vec::new();
    for other in keys {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM sites WHERE key = $1").bind(other).fetch_optional(&mut **tx).await?;
        match id {
            Some(id) if id != site_id => wanted.push(id),
            Some(_) => {}
            None => return Err(Invalid(format!("there is no site `{other}`")).into()),
        }
    }
    let current: Vec<i64> = sqlx::query_scalar("SELECT site_id FROM item_sites WHERE item_id = $1")
        .bind(item_id)
        .fetch_all(&mut **tx)
        .await?;
    for &gained in wanted.iter().filter(|s| !current.contains(s)) {
        check_not_shown_own(tx, gained, kind, key).await?;
        check_one_owner(tx, gained, site_id).await?;
        sqlx::query("INSERT INTO item_sites (item_id, site_id) VALUES ($1, $2)")
            .bind(item_id)
            .bind(gained)
            .execute(&mut **tx)
            .await?;
        super::bump_version(tx, gained).await?;
    }
    for &lost in current.iter().filter(|s| !wanted.contains(s)) {
        sqlx::query("DELETE FROM item_sites WHERE item_id = $1 AND site_id = $2")
            .bind(item_id)
            .bind(lost)
            .execute(&mut **tx)
            .await?;
        super::bump_version(tx, lost).await?;
        match super::check_no_dangling(tx, lost).await {
            Err(Error::Invalid(why)) => {
                let site: String =
                    sqlx::query_scalar("SELECT key FROM sites WHERE id = $1").bind(lost).fetch_one(&mut **tx).await?;
                return Err(Invalid(format!("the site `{site}` cannot stop showing it: {}", why.0)).into());
            }
            other => other?,
        }
    }
    Ok(())
}

/// Refuses a state in which a site that shows the item (not its own site)
/// breaks one of its rules: what the item refers to is missing there, it
/// lacks one of that site's languages, or one of its addresses is taken
/// by another item that site shows. The whole site is checked, as an
/// import checks it.
pub(super) async fn check_including_sites(tx: &mut Tx, item_id: i64) -> Result<()> {
    check_references_elsewhere(tx, item_id).await?;
    let including: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.site_id, o.key FROM item_sites s JOIN sites o ON o.id = s.site_id WHERE s.item_id = $1 ORDER BY o.id",
    )
    .bind(item_id)
    .fetch_all(&mut **tx)
    .await?;
    for (site_id, key) in including {
        check_whole(tx, site_id, &format!("on the site `{key}`, which shows it too")).await?;
    }
    Ok(())
}

/// Refuses a state in which the site `site_id` breaks one of its rules
/// (as an import checks them), saying where first.
pub(super) async fn check_whole(tx: &mut Tx, site_id: i64, where_: &str) -> Result<()> {
    let problems = super::load::site(tx, site_id).await?.problems();
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.into_iter().map(|p| p.0).collect();
    Err(Invalid(format!("{where_}: {}", list.join("; "))).into())
}

/// Refuses to make `site_id` show items of `owner` where it shows items
/// of a third site already, or where `owner` shows items of it: a site
/// shows the items of one other site, and the bundle format names that
/// one (`shared.toml`, whose site is imported first).
async fn check_one_owner(tx: &mut Tx, site_id: i64, owner: i64) -> Result<()> {
    let key = |id: i64| sqlx::query_scalar::<_, String>("SELECT key FROM sites WHERE id = $1").bind(id);
    let third: Option<i64> = sqlx::query_scalar(
        "SELECT i.site_id FROM item_sites s JOIN items i ON i.id = s.item_id WHERE s.site_id = $1 AND i.site_id <> $2",
    )
    .bind(site_id)
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(third) = third {
        let (site, third) = (key(site_id).fetch_one(&mut **tx).await?, key(third).fetch_one(&mut **tx).await?);
        return Err(Error::Conflict(format!(
            "the site `{site}` shows items of the site `{third}`: a site shows the items of one other site only"
        )));
    }
    let back: Option<i64> = sqlx::query_scalar(
        "SELECT s.item_id FROM item_sites s JOIN items i ON i.id = s.item_id WHERE s.site_id = $1 AND i.site_id = $2",
    )
    .bind(owner)
    .bind(site_id)
    .fetch_optional(&mut **tx)
    .await?;
    if back.is_none() {
        return Ok(());
    }
    let (site, owner) = (key(site_id).fetch_one(&mut **tx).await?, key(owner).fetch_one(&mut **tx).await?);
    Err(Error::Conflict(format!(
        "the site `{owner}` shows items of the site `{site}`: two sites cannot show each other's items"
    )))
}

/// Refuses to show an item on a site that has one of its own with the
/// same kind and key (in its trash too: it may be restored).
pub(super) async fn check_not_shown_own(tx: &mut Tx, site_id: i64, kind: ItemKind, key: &str) -> Result<()> {
    let own: Option<(String, Flag)> = sqlx::query_as(
        "SELECT o.key, i.deleted_at IS NOT NULL FROM items i JOIN sites o ON o.id = i.site_id \
         WHERE i.site_id = $1 AND i.kind = $2 AND i.key = $3",
    )
    .bind(site_id)
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    match own {
        Some((site, Flag(true))) => Err(Error::Conflict(format!(
            "the site `{site}` has a {kind} `{key}` of its own in its trash: \
             delete it for good there before this one can be shown"
        ))),
        Some((site, _)) => Err(Error::Conflict(format!("the site `{site}` has a {kind} `{key}` of its own"))),
        None => Ok(()),
    }
}

/// Refuses a state in which a site that shows the item (not its own site)
/// lacks something the item refers to.
async fn check_references_elsewhere(tx: &mut Tx, item_id: i64) -> Result<()> {
    let missing: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT i.kind, i.key, o.key, l.kind, l.key FROM item_links l JOIN items i ON i.id = l.item_id \
         JOIN item_sites s ON s.item_id = l.item_id JOIN sites o ON o.id = s.site_id \
         WHERE l.item_id = $1 AND NOT EXISTS (SELECT 1 FROM site_items t WHERE t.in_site = s.site_id \
         AND t.kind = l.kind AND t.key = l.key AND t.deleted_at IS NULL) ORDER BY o.key, l.kind, l.key",
    )
    .bind(item_id)
    .fetch_all(&mut **tx)
    .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing
        .iter()
        .map(|(k, x, site, tk, tx)| {
            format!(
                "the {k} `{x}` refers to the {tk} `{tx}`, which the site `{site}` (that shows it too) does not show"
            )
        })
        .collect();
    Err(Invalid(list.join("\n")).into())
}
