//! Backups: one gzip-compressed tar archive holding a consistent copy of
//! the SQLite database, the secret key, the files items name and the theme
//! overrides of every site, led by a manifest with every file's size and
//! SHA-256.
//!
//! Restoring checks the archive completely in a staging folder beside the
//! target (the manifest first, every file's checksum, the gzip trailer, the
//! database's integrity) and only then moves it into place with a rename:
//! a truncated, damaged or foreign file leaves nothing behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Storage;

/// What the manifest's `format` says; anything else is not ours.
const FORMAT: &str = "casefile-backup";
/// The archive layout's version; a newer one is refused.
const VERSION: u32 = 1;
/// The first entry of every backup.
const MANIFEST: &str = "manifest.json";
/// The database's name inside the archive and in the data folder.
pub const DATABASE: &str = "casefile.db";

/// The manifest: what the archive holds.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    /// When the backup was taken (RFC 3339).
    created_at: String,
    /// The Casefile version that took it.
    casefile: String,
    files: Vec<Entry>,
}

/// One file in the archive.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    size: u64,
    sha256: String,
}

/// What a backup or a restore handled.
#[derive(Debug)]
pub struct Summary {
    /// Files, the database included.
    pub files: usize,
    /// Their size before compression.
    pub bytes: u64,
}

/// Takes a backup of `storage` (its database, its files folder and the
/// data folder's key and theme) into `out` (a new file): consistent while
/// a server writes to it.
pub async fn take(storage: &Storage, out: &Path) -> Result<Summary> {
    let parent = parent_of(out);
    let staging = tempfile::Builder::new()
        .prefix(".casefile-backup-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let copy = staging.path().join(DATABASE);
    crate::store::snapshot_database(&storage.database_url, &copy).await?;
    let (storage, out) = (storage.clone(), out.to_owned());
    tokio::task::spawn_blocking(move || write(&copy, &storage, &out)).await?
}

/// Takes a backup every `every` into `<data>/backups/` and keeps the newest
/// `keep`, for as long as the server runs. A failed backup is logged and
/// tried again at the next turn.
pub fn schedule(storage: Storage, every: std::time::Duration, keep: usize) {
    tokio::spawn(async move {
        let dir = storage.data_dir.join("backups");
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
            let out = dir.join(format!("casefile-{stamp}.tar.gz"));
            let taken = async {
                std::fs::create_dir_all(&dir)?;
                let summary = take(&storage, &out).await?;
                prune(&dir, keep)?;
                anyhow::Ok(summary)
            };
            match taken.await {
                Ok(s) => tracing::info!(file = %out.display(), files = s.files, bytes = s.bytes, "backup taken"),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "the scheduled backup failed"),
            }
        }
    });
}

/// Deletes all but the newest `keep` scheduled backups (their names sort
/// by time).
fn prune(dir: &Path, keep: usize) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("casefile-") && n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    for old in names.iter().rev().skip(keep) {
        std::fs::remove_file(dir.join(old))?;
    }
    Ok(())
}

/// Writes `out` from a database copy (`database`, made with
/// `store::snapshot_database`) and the other files of `storage`. The archive is
/// written beside `out` and renamed into place once complete and synced.
pub fn write(database: &Path, storage: &Storage, out: &Path) -> Result<Summary> {
    if out.exists() {
        bail!("{} exists already; choose a new name", out.display());
    }
    let mut sources = vec![(DATABASE.to_owned(), database.to_owned())];
    // Beside the database: the key that signs mailed links, the files items
    // name (from the files folder, wherever it is) and the theme overrides.
    // Mails on disk and the search index are left out (sent mail; rebuilt
    // at start).
    let data = &storage.data_dir;
    let mut others = vec![
        (data.join("secret.key"), "secret.key".to_owned()),
        (storage.files_dir.clone(), "files".to_owned()),
        (data.join("theme"), "theme".to_owned()),
    ];
    // The other sites' theme overrides, `<data>/sites/<key>/theme`.
    for key in folders_in(&data.join("sites"))? {
        others.push((data.join("sites").join(&key).join("theme"), format!("sites/{key}/theme")));
    }
    for (path, name) in others {
        collect(&path, &name, &mut sources)?;
    }
    let mut files = Vec::with_capacity(sources.len());
    for (path, source) in &sources {
        let (size, sha256) = digest(source)?;
        files.push(Entry { path: path.clone(), size, sha256 });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        created_at: jiff::Timestamp::now().to_string(),
        casefile: env!("CARGO_PKG_VERSION").into(),
        files,
    };
    let partial = out.with_file_name(format!(
        ".{}.partial",
        out.file_name().and_then(|n| n.to_str()).context("the backup needs a file name")?
    ));
    let written = write_archive(&manifest, &sources, &partial);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, out).with_context(|| format!("cannot move the backup to {}", out.display()))?;
    Ok(Summary { files: manifest.files.len(), bytes: manifest.files.iter().map(|f| f.size).sum() })
}

