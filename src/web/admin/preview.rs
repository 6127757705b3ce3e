//! The preview: the editor's form rendered with the public templates, as
//! the page would look once saved and published, without saving anything.
//! A plain form post (a second submit button), so it works without
//! JavaScript; it opens in a new tab.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::items::{Editor, kind_of};
use super::{Page, page, signed};
use crate::content::{Item, Lang, Meta, Status, Template};
use crate::site::{PageRequest, SiteIndex, page_path};
use crate::web::state::AppState;

/// `POST /admin/<type>/<key>/preview?lang=xx` (`<key>` is `new` for an
/// item not saved yet).
pub async fn preview(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    let query = crate::web::public::parse_query(req.uri().query().unwrap_or(""));
    let s = match signed(&state, req).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let site = &state.index().site;
    let lang = query.iter().find_map(|(k, v)| (k == "lang").then(|| v.parse::<Lang>().ok()).flatten());
    let lang = lang.filter(|l| site.languages.contains(l)).unwrap_or(site.default_lang());
    let key = if key == "new" { s.field("key").unwrap_or("").trim().to_owned() } else { key };
    let item = kind_of(&name).ok_or_else(|| "no such type".to_owned()).and_then(|kind| {
        Editor::from_form(&s, &site.languages).to_item(kind, if key.is_empty() { "preview" } else { &key })
    });
    let item = match item {
        Ok(item) => item,
        Err(e) => {
            let p = Page { error: Some("admin_invalid"), detail: Some(e), ..s.page("admin_preview", &name) };
            return page(&state, "admin/message.html", &p, context! {}, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match render_as_published(&state, item, lang) {
        Ok(Some(html)) => preview_response(html),
        Ok(None) => {
            let p = Page { error: Some("admin_no_preview"), ..s.page("admin_preview", &name) };
            page(&state, "admin/message.html", &p, context! {}, StatusCode::OK)
        }
        Err(e) => {
            let p = Page { error: Some("admin_invalid"), detail: Some(e), ..s.page("admin_preview", &name) };
            page(&state, "admin/message.html", &p, context! {}, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// The page `item` would show in `lang` once published, rendered with the
/// public templates over a copy of the snapshot; `None` for a kind that
/// shows on no page of its own (sources, redirects, documents, media).
pub(crate) fn render_as_published(state: &AppState, mut item: Item, lang: Lang) -> Result<Option<String>, String> {
    let mut site = state.index().site.clone();
    // Shown as if published now, whatever its status.
    if let Some(meta) = item.meta_mut() {
        *meta = Meta { status: Status::Published, published_at: None, ..meta.clone() };
    }
    let Some(path) = path_in(&site, &item, lang) else { return Ok(None) };
    site.retain_items(|i| !(i.kind() == item.as_ref().kind() && i.key() == item.as_ref().key()));
    site.push(item);
    site.sort();
    let index = SiteIndex::without_search(site, 0, state.clock.now(), &state.base_url).map_err(|e| e.to_string())?;
    let request = PageRequest { path, page: 1, ..PageRequest::default() };
    let rendered = crate::site::render(&state.theme, &index, &request).map_err(|e| crate::error_chain(&e))?;
    Ok(Some(rendered.html))
}

/// A page that is not the published site: never cached, never indexed.
pub(crate) fn preview_response(html: String) -> Response {
    let mut res = (StatusCode::OK, html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::site::HTML));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    res
}

/// Whether items of `kind` show on a page of the site (sources, redirects,
/// documents and media are shown inside other pages, or not at all).
pub(crate) fn shows_on_a_page(kind: crate::content::ItemKind) -> bool {
    use crate::content::ItemKind::*;
    !matches!(kind, Document | Media | Source | Redirect | Settings)
}

/// Where the item shows in `lang`: its own page, or the page that lists
/// its kind.
fn path_in(site: &crate::content::Site, item: &Item, lang: Lang) -> Option<String> {
    let listed_on =
        |t: Template| site.page_with(t).and_then(|p| p.text.get(&lang)).map(|t| page_path(site, lang, &t.slug));
    match item {
        Item::Page(p) => p.text.get(&lang).map(|t| page_path(site, lang, &t.slug)),
        Item::News(n) => Some(format!("{}/{}", listed_on(Template::News)?, n.text.get(&lang)?.slug)),
        Item::Timeline(_) => listed_on(Template::Timeline),
        Item::Press(_) => listed_on(Template::Press),
        Item::Person(_) => listed_on(Template::Voices),
        Item::Book(_) => listed_on(Template::Books),
        Item::Evidence(_) => listed_on(Template::Evidence),
        Item::Petition(p) => {
            let page = site.pages.iter().find(|pg| pg.petition.as_deref() == Some(&p.key))?;
            Some(page_path(site, lang, &page.text.get(&lang)?.slug))
        }
        Item::Document(_) | Item::Media(_) | Item::Source(_) | Item::Redirect(_) => None,
    }
}
