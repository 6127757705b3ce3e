//! `casefile export-content` and `casefile import`: content out as a bundle
//! and back in, matched by key, refused whole on a mistake, and the
//! upgrade of the default content that keeps what editors changed.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use casefile::content::{Item, ItemKind};
use casefile::store::{Change, Store};

use crate::server::{Server, client};

pub(crate) fn casefile(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(args);
    crate::db::point(&mut cmd);
    cmd.env_remove("CASEFILE_DATA").stdin(std::process::Stdio::null()).output().unwrap()
}

/// Runs the command and returns its standard output; panics on failure.
pub(crate) fn ok(args: &[&str]) -> String {
    let out = casefile(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

async fn open(data: &Path) -> (Store, i64) {
    let store = Store::open(&crate::db::store_url(data)).await.unwrap();
    let key = store.first_site_key().await.unwrap().unwrap();
    let id = store.site_id(&key).await.unwrap().unwrap();
    (store, id)
}

/// Replaces `from` by `to` in a bundle file; the text must be there.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} holds {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Every path the site's sitemap lists (following a sitemap index).
async fn sitemap_paths(server: &Server) -> Vec<String> {
    let c = client();
    let mut paths = Vec::new();
    let mut queue = vec!["/sitemap.xml".to_owned()];
    while let Some(path) = queue.pop() {
        let xml = c.get(server.url(&path)).send().await.unwrap().text().await.unwrap();
        for loc in xml.split("<loc>").skip(1).filter_map(|l| l.split("</loc>").next()) {
            let path = format!("/{}", loc.splitn(4, '/').nth(3).unwrap_or(""));
            if path.ends_with(".xml") { queue.push(path) } else { paths.push(path) }
        }
    }
    paths.sort();
    paths
}

/// A page as served, with what differs between two servers by design (the
/// port in absolute links, a form's fresh token) taken out.
async fn page(server: &Server, path: &str) -> String {
    let port = format!(":{}", server.base.rsplit(':').next().unwrap());
    let body = client().get(server.url(path)).send().await.unwrap().text().await.unwrap().replace(&port, ":PORT");
    body.lines().filter(|l| !l.contains("name=\"token\"")).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn an_edited_bundle_imports_once_and_an_export_imported_into_an_empty_folder_is_the_same_site() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start_in(&dir.path().join("first"));
    let bundle = dir.path().join("bundle");
    ok(&["export-content", "--data", s(&first.data), "--out", s(&bundle)]);

    // An editor's changes, made in the files: a new title, a new draft.
    // (The German title: `[de]` comes first in the file.)
    edit(&bundle.join("pages/case.md"), "title = \"", "title = \"Imported: ");
    let draft = std::fs::read_to_string(bundle.join("news/2019-11-25-released-on-parole.md")).unwrap();
    let draft = draft.replace("status = \"published\"", "status = \"draft\"").replace("slug = \"", "slug = \"draft-");
    std::fs::write(bundle.join("news/an-imported-draft.md"), draft).unwrap();

    let plan = ok(&["import", s(&bundle), "--data", s(&first.data), "--dry-run"]);
    assert!(plan.contains("update  page `case`") && plan.contains("create  news `an-imported-draft`"), "{plan}");
    assert!(plan.contains("1 created, 1 updated, 0 deleted") && plan.contains("dry run"), "{plan}");
    assert!(!page(&first, "/de/fall").await.contains("Imported: "), "a dry run changes nothing");

    let done = ok(&["import", s(&bundle), "--data", s(&first.data)]);
    assert!(done.contains("1 created, 1 updated"), "{done}");
    let again = ok(&["import", s(&bundle), "--data", s(&first.data)]);
    assert!(again.contains("0 created, 0 updated") && again.contains("nothing to change"), "run twice: {again}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !page(&first, "/de/fall").await.contains("Imported: ") {
        assert!(std::time::Instant::now() < deadline, "the running server shows the import within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (store, site) = open(&first.data).await;
    let revisions = store.revisions(site, ItemKind::Page, "case").await.unwrap();
    assert_eq!(revisions.len(), 2, "one revision for the import, none for the second run");
    assert_eq!(revisions[0].author, "import");
    assert!(revisions[0].note.contains("imported from"), "{}", revisions[0].note);
    store.close().await;

    // Out and into an empty folder: the same site, every page of it.
    let export = dir.path().join("export");
    ok(&["export-content", "--data", s(&first.data), "--out", s(&export), "--revisions"]);
    assert!(std::fs::read_to_string(export.join("news/an-imported-draft.md")).unwrap().contains("draft"));
    assert!(std::fs::read_to_string(export.join("revisions.jsonl")).unwrap().contains("\"author\":\"import\""));
    let copy = dir.path().join("copy");
    ok(&["import", s(&export), "--data", s(&copy)]);
    let second = Server::start_in(&copy);
    let paths = sitemap_paths(&first).await;
    assert!(paths.len() > 40 && paths.contains(&"/de/fall".to_owned()), "{paths:?}");
    assert_eq!(paths, sitemap_paths(&second).await);
    let extra =
        ["/sitemap.xml", "/feed.xml", "/de/feed.xml", "/robots.txt", "/api/v1/news", "/news/draft-released-on-parole"];
    for path in paths.iter().map(String::as_str).chain(extra) {
        let (a, b) = (page(&first, path).await, page(&second, path).await);
        let diff: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(3).collect();
        assert!(a == b, "{path} differs: {diff:?}");
    }
}

#[tokio::test]
async fn a_bundle_with_mistakes_is_refused_whole_with_every_mistake_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (data, bundle) = (dir.path().join("data"), dir.path().join("bundle"));
    ok(&["import", "--default", "--data", s(&data)]);
    ok(&["export-content", "--data", s(&data), "--out", s(&bundle)]);
    // A field of the wrong type on line 3, a source that does not exist,
    // and a good change that must not land either.
    edit(&bundle.join("people/andy-griffiths.md"), "position = 4", "position = \"fourth\"");
    edit(&bundle.join("timeline/1985-03-30-murders.md"), "sources = [\"film-site\"]", "sources = [\"no-such-source\"]");
    edit(&bundle.join("pages/case.md"), "title = \"", "title = \"Changed: ");
    // An item in a misspelt folder would be left out unnoticed.
    std::fs::create_dir_all(bundle.join("timline")).unwrap();
    std::fs::copy(bundle.join("timeline/1985-03-30-murders.md"), bundle.join("timline/an-event.md")).unwrap();
    let (store, site) = open(&data).await;
    let before = store.snapshot(site).await.unwrap().0;

    let out = casefile(&["import", s(&bundle), "--data", s(&data)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("3 mistakes; nothing was imported"), "{err}");
    assert!(err.contains("timline/an-event.md: not a file this format reads"), "{err}");
    assert!(err.contains("people/andy-griffiths.md:3: invalid type"), "file, line and field: {err}");
    assert!(err.contains("timeline/1985-03-30-murders.md") && err.contains("no-such-source"), "{err}");
    assert_eq!(store.snapshot(site).await.unwrap().0, before, "nothing was written");

    let out = casefile(&["import", s(&dir.path().join("nothing-here")), "--data", s(&data)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no site.toml"), "{out:?}");
    store.close().await;
}

/// A new version of a document's file, under the same name, replaces it
/// and its text, once; a file another item shows is never replaced.
#[tokio::test]
async fn a_new_version_of_a_file_replaces_only_its_own_items_file() {
    use crate::documents::{ITEM, tiny_pdf};
    let dir = tempfile::tempdir().unwrap();
    let (data, bundle) = (dir.path().join("data"), dir.path().join("bundle"));
    ok(&["import", "--default", "--data", s(&data)]);
    ok(&["export-content", "--data", s(&data), "--out", s(&bundle)]);
    let (pdf, stored) = (bundle.join("documents/lab-report-2016.pdf"), data.join("files/lab-report-2016.pdf"));
    std::fs::write(bundle.join("documents/lab-report-2016.md"), ITEM).unwrap();
    std::fs::write(&pdf, tiny_pdf("First version")).unwrap();
    ok(&["import", s(&bundle), "--data", s(&data)]);
    let (store, site) = open(&data).await;
    let text = |store: &Store, key: &'static str| {
        let (store, site) = (store.clone(), site);
        async move {
            match store.item(site, ItemKind::Document, key).await.unwrap() {
                Some(Item::Document(d)) => d.extracted_text,
                _ => panic!("no document {key}"),
            }
        }
    };
    assert!(text(&store, "lab-report-2016").await.contains("First version"));

    std::fs::write(&pdf, tiny_pdf("Second version")).unwrap();
    let plan = ok(&["import", s(&bundle), "--data", s(&data), "--dry-run"]);
    assert!(plan.contains("replace file `documents/lab-report-2016.pdf`"), "{plan}");
    assert_eq!(std::fs::read(&stored).unwrap(), tiny_pdf("First version"), "a dry run replaces nothing");
    let done = ok(&["import", s(&bundle), "--data", s(&data)]);
    assert!(done.contains("update  document `lab-report-2016`"), "{done}");
    assert_eq!(std::fs::read(&stored).unwrap(), tiny_pdf("Second version"));
    assert!(text(&store, "lab-report-2016").await.contains("Second version"), "and its text, for search");
    let again = ok(&["import", s(&bundle), "--data", s(&data)]);
    assert!(again.contains("nothing to change"), "run twice: {again}");

    // A bundle that leaves that document out and names its file for
    // another one, with other bytes: refused, nothing written.
    std::fs::rename(bundle.join("documents/lab-report-2016.md"), bundle.join("documents/a-copy-2016.md")).unwrap();
    std::fs::write(&pdf, tiny_pdf("Third version")).unwrap();
    let out = casefile(&["import", s(&bundle), "--data", s(&data)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("documents/lab-report-2016.pdf: a different file of this name is stored already"), "{err}");
    assert!(err.contains("the document `lab-report-2016` of the site `jens-soering` shows it"), "{err}");
    assert_eq!(std::fs::read(&stored).unwrap(), tiny_pdf("Second version"), "not replaced");
    assert!(store.item(site, ItemKind::Document, "a-copy-2016").await.unwrap().is_none(), "nothing imported");
    store.close().await;
}

#[tokio::test]
async fn prune_lists_what_it_deletes_and_needs_yes_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (data, bundle) = (dir.path().join("data"), dir.path().join("bundle"));
    ok(&["import", "--default", "--data", s(&data)]);
    ok(&["export-content", "--data", s(&data), "--out", s(&bundle)]);
    std::fs::remove_file(bundle.join("news/2018-05-07-roanoke-times-op-eds.md")).unwrap();
    // A long history beside the content (`--revisions`) is not read.
    std::fs::write(bundle.join("revisions.jsonl"), vec![b'x'; 51 << 20]).unwrap();

    let kept = ok(&["import", s(&bundle), "--data", s(&data)]);
    assert!(kept.contains("0 deleted") && kept.contains("nothing to change"), "no --prune, no delete: {kept}");
    let out = casefile(&["import", s(&bundle), "--data", s(&data), "--prune"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("news `2018-05-07-roanoke-times-op-eds`") && said.contains("--yes"), "{said}");
    let (store, site) = open(&data).await;
    assert!(store.trash(site).await.unwrap().is_empty(), "refused: nothing deleted");

    let done = ok(&["import", s(&bundle), "--data", s(&data), "--prune", "--yes"]);
    assert!(done.contains("delete  news `2018-05-07-roanoke-times-op-eds`"), "{done}");
    let trash = store.trash(site).await.unwrap();
    assert_eq!(
        (trash.len(), trash[0].key.as_str()),
        (1, "2018-05-07-roanoke-times-op-eds"),
        "to the trash, restorable"
    );
    store.close().await;
}

#[tokio::test]
async fn the_default_content_upgrade_updates_only_what_no_editor_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&["import", "--default", "--data", s(&data)]);
    let (store, site) = open(&data).await;
    let retitle = |item: &mut Item, title: &str| {
        if let Item::Page(p) = item {
            p.text.values_mut().for_each(|t| t.title = title.to_owned());
        }
    };
    // The case page as an older default had it; the film page an editor
    // rewrote; a news post an editor deleted.
    let mut case = store.item(site, ItemKind::Page, "case").await.unwrap().unwrap();
    retitle(&mut case, "Old default title");
    store.update_item(site, &case, casefile::store::DEFAULT_CONTENT).await.unwrap();
    let mut film = store.item(site, ItemKind::Page, "film").await.unwrap().unwrap();
    retitle(&mut film, "The editor's title");
    let editor = Change { author: "editor@example.org", note: "my words" };
    store.update_item(site, &film, editor).await.unwrap();
    store.delete_item(site, ItemKind::News, "2018-05-07-roanoke-times-op-eds", editor).await.unwrap();

    let plan = ok(&["import", "--default", "--data", s(&data), "--dry-run"]);
    assert!(plan.contains("update  page `case`"), "{plan}");
    assert!(plan.contains("keep    page `film` (changed by editor@example.org)"), "{plan}");
    assert!(plan.contains("keep    news `2018-05-07-roanoke-times-op-eds` (in the trash)"), "{plan}");
    ok(&["import", "--default", "--data", s(&data)]);

    let title = |item: Option<Item>| match item {
        Some(Item::Page(p)) => p.text.values().next().unwrap().title.clone(),
        other => panic!("{other:?}"),
    };
    assert_ne!(title(store.item(site, ItemKind::Page, "case").await.unwrap()), "Old default title");
    assert_eq!(title(store.item(site, ItemKind::Page, "film").await.unwrap()), "The editor's title");
    assert_eq!(store.trash(site).await.unwrap().len(), 1, "what an editor deleted stays deleted");
    let again = ok(&["import", "--default", "--data", s(&data)]);
    assert!(again.contains("0 created, 0 updated") && again.contains("2 kept"), "{again}");

    // `serve` says when the binary's default content is not what the site
    // was last given, and only then.
    assert!(!start_up_log(&data).contains("import --default --dry-run"), "up to date: no hint");
    store.set_install_value("default_content", "an older version's").await.unwrap();
    assert!(start_up_log(&data).contains("import --default --dry-run"), "a hint after an upgrade");
    store.close().await;

    // Another campaign's site has nothing to bring in: no hint.
    let (bundle, other) = (dir.path().join("bundle"), dir.path().join("other"));
    ok(&["export-content", "--data", s(&data), "--out", s(&bundle)]);
    edit(&bundle.join("site.toml"), "key = \"jens-soering\"", "key = \"another-campaign\"");
    ok(&["import", s(&bundle), "--data", s(&other)]);
    assert!(!start_up_log(&other).contains("import --default"), "no hint for another site");
}

/// What `serve` logs until it listens.
fn start_up_log(data: &Path) -> String {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data", s(data)]);
    crate::db::point(&mut cmd);
    let mut child = cmd.env("RUST_LOG", "info").stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut log = String::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok).take(50) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    log
}
