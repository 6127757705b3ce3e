//! The one place that knows which database engine runs underneath: the
//! connection types, opening a pool with its pragmas, and how a write
//! transaction begins. Everything else in `store` writes portable SQL
//! (`$n` placeholders, `RETURNING`, `ON CONFLICT`) against these aliases, so
//! a PostgreSQL backend is added here, beside SQLite.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The database engine.
pub(crate) type Db = sqlx::Sqlite;
/// A pool of connections.
pub(crate) type Pool = sqlx::Pool<Db>;
/// One connection (what a transaction dereferences to).
pub(crate) type Conn = <Db as sqlx::Database>::Connection;
/// A transaction.
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// Opens an SQLite file with the pragmas Casefile relies on, and migrates it.
pub(crate) async fn open_sqlite(url: &str) -> Result<Pool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL: readers never block the writer; a committed transaction
        // survives a process crash at any `synchronous` level. FULL makes
        // it survive power loss too, which form submissions need.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // Erased personal data is overwritten, not left in free pages.
        .pragma("secure_delete", "on")
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-8000");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
        .connect_with(options)
        .await?;
    let migrator = sqlx::migrate!("./migrations/sqlite");
    copy_before_migrating(&pool, &migrator, url).await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

/// Before migrations change the schema of a database that has content, a
/// copy of it as it was: `casefile.db.before-migration-<N>` beside it, for
/// going back to the older Casefile if the new one disappoints.
async fn copy_before_migrating(pool: &Pool, migrator: &sqlx::migrate::Migrator, url: &str) -> Result<(), sqlx::Error> {
    let Location::File(path) = location(url) else { return Ok(()) };
    let applied: Vec<i64> = match sqlx::query_scalar("SELECT version FROM _sqlx_migrations").fetch_all(pool).await {
        Ok(v) => v,
        // A new database: nothing to keep.
        Err(_) => return Ok(()),
    };
    if applied.is_empty() {
        return Ok(());
    }
    let Some(next) = migrator.iter().map(|m| m.version).find(|v| !applied.contains(v)) else { return Ok(()) };
    let dest = std::path::PathBuf::from(format!("{}.before-migration-{next}", path.display()));
    if !dest.exists() {
        sqlx::query("VACUUM INTO $1").bind(dest.to_string_lossy()).execute(pool).await?;
        tracing::info!(copy = %dest.display(), "kept a copy of the database before upgrading its schema");
    }
    Ok(())
}

/// Where a database URL keeps its data.
pub(crate) enum Location {
    /// An SQLite file.
    File(std::path::PathBuf),
    /// An SQLite database in memory, gone at exit.
    Memory,
    /// Another engine (a server).
    Server,
}

/// Where `url` keeps its data.
pub(crate) fn location(url: &str) -> Location {
    let Some(rest) = url.strip_prefix("sqlite:") else { return Location::Server };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (db, params) = rest.split_once('?').unwrap_or((rest, ""));
    if db == ":memory:" || params.split('&').any(|p| p == "mode=memory") {
        return Location::Memory;
    }
    match SqliteConnectOptions::from_str(url) {
        Ok(options) => Location::File(options.get_filename().to_owned()),
        Err(_) => Location::File(db.into()),
    }
}

/// Opens an existing SQLite file as it is: no creation, no migration (a
/// backup or a check must not change what it copies).
async fn connect_as_is(url: &str) -> Result<sqlx::SqliteConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    SqliteConnectOptions::from_str(url)?.create_if_missing(false).busy_timeout(Duration::from_secs(5)).connect().await
}

/// Writes a consistent copy of the database at `url` to `dest` while other
/// processes may be writing (`VACUUM INTO` reads in one transaction).
pub(crate) async fn snapshot_into(url: &str, dest: &std::path::Path) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = connect_as_is(url).await?;
    sqlx::query("VACUUM INTO $1").bind(dest.to_string_lossy()).execute(&mut conn).await?;
    conn.close().await
}

/// SQLite's own check of a database file: `Ok` when it says "ok".
pub(crate) async fn check_integrity(path: &std::path::Path) -> Result<Result<(), String>, sqlx::Error> {
    use sqlx::Connection;
    let url = format!("sqlite:{}?mode=ro", path.display());
    let mut conn = connect_as_is(&url).await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(if verdict == "ok" { Ok(()) } else { Err(verdict) })
}

/// Whether a pooled connection may be handed out again. When a COMMIT
/// fails (a full disk), SQLite may roll the transaction back by itself;
/// sqlx's ROLLBACK on drop then fails too, and the connection stays counted
/// as inside a transaction, refusing every later `BEGIN` ("attempted to call
/// begin_with at non-zero transaction depth"). Such a connection is closed
/// and replaced by a fresh one.
fn usable(conn: &Conn) -> bool {
    use sqlx::Connection;
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a failed transaction");
        return false;
    }
    true
}

/// A write transaction that takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first and writes later
/// fails with `SQLITE_BUSY_SNAPSHOT` when another writer got in between,
/// which the busy timeout does not retry.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// A read transaction: every statement in it sees the same committed state
/// (in WAL mode, the snapshot taken at its first read).
pub(crate) async fn begin_read(pool: &Pool) -> Result<Tx, sqlx::Error> {
    pool.begin().await
}

/// Makes deleted rows unrecoverable from the files: `secure_delete`
/// zeroes them in the database file, but the write-ahead log still holds
/// the pages as they were until a checkpoint copies it back and truncates
/// it. Waits (within the busy timeout) for readers of older snapshots.
pub(crate) async fn forget_deleted(pool: &Pool) {
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await {
        Ok((0, _, _)) => {}
        // A reader of an older snapshot held it up; the hourly purge tries again.
        Ok(_) => {
            tracing::warn!("the write-ahead log could not be emptied after deleting data; retrying within the hour")
        }
        // The deletion is committed either way: report it, do not fail it.
        Err(e) => tracing::warn!(error = %e, "emptying the write-ahead log after deleting data failed"),
    }
}

/// Whether an error means "the database cannot take this now" (busy,
/// locked, or its disk full): worth a retry, answered with 503, never a bug.
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code();
            // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_FULL (13) and
            // their extended codes.
            code.as_deref().and_then(|c| c.parse::<i64>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6 | 13))
        }
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}
