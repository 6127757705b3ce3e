//! Turning a cached body into a response: content negotiation, validators, HEAD.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::site::cache::CachedBody;
use crate::site::token_page::TokenBody;

/// Cache policy for pages: short, so edits show within a minute even behind a CDN.
pub const PAGE_CACHE: &str = "public, max-age=60";
/// Cache policy for hashed assets: their name changes with their content.
pub const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// Answers with `body`, honouring `If-None-Match` and `Accept-Encoding`.
pub fn cached(body: &CachedBody, status: StatusCode, req: &HeaderMap, cache_control: &'static str) -> Response {
    let accept = req.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (bytes, encoding, etag) = match (&body.br, &body.gzip) {
        (Some(br), _) if accepts(accept, "br") => (br, Some("br"), &body.etag_br),
        (_, Some(gz)) if accepts(accept, "gzip") => (gz, Some("gzip"), &body.etag_gzip),
        _ => (&body.identity, None, &body.etag),
    };
    let not_modified = status == StatusCode::OK && etag_matches(req, etag);
    // Built by hand with room for every header this response and the
    // security layer add: the builder and a growing map cost more than the
    // rest of a cache hit (measured with callgrind, see BENCHMARKS.md).
    let mut res = Response::new(if not_modified { Body::empty() } else { Body::from(bytes.clone()) });
    *res.status_mut() = if not_modified { StatusCode::NOT_MODIFIED } else { status };
    let h = res.headers_mut();
    h.reserve(16);
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if not_modified {
        return res;
    }
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(body.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    res
}

/// Answers with a form page, `token` in place: gzip when the client takes
/// it, never stored by a cache (the token is for this visitor).
pub fn with_token(body: &TokenBody, token: &str, status: StatusCode, req: &HeaderMap) -> Response {
    let accept = req.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let gzip = accepts(accept, "gzip");
    let bytes = if gzip { body.gzip(token) } else { body.identity(token) };
    let len = bytes.len();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.reserve(16);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(body.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    res
}

/// Whether `If-None-Match` names this ETag (weak comparison, as RFC 9110 asks for it).
pub(super) fn etag_matches(req: &HeaderMap, etag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}

/// Whether `Accept-Encoding` allows `coding` (present and not `q=0`).
fn accepts(header: &str, coding: &str) -> bool {
    header.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case(coding) && name != "*" {
            return false;
        }
        !it.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_negotiated() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(!accepts("identity", "gzip"));
        assert!(accepts("*", "gzip"));
        assert!(accepts("GZIP", "gzip"));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(etag_matches(&h, "\"b\""));
        assert!(etag_matches(&h, "\"a\""));
        assert!(!etag_matches(&h, "\"c\""));
    }
}
