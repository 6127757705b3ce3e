//! `casefile backup` and `casefile restore`: a backup taken while visitors
//! sign restores every acknowledged signature and the same site; a damaged
//! one is refused with nothing written. The backup copies the SQLite file
//! (on PostgreSQL, `pg_dump` is the operator's tool), so these tests stay on
//! SQLite whichever engine the suite runs on.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::forms::{start, submit};
use crate::server::{Server, client};

fn casefile(args: &[&str], paths: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args).env_remove("DATABASE_URL").env_remove("CASEFILE_DATA");
    for p in paths {
        cmd.arg(p);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The emails of the signatures in the database of `data`.
async fn signers(data: &Path) -> Vec<String> {
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=ro", data.join("casefile.db").display())).await.unwrap();
    let emails = sqlx::query_scalar("SELECT email FROM signatures ORDER BY email").fetch_all(&pool).await.unwrap();
    pool.close().await;
    emails
}

/// Signs eight times as visitor `n`; returns the addresses whose signature
/// was acknowledged before `started` was set. (Read once the answer is in:
/// a request sent before the backup began may be answered after it took
/// its copy, and was not acknowledged before it.)
async fn sign_repeatedly(server: &Server, n: usize, started: &AtomicBool) -> Vec<String> {
    let c = client();
    let mut acknowledged = Vec::new();
    for i in 0..8 {
        let email = format!("signer{n}-{i}@example.org");
        let fields = [("name", "S"), ("email", email.as_str()), ("country", "DE"), ("consent", "yes")];
        let status = submit(&c, server, "/pardon", &fields).await.status();
        if status == 303 && !started.load(Ordering::SeqCst) {
            acknowledged.push(email);
        }
    }
    acknowledged
}

#[tokio::test]
async fn a_backup_taken_while_visitors_sign_restores_every_acknowledged_signature_and_the_same_site() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, "", "form_rate_limit = 1000\n");
    // Visitors sign all along; each one answered with success is recorded
    // with whether the backup had started by then.
    let started = AtomicBool::new(false);
    let archive = dir.path().join("site.tar.gz");
    let take_backup = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        started.store(true, Ordering::SeqCst);
        let (d, a) = (data.clone(), archive.clone());
        tokio::task::spawn_blocking(move || casefile(&["backup", "--data"], &[&d, Path::new("--out"), &a]))
            .await
            .unwrap()
    };
    let (first, second, out) =
        tokio::join!(sign_repeatedly(&server, 1, &started), sign_repeatedly(&server, 2, &started), take_backup);
    assert!(out.status.success(), "{}", stderr(&out));
    let acknowledged: Vec<String> = first.into_iter().chain(second).collect();
    assert!(acknowledged.len() >= 2, "signatures were acknowledged before the backup: {acknowledged:?}");

    let restored = dir.path().join("restored");
    let out = casefile(&["restore"], &[&archive, Path::new("--data"), &restored]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = signers(&restored).await;
    let lost: Vec<_> = acknowledged.iter().filter(|e| !found.contains(e)).collect();
    assert!(lost.is_empty(), "acknowledged before the backup, missing after the restore: {lost:?}");
    assert_eq!(std::fs::read(data.join("secret.key")).unwrap(), std::fs::read(restored.join("secret.key")).unwrap());

    // The restored site is the same site, page for page.
    let second = Server::start_in(&restored);
    let c = client();
    for path in
        ["/", "/case", "/timeline", "/de/chronik", "/evidence", "/press", "/news", "/sitemap.xml", "/api/v1/news"]
    {
        let page = |s: &Server| {
            // Absolute links name each server's own port (escaped in HTML),
            // and a form carries a fresh token: the rest must be equal.
            let (c, url) = (c.clone(), s.url(path));
            let port = format!(":{}", s.base.rsplit(':').next().unwrap());
            async move {
                let page = c.get(url).send().await.unwrap().text().await.unwrap().replace(&port, ":PORT");
                page.lines().filter(|l| !l.contains("name=\"token\"")).collect::<Vec<_>>().join("\n")
            }
        };
        let (a, b) = (page(&server).await, page(&second).await);
        let diff: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(3).collect();
        assert!(a == b, "{path} differs after the restore: {diff:?}");
    }
}

#[tokio::test]
async fn a_truncated_damaged_or_foreign_file_is_refused_and_nothing_is_written() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start();
    let archive = dir.path().join("b.tar.gz");
    let out = casefile(&["backup", "--data"], &[&server.data, Path::new("--out"), &archive]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(casefile(&["backup", "--data"], &[&server.data, Path::new("--out"), &archive]).status.code() == Some(1));
    let bytes = std::fs::read(&archive).unwrap();

    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x10;
    let foreign = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"not a tar archive at all").unwrap();
        gz.finish().unwrap()
    };
    for (name, content, says) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "truncated or damaged"),
        ("flipped", flipped, "damaged"),
        ("foreign", foreign, "not a Casefile backup"),
        ("text", b"hello".to_vec(), "not a Casefile backup"),
    ] {
        let file = dir.path().join(format!("{name}.tar.gz"));
        std::fs::write(&file, content).unwrap();
        let target = dir.path().join(format!("into-{name}"));
        let out = casefile(&["restore"], &[&file, Path::new("--data"), &target]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{name}: {}", stderr(&out));
        assert!(!target.exists(), "{name}: nothing is restored");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.starts_with(".casefile"))
        .collect();
    assert!(leftovers.is_empty(), "no staging folder is left behind: {leftovers:?}");
}

