//! Every request: an id on each of its log lines (and in `X-Request-Id`),
//! its count and latency in the metrics.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The outermost layer: times the request and names it.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id();
    let route = route_of(req.uri().path());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    crate::metrics::request(route, res.status().as_u16(), elapsed);
    span.in_scope(|| {
        tracing::debug!(%method, route, status = res.status().as_u16(), us = elapsed.as_micros() as u64, "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", value);
    }
    res
}

/// A request id unique across instances and restarts: a random prefix
/// chosen at start and a counter (cheaper than randomness per request).
fn request_id() -> String {
    static PREFIX: LazyLock<u32> = LazyLock::new(|| {
        let mut bytes = [0u8; 4];
        // Without randomness, ids only repeat across restarts.
        let _ = getrandom::fill(&mut bytes);
        u32::from_le_bytes(bytes)
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{:08x}{:08x}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The route a path belongs to, as a metrics label: a fixed name, never
/// the path itself, so visitors cannot grow the number of series.
pub fn route_of(path: &str) -> &'static str {
    const ROUTES: [(&str, &str); 8] = [
        ("/api/admin/v1", "admin_api"),
        ("/api/v1", "content_api"),
        ("/admin", "admin"),
        ("/assets", "assets"),
        ("/files", "files"),
        ("/review", "review"),
        ("/healthz", "healthz"),
        ("/readyz", "readyz"),
    ];
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    ROUTES.iter().find(|(prefix, _)| under(prefix)).map_or("page", |(_, route)| route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_named_by_whole_segments() {
        assert_eq!(route_of("/api/admin/v1/posts/x"), "admin_api");
        assert_eq!(route_of("/api/v1"), "content_api");
        assert_eq!(route_of("/admin"), "admin");
        assert_eq!(route_of("/administration"), "page", "a page whose path starts like a route");
        assert_eq!(route_of("/de/fall"), "page");
        assert_eq!(route_of("/assets/site.css"), "assets");
    }

    #[test]
    fn request_ids_differ() {
        assert_ne!(request_id(), request_id());
        assert_eq!(request_id().len(), 16);
    }
}
