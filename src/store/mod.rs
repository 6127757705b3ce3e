//! The database: connection pool, migrations, and the queries that write and
//! read content. Nothing here renders HTML.
//!
//! SQL is written once, in the portable subset that SQLite and PostgreSQL
//! share (`$n` placeholders, `RETURNING`, `ON CONFLICT … DO UPDATE`), so the
//! PostgreSQL backend can reuse it. SQLite runs in WAL mode with the pragmas
//! set in [`Store::open_sqlite`].

mod consent;
mod import;
mod load;
mod messages;
pub mod outbox;
mod privacy;
mod signatures;
mod subscribers;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use consent::Consent;
pub use import::import_site;
pub use messages::NewMessage;
pub use outbox::{NewMail, OutboxCounts, QueuedMail};
pub use privacy::{DataRequestOutcome, PersonalData};
pub use signatures::{PetitionStats, SignRequest, Signing};
pub use subscribers::{Outcome, SignUp, SignUpRequest, Subscriber};

/// The handle every other module uses to reach the database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

/// The current unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs migrations.
    ///
    /// `url` is a `sqlite:` URL. Other schemes are refused with a clear error
    /// until the PostgreSQL backend lands.
    pub async fn open(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            Self::open_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            anyhow::bail!("PostgreSQL is not supported yet; use a sqlite: URL")
        } else {
            anyhow::bail!("unsupported database URL `{}`: expected sqlite:PATH", redact(url))
        }
    }

    /// Opens an SQLite file with the pragmas Casefile relies on.
    async fn open_sqlite(url: &str) -> Result<Store> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid database URL `{}`", redact(url)))?
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
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database `{}`", redact(url)))?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("running database migrations")?;
        Ok(Store { pool })
    }

    /// The id of the site with this key, if it exists.
    pub async fn site_id(&self, key: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM sites WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    /// The key of the first site (the one served when a host is not mapped).
    pub async fn first_site_key(&self) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT key FROM sites ORDER BY id LIMIT 1").fetch_optional(&self.pool).await?)
    }

    /// The content version of a site: it changes whenever its content does.
    pub async fn content_version(&self, site_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT version FROM content_version WHERE site_id = $1")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(0))
    }

    /// A write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first and writes later
    /// fails with `SQLITE_BUSY_SNAPSHOT` when another writer got in between,
    /// which the busy timeout does not retry.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool).await.is_ok()
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
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
        let id = import_site(&store, &bundle).await.unwrap();
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
