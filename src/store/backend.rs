//! The one place that knows which database engine runs underneath: opening
//! a pool with its settings and migrations, how transactions begin, and how
//! errors are classified. Everything else in `store` writes portable SQL
//! (`$n` placeholders, `RETURNING`, `ON CONFLICT`, `TRUE`/`FALSE`, integer
//! unix times) against sqlx's `Any` driver, which picks SQLite or
//! PostgreSQL from the URL at run time.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;

/// The database engine, chosen at run time.
pub(crate) type Db = sqlx::Any;
/// A pool of connections.
pub(crate) type Pool = sqlx::AnyPool;
/// One connection (what a transaction dereferences to).
pub(crate) type Conn = <Db as sqlx::Database>::Connection;
/// A transaction.
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// Which engine a URL or a pool speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names, if Casefile knows it.
    pub fn of_url(url: &str) -> Option<Engine> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            _ => None,
        }
    }

    /// The engine behind a pool.
    pub(crate) fn of(pool: &Pool) -> Engine {
        Engine::of_url(pool.connect_options().database_url.as_str()).unwrap_or(Engine::Sqlite)
    }

    /// The engine behind a connection (or a transaction).
    pub(crate) fn of_conn(conn: &Conn) -> Engine {
        if conn.backend_name() == "PostgreSQL" { Engine::Postgres } else { Engine::Sqlite }
    }
}

/// How a pool is sized and how long one statement may run.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Connections at most; `None` chooses per engine (4 for SQLite, whose
    /// writers take turns anyway; 10 for PostgreSQL).
    pub max_connections: Option<u32>,
    /// A statement running longer is cancelled by PostgreSQL (SQLite has no
    /// such limit; its busy timeout bounds waiting for the write lock).
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: None, statement_timeout: Duration::from_secs(30) }
    }
}

/// Opens the database at `url` (creating an SQLite file if needed) and
/// migrates it.
pub(crate) async fn open(url: &str, settings: &PoolSettings) -> Result<Pool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    match Engine::of_url(url) {
        Some(Engine::Postgres) => open_postgres(url, settings).await,
        _ => open_sqlite(url, settings).await,
    }
}

