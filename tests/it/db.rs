//! The database a test runs on. Without `CASEFILE_TEST_POSTGRES` it is the
//! SQLite file in the test's data folder, as a user gets it. With it (a
//! PostgreSQL server URL, `postgres://postgres@127.0.0.1:5432`), every data
//! folder a test uses gets its own throwaway database on that server,
//! created on first use and dropped when the test's server or app is
//! dropped; databases left by tests that end otherwise (and by earlier runs
//! whose process is gone) are dropped when the next run starts.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use sqlx::Connection;

/// Databases this process made: data folder → database name.
static MADE: LazyLock<Mutex<HashMap<PathBuf, String>>> = LazyLock::new(|| {
    if let Some(server) = postgres_server() {
        sweep(&server);
    }
    Mutex::new(HashMap::new())
});

thread_local! {
    /// Set by a test about SQLite itself (its file, its lock, its backup).
    static SQLITE_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the calling test on SQLite whichever engine the suite runs on:
/// for tests of what only the SQLite file has (its online backup, its
/// single-process lock, a full disk under it). Call it first.
pub fn sqlite_only() {
    SQLITE_ONLY.set(true);
}

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("CASEFILE_TEST_POSTGRES").ok().filter(|s| !s.trim().is_empty())
}

/// The database URL for the data folder `data`: a PostgreSQL database of
/// its own when the suite runs on PostgreSQL, otherwise `None` (Casefile's
/// default, `sqlite:<data>/casefile.db`).
pub fn url_for(data: &Path) -> Option<String> {
    let server = postgres_server()?;
    if SQLITE_ONLY.get() {
        return None;
    }
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let name = match made.get(data) {
        Some(name) => name.clone(),
        None => {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let name = format!("casefile_t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            run(&server, &format!("CREATE DATABASE {name}"));
            made.insert(data.to_owned(), name.clone());
            name
        }
    };
    Some(format!("{}/{name}", server.trim_end_matches('/')))
}

/// The URL a test opens the store of `data` with, whichever engine runs.
pub fn store_url(data: &Path) -> String {
    url_for(data).unwrap_or_else(|| format!("sqlite:{}", data.join("casefile.db").display()))
}

/// A pool on the database of `data`, whichever engine it is.
pub async fn pool(data: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&store_url(data)).await.expect("the test database opens")
}

/// Points a `casefile` command at the database of the data folder its
/// `--data` names (call it after the arguments are given).
pub fn point(cmd: &mut Command) {
    let mut args = cmd.get_args();
    let data = args.by_ref().find(|a| *a == "--data").and_then(|_| args.next()).map(PathBuf::from);
    match data.and_then(|d| url_for(&d)) {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
}

/// Drops the database of `data`, if this process made one.
pub fn release(data: &Path) {
    let Some(server) = postgres_server() else { return };
    let name = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(data);
    if let Some(name) = name {
        run(&server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// Drops the databases of test processes that are gone.
fn sweep(server: &str) {
    let names = query(server, "SELECT datname FROM pg_database WHERE datname LIKE 'casefile\\_t\\_%'");
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists()) {
            run(server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs one statement on the server's `postgres` database, on a thread of
/// its own (callers may be inside a runtime, or in `Drop`).
fn run(server: &str, sql: &str) {
    let (server, sql) = (server.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        block_on(async move {
            let mut conn = connect(&server).await;
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("`{sql}` on the test PostgreSQL failed: {e}"));
        })
    })
    .join()
    .expect("the database statement's thread")
}

fn query(server: &str, sql: &'static str) -> Vec<String> {
    let server = server.to_owned();
    std::thread::spawn(move || {
        block_on(async move { sqlx::query_scalar(sql).fetch_all(&mut connect(&server).await).await.unwrap() })
    })
    .join()
    .expect("the database query's thread")
}

async fn connect(server: &str) -> sqlx::PgConnection {
    let url = format!("{}/postgres", server.trim_end_matches('/'));
    sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("CASEFILE_TEST_POSTGRES is set, but its server cannot be reached at {server}: {e}"))
}

fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}
