//! The route table. Layers (limits, timeouts, headers) are attached here and
//! nowhere else.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
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
