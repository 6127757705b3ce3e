//! Starting, stopping, bad configuration, and content changes while running.

use std::process::Command;
use std::time::Duration;

use casefile::content::{DescribedText, Item, ItemKind, Lang, MediaItem};
use casefile::store::{Change, Store};

use crate::server::{Server, client};

#[tokio::test]
async fn restarts_on_an_existing_database_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start_in(&data);
    if crate::db::url_for(&data).is_none() {
        assert!(data.join("casefile.db").is_file(), "the database is created under the data folder");
    }
    let status = first.terminate();
    assert!(status.success(), "SIGTERM ends the server cleanly: {status:?}");
    // The search index is kept on disk and reused over unchanged content.
    let index_dirs = || -> Vec<(String, u64)> {
        use std::os::unix::fs::MetadataExt;
        let mut v: Vec<(String, u64)> = std::fs::read_dir(data.join("search"))
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().ino()))
            .collect();
        v.sort();
        v
    };
    let before = index_dirs();
    assert_eq!(before.len(), 1, "one index: {before:?}");

    let second = Server::start_in(&data);
    assert_eq!(index_dirs(), before, "the same index, not built again");
    let lines: Vec<String> = second.log.lock().unwrap().try_iter().collect();
    assert!(!lines.iter().any(|l| l.contains("imported the default site")), "no second import: {lines:?}");
    let res = client().get(second.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(second.terminate().success());
}

#[test]
fn a_port_in_use_is_a_clear_error_not_a_panic() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["serve", "--listen", &addr, "--data"])
        .arg(dir.path().join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")) && err.contains("in use"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    assert!(!dir.path().join("data/casefile.db").exists(), "the port is bound before a database is made");
}

#[test]
fn an_unusable_data_folder_and_a_bad_database_url_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(file.join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot create the data folder"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("d"))
        .args(["--database", "mysql://root@localhost/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_and_version_work_and_a_command_says_what_it_lacks() {
    let out = Command::new(env!("CARGO_BIN_EXE_casefile")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "export", "export-content", "user", "backup", "import"] {
        assert!(help.contains(word), "--help lists {word}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_casefile")).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    // A missing option is a usage error (2) naming it; a missing setting
    // that has no default is an error (1) saying what to give.
    let out = Command::new(env!("CARGO_BIN_EXE_casefile")).arg("export").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["export", "--out"])
        .arg(dir.path().join("site"))
        .env_remove("CASEFILE_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --base-url"));
    assert!(!dir.path().join("site").exists(), "nothing written");
}

/// An edit made in the database (as the admin will make it, or another
/// process sharing the database) reaches visitors without a restart, and
/// media stay click-to-load placeholders.
#[tokio::test]
async fn content_changes_invalidate_the_page_cache() {
    let server = Server::start();
    let c = client();
    let before = c.get(server.url("/case")).send().await.unwrap();
    let etag = before.headers()["etag"].to_str().unwrap().to_owned();
    let body = before.text().await.unwrap();
    assert!(!body.contains("An edited title"));

    // Edits through the store, from another connection, as the admin will
    // make them: each write bumps the content version itself.
    let store = Store::open(&crate::db::store_url(&server.data)).await.unwrap();
    let site_id = store.site_id("jens-soering").await.unwrap().unwrap();
    let change = Change { author: "test", note: "edit while serving" };
    let Some(Item::Page(mut case)) = store.item(site_id, ItemKind::Page, "case").await.unwrap() else {
        panic!("the case page is stored")
    };
    case.text.get_mut(&Lang::En).unwrap().title = "An edited title".into();
    store.update_item(site_id, &Item::Page(case), change).await.unwrap();
    let text = DescribedText { title: "Test video".into(), description: "x".into() };
    let video = MediaItem {
        key: "test-video".into(),
        kind: "video".into(),
        provider: Some("YouTube".into()),
        embed_url: Some("https://www.youtube-nocookie.com/embed/abc".into()),
        text: [(Lang::En, text.clone()), (Lang::De, text)].into(),
        ..MediaItem::default()
    };
    store.create_item(site_id, &Item::Media(video), change).await.unwrap();
    store.close().await;

    let mut changed = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let res = c.get(server.url("/case")).header("if-none-match", &etag).send().await.unwrap();
        if res.status() == 200 {
            changed = Some(res.text().await.unwrap());
            break;
        }
    }
    let body = changed.expect("the page changed within 10 s");
    assert!(body.contains("An edited title"));
    // The search index follows the change.
    let found = c.get(server.url("/search?q=edited")).send().await.unwrap().text().await.unwrap();
    assert!(found.contains("href=\"&#x2f;case\"") || found.contains("href=\"/case\""), "search finds the edited page");

    // The two edits are two commits: the page above may have changed with
    // the first before the second arrived.
    let mut film = String::new();
    for _ in 0..50 {
        film = c.get(server.url("/film")).send().await.unwrap().text().await.unwrap();
        if film.contains("Test video") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let doc = scraper::Html::parse_document(&film);
    let button = scraper::Selector::parse("button.media-load").unwrap();
    let srcs: Vec<&str> = doc.select(&button).filter_map(|b| b.attr("data-src")).collect();
    assert_eq!(srcs, ["https://www.youtube-nocookie.com/embed/abc"], "the placeholder carries the player address");
    let iframe = scraper::Selector::parse("iframe").unwrap();
    assert!(doc.select(&iframe).next().is_none(), "nothing is embedded before a click");
}

