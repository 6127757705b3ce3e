//! `casefile worker`: the background jobs of `serve` (sending mail, the
//! retention purge, scheduled backups) without HTTP, for deployments that
//! run them apart from the instances serving (`serve --no-worker`). It is
//! built by the same `serve::build`, so it runs exactly the jobs `serve`
//! would; on PostgreSQL any number may run, as mails are claimed one by one.

use anyhow::Result;

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
    let (state, worker) = super::serve::build(&config, config.listen, mailer, Clock::system()).await?;
    super::serve::start_jobs(&config, worker);
    tracing::info!(data = %config.storage.data_dir.display(), "worker running");
    crate::web::server::shutdown_signal().await;
    state.store.close().await;
    Ok(())
}
