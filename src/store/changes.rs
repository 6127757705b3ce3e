//! Content changes announced across processes. On PostgreSQL every content
//! write sends `NOTIFY casefile_content, '<site id>'` in its transaction (so
//! it is delivered at commit, and only then), and each serving instance
//! listens, so an edit made through one instance is served by all of them
//! at once. SQLite has no such channel: there, and whenever a notification
//! is missed (a dropped connection), the periodic check of the content
//! version finds the change.

use sqlx::postgres::PgListener;

use super::Store;
use super::backend::{Engine, Tx};

/// The channel content writes notify.
const CHANNEL: &str = "casefile_content";

/// Tells listening instances, at commit, that `site_id`'s content changed.
pub(super) async fn announce(tx: &mut Tx, site_id: i64) -> Result<(), sqlx::Error> {
    if Engine::of_conn(tx) == Engine::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(site_id.to_string()).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A subscription to content changes.
pub struct ChangeFeed {
    listener: PgListener,
}

impl ChangeFeed {
    /// The id of the next site whose content changed. After a lost
    /// connection it reconnects by itself (a change made meanwhile is found
    /// by the periodic check); an error is returned only when that fails.
    pub async fn next(&mut self) -> Result<i64, sqlx::Error> {
        loop {
            let n = self.listener.recv().await?;
            if let Ok(site_id) = n.payload().parse() {
                return Ok(site_id);
            }
        }
    }
}

impl Store {
    /// Content changes made by any process on this database, where the
    /// engine can announce them (PostgreSQL); `None` on SQLite.
    pub async fn change_feed(&self) -> super::error::Result<Option<ChangeFeed>> {
        if self.engine() != Engine::Postgres {
            return Ok(None);
        }
        let url = self.pool.connect_options().database_url.to_string();
        let mut listener = PgListener::connect(&url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ChangeFeed { listener }))
    }
}