/// The operator's theme folder overrides built-in templates and assets.
#[tokio::test]
async fn theme_files_in_the_data_folder_override_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("theme/assets")).unwrap();
    std::fs::create_dir_all(data.join("theme/templates")).unwrap();
    std::fs::write(data.join("theme/assets/style.css"), "body { color: rebeccapurple; }\n").unwrap();
    let not_found = "{% extends \"layout.html\" %}{% block content %}<h1>Custom 404</h1>{% endblock %}";
    std::fs::write(data.join("theme/templates/not_found.html"), not_found).unwrap();
    let server = Server::start_in(&data);
    let c = client();
    let home = c.get(server.url("/")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&home);
    let css = doc
        .select(&scraper::Selector::parse("link[rel=stylesheet]").unwrap())
        .next()
        .unwrap()
        .attr("href")
        .unwrap()
        .to_owned();
    let body = c.get(server.url(&css)).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "body { color: rebeccapurple; }\n");
    let res = c.get(server.url("/missing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Custom 404"));
}

/// SIGTERM while a request is in flight: the request still gets its answer,
/// new connections are refused, and the process exits cleanly.
#[test]
fn a_request_in_flight_finishes_after_sigterm() {
    use std::io::{Read, Write};
    let server = Server::start();
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let body = "name=A&email=a%40example.org&subject=S&message=M";
    write!(conn, "POST /contact HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    conn.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(std::net::TcpStream::connect(&addr).is_err(), "no new connections after SIGTERM");
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    // No form token: the form comes back (422), which proves the handler ran.
    assert!(answer.starts_with("HTTP/1.1 422"), "the in-flight request was answered: {answer:.200}");
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

/// A body over the limit is refused with 413, before it is buffered.
#[tokio::test]
async fn an_oversized_form_body_gets_413() {
    let server = Server::start();
    let res = client()
        .post(server.url("/contact"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("message={}", "x".repeat(200 * 1024)))
        .send()
        .await;
    match res {
        Ok(res) => assert_eq!(res.status(), 413),
        Err(e) => panic!("no answer: {e}"),
    }
}

/// The environment beats the config file: the file names a port that is
/// taken, `CASEFILE_LISTEN` a free one, and the server starts.
#[test]
fn environment_variables_beat_the_config_file() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("casefile.toml");
    std::fs::write(&config, format!("listen = \"{}\"\n", taken.local_addr().unwrap())).unwrap();
    let run = |env_listen: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
        cmd.args(["serve", "--config"]).arg(&config).arg("--data").arg(dir.path().join("data"));
        cmd.env_remove("CASEFILE_LISTEN").env_remove("DATABASE_URL").env_remove("CASEFILE_DATA");
        if let Some(l) = env_listen {
            cmd.env("CASEFILE_LISTEN", l);
        }
        cmd.stderr(std::process::Stdio::piped()).spawn().unwrap()
    };
    // The file alone: its port is taken, a clear error.
    let out = run(None).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // With the environment variable, the file's address is not used.
    let mut child = run(Some("127.0.0.1:0"));
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let started = lines.any(|l| l.is_ok_and(|l| l.contains("listening on http://127.0.0.1:")));
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "CASEFILE_LISTEN overrides the file's listen address");
}

/// The privacy page names the operator from the site settings; `casefile
/// operator` changes them, and a running server shows the change.
#[tokio::test]
async fn the_privacy_page_names_the_operator_from_the_settings() {
    let server = Server::start();
    let c = client();
    let page = c.get(server.url("/privacy")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Friends of Jens Söring") && page.contains("mailto:admin@jenssoering.com"), "the default");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["operator", "--name", "Example Association", "--email", "privacy@example.org", "--data"])
        .arg(&server.data);
    crate::db::point(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("privacy@example.org"));
    let mut shown = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let page = c.get(server.url("/de/datenschutz")).send().await.unwrap().text().await.unwrap();
        if page.contains("mailto:privacy@example.org") {
            assert!(page.contains("Example Association") && !page.contains("admin@jenssoering.com"));
            shown = true;
            break;
        }
    }
    assert!(shown, "the running server shows the new operator within 10 s");
}
