//! Two sites, one install: the campaign's site and the documentary's, each
//! on its own host names, sharing the case timeline (stored once).

use axum::http::StatusCode;
use casefile::accounts::{Role, hash_password};
use casefile::content::ItemKind;

use crate::app::TestApp;

/// The documentary's site, on the host it answers on by default.
const FILM: &str = "film.localhost:8080";
/// An event both sites show, and one only the campaign's shows.
const SHARED: &str = "1985-03-30-murders";
const CAMPAIGN_ONLY: &str = "2019-11-25-parole";

#[tokio::test]
async fn each_site_answers_on_its_own_host_with_its_own_pages() {
    let app = TestApp::new().await;
    let campaign = app.get("/").await;
    let film = app.get_on(FILM, "/").await;
    assert_eq!((campaign.status, film.status), (StatusCode::OK, StatusCode::OK));
    assert!(film.body.contains("<title>Killing for Love"), "the film's home");
    assert!(!campaign.body.contains("<title>Killing for Love"), "the campaign's home");

    // Each its own menu and language set.
    assert!(film.body.contains("href=\"&#x2f;about\"") && !film.body.contains("href=\"&#x2f;case\""));
    assert!(campaign.body.contains("href=\"&#x2f;case\""));
    assert_eq!(app.get("/de/").await.status, StatusCode::OK);
    assert_eq!(app.get_on(FILM, "/de/").await.status, StatusCode::NOT_FOUND, "English only");
    assert!(!film.body.contains("class=\"lang-switch\"") && campaign.body.contains("class=\"lang-switch\""));
    // Each its own 404: the campaign's pages are not the film site's.
    let missing = app.get_on(FILM, "/case").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Killing for Love"), "the film site's own 404 page");
    // No form on the film site, which has no newsletter page: nowhere to post.
    assert!(!film.body.contains("method=\"post\""));

    // The timeline: the shared event on both, the campaign's own only there.
    let film_timeline = app.get_on(FILM, "/timeline").await.body;
    assert!(film_timeline.contains(&format!("id=\"{SHARED}\"")));
    assert!(!film_timeline.contains(&format!("id=\"{CAMPAIGN_ONLY}\"")));
    let api = format!("/api/v1/timeline/{CAMPAIGN_ONLY}");
    assert_eq!(app.get(&api).await.status, StatusCode::OK);
    assert_eq!(app.get_on(FILM, &api).await.status, StatusCode::NOT_FOUND, "not part of the film site");
    let shared = app.get_on(FILM, &format!("/api/v1/timeline/{SHARED}")).await;
    assert_eq!(shared.status, StatusCode::OK);
    assert!(!shared.body.contains("\"de\":"), "only the film site's language: {}", shared.body);
    assert!(app.get(&format!("/api/v1/timeline/{SHARED}")).await.body.contains("\"de\":"), "the campaign's both");
    // The APIs take the site from a parameter too, on any host.
    let listed = app.get("/api/v1/timeline?site=killing-for-love").await.body;
    assert!(listed.contains(SHARED) && !listed.contains(CAMPAIGN_ONLY), "the film site's timeline");
    let unknown = app.get("/api/v1/timeline?site=nothing-here").await;
    assert!(unknown.status == StatusCode::NOT_FOUND && unknown.body.contains("there is no site `nothing-here`"));

    // Sitemaps and search: each site's own.
    let index = app.get_on(FILM, "/sitemap.xml").await.body;
    assert!(index.contains("<loc>http://film.localhost:8080/sitemap-1.xml</loc>"), "{index}");
    let sitemap = app.get_on(FILM, "/sitemap-1.xml").await.body;
    assert!(sitemap.contains("http://film.localhost:8080/about"), "{sitemap}");
    assert!(!sitemap.contains("/case") && !sitemap.contains("/news/") && !sitemap.contains("127.0.0.1"));
    assert!(!app.get("/sitemap-1.xml").await.body.contains("film.localhost"));
    let post = "released on parole after 33 years";
    assert!(app.get("/search?q=parole").await.body.contains(post), "the campaign finds its news");
    let found = app.get_on(FILM, "/search?q=parole").await.body;
    assert!(!found.contains(post), "the film site's search has no campaign news");
    assert!(app.get_on(FILM, "/search?q=Loose+Chippings").await.body.contains("Haysom"), "but finds its own");
}

