//! The files of content items: documents' PDFs and the share images of
//! pages and news posts. Checked by content, the text of PDFs read for
//! search (`pdf`), stored under `<data>/files/`, from where `/files/<name>` serves
//! them.
//!
//! A bundle keeps a file beside its item (`documents/<key>.md` with
//! `file = "report.pdf"` and `documents/report.pdf`; `news/<key>.md` with
//! `image = "rally.jpg"` and `news/rally.jpg`).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::content::{ItemKind, Site};
use crate::pdf::PdfReader;

/// A binary file of a bundle: its path inside the bundle and its bytes.
pub type Attachment = (String, Vec<u8>);

/// The largest document file accepted.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// The kinds of file Casefile takes, by extension, with the bytes their
/// content must start with (the name alone proves nothing).
const KINDS: [(&str, &str, &[u8]); 3] = [
    ("pdf", "application/pdf", b"%PDF-"),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("jpg", "image/jpeg", b"\xff\xd8\xff"),
];

/// Every file the site's items name: (bundle path, stored name, the
/// extensions allowed there).
fn named_files(site: &Site) -> Vec<(String, String, &'static [&'static str])> {
    const DOCUMENT: &[&str] = &["pdf"];
    const IMAGE: &[&str] = &["png", "jpg"];
    let documents = site.documents.iter().filter_map(|d| d.file.as_ref().map(|f| ("documents", f, DOCUMENT)));
    let pages = site.pages.iter().filter_map(|p| p.image.as_ref().map(|f| ("pages", f, IMAGE)));
    let news = site.news.iter().filter_map(|n| n.image.as_ref().map(|f| ("news", f, IMAGE)));
    documents.chain(pages).chain(news).map(|(dir, f, kinds)| (format!("{dir}/{f}"), f.clone(), kinds)).collect()
}

/// The files the site's items name: (path in a bundle, stored name).
pub fn bundle_paths(site: &Site) -> Vec<(String, String)> {
    named_files(site).into_iter().map(|(path, name, _)| (path, name)).collect()
}

/// Whether an item of `site` names `name` as its file. Only those are
/// served, so a draft's file stays private until the draft is published.
pub fn is_named(site: &Site, name: &str) -> bool {
    named_files(site).iter().any(|(_, n, _)| n == name)
}

/// Whether `name` is a file name we store and serve: lowercase letters,
/// digits and `-`, one dot, a known extension. No path can be built from it.
pub fn is_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    !stem.is_empty()
        && !stem.starts_with('-')
        && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && KINDS.iter().any(|(e, _, _)| *e == ext)
}

/// The media type of a stored file name.
pub fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    KINDS.iter().find(|(e, _, _)| *e == ext).map(|(_, t, _)| *t)
}

/// Checks every file the items name against the attachments, fills in
/// documents' media types and reads the text of PDFs with `reader`. Every
/// error names the file. A PDF whose text cannot be read is no error (a
/// browser may read what the parser cannot): it is kept without text, and
/// the returned notes say so.
pub fn attach(site: &mut Site, attachments: &[Attachment], reader: &PdfReader) -> Result<Vec<String>> {
    // All files are stored in one folder: one name, one content.
    let mut stored: std::collections::HashMap<String, &[u8]> = std::collections::HashMap::new();
    // The files of documents another site stores are that site's.
    let shared = |d: &&crate::content::Document| site.shows_from_elsewhere(ItemKind::Document, &d.key);
    let theirs: Vec<String> = site.documents.iter().filter(shared).filter_map(|d| d.file.clone()).collect();
    for (path, name, kinds) in named_files(site).into_iter().filter(|(_, name, _)| !theirs.contains(name)) {
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        if !is_file_name(&name) || !kinds.contains(&ext) {
            bail!("{path}: a file name like report-2016.{} (lowercase, digits, `-`)", kinds.join(" or "));
        }
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == path) else {
            bail!("{path} is named by an item but is not in the bundle");
        };
        check_content(&name, bytes).with_context(|| path.clone())?;
        if stored.insert(name.clone(), bytes).is_some_and(|other| other != bytes.as_slice()) {
            bail!("{path}: another file of the same name differs; give one of them another name");
        }
    }
    let mut notes = Vec::new();
    for d in &mut site.documents {
        let Some(name) = d.file.clone().filter(|f| !theirs.contains(f)) else { continue };
        let (_, bytes) = attachments.iter().find(|(p, _)| *p == format!("documents/{name}")).expect("checked above");
        d.media_type = media_type(&name).map(str::to_owned);
        match reader.text(bytes) {
            Ok(text) => d.extracted_text = text,
            Err(e) => notes.push(format!("documents/{name}: {e}; it is kept, without its text in search")),
        }
    }
    Ok(notes)
}

