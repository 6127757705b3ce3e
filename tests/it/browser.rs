//! The consent flows in a real browser (Debian's Chromium through
//! ChromeDriver): a visitor signs up for the newsletter and signs the
//! petition by typing and clicking, confirms from the mail, and the site
//! stores nothing in the browser and loads nothing from another origin.
//!
//! Without chromium and chromedriver these tests skip with a message, unless
//! `CASEFILE_REQUIRE_BROWSER` is set (CI sets it).

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
    fn drop(&mut self) {
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
    c.close().await.unwrap();
}
