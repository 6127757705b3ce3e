//! Review links: an editor makes a signed, expiring address at which
//! someone without an account reads an item as it would be published
//! (draft or not) and can change nothing; the editor can revoke it.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};

use super::items::{done, failed, kind_of, not_found};
use super::preview::{preview_response, render_as_published, shows_on_a_page};
use super::{Page, page, redirect, signed};
use crate::content::{ItemKind, Lang};
use crate::store::NewReviewLink;
use crate::web::state::AppState;
use crate::web::tokens::Purpose;

/// How long a new link works unless the editor says otherwise.
const DEFAULT_DAYS: i64 = 7;
/// The longest a link may work.
const MAX_DAYS: i64 = 90;

/// `GET /admin/<type>/<key>/review-links`: the item's links and a form
/// for a new one.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let kind = existing(&state, &s, &name, &key).await?;
            links_page(&state, &s, kind, &name, &key, None).await
        }
        .await,
    )
}

/// The kind of an item that exists, or the 404 page.
async fn existing(state: &AppState, s: &super::Signed, name: &str, key: &str) -> Result<ItemKind, Response> {
    let Some(kind) = kind_of(name) else { return Err(not_found(state, s)) };
    match state.store.item(state.site_id, kind, key).await.map_err(|e| failed(state, s, &e))? {
        Some(_) => Ok(kind),
        None => Err(not_found(state, s)),
    }
}

async fn links_page(
    state: &AppState,
    s: &super::Signed,
    kind: ItemKind,
    name: &str,
    key: &str,
    new_link: Option<String>,
) -> Result<Response, Response> {
    let now = state.clock.now();
    let links = state.store.review_links_of(state.site_id, kind, key).await.map_err(|e| failed(state, s, &e))?;
    let links: Vec<Value> = links
        .iter()
        .map(|l| {
            context! { id => l.id, by => &l.created_by, created_at => l.created_at, expires_at => l.expires_at,
            revoked_at => l.revoked_at, live => l.is_live(now) }
        })
        .collect();
    let p = Page { title: Some(key.to_owned()), ..s.page("admin_review_links", name) };
    let ctx = context! { type => name, key, links, new_link, default_days => DEFAULT_DAYS, max_days => MAX_DAYS,
    can_review => shows_on_a_page(kind) };
    Ok(page(state, "admin/review_links.html", &p, ctx, StatusCode::OK))
}

/// `POST /admin/<type>/<key>/review-links`: a new link, valid `days`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let kind = existing(&state, &s, &name, &key).await?;
            if !shows_on_a_page(kind) {
                let p = Page { error: Some("admin_review_no_page"), ..s.page("admin_review_links", &name) };
                return Err(page(&state, "admin/message.html", &p, context! {}, StatusCode::UNPROCESSABLE_ENTITY));
            }
            let days =
                s.field("days").and_then(|d| d.trim().parse::<i64>().ok()).unwrap_or(DEFAULT_DAYS).clamp(1, MAX_DAYS);
            let now = state.clock.now();
            let expires = now + days * 86_400;
            let nonce = crate::ids::nonce();
            let by = s.session.user.email.clone();
            let link = NewReviewLink { kind, key: &key, nonce: &nonce, by: &by, now, expires_at: expires };
            let made = state.store.create_review_link(state.site_id, &link).await;
            made.map_err(|e| failed(&state, &s, &e))?;
            let token = state.forms.signer.link_token(Purpose::Review, &nonce, expires);
            tracing::info!(by, kind = name, key, days, "review link made");
            links_page(&state, &s, kind, &name, &key, Some(format!("{}/review/{token}", state.base_url))).await
        }
        .await,
    )
}

/// `POST /admin/<type>/<key>/review-links/<id>/revoke`.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    Path((name, key, id)): Path<(String, String, i64)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let links =
                state.store.review_links_of(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
            if !links.iter().any(|l| l.id == id) {
                return Err(not_found(&state, &s));
            }
            let revoked = state.store.revoke_review_link(state.site_id, id, state.clock.now()).await;
            revoked.map_err(|e| failed(&state, &s, &e))?;
            Ok(redirect(&format!("/admin/{name}/{key}/review-links")))
        }
        .await,
    )
}

/// `GET /review/<token>?lang=xx`: the item as it would be published, for
/// whoever holds a live link. Anything else is one plain 404, so a guess
/// learns nothing.
pub async fn show(State(state): State<Arc<AppState>>, Path(token): Path<String>, req: Request) -> Response {
    let query = crate::web::public::parse_query(req.uri().query().unwrap_or(""));
    let now = state.clock.now();
    let site = &state.index().site;
    let lang = query.iter().find_map(|(k, v)| (k == "lang").then(|| v.parse::<Lang>().ok()).flatten());
    let lang = lang.filter(|l| site.languages.contains(l)).unwrap_or(site.default_lang());
    let link = match state.forms.signer.check_link_token(Purpose::Review, &token, now) {
        Some(nonce) => state.store.review_link(state.site_id, &nonce).await.ok().flatten(),
        None => None,
    };
    let item = match link.filter(|l| l.is_live(now)) {
        Some(l) => match l.kind.parse() {
            Ok(kind) => state.store.item(state.site_id, kind, &l.key).await.ok().flatten(),
            Err(_) => None,
        },
        None => None,
    };
    let Some(item) = item else { return gone(&state, lang) };
    match render_as_published(&state, item, lang) {
        Ok(Some(html)) => preview_response(with_review_notice(&html, &state.theme.string(lang, "review_notice"))),
        Ok(None) | Err(_) => gone(&state, lang),
    }
}

/// The notice at the top of the page: a reader must not take a draft for
/// the published site. The public templates stay unaware of reviews; the
/// notice goes right inside `<main>` of the rendered page.
fn with_review_notice(html: &str, notice: &str) -> String {
    const MAIN: &str = "<main id=\"main\" tabindex=\"-1\">";
    let escaped = notice.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    html.replacen(MAIN, &format!("{MAIN}\n<p class=\"notice\" role=\"note\">{escaped}</p>"), 1)
}

fn gone(state: &AppState, lang: Lang) -> Response {
    let notice = crate::site::Notice::new("review_gone", 404);
    match crate::site::render_notice(&state.theme, &state.index(), lang, &notice) {
        Ok(r) => crate::web::forms::fresh(r, StatusCode::NOT_FOUND),
        Err(_) => (StatusCode::NOT_FOUND, "Not found\n").into_response(),
    }
}
