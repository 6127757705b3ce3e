//! A bundle on disk: reading a folder into its files, writing files into a
//! new folder.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::BundleFile;
use crate::documents::{Attachment, MAX_FILE_BYTES};

/// The file `export-content --revisions` writes the items' history into.
pub const REVISIONS: &str = "revisions.jsonl";

/// The text files and the other files of a bundle folder (the top level
/// and one folder deep, as the format has them; hidden files skipped).
pub fn read(dir: &Path) -> Result<(Vec<BundleFile>, Vec<Attachment>)> {
    if !dir.join("site.toml").is_file() {
        bail!("{} is not a content bundle: it has no site.toml", dir.display());
    }
    let (mut texts, mut others) = (Vec::new(), Vec::new());
    for (path, name) in entries(dir, "")? {
        // The history an export adds (`--revisions`), which import leaves
        // alone: not read at all, however large.
        if name == REVISIONS {
            continue;
        }
        if path.is_dir() {
            for (path, inner) in entries(&path, &format!("{name}/"))? {
                if path.is_file() {
                    take(&path, inner, &mut texts, &mut others)?;
                }
            }
        } else if path.is_file() {
            take(&path, name, &mut texts, &mut others)?;
        }
    }
    Ok((texts, others))
}

/// The visible entries of a folder with their bundle paths (`prefix` + name).
fn entries(dir: &Path, prefix: &str) -> Result<Vec<(std::path::PathBuf, String)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            bail!("{}: a file name that is not UTF-8", entry.path().display());
        };
        if !name.starts_with('.') {
            out.push((entry.path(), format!("{prefix}{name}")));
        }
    }
    out.sort();
    Ok(out)
}

fn take(path: &Path, name: String, texts: &mut Vec<BundleFile>, others: &mut Vec<Attachment>) -> Result<()> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE_BYTES as u64 {
        bail!("{name} is larger than {} MB", MAX_FILE_BYTES / 1024 / 1024);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if super::is_text(&name) {
        let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{name}: not UTF-8 text"))?;
        texts.push((name, text));
    } else {
        others.push((name, bytes));
    }
    Ok(())
}

/// Writes a bundle into `dir`, which must not exist or be empty. The files
/// are written into a hidden folder beside it that is renamed into place
/// at the end, so an interrupted export leaves no half bundle behind.
pub fn write(dir: &Path, texts: &[BundleFile], others: &[Attachment]) -> Result<()> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} is not empty; export into a new or empty folder", dir.display());
    }
    let parent = crate::backup::parent_of(dir);
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".casefile-export-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let files = texts.iter().map(|(p, t)| (p, t.as_bytes())).chain(others.iter().map(|(p, b)| (p, b.as_slice())));
    for (path, bytes) in files {
        let target = staging.path().join(path);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(&target, bytes).with_context(|| format!("cannot write {}", target.display()))?;
    }
    if dir.exists() {
        std::fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dir).with_context(|| format!("cannot move the export into {}", dir.display()))?;
    Ok(())
}
