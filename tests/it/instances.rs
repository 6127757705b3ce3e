//! Several processes on one PostgreSQL database behave as one site: two
//! `casefile serve` over one data folder (the shared volume of a real
//! deployment) share sessions and edits, and `serve --no-worker` leaves the
//! mail to `casefile worker`. These run in the suite's PostgreSQL pass; on
//! SQLite the file's lock allows one process, which is tested too.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::forms::{entries_under, submit};
use crate::server::{Server, client};

const PASSWORD: &str = "correct horse battery staple";

/// Whether the suite runs on PostgreSQL; says why not otherwise.
fn on_postgres(test: &str) -> bool {
    let on = crate::db::postgres_server().is_some();
    if !on {
        eprintln!("{test}: skipped, several instances need PostgreSQL (set CASEFILE_TEST_POSTGRES)");
    }
    on
}

/// Runs `casefile ARGS --data DATA` with `input` on standard input; returns
/// standard output and panics on failure.
fn casefile(data: &Path, args: &[&str], input: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args).arg("--data").arg(data);
    crate::db::point(&mut cmd);
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn two_instances_on_one_database_share_sessions_and_edits() {
    if !on_postgres("two instances") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = Server::start_in(&data);
    let b = Server::start_in(&data);
    casefile(&data, &["user", "add", "--email", "own@example.org", "--role", "owner"], &format!("{PASSWORD}\n"));
    let token = casefile(&data, &["token", "add", "--email", "own@example.org", "--name", "test"], "");
    let auth = format!("Bearer {}", token.trim());
    let c = client();

    // A session made on one instance is good on the other.
    let res = c
        .post(a.url("/admin/sign-in"))
        .header("origin", &a.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("email", "own@example.org"), ("password", PASSWORD)])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in on A");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let on_b = c.get(b.url("/admin")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(on_b.status(), 200, "B knows A's session");
    assert!(on_b.text().await.unwrap().contains("own@example.org"));
    let stranger = c.get(b.url("/admin")).send().await.unwrap();
    assert_ne!(stranger.status(), 200, "and no one else's");

    // An edit through A's Admin API is served by B within a second.
    let item = c.get(a.url("/api/admin/v1/pages/case")).header("authorization", &auth).send().await.unwrap();
    assert_eq!(item.status(), 200);
    let etag = item.headers()["etag"].to_str().unwrap().to_owned();
    let mut page: Value = serde_json::from_str(&item.text().await.unwrap()).unwrap();
    page["en"]["title"] = json!("Edited on instance A");
    assert!(!c.get(b.url("/case")).send().await.unwrap().text().await.unwrap().contains("Edited on instance A"));
    let put = c
        .put(a.url("/api/admin/v1/pages/case"))
        .header("authorization", &auth)
        .header("if-match", &etag)
        .header("content-type", "application/json")
        .body(page.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    let saved = Instant::now();
    loop {
        let body = c.get(b.url("/case")).send().await.unwrap().text().await.unwrap();
        if body.contains("Edited on instance A") {
            break;
        }
        assert!(saved.elapsed() < Duration::from_secs(1), "B still serves the old page a second after the edit");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The search index follows on B too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .get(b.url("/search?q=instance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Edited on instance A")
    {
        assert!(Instant::now() < deadline, "B's search never found the edit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_worker_sends_what_a_server_without_jobs_queues() {
    if !on_postgres("separate worker") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = crate::forms::start(&data, "", "no_worker = true\n");
    let res = submit(&client(), &server, "/newsletter", &[("email", "w@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 303);
    let mail = data.join("mail");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mails(&mail), 0, "serve --no-worker sends nothing itself");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["worker", "--data"]).arg(&data).args(["--config"]).arg(data.join("casefile.toml"));
    crate::db::point(&mut cmd);
    let mut worker = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while mails(&mail) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(mails(&mail), 1, "the worker sent the confirmation, once");
}

/// The mails written as files under `dir`.
fn mails(dir: &Path) -> usize {
    if !dir.exists() {
        return 0;
    }
    entries_under(dir).iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).count()
}

/// On SQLite one process serves and works: a worker beside a running
/// server is refused, naming it.
#[test]
fn on_sqlite_a_worker_beside_a_server_is_refused() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _server = Server::start_in(&data);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["worker", "--data"]).arg(&data);
    crate::db::point(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is serving the database"), "{err}");
}
