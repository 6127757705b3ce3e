//! Image uploads in the admin: a real multipart post of a JPEG that
//! carries camera and location data, its variants served without it, the
//! original never, the picture on the public page, mistakes that come back
//! with their message, and files that are not images refused.

use axum::http::StatusCode;
use casefile::accounts::{Role, hash_password};

use crate::app::TestApp;

const PASSWORD: &str = "correct horse battery staple";
const BOUNDARY: &str = "casefile-test-boundary";

async fn signed_in() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    app.state.store.add_user("ed@example.org", Role::Editor, &hash_password(PASSWORD), 0).await.unwrap();
    let body = format!("email=ed%40example.org&password={}", PASSWORD.replace(' ', "+"));
    let (status, h, _) =
        app.request("POST", "/admin/sign-in", &[("content-type", "application/x-www-form-urlencoded")], &body).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, _, page) = app.request("GET", "/admin/images", &[("cookie", &cookie)], "").await;
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (app, cookie, csrf)
}

/// A JPEG with an EXIF segment holding a location and a serial number.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1000, 600, |x, y| image::Rgb([(x / 4) as u8, (y / 3) as u8, 90]));
    let mut plain = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS 52.5200N 13.4050E SERIAL-0815";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, cookie: &str, body: Vec<u8>) -> (StatusCode, Option<String>, String) {
    upload_to(app, "/admin/images", cookie, body).await
}

async fn upload_to(app: &TestApp, path: &str, cookie: &str, body: Vec<u8>) -> (StatusCode, Option<String>, String) {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let (status, h, page) =
        app.request_bytes("POST", path, &[("cookie", cookie), ("content-type", &content_type)], body).await;
    (status, h.get("location").map(|l| l.to_str().unwrap().to_owned()), page)
}

