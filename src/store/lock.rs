//! One `serve` per SQLite database: an advisory lock on a file beside it.
//!
//! Two servers on one SQLite file would each run a mail worker and a
//! retention purge, and the second would start without a word. PostgreSQL
//! is made for several instances (claims with leases, see `outbox.rs`), so
//! only SQLite takes the lock. Read-only subcommands never take it.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::backend::Location;

/// Held for as long as the server runs; the kernel releases the lock when
/// the process ends, however it ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// Takes the lock for the database at `url`: `None` for a database that
/// needs none, an error naming the other process when one holds it.
pub fn lock_for_serving(url: &str) -> Result<Option<DatabaseLock>> {
    let db = match super::backend::location(url) {
        Location::File(db) => db,
        Location::Server => return Ok(None),
        Location::Memory => {
            bail!("`{url}` keeps the database in memory and loses everything at exit; `serve` needs a file")
        }
    };
    let path = PathBuf::from(format!("{}.lock", db.display()));
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another process".to_owned(),
                pid => format!("another casefile process (pid {pid})"),
            };
            bail!(
                "{holder} is serving the database {}; stop it first, or give this one its own --data folder",
                db.display()
            )
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    // The pid, for the message above; written only once the lock is ours.
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(Some(DatabaseLock { _file: file }))
}
