//! The web admin under `/admin`: server-rendered pages from the
//! `admin/*.html` templates, usable without JavaScript.
//!
//! Every page needs a session (`session.rs`); every post also needs the
//! session's CSRF token and a same-origin request. Answers are never
//! cached (`no-store`) and carry the public site's security headers.

mod account;
mod diff;
mod files;
mod images;
mod items;
mod newsletters;
mod people;
mod preview;
mod review;
mod session;
mod settings;
mod setup;
mod sharing;
mod two_factor;

pub use review::show as review_page;
pub use setup::setup_link;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use tower_http::limit::RequestBodyLimitLayer;

use super::abuse::{PeerAddr, client_ip};
use super::state::AppState;
use crate::content::Lang;
use crate::store::Session;

use session::Note;

/// The admin's routes, below `/admin`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(items::dashboard))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-in/code", post(two_factor::sign_in_code))
        .route("/sign-out", post(sign_out))
        .route("/two-factor", get(two_factor::page).post(two_factor::change))
        .route("/account", get(account::form).post(account::save))
        .route("/users/two-factor", post(two_factor::require))
        .route("/setup", get(setup::form).post(setup::submit))
        .route("/users", get(items::users))
        .route("/audit", get(items::audit))
        .route("/settings", get(settings::form).post(settings::save))
        .route("/trash", get(items::trash))
        .route("/subscribers", get(people::subscribers))
        .route("/subscribers.csv", get(people::subscribers_csv))
        .route("/signatures", get(people::signatures))
        .route("/signatures.csv", get(people::signatures_csv))
        .route("/newsletters", get(newsletters::list).post(newsletters::create))
        .route("/newsletters/{id}", get(newsletters::show).post(newsletters::save))
        .route("/newsletters/{id}/test", post(newsletters::test))
        .route("/newsletters/{id}/send", post(newsletters::send))
        .route("/newsletters/{id}/archive", post(newsletters::archive))
        .route("/inbox", get(people::inbox))
        .route("/inbox/{id}", get(people::message))
        .route("/inbox/{id}/done", post(people::message_done))
        .route("/erase", get(people::erase_form).post(people::erase))
        .route("/erase/look", post(people::erase_look))
        .route("/trash/{kind}/{key}/restore", post(items::restore_from_trash))
        .route("/{kind}", get(items::list))
        .route("/{kind}/new", get(items::new_form).post(items::create))
        .route("/{kind}/{key}", get(items::edit_form).post(items::save))
        .route("/{kind}/{key}/delete", post(items::delete))
        .route("/{kind}/{key}/preview", post(preview::preview))
        .route("/{kind}/{key}/revisions", get(items::revisions))
        .route("/{kind}/{key}/review-links", get(review::list).post(review::create))
        .route("/{kind}/{key}/review-links/{id}/revoke", post(review::revoke))
        .route("/{kind}/{key}/revisions/{number}/restore", post(items::restore_revision))
        .route("/{kind}/{key}/revisions/{number}/diff", get(diff::diff))
        .route("/images/{key}", get(images::show).post(images::save))
        .route("/images/{key}/delete", post(images::delete))
        .route("/files/{name}/delete", post(files::delete))
        .layer(RequestBodyLimitLayer::new(super::router::API_BODY_LIMIT))
        .merge(uploads())
}

/// The upload routes, each with a body limit of its own: an image of up
/// to 20 MB, a PDF of up to 50 MB.
fn uploads() -> Router<Arc<AppState>> {
    let limited = |limit: usize, router: Router<Arc<AppState>>| {
        router.layer(DefaultBodyLimit::max(limit)).layer(RequestBodyLimitLayer::new(limit))
    };
    let images = Router::new().route("/images", get(images::list).post(images::upload));
    let files = Router::new().route("/files", get(files::list).post(files::upload));
    limited(images::UPLOAD_BODY_LIMIT, images).merge(limited(files::UPLOAD_BODY_LIMIT, files))
}

/// What every admin page shows around its content.
#[derive(Default)]
pub struct Page<'a> {
    /// The UI language.
    pub lang: Lang,
    /// The signed-in user's session, if any.
    pub session: Option<&'a Session>,
    /// The UI string key of the page title.
    pub title_key: &'static str,
    /// A title given as text instead (an item's key).
    pub title: Option<String>,
    /// The menu entry to mark as current.
    pub current: &'a str,
    /// A UI string key shown as a status message.
    pub message: Option<&'static str>,
    /// A UI string key shown as an error.
    pub error: Option<&'static str>,
    /// Details after the error (what the store said).
    pub detail: Option<String>,
}

