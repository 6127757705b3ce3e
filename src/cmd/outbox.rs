//! `casefile outbox`: what the mail worker has sent, what waits, what failed.

use anyhow::Result;

use crate::config::Storage;
use crate::store::Store;

/// Opens the database of an existing install; a clear error, not a new
/// empty database, where there is none.
pub async fn open_existing(storage: &Storage) -> Result<Store> {
    if let Some(path) = storage.database_url.strip_prefix("sqlite:").and_then(|p| p.split('?').next())
        && !std::path::Path::new(path).exists()
    {
        anyhow::bail!("no database at {path}: is --data right? (`casefile serve` creates it)");
    }
    Store::open_with(&storage.database_url, &storage.pool).await
}

/// Prints the outbox counts and every failed mail with its last error.
pub async fn run(storage: Storage) -> Result<()> {
    let store = open_existing(&storage).await?;
    let c = store.outbox_counts().await?;
    println!("pending {}  sending {}  sent {}  failed {}", c.pending, c.sending, c.sent, c.failed);
    for (id, kind, to, tries, error) in store.failed_mails().await? {
        println!("failed #{id} {kind} to {to} after {tries} tries: {}", error.unwrap_or_default());
    }
    store.close().await;
    Ok(())
}