fn write_archive(manifest: &Manifest, sources: &[(String, PathBuf)], to: &Path) -> Result<()> {
    let file = File::create(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default()));
    let json = serde_json::to_vec_pretty(manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(jiff::Timestamp::now().as_second().max(0) as u64);
    tar.append_data(&mut header, MANIFEST, json.as_slice())?;
    for (path, source) in sources {
        let mut f = File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
        tar.append_file(path, &mut f).with_context(|| format!("cannot add {path}"))?;
    }
    let file = tar.into_inner()?.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// The folder a path is in (`.` for a bare name): where staging folders go,
/// so that the final rename stays on one file system.
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The names of the folders in `dir` (none if it does not exist).
fn folders_in(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in read_dir_if_any(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            names.push(
                entry
                    .file_name()
                    .into_string()
                    .map_err(|n| anyhow::anyhow!("a folder name that is not UTF-8: {n:?}"))?,
            );
        }
    }
    names.sort();
    Ok(names)
}

/// A folder's entries; none if it does not exist. Any other error (a
/// volume not mounted, no permission) fails the backup rather than leave
/// the folder out of it unnoticed.
fn read_dir_if_any(dir: &Path) -> Result<Vec<std::io::Result<std::fs::DirEntry>>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Every regular file below `dir`, as (archive path, file), in a stable order.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    if dir.is_file() {
        out.push((prefix.to_owned(), dir.to_owned()));
        return Ok(());
    }
    let entries = read_dir_if_any(dir)?;
    let mut entries: Vec<_> = entries.into_iter().collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name =
            entry.file_name().into_string().map_err(|n| anyhow::anyhow!("a file name that is not UTF-8: {n:?}"))?;
        collect(&entry.path(), &format!("{prefix}/{name}"), out)?;
    }
    Ok(())
}

/// The size and SHA-256 of a file.
fn digest(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut f, &mut hasher)?;
    Ok((size, crate::ids::to_hex(&hasher.finalize())))
}

/// Reads and checks `archive` completely into `staging` (an empty folder);
/// returns what it held. Any error means the archive cannot be trusted.
pub fn unpack(archive: &Path, staging: &Path) -> Result<Summary> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let damaged = |e: std::io::Error| anyhow::anyhow!("the backup is truncated or damaged ({e})");
    let mut entries = tar.entries().map_err(damaged)?;
    let manifest = read_manifest(&mut entries)
        .map_err(|e| e.context(format!("{} is not a Casefile backup", archive.display())))?;
    let mut seen = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        let path = entry.path().map_err(damaged)?.to_string_lossy().into_owned();
        let Some(expected) = manifest.files.iter().find(|f| f.path == path) else {
            bail!("the backup holds {path:?}, which its manifest does not list");
        };
        if entry.header().entry_type() != tar::EntryType::Regular || seen.contains(&path) {
            bail!("the backup's entry {path:?} is not a single regular file");
        }
        let target = staging.join(safe_relative(&path)?);
        std::fs::create_dir_all(target.parent().expect("a relative path has a parent"))?;
        let mut out = File::create(&target)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(damaged)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            size += n as u64;
        }
        out.sync_all()?;
        if size != expected.size || crate::ids::to_hex(&hasher.finalize()) != expected.sha256 {
            bail!("the backup is damaged: {path} does not match its checksum");
        }
        seen.push(path);
    }
    // The gzip trailer (a CRC of everything) is checked only at its end.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).map_err(damaged)?;
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.path)) {
        bail!("the backup is truncated: {} is missing", missing.path);
    }
    if !seen.iter().any(|p| p == DATABASE) {
        bail!("the backup holds no database");
    }
    Ok(Summary { files: seen.len(), bytes: manifest.files.iter().map(|f| f.size).sum() })
}

fn read_manifest<R: Read>(entries: &mut tar::Entries<'_, R>) -> Result<Manifest> {
    let mut first = entries.next().context("the archive is empty")??;
    if first.path()?.as_os_str() != MANIFEST {
        bail!("its first entry is not {MANIFEST}");
    }
    let mut json = Vec::new();
    // A manifest lists every file (about 150 bytes each): room for a
    // million and more.
    first.by_ref().take(256 << 20).read_to_end(&mut json)?;
    let manifest: Manifest = serde_json::from_slice(&json).context("its manifest cannot be read")?;
    if manifest.format != FORMAT {
        bail!("its manifest says {:?}", manifest.format);
    }
    if manifest.version > VERSION {
        bail!("it was written by a newer Casefile ({}, format {})", manifest.casefile, manifest.version);
    }
    Ok(manifest)
}

/// A path inside the archive as a relative path with plain parts only, so
/// no entry can be written outside the staging folder.
fn safe_relative(path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    if path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("the backup holds an unsafe path {path:?}");
    }
    Ok(p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert!(safe_relative("files/a.pdf").is_ok());
        for bad in ["", "/etc/passwd", "../x", "files/../../x", "./x"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