/// SQLite with the pragmas Casefile relies on, set on every connection.
async fn open_sqlite(url: &str, settings: &PoolSettings) -> Result<Pool, sqlx::Error> {
    // Create the file on first use (an SQLite URL opens read-write only).
    let url = if url.contains("mode=") {
        url.to_owned()
    } else {
        format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
    };
    // Through the `Any` driver each connection to `:memory:` would be a
    // database of its own: one connection keeps one database.
    let most = match location(&url) {
        Location::Memory => 1,
        _ => settings.max_connections.unwrap_or(4),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(most)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL: readers never block the writer; a committed
                // transaction survives a process crash at any `synchronous`
                // level. FULL makes it survive power loss too, which form
                // submissions need. `secure_delete`: erased personal data is
                // overwritten, not left in free pages.
                for pragma in SQLITE_PRAGMAS {
                    sqlx::query(*pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
        .connect(&url)
        .await?;
    let migrator = sqlx::migrate!("./migrations/sqlite");
    copy_before_migrating(&pool, &migrator, &url).await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -8000",
];

/// PostgreSQL, with a statement timeout on every connection. TLS follows
/// the URL's `sslmode`.
async fn open_postgres(url: &str, settings: &PoolSettings) -> Result<Pool, sqlx::Error> {
    let timeout_ms = settings.statement_timeout.as_millis().min(i32::MAX as u128);
    let pool = AnyPoolOptions::new()
        .max_connections(settings.max_connections.unwrap_or(10))
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let set = format!("SET statement_timeout = {timeout_ms}");
                sqlx::query(sqlx::AssertSqlSafe(set)).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
        .connect(url)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
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
        // Written under another name and synced, then renamed: a copy cut
        // short (a kill, a full disk) is never taken for a whole one.
        let partial = std::path::PathBuf::from(format!("{}.partial", dest.display()));
        let _ = std::fs::remove_file(&partial);
        sqlx::query("VACUUM INTO $1").bind(partial.to_string_lossy().into_owned()).execute(pool).await?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&partial, &dest))
            .and_then(|()| std::fs::File::open(dest.parent().unwrap_or(std::path::Path::new("."))))
            .and_then(|folder| folder.sync_all())
            .map_err(sqlx::Error::Io)?;
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

/// A write transaction. SQLite: `BEGIN IMMEDIATE` takes the write lock at
/// once (a deferred transaction that reads first and writes later fails
/// with `SQLITE_BUSY_SNAPSHOT` when another writer got in between, which
/// the busy timeout does not retry). PostgreSQL: one transaction-scoped
/// advisory lock makes these writers take turns in the same way, across
/// every instance on the database, so the store's read-then-write steps
/// (the content version, uniqueness of names) behave as on SQLite. Form
/// posts, whose steps concern one address, use [`begin_write_for`].
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx, sqlx::Error> {
    match Engine::of(pool) {
        Engine::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Engine::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
            Ok(tx)
        }
    }
}

/// The advisory lock key of every write but form posts ("casefile" in ASCII).
const WRITE_LOCK: i64 = 0x6361_7365_6669_6c65;

/// A write transaction whose read-then-write steps concern one address
/// only (a sign-up, a signature, a message, a data request: the throttle
/// and the upsert are per address). On PostgreSQL it takes a lock for that
/// address instead of the one for all writes, so posts from different
/// people commit side by side across instances; posts for one address
/// still take turns. (Two-key advisory locks are a key space apart from
/// the one-key `WRITE_LOCK`.) SQLite: as [`begin_write`].
pub(crate) async fn begin_write_for(pool: &Pool, address: &str) -> Result<Tx, sqlx::Error> {
    if Engine::of(pool) == Engine::Sqlite {
        return begin_write(pool).await;
    }
    let mut tx = pool.begin().await?;
    lock_address(&mut tx, address).await?;
    Ok(tx)
}

/// Inside a write transaction: waits for the lock of one address, which
/// [`begin_write_for`] takes on PostgreSQL (a write under the one lock for
/// all that learns an address as it goes, such as a confirmation, takes it
/// too before it changes that address's rows). Returns whether a lock was
/// taken, so that what was read before must be read again: always on
/// PostgreSQL, never on SQLite, whose writes run one at a time anyway.
/// While it waits, the writer holds the one lock for all: a burst of posts
/// for one address delays other writes by as long (each post is short).
pub(crate) async fn lock_address(tx: &mut Tx, address: &str) -> Result<bool, sqlx::Error> {
    if Engine::of_conn(tx) == Engine::Sqlite {
        return Ok(false);
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(ADDRESS_LOCKS)
        .bind(address)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// The first key of the per-address advisory locks ("case" in ASCII).
const ADDRESS_LOCKS: i32 = 0x6361_7365;

/// A read transaction: every statement in it sees the same committed state
/// (SQLite in WAL mode: the snapshot of its first read; PostgreSQL:
/// `REPEATABLE READ`).
pub(crate) async fn begin_read(pool: &Pool) -> Result<Tx, sqlx::Error> {
    match Engine::of(pool) {
        Engine::Sqlite => pool.begin().await,
        Engine::Postgres => pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
    }
}

/// Makes deleted rows unrecoverable from the files. SQLite: `secure_delete`
/// zeroes them in the database file, but the write-ahead log still holds the
/// pages as they were until a checkpoint copies it back and truncates it;
/// this waits (within the busy timeout) for readers of older snapshots.
/// PostgreSQL leaves dead rows to autovacuum, which reclaims them; the
/// operator's backups and WAL archive are theirs to age out (docs/DEPLOY.md).
pub(crate) async fn forget_deleted(pool: &Pool) {
    if Engine::of(pool) != Engine::Sqlite {
        return;
    }
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

/// Whether an error means "the database cannot take this now": worth a
/// retry, answered with 503, never a bug. SQLite: busy, locked or its disk
/// full. PostgreSQL: unreachable, restarting, out of resources, a
/// serialisation conflict or a cancelled (timed-out) statement.
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let Some(code) = d.code() else { return false };
            if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                // SQLSTATE classes: 08 connection exception, 53 insufficient
                // resources, 57 operator intervention (shutdown, cancelled
                // statement); 40001/40P01 serialisation failure, deadlock.
                matches!(code.get(..2), Some("08" | "53" | "57")) || code == "40001" || code == "40P01"
            } else {
                // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_FULL (13) and
                // their extended codes.
                code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 13))
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Bytes that are not the server's protocol: in practice a connection
        // cut while it was being set up (a dropped TLS negotiation reads as
        // "unexpected response from SSLRequest"), not a fault of our SQL.
        sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

/// A truth value as either engine returns it: PostgreSQL a `BOOLEAN`,
/// SQLite an integer (it has no boolean type). Decode `EXISTS (…)` and
/// flag columns through this; binding a plain `bool` works on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl sqlx::Type<Db> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<Db>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        ty.kind() == sqlx::any::AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, Db> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef;
        if value.type_info().kind() == sqlx::any::AnyTypeInfoKind::Bool {
            <bool as sqlx::Decode<Db>>::decode(value).map(Flag)
        } else {
            <i64 as sqlx::Decode<Db>>::decode(value).map(|n| Flag(n != 0))
        }
    }
}
