//! What an operator watches, in the Prometheus text format on an address of
//! its own (`--metrics-listen`), never on the public port.
//!
//! Code counts events where they happen, through the functions below (one
//! place for every metric's name and labels). Without `--metrics-listen` no
//! recorder is installed and the counting does nothing. What every instance
//! shares (the outbox) and the database pool are read when scraped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::Store;

const REQUESTS: &str = "casefile_http_requests_total";
const LATENCY: &str = "casefile_http_request_duration_seconds";
const PAGE_CACHE: &str = "casefile_page_cache_lookups_total";
const RELOADS: &str = "casefile_snapshot_reloads_total";
const FORM_POSTS: &str = "casefile_form_submissions_total";
const FORM_REFUSALS: &str = "casefile_form_refusals_total";
const MAILS_DONE: &str = "casefile_mails_total";
const OUTBOX: &str = "casefile_outbox_mails";
const OUTBOX_OLDEST: &str = "casefile_outbox_oldest_queued_seconds";
const OUTBOX_READ: &str = "casefile_outbox_read_ok";
const POOL: &str = "casefile_db_connections";
const POOL_MAX: &str = "casefile_db_connections_max";

/// Latency buckets in seconds: a cached page takes well under a
/// millisecond, a form post at least 300 ms (its answer floor).
const LATENCY_BUCKETS: [f64; 13] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Whether a recorder is installed: without one, counting returns at once
/// (the macros would still build each metric's key and labels).
static ENABLED: AtomicBool = AtomicBool::new(false);

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How long a scrape waits for the database before it answers without the
/// outbox (during an outage the rest is worth having).
const SCRAPE_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// One answered request: `route` is a fixed name ([`crate::web::observe`]),
/// never the path, so the number of series stays bounded.
pub fn request(route: &'static str, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    counter!(REQUESTS, "route" => route, "status" => status.to_string()).increment(1);
    histogram!(LATENCY, "route" => route).record(elapsed.as_secs_f64());
}

/// A page looked up in the page cache.
pub fn page_cache(hit: bool) {
    if !enabled() {
        return;
    }
    counter!(PAGE_CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// The content snapshot was reloaded (after an edit here or elsewhere).
pub fn snapshot_reloaded() {
    if !enabled() {
        return;
    }
    counter!(RELOADS).increment(1);
}

/// A form post that was taken (stored, mailed or answered as asked).
pub fn form_accepted(form: &'static str) {
    if !enabled() {
        return;
    }
    counter!(FORM_POSTS, "form" => form).increment(1);
}

/// A form post that was refused, and why: `origin` (another site's form),
/// `rate_limited`, `malformed`, `bot` (the honeypot), `token` (expired or
/// too fast), `invalid` (a field's error), `refused` (another 4xx), `error`
/// (the database failed: a 503 or 500).
pub fn form_refused(form: &'static str, reason: &'static str) {
    if !enabled() {
        return;
    }
    counter!(FORM_REFUSALS, "form" => form, "reason" => reason).increment(1);
}

/// A mail this process's worker finished with: `sent`, `retry` or `failed`.
pub fn mail(outcome: &'static str) {
    if !enabled() {
        return;
    }
    counter!(MAILS_DONE, "outcome" => outcome).increment(1);
}

/// Installs the recorder, binds `addr` and serves `GET /metrics` there in
/// the background. Returns the address bound (`addr` may name port 0).
pub async fn serve(addr: SocketAddr, store: Store) -> Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &LATENCY_BUCKETS)?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    ENABLED.store(true, Ordering::Relaxed);
    describe();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr} (--metrics-listen)"))?;
    let bound = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(render)).with_state(Arc::new(Scrape { handle, store }));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

struct Scrape {
    handle: PrometheusHandle,
    store: Store,
}

async fn render(State(scrape): State<Arc<Scrape>>) -> Response {
    scrape.read_shared_state().await;
    scrape.handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], scrape.handle.render()).into_response()
}

impl Scrape {
    /// Sets the gauges that describe the database: the pool now, and the
    /// outbox as every instance sees it.
    async fn read_shared_state(&self) {
        let pool = self.store.pool_use();
        gauge!(POOL, "state" => "in_use").set(f64::from(pool.size - pool.idle));
        gauge!(POOL, "state" => "idle").set(f64::from(pool.idle));
        gauge!(POOL_MAX).set(f64::from(pool.max));
        let outbox = async {
            Ok::<_, crate::store::Error>((self.store.outbox_counts().await?, self.store.oldest_queued_mail().await?))
        };
        match tokio::time::timeout(SCRAPE_DB_TIMEOUT, outbox).await {
            Ok(Ok((counts, oldest))) => {
                for (state, n) in [
                    ("queued", counts.pending),
                    ("sending", counts.sending),
                    ("sent", counts.sent),
                    ("failed", counts.failed),
                ] {
                    gauge!(OUTBOX, "state" => state).set(n as f64);
                }
                let age = oldest.map_or(0, |created| (crate::store::now() - created).max(0));
                gauge!(OUTBOX_OLDEST).set(age as f64);
                gauge!(OUTBOX_READ).set(1.0);
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %crate::error_chain(&e), "metrics: the outbox could not be read"),
            Err(_) => tracing::warn!("metrics: the outbox could not be read within {SCRAPE_DB_TIMEOUT:?}"),
        }
        // The outbox gauges keep their last values: say they are stale.
        gauge!(OUTBOX_READ).set(0.0);
    }
}

fn describe() {
    describe_counter!(REQUESTS, "HTTP requests answered, by route and status");
    describe_histogram!(LATENCY, metrics::Unit::Seconds, "Time to answer an HTTP request, by route");
    describe_counter!(PAGE_CACHE, "Page cache lookups, by result (hit or miss)");
    describe_counter!(RELOADS, "Content snapshot reloads after an edit");
    describe_counter!(FORM_POSTS, "Form posts taken, by form");
    describe_counter!(FORM_REFUSALS, "Form posts refused, by form and reason");
    describe_counter!(MAILS_DONE, "Mails this process's worker handled, by outcome (sent, retry, failed)");
    describe_gauge!(OUTBOX, "Mails in the outbox shared by all instances, by state");
    describe_gauge!(OUTBOX_OLDEST, metrics::Unit::Seconds, "Age of the oldest mail waiting to be sent (0: none)");
    describe_gauge!(
        OUTBOX_READ,
        "1 if this scrape read the outbox, 0 if the database did not answer (the outbox gauges are stale)"
    );
    describe_gauge!(POOL, "Database connections of this process, by state (in_use, idle)");
    describe_gauge!(POOL_MAX, "The most database connections this process opens");
}