#[tokio::test]
async fn restore_replaces_a_folder_only_when_forced_and_never_under_a_running_server() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start();
    let archive = dir.path().join("b.tar.gz");
    assert!(casefile(&["backup", "--data"], &[&server.data, Path::new("--out"), &archive]).status.success());
    // The running server's own folder: refused, forced or not.
    let out = casefile(&["restore", "--force"], &[&archive, Path::new("--data"), &server.data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is serving the database"), "{}", stderr(&out));

    let target = dir.path().join("data");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("note.txt"), "mine").unwrap();
    let out = casefile(&["restore"], &[&archive, Path::new("--data"), &target]);
    assert!(stderr(&out).contains("not empty") && out.status.code() == Some(1), "{}", stderr(&out));
    assert!(!target.join("casefile.db").exists());
    let out = casefile(&["restore", "--force"], &[&archive, Path::new("--data"), &target]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(target.join("casefile.db").exists() && !target.join("note.txt").exists());
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.starts_with("data.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced folder is kept aside");
    assert_eq!(std::fs::read_to_string(dir.path().join(&kept[0]).join("note.txt")).unwrap(), "mine");
}

#[tokio::test]
async fn scheduled_backups_are_taken_and_only_the_newest_kept() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with(&data, &["--backup-every", "1s", "--backup-keep", "2"]);
    let backups = data.join("backups");
    let count = || std::fs::read_dir(&backups).map(|d| d.filter(|e| e.is_ok()).count()).unwrap_or(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.log.lock().unwrap().try_iter().filter(|l| l.contains("backup taken")).count() < 1 && count() < 3 {
        assert!(std::time::Instant::now() < deadline, "no scheduled backup within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    // Finished archives only: a backup may be under way (a hidden staging
    // folder and `.partial` file) when the folder is read.
    let names: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("casefile-"))
        .collect();
    assert_eq!(names.len(), 2, "the newest two are kept: {names:?}");
    let restored = dir.path().join("restored");
    let out = casefile(&["restore"], &[&names[0], Path::new("--data"), &restored]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test]
async fn a_schema_upgrade_keeps_a_copy_of_the_database_as_it_was() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casefile.db");
    let url = format!("sqlite:{}", db.display());
    casefile::store::Store::open(&url).await.unwrap().close().await;
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("before"))
    );
    // As if migration 11 (the `health` table) had not run yet: a database
    // of an older Casefile.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 11").execute(&pool).await.unwrap();
    sqlx::query("DROP TABLE health").execute(&pool).await.unwrap();
    pool.close().await;
    // What a copy cut short by a kill leaves: never taken for the copy.
    let partial = dir.path().join("casefile.db.before-migration-11.partial");
    std::fs::write(&partial, b"SQLite format 3\0 and then nothing").unwrap();
    casefile::store::Store::open(&url).await.unwrap().close().await;
    let copy = dir.path().join("casefile.db.before-migration-11");
    assert!(copy.is_file(), "a copy before the upgrade");
    casefile::store::check_database_file(&copy).await.unwrap();
    assert!(!partial.exists(), "written under another name, then renamed");
}

/// Files kept outside the data folder (`--files`, a shared volume): an
/// import stores them there, the server serves them from there, a backup
/// takes them from there, and a restore, which writes into the data folder,
/// says so.
#[tokio::test]
async fn a_files_folder_of_its_own_is_imported_into_served_and_backed_up() {
    crate::db::sqlite_only();
    let dir = tempfile::tempdir().unwrap();
    let (data, shared, bundle) = (dir.path().join("data"), dir.path().join("shared"), dir.path().join("site"));
    let mut files = casefile::bundle::default_files();
    files.push(("documents/lab-report-2016.md".into(), crate::documents::ITEM.into()));
    for (path, text) in &files {
        std::fs::create_dir_all(bundle.join(path).parent().unwrap()).unwrap();
        std::fs::write(bundle.join(path), text).unwrap();
    }
    let pdf = crate::documents::tiny_pdf("Serology");
    std::fs::write(bundle.join("documents/lab-report-2016.pdf"), &pdf).unwrap();
    let files_flag = ["--files", shared.to_str().unwrap()];
    let out = casefile(&["import", "--yes", files_flag[0], files_flag[1], "--data"], &[&data, &bundle]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(shared.join("lab-report-2016.pdf")).unwrap(), pdf, "stored in the files folder");
    assert!(!data.join("files").join("lab-report-2016.pdf").exists());

    let server = Server::start_with(&data, &files_flag);
    let res = client().get(server.url("/files/lab-report-2016.pdf")).send().await.unwrap();
    assert_eq!(res.status(), 200, "served from the files folder");
    assert_eq!(res.bytes().await.unwrap(), pdf);

    // The other sites' theme overrides are part of the backup too.
    let film_theme = data.join("sites/killing-for-love/theme/templates");
    std::fs::create_dir_all(&film_theme).unwrap();
    std::fs::write(film_theme.join("footer.html"), "the film's footer").unwrap();
    let archive = dir.path().join("b.tar.gz");
    let out = casefile(&["backup", files_flag[0], files_flag[1], "--data"], &[&data, Path::new("--out"), &archive]);
    assert!(out.status.success(), "{}", stderr(&out));
    let restored = dir.path().join("restored");
    let out = casefile(&["restore", files_flag[0], files_flag[1]], &[&archive, Path::new("--data"), &restored]);
    assert!(stderr(&out).contains("leave --files unset"), "{}", stderr(&out));
    let out = casefile(&["restore"], &[&archive, Path::new("--data"), &restored]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(restored.join("files/lab-report-2016.pdf")).unwrap(), pdf, "the backup held the file");
    let footer = restored.join("sites/killing-for-love/theme/templates/footer.html");
    assert_eq!(std::fs::read_to_string(footer).unwrap(), "the film's footer");
}