/// The name an uploaded file is stored under: `name` (what the editor
/// chose, or the uploaded file's name) as a slug with `ext`.
pub fn stored_name(name: &str, ext: &str) -> Option<String> {
    let stem = name.trim();
    let stem = stem.strip_suffix(&format!(".{ext}")).or_else(|| stem.strip_suffix(&format!(".{}", ext.to_uppercase())));
    let name = format!("{}.{ext}", crate::content::slug(stem.unwrap_or(name.trim()))?);
    is_file_name(&name).then_some(name)
}

/// Checks that `bytes` are what `name` says, within the size limit.
pub fn check_content(name: &str, bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_FILE_BYTES {
        bail!("{name} is larger than {} MB", MAX_FILE_BYTES / 1024 / 1024);
    }
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match KINDS.iter().find(|(e, _, _)| *e == ext) {
        Some((_, _, magic)) if bytes.starts_with(magic) => Ok(()),
        _ => bail!("{name} is not what its name says (its content is not a {ext} file)"),
    }
}

/// Writes the items' files that `dir` does not hold yet (each whole, so a
/// crash never leaves half a file where it is served). A stored file of
/// the same name is left as it is: replacing one is the caller's decision
/// (`casefile import` replaces a new version of its own items' files
/// once the import is committed).
pub fn store_files(site: &Site, attachments: &[Attachment], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (path, name, _) in named_files(site) {
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == path) else { continue };
        store_new_file(dir, &name, bytes)?;
    }
    Ok(())
}

/// Writes one file into `dir` as `name`, whole, unless a file of that name
/// is there: `false` then, and nothing is replaced (a link, not a rename,
/// puts it in place, and a link never overwrites).
pub fn store_new_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<bool> {
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::ids::nonce()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    let linked = std::fs::hard_link(&tmp, dir.join(name));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("storing {name}")),
    }
}

/// Writes one file into `dir` as `name`, whole, then renamed into place.
pub fn store_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    // A name of its own: another process (an instance starting on the
    // same shared folder) may store the same file at the same moment.
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::ids::nonce()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(name)).with_context(|| format!("storing {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_name_a_path() {
        assert!(is_file_name("griffiths-report-2016.pdf"));
        assert!(is_file_name("rally-2019.jpg"));
        for bad in
            ["../x.pdf", "a/b.pdf", "x.PDF", "x.pdf.exe", "x.php", ".pdf", "x", "-x.pdf", "x y.pdf", "x.pdf%00.png"]
        {
            assert!(!is_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn uploaded_names_become_stored_names() {
        assert_eq!(stored_name("Gutachten Blutspuren.PDF", "pdf").as_deref(), Some("gutachten-blutspuren.pdf"));
        assert_eq!(stored_name("../../etc/passwd", "pdf").as_deref(), Some("etc-passwd.pdf"));
        assert_eq!(stored_name("Über den Fall.pdf", "pdf").as_deref(), Some("ueber-den-fall.pdf"));
        assert_eq!(stored_name("???.pdf", "pdf"), None);
    }

    #[test]
    fn content_decides_not_the_name() {
        assert!(check_content("a.pdf", b"%PDF-1.4 ...").is_ok());
        assert!(check_content("a.pdf", b"<?php system($_GET['c']);").is_err());
        assert!(check_content("a.png", b"\x89PNG\r\n\x1a\n....").is_ok());
        assert!(check_content("a.jpg", b"GIF89a<script>").is_err(), "a polyglot is refused");
    }
}
