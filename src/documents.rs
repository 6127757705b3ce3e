//! Document files (PDFs): checked by content, their text extracted for
//! search, and stored under `<data>/files/`, from where `/files/<name>`
//! serves them.
//!
//! A bundle keeps a document's file beside its item
//! (`documents/<key>.md` with `file = "report.pdf"` and `documents/report.pdf`).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::content::Site;

/// A binary file of a bundle: its path inside the bundle and its bytes.
pub type Attachment = (String, Vec<u8>);

/// The largest document file accepted.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// The most text kept per document for search.
const MAX_TEXT_CHARS: usize = 200_000;

/// The kinds of document file Casefile takes, by extension, with the bytes
/// their content must start with (the name alone proves nothing).
const KINDS: [(&str, &str, &[u8]); 1] = [("pdf", "application/pdf", b"%PDF-")];

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

/// Checks every document's file against the attachments, fills in its media
/// type and extracts its text. Every error names the document.
pub fn attach(site: &mut Site, attachments: &[Attachment]) -> Result<()> {
    for d in &mut site.documents {
        let Some(name) = d.file.clone() else { continue };
        let what = format!("documents/{}.md", d.key);
        if !is_file_name(&name) {
            bail!(
                "{what}: `file = \"{name}\"` must be a name like report-2016.pdf (lowercase, digits, `-`; PDF files)"
            );
        }
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == format!("documents/{name}")) else {
            bail!("{what}: the file documents/{name} is not in the bundle");
        };
        check_content(&name, bytes).with_context(|| what.clone())?;
        d.media_type = media_type(&name).map(str::to_owned);
        d.extracted_text = pdf_text(bytes).with_context(|| format!("{what}: reading the text of {name}"))?;
    }
    Ok(())
}

fn check_content(name: &str, bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_FILE_BYTES {
        bail!("{name} is larger than {} MB", MAX_FILE_BYTES / 1024 / 1024);
    }
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match KINDS.iter().find(|(e, _, _)| *e == ext) {
        Some((_, _, magic)) if bytes.starts_with(magic) => Ok(()),
        _ => bail!("{name} is not what its name says (its content is not a {ext} file)"),
    }
}

/// The text of a PDF, whitespace collapsed. The extractor is third-party
/// code facing untrusted files: a panic in it becomes an error.
pub fn pdf_text(bytes: &[u8]) -> Result<String> {
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| anyhow::anyhow!("the PDF could not be read"))?
        .context("the PDF could not be read")?;
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_TEXT_CHARS).collect())
}

/// Writes the documents' files into `dir` (each whole, then renamed into
/// place, so a crash never leaves half a file where it is served).
pub fn store_files(site: &Site, attachments: &[Attachment], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for name in site.documents.iter().filter_map(|d| d.file.as_deref()) {
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == format!("documents/{name}")) else { continue };
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join(name)).with_context(|| format!("storing {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_name_a_path() {
        assert!(is_file_name("griffiths-report-2016.pdf"));
        for bad in
            ["../x.pdf", "a/b.pdf", "x.PDF", "x.pdf.exe", "x.php", ".pdf", "x", "-x.pdf", "x y.pdf", "x.pdf%00.png"]
        {
            assert!(!is_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn content_decides_not_the_name() {
        assert!(check_content("a.pdf", b"%PDF-1.4 ...").is_ok());
        assert!(check_content("a.pdf", b"<?php system($_GET['c']);").is_err());
        assert!(pdf_text(b"%PDF-1.4 but not really a pdf").is_err(), "a broken PDF is an error, not a panic");
    }
}