/// Renders `template` inside the admin layout.
pub fn page(state: &AppState, template: &str, p: &Page<'_>, ctx: Value, status: StatusCode) -> Response {
    let theme = &state.theme;
    let string = |k: &str| theme.string(p.lang, k);
    let types: Vec<Value> = super::admin_api::types().map(|(name, _)| context! { name }).collect();
    let error = p.error.map(|e| match &p.detail {
        Some(d) => format!("{} {d}", string(e)),
        None => string(e),
    });
    let base = context! {
        lang => p.lang.code(),
        t => theme.strings(p.lang),
        assets => crate::site::to_value(theme.assets.urls()),
        title => p.title.clone().unwrap_or_else(|| string(p.title_key)),
        current => p.current,
        message => p.message.map(string),
        error,
        user => p.session.map(|s| context! { email => &s.user.email, role => s.user.role.as_str() }),
        csrf => p.session.map(|s| s.csrf.as_str()),
        types,
        sites => site_switcher(state, p.lang),
    };
    match theme.render(template, context! { ..ctx, ..base }) {
        Ok(html) => {
            let mut res = (status, html).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::site::HTML));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "rendering an admin page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error\n").into_response()
        }
    }
}

/// The install's sites, each with its admin's address, where there are
/// several: the admin's site switcher.
fn site_switcher(state: &AppState, lang: Lang) -> Vec<Value> {
    let family = state.family();
    if family.len() < 2 {
        return Vec::new();
    }
    family
        .iter()
        .map(|s| {
            let index = s.index();
            let text = index.site.text.get(&lang).or_else(|| index.site.text.values().next());
            let name = text.map(|t| t.name.clone()).unwrap_or_else(|| index.site.key.clone());
            let current = std::ptr::eq(Arc::as_ptr(s), state);
            context! { name, url => format!("{}/admin", s.base_url), current }
        })
        .collect()
}

/// A language's name in the UI language `ui` ("German", "Deutsch").
pub fn lang_name(state: &AppState, ui: Lang, lang: Lang) -> String {
    state.theme.string(ui, &format!("admin_lang_{}", lang.code()))
}

/// 303 to `to` (after a post, or to the sign-in page).
pub fn redirect(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The browser's first preference between the two languages the admin
/// speaks; a signed-in user's own choice (`/admin/account`) wins.
fn ui_lang(headers: &HeaderMap) -> Lang {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("de") { Lang::De } else { Lang::En }
}

/// A signed-in request: the session, and for posts the form, checked for
/// origin and CSRF token. Anything else is answered here.
pub struct Signed {
    /// The live session.
    pub session: Session,
    /// The UI language.
    pub lang: Lang,
    /// The posted fields (empty for a GET).
    pub form: Vec<(String, String)>,
}

impl Signed {
    /// A posted field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// For an editor, the 403 page of `title_key` (owners only here);
    /// `None` for an owner.
    pub fn refuse_editor(&self, state: &AppState, title_key: &'static str, current: &str) -> Option<Response> {
        if self.session.user.role == crate::accounts::Role::Owner {
            return None;
        }
        let p = Page { error: Some("admin_forbidden"), ..self.page(title_key, current) };
        Some(page(state, "admin/message.html", &p, context! {}, StatusCode::FORBIDDEN))
    }

    /// A page for this user.
    pub fn page<'a>(&'a self, title_key: &'static str, current: &'a str) -> Page<'a> {
        Page { lang: self.lang, session: Some(&self.session), title_key, current, ..Page::default() }
    }
}

