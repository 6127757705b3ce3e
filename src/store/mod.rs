//! The database: connection pool, migrations, and the queries that write and
//! read content and personal data. Nothing here renders HTML.
//!
//! SQL is written once, in the portable subset that SQLite and PostgreSQL
//! share (`$n` placeholders, `RETURNING`, `ON CONFLICT … DO UPDATE`,
//! `TRUE`/`FALSE`, `COUNT(*) FILTER (…)` rather than sums of truth values);
//! what differs between engines (pragmas, how a write transaction begins,
//! error codes) is in `backend.rs`, beside `changes.rs` (`NOTIFY`) and the
//! claim in `outbox.rs` (ARCHITECTURE.md, "Two engines"). Content is
//! written one item at a time (`content/`), each write with its revision.

mod backend;
mod changes;
mod consent;
mod content;
pub mod error;
mod files;
mod lock;
mod media;
mod messages;
mod newsletters;
pub mod outbox;
mod people;
mod privacy;
mod review_links;
mod sessions;
mod signatures;
mod subscribers;
mod two_factor;
mod users;

use anyhow::{Context, Result};

pub use backend::{Engine, PoolSettings};
pub use changes::ChangeFeed;
pub use consent::Consent;
pub use content::{
    Action, Change, DEFAULT_CONTENT, ImportReport, ImportRules, ListFilter, Listed, Planned, Revision, RevisionInfo,
    SiteName, Trashed, Written, changed_fields,
};
pub use error::Error;
pub use files::DocumentFile;
pub use lock::{DatabaseLock, lock_for_serving};
pub use media::MediaFile;
pub use messages::NewMessage;
pub use newsletters::{Newsletter, Progress, Recipient};
pub use outbox::{NewMail, OutboxCounts, QueuedMail};
pub use people::{MessageRow, SignatureRow, SubscriberFilter};
pub use privacy::{DataRequestOutcome, PersonalData, SubscriptionData};
pub use review_links::{NewReviewLink, ReviewLink};
pub use sessions::{IDLE_SECONDS, MAX_SECONDS, Session};
pub use signatures::{PetitionStats, SignRequest, Signing};
pub use subscribers::{Outcome, SignUp, SignUpRequest, Subscriber};
pub use two_factor::{CodeAttempt, Throttle, TwoFactor};
pub use users::{TokenInfo, User};

/// The handle every other module uses to reach the database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: backend::Pool,
}

/// Connections of the pool: open, of which idle, and the most it opens.
#[derive(Clone, Copy, Debug)]
pub struct PoolUse {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The pool's maximum.
    pub max: u32,
}

