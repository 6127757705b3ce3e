//! Document files: checked by content, stored, served in a sandbox, and
//! their text found by search.

use casefile::pdf::{Limits, PdfReader, ReadError};

use crate::server::{Server, client};

/// A one-page PDF that says `text` (Helvetica, standard encoding).
pub(crate) fn tiny_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

pub(crate) const ITEM: &str = "+++\ndate = \"2016-08\"\nfile = \"lab-report-2016.pdf\"\nsources = [\"film-site\"]\n\n\
[en]\ntitle = \"Laboratory report\"\ndescription = \"A test document.\"\n\n\
[de]\ntitle = \"Laborbericht\"\ndescription = \"Ein Testdokument.\"\n+++\n";

/// The reader as the server runs it: the `casefile` binary as a child.
pub(crate) fn reader() -> PdfReader {
    PdfReader::Child { program: env!("CARGO_BIN_EXE_casefile").into(), limits: Limits::default() }
}

#[test]
fn pdf_text_is_read_in_a_child_process() {
    let text = reader().text(&tiny_pdf("Serology results for sample 42")).unwrap();
    assert!(text.contains("Serology results for sample 42"), "{text:?}");
}

/// What would take the server down if the parser ran in its process: a
/// parser that crashes, one caught in a loop, one that needs more memory
/// than allowed. (Stand-in readers play the first two: no PDF is known to
/// make this parser do it.) Each is an error, and the next file is read
/// as usual.
#[test]
fn a_reader_that_crashes_hangs_or_starves_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        path
    };
    let limits = Limits { time: std::time::Duration::from_millis(300), ..Limits::default() };
    let crashing = PdfReader::Child { program: script("crash", "kill -SEGV $$"), limits };
    let err = crashing.text(b"%PDF-1.4").unwrap_err();
    assert!(matches!(err, ReadError::Crashed(_)), "{err}");

    let started = std::time::Instant::now();
    let stuck = PdfReader::Child { program: script("stuck", "exec /bin/sleep 30"), limits };
    let err = stuck.text(b"%PDF-1.4").unwrap_err();
    assert!(matches!(err, ReadError::TooSlow(_)), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "it was killed at its deadline");

    let pdf = tiny_pdf("Serology results for sample 42");
    let starved = PdfReader::Child {
        program: env!("CARGO_BIN_EXE_casefile").into(),
        limits: Limits { memory: 8 * 1024 * 1024, ..Limits::default() },
    };
    assert!(starved.text(&pdf).is_err(), "8 MB is not enough to read it");

    assert!(reader().text(&pdf).unwrap().contains("sample 42"), "the next file is read as usual");
}

#[test]
fn a_file_must_be_what_its_name_says() {
    let mut files = casefile::bundle::default_files();
    files.push(("documents/lab-report-2016.md".into(), ITEM.into()));
    let mut site = casefile::bundle::parse(&files).unwrap();
    let fake = vec![("documents/lab-report-2016.pdf".to_owned(), b"<?php system($_GET['c']); ?>".to_vec())];
    let err = format!("{:#}", casefile::documents::attach(&mut site, &fake, &reader()).unwrap_err());
    assert!(err.contains("lab-report-2016") && err.contains("not what its name says"), "{err}");
    let err = format!("{:#}", casefile::documents::attach(&mut site, &[], &reader()).unwrap_err());
    assert!(err.contains("not in the bundle"), "{err}");
}

#[tokio::test]
async fn a_documents_text_is_searchable_and_its_file_served_in_a_sandbox() {
    let pdf = tiny_pdf("Serology of the bloodstains from the crime scene");
    let mut files = casefile::bundle::default_files();
    files.push(("documents/lab-report-2016.md".into(), ITEM.into()));
    // A draft's file is stored but not served until the draft is published.
    let draft =
        ITEM.replace("lab-report-2016.pdf", "embargoed-2016.pdf").replace("+++\ndate", "+++\nstatus = \"draft\"\ndate");
    files.push(("documents/embargoed-2016.md".into(), draft));
    let attachments = vec![
        ("documents/lab-report-2016.pdf".to_owned(), pdf.clone()),
        ("documents/embargoed-2016.pdf".to_owned(), tiny_pdf("Not yet public")),
    ];
    let site = casefile::bundle::parse(&files).unwrap();
    let server = Server::start_with_site(site, &attachments).await;
    let data = server.data.clone();
    let c = client();
    // Words only the PDF holds, found in both languages' search.
    for path in ["/search?q=serology", "/de/suche?q=bloodstains"] {
        let body = c.get(server.url(path)).send().await.unwrap().text().await.unwrap();
        // minijinja escapes `/` in attributes as `&#x2f;`.
        let body = body.replace("&#x2f;", "/");
        assert!(body.contains("href=\"/files/lab-report-2016.pdf\""), "{path} finds the document by its file's text");
    }
    let res = c.get(server.url("/files/lab-report-2016.pdf")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["content-security-policy"], "sandbox");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    // Streamed with ranges, so large files need not be read whole.
    let part = c.get(server.url("/files/lab-report-2016.pdf")).header("range", "bytes=0-4").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"%PDF-");
    assert!(data.join("files/embargoed-2016.pdf").is_file());
    for bad in [
        "/files/embargoed-2016.pdf",
        "/files/..%2fcasefile.db",
        "/files/secret.key",
        "/files/x.php",
        "/files/missing.pdf",
    ] {
        assert_eq!(c.get(server.url(bad)).send().await.unwrap().status(), 404, "{bad}");
    }
}

/// A news post with its own image shares that image; other pages share the
/// site's default card.
#[tokio::test]
async fn an_item_with_an_image_shares_it() {
    let png = b"\x89PNG\r\n\x1a\n-not-decoded-by-casefile-".to_vec();
    let attachments = vec![("news/rally-2019.png".to_owned(), png.clone())];
    let mut site = casefile::bundle::parse(&casefile::bundle::default_files()).unwrap();
    site.news[0].image = Some("rally-2019.png".into());
    let slug = site.news[0].text[&casefile::content::Lang::En].slug.clone();
    let server = Server::start_with_site(site, &attachments).await;
    let c = client();
    let og = |body: &str| -> (Option<String>, bool) {
        let doc = scraper::Html::parse_document(body);
        let sel = |s: &str| scraper::Selector::parse(s).unwrap();
        let image =
            doc.select(&sel("meta[property='og:image']")).next().and_then(|m| m.attr("content")).map(str::to_owned);
        (image, doc.select(&sel("meta[property='og:image:width']")).next().is_some())
    };
    let body = c.get(server.url(&format!("/news/{slug}"))).send().await.unwrap().text().await.unwrap();
    let (image, sized) = og(&body);
    assert_eq!(image.as_deref(), Some(server.url("/files/rally-2019.png").as_str()));
    assert!(!sized, "no size is claimed for an image whose size is not known");
    assert!(
        body.replace("\\/", "/").contains(&format!("\"image\":\"{}\"", server.url("/files/rally-2019.png"))),
        "JSON-LD names it"
    );
    let (image, sized) = og(&c.get(server.url("/case")).send().await.unwrap().text().await.unwrap());
    assert!(image.unwrap().contains("/assets/share."), "the site's card elsewhere");
    assert!(sized);
    let res = c.get(server.url("/files/rally-2019.png")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
}