/// An edit of a shared event, saved once in the campaign's admin, shows on
/// both sites at once: it is one item, not a copy.
#[tokio::test]
async fn a_shared_event_edited_once_changes_on_both_sites() {
    let app = TestApp::new().await;
    let cookie = editor_cookie(&app, "127.0.0.1:8080").await;
    let path = format!("/admin/timeline/{SHARED}");
    let mut values = editor_form(&app, &cookie, &path).await;
    values.iter_mut().find(|(k, _)| k == "en.title").unwrap().1 = "The Haysoms are murdered (edited once)".into();
    assert_eq!(post_editor(&app, &cookie, &path, &values).await.0, StatusCode::SEE_OTHER);

    assert!(app.get("/timeline").await.body.contains("(edited once)"), "on the campaign's site");
    assert!(app.get_on(FILM, "/timeline").await.body.contains("(edited once)"), "and at once on the film's");
    // One row, stored by the campaign's site: the film site has no copy.
    let film = app.state.others()[0].site_id;
    assert!(app.state.store.item(film, ItemKind::Timeline, SHARED).await.unwrap().is_none());
}

/// An editor of the campaign's site chooses which other sites show an
/// item and whether its place names them; what the item refers to must be
/// on every site that shows it, and a site keeps what its own items cite.
#[tokio::test]
async fn an_editor_chooses_the_sites_that_show_an_item_and_names_them() {
    let app = TestApp::new().await;
    let cookie = editor_cookie(&app, "127.0.0.1:8080").await;
    let film_shows = |key: &'static str| {
        let app = &app;
        async move { app.get_on(FILM, &format!("/api/v1/timeline/{key}")).await.status == StatusCode::OK }
    };

    // A new event, shown on the film's site too, naming the other site.
    let mut values = editor_form(&app, &cookie, "/admin/timeline/new").await;
    let shown_on = values.iter().filter(|(k, _)| k == "shown_on").count();
    assert_eq!(shown_on, 0, "nothing ticked on a new item");
    let event = [
        ("key", "test-shared-event"),
        ("en.title", "A test event"),
        ("de.title", "Ein Testereignis"),
        ("field.date", "2016-08"),
        ("status", "published"),
    ];
    set_fields(&mut values, &event);
    let extra = [("sources", "site-2016"), ("shown_on", "killing-for-love"), ("also_on", "true")];
    values.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let (status, _, page) = post_editor(&app, &cookie, "/admin/timeline/new", &values).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(film_shows("test-shared-event").await);
    // Each site's place of the event names the other, with a link to it.
    let film = app.get_on(FILM, "/timeline").await.body;
    let also = "<p class=\"also-on\">Also on: <a href=\"http:&#x2f;&#x2f;";
    assert!(
        film.contains(&format!("{also}127.0.0.1:8080&#x2f;timeline#test-shared-event\">Friends of Jens Söring</a>"))
    );
    let campaign = app.get("/timeline").await.body;
    let link = format!("{also}film.localhost:8080&#x2f;timeline#test-shared-event\">Killing for Love</a>");
    assert!(campaign.contains(&link), "the campaign's timeline names the film's site");
    assert_eq!(campaign.matches("class=\"also-on\"").count(), 1, "only where the editor asked");
    // A new address of the film's timeline moves the campaign's link at once.
    let film_cookie = editor_cookie(&app, FILM).await;
    let mut page = editor_form_on(&app, &film_cookie, FILM, "/admin/pages/timeline").await;
    page.iter_mut().find(|(k, _)| k == "en.slug").unwrap().1 = "chronology".into();
    let (status, _, body) = post_editor_on(&app, &film_cookie, FILM, "/admin/pages/timeline", &page).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let campaign = app.get("/timeline").await.body;
    assert!(campaign.contains("film.localhost:8080&#x2f;chronology#test-shared-event\">Killing for Love</a>"));

    // The editor shows the choice; unticking takes the event off the film's site.
    let path = "/admin/timeline/test-shared-event";
    let mut values = editor_form(&app, &cookie, path).await;
    assert!(values.iter().any(|(k, v)| k == "shown_on" && v == "killing-for-love"), "ticked");
    values.retain(|(k, _)| k != "shown_on");
    assert_eq!(post_editor(&app, &cookie, path, &values).await.0, StatusCode::SEE_OTHER);
    assert!(!film_shows("test-shared-event").await, "off the film's site");
    assert!(!app.get("/timeline").await.body.contains("class=\"also-on\""), "named nowhere else now");

    // An event that refers to what the film's site does not show stays off it.
    let path = format!("/admin/timeline/{CAMPAIGN_ONLY}");
    let mut values = editor_form(&app, &cookie, &path).await;
    values.push(("shown_on".into(), "killing-for-love".into()));
    let (status, _, page) = post_editor(&app, &cookie, &path, &values).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("refers to the press `new-yorker-2019`, which the site `killing-for-love`"), "{page}");
    assert!(!film_shows(CAMPAIGN_ONLY).await, "nothing was written");
    // A source the film's own pages cite stays on the film's site.
    let path = "/admin/sources/site-2016";
    let mut values = editor_form(&app, &cookie, path).await;
    assert!(values.iter().any(|(k, v)| k == "shown_on" && v == "killing-for-love"));
    values.retain(|(k, _)| k != "shown_on");
    let (status, _, page) = post_editor(&app, &cookie, path, &values).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("the site `killing-for-love` cannot stop showing it"), "{page}");
    let film_sources = app.get_on(FILM, "/api/v1/sources/site-2016").await;
    assert_eq!(film_sources.status, StatusCode::OK, "still shown");

    // The film's admin lists the shared events and sends their editor to
    // the campaign's admin, where they are stored.
    let (status, _, list) =
        app.request("GET", "/admin/timeline", &[("cookie", &film_cookie), ("host", FILM)], "").await;
    assert_eq!(status, StatusCode::OK);
    let shared = list.split("Shown from other sites").nth(1).expect("a list of shared items");
    assert!(shared.contains(&format!("http:&#x2f;&#x2f;127.0.0.1:8080&#x2f;admin&#x2f;timeline&#x2f;{SHARED}")));
    let path = format!("/admin/timeline/{SHARED}");
    let (status, h, _) = app.request("GET", &path, &[("cookie", &film_cookie), ("host", FILM)], "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], format!("http://127.0.0.1:8080/admin/timeline/{SHARED}"));
    // Nor can the film's site make an event of its own under a shared key.
    let mut values = editor_form_on(&app, &film_cookie, FILM, "/admin/timeline/new").await;
    values.iter_mut().find(|(k, _)| k == "key").unwrap().1 = SHARED.into();
    // (The film's site has no events of its own: the form is shaped like
    // the built-in site's, in the film site's one language.)
    assert!(!values.iter().any(|(k, _)| k.starts_with("de.")), "English only");
    values.iter_mut().find(|(k, _)| k == "en.title").unwrap().1 = "A copy".into();
    values.iter_mut().find(|(k, _)| k == "field.date").unwrap().1 = "1985".into();
    let (status, _, page) = post_editor_on(&app, &film_cookie, FILM, "/admin/timeline/new", &values).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = page.split("role=\"alert\"").nth(1).unwrap_or("");
    assert!(error.contains("this site shows the timeline `1985-03-30-murders` of the site `jens-soering` already"));

    // An event the film's site has of its own, even in its trash, keeps
    // the campaign's event of that key off it, and the refusal says where.
    values.iter_mut().find(|(k, _)| k == "key").unwrap().1 = "film-own-event".into();
    let (status, _, page) = post_editor_on(&app, &film_cookie, FILM, "/admin/timeline/new", &values).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let csrf = values.iter().find(|(k, _)| k == "csrf").unwrap().1.clone();
    let delete = form_urlencoded::Serializer::new(String::new()).append_pair("csrf", &csrf).finish();
    let form = ("content-type", "application/x-www-form-urlencoded");
    let headers = [form, ("cookie", film_cookie.as_str()), ("host", FILM)];
    let (status, ..) = app.request("POST", "/admin/timeline/film-own-event/delete", &headers, &delete).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut values = editor_form(&app, &cookie, "/admin/timeline/new").await;
    let event = [
        ("key", "film-own-event"),
        ("en.title", "Another test event"),
        ("de.title", "Ein weiteres Testereignis"),
        ("field.date", "2016-09"),
    ];
    set_fields(&mut values, &event);
    values.push(("shown_on".into(), "killing-for-love".into()));
    let (status, _, page) = post_editor(&app, &cookie, "/admin/timeline/new", &values).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("has a timeline `film-own-event` of its own in its trash"), "{page}");
}