#[tokio::test]
async fn an_uploaded_photo_is_served_resized_without_its_metadata_and_shown_in_a_page() {
    let (app, cookie, csrf) = signed_in().await;
    let original = photo();
    let fields = [("csrf", csrf.as_str()), ("alt.en", "The courthouse at dusk"), ("alt.de", "Das Gericht am Abend")];
    let (status, location, _) = upload(&app, &cookie, multipart(&fields, Some(("IMG_0815 <b>.jpg", &original)))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let key = location.trim_start_matches("/admin/images/").split('?').next().unwrap().to_owned();
    assert!(key.starts_with("img-") && key.ends_with("-1000x600"), "{key}");
    // The same photo again: not added twice, and the page says its
    // descriptions are as before (those typed now are not saved).
    let again = [("csrf", csrf.as_str()), ("alt.en", "Another description"), ("alt.de", "Eine andere")];
    let (_, location_again, _) = upload(&app, &cookie, multipart(&again, Some(("copy.jpg", &original)))).await;
    assert_eq!(location_again.as_deref(), Some(format!("/admin/images/{key}?known=1").as_str()));
    let (_, _, page) = app.request("GET", &location_again.unwrap(), &[("cookie", &cookie)], "").await;
    assert!(page.contains("in the library already") && page.contains("The courthouse at dusk"), "{page}");

    // Uploads live at /admin/images: /admin/media stays the list of videos and audio.
    let (status, _, videos) = app.request("GET", "/admin/media", &[("cookie", &cookie)], "").await;
    assert!(status == StatusCode::OK && videos.contains("video-dna-tests-2022"), "the videos' list");
    // The editor sees it, named as uploaded (escaped), with a line to copy.
    let (_, _, page) = app.request("GET", &location, &[("cookie", &cookie)], "").await;
    assert!(page.contains("IMG_0815 &lt;b&gt;.jpg"), "the file name is text");
    assert!(page.contains(&format!("![The courthouse at dusk](media:{key})")), "the line for English texts");

    // Variants: resized, re-encoded, without the metadata; the original is not served.
    for (file, content_type) in [("480.jpg", "image/jpeg"), ("1000.webp", "image/webp"), ("960.jpg", "image/jpeg")] {
        let (status, h, bytes) = app.get_raw(&format!("/media/{key}/{file}"), &[]).await;
        assert_eq!((status, h["content-type"].to_str().unwrap()), (StatusCode::OK, content_type), "{file}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(!bytes.windows(6).any(|w| w == b"SERIAL") && !bytes.windows(4).any(|w| w == b"Exif"), "{file}");
        let width: u32 = file.split('.').next().unwrap().parse().unwrap();
        assert_eq!(image::load_from_memory(&bytes).unwrap().width(), width, "{file}");
    }
    for file in ["original.jpg", "1600.jpg", "480.png", "..%2F..%2Fcasefile.db"] {
        assert_eq!(app.get_raw(&format!("/media/{key}/{file}"), &[]).await.0, StatusCode::NOT_FOUND, "{file}");
    }
    let stored = app.state.files_dir.join("media").join(&key).join("original.jpg");
    assert_eq!(std::fs::read(stored).unwrap(), original, "the original is kept, out of reach");

    // Shown in a page: a picture of the variants, with its description.
    let path = "/admin/news/2019-11-25-released-on-parole";
    let (_, _, editor) = app.request("GET", path, &[("cookie", &cookie)], "").await;
    let mut values = crate::admin::editor_values(&editor);
    values.iter_mut().find(|(k, _)| k == "en.body").unwrap().1 =
        format!("Outside:\n\n![The courthouse at dusk](media:{key})");
    let slug = values.iter().find(|(k, _)| k == "en.slug").unwrap().1.clone();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&values).finish();
    let form = ("content-type", "application/x-www-form-urlencoded");
    assert_eq!(app.request("POST", path, &[form, ("cookie", &cookie)], &body).await.0, StatusCode::SEE_OTHER);
    let public = app.get(&format!("/news/{slug}")).await.body;
    assert!(public.contains("<picture><source type=\"image/webp\""), "a picture");
    assert!(
        public.contains(&format!("/media/{key}/480.webp 480w")) && public.contains("alt=\"The courthouse at dusk\"")
    );
    let (status, h, _) = app.get_raw(&public_image(&public), &[]).await;
    assert_eq!((status, h["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));

    // While a text shows it, it cannot be deleted.
    let del = format!("csrf={csrf}");
    let (status, _, page) =
        app.request("POST", &format!("/admin/images/{key}/delete"), &[form, ("cookie", &cookie)], &del).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("2019-11-25-released-on-parole"), "names the text that shows it");
    assert_eq!(app.get_raw(&format!("/media/{key}/480.jpg"), &[]).await.0, StatusCode::OK);

    // The same photo uploaded to the film's site shares its files: deleted
    // there, it stays on the campaign's pages.
    const FILM: &str = "film.localhost:8080";
    let body = format!("email=ed%40example.org&password={}", PASSWORD.replace(' ', "+"));
    let (_, h, _) = app.request("POST", "/admin/sign-in", &[form, ("host", FILM)], &body).await;
    let film = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, _, page) = app.request("GET", "/admin/images", &[("cookie", &film), ("host", FILM)], "").await;
    let film_csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let upload = multipart(&[("csrf", film_csrf.as_str()), ("alt.en", "The courthouse")], Some(("a.jpg", &original)));
    let film_headers = [("cookie", film.as_str()), ("host", FILM)];
    let with_type = [film_headers[0], film_headers[1], ("content-type", content_type.as_str())];
    assert_eq!(app.request_bytes("POST", "/admin/images", &with_type, upload).await.0, StatusCode::SEE_OTHER);
    let del_film = format!("csrf={film_csrf}");
    let with_form = [film_headers[0], film_headers[1], form];
    let path = format!("/admin/images/{key}/delete");
    assert_eq!(app.request("POST", &path, &with_form, &del_film).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.get_raw(&format!("/media/{key}/480.jpg"), &[]).await.0, StatusCode::OK, "the campaign's stays");

    // A text in the trash still holds it: restored, it would show it.
    let news = "/admin/news/2019-11-25-released-on-parole/delete";
    assert_eq!(app.request("POST", news, &[form, ("cookie", &cookie)], &del).await.0, StatusCode::SEE_OTHER);
    let (status, _, page) = app.request("POST", &path, &[form, ("cookie", &cookie)], &del).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("2019-11-25-released-on-parole` (in the trash)"), "{page}");
}

/// The `src` of the first `<img>` of a page's main content.
fn public_image(page: &str) -> String {
    let img = page.split("<picture>").nth(1).unwrap();
    img.split(" src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn mistakes_come_back_with_their_message_and_what_is_not_an_image_is_refused() {
    let (app, cookie, csrf) = signed_in().await;
    // No description in German: the English one comes back, the German field says why.
    let fields = [("csrf", csrf.as_str()), ("alt.en", "A rally"), ("alt.de", " ")];
    let (status, _, page) = upload(&app, &cookie, multipart(&fields, Some(("rally.jpg", &photo())))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"A rally\"") && page.contains("id=\"alt-de-error\""), "{page}");
    // An HTML file named .jpg, and an SVG: refused by their content.
    let fields = [("csrf", csrf.as_str()), ("alt.en", "x"), ("alt.de", "x")];
    for (name, bytes) in
        [("cat.jpg", &b"<html><script>alert(1)</script>"[..]), ("logo.svg", &b"<svg onload=alert(1)/>"[..])]
    {
        let (status, _, page) = upload(&app, &cookie, multipart(&fields, Some((name, bytes)))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(page.contains("not a JPEG, PNG, GIF or WebP image"), "{name}: {page}");
    }
    assert!(app.state.store.media(app.state.site_id).await.unwrap().is_empty(), "nothing stored");
    // Without the token, nothing at all.
    let fields = [("alt.en", "x"), ("alt.de", "x")];
    assert_eq!(upload(&app, &cookie, multipart(&fields, Some(("a.jpg", &photo())))).await.0, StatusCode::FORBIDDEN);
    let wrong = [("csrf", "forged"), ("alt.en", "x"), ("alt.de", "x")];
    assert_eq!(upload(&app, &cookie, multipart(&wrong, Some(("a.jpg", &photo())))).await.0, StatusCode::FORBIDDEN);
    assert!(app.state.store.media(app.state.site_id).await.unwrap().is_empty(), "nothing stored");
}

/// `casefile` with `args`; its standard output, or a panic with both outputs.
fn casefile(args: &[&std::ffi::OsStr]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args);
    crate::db::point(&mut cmd);
    let out = cmd.env_remove("CASEFILE_DATA").stdin(std::process::Stdio::null()).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?}: {said}{}", String::from_utf8_lossy(&out.stderr));
    said
}

