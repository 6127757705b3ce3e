//! The route table. Layers (limits, timeouts, headers) are attached here and
//! nowhere else.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::headers::{add_hsts, add_security_headers, limit_request_head};
use super::state::AppState;
use super::{admin_api, api, public};

/// The largest request body: the biggest form (a contact message of 5,000
/// characters, up to 4 bytes each, percent-encoded) fits well below it.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The largest Admin API body: an item with a long text in two languages.
pub const API_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// A request that takes longer than this is answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the application. `main` only binds and serves it; tests call it too.
pub fn app(state: Arc<AppState>) -> Router {
    let others: Vec<Arc<AppState>> = state.others().to_vec();
    let unknown_404 = state.unknown_host_404;
    // The first site's own names: its public address and where it listens.
    let base_host = state.base_url.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
    let first_hosts: Vec<String> =
        std::iter::once(base_host).chain(state.forms.local_hosts.iter().map(String::as_str)).map(host_name).collect();
    let first_key = state.index().site.key.clone();
    let first = site_app(state);
    if others.is_empty() && !unknown_404 {
        return first;
    }
    // Each request goes to the site its host names; any other host to the
    // first site (or a 404, if so configured). The APIs also take the site
    // from a `site` parameter, so one address serves every site's content.
    // The first site last: another site's host names win over its address.
    let sites: Arc<Vec<(String, Vec<String>, Router)>> = Arc::new(
        others
            .into_iter()
            .map(|s| (s.index().site.key.clone(), s.hosts.clone(), site_app(s)))
            .chain(std::iter::once((first_key, first_hosts, first)))
            .collect(),
    );
    Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
        let router = match api_site(&req) {
            Some(key) => sites.iter().find(|(k, _, _)| *k == key).map(|(_, _, r)| r.clone()).ok_or(key),
            None => {
                let host = request_host(&req);
                match sites.iter().find(|(_, hosts, _)| hosts.iter().any(|h| h.eq_ignore_ascii_case(host))) {
                    Some((_, _, router)) => Ok(router.clone()),
                    None if unknown_404 => Err(String::new()),
                    None => Ok(sites[sites.len() - 1].2.clone()),
                }
            }
        };
        async move {
            match router {
                Ok(router) => router.oneshot(req).await,
                Err(key) if !key.is_empty() => {
                    let body = serde_json::json!({ "error": format!("there is no site `{key}`") }).to_string();
                    let res = (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], body);
                    Ok(add_security_headers(res.into_response()).await)
                }
                Err(_) => {
                    let res = (StatusCode::NOT_FOUND, "No site answers on this host name.\n").into_response();
                    Ok(add_security_headers(res).await)
                }
            }
        }
    }))
}

/// The site an API request names with `?site=KEY`, if any.
fn api_site(req: &axum::extract::Request) -> Option<String> {
    let path = req.uri().path();
    if !(path.starts_with("/api/v1") || path.starts_with("/api/admin/v1")) {
        return None;
    }
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "site").map(|(_, v)| v.into_owned())
}

/// The host a request names, without a port (compared ignoring case).
fn request_host(req: &axum::extract::Request) -> &str {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().host());
    without_port(host.unwrap_or(""))
}

fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// `Film.Example:443` as `film.example`.
fn host_name(host: &str) -> String {
    without_port(host).to_ascii_lowercase()
}

/// The routes of one site.
fn site_app(state: Arc<AppState>) -> Router {
    let admin_api = Router::new()
        .route("/openapi.json", get(admin_api::openapi))
        .route("/users", get(admin_api::users))
        .route("/{kind}", get(admin_api::list).post(admin_api::create))
        .route("/{kind}/{key}", get(admin_api::get).put(admin_api::replace).delete(admin_api::delete))
        .route("/{kind}/{key}/revisions", get(admin_api::revisions))
        .route("/{kind}/{key}/revisions/{number}/restore", post(admin_api::restore))
        .fallback(admin_api::not_found)
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT));
    // Every answer under /api/v1/ is JSON with CORS, errors included.
    let content_api = Router::new()
        .route("/", get(api::root).options(api::preflight))
        .route("/openapi.json", get(api::openapi).options(api::preflight))
        .route("/{kind}", get(api::list).options(api::preflight))
        .route("/{kind}/{key}", get(api::item).options(api::preflight))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed);
    let public = Router::new()
        .route("/healthz", get(public::healthz))
        .route("/readyz", get(public::readyz))
        .route("/api/v1", get(api::root).options(api::preflight))
        .nest("/api/v1/", content_api)
        .route("/assets/{*file}", get(public::asset))
        .route("/files/{name}", get(public::file))
        .route("/media/{key}/{name}", get(public::media))
        .route("/review/{token}", get(super::admin::review_page))
        .fallback(public::page)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let https = state.base_url.starts_with("https://");
    let app = Router::new()
        .nest("/api/admin/v1", admin_api)
        .nest("/admin", super::admin::routes())
        .merge(public)
        .with_state(state)
        .layer(axum::middleware::from_fn(limit_request_head))
        .layer(axum::middleware::map_response(add_security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
    let app = if https { app.layer(axum::middleware::map_response(add_hsts)) } else { app };
    app.layer(super::observe::ObserveLayer)
}