/// Checks the session (and for a post: the origin and the CSRF token).
pub async fn signed(state: &AppState, req: Request) -> Result<Signed, Response> {
    let (parts, body) = req.into_parts();
    let lang = ui_lang(&parts.headers);
    let Some(session) = session::current(state, &parts.headers).await else {
        return Err(redirect("/admin/sign-in"));
    };
    // Owners may require a second factor of everyone: until it is set up,
    // the setup page (and signing out) is all there is.
    // (The path is below `/admin`: the router nests these routes.)
    let exempt = matches!(parts.uri.path(), "/two-factor" | "/sign-out");
    if !exempt && two_factor::missing(state, &session).await {
        return Err(redirect("/admin/two-factor"));
    }
    let lang = session.user.ui_lang.unwrap_or(lang);
    let mut signed = Signed { session, lang, form: Vec::new() };
    // A user limited to some sites of the install sees no other's admin.
    let site = state.index().site.key.clone();
    if !state.store.may_edit(signed.session.user.id, &site).await.unwrap_or(false) {
        let p = Page { error: Some("admin_other_site"), ..signed.page("admin_dashboard", "") };
        return Err(page(state, "admin/message.html", &p, context! {}, StatusCode::FORBIDDEN));
    }
    if parts.method == Method::POST {
        let Ok(bytes) = axum::body::to_bytes(body, super::router::API_BODY_LIMIT).await else {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "Request body too large\n").into_response());
        };
        signed.form = super::public::parse_query(&String::from_utf8_lossy(&bytes));
        let same_origin = super::origin::is_same_origin(&parts.headers, state.forms.public_base_url.as_deref());
        if !same_origin || !session::csrf_ok(&signed.session, signed.field("csrf")) {
            let p = Page { error: Some("admin_csrf"), ..signed.page("admin_dashboard", "") };
            return Err(page(state, "admin/message.html", &p, context! {}, StatusCode::FORBIDDEN));
        }
    }
    Ok(signed)
}

/// A file upload (multipart): the session from the head alone, as the body
/// is a file read by the caller, and the body as multipart when it comes
/// from the site's own origin. The caller checks the token it carries with
/// [`upload_csrf`].
pub(super) async fn signed_upload(
    state: &AppState,
    req: Request,
) -> Result<(Signed, Option<axum::extract::Multipart>), Response> {
    use axum::extract::FromRequest;
    let (parts, body) = req.into_parts();
    let mut head = Request::from_parts(parts.clone(), axum::body::Body::empty());
    *head.method_mut() = Method::GET;
    let s = signed(state, head).await?;
    let same_origin = super::origin::is_same_origin(&parts.headers, state.forms.public_base_url.as_deref());
    let multipart = axum::extract::Multipart::from_request(Request::from_parts(parts, body), &()).await.ok();
    Ok((s, multipart.filter(|_| same_origin)))
}

/// The CSRF check of an upload (the token read from its body): the
/// refusal, if it fails.
pub(super) fn upload_csrf(state: &AppState, s: &Signed, csrf: &str) -> Option<Response> {
    if csrf.is_empty() || !session::csrf_ok(&s.session, Some(csrf)) {
        let p = Page { error: Some("admin_csrf"), ..s.page("admin_dashboard", "") };
        return Some(page(state, "admin/message.html", &p, context! {}, StatusCode::FORBIDDEN));
    }
    None
}

async fn sign_in_form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let lang = ui_lang(req.headers());
    if session::current(&state, req.headers()).await.is_some() {
        return redirect("/admin");
    }
    let note = if req.uri().query() == Some("signed_out=1") { Note::SignedOut } else { Note::None };
    session::sign_in_page(&state, lang, StatusCode::OK, note, "")
}

/// A post of a sign-in step, made before any session exists: the UI
/// language, the client's address and the fields. A cross-site or
/// oversized post is answered here.
struct SignInPost {
    lang: Lang,
    ip: std::net::IpAddr,
    form: Vec<(String, String)>,
}

impl SignInPost {
    async fn read(state: &AppState, req: Request) -> Result<SignInPost, Response> {
        let lang = ui_lang(req.headers());
        let peer = req.extensions().get::<PeerAddr>().map_or(std::net::IpAddr::from([127, 0, 0, 1]), |p| p.0.ip());
        let ip = client_ip(peer, req.headers(), &state.forms.trusted_proxies);
        let same_origin = super::origin::is_same_origin(req.headers(), state.forms.public_base_url.as_deref());
        let Ok(body): Result<Bytes, _> = axum::body::to_bytes(req.into_body(), super::router::BODY_LIMIT).await else {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "Request body too large\n").into_response());
        };
        if !same_origin {
            return Err((StatusCode::FORBIDDEN, "Cross-site sign-in refused\n").into_response());
        }
        Ok(SignInPost { lang, ip, form: super::public::parse_query(&String::from_utf8_lossy(&body)) })
    }

    fn get(&self, name: &str) -> &str {
        self.form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
}

async fn sign_in(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let post = match SignInPost::read(&state, req).await {
        Ok(post) => post,
        Err(res) => return res,
    };
    let (email, password) = (post.get("email"), post.get("password"));
    two_factor::answer(&state, post.lang, session::sign_in(&state, email, password, post.ip).await, email)
}

async fn sign_out(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let headers = req.headers().clone();
    match signed(&state, req).await {
        Ok(_) => session::sign_out(&state, &headers).await,
        Err(res) => res,
    }
}
