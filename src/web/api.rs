//! The read-only Content API over HTTP: JSON with strong ETags, open CORS
//! for GET, JSON errors. What the answers hold is built in `site::api`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::public::parse_query;
use super::respond::etag_matches;
use super::state::AppState;
use crate::site::api::{self, ApiType, ListQuery, TYPES};

/// `GET /api/v1/`: the types and their URLs.
pub async fn root(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    json_answer(StatusCode::OK, &api::root(&state.index()), &headers)
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    json_answer(StatusCode::OK, &api::openapi(&state.index()), &headers)
}

/// `GET /api/v1/<type>`: a page of items.
pub async fn list(
    State(state): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(name)) = name else { return bad_path(&headers) };
    let Some(t) = api_type(&name) else { return error(StatusCode::NOT_FOUND, &format!("no type `{name}`"), &headers) };
    let params = parse_query(uri.query().unwrap_or(""));
    let index = state.index();
    match ListQuery::parse(t, &index.site.languages, &params) {
        Ok(q) => json_answer(StatusCode::OK, &api::list(&index, t, &q, uri.path()), &headers),
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg, &headers),
    }
}

/// `GET /api/v1/<type>/<key>`: one item.
pub async fn item(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Ok(Path((name, key))) = path else { return bad_path(&headers) };
    let Some(t) = api_type(&name) else { return error(StatusCode::NOT_FOUND, &format!("no type `{name}`"), &headers) };
    let index = state.index();
    let mut lang = None;
    for (k, v) in parse_query(uri.query().unwrap_or("")) {
        match k.as_str() {
            "lang" => match api::parse_lang(&index.site.languages, &v) {
                Ok(l) => lang = Some(l),
                Err(e) => return error(StatusCode::BAD_REQUEST, &e, &headers),
            },
            // Which site: decided before the request got here.
            "site" => {}
            other => return error(StatusCode::BAD_REQUEST, &format!("unknown parameter `{other}`"), &headers),
        }
    }
    match api::item(&index, t, &key, lang) {
        Some(v) => json_answer(StatusCode::OK, &v, &headers),
        None => error(StatusCode::NOT_FOUND, &format!("no {name} item `{key}`"), &headers),
    }
}

/// CORS preflight for any API path.
pub async fn preflight() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("If-None-Match"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    res
}

/// Any other path under `/api/v1/`: a JSON 404 (or the preflight), with
/// CORS, like every other answer of the API.
pub async fn not_found(method: Method, headers: HeaderMap) -> Response {
    if method == Method::OPTIONS {
        return preflight().await;
    }
    error(StatusCode::NOT_FOUND, "no such resource; see /api/v1/ for the types", &headers)
}

/// A method the API does not take (it only reads).
pub async fn method_not_allowed(headers: HeaderMap) -> Response {
    let mut res = error(StatusCode::METHOD_NOT_ALLOWED, "the Content API only reads: GET or HEAD", &headers);
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    res
}

/// A path segment that does not decode (`%FF`).
fn bad_path(headers: &HeaderMap) -> Response {
    error(StatusCode::BAD_REQUEST, "the path is not valid UTF-8 once decoded", headers)
}

fn api_type(name: &str) -> Option<&'static ApiType> {
    TYPES.iter().find(|t| t.name == name)
}

fn error(status: StatusCode, message: &str, headers: &HeaderMap) -> Response {
    json_answer(status, &json!({ "error": message }), headers)
}

/// A JSON answer with a strong ETag over its bytes (304 when the client
/// has them), cacheable for a minute, readable from any origin.
fn json_answer(status: StatusCode, value: &Value, req: &HeaderMap) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    let etag = crate::site::cache::etag(&body);
    let not_modified = status == StatusCode::OK && etag_matches(req, &etag);
    let mut builder = Response::builder()
        .status(if not_modified { StatusCode::NOT_MODIFIED } else { status })
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "public, max-age=60")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag");
    if not_modified {
        return builder.body(Body::empty()).expect("valid response");
    }
    builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
    builder.body(Body::from(body)).expect("valid response")
}
