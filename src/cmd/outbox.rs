//! `casefile outbox`: what the mail worker has sent, what waits, what failed.

use anyhow::Result;

use crate::config::Storage;
use crate::store::Store;

/// Prints the outbox counts and every failed mail with its last error.
pub async fn run(storage: Storage) -> Result<()> {
    if let Some(path) = storage.database_url.strip_prefix("sqlite:").and_then(|p| p.split('?').next())
        && !std::path::Path::new(path).exists()
    {
        anyhow::bail!("no database at {path}: is --data right? (`casefile serve` creates it)");
    }
    let store = Store::open(&storage.database_url).await?;
    let c = store.outbox_counts().await?;
    println!("pending {}  sending {}  sent {}  failed {}", c.pending, c.sending, c.sent, c.failed);
    for (id, kind, to, tries, error) in store.failed_mails().await? {
        println!("failed #{id} {kind} to {to} after {tries} tries: {}", error.unwrap_or_default());
    }
    store.close().await;
    Ok(())
}