/// A user limited to the campaign's site changes only what that site
/// shows: the film site keeps showing what it showed, whatever is posted;
/// and two sites cannot show each other's items.
#[tokio::test]
async fn sharing_is_limited_to_the_sites_an_editor_may_edit() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let cookie = limited_user(&app, "camp@example.org", "jens-soering", "127.0.0.1:8080").await;
    let film_shows = |key: String| {
        let app = &app;
        async move { app.get_on(FILM, &format!("/api/v1/timeline/{key}")).await.status == StatusCode::OK }
    };

    // The box offers no site this editor may not edit; saving keeps the
    // film site's choice as it was.
    let path = format!("/admin/timeline/{SHARED}");
    let mut values = editor_form(&app, &cookie, &path).await;
    assert!(values.iter().any(|(k, _)| k == "shown_on_field") && !values.iter().any(|(k, _)| k == "shown_on"));
    values.iter_mut().find(|(k, _)| k == "en.title").unwrap().1 =
        "The Haysoms are murdered (by a campaign editor)".into();
    assert_eq!(post_editor(&app, &cookie, &path, &values).await.0, StatusCode::SEE_OTHER);
    assert!(film_shows(SHARED.into()).await, "still on the film site");
    assert!(app.get_on(FILM, "/timeline").await.body.contains("(by a campaign editor)"));
    // A forged choice of the film site changes nothing either.
    let path = "/admin/timeline/1966-08-01-birth";
    let mut values = editor_form(&app, &cookie, path).await;
    values.push(("shown_on".into(), "killing-for-love".into()));
    let path2 = format!("/admin/timeline/{CAMPAIGN_ONLY}");
    let mut values2 = editor_form(&app, &cookie, &path2).await;
    values2.push(("shown_on".into(), "killing-for-love".into()));
    assert_eq!(post_editor(&app, &cookie, &path2, &values2).await.0, StatusCode::SEE_OTHER, "saved");
    assert!(!film_shows(CAMPAIGN_ONLY.into()).await, "but not shown on the film site");
    values.retain(|(k, _)| k != "shown_on");
    assert_eq!(post_editor(&app, &cookie, path, &values).await.0, StatusCode::SEE_OTHER);
    assert!(film_shows("1966-08-01-birth".into()).await, "unticking what it cannot see changes nothing");

    // The film site shows the campaign's items: the campaign cannot show
    // the film's in turn.
    let film_cookie = editor_cookie(&app, FILM).await;
    let mut values = editor_form_on(&app, &film_cookie, FILM, "/admin/timeline/new").await;
    for (k, v) in &mut values {
        match k.as_str() {
            "key" => *v = "film-own-event".into(),
            "en.title" => *v = "An event of the film's own".into(),
            "field.date" => *v = "2016".into(),
            _ => {}
        }
    }
    values.push(("shown_on".into(), "jens-soering".into()));
    let (status, _, page) = post_editor_on(&app, &film_cookie, FILM, "/admin/timeline/new", &values).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("two sites cannot show each other"), "{}", page.split("role=\"alert\"").nth(1).unwrap_or(""));
    let film = app.state.others()[0].site_id;
    assert!(store.item(film, ItemKind::Timeline, "film-own-event").await.unwrap().is_none(), "nothing written");
}

