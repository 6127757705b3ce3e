//! Every request: an id on each of its log lines (and in `X-Request-Id`),
//! its count and latency in the metrics.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

/// The outermost layer: times each request and names it. A tower layer of
/// its own rather than `axum::middleware::from_fn`, which boxes the inner
/// service and future of every request: this runs on every cache hit.
#[derive(Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe(inner)
    }
}

/// The service [`ObserveLayer`] wraps around the app.
#[derive(Clone)]
pub struct Observe<S>(S);

impl<S, B> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let id = RequestId::next();
        let method = req.method().clone();
        let route = match route_of(req.uri().path()) {
            // Form posts wait for their answer floor: apart from the pages.
            "page" if method == Method::POST => "form",
            route => route,
        };
        let span = tracing::info_span!("request", request_id = %id);
        let inner = span.in_scope(|| self.0.call(req)).instrument(span);
        Observed { inner, started, id, route, method }
    }
}

pin_project_lite::pin_project! {
    /// The answer under way, and what is noted when it is ready.
    pub struct Observed<F> {
        #[pin]
        inner: Instrumented<F>,
        started: Instant,
        id: RequestId,
        route: &'static str,
        method: Method,
    }
}

impl<F, E> Future for Observed<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut res = match this.inner.as_mut().poll(cx) {
            Poll::Ready(Ok(res)) => res,
            other => return other,
        };
        let (elapsed, status) = (this.started.elapsed(), res.status().as_u16());
        crate::metrics::request(this.route, status, elapsed);
        let method = &*this.method;
        this.inner.span().in_scope(|| {
            tracing::debug!(%method, route = *this.route, status, us = elapsed.as_micros() as u64, "answered");
        });
        if let Ok(value) = HeaderValue::from_bytes(&this.id.hex()) {
            res.headers_mut().insert("x-request-id", value);
        }
        Poll::Ready(Ok(res))
    }
}

/// A request id unique across instances and restarts: a random start
/// chosen once per process, counted up (cheaper than randomness per
/// request). Shown as 16 hex digits.
#[derive(Clone, Copy)]
struct RequestId(u64);

impl RequestId {
    fn next() -> RequestId {
        static START: LazyLock<u64> = LazyLock::new(|| {
            let mut bytes = [0u8; 8];
            // Without randomness, ids only repeat across restarts.
            let _ = getrandom::fill(&mut bytes);
            u64::from_le_bytes(bytes)
        });
        static NEXT: AtomicU64 = AtomicU64::new(0);
        RequestId(START.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    fn hex(self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        std::array::from_fn(|i| DIGITS[((self.0 >> (60 - 4 * i)) & 0xf) as usize])
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
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
    fn request_ids_differ_and_read_the_same_in_logs_and_headers() {
        let (a, b) = (RequestId::next(), RequestId::next());
        assert_ne!(a.hex(), b.hex());
        assert_eq!(a.hex().as_slice(), a.to_string().as_bytes());
        assert_eq!(RequestId(0xab).to_string(), "00000000000000ab");
    }
}