#[tokio::test]
async fn uploaded_images_travel_in_a_content_export_and_come_back_on_import() {
    let (app, cookie, csrf) = signed_in().await;
    let fields = [("csrf", csrf.as_str()), ("alt.en", "A vigil"), ("alt.de", "Eine Mahnwache")];
    let (status, location, _) = upload(&app, &cookie, multipart(&fields, Some(("vigil.jpg", &photo())))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let key = location.unwrap().trim_start_matches("/admin/images/").split('?').next().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let (bundle, copy) = (dir.path().join("bundle"), dir.path().join("copy"));
    let os = |s: &str| std::ffi::OsString::from(s);
    casefile(&[&os("export-content"), &os("--data"), app.data().as_os_str(), &os("--out"), bundle.as_os_str()]);
    let list = std::fs::read_to_string(bundle.join("images.toml")).unwrap();
    assert!(list.contains(&format!("key = \"{key}\"")) && list.contains("de = \"Eine Mahnwache\""), "{list}");
    assert_eq!(std::fs::read(bundle.join(format!("images/{key}.jpg"))).unwrap(), photo(), "the original, once");

    let said = casefile(&[&os("import"), bundle.as_os_str(), &os("--data"), copy.as_os_str()]);
    assert!(said.contains(&format!("create  image `{key}`")), "{said}");
    assert!(copy.join(format!("files/media/{key}/480.webp")).is_file(), "the variants are made again");
    let again = casefile(&[&os("import"), bundle.as_os_str(), &os("--data"), copy.as_os_str()]);
    assert!(!again.contains("image `"), "a second import makes nothing: {again}");
    let store = casefile::store::Store::open(&crate::db::store_url(&copy)).await.unwrap();
    let site = store.site_id(&store.first_site_key().await.unwrap().unwrap()).await.unwrap().unwrap();
    let row = store.media_file(site, &key).await.unwrap().expect("recorded");
    assert_eq!((row.name.as_str(), row.alt_in("de").as_str()), ("vigil.jpg", "Eine Mahnwache"));
    store.close().await;
    crate::db::release(&copy);

    // A bundle whose image is not what its key says is refused whole.
    let file = bundle.join(format!("images/{key}.jpg"));
    let other = image::RgbImage::from_fn(50, 50, |_, _| image::Rgb([1, 2, 3]));
    other.save_with_format(&file, image::ImageFormat::Jpeg).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"));
    let fresh = dir.path().join("fresh");
    cmd.arg("import").arg(&bundle).arg("--data").arg(&fresh);
    crate::db::point(&mut cmd);
    let out = cmd.env_remove("CASEFILE_DATA").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("a key names its content") && err.contains("nothing was imported"),
        "{err}"
    );
}