/// A signed-in editor's session cookie, signed in on `host`.
async fn editor_cookie(app: &TestApp, host: &str) -> String {
    let store = &app.state.store;
    let _ = store.add_user("ed@example.org", Role::Editor, &hash_password("correct horse battery"), 0).await;
    sign_in(app, "ed@example.org", host).await
}

/// The cookie of a new editor limited to the site `site`, signed in on `host`.
async fn limited_user(app: &TestApp, email: &str, site: &str, host: &str) -> String {
    let store = &app.state.store;
    let user = store.add_user(email, Role::Editor, &hash_password("correct horse battery"), 0).await.unwrap();
    store.set_user_sites(user.id, &[site.to_owned()]).await.unwrap();
    sign_in(app, email, host).await
}

/// The session cookie of `email` (password "correct horse battery"),
/// signed in on `host`.
async fn sign_in(app: &TestApp, email: &str, host: &str) -> String {
    let form = ("content-type", "application/x-www-form-urlencoded");
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("email", email), ("password", "correct horse battery")])
        .finish();
    let (_, h, _) = app.request("POST", "/admin/sign-in", &[form, ("host", host)], &body).await;
    h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

/// Sets the form's fields named in `fields` (each must be there).
fn set_fields(values: &mut [(String, String)], fields: &[(&str, &str)]) {
    for (name, value) in fields {
        values.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}")).1 = (*value).into();
    }
}

