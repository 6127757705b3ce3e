//! Security headers on every response.
//!
//! The Content-Security-Policy allows no inline script and no third-party
//! origin except the video players a visitor loads by clicking a
//! placeholder (`frame-src`). Public pages set no cookie, so there is no
//! cookie policy to state here.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

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

/// Adds the security headers (a middleware for `map_response`).
pub async fn add_security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}
