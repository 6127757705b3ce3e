//! The editor's "Shown on": which other sites of the install show a
//! shared item (timeline, press, documents, sources), and whether its
//! place names them ("also on …"). Only the sites the editor may edit are
//! offered; the others keep showing it or not, as before.

use minijinja::{Value, context};

use super::Signed;
use crate::content::{ItemKind, SHAREABLE};
use crate::store::Error as StoreError;
use crate::web::state::AppState;

/// The other sites that show the item, for the editor; `None` where there
/// is nothing to choose (a kind that is not shared, a single site).
pub(super) async fn current(state: &AppState, kind: ItemKind, key: &str) -> Result<Option<Vec<String>>, StoreError> {
    if !SHAREABLE.contains(&kind) || state.store.sites().await?.len() < 2 {
        return Ok(None);
    }
    if key.is_empty() {
        return Ok(Some(Vec::new()));
    }
    state.store.shown_on(state.site_id, kind, key).await.map(Some)
}

/// The other sites the editor may edit, each ticked if it shows the item.
pub(super) async fn options(state: &AppState, s: &Signed, shown: &[String]) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::new();
    for (id, site) in state.store.site_names().await? {
        if id != state.site_id && state.store.may_edit(s.session.user.id, &site.key).await? {
            out.push(context! { key => &site.key, name => &site.name, checked => shown.contains(&site.key) });
        }
    }
    Ok(out)
}

/// The sites the posted form asks to show the item on: the ticked ones
/// the editor may edit, and those they may not edit as they were. `None`
/// when the form had no such choice.
pub(super) async fn posted(
    state: &AppState,
    s: &Signed,
    kind: ItemKind,
    key: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    if s.field("shown_on_field").is_none() {
        return Ok(None);
    }
    let ticked: Vec<&str> = s.form.iter().filter(|(k, _)| k == "shown_on").map(|(_, v)| v.as_str()).collect();
    let before = current(state, kind, key).await?.unwrap_or_default();
    let mut out = Vec::new();
    for (id, site) in state.store.site_names().await? {
        let shown = if id == state.site_id {
            false
        } else if state.store.may_edit(s.session.user.id, &site.key).await? {
            ticked.contains(&site.key.as_str())
        } else {
            before.contains(&site.key)
        };
        if shown {
            out.push(site.key);
        }
    }
    Ok(Some(out))
}

/// The address of `path` in the admin of the site `site_key`, if this
/// server serves it: shared items are edited in their own site's admin.
pub(super) fn admin_url(state: &AppState, site_key: &str, path: &str) -> Option<String> {
    let site = state.family().into_iter().find(|f| f.index().site.key == site_key)?;
    Some(format!("{}/admin{path}", site.base_url))
}

/// The items of a kind this site shows from other sites, for the admin's
/// list: each with its title, its site's name and where to edit it.
pub(super) async fn shown_from_others(state: &AppState, kind: ItemKind, name: &str) -> Result<Vec<Value>, StoreError> {
    let shared = state.store.shown_from_others(state.site_id, kind).await?;
    if shared.is_empty() {
        return Ok(Vec::new());
    }
    let names = state.store.site_names().await?;
    Ok(shared
        .into_iter()
        .map(|(site, key, title)| {
            let site_name = names.iter().find(|(_, n)| n.key == site).map_or(site.clone(), |(_, n)| n.name.clone());
            let url = admin_url(state, &site, &format!("/{name}/{key}"));
            context! { key, title, site => site_name, url }
        })
        .collect())
}