/// A PDF uploaded under Files: stored under a name made from its own, its
/// text read by the real binary in a child process, private until a
/// published document names it, then found by search (and still after the
/// document is saved again in the editor). The same name twice, a file
/// that is not a PDF and a post without the token are refused; a file a
/// document names cannot be deleted, an unused one can.
#[tokio::test]
async fn a_pdf_uploaded_under_files_is_shown_by_a_document_and_found_by_search() {
    let (app, cookie, csrf) = signed_in().await;
    let pdf = crate::documents::tiny_pdf("Serology of the sock found in the rental car");
    let fields = [("csrf", csrf.as_str()), ("name", "")];
    let (status, location, page) =
        upload_to(&app, "/admin/files", &cookie, multipart(&fields, Some(("Serology Report 1985.PDF", &pdf)))).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/admin/files?uploaded=1")), "{page}");
    let name = "serology-report-1985.pdf";
    let (_, _, list) = app.request("GET", "/admin/files", &[("cookie", &cookie)], "").await;
    assert!(
        list.contains(name) && list.contains("9 words"),
        "listed with its text read: {}",
        list.split("<tbody>").nth(1).unwrap_or(&list)
    );
    assert_eq!(std::fs::read(app.state.files_dir.join(name)).unwrap(), pdf);
    assert_eq!(app.get_raw(&format!("/files/{name}"), &[]).await.0, StatusCode::NOT_FOUND, "private until shown");

    // Refused, with the reason beside the field and the name kept.
    for (file_name, bytes, reason) in [
        ("serology-report-1985.pdf", pdf.as_slice(), "exists already"),
        ("notes.pdf", b"<html><script>alert(1)</script>".as_slice(), "not a PDF file"),
    ] {
        let fields = [("csrf", csrf.as_str()), ("name", "")];
        let (status, _, page) =
            upload_to(&app, "/admin/files", &cookie, multipart(&fields, Some((file_name, bytes)))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file_name}");
        assert!(page.contains("class=\"field-error\"") && page.contains(reason), "{file_name}: {reason}");
        assert!(page.contains(&format!("value=\"{file_name}\"")), "the name is kept");
    }
    let (status, _, _) =
        upload_to(&app, "/admin/files", &cookie, multipart(&[("name", "x")], Some(("x.pdf", &pdf)))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");

    // A document with the file, made from "New document with this file".
    assert!(list.contains(&format!("/admin/documents/new?file={name}")));
    let (_, _, editor) =
        app.request("GET", &format!("/admin/documents/new?file={name}"), &[("cookie", &cookie)], "").await;
    let mut values = crate::admin::editor_values(&editor);
    let mut set = |field: &str, value: &str| {
        values.iter_mut().find(|(k, _)| k == field).unwrap_or_else(|| panic!("no field {field}")).1 = value.into();
    };
    for (lang, title) in [("en", "Serology report"), ("de", "Serologisches Gutachten")] {
        set(&format!("{lang}.title"), title);
        set(&format!("{lang}.description"), "A laboratory report.");
    }
    set("field.date", "1985");
    set("status", "published");
    set("key", "serology-report-1985");
    assert!(values.contains(&("field.file".into(), name.into())), "the file is filled in");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let body =
        |values: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(values).finish();
    let (status, _, page) =
        app.request("POST", "/admin/documents/new", &[form, ("cookie", &cookie)], &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", page.split("role=\"alert\"").nth(1).unwrap_or(""));
    let (status, h, bytes) = app.get_raw(&format!("/files/{name}"), &[]).await;
    assert_eq!((status, h["content-type"].to_str().unwrap()), (StatusCode::OK, "application/pdf"));
    assert_eq!(bytes, pdf);
    assert!(searched(&app, "/search?q=rental+sock", "Serology report").await, "the PDF's text is searched");

    // Saved again in the editor: the text stays with the file.
    let path = "/admin/documents/serology-report-1985";
    let (_, _, editor) = app.request("GET", path, &[("cookie", &cookie)], "").await;
    let values = crate::admin::editor_values(&editor);
    assert_eq!(app.request("POST", path, &[form, ("cookie", &cookie)], &body(&values)).await.0, StatusCode::SEE_OTHER);
    let kind = casefile::content::ItemKind::Document;
    let saved = app.state.store.item(app.state.site_id, kind, "serology-report-1985").await.unwrap();
    let Some(casefile::content::Item::Document(saved)) = saved else { panic!("the document is there") };
    assert!(saved.extracted_text.contains("rental car"), "its text stays with the file after an edit");

    // A document may only name a file that exists.
    let mut values = crate::admin::editor_values(&editor);
    values.iter_mut().find(|(k, _)| k == "field.file").unwrap().1 = "missing.pdf".into();
    let (status, _, page) = app.request("POST", path, &[form, ("cookie", &cookie)], &body(&values)).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("there is no file `missing.pdf`"));

    // Deleting: refused while named, done when not.
    let del = format!("csrf={csrf}");
    let (status, _, page) =
        app.request("POST", &format!("/admin/files/{name}/delete"), &[form, ("cookie", &cookie)], &del).await;
    assert!(status == StatusCode::CONFLICT && page.contains("serology-report-1985"), "{status}");
    let fields = [("csrf", csrf.as_str()), ("name", "Spare copy")];
    let (status, _, _) = upload_to(&app, "/admin/files", &cookie, multipart(&fields, Some(("x.pdf", &pdf)))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(app.state.files_dir.join("spare-copy.pdf").exists(), "stored under the name asked for");
    let (status, _, _) =
        app.request("POST", "/admin/files/spare-copy.pdf/delete", &[form, ("cookie", &cookie)], &del).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!app.state.files_dir.join("spare-copy.pdf").exists(), "gone from the disk");
}

/// Whether a search finds `needle` once the index, rebuilt in the
/// background after an edit, is in place (waiting at most ten seconds).
async fn searched(app: &TestApp, path: &str, needle: &str) -> bool {
    for _ in 0..100 {
        if app.get(path).await.body.contains(needle) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
