//! The consent flows in a real browser (Debian's Chromium through
//! ChromeDriver): a visitor signs up for the newsletter and signs the
//! petition by typing and clicking, confirms from the mail, and the site
//! stores nothing in the browser and loads nothing from another origin.
//!
//! Without chromium and chromedriver these tests skip with a message, unless
//! `CASEFILE_REQUIRE_BROWSER` is set (CI sets it).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::server::Server;
use crate::smtp::{self, SmtpServer};

struct Driver {
    child: Child,
    port: u16,
    /// The browser profile, deleted with the driver.
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends ChromeDriver and the browsers it started (its process group):
    /// a test that fails before closing its session leaves none behind.
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group only.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn available(test: &str) -> bool {
    let found =
        |bin: &str| Command::new(bin).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    let ok = found("chromedriver") && found("chromium");
    if !ok {
        if std::env::var_os("CASEFILE_REQUIRE_BROWSER").is_some() {
            panic!("{test}: chromium and chromedriver are required (CASEFILE_REQUIRE_BROWSER is set)");
        }
        eprintln!(
            "SKIPPED {test}: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
    }
    ok
}

async fn browser() -> (Driver, Client) {
    let port = smtp::free_port();
    let child = Command::new("chromedriver")
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".to_owned()])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({ "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 format!("--user-data-dir={}", profile.path().display())] } });
    let driver = Driver { child, port, _profile: profile };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let attempt = ClientBuilder::new(connector)
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await;
        match attempt {
            Ok(client) => return (driver, client),
            Err(e) if Instant::now() > deadline => panic!("no browser session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn start(data: &std::path::Path, smtp_url: &str) -> Server {
    std::fs::create_dir_all(data).unwrap();
    let config = data.join("casefile.toml");
    std::fs::write(&config, format!("smtp_url = \"{smtp_url}\"\nform_min_seconds = 0.5\n")).unwrap();
    Server::start_with(data, &["--config", config.to_str().unwrap()])
}

/// Whatever the page stored in the browser, and every resource it loaded
/// from another origin.
async fn storage_and_foreign_loads(c: &Client) -> (String, Vec<String>) {
    let stored = c
        .execute("return document.cookie + '|' + localStorage.length + '|' + sessionStorage.length", vec![])
        .await
        .unwrap();
    let foreign = c
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin))",
            vec![],
        )
        .await
        .unwrap();
    let foreign = foreign.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    (stored.as_str().unwrap().to_owned(), foreign)
}