/// The editor form at `path` on the campaign's site, as a browser would send it.
async fn editor_form(app: &TestApp, cookie: &str, path: &str) -> Vec<(String, String)> {
    editor_form_on(app, cookie, "127.0.0.1:8080", path).await
}

async fn editor_form_on(app: &TestApp, cookie: &str, host: &str, path: &str) -> Vec<(String, String)> {
    let (status, _, editor) = app.request("GET", path, &[("cookie", cookie), ("host", host)], "").await;
    assert_eq!(status, StatusCode::OK, "{path}");
    crate::admin::editor_values(&editor)
}

async fn post_editor(
    app: &TestApp,
    cookie: &str,
    path: &str,
    values: &[(String, String)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    post_editor_on(app, cookie, "127.0.0.1:8080", path, values).await
}

async fn post_editor_on(
    app: &TestApp,
    cookie: &str,
    host: &str,
    path: &str,
    values: &[(String, String)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    let form = ("content-type", "application/x-www-form-urlencoded");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(values).finish();
    app.request("POST", path, &[form, ("cookie", cookie), ("host", host)], &body).await
}

/// Configured host names replace the default, and an unknown host can be
/// refused instead of getting the first site.
#[tokio::test]
async fn host_names_come_from_the_configuration_and_unknown_hosts_may_get_a_404() {
    let app = TestApp::builder()
        .config(|c| {
            c.site_hosts = vec!["killing-for-love=film.example".into(), "killing-for-love=www.film.example".into()];
            c.unknown_host = Some("404".into());
        })
        .build()
        .await;
    assert!(app.get_on("www.film.example", "/").await.body.contains("<title>Killing for Love"));
    assert!(app.get_on("FILM.example:443", "/about").await.status == StatusCode::OK, "case and port do not matter");
    assert_eq!(app.get_on(FILM, "/").await.status, StatusCode::NOT_FOUND, "the default is replaced");
    assert_eq!(app.get_on("other.example", "/").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/").await.status, StatusCode::OK, "the first site's own address still answers");
}

/// The documentary's bundle reads completely against the campaign's, and
/// every event it shows cites a source.
#[test]
fn the_film_bundle_imports_completely_and_every_event_cites_a_source() {
    let campaign = casefile::bundle::parse(&casefile::bundle::default_files()).unwrap();
    let files = casefile::bundle::companion_files().remove(0);
    let film = casefile::bundle::parse_with(&files, std::slice::from_ref(&campaign)).unwrap();
    assert_eq!(film.key, "killing-for-love");
    assert_eq!(film.languages, [casefile::content::Lang::En]);
    let included = film.included.as_ref().expect("shared items");
    assert_eq!(included.from, "jens-soering");
    assert!(film.timeline.len() >= 18 && film.timeline.iter().all(|e| !e.sources.is_empty()));
    assert!(film.timeline.iter().all(|e| included.items.contains(&(ItemKind::Timeline, e.key.clone()))), "not copies");
    assert!(
        film.pages.iter().all(|p| !p.sources.is_empty() || p.key == "search" || p.key == "news" || p.key == "privacy")
    );
    // Without the campaign's site, the bundle says what it misses.
    let err = casefile::bundle::parse(&files).unwrap_err().to_string();
    assert!(err.contains("shared.toml: the site `jens-soering` is not there"), "{err}");
}

/// Each site goes out on its own: the film site's content bundle names
/// the shared items in `shared.toml` rather than copying them, and reads
/// back against the campaign's; its static copy has its own pages only.
#[tokio::test]
async fn each_site_is_exported_on_its_own() {
    let app = TestApp::new().await;
    let out = tempfile::tempdir().unwrap();
    let (data, bundle, copy) = (app.data(), out.path().join("film"), out.path().join("static"));
    let (data, bundle_s, copy_s) = (data.to_str().unwrap(), bundle.to_str().unwrap(), copy.to_str().unwrap());
    crate::content_io::ok(&["export-content", "--data", data, "--site", "killing-for-love", "--out", bundle_s]);
    let shared = std::fs::read_to_string(bundle.join("shared.toml")).unwrap();
    assert!(shared.contains("from = \"jens-soering\"") && shared.contains(SHARED), "{shared}");
    assert!(!bundle.join("timeline").exists(), "no copies of the shared events");
    assert!(!std::fs::read_to_string(bundle.join("sources.toml")).unwrap().contains("film-site"));
    let (texts, _) = casefile::bundle::read_folder(&bundle).unwrap();
    let campaign = casefile::bundle::parse(&casefile::bundle::default_files()).unwrap();
    let again = casefile::bundle::parse_with(&texts, std::slice::from_ref(&campaign)).unwrap();
    assert_eq!(again.pages.len(), 6);
    assert_eq!(again.included.unwrap().items.len(), 28);

    let base = ["--base-url", "https://film.example", "--no-twins", "--quiet"];
    let args = [&["export", "--data", data, "--site", "killing-for-love", "--out", copy_s][..], &base].concat();
    crate::content_io::ok(&args);
    let timeline = std::fs::read_to_string(copy.join("timeline.html")).unwrap();
    assert!(timeline.contains(&format!("id=\"{SHARED}\"")) && !timeline.contains(&format!("id=\"{CAMPAIGN_ONLY}\"")));
    assert!(std::fs::read_to_string(copy.join("index.html")).unwrap().contains("<title>Killing for Love"));
    assert!(!copy.join("case.html").exists() && !copy.join("de").exists(), "none of the campaign's pages");
    let failed =
        crate::content_io::casefile(&["export-content", "--data", data, "--site", "nothing", "--out", bundle_s]);
    assert!(String::from_utf8_lossy(&failed.stderr).contains("there is no site `nothing`"));
}

/// `casefile import` takes a site's bundle that shows another site's
/// items (its `shared.toml`) beside that site: it links them, never copies
/// them; a second run changes nothing; `--prune` stops showing what the
/// bundle no longer lists.
#[tokio::test]
async fn a_bundle_that_shows_another_sites_items_imports_beside_that_site() {
    use crate::content_io::{casefile, ok};
    let app = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (bundle, data) = (dir.path().join("film"), dir.path().join("data"));
    let (app_data, bundle_s, data_s) = (app.data(), bundle.to_str().unwrap(), data.to_str().unwrap());
    ok(&["export-content", "--data", app_data.to_str().unwrap(), "--site", "killing-for-love", "--out", bundle_s]);
    // Not into an install without the campaign's site: it names what it misses.
    let out = casefile(&["import", bundle_s, "--data", data_s]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the site `jens-soering` is not there"));

    ok(&["import", "--default", "--data", data_s]);
    let report = ok(&["import", bundle_s, "--data", data_s]);
    assert!(report.contains(&format!("include timeline `{SHARED}` (stored by another site)")), "{report}");
    assert!(report.contains("create  page `about`") && report.contains("28 of another site's items now shown"));
    assert!(!report.contains("create  timeline"), "no copies: {report}");
    assert!(ok(&["import", bundle_s, "--data", data_s]).contains("nothing to change"));

    // The bundle without one event: kept without --prune, unlinked with it.
    let shared = bundle.join("shared.toml");
    let text = std::fs::read_to_string(&shared).unwrap();
    std::fs::write(&shared, text.replace("\"1966-08-01-birth\",", "")).unwrap();
    assert!(ok(&["import", bundle_s, "--data", data_s]).contains("nothing to change"));
    let pruned = ok(&["import", bundle_s, "--data", data_s, "--prune", "--yes"]);
    assert!(pruned.contains("exclude timeline `1966-08-01-birth`"), "{pruned}");
    let again = dir.path().join("again");
    ok(&["export-content", "--data", data_s, "--site", "killing-for-love", "--out", again.to_str().unwrap()]);
    let listed = std::fs::read_to_string(again.join("shared.toml")).unwrap();
    assert!(listed.contains(SHARED) && !listed.contains("1966-08-01-birth"), "{listed}");
    // `casefile site list` names both, their languages, contents and hosts.
    let listed = ok(&["site", "list", "--data", data_s, "--site-host", "killing-for-love=film.example"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines[0].starts_with("jens-soering  Friends of Jens Söring  [en, de]  "), "{listed}");
    assert!(lines[0].ends_with("and any host no other site names"), "{listed}");
    assert!(lines[1].starts_with("killing-for-love  Killing for Love  [en]  6 items, 27 shown from another site"));
    assert!(lines[1].ends_with("  http://film.example:8080 (film.example)"), "{listed}");
    crate::db::release(&data);
}

/// A user limited to the film's site edits it and nothing else, in the
/// admin and through the Admin API; the admin names both sites.
#[tokio::test]
async fn a_user_may_be_limited_to_some_sites() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let cookie = limited_user(&app, "film@example.org", "killing-for-love", "127.0.0.1:8080").await;
    let (status, _, page) = app.request("GET", "/admin", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Your account edits other sites of this install"));

    let cookie = sign_in(&app, "film@example.org", FILM).await;
    let (status, _, page) = app.request("GET", "/admin/pages", &[("cookie", &cookie), ("host", FILM)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/admin/pages/about"), "the film site's own pages");
    // (The templates escape `/` in attributes.)
    let switcher = page.split("class=\"site-switcher\"").nth(1).expect("a site switcher");
    assert!(
        switcher.contains("http:&#x2f;&#x2f;film.localhost:8080&#x2f;admin\" aria-current=\"page\">Killing for Love")
    );
    assert!(switcher.contains("http:&#x2f;&#x2f;127.0.0.1:8080&#x2f;admin"), "the campaign's admin too");

    let (token, hash) = casefile::accounts::new_token();
    store.add_token("film@example.org", "test", &hash, 0).await.unwrap();
    let bearer = format!("Bearer {token}");
    let (status, _, body) = app.request("GET", "/api/admin/v1/pages", &[("authorization", &bearer)], "").await;
    assert!(status == StatusCode::FORBIDDEN && body.contains("may not edit the site `jens-soering`"), "{body}");
    let path = "/api/admin/v1/pages?site=killing-for-love";
    assert_eq!(app.request("GET", path, &[("authorization", &bearer)], "").await.0, StatusCode::OK);
}
