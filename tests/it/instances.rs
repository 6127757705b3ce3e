//! Several processes on one PostgreSQL database behave as one site: two
//! `casefile serve` over one data folder (the shared volume of a real
//! deployment) share sessions and edits, and `serve --no-worker` leaves the
//! mail to `casefile worker`; a sign-up made on one is confirmed through the
//! other; two workers deliver 1,000 mails once, one of them killed
//! mid-batch; PostgreSQL stopped and started under load loses nothing;
//! an outage of the database is a clean 503,
//! recovered from without a restart. These run in the suite's PostgreSQL pass; on
//! SQLite the file's lock allows one process, which is tested too.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::forms::{entries_under, follow, submit};
use crate::server::{Server, client};
use crate::smtp::SmtpServer;

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
    let mut worker = Worker(cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    while mails(&mail) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.kill_hard();
    assert_eq!(mails(&mail), 1, "the worker sent the confirmation, once");
}

/// Instances started at the same moment on an empty database: one creates
/// the default site, the other serves it (it does not exit on the clash).
#[tokio::test]
async fn instances_started_together_on_an_empty_database_serve_one_site() {
    if !on_postgres("instances started together") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let data = data.clone();
            std::thread::spawn(move || Server::start_in(&data))
        })
        .collect();
    let servers: Vec<Server> = starts.into_iter().map(|s| s.join().expect("every instance starts")).collect();
    for s in &servers {
        assert_eq!(client().get(s.url("/de/fall")).send().await.unwrap().status(), 200);
    }
    let pool = crate::db::pool(&data).await;
    let sites: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites").fetch_one(&pool).await.unwrap();
    assert_eq!(sites, 2, "the campaign's and the documentary's, once each");
    let shared: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM item_sites").fetch_one(&pool).await.unwrap();
    assert_eq!(shared, 28, "the film site's shared items, linked once");
}

/// A newsletter sign-up made on one instance is confirmed through the
/// other's address: the link's token is signed with the key they share,
/// and the welcome mail goes out once.
#[tokio::test]
async fn a_sign_up_on_one_instance_is_confirmed_through_the_other() {
    if !on_postgres("sign-up across instances") || !crate::smtp::available("sign-up across instances") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = crate::forms::start(&data, &smtp.url(), "");
    let b = crate::forms::start(&data, &smtp.url(), "");
    let c = client();
    let who = "across@example.org";
    let res = submit(&c, &a, "/newsletter", &[("email", who), ("consent", "yes")]).await;
    assert_eq!(res.status(), 303);
    let link = smtp.wait_for(who, 1)[0].link("/newsletter/confirm?t=");
    assert!(link.starts_with(&a.base), "{link}");
    let through_b = link.replacen(&a.base, &b.base, 1);
    assert!(follow(&c, &b, &through_b).await.contains("Subscription confirmed"));
    assert_eq!(smtp.wait_for(who, 2).len(), 2);
    assert_eq!(smtp.settled(who, Duration::from_secs(2)).len(), 2, "one welcome mail, from one of the two workers");
}

