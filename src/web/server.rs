//! The accept loop: HTTP/1.1 with explicit limits, and graceful shutdown.
//!
//! We drive hyper ourselves instead of `axum::serve` to set a header-read
//! timeout (slowloris) and a header size limit explicitly, to bound what
//! clients that hold connections open can take (a write timeout, a cap per
//! address and in all), and to drain in-flight requests on SIGINT/SIGTERM.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use parking_lot::Mutex;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use super::abuse::PeerAddr;
use crate::config::ConnectionLimits;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head we buffer; larger ones get 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a failing `accept` is logged at most (out of file descriptors,
/// it fails thousands of times a minute).
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// open requests to finish. Connections beyond `limits.total` wait in the
/// kernel's queue; beyond `limits.per_address` from one address (trusted
/// proxies aside, which carry everyone's requests) they are closed at once.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
    limits: ConnectionLimits,
    trusted_proxies: Vec<IpAddr>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let total = limits.total.unwrap_or_else(default_connection_cap);
    tracing::debug!(total, per_address = limits.per_address, "connection limits");
    let slots = Arc::new(Semaphore::new(total));
    let per_address = Arc::new(PerAddress { max: limits.per_address, open: Mutex::new(HashMap::new()) });
    let mut accept_errors = ErrorLog::default();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                accept_errors.log(&e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let counted = if trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            match PerAddress::enter(&per_address, super::abuse::limit_key(peer.ip())) {
                Some(counted) => Some(counted),
                // Over the cap: closed at once (dropping the stream).
                None => continue,
            }
        };
        let _ = stream.set_nodelay(true);
        // A response the client does not take within the write timeout
        // (it pipelines requests and never reads) ends the connection.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        // Handlers learn the peer address from a request extension.
        let service = TowerToHyperService::new(app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(PeerAddr(peer));
            req
        }));
        let conn = builder.serve_connection(TokioIo::new(Box::pin(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop((slot, counted));
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing open requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all requests finished"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("requests still open after {DRAIN_TIMEOUT:?}; stopping anyway"),
    }
}

/// Open connections per client address (an IPv6 /64 counts as one, as in
/// the rate limits: one household or server holds a whole /64).
struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of an address; leaving (drop) gives its place back.
struct Counted {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    /// Counts a new connection from `ip`, or refuses it when `ip` has the
    /// most it may have.
    fn enter(table: &Arc<PerAddress>, ip: IpAddr) -> Option<Counted> {
        let mut open = table.open.lock();
        let n = open.entry(ip).or_insert(0);
        if *n >= table.max {
            return None;
        }
        *n += 1;
        Some(Counted { table: Arc::clone(table), ip })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.table.open.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Logs accept errors at most once a minute, with how many were not logged.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
    unlogged: u64,
}

impl ErrorLog {
    fn log(&mut self, e: &std::io::Error) {
        if self.last.is_some_and(|at| at.elapsed() < ACCEPT_ERROR_LOG_EVERY) {
            self.unlogged += 1;
            return;
        }
        tracing::warn!(error = %e, more_since_last = self.unlogged, "accept failed (logged once a minute at most)");
        self.last = Some(Instant::now());
        self.unlogged = 0;
    }
}

/// The most connections to hold open when none is configured: the open-file
/// limit less a tenth (at least 64) for the database, the search index,
/// documents and SMTP. The soft limit is raised to the hard one first.
fn default_connection_cap() -> usize {
    let limit = raise_open_file_limit();
    limit.saturating_sub((limit / 10).max(64)).max(16)
}

/// Raises the soft limit on open files to the hard limit; returns the
/// soft limit in force.
#[cfg(unix)]
fn raise_open_file_limit() -> usize {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX).min(1 << 20)
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> usize {
    1024
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: call it before announcing
/// that the server listens, so a signal sent right after is never lost to
/// the default action (which would end the process without draining).
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(term.take()) => {},
            () = wait(int.take()) => {},
        }
    }
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_logged_once_a_minute() {
        let mut log = ErrorLog::default();
        let e = std::io::Error::from_raw_os_error(24); // EMFILE
        for _ in 0..1000 {
            log.log(&e);
        }
        assert_eq!(log.unlogged, 999, "one line for a thousand failures within the minute");
        log.last = Some(Instant::now() - ACCEPT_ERROR_LOG_EVERY);
        log.log(&e);
        assert_eq!(log.unlogged, 0, "a minute later, one line more (saying how many were not logged)");
    }

    #[test]
    fn each_address_has_its_share_and_gets_it_back() {
        let table = Arc::new(PerAddress { max: 2, open: Mutex::new(HashMap::new()) });
        let (a, b): (IpAddr, IpAddr) = ([192, 0, 2, 1].into(), [192, 0, 2, 2].into());
        let first = PerAddress::enter(&table, a).unwrap();
        let _second = PerAddress::enter(&table, a).unwrap();
        assert!(PerAddress::enter(&table, a).is_none(), "a third from one address is refused");
        assert!(PerAddress::enter(&table, b).is_some(), "another address has its own share");
        drop(first);
        assert!(PerAddress::enter(&table, a).is_some(), "a closed connection gives its place back");
    }
}
