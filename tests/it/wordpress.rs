//! `casefile import-wordpress` on an export made by a real WordPress
//! (`tests/fixtures/wordpress/`, see its README): what each kind of
//! WordPress content becomes on the served site, the old addresses, a
//! second run, an existing bilingual site, and files that are not WXR.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use casefile::content::{Item, ItemKind, Status};

use crate::server::{Server, client};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wordpress/campaign.xml")
}

fn import(data: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.arg("import-wordpress").arg(fixture()).arg("--data").arg(data).args(extra);
    crate::db::point(&mut cmd);
    cmd.env_remove("CASEFILE_DATA").stdin(std::process::Stdio::null()).output().unwrap()
}

fn ok(out: Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "import-wordpress failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let res = client().get(server.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    (status, location.unwrap_or(body))
}

/// Where an old address leads, following at most three redirects.
async fn lands(server: &Server, path: &str) -> String {
    let mut at = path.to_owned();
    for _ in 0..3 {
        match get(server, &at).await {
            (301 | 308, to) => at = to.strip_prefix(&server.base).unwrap_or(&to).to_owned(),
            (200, _) => return at,
            (status, _) => panic!("{path} leads to {at}, which answers {status}"),
        }
    }
    panic!("{path} redirects more than three times");
}

#[tokio::test]
async fn a_wordpress_export_becomes_a_site_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let report = ok(import(&data, &[]));
    for line in ["9 news", "4 pages", "2 videos", "3 comments: not imported", "was private; imported as a draft"] {
        assert!(report.contains(line), "the report says {line:?}:\n{report}");
    }
    let server = Server::start_in(&data);

    // A classic post: its text in Markdown, its topics, a link to an
    // imported page pointed at the page's new address, its image a link.
    let (status, post) = get(&server, "/news/petition-for-a-new-trial").await;
    assert_eq!(status, 200);
    assert!(post.contains("Campaign hands in petition for a new trial"));
    assert!(post.contains("<strong>Friends of the Test Campaign</strong>"));
    assert!(post.contains("parole, Press"), "topics shown");
    assert!(post.contains(r#"href="/about-the-case""#), "the link leads to the imported page");
    assert!(!post.contains("<img"), "no image loads from the old site");
    assert!(post.contains("wp-content/uploads/2020/05/courthouse-300x200.jpg"), "the image is linked");
    assert!(!post.contains("[caption"));

    // A block post: both YouTube videos click-to-load, no script, no style.
    let (_, video) = get(&server, "/news/video-of-the-appeal-hearing").await;
    // (The template escapes `/` in attributes as `&#x2f;`.)
    let player = |id: &str| format!("youtube-nocookie.com&#x2f;embed&#x2f;{id}\"");
    assert!(video.contains(&player("dQw4w9WgXcQ")), "the embed block becomes a click-to-load video");
    assert!(video.contains(&player("aqz-KE-bpKQ")), "so does the bare URL on a line of its own");
    assert_eq!(video.matches("class=\"media-load\"").count(), 2);
    assert!(!video.contains("alert(") && !video.contains("color:red") && !video.contains("wp:paragraph"));
    let (_, vigil) = get(&server, "/news/join-the-vigil").await;
    assert!(!vigil.contains("contact-form-7") && !vigil.contains("[gallery") && !vigil.contains("unknown_widget"));

    // Pages keep their hierarchy.
    let (_, tests) = get(&server, "/dna-tests").await;
    let crumbs = tests.split("class=\"breadcrumb\"").nth(1).expect("a breadcrumb").split("</nav>").next().unwrap();
    let (grand, parent) = (crumbs.find("&#x2f;about-the-case\""), crumbs.find("&#x2f;the-evidence\""));
    assert!(grand.is_some() && grand < parent, "the top first: {crumbs}");
    let (_, about) = get(&server, "/about-the-case").await;
    assert!(about.contains(r#"<a href="&#x2f;the-evidence">The evidence</a>"#), "the parent lists its pages");

    // Drafts, private, password-protected and scheduled posts stay hidden.
    for path in ["/news/internal-contact-list", "/news/minutes-supporters-meeting", "/news/hearing-autumn-2031"] {
        assert_eq!(get(&server, path).await.0, 404, "{path}");
    }

    // Old permalinks and archives lead to the new addresses.
    assert_eq!(lands(&server, "/2020/05/petition-for-a-new-trial/").await, "/news/petition-for-a-new-trial");
    assert_eq!(lands(&server, "/2021/02/anhorung-in-munchen/").await, "/news/anhorung-in-munchen");
    assert_eq!(lands(&server, "/about-the-case/the-evidence/dna-tests/").await, "/dna-tests");
    assert_eq!(lands(&server, "/category/hearings/appeals/").await, "/news");
    assert_eq!(lands(&server, "/tag/parole/").await, "/news");

    // Run again: everything matched by key, nothing duplicated.
    let again = ok(import(&data, &[]));
    assert!(again.contains("0 created, 0 updated, 0 deleted"), "{again}");

    // What editors did since stays: a published author, a page in the menu.
    drop(server);
    let store = casefile::store::Store::open(&crate::db::store_url(&data)).await.unwrap();
    let site = store.site_id(&store.first_site_key().await.unwrap().unwrap()).await.unwrap().unwrap();
    let change = casefile::store::Change { author: "ed@example.org", note: "finishing" };
    let people = store.items_of(site, ItemKind::Person).await.unwrap();
    let Some((Item::Person(mut author), _)) =
        people.into_iter().find(|(i, _)| i.as_ref().key().starts_with("wp-author-"))
    else {
        panic!("an author was imported")
    };
    author.meta.status = Status::Published;
    store.update_item(site, &Item::Person(author.clone()), change).await.unwrap();
    let Some(Item::Page(mut page)) = store.item(site, ItemKind::Page, "wp-about-the-case").await.unwrap() else {
        panic!("the page was imported")
    };
    page.menu_position = Some(5);
    store.update_item(site, &Item::Page(page), change).await.unwrap();
    store.close().await;
    let third = ok(import(&data, &[]));
    assert!(third.contains("0 created, 0 updated, 0 deleted"), "{third}");
    let store = casefile::store::Store::open(&crate::db::store_url(&data)).await.unwrap();
    let Some(Item::Person(kept)) = store.item(site, ItemKind::Person, &author.key).await.unwrap() else { panic!() };
    assert_eq!(kept.meta.status, Status::Published, "the author stays published");
    let Some(Item::Page(kept)) = store.item(site, ItemKind::Page, "wp-about-the-case").await.unwrap() else { panic!() };
    assert_eq!(kept.menu_position, Some(5), "the page stays in the menu");
    store.close().await;
}

#[tokio::test]
async fn a_german_export_joins_the_bilingual_default_site_without_touching_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data);
    let (_, case_before) = get(&server, "/case").await;

    let dry = ok(import(&data, &["--lang", "de", "--dry-run"]));
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");
    assert_eq!(get(&server, "/de/neuigkeiten/anhorung-in-munchen").await.0, 404, "a dry run writes nothing");

    let report = ok(import(&data, &["--lang", "de"]));
    assert!(report.contains("no en text in the export; the de text stands in"), "{report}");
    // The running server picks the change up within its refresh interval.
    let mut status = 0;
    for _ in 0..50 {
        status = get(&server, "/de/neuigkeiten/anhorung-in-munchen").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(lands(&server, "/2021/02/anhorung-in-munchen/").await, "/de/neuigkeiten/anhorung-in-munchen");
    let (_, case_after) = get(&server, "/case").await;
    let strip = |s: &str| s.lines().filter(|l| !l.contains("name=\"token\"")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&case_before), strip(&case_after), "the campaign's own pages are as they were");
}

#[test]
fn files_that_are_not_wordpress_exports_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read_to_string(fixture()).unwrap();
    let cases = [
        (
            "feed.xml",
            r#"<rss version="2.0"><channel><title>A feed</title><item><title>x</title></item></channel></rss>"#
                .to_owned(),
        ),
        ("truncated.xml", whole[..whole.len() / 2].to_owned()),
        ("page.html", "<!doctype html><p>hello".to_owned()),
    ];
    for (name, text) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let data = dir.path().join(format!("data-{name}"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
        cmd.arg("import-wordpress").arg(&file).arg("--data").arg(&data);
        crate::db::point(&mut cmd);
        let out = cmd.env_remove("CASEFILE_DATA").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(err.contains("not a WordPress export (WXR)") && err.contains("nothing was imported"), "{name}: {err}");
        assert!(!data.exists(), "{name}: nothing written");
    }
}