/// 1,000 queued mails, two `casefile worker` processes and a real SMTP
/// server: each mail is delivered once. One worker is killed (SIGKILL)
/// while it holds claimed mails; the other sends them when their lease
/// runs out. Only the one mail in flight at the kill may go out twice (the
/// server took it, the worker died before recording it): no queue can
/// know that; its Message-ID is the same, so the receiver can tell.
#[tokio::test]
async fn a_thousand_mails_two_workers_and_a_kill_each_mail_goes_out_once() {
    if !on_postgres("two workers") || !crate::smtp::available("two workers") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let url = crate::db::url_for(&data_a).unwrap();
    let store = casefile::store::Store::open(&url).await.unwrap();
    let site = casefile::bundle::parse(&casefile::bundle::default_files()).unwrap();
    let site_id = store.import_site(&site, casefile::store::Change { author: "test", note: "import" }).await.unwrap();
    let worker = |data: &Path, log: &str| {
        let config = crate::forms::write_config(data, &smtp.url(), "");
        let log = std::fs::File::create(dir.path().join(log)).unwrap();
        Worker(
            Command::new(env!("CARGO_BIN_EXE_casefile"))
                .args(["worker", "--database", &url, "--config", config.to_str().unwrap(), "--data"])
                .arg(data)
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    };
    let mut a = worker(&data_a, "a.log");
    let mut b = worker(&data_b, "b.log");
    let mails: Vec<_> = (0..1000)
        .map(|n| crate::store::mail(format!("bulk-{n}@example.org"), format!("reader{n}@example.org")))
        .collect();
    store.queue_mails(site_id, &mails, casefile::store::now()).await.unwrap();

    // Kill worker A while it holds claims, some mails already delivered.
    let pool = crate::db::pool(&data_a).await;
    let name_a = format!("%:{}", data_a.canonicalize().unwrap().display());
    let held_by_a = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE state = 'sending' AND claimed_by LIKE $1")
            .bind(&name_a)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(smtp.count() >= 50 && held_by_a().await > 0) {
        assert!(Instant::now() < deadline, "worker A never held claims; {} mails arrived", smtp.count());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.kill_hard();
    let stranded = held_by_a().await;
    assert!(stranded > 0, "A died holding claimed mails");

    // B sends the rest, and A's mails once their lease (60 s) runs out.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let mut distinct: Vec<String> = smtp.mails().into_iter().map(|m| m.message_id).collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() >= 1000 {
            break;
        }
        assert!(Instant::now() < deadline, "{} of 1000 mails delivered ({stranded} stranded by A)", distinct.len());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.kill_hard();
    let total = smtp.count();
    assert!(total <= 1001, "{total} deliveries for 1000 mails: more than the one in flight went out twice");
    let unsent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'").fetch_one(&pool).await.unwrap();
    assert_eq!(unsent, 0, "every mail recorded as sent");
}

/// A `casefile worker` process, killed when dropped (a failing test
/// leaves none behind).
struct Worker(std::process::Child);

impl Worker {
    /// SIGKILL, as a crash would.
    fn kill_hard(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill_hard();
    }
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

/// A TCP relay to the PostgreSQL server that the test can cut, as a
/// restart or a network outage would: open connections are reset and new
/// ones closed at once until it is restored.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn to(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, open) = (Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(Vec::<TcpStream>::new())));
        let (up2, open2, upstream) = (Arc::clone(&up), Arc::clone(&open), upstream.to_owned());
        // Ends with the test process (it blocks in accept).
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                if !up2.load(Ordering::SeqCst) {
                    continue; // both dropped: the client sees the connection closed
                }
                let mut held = open2.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { addr, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// While the database is unreachable, cached pages are still served and a
/// form post gets a 503 page in the visitor's language with `Retry-After`;
/// once it is back, the same instance takes posts again, unrestarted, and
/// nothing it acknowledged is lost.
#[tokio::test]
async fn a_database_outage_is_a_clean_503_and_the_instance_recovers_by_itself() {
    if !on_postgres("database outage") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let direct = crate::db::url_for(&data).unwrap();
    let server_addr = direct.split('@').nth(1).unwrap().split('/').next().unwrap().to_owned();
    let relay = Relay::to(&server_addr);
    let relayed = direct.replace(&server_addr, &relay.addr.to_string());
    let server = crate::forms::start_with_args(&data, "", "", &["--database", &relayed]);
    let c = client();
    assert_eq!(c.get(server.url("/de/")).send().await.unwrap().status(), 200, "cached before the outage");
    let before = submit(&c, &server, "/newsletter", &[("email", "before@example.org"), ("consent", "yes")]).await;
    assert_eq!(before.status(), 303);

    relay.cut();
    assert_eq!(c.get(server.url("/de/")).send().await.unwrap().status(), 200, "cached pages stay up");
    let during = submit(&c, &server, "/de/newsletter", &[("email", "during@example.org"), ("consent", "yes")]).await;
    let status = during.status();
    let log: Vec<String> = server.log.lock().unwrap().try_iter().collect();
    assert_eq!(status, 503, "the server said:\n{}", log.join("\n"));
    assert!(during.headers().contains_key("retry-after"));
    let page = during.text().await.unwrap();
    assert!(page.contains("lang=\"de\""), "the notice is in the visitor's language");
    // The petition page shows a live count: not cached yet, it needs the database.
    let uncached = c.get(server.url("/de/begnadigung")).send().await.unwrap();
    assert_eq!(uncached.status(), 503);
    assert!(uncached.headers().contains_key("retry-after"));
    assert!(uncached.text().await.unwrap().contains("Gerade nicht erreichbar"), "a page in German");
    assert_eq!(c.get(server.url("/healthz")).send().await.unwrap().status(), 200, "alive: no restart helps");
    assert_eq!(c.get(server.url("/readyz")).send().await.unwrap().status(), 503, "not ready: send traffic elsewhere");

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let after = submit(&c, &server, "/newsletter", &[("email", "after@example.org"), ("consent", "yes")]).await;
        if after.status() == 303 {
            break;
        }
        assert!(Instant::now() < deadline, "the instance did not recover: {}", after.status());
    }
    assert_eq!(c.get(server.url("/de/begnadigung")).send().await.unwrap().status(), 200);
    let pool = crate::db::pool(&data).await;
    let emails: Vec<String> =
        sqlx::query_scalar("SELECT email FROM subscribers ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(emails, ["before@example.org", "after@example.org"], "what was acknowledged is there, once");
}

/// A PostgreSQL server of the test's own, so that it can be restarted
/// without disturbing the other tests: `initdb` into a fresh folder, then
/// `pg_ctl` on a free port (as the `postgres` system user when the tests
/// run as root, which PostgreSQL refuses to run as). Stopped on drop.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    dir: String,
    port: u16,
}

impl PrivatePostgres {
    /// `None` (the test skips) where PostgreSQL's server programs are not
    /// installed, say with the suite's server in a container; in CI they
    /// are, and a missing one fails.
    fn start() -> Option<PrivatePostgres> {
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.filter_map(Result::ok).map(|v| v.path().join("bin")).max())
            .filter(|bin| bin.join("initdb").exists())
        else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs PostgreSQL's server programs (apt-get install postgresql)"
            );
            eprintln!("skipped: no /usr/lib/postgresql/<version>/bin/initdb to start a server of the test's own");
            return None;
        };
        let dir = as_postgres("mktemp -d /tmp/casefile-pg.XXXXXX").trim().to_owned();
        let port = crate::smtp::free_port();
        let pg = PrivatePostgres { bin, dir, port };
        as_postgres(&format!("{} -D {}/data -A trust -U postgres --no-sync > /dev/null", pg.tool("initdb"), pg.dir));
        pg.ctl("start");
        Some(pg)
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    /// `pg_ctl ACTION`, waiting until it is done; a stop with `-m fast`
    /// ends every open connection, as an operator's restart does.
    fn ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir);
        as_postgres(&format!(
            "{} -D {}/data -l {}/log -m fast -w -o '{options}' {action} > /dev/null",
            self.tool("pg_ctl"),
            self.dir,
            self.dir
        ));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // No panic here: a test failing already unwinds through this.
        let stop = format!("{} -D {}/data -m immediate -w stop > /dev/null 2>&1", self.tool("pg_ctl"), self.dir);
        let _ = std::panic::catch_unwind(|| as_postgres(&format!("{stop}; rm -rf {}", self.dir)));
    }
}