/// The current unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs
    /// migrations, with the default pool settings.
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_with(url, &PoolSettings::default()).await
    }

    /// Opens the database at `url` (`sqlite:PATH` or `postgres://…`) and
    /// runs migrations.
    pub async fn open_with(url: &str, settings: &PoolSettings) -> Result<Store> {
        if Engine::of_url(url).is_none() {
            anyhow::bail!("unsupported database URL `{}`: expected sqlite:PATH or postgres://…", redact(url));
        }
        let pool = backend::open(url, settings)
            .await
            .map_err(migration_error)
            .with_context(|| format!("cannot open the database `{}`", redact(url)))?;
        Ok(Store { pool })
    }

    /// The engine underneath.
    pub fn engine(&self) -> Engine {
        Engine::of(&self.pool)
    }

    /// The connection pool now, for the metrics.
    pub fn pool_use(&self) -> PoolUse {
        let size = self.pool.size();
        PoolUse { size, idle: (self.pool.num_idle() as u32).min(size), max: self.pool.options().get_max_connections() }
    }

    /// The id of the site with this key, if it exists.
    pub async fn site_id(&self, key: &str) -> error::Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM sites WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    /// A value kept for the whole install (`admin_settings`: the rule on
    /// two-factor sign-in, the fingerprint of the default content).
    pub async fn install_value(&self, key: &str) -> error::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM admin_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets a value kept for the whole install.
    pub async fn set_install_value(&self, key: &str, value: &str) -> error::Result<()> {
        sqlx::query(
            "INSERT INTO admin_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims this period's run of the job `job`: true for exactly one of
    /// the instances asking (one statement, atomic on either engine), once
    /// `every` seconds have passed since the last claimed run, or when it
    /// never ran.
    pub async fn claim_periodic(&self, job: &str, now: i64, every: i64) -> error::Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO admin_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) \
             DO UPDATE SET value = excluded.value WHERE CAST(admin_settings.value AS BIGINT) <= $3",
        )
        .bind(format!("last_run:{job}"))
        .bind(now.to_string())
        .bind(now - every)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Gives up this period's claim of `job` (its run failed): the next
    /// instance that asks runs it.
    pub async fn unclaim_periodic(&self, job: &str) -> error::Result<()> {
        sqlx::query("DELETE FROM admin_settings WHERE key = $1")
            .bind(format!("last_run:{job}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every site: id and key, the first created first.
    pub async fn sites(&self) -> error::Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, key FROM sites ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// The key of the first site (the one served when a host is not mapped).
    pub async fn first_site_key(&self) -> error::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT key FROM sites ORDER BY id LIMIT 1").fetch_optional(&self.pool).await?)
    }

    /// The content version of a site: it changes whenever its content does.
    pub async fn content_version(&self, site_id: i64) -> error::Result<i64> {
        Ok(sqlx::query_scalar("SELECT version FROM content_version WHERE site_id = $1")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0))
    }

    /// A write transaction (see `backend::begin_write`).
    pub(crate) async fn begin_write(&self) -> Result<backend::Tx, sqlx::Error> {
        backend::begin_write(&self.pool).await
    }

    /// A write transaction about one address (see `backend::begin_write_for`).
    pub(crate) async fn begin_write_for(&self, address: &str) -> Result<backend::Tx, sqlx::Error> {
        backend::begin_write_for(&self.pool, address).await
    }

    /// Writes one row, to learn whether the database takes writes now: a
    /// full disk or a read-only file fails here (`/readyz`, start-up).
    pub async fn check_writable(&self) -> error::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO health (id, checked_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .bind(now())
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Writes a consistent copy of the SQLite database at `url` to `dest`,
/// without migrating or changing it, while a server may be writing to it.
pub async fn snapshot_database(url: &str, dest: &std::path::Path) -> Result<()> {
    match backend::location(url) {
        backend::Location::File(path) if !path.exists() => {
            anyhow::bail!("no database at {}: is --data right?", path.display())
        }
        backend::Location::File(_) => {}
        backend::Location::Memory => anyhow::bail!("a database in memory cannot be backed up"),
        backend::Location::Server => {
            anyhow::bail!("`casefile backup` copies SQLite databases; back up a database server with its own tools")
        }
    }
    backend::snapshot_into(url, dest).await.with_context(|| format!("cannot copy the database `{}`", redact(url)))
}

/// Checks an SQLite file with SQLite's own `integrity_check`.
pub async fn check_database_file(path: &std::path::Path) -> Result<()> {
    match backend::check_integrity(path).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(verdict)) => anyhow::bail!("the database {} is damaged: {verdict}", path.display()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read the database {}", path.display()))),
    }
}

/// sqlx wraps a migration error in a `sqlx::Error` that displays it and
/// also gives it as its source, so the message would print twice; and a
/// migration unknown to this binary needs a hint, not only its number.
fn migration_error(e: sqlx::Error) -> anyhow::Error {
    match e {
        sqlx::Error::Migrate(m) => match *m {
            sqlx::migrate::MigrateError::VersionMissing(v) => anyhow::anyhow!(
                "the database has migration {v}, which this version of Casefile does not know: a newer \
                 Casefile upgraded it (run that one, or restore a backup taken before)"
            ),
            other => anyhow::Error::new(other),
        },
        other => anyhow::Error::new(other),
    }
}

/// Hides the password in a URL with credentials (database, SMTP) for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMPORT: Change<'static> = Change { author: "test", note: "import" };

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
        assert_eq!(redact("smtps://me:secret@mail.example.org:465"), "smtps://***@mail.example.org:465");
        assert_eq!(redact("sqlite:data/casefile.db"), "sqlite:data/casefile.db");
    }

    #[tokio::test]
    async fn the_default_bundle_round_trips_through_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let bundle = crate::bundle::parse(&crate::bundle::default_files()).unwrap();
        let id = store.import_site(&bundle, IMPORT).await.unwrap();
        let loaded = store.load_site(id).await.unwrap();
        // Every item, with every language, comes back as it went in.
        assert_eq!(
            serde_json::to_value(&loaded).unwrap(),
            serde_json::to_value(&bundle).unwrap(),
            "the loaded site differs from the imported bundle"
        );
        for (a, b) in loaded.pages.iter().zip(&bundle.pages) {
            for l in &bundle.languages {
                assert_eq!(a.text[l].body, b.text[l].body, "body of page {} ({l})", a.key);
            }
        }
        assert!(store.content_version(id).await.unwrap() > 0);
    }
}
