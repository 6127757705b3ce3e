//! Security headers on every response.
//!
//! The Content-Security-Policy allows no inline script and no third-party
//! origin except the video players a visitor loads by clicking a
//! placeholder (`frame-src`). Public pages set no cookie, so there is no
//! cookie policy to state here.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy. `frame-src` lists the players `static/media.js` may embed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
connect-src 'self'; media-src 'self'; manifest-src 'self'; \
frame-src https://www.youtube-nocookie.com https://player.vimeo.com; \
form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The headers and their values, in one list so tests can check them all.
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The security headers, parsed once: building them per response cost more
/// than the rest of serving a cached page (measured with callgrind).
static PARSED: std::sync::LazyLock<Vec<(HeaderName, HeaderValue)>> = std::sync::LazyLock::new(|| {
    SECURITY_HEADERS.iter().map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v))).collect()
});

/// Adds the security headers (a middleware for `map_response`).
pub async fn add_security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.reserve(SECURITY_HEADERS.len() + 1);
    for (name, value) in PARSED.iter() {
        // A handler's own, stricter policy (a sandbox for files) stays.
        if name == header::CONTENT_SECURITY_POLICY && h.contains_key(name) {
            continue;
        }
        h.insert(name.clone(), value.clone());
    }
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}

/// HTTP Strict Transport Security, sent when the site is served over HTTPS
/// (`base_url` starts with `https://`): browsers then never try plain HTTP
/// for two years. Without `includeSubDomains`, as other sites of the
/// campaign's domain may not speak HTTPS.
pub const HSTS: &str = "max-age=63072000";

/// Adds [`HSTS`] (a middleware for `map_response`, layered only on HTTPS
/// sites).
pub async fn add_hsts(mut res: Response) -> Response {
    res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    res
}

/// Largest total size of request header lines we accept.
const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Longest request target we accept.
const MAX_URI_BYTES: usize = 8 * 1024;

/// Refuses oversized heads with 431 or 414. hyper bounds what it buffers
/// while a head is incomplete; a head that arrives whole in one read is
/// checked here.
pub async fn limit_request_head(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path().len() + req.uri().query().map_or(0, str::len);
    if uri_len > MAX_URI_BYTES {
        return (StatusCode::URI_TOO_LONG, "Request URI too long\n").into_response();
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    if header_bytes > MAX_HEADER_BYTES {
        return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "Request headers too large\n").into_response();
    }
    next.run(req).await
}