/// Runs a shell command as the `postgres` user if this process is root,
/// else as itself; returns its standard output and panics on failure.
fn as_postgres(script: &str) -> String {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    };
    let out = cmd.current_dir("/tmp").output().expect("sh runs");
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// PostgreSQL stopped (`pg_ctl stop -m fast`, ending every connection) and
/// started again seven seconds later while two instances serve cached pages
/// and take sign-ups: every page request is answered 200, every post 303
/// or 503 (some 503, while it was down), both instances take posts again
/// without a restart of their own, and every post answered 303 is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_under_load_loses_nothing_acknowledged() {
    if !on_postgres("PostgreSQL restarted under load") {
        return;
    }
    let Some(pg) = PrivatePostgres::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let extra = "form_rate_limit = 100000\n";
    let a = crate::forms::start_with_args(&data, "", extra, &["--database", &pg.url()]);
    let b = crate::forms::start_with_args(&data, "", extra, &["--database", &pg.url()]);
    let servers = Arc::new([a, b]);
    let c = client();
    for s in servers.iter() {
        assert_eq!(c.get(s.url("/de/")).send().await.unwrap().status(), 200);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let posts = Arc::new(Mutex::new(Vec::<(usize, String, u16, Instant)>::new()));
    let mut load = Vec::new();
    for worker in 0..12 {
        let (servers, stop, posts, c) = (servers.clone(), stop.clone(), posts.clone(), c.clone());
        load.push(tokio::spawn(async move {
            let s = &servers[worker % 2];
            let mut n = 0;
            let mut pages_not_200 = 0;
            while !stop.load(Ordering::SeqCst) {
                if c.get(s.url("/de/")).send().await.unwrap().status() != 200 {
                    pages_not_200 += 1;
                }
                let email = format!("w{worker}-{n}@example.org");
                let res = submit(&c, s, "/newsletter", &[("email", &email), ("consent", "yes")]).await;
                posts.lock().unwrap().push((worker % 2, email, res.status().as_u16(), Instant::now()));
                n += 1;
            }
            pages_not_200
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restarted_at = Instant::now();
    // Down for seven seconds, then back: longer than an instance waits for
    // a connection (5 s), so posts in the meantime get 503 (a shorter
    // outage only delays them).
    let pg = tokio::task::spawn_blocking(move || {
        pg.ctl("stop");
        std::thread::sleep(Duration::from_secs(7));
        pg.ctl("start");
        pg
    })
    .await
    .unwrap();
    // The load goes on until both instances took posts again.
    let recovered =
        |i| posts.lock().unwrap().iter().any(|(s, _, status, at)| *s == i && *status == 303 && *at > restarted_at);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(recovered(0) && recovered(1)) {
        assert!(Instant::now() < deadline, "an instance took no post after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let mut pages_not_200 = 0;
    for l in load {
        pages_not_200 += l.await.unwrap();
    }
    assert_eq!(pages_not_200, 0, "cached pages answered 200 throughout");
    let posts = posts.lock().unwrap().clone();
    let odd: Vec<_> = posts.iter().filter(|p| p.2 != 303 && p.2 != 503).collect();
    assert!(odd.is_empty(), "posts answer 303 or 503: {odd:?}");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pg.url()).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT email FROM subscribers").fetch_all(&pool).await.unwrap();
    pool.close().await;
    let lost: Vec<_> = posts.iter().filter(|p| p.2 == 303 && !stored.contains(&p.1)).collect();
    assert!(lost.is_empty(), "answered 303, not stored: {lost:?}");
    let refused = posts.iter().filter(|p| p.2 == 503).count();
    assert!(refused > 0, "posts while the database was down were refused: {} posts, none with 503", posts.len());
}
