//! `casefile backup` and `casefile restore`: the archive format is in
//! `crate::backup`; here are the folders, the lock and the messages.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::config::Storage;

/// Writes a backup of a data folder, consistent while `serve` runs on it.
pub async fn backup(args: BackupArgs) -> Result<()> {
    let storage = Storage::resolve(&args.storage)?;
    let summary = crate::backup::take(&storage, &args.out).await?;
    println!("wrote {} ({} files, {} bytes before compression)", args.out.display(), summary.files, summary.bytes);
    Ok(())
}

/// Restores a backup into an empty (or, with `--force`, a replaced) data
/// folder. Everything is checked in a staging folder first; the folder
/// appears, whole, with one rename.
pub async fn restore(args: RestoreArgs) -> Result<()> {
    let storage = Storage::resolve(&args.storage)?;
    let target = storage.data_dir.clone();
    let default_db = format!("sqlite:{}", target.join(crate::backup::DATABASE).display());
    if storage.database_url != default_db {
        bail!("restore writes the database into the data folder; leave --database unset");
    }
    if storage.files_dir != target.join("files") {
        bail!("restore writes the files into the data folder's files/; leave --files unset, then move them");
    }
    let occupied = std::fs::read_dir(&target).is_ok_and(|mut d| d.next().is_some());
    if occupied && !args.force {
        bail!("{} is not empty; restore into an empty folder, or add --force to replace it", target.display());
    }
    // A server on the folder would keep writing to the replaced files.
    let _lock = if occupied { crate::store::lock_for_serving(&default_db)? } else { None };
    let parent = crate::backup::parent_of(&target);
    std::fs::create_dir_all(&parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".casefile-restore-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let (file, dir) = (args.file.clone(), staging.path().to_owned());
    let summary = tokio::task::spawn_blocking(move || crate::backup::unpack(&file, &dir)).await??;
    crate::store::check_database_file(&staging.path().join(crate::backup::DATABASE)).await?;
    let kept = if occupied { Some(set_aside(&target)?) } else { None };
    let aside =
        kept.as_ref().map_or(String::new(), |k| format!(" (the folder it replaces is kept as {})", k.display()));
    if target.exists() {
        std::fs::remove_dir(&target).with_context(|| format!("cannot replace {}{aside}", target.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target).with_context(|| {
        format!("cannot move the restored data from {} to {}{aside}", staged.display(), target.display())
    })?;
    println!("restored {} files ({} bytes) into {}", summary.files, summary.bytes, target.display());
    if let Some(kept) = kept {
        println!("the folder it replaced is kept as {}", kept.display());
    }
    Ok(())
}

/// Renames a data folder out of the way: `<dir>.before-restore-<time>`.
fn set_aside(dir: &Path) -> Result<PathBuf> {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let aside = PathBuf::from(format!("{}.before-restore-{stamp}", dir.display()));
    std::fs::rename(dir, &aside).with_context(|| format!("cannot move {} aside", dir.display()))?;
    Ok(aside)
}