/// The main text of the page, once it contains `needle` (the browser may
/// still be navigating after a click); panics with the text after 15 s.
async fn wait_text(c: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match c.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "the page never said {needle:?}; it says:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_visitor_subscribes_and_signs_in_a_real_browser() {
    if !available("browser consent flows") || !smtp::available("browser consent flows") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url());
    let (_driver, c) = browser().await;

    // The newsletter, from the German home page's short form.
    c.goto(&server.url("/de/")).await.unwrap();
    let (stored, foreign) = storage_and_foreign_loads(&c).await;
    assert_eq!(stored, "|0|0", "nothing stored in the browser");
    assert!(foreign.is_empty(), "third-party loads: {foreign:?}");
    c.find(Locator::Css("#home-newsletter-email")).await.unwrap().send_keys("mia@example.org").await.unwrap();
    c.find(Locator::Css("#home-newsletter-consent")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.find(Locator::Css(".newsletter-box button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Bitte sehen Sie in Ihr Postfach").await;
    let link = smtp.wait_for("mia@example.org", 1)[0].link("/de/newsletter/confirm?t=");
    c.goto(&link).await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Abonnement bestätigt").await;
    smtp.wait_for("mia@example.org", 2);

    // The petition: a mistake comes back filled in, then it goes through.
    c.goto(&server.url("/pardon")).await.unwrap();
    c.find(Locator::Css("#sign-name")).await.unwrap().send_keys("Mia Muster").await.unwrap();
    c.find(Locator::Css("#sign-email")).await.unwrap().send_keys("mia@example.org").await.unwrap();
    c.find(Locator::Css("#sign-country")).await.unwrap().send_keys("Germany").await.unwrap();
    c.find(Locator::Css("#sign-show_name")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.find(Locator::Css(".petition button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Please tick this box").await;
    let error = c.find(Locator::Css("#sign-consent-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("tick"), "the unticked consent is explained beside the box: {error}");
    let name = c.find(Locator::Css("#sign-name")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(name.as_deref(), Some("Mia Muster"), "what was typed comes back");
    c.find(Locator::Css("#sign-consent")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.find(Locator::Css(".petition button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Please check your inbox").await;
    let link = smtp.wait_for("mia@example.org", 3)[2].link("/pardon/confirm?t=");
    c.goto(&link).await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Thank you for signing").await;
    c.goto(&server.url("/pardon")).await.unwrap();
    let page = wait_text(&c, "1 confirmed signature").await;
    assert!(page.contains("Mia Muster, Germany"), "{page}");

    // After all of it: no cookie, no storage, nothing loaded from elsewhere.
    let (stored, foreign) = storage_and_foreign_loads(&c).await;
    assert_eq!(stored, "|0|0", "nothing stored in the browser");
    assert!(foreign.is_empty(), "third-party loads: {foreign:?}");
    search_in_a_static_copy(&c, &server).await;
    c.close().await.unwrap();
}

/// The site exported as files and served by a plain file server: the
/// search page finds with its own script what the server would find.
async fn search_in_a_static_copy(c: &Client, server: &Server) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["export", "--quiet", "--base-url", "https://static.example", "--data"]).arg(&server.data);
    cmd.arg("--out").arg(out.path());
    crate::db::point(&mut cmd);
    let run = cmd.env_remove("CASEFILE_DATA").output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(out.path()));
    let serving = tokio::spawn(async move { axum::serve(listener, files).await });

    c.goto(&format!("{base}/search.html?q=Haysom")).await.unwrap();
    let text = wait_text(c, "results for “Haysom”").await;
    let hits = c.find_all(Locator::Css("#search-results ol.results li h2 a")).await.unwrap();
    assert!(hits.len() >= 3, "several results: {text}");
    let first = hits[0].attr("href").await.unwrap().unwrap();
    assert!(first.starts_with('/'), "results link into the site: {first}");
    c.goto(&format!("{base}/de/suche.html?q=Soering&type=timeline")).await.unwrap();
    wait_text(c, "Ergebnisse für „Soering“").await;
    for kind in c.find_all(Locator::Css("#search-results .kind")).await.unwrap() {
        assert_eq!(kind.text().await.unwrap(), "Chronik", "only timeline events, as the type asks");
    }
    c.goto(&format!("{base}/search.html?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")).await.unwrap();
    let none = wait_text(c, "Nothing was found").await;
    assert!(none.contains("<img src=x onerror=alert(1)>"), "the query shown as text: {none}");
    let (_, foreign) = storage_and_foreign_loads(c).await;
    assert!(foreign.is_empty(), "third-party loads: {foreign:?}");
    serving.abort();
}

/// An editor drops a file on the upload form, chooses a photo, describes
/// it in both languages, puts the line the admin gives into a news post,
/// and the public page shows the picture, loaded from the site itself.
async fn an_image_goes_into_a_page(c: &Client, server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("courthouse.jpg");
    image::RgbImage::from_fn(1300, 700, |x, y| image::Rgb([(x / 6) as u8, (y / 3) as u8, 140])).save(&photo).unwrap();
    c.goto(&server.url("/admin/images")).await.unwrap();
    wait_text(c, "Image file").await;
    look(c, "admin-10i-media").await;
    // A drop on the form fills its file field (what admin.js adds).
    let dropped = c
        .execute(
            "const form = document.querySelector('form.upload');
             const data = new DataTransfer();
             data.items.add(new File(['x'], 'dropped.jpg', { type: 'image/jpeg' }));
             form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
             return document.getElementById('file').files[0].name;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dropped, "dropped.jpg", "a dropped file lands in the field");
    c.find(Locator::Css("#file")).await.unwrap().send_keys(photo.to_str().unwrap()).await.unwrap();
    c.find(Locator::Css("#alt-en")).await.unwrap().send_keys("The courthouse in winter").await.unwrap();
    c.find(Locator::Css("#alt-de")).await.unwrap().send_keys("Das Gericht im Winter").await.unwrap();
    c.find(Locator::Css("form.upload button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(c, "Uploaded.").await;
    look(c, "admin-10j-media-uploaded").await;
    let line = c.find(Locator::Css("#snippet-en")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(line.starts_with("![The courthouse in winter](media:img-"), "{line}");

    let path = "/admin/news/2019-12-21-new-yorker-article";
    c.goto(&server.url(path)).await.unwrap();
    wait_text(c, "More fields").await;
    let body = c.find(Locator::Css("#en-body")).await.unwrap();
    body.send_keys(&format!("\n\n{line}\n")).await.unwrap();
    let slug = c.find(Locator::Css("#en-slug")).await.unwrap().prop("value").await.unwrap().unwrap();
    c.find(Locator::Css("form.editor button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(c, "Saved. The site shows it now.").await;
    c.goto(&server.url(&format!("/news/{slug}"))).await.unwrap();
    wait_text(c, "").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let shown = c
            .execute(
                "const img = document.querySelector('main picture img');
                 if (img) img.scrollIntoView(); // it loads lazily: only once in view
                 return img && img.complete && img.naturalWidth ? [img.naturalWidth, img.currentSrc, img.alt] : null;",
                vec![],
            )
            .await
            .unwrap();
        if !shown.is_null() || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!shown.is_null(), "the picture is on the page and loads: {}", c.source().await.unwrap_or_default());
    let src = shown[1].as_str().unwrap_or_default();
    assert!(
        src.starts_with(&format!("{}/media/img-", server.base)) && src.ends_with(".webp"),
        "WebP from the site: {src}"
    );
    assert_eq!(shown[2], "The courthouse in winter");
    look(c, "admin-10k-picture-on-the-site").await;
    c.goto(&server.url("/admin/images")).await.unwrap();
    wait_text(c, "Image file").await;
}

/// Runs axe-core (the file `CASEFILE_AXE_JS` names, which `.ci/run` sets)
/// on the page and returns its violations; `None` when axe is not at hand.
async fn axe_violations(c: &Client) -> Option<Vec<String>> {
    let Some(path) = std::env::var_os("CASEFILE_AXE_JS") else {
        assert!(std::env::var_os("CASEFILE_REQUIRE_AXE").is_none(), "CASEFILE_AXE_JS must name axe.min.js");
        return None;
    };
    let source = std::fs::read_to_string(path).expect("axe.min.js");
    c.execute(&format!("{source}\nreturn true;"), vec![]).await.unwrap();
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
           .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));";
    let found = c.execute_async(run, vec![]).await.unwrap();
    Some(found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect())
}

/// Checks the page with axe (when available) and saves a screenshot under
/// `target/screenshots/`.
async fn look(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
    if let Some(violations) = axe_violations(c).await {
        assert!(violations.is_empty(), "{name}: accessibility violations: {violations:#?}");
    }
}

/// An editor signs in, edits a news post in both languages' editor, sees it
/// on the public site, restores the earlier revision and signs out; every
/// admin page passes axe and is photographed.
#[tokio::test]
async fn an_editor_edits_in_the_admin_in_a_real_browser() {
    if !available("admin in the browser") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (email, role) in [("ed@example.org", "editor"), ("own@example.org", "owner")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
        cmd.args(["user", "add", "--email", email, "--role", role, "--data"]).arg(&data);
        crate::db::point(&mut cmd);
        let mut add = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::io::Write::write_all(add.stdin.as_mut().unwrap(), b"correct horse battery staple\n").unwrap();
        assert!(add.wait().unwrap().success(), "casefile user add");
    }
    let server = Server::start_in(&data);
    let (_driver, c) = browser().await;

    c.goto(&server.url("/admin")).await.unwrap();
    wait_text(&c, "Sign in").await;
    look(&c, "admin-01-sign-in").await;
    c.find(Locator::Css("#email")).await.unwrap().send_keys("ed@example.org").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery staple").await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Drafts").await;
    look(&c, "admin-02-dashboard").await;
    let cookie = c.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookie, "", "the session cookie is out of reach of scripts");

    c.goto(&server.url("/admin/news")).await.unwrap();
    wait_text(&c, "2019-11-25-released-on-parole").await;
    look(&c, "admin-03-news").await;
    c.goto(&server.url("/admin/news/2019-11-25-released-on-parole")).await.unwrap();
    wait_text(&c, "More fields").await;
    look(&c, "admin-04-editor").await;
    // Typing narrows the source picker; the sources already chosen stay.
    c.find(Locator::Css("#sources-filter")).await.unwrap().send_keys("roanoke").await.unwrap();
    let shown = c
        .execute("return [...document.querySelectorAll('#sources option')].filter(o => !o.hidden).map(o => [o.value, o.selected]);", vec![])
        .await
        .unwrap();
    let shown = shown.as_array().unwrap();
    assert!(shown.iter().all(|o| o[1] == true || o[0].as_str().unwrap().contains("roanoke")), "{shown:?}");
    assert!(shown.iter().any(|o| o[1] == false), "a match not chosen yet is offered: {shown:?}");
    c.find(Locator::Css("#sources-filter")).await.unwrap().clear().await.unwrap();
    let title = c.find(Locator::Css("#en-title")).await.unwrap();
    let before = title.prop("value").await.unwrap().unwrap();
    live_preview_follows_the_text(&c).await;
    let title = c.find(Locator::Css("#en-title")).await.unwrap();
    title.clear().await.unwrap();
    title.send_keys("Released on parole (edited in a browser)").await.unwrap();
    c.find(Locator::Css("form.editor button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Saved. The site shows it now.").await;
    look(&c, "admin-05-saved").await;
    let slug = c.find(Locator::Css("#en-slug")).await.unwrap().prop("value").await.unwrap().unwrap();
    c.goto(&server.url(&format!("/news/{slug}"))).await.unwrap();
    wait_text(&c, "Released on parole (edited in a browser)").await;
    look(&c, "admin-06-public").await;

    c.goto(&server.url("/admin/news/2019-11-25-released-on-parole/revisions")).await.unwrap();
    wait_text(&c, "Fields changed").await;
    look(&c, "admin-07-revisions").await;
    c.find(Locator::Css("main table form button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Saved. The site shows it now.").await;
    let restored = c.find(Locator::Css("#en-title")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert_eq!(restored, before, "the earlier revision is back");

    for (path, name) in [
        ("/admin/news/new", "admin-08-new"),
        ("/admin/trash", "admin-09-trash"),
        ("/admin/users", "admin-10-owners-only"),
        ("/admin/subscribers", "admin-10a-subscribers"),
        ("/admin/signatures", "admin-10b-signatures"),
        ("/admin/inbox", "admin-10c-inbox"),
        ("/admin/erase", "admin-10d-erase"),
        ("/admin/two-factor", "admin-10e-two-factor"),
        ("/admin/account", "admin-10g-account"),
        ("/admin/news/2019-11-25-released-on-parole/review-links", "admin-10f-review-links"),
        ("/admin/files", "admin-10l-files"),
        ("/admin/press/crime-story-2020", "admin-10m-fields"),
        ("/admin/petitions/pardon-support", "admin-10n-yes-no"),
        // Last: the newsletter steps below begin on this page.
        ("/admin/newsletters", "admin-10h-newsletters"),
    ] {
        c.goto(&server.url(path)).await.unwrap();
        wait_text(&c, "").await;
        look(&c, name).await;
    }
    newsletter_test_goes_out(&c, &data).await;
    an_image_goes_into_a_page(&c, &server).await;
    c.find(Locator::Css(".sign-out button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "You are signed out.").await;
    look(&c, "admin-11-signed-out").await;

    // An owner sees the users and the audit log, which names the edit.
    c.find(Locator::Css("#email")).await.unwrap().send_keys("own@example.org").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery staple").await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_text(&c, "Needs translating").await;
    c.goto(&server.url("/admin/users")).await.unwrap();
    wait_text(&c, "ed@example.org").await;
    look(&c, "admin-12-users").await;
    c.goto(&server.url("/admin/audit")).await.unwrap();
    wait_text(&c, "2019-11-25-released-on-parole").await;
    look(&c, "admin-13-audit").await;
    c.goto(&server.url("/admin/settings")).await.unwrap();
    wait_text(&c, "Who runs the site").await;
    look(&c, "admin-14-settings").await;

    xss_corpus_never_runs(&c, &server).await;
    c.close().await.unwrap();
}

/// A newsletter written in the browser, previewed, and sent as a test to
/// the editor (without SMTP, the mail lands in `<data>/mail/`).
async fn newsletter_test_goes_out(c: &Client, data: &std::path::Path) {
    c.find(Locator::Css("#subject")).await.unwrap().send_keys("Campaign news").await.unwrap();
    c.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    wait_text(c, "Text (Markdown)").await;
    c.find(Locator::Css("#body")).await.unwrap().send_keys("## The petition\n\nPlease *sign* it.").await.unwrap();
    c.find(Locator::Css("form.editor button")).await.unwrap().click().await.unwrap();
    wait_text(c, "Saved.").await;
    look(c, "admin-10i-newsletter").await;
    c.find(Locator::Css("form.inline button")).await.unwrap().click().await.unwrap();
    wait_text(c, "A test is on its way").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mails: Vec<String> = std::fs::read_dir(data.join("mail"))
            .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect())
            .unwrap_or_default();
        if mails.iter().any(|m| m.contains("[Test] Campaign news") && m.contains("To: ed@example.org")) {
            break;
        }
        assert!(Instant::now() < deadline, "the test newsletter was not sent within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The preview button opens the preview in a window of its own; typing in
/// the editor then updates that window (`assets/admin.js`), saving nothing.
async fn live_preview_follows_the_text(c: &Client) {
    let editor = c.window().await.unwrap();
    c.find(Locator::Css("button[data-preview]")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let preview = loop {
        let windows = c.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != editor) {
            break w;
        }
        assert!(Instant::now() < deadline, "the preview window never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.switch_to_window(preview.clone()).await.unwrap();
    wait_text(c, "released on parole").await;
    c.switch_to_window(editor.clone()).await.unwrap();
    c.find(Locator::Css("#en-title")).await.unwrap().send_keys(" (live)").await.unwrap();
    c.switch_to_window(preview).await.unwrap();
    wait_text(c, "(live)").await;
    look(c, "admin-04a-live-preview").await;
    c.close_window().await.unwrap();
    c.switch_to_window(editor).await.unwrap();
    c.refresh().await.unwrap();
    wait_text(c, "More fields").await;
}

/// Markup typed into every text field of an item (and the site settings)
/// stays text on every page that shows it, public and admin: nothing runs,
/// no element is injected. The page's own policy would stop inline
/// scripts anyway, so the test looks for the elements, not only for what
/// ran.
async fn xss_corpus_never_runs(c: &Client, server: &Server) {
    const CORPUS: [&str; 6] = [
        "<script>window.__xss=1</script>",
        "<img src=x onerror=\"window.__xss=2\">",
        "\"><svg onload=window.__xss=3>",
        "'><iframe srcdoc=\"<script>parent.__xss=4</script>\"></iframe>",
        "[click](javascript:window.__xss=5) <a href=\"javascript:window.__xss=6\">x</a>",
        "{{ 7*7 }}{% raw %}<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=7>",
    ];
    // A post the browser has not loaded yet (it may keep a page it saw).
    let path = "/admin/news/2016-07-29-new-dna-evidence";
    c.goto(&server.url(path)).await.unwrap();
    wait_text(c, "More fields").await;
    for (field, payload) in
        ["#en-title", "#en-summary", "#en-body", "#de-title", "#de-summary", "#de-body"].into_iter().zip(CORPUS)
    {
        let input = c.find(Locator::Css(field)).await.unwrap();
        input.clear().await.unwrap();
        // The body keeps a line of ordinary text so the post still reads as one.
        input.send_keys(&format!("Text {payload} after")).await.unwrap();
    }
    let slug = c.find(Locator::Css("#en-slug")).await.unwrap().prop("value").await.unwrap().unwrap();
    c.find(Locator::Css("form.editor button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(c, "Saved. The site shows it now.").await;
    let injected = "return [window.__xss || 0, document.querySelectorAll(\
        'main script, main img[onerror], main svg, main iframe, main a[href^=\"javascript\"], main math').length]";
    let news_list = "/news".to_owned();
    let public = format!("/news/{slug}");
    for page in
        [path.to_owned(), format!("{path}/revisions"), "/admin/news".into(), public, news_list, "/search?q=Text".into()]
    {
        c.goto(&server.url(&page)).await.unwrap();
        wait_text(c, "").await;
        let found = c.execute(injected, vec![]).await.unwrap();
        assert_eq!(found, serde_json::json!([0, 0]), "{page}: markup from a field became markup");
    }
    // The payloads are there, shown as the text they are.
    c.goto(&server.url(&format!("/news/{slug}"))).await.unwrap();
    wait_text(c, "Text <script>window.__xss=1</script> after").await;
    // And the check would see an injected element.
    c.execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<svg></svg>')", vec![]).await.unwrap();
    assert_eq!(c.execute(injected, vec![]).await.unwrap(), serde_json::json!([0, 1]));
}
