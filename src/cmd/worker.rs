//! `casefile worker`: the background jobs of `serve` (sending mail, the
//! retention purge, scheduled backups) without HTTP, for deployments that
//! run them apart from the instances serving (`serve --no-worker`). It opens
//! the database and makes its jobs with the same functions as `serve`, but
//! loads no snapshot and builds no search index; on PostgreSQL any number
//! may run, as each mail is claimed by one.

use std::sync::Arc;

use anyhow::Result;
use tokio::sync::Notify;

use super::serve::{mail_worker, open_store, serve_metrics, start_jobs};
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::mail::Mailer;

/// Runs the jobs until SIGINT or SIGTERM.
pub async fn run(config: ServeConfig) -> Result<()> {
    config.storage.prepare()?;
    // On SQLite the file's one process serves and works: a worker beside a
    // server is refused here, by the same lock.
    let _lock = crate::store::lock_for_serving(&config.storage.database_url)?;
    let mailer = Mailer::new(&config.mail, config.storage.data_dir.join("mail"))?;
    tracing::info!(to = %mailer.describe(), "mail");
    let (store, _) = open_store(&config).await?;
    serve_metrics(&config, &store).await?;
    // Nothing in this process queues mail: the worker polls for what the
    // servers queued.
    start_jobs(&config, mail_worker(&config, &store, mailer, &Clock::system(), Arc::new(Notify::new())));
    tracing::info!(data = %config.storage.data_dir.display(), "worker running");
    crate::web::server::shutdown_signal().await;
    store.close().await;
    Ok(())
}
