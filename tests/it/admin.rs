//! The web admin in process: signing in and out, the cookie, the throttle,
//! CSRF, roles, and an edit from the form to the public page, with a
//! second editor's stale save refused.

use axum::http::StatusCode;
use casefile::accounts::{Role, hash_password};
use casefile::content::{Item, ItemKind};

use crate::app::TestApp;

const PASSWORD: &str = "correct horse battery staple";

async fn app_with_users() -> TestApp {
    let app = TestApp::new().await;
    let store = &app.state.store;
    store.add_user("own@example.org", Role::Owner, &hash_password(PASSWORD), 0).await.unwrap();
    store.add_user("ed@example.org", Role::Editor, &hash_password(PASSWORD), 0).await.unwrap();
    app
}

fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Signs in; returns the `Cookie` header value.
async fn sign_in(app: &TestApp, email: &str) -> String {
    let (status, h, body) =
        app.request("POST", "/admin/sign-in", &[FORM], &form(&[("email", email), ("password", PASSWORD)])).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let set = h["set-cookie"].to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

/// Every field of the editor form on `page`, as a browser would send it:
/// ticked boxes only, every chosen option of a list.
pub(crate) fn editor_values(page: &str) -> Vec<(String, String)> {
    let doc = scraper::Html::parse_document(page);
    let controls =
        scraper::Selector::parse("form.editor input[name], form.editor textarea, form.editor select").unwrap();
    let chosen = scraper::Selector::parse("option[selected]").unwrap();
    let mut values = Vec::new();
    for el in doc.select(&controls) {
        let (tag, name) = (el.value().name(), el.value().attr("name").unwrap_or("").to_owned());
        match tag {
            "textarea" => values.push((name, el.text().collect())),
            "select" => {
                for option in el.select(&chosen) {
                    values.push((name.clone(), option.value().attr("value").unwrap_or("").to_owned()));
                }
            }
            _ if el.value().attr("type") == Some("checkbox") && el.value().attr("checked").is_none() => {}
            _ => values.push((name, el.value().attr("value").unwrap_or("").to_owned())),
        }
    }
    values
}

/// The value of the first `<input name=…>` on a page.
fn input(page: &str, name: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(&format!("[name=\"{name}\"]")).unwrap();
    let el = doc.select(&sel).next().unwrap_or_else(|| panic!("no field {name}"));
    match el.value().name() {
        "textarea" => el.text().collect(),
        "select" => {
            let selected = scraper::Selector::parse("option[selected]").unwrap();
            el.select(&selected).next().and_then(|o| o.value().attr("value")).unwrap_or("").to_owned()
        }
        _ => el.value().attr("value").unwrap_or("").to_owned(),
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_for_the_admin_only_and_signing_out_ends_the_session() {
    let app = app_with_users().await;
    let (status, h, _) = app.request("GET", "/admin", &[], "").await;
    assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/sign-in"));
    let (status, h, page) = app.request("GET", "/admin/sign-in", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert!(page.contains("name=\"password\""));

    // A wrong password and an unknown address get the same answer.
    let wrong = |email: &'static str| {
        let app = &app;
        async move {
            let (status, _, body) =
                app.request("POST", "/admin/sign-in", &[FORM], &form(&[("email", email), ("password", "nope")])).await;
            (status, body.replace(email, "EMAIL"))
        }
    };
    let (a, b) = (wrong("own@example.org").await, wrong("nobody@example.org").await);
    assert_eq!(a.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.1.contains("The email address or the password is wrong."));
    assert_eq!(a, b, "the same page for an unknown address");

    let (status, h, _) = app
        .request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "Own@Example.org"), ("password", PASSWORD)]))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = h["set-cookie"].to_str().unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Secure"), "served over plain HTTP here: {set}");
    let cookie = set.split(';').next().unwrap().to_owned();

    let (status, _, page) = app.request("GET", "/admin", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("own@example.org"));
    let (_, h, _) = app.request("GET", "/", &[("cookie", &cookie)], "").await;
    assert!(!h.contains_key("set-cookie"), "public pages set no cookie, for an editor too");

    // Signing out needs the CSRF token, then ends the session on the server.
    let csrf = input(&page, "csrf");
    let (status, ..) = app.request("POST", "/admin/sign-out", &[FORM, ("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, h, _) =
        app.request("POST", "/admin/sign-out", &[FORM, ("cookie", &cookie)], &form(&[("csrf", &csrf)])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let (status, ..) = app.request("GET", "/admin", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie opens nothing");

    // A new password (`casefile user passwd`) ends every session of the user.
    let (_, h, _) = app
        .request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "own@example.org"), ("password", PASSWORD)]))
        .await;
    let cookie = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(app.request("GET", "/admin", &[("cookie", &cookie)], "").await.0, StatusCode::OK);
    let hash = hash_password("another long passphrase here");
    app.state.store.set_password("own@example.org", &hash, 0).await.unwrap();
    let (status, ..) = app.request("GET", "/admin", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out by the new password");
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let app = app_with_users().await;
    for _ in 0..5 {
        let (status, ..) = app
            .request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "ed@example.org"), ("password", "x")]))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, h, page) = app
        .request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "ed@example.org"), ("password", PASSWORD)]))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert_eq!(h["retry-after"], "900");
    assert!(page.contains("Too many attempts"));
    sign_in(&app, "own@example.org").await; // another account is not locked out
    app.clock.advance(std::time::Duration::from_secs(15 * 60 + 1));
    sign_in(&app, "ed@example.org").await;
}

#[tokio::test]
async fn an_edit_shows_at_once_and_a_stale_save_is_refused_with_both_versions() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let auth = [("cookie", cookie.as_str())];
    let (status, _, list) = app.request("GET", "/admin/news", &auth, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("/admin/news/2019-11-25-released-on-parole"), "the list links the items");

    let path = "/admin/news/2019-11-25-released-on-parole";
    let (status, _, editor) = app.request("GET", path, &auth, "").await;
    assert_eq!(status, StatusCode::OK);
    let mut values = editor_values(&editor);
    let slug = values.iter().find(|(k, _)| k == "en.slug").unwrap().1.clone();
    values.iter_mut().find(|(k, _)| k == "en.title").unwrap().1 = "Released – edited in the admin".into();
    let body =
        |values: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(values).finish();
    let headers = [FORM, ("cookie", cookie.as_str())];

    let (status, h, page) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", page.split("role=\"alert\"").nth(1).unwrap_or(""));
    assert_eq!(h["location"].to_str().unwrap(), format!("{path}?saved=1"));
    let public = app.get(&format!("/news/{slug}")).await;
    assert!(public.body.contains("Released – edited in the admin"), "shown at once");

    // The same form again: its revision is stale now.
    values.iter_mut().find(|(k, _)| k == "en.title").unwrap().1 = "A second editor's title".into();
    let (status, _, page) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Someone else saved this item meanwhile"));
    assert!(
        page.contains("A second editor&#x27;s title") || page.contains("A second editor's title"),
        "my version kept"
    );
    assert!(page.contains("Released – edited in the admin"), "theirs shown");
    assert!(!app.get(&format!("/news/{slug}")).await.body.contains("A second editor"), "nothing overwritten");

    // Without the CSRF token, or from another site: refused.
    let without: Vec<(String, String)> = values.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    assert_eq!(app.request("POST", path, &headers, &body(&without)).await.0, StatusCode::FORBIDDEN);
    let evil = [FORM, ("cookie", cookie.as_str()), ("origin", "https://evil.example")];
    assert_eq!(app.request("POST", path, &evil, &body(&values)).await.0, StatusCode::FORBIDDEN);

    // A mistake comes back with the entries and the reason.
    let mut broken = values.clone();
    broken.iter_mut().find(|(k, _)| k == "other").unwrap().1 = "{ not json".into();
    let (status, _, page) = app.request("POST", path, &headers, &body(&broken)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not valid JSON") && page.contains("A second editor"), "reason and entries");

    // Revisions: two, the older one restorable.
    let (_, _, revisions) = app.request("GET", &format!("{path}/revisions"), &auth, "").await;
    assert!(revisions.contains("ed@example.org") && revisions.contains("/restore"));
    // The edit compared with the revision before it, word by word, in its
    // language only.
    let doc = scraper::Html::parse_document(&revisions);
    let sel = scraper::Selector::parse("a[href$='/diff']").unwrap();
    let diff = doc.select(&sel).next().expect("a compare link").value().attr("href").unwrap().to_owned();
    let (status, _, page) = app.request("GET", &diff, &auth, "").await;
    assert_eq!(status, StatusCode::OK);
    let ins: Vec<&str> = page.split("<ins>").skip(1).map(|p| p.split("</ins>").next().unwrap()).collect();
    assert!(ins.iter().any(|i| i.contains("edited in the admin")), "the added words, as one run: {ins:?}");
    assert!(page.contains("<h2>English</h2>") && !page.contains("<h2>German</h2>"), "only the English text changed");
    assert_eq!(app.request("GET", &format!("{diff}?with=999999"), &auth, "").await.0, StatusCode::NOT_FOUND);

    // Owners only: users and the audit log, which names the edit.
    assert_eq!(app.request("GET", "/admin/users", &auth, "").await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.request("GET", "/admin/audit", &auth, "").await.0, StatusCode::FORBIDDEN);
    let owner = sign_in(&app, "own@example.org").await;
    let (status, _, users) = app.request("GET", "/admin/users", &[("cookie", owner.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(users.contains("ed@example.org"));
    let (status, _, audit) = app.request("GET", "/admin/audit", &[("cookie", owner.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    let first_row = audit.split("<tbody>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(first_row.contains("ed@example.org") && first_row.contains("2019-11-25-released-on-parole"), "{first_row}");
}

/// Sources are picked from a list of every source, not typed as JSON:
/// those cited before keep their order (it numbers the notes), new ones
/// follow, and an item that cites none is flagged.
#[tokio::test]
async fn sources_are_picked_from_a_list_and_keep_their_order() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let path = "/admin/news/2019-11-25-released-on-parole";
    let (_, _, page) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    assert!(!input(&page, "other").contains("\"sources\""), "not in the JSON");
    assert_eq!(input(&page, "sources_order"), "site-2022,new-yorker-2019,crime-story-2020,film-site");
    assert!(page.contains("<option value=\"site-2016\">site-2016: "), "every source is offered");
    let mut values = editor_values(&page);
    values.retain(|(k, _)| k != "sources");
    for chosen in ["film-site", "site-2016", "site-2022"] {
        values.push(("sources".into(), chosen.into()));
    }
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&values).finish();
    let headers = [FORM, ("cookie", cookie.as_str())];
    assert_eq!(app.request("POST", path, &headers, &body).await.0, StatusCode::SEE_OTHER);
    let item = app.state.store.item(app.state.site_id, ItemKind::News, "2019-11-25-released-on-parole").await;
    let Some(Item::News(post)) = item.unwrap() else { panic!("the post") };
    assert_eq!(post.sources, ["site-2022", "film-site", "site-2016"], "kept order first, the new one after");

    let (_, _, page) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    let mut values = editor_values(&page);
    values.retain(|(k, _)| k != "sources");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&values).finish();
    assert_eq!(app.request("POST", path, &headers, &body).await.0, StatusCode::SEE_OTHER);
    let (_, _, page) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    assert!(page.contains("id=\"no-sources\""), "none chosen: flagged");
}

#[tokio::test]
async fn a_new_item_is_made_from_the_types_shape_and_deleted_to_the_trash() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (status, _, page) = app.request("GET", "/admin/news/new", &[("cookie", cookie.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"no-sources\""), "a new item cites nothing yet: flagged");
    let mut other: serde_json::Value = serde_json::from_str(&input(&page, "other")).unwrap();
    other["date"] = "2026-11-26".into();
    let fields = [
        ("csrf", input(&page, "csrf")),
        ("key", "admin-post".to_owned()),
        ("status", "published".to_owned()),
        ("published_at", String::new()),
        ("en.title", "Written in the admin".to_owned()),
        ("en.slug", "written-in-the-admin".to_owned()),
        ("en.summary", "A summary.".to_owned()),
        ("en.body", "The text.".to_owned()),
        ("de.title", "In der Verwaltung geschrieben".to_owned()),
        ("de.slug", "in-der-verwaltung".to_owned()),
        ("de.summary", "Eine Zusammenfassung.".to_owned()),
        ("de.body", "Der Text.".to_owned()),
        ("other", other.to_string()),
    ];
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter()).finish();
    let (status, h, page) = app.request("POST", "/admin/news/new", &headers, &body).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(h["location"], "/admin/news/admin-post?saved=1");
    assert!(app.get("/news/written-in-the-admin").await.body.contains("Written in the admin"));
    assert!(app.get("/de/neuigkeiten/in-der-verwaltung").await.body.contains("In der Verwaltung geschrieben"));

    let csrf = fields[0].1.clone();
    let delete = form_urlencoded::Serializer::new(String::new()).append_pair("csrf", &csrf).finish();
    let (status, h, _) = app.request("POST", "/admin/news/admin-post/delete", &headers, &delete).await;
    assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/trash"));
    assert_eq!(app.get("/news/written-in-the-admin").await.status, StatusCode::NOT_FOUND);
    let (_, _, trash) = app.request("GET", "/admin/trash", &[("cookie", cookie.as_str())], "").await;
    assert!(trash.contains("admin-post"));
    // Its revisions stay readable; restoring one first needs the item out
    // of the trash, and the refusal says so (it was a 500).
    let auth = [("cookie", cookie.as_str())];
    let (_, _, revisions) = app.request("GET", "/admin/news/admin-post/revisions", &auth, "").await;
    let restore = revisions.split("action=\"").find(|a| a.contains("restore")).unwrap().split('"').next().unwrap();
    let restore = restore.replace("&#x2f;", "/");
    let (status, _, page) = app.request("POST", &restore, &headers, &delete).await;
    assert_eq!(status, StatusCode::CONFLICT, "{restore}: {page}");
    assert!(page.contains("is in the trash: restore it"), "{page}");
    let (status, ..) = app.request("POST", "/admin/trash/news/admin-post/restore", &headers, &delete).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/news/written-in-the-admin").await.status, StatusCode::OK, "restored");
}

#[tokio::test]
async fn the_setup_link_makes_the_first_owner_once_and_expires() {
    let app = TestApp::new().await;
    let link = casefile::web::admin::setup_link(&app.state).await.expect("no user yet: a link");
    let path = link.trim_start_matches("http://127.0.0.1:8080");
    let token = path.split("t=").nth(1).unwrap().to_owned();
    let (status, _, page) = app.request("GET", path, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password_again\""));

    let post = |email: &str, password: &str, again: &str| {
        let body = form(&[("t", &token), ("email", email), ("password", password), ("password_again", again)]);
        let app = &app;
        async move { app.request("POST", "/admin/setup", &[FORM], &body).await }
    };
    let (status, _, page) = post("first@example.org", "password1234", "password1234").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("too easy to guess") && page.contains("first@example.org"), "says why, keeps the address");
    let (status, _, page) = post("first@example.org", PASSWORD, "something else entirely").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The two passwords differ."));

    let (status, h, _) = post("First@Example.org", PASSWORD, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, _, page) = app.request("GET", "/admin/users", &[("cookie", cookie.as_str())], "").await;
    assert_eq!(status, StatusCode::OK, "signed in as the owner");
    assert!(page.contains("first@example.org"));

    // Once there is a user, the link opens nothing.
    let (status, h, _) = app.request("GET", path, &[], "").await;
    assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/sign-in"));
    let (status, ..) = post("second@example.org", PASSWORD, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.state.store.users().await.unwrap().len(), 1, "no second owner through the link");
    assert!(casefile::web::admin::setup_link(&app.state).await.is_none());
}

#[tokio::test]
async fn a_setup_link_expires_after_an_hour() {
    let app = TestApp::new().await;
    let link = casefile::web::admin::setup_link(&app.state).await.unwrap();
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    app.clock.advance(std::time::Duration::from_secs(3601));
    let (status, _, page) = app.request("GET", &path, &[], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("expired"));
    let tampered = path.replace("setup?t=", "setup?t=0");
    assert_eq!(app.request("GET", &tampered, &[], "").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_preview_renders_the_form_with_the_public_templates_and_saves_nothing() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let path = "/admin/news/2019-11-25-released-on-parole";
    let (_, _, editor) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    let mut values = editor_values(&editor);
    values.iter_mut().find(|(k, _)| k == "de.title").unwrap().1 = "Ein Titel nur in der Vorschau".into();
    values.iter_mut().find(|(k, _)| k == "status").unwrap().1 = "draft".into();
    let de_slug = values.iter().find(|(k, _)| k == "de.slug").unwrap().1.clone();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&values).finish();
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (status, h, page) = app.request("POST", &format!("{path}/preview?lang=de"), &headers, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["cache-control"], "no-store");
    assert!(page.contains("Ein Titel nur in der Vorschau"), "the German page as edited, even as a draft");
    assert!(page.contains("lang=\"de\""));
    let public = app.get(&format!("/de/neuigkeiten/{de_slug}")).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(!public.body.contains("Ein Titel nur in der Vorschau"), "nothing saved");
    let without_csrf: Vec<(String, String)> = values.into_iter().filter(|(k, _)| k != "csrf").collect();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&without_csrf).finish();
    assert_eq!(app.request("POST", &format!("{path}/preview"), &headers, &body).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_retention_purge_removes_expired_sessions_and_old_failed_sign_ins() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let (status, ..) =
        app.request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "x@example.org"), ("password", "x")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let now = app.clock.now();
    assert_eq!(app.state.store.purge_expired(now).await.unwrap(), 0, "nothing is due yet");
    assert_eq!(app.request("GET", "/admin", &[("cookie", cookie.as_str())], "").await.0, StatusCode::OK);
    // A day later: the session (idle for more than 2 hours) and the two
    // failure records (per address and per client address) are gone.
    assert_eq!(app.state.store.purge_expired(now + 86_401).await.unwrap(), 3);
}

/// Every admin route: without a session it opens nothing (a page sends to
/// sign-in, a post too, and changes nothing); with a session but without
/// the CSRF token, no post goes through.
#[tokio::test]
async fn no_admin_route_opens_without_a_session_and_no_post_without_the_token() {
    let app = app_with_users().await;
    let (gets, posts) = admin_routes("2019-11-25-released-on-parole");
    assert!(gets.len() >= 20 && posts.len() >= 18, "the route table was read: {gets:?} {posts:?}");
    let version = app.state.store.content_version(app.state.site_id).await.unwrap();
    for path in &gets {
        let (status, h, _) = app.request("GET", path, &[], "").await;
        assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/sign-in"), "GET {path}");
    }
    let cookie = sign_in(&app, "ed@example.org").await;
    for path in &posts {
        let (status, ..) = app.request("POST", path, &[FORM], "csrf=x").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "POST {path} without a session goes to sign-in");
        let (status, ..) = app.request("POST", path, &[FORM, ("cookie", cookie.as_str())], "csrf=wrong").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST {path} with a wrong token");
    }
    assert_eq!(app.state.store.content_version(app.state.site_id).await.unwrap(), version, "nothing changed");
}

/// Every admin route from the route table in `src/web/admin/mod.rs`, with
/// sample values for its parameters, as (GET paths, POST paths): a route
/// added there is checked here without anyone listing it. The routes that
/// work before a session exists (signing in, the first owner's setup) are
/// left out; their own tests cover them.
fn admin_routes(key: &str) -> (Vec<String>, Vec<String>) {
    const BEFORE_A_SESSION: [&str; 3] = ["/sign-in", "/sign-in/code", "/setup"];
    let table = include_str!("../../src/web/admin/mod.rs");
    let (mut gets, mut posts) = (Vec::new(), Vec::new());
    for line in table.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap();
        if BEFORE_A_SESSION.contains(&path) {
            continue;
        }
        let path = format!("/admin{}", path.trim_end_matches('/'))
            .replace("{kind}", "news")
            .replace("{key}", key)
            .replace("{id}", "1")
            .replace("{number}", "1");
        let handlers = line.split_once(',').unwrap().1;
        assert!(handlers.contains("get(") || handlers.contains("post("), "a route on one line, please: {line}");
        if handlers.contains("get(") {
            gets.push(path.clone());
        }
        if handlers.contains("post(") {
            posts.push(path);
        }
    }
    (gets, posts)
}

/// Markup typed into every text field of the editor is text on the public
/// site and in the admin: escaped in titles and summaries, sanitised in the
/// Markdown body, refused in keys and addresses.
#[tokio::test]
async fn markup_in_admin_fields_never_becomes_markup() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let path = "/admin/news/2019-11-25-released-on-parole";
    let (_, _, editor) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    let mut values = editor_values(&editor);
    let slug = values.iter().find(|(k, _)| k == "en.slug").unwrap().1.clone();
    let set = |values: &mut Vec<(String, String)>, k: &str, v: &str| {
        values.iter_mut().find(|(f, _)| f == k).unwrap().1 = v.into()
    };
    set(&mut values, "en.title", "<script>alert('t')</script>\"><img src=x onerror=alert(1)>");
    set(&mut values, "en.summary", "<svg onload=alert(2)>");
    set(
        &mut values,
        "en.body",
        "Hello <script>alert(3)</script> [x](javascript:alert(4)) <img src=x onerror=alert(5)>",
    );
    let headers = [FORM, ("cookie", cookie.as_str())];
    let body =
        |values: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(values).finish();
    let (status, ..) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let public = app.get(&format!("/news/{slug}")).await.body;
    let (_, _, admin) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    let (_, _, list) = app.request("GET", "/admin/news", &[("cookie", cookie.as_str())], "").await;
    for (name, page) in [("public", &public), ("editor", &admin), ("list", &list)] {
        let doc = scraper::Html::parse_document(page);
        let scripts = scraper::Selector::parse("script:not([type='application/ld+json'])").unwrap();
        assert!(doc.select(&scripts).all(|s| s.value().attr("src").is_some()), "{name}: an inline script");
        let handlers = scraper::Selector::parse("[onerror], [onload]").unwrap();
        assert_eq!(doc.select(&handlers).count(), 0, "{name}: an event handler attribute");
        let links = scraper::Selector::parse("a[href^='javascript']").unwrap();
        assert_eq!(doc.select(&links).count(), 0, "{name}: a javascript: link");
    }
    assert!(public.contains("&lt;script&gt;alert("), "the title shows as text");

    // Keys and addresses are checked, not escaped.
    let mut bad = values.clone();
    set(&mut bad, "csrf", &input(&admin, "csrf"));
    set(&mut bad, "revision", &input(&admin, "revision"));
    set(&mut bad, "en.slug", "<b>x</b>");
    let (status, ..) = app.request("POST", path, &headers, &body(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a slug with markup is refused");
}

/// Subscribers, signatures and the inbox: listed, filtered, exported as CSV
/// (formulas defused, no addresses in the petition's file), a message
/// marked done, and one person's data erased.
#[tokio::test]
async fn editors_see_the_people_export_them_and_erase_one() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(0.0)).build().await;
    app.state.store.add_user("ed@example.org", Role::Editor, &hash_password(PASSWORD), 0).await.unwrap();
    let post_form = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let token = app.form_token(path).await;
            let mut all = vec![("token", token.as_str())];
            all.extend(fields);
            assert_eq!(app.post(path, &all).await.status, StatusCode::SEE_OTHER, "{path}");
        }
    };
    post_form("/newsletter", vec![("name", "=HYPERLINK(\"x\")"), ("email", "sub@example.org"), ("consent", "yes")])
        .await;
    post_form("/de/newsletter", vec![("name", "Jörg"), ("email", "jo@example.org"), ("consent", "yes")]).await;
    post_form(
        "/pardon",
        vec![("name", "Sig Ner"), ("email", "sig@example.org"), ("country", "DE"), ("consent", "yes")],
    )
    .await;
    app.deliver().await;
    let token = app.mailed_token("/pardon/confirm");
    assert_eq!(app.post("/pardon/confirm", &[("t", &token)]).await.status, StatusCode::OK);
    post_form(
        "/contact",
        vec![
            ("name", "Wri Ter"),
            ("email", "sig@example.org"),
            ("subject", "A question"),
            ("message", "Is there news?"),
        ],
    )
    .await;

    let cookie = sign_in(&app, "ed@example.org").await;
    let get = |path: String| {
        let (app, cookie) = (&app, cookie.clone());
        async move { app.request("GET", &path, &[("cookie", cookie.as_str())], "").await }
    };
    let (status, _, page) = get("/admin/subscribers".into()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("sub@example.org") && page.contains("jo@example.org"), "{page}");
    let (_, _, page) = get("/admin/subscribers?lang=de".into()).await;
    assert!(page.contains("jo@example.org") && !page.contains("sub@example.org"));
    let (_, _, page) = get("/admin/subscribers?status=confirmed".into()).await;
    assert!(!page.contains("jo@example.org"), "nobody confirmed the newsletter");
    let (status, h, csv) = get("/admin/subscribers.csv".into()).await;
    assert_eq!((status, h["content-type"].to_str().unwrap()), (StatusCode::OK, "text/csv; charset=utf-8"));
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"subscribers-"));
    assert!(csv.starts_with('\u{FEFF}') && csv.contains("jo@example.org,Jörg,de,pending"), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "a formula typed as a name stays text: {csv}");

    let (_, _, page) = get("/admin/signatures".into()).await;
    assert!(page.contains("Sig Ner") && page.contains("sig@example.org"), "{page}");
    assert!(page.contains("1 confirmed signatures"), "{page}");
    let (_, _, csv) = get("/admin/signatures.csv".into()).await;
    assert!(csv.contains("Sig Ner,DE,") && !csv.contains("sig@example.org"), "{csv}");

    let (_, _, page) = get("/admin/inbox".into()).await;
    assert!(page.contains("A question"), "{page}");
    let id = page.split("/admin/inbox/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, _, page) = get(format!("/admin/inbox/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Is there news?") && page.contains("mailto:sig%40example%2Eorg?subject=Re%3A%20A%20question"),
        "{page}"
    );
    let csrf = input(&page, "csrf");
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (status, ..) = app
        .request("POST", &format!("/admin/inbox/{id}/done"), &headers, &form(&[("csrf", &csrf), ("done", "1")]))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!get("/admin/inbox".into()).await.2.contains("A question"), "done messages leave the open list");
    assert!(get("/admin/inbox?done=1".into()).await.2.contains("A question"));

    // The address is posted, never put in a URL (proxy logs, history).
    assert!(!get("/admin/signatures".into()).await.2.contains("erase?email"));
    let look = form(&[("csrf", &csrf), ("email", "SIG@example.org")]);
    let (status, _, page) = app.request("POST", "/admin/erase/look", &headers, &look).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("value=\"sig@example.org\"") && page.contains("Erase everything about this address"),
        "{page}"
    );
    let (status, _, page) =
        app.request("POST", "/admin/erase", &headers, &form(&[("csrf", &csrf), ("email", "sig@example.org")])).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let left = app.state.store.personal_data(app.state.site_id, "sig@example.org").await.unwrap();
    assert!(left.signatures.is_empty() && left.messages.is_empty() && left.consents.is_empty(), "{left:?}");
    assert!(!get("/admin/signatures".into()).await.2.contains("Sig Ner"));
}

/// Two-factor sign-in: set up with the app's first code (recovery codes
/// shown once), then asked for after the password; a code works once, a
/// recovery code once; owners can require it of everyone.
#[tokio::test]
async fn two_factor_sign_in_is_set_up_asked_for_and_can_be_required() {
    use casefile::accounts::two_factor::code_at;
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (status, _, page) = app.request("GET", "/admin/two-factor", &headers, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("class=\"qr\" src=\"data:image"), "a QR code as an image");
    let doc = scraper::Html::parse_document(&page);
    let secret: String = doc
        .select(&scraper::Selector::parse("code.secret").unwrap())
        .next()
        .unwrap()
        .text()
        .collect::<String>()
        .replace(' ', "");
    let csrf = input(&page, "csrf");
    let enable = |code: String| form(&[("csrf", &csrf), ("action", "enable"), ("code", &code)]);
    let (status, ..) = app.request("POST", "/admin/two-factor", &headers, &enable("123456".into())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a wrong first code turns nothing on");
    let code = code_at(&secret, app.clock.now()).unwrap();
    let (status, _, page) = app.request("POST", "/admin/two-factor", &headers, &enable(code.clone())).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let doc = scraper::Html::parse_document(&page);
    let recovery: Vec<String> =
        doc.select(&scraper::Selector::parse(".recovery-codes code").unwrap()).map(|c| c.text().collect()).collect();
    assert_eq!(recovery.len(), 10);

    // Signing in now takes the password, then a code.
    let password = |email: &str| form(&[("email", email), ("password", PASSWORD)]);
    let step_one = || async {
        let (status, h, page) = app.request("POST", "/admin/sign-in", &[FORM], &password("ed@example.org")).await;
        assert_eq!(status, StatusCode::OK, "the code is asked for: {page}");
        assert!(h.get("set-cookie").is_none(), "no session before the second factor");
        input(&page, "pending")
    };
    let step_two = |pending: String, code: String| {
        let app = &app;
        async move {
            let body = form(&[("pending", &pending), ("code", &code)]);
            let (status, h, _) = app.request("POST", "/admin/sign-in/code", &[FORM], &body).await;
            (status, h.contains_key("set-cookie"))
        }
    };
    let pending = step_one().await;
    assert_eq!(step_two(pending.clone(), code.clone()).await, (StatusCode::UNPROCESSABLE_ENTITY, false), "no replay");
    assert_eq!(step_two("0.0.bad".into(), code.clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(std::time::Duration::from_secs(30));
    let next = code_at(&secret, app.clock.now()).unwrap();
    assert_eq!(step_two(pending.clone(), next).await, (StatusCode::SEE_OTHER, true));
    let pending = step_one().await;
    assert_eq!(step_two(pending.clone(), recovery[0].to_uppercase()).await, (StatusCode::SEE_OTHER, true));
    let pending = step_one().await;
    assert_eq!(step_two(pending, recovery[0].clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY, "used up");
    // The code step expires.
    let pending = step_one().await;
    app.clock.advance(std::time::Duration::from_secs(6 * 60));
    let late = code_at(&secret, app.clock.now()).unwrap();
    assert_eq!(step_two(pending, late).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // An owner requires it of everyone: the owner, who has none, is sent to
    // set it up before anything else.
    let owner = sign_in(&app, "own@example.org").await;
    let owner_headers = [FORM, ("cookie", owner.as_str())];
    let (_, _, page) = app.request("GET", "/admin/users", &owner_headers, "").await;
    assert!(page.contains("ed@example.org"));
    let body = form(&[("csrf", &input(&page, "csrf")), ("require", "1")]);
    let (status, ..) = app.request("POST", "/admin/users/two-factor", &owner_headers, &body).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, h, _) = app.request("GET", "/admin/news", &owner_headers, "").await;
    assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/two-factor"));
    let (status, ..) = app.request("GET", "/admin/two-factor", &owner_headers, "").await;
    assert_eq!(status, StatusCode::OK);
    // An editor may not change the rule.
    let (status, ..) =
        app.request("POST", "/admin/users/two-factor", &headers, &form(&[("csrf", &csrf), ("require", "0")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The operator's reset for a lost phone: the password alone again.
    assert!(app.state.store.disable_two_factor("ed@example.org").await.unwrap());
    let (status, ..) = app.request("POST", "/admin/sign-in", &[FORM], &password("ed@example.org")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

/// A review link opens a draft for someone without an account, as it
/// would be published, until it expires or is revoked; nothing else does.
#[tokio::test]
async fn a_review_link_shows_a_draft_until_revoked_or_expired() {
    use casefile::content::{Item, ItemKind, Status};
    let app = app_with_users().await;
    let (store, site) = (&app.state.store, app.state.site_id);
    let key = "2019-11-25-released-on-parole";
    let Some(Item::News(mut post)) = store.item(site, ItemKind::News, key).await.unwrap() else { panic!("a post") };
    post.meta.status = Status::Draft;
    for t in post.text.values_mut() {
        t.title = "A draft for the lawyer".into();
    }
    let change = casefile::store::Change { author: "test", note: "draft" };
    store.update_item(site, &Item::News(post), change).await.unwrap();
    app.refresh().await;
    assert!(!app.get("/news").await.body.contains("A draft for the lawyer"), "the draft is not public");

    let cookie = sign_in(&app, "ed@example.org").await;
    let headers = [FORM, ("cookie", cookie.as_str())];
    let links = format!("/admin/news/{key}/review-links");
    let (status, _, page) = app.request("GET", &links, &headers, "").await;
    assert_eq!(status, StatusCode::OK);
    let make = form(&[("csrf", &input(&page, "csrf")), ("days", "2")]);
    let (status, _, page) = app.request("POST", &links, &headers, &make).await;
    assert_eq!(status, StatusCode::OK);
    let review = review_link_in(&page);
    let (status, h, body) = app.request("GET", &review, &[], "").await;
    assert_eq!(status, StatusCode::OK, "no account needed");
    assert!(body.contains("A draft for the lawyer") && body.contains("Review copy"), "the draft, marked as such");
    assert_eq!(h["x-robots-tag"], "noindex");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h.get("set-cookie").is_none());
    let (_, _, de) = app.request("GET", &format!("{review}?lang=de"), &[], "").await;
    assert!(de.contains("Fassung zur Durchsicht"));
    for forged in ["/review/nonsense", &review.replace('.', ".0")] {
        assert_eq!(app.request("GET", forged, &[], "").await.0, StatusCode::NOT_FOUND, "{forged}");
    }
    // A source shows on no page of its own: no link for it.
    let source = store.items_of(site, ItemKind::Source).await.unwrap()[0].0.as_ref().key().to_owned();
    let body = form(&[("csrf", &input(&page, "csrf")), ("days", "1")]);
    let (status, ..) = app.request("POST", &format!("/admin/sources/{source}/review-links"), &headers, &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Revoked: gone at once.
    let (_, _, page) = app.request("GET", &links, &headers, "").await;
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("form[action$='/revoke']").unwrap();
    let revoke = doc.select(&sel).next().unwrap().value().attr("action").unwrap().to_owned();
    let body = form(&[("csrf", &input(&page, "csrf"))]);
    let (status, ..) = app.request("POST", &revoke, &headers, &body).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.request("GET", &review, &[], "").await.0, StatusCode::NOT_FOUND);
    // Another link, expired: gone too.
    let (_, _, page) = app.request("GET", &links, &headers, "").await;
    let (_, _, page) =
        app.request("POST", &links, &headers, &form(&[("csrf", &input(&page, "csrf")), ("days", "1")])).await;
    let second = review_link_in(&page);
    assert_eq!(app.request("GET", &second, &[], "").await.0, StatusCode::OK);
    app.clock.advance(std::time::Duration::from_secs(86_400 + 60));
    assert_eq!(app.request("GET", &second, &[], "").await.0, StatusCode::NOT_FOUND);
}

/// The path of the new review link shown on the page.
fn review_link_in(page: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(".notice a").unwrap();
    let href = doc.select(&sel).next().expect("the new link").value().attr("href").unwrap();
    href[href.find("/review/").unwrap()..].to_owned()
}

/// Guesses at the second step sent all at once are counted one after
/// another: no more than the account's limit of them is ever checked.
#[tokio::test]
async fn code_guesses_sent_at_once_are_throttled_like_sequential_ones() {
    use casefile::accounts::two_factor;
    let app = app_with_users().await;
    let store = &app.state.store;
    let user = store.users().await.unwrap().into_iter().find(|u| u.email == "ed@example.org").unwrap();
    let secret = two_factor::new_secret();
    store.set_pending_two_factor(user.id, &secret).await.unwrap();
    assert!(store.enable_two_factor(user.id, &secret, 0, &[]).await.unwrap());
    let (status, _, page) = app
        .request("POST", "/admin/sign-in", &[FORM], &form(&[("email", "ed@example.org"), ("password", PASSWORD)]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let pending = input(&page, "pending");
    let right = two_factor::code_at(&secret, app.clock.now()).unwrap();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let guesses = (0..12).map(|_| {
        let body = form(&[("pending", &pending), ("code", wrong)]);
        let app = &app;
        async move { app.request("POST", "/admin/sign-in/code", &[FORM], &body).await.0 }
    });
    let statuses = futures_join(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 7), "{statuses:?}");
    // Throttled now, even with the right code.
    let body = form(&[("pending", &pending), ("code", &right)]);
    assert_eq!(app.request("POST", "/admin/sign-in/code", &[FORM], &body).await.0, StatusCode::TOO_MANY_REQUESTS);
}

/// Runs futures concurrently on this task and returns their outputs.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out = Vec::new();
    // Poll them all together: each awaits the database in turn.
    let results = std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in set.iter_mut().enumerate() {
            if out.len() <= i {
                out.push(None);
            }
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    });
    results.await;
    out.into_iter().map(|v| v.expect("ready")).collect()
}

/// Wrong passwords sent all at once are counted one after another too.
#[tokio::test]
async fn password_guesses_sent_at_once_are_throttled_like_sequential_ones() {
    let app = app_with_users().await;
    let guesses = (0..9).map(|i| {
        let body = form(&[("email", "ed@example.org"), ("password", &format!("wrong guess {i}"))]);
        let app = &app;
        async move { app.request("POST", "/admin/sign-in", &[FORM], &body).await.0 }
    });
    let statuses = futures_join(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 4), "{statuses:?}");
    // The right password is refused too while the limit holds.
    let right = form(&[("email", "ed@example.org"), ("password", PASSWORD)]);
    assert_eq!(app.request("POST", "/admin/sign-in", &[FORM], &right).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn owners_change_the_site_settings_and_the_public_pages_follow() {
    let app = app_with_users().await;
    let editor = sign_in(&app, "ed@example.org").await;
    assert_eq!(
        app.request("GET", "/admin/settings", &[("cookie", editor.as_str())], "").await.0,
        StatusCode::FORBIDDEN
    );
    let owner = sign_in(&app, "own@example.org").await;
    let (status, _, page) = app.request("GET", "/admin/settings", &[("cookie", owner.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    let names = ["csrf", "revision", "lang_en", "lang_de", "default_language", "operator_name", "operator_email"];
    let texts = ["en", "de"].iter().flat_map(|l| ["name", "tagline", "footer"].map(|f| format!("{f}_{l}")));
    let mut values: Vec<(String, String)> =
        names.iter().map(|n| n.to_string()).chain(texts).map(|n| (input(&page, &n), n)).map(|(v, n)| (n, v)).collect();
    assert!(values.contains(&("operator_name".into(), "Friends of Jens Söring".into())), "{values:?}");
    let set = |values: &mut Vec<(String, String)>, name: &str, value: &str| {
        values.retain(|(k, _)| k != name);
        values.push((name.into(), value.into()));
    };
    let stale = values.clone();
    set(&mut values, "operator_name", "Verein Beispiel e.V.");
    set(&mut values, "operator_address", "Musterstraße 1, 10115 Berlin");
    set(&mut values, "footer_en", "A footer set in the admin.");
    set(&mut values, "contact_email", "info@verein.example");
    set(
        &mut values,
        "social",
        "Mastodon https://social.example/@verein\r\nFriends on Facebook https://facebook.example/verein\r\n",
    );
    let body = |v: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(v).finish();
    let headers = [FORM, ("cookie", owner.as_str())];

    let (status, h, _) = app.request("POST", "/admin/settings", &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/admin/settings?saved=1");
    let privacy = app.get("/privacy").await.body;
    assert!(privacy.contains("Verein Beispiel e.V.") && privacy.contains("Musterstraße 1, 10115 Berlin"));
    let home = app.get("/").await.body;
    assert!(home.contains("A footer set in the admin."));
    let footer = home.split("<footer").nth(1).unwrap();
    assert!(footer.contains("href=\"mailto:info@verein.example\""), "{footer}");
    assert!(
        footer.contains(">Friends on Facebook</a>") && footer.contains("rel=\"me external noopener noreferrer\""),
        "{footer}"
    );
    let de = app.get("/de/").await.body;
    assert!(de.split("<footer").nth(1).unwrap().contains(">Mastodon</a>"), "in every language");

    // The form as it was before that save: refused, nothing overwritten.
    let (status, _, page) = app.request("POST", "/admin/settings", &headers, &body(&stale)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("another owner saved the settings meanwhile"));
    assert!(app.get("/privacy").await.body.contains("Verein Beispiel e.V."));

    // Mistakes come back with what was entered and the reason.
    let (_, _, page) = app.request("GET", "/admin/settings", &[("cookie", owner.as_str())], "").await;
    set(&mut values, "revision", &input(&page, "revision"));
    let mut bad = values.clone();
    set(&mut bad, "operator_email", "not an address");
    set(&mut bad, "operator_name", "Another name");
    let (status, _, page) = app.request("POST", "/admin/settings", &headers, &body(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not an address mail can be sent to") && input(&page, "operator_name") == "Another name");
    let mut script = values.clone();
    set(&mut script, "social", "Click javascript:alert(1)\nBlog https://blog.example/");
    let (status, _, page) = app.request("POST", "/admin/settings", &headers, &body(&script)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("is not an http(s) address") && page.contains("Blog https:&#x2f;&#x2f;blog.example&#x2f;"),
        "kept: {page}"
    );
    let mut no_default = values.clone();
    no_default.retain(|(k, _)| k != "lang_en");
    let (status, _, page) = app.request("POST", "/admin/settings", &headers, &body(&no_default)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The default language must be one of the site"));
    assert!(app.get("/privacy").await.body.contains("Verein Beispiel e.V."), "nothing saved");

    let (_, _, audit) = app.request("GET", "/admin/audit", &[("cookie", owner.as_str())], "").await;
    let first_row = audit.split("<tbody>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(first_row.contains("own@example.org") && first_row.contains("settings"), "{first_row}");
}

/// Each user reads the admin in the language they chose, whatever their
/// browser prefers; without a choice, the browser's preference counts.
#[tokio::test]
async fn each_user_chooses_the_language_of_the_admin() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let english = [("cookie", cookie.as_str()), ("accept-language", "en-GB,en;q=0.9")];
    let (_, _, page) = app.request("GET", "/admin/account", &english, "").await;
    assert!(page.contains("Your account") && page.contains("<option value=\"\" selected>"), "the browser's choice");
    let csrf = input(&page, "csrf");
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (status, h, _) =
        app.request("POST", "/admin/account", &headers, &form(&[("csrf", &csrf), ("ui_lang", "de")])).await;
    assert_eq!((status, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin/account?saved=1"));
    let (_, _, page) = app.request("GET", "/admin/news", &english, "").await;
    assert!(
        page.contains("<html lang=\"de\"") && page.contains("Ihr Konto"),
        "German, though the browser asks for English"
    );
    let other = sign_in(&app, "own@example.org").await;
    let (_, _, page) = app.request("GET", "/admin/news", &[("cookie", other.as_str()), english[1]], "").await;
    assert!(page.contains("<html lang=\"en\""), "another user's choice is theirs");
    app.request("POST", "/admin/account", &headers, &form(&[("csrf", &csrf), ("ui_lang", "")])).await;
    let (_, _, page) = app.request("GET", "/admin/news", &english, "").await;
    assert!(page.contains("<html lang=\"en\""), "back to the browser's choice");
}

/// A newsletter: written and previewed in the admin, a test to the editor
/// alone, then sent once to the confirmed subscribers of its language, each
/// mail with its own one-click unsubscribe link; then it cannot change.
#[tokio::test]
async fn a_newsletter_is_previewed_tested_and_sent_once_to_confirmed_subscribers_of_its_language() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(0.0)).build().await;
    let store = &app.state.store;
    store.add_user("ed@example.org", Role::Editor, &hash_password(PASSWORD), 0).await.unwrap();
    // Two confirmed English subscribers, one pending, one German.
    for (page, email, confirm) in [
        ("/newsletter", "ann@example.org", true),
        ("/newsletter", "bo@example.org", true),
        ("/newsletter", "pending@example.org", false),
        ("/de/newsletter", "de@example.org", true),
    ] {
        let token = app.form_token(page).await;
        let fields = [("token", token.as_str()), ("name", ""), ("email", email), ("consent", "yes")];
        assert_eq!(app.post(page, &fields).await.status, StatusCode::SEE_OTHER);
        app.deliver().await;
        if confirm {
            let t = app.mailed_token(&format!("{page}/confirm"));
            let res = app.post(&format!("{page}/confirm?t={t}"), &[]).await;
            assert_eq!(res.status, StatusCode::OK, "{email} confirmed");
            app.deliver().await;
        }
    }
    let before = app.mails().len();

    let cookie = sign_in(&app, "ed@example.org").await;
    let headers = [FORM, ("cookie", cookie.as_str())];
    let (_, _, list) = app.request("GET", "/admin/newsletters", &[("cookie", cookie.as_str())], "").await;
    let csrf = input(&list, "csrf");
    let (status, h, _) = app
        .request("POST", "/admin/newsletters", &headers, &form(&[("csrf", &csrf), ("lang", "en"), ("subject", "News")]))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = h["location"].to_str().unwrap().to_owned();
    let body = "## A new petition\n\nPlease **sign** it. <script>alert(1)</script>";
    let save = form(&[("csrf", &csrf), ("subject", "Campaign news, December"), ("body", body)]);
    assert_eq!(app.request("POST", &path, &headers, &save).await.0, StatusCode::SEE_OTHER);
    let (_, _, page) = app.request("GET", &path, &[("cookie", cookie.as_str())], "").await;
    assert!(page.contains("<h2>A new petition</h2>") && page.contains("<strong>sign</strong>"), "the HTML preview");
    assert!(!page.contains("<script>alert(1)</script>"), "sanitised");

    // A test goes to the editor alone.
    assert_eq!(
        app.request("POST", &format!("{path}/test"), &headers, &form(&[("csrf", &csrf)])).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.deliver().await, 1);
    let test = app.mails().pop().unwrap();
    assert!(test.contains("To: ed@example.org") && test.contains("[Test] Campaign news, December"), "{test}");

    // Sent: to the two confirmed English subscribers, each with their own link.
    assert_eq!(
        app.request("POST", &format!("{path}/send"), &headers, &form(&[("csrf", &csrf)])).await.0,
        StatusCode::SEE_OTHER
    );
    let (_, _, page) = app.request("GET", &path, &[("cookie", cookie.as_str())], "").await;
    assert!(page.contains("http-equiv=\"refresh\""), "the progress page refreshes while mails wait");
    assert_eq!(app.deliver().await, 2);
    let sent: Vec<String> = app.mails().split_off(before + 1);
    assert_eq!(sent.len(), 2);
    let to = |m: &String| m.lines().find(|l| l.starts_with("To: ")).unwrap().to_owned();
    let mut recipients: Vec<String> = sent.iter().map(to).collect();
    recipients.sort();
    assert_eq!(recipients, ["To: ann@example.org", "To: bo@example.org"]);
    for m in &sent {
        assert!(m.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{m}");
        assert!(m.contains("/newsletter/unsubscribe?t="), "{m}");
    }
    let (_, _, page) = app.request("GET", &path, &[("cookie", cookie.as_str())], "").await;
    assert!(!page.contains("http-equiv=\"refresh\"") && page.contains("Delivered: 2"), "done");
    // The link in a mail unsubscribes that subscriber.
    let t = app.mailed_token("/newsletter/unsubscribe");
    assert_eq!(app.post(&format!("/newsletter/unsubscribe?t={t}"), &[]).await.status, StatusCode::OK);

    // Once sent, it neither changes nor goes out again.
    assert_eq!(
        app.request("POST", &format!("{path}/send"), &headers, &form(&[("csrf", &csrf)])).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(app.request("POST", &path, &headers, &save).await.0, StatusCode::CONFLICT);
    assert_eq!(app.deliver().await, 0);
    let (_, _, list) = app.request("GET", "/admin/newsletters", &[("cookie", cookie.as_str())], "").await;
    assert!(list.contains("Campaign news, December"));

    // An issue queued to a subscriber who leaves before it goes out is
    // taken back: it would arrive after the goodbye, with their name.
    let create = form(&[("csrf", &csrf), ("lang", "en"), ("subject", "Second")]);
    let (_, h, _) = app.request("POST", "/admin/newsletters", &headers, &create).await;
    let second = h["location"].to_str().unwrap().to_owned();
    let save_second = form(&[("csrf", &csrf), ("subject", "Campaign news, January"), ("body", "More.")]);
    assert_eq!(app.request("POST", &second, &headers, &save_second).await.0, StatusCode::SEE_OTHER);
    let send = form(&[("csrf", &csrf)]);
    assert_eq!(app.request("POST", &format!("{second}/send"), &headers, &send).await.0, StatusCode::SEE_OTHER);
    let text = sent[0].replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = text.find("/newsletter/unsubscribe?t=").unwrap() + "/newsletter/unsubscribe?t=".len();
    let t: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || ".-_".contains(*c)).collect();
    assert_eq!(app.post(&format!("/newsletter/unsubscribe?t={t}"), &[]).await.status, StatusCode::OK);
    assert_eq!(app.deliver().await, 0, "nothing goes out to who left");

    // Not public until the editor chooses; then in the archive of its
    // language only, beside the sign-up form, until taken out again.
    let id = path.rsplit('/').next().unwrap();
    let issue = format!("/newsletter/archive/{id}");
    assert_eq!(app.get(&issue).await.status, StatusCode::NOT_FOUND);
    let archive = |show: &str| form(&[("csrf", &csrf), ("show", show)]);
    let (status, ..) = app.request("POST", &format!("{path}/archive"), &headers, &archive("1")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let public = app.get(&issue).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("<h1>Campaign news, December</h1>") && public.body.contains("<strong>sign</strong>"));
    assert!(!public.body.contains("<script>alert(1)</script>"), "sanitised on the site too");
    assert!(
        !public.body.contains("ann@example.org") && !public.body.contains("unsubscribe?t="),
        "no subscriber's data"
    );
    let list = app.get("/newsletter/archive").await.body;
    assert!(list.contains(&format!("&#x2f;newsletter&#x2f;archive/{id}\"")), "listed: {list}");
    assert!(
        app.get("/newsletter").await.body.contains("href=\"&#x2f;newsletter&#x2f;archive\""),
        "linked from the sign-up page"
    );
    assert_eq!(app.get("/de/newsletter/archive").await.status, StatusCode::NOT_FOUND, "English subscribers' only");
    let (status, ..) = app.request("POST", &format!("{path}/archive"), &headers, &archive("0")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&issue).await.status, StatusCode::NOT_FOUND, "taken out");
    // A draft cannot be shown.
    let (_, h, _) = app
        .request(
            "POST",
            "/admin/newsletters",
            &headers,
            &form(&[("csrf", &csrf), ("lang", "en"), ("subject", "Draft")]),
        )
        .await;
    let draft = h["location"].to_str().unwrap().to_owned();
    let (status, ..) = app.request("POST", &format!("{draft}/archive"), &headers, &archive("1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// The type's plain fields are controls of their own: a date, a list of
/// names (one per line), a yes/no box. A mistake comes back with what was
/// typed; an emptied optional field is unset, not saved as an empty text.
#[tokio::test]
async fn plain_fields_are_edited_as_controls_of_their_own() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let headers = [FORM, ("cookie", cookie.as_str())];
    let body =
        |values: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(values).finish();
    let set = |values: &mut Vec<(String, String)>, field: &str, value: &str| {
        values.iter_mut().find(|(k, _)| k == field).unwrap_or_else(|| panic!("no field {field}")).1 = value.into();
    };

    let path = "/admin/press/crime-story-2020";
    let (_, _, editor) = app.request("GET", path, &[("cookie", &cookie)], "").await;
    assert!(!input(&editor, "other").contains("\"outlet\""), "not in the JSON any more");
    let mut values = editor_values(&editor);
    assert!(values.contains(&("field.authors".into(), "Amanda Knox\nChristopher Robinson".into())), "one per line");
    set(&mut values, "field.date", "2020-13");
    let (status, _, page) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(input(&page, "field.date") == "2020-13" && page.contains("role=\"alert\""), "the mistake comes back");

    set(&mut values, "field.date", "2020-03");
    set(&mut values, "field.authors", "Amanda Knox\r\n\r\nChristopher Robinson\r\nA third author\r\n");
    set(&mut values, "field.quote", "  ");
    let (status, _, page) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (site, kind) = (app.state.site_id, casefile::content::ItemKind::Press);
    let Some(casefile::content::Item::Press(report)) =
        app.state.store.item(site, kind, "crime-story-2020").await.unwrap()
    else {
        panic!("the report is there")
    };
    assert_eq!(report.date.map(|d| d.to_string()).as_deref(), Some("2020-03"));
    assert_eq!(report.authors, ["Amanda Knox", "Christopher Robinson", "A third author"]);
    assert_eq!(report.quote, None, "emptied: unset");
    assert_eq!(report.outlet.as_deref(), Some("Crime Story"), "untouched fields stay");

    // A box left unticked sends nothing but its control: it means no.
    let path = "/admin/petitions/pardon-support";
    let (_, _, editor) = app.request("GET", path, &[("cookie", &cookie)], "").await;
    let values: Vec<(String, String)> = editor_values(&editor).into_iter().filter(|(k, _)| k != "field.open").collect();
    assert_eq!(app.request("POST", path, &headers, &body(&values)).await.0, StatusCode::SEE_OTHER);
    let kind = casefile::content::ItemKind::Petition;
    let Some(casefile::content::Item::Petition(petition)) =
        app.state.store.item(site, kind, "pardon-support").await.unwrap()
    else {
        panic!("the petition is there")
    };
    assert!(!petition.open, "closed");

    // An empty list of texts is a control; an empty list of nested values
    // (a new person's statements) stays in the JSON, where it is written.
    let (_, _, editor) = app.request("GET", "/admin/press/new", &[("cookie", &cookie)], "").await;
    assert!(editor_values(&editor).iter().any(|(k, _)| k == "field.authors"), "a list of names");
    let (_, _, editor) = app.request("GET", "/admin/people/new", &[("cookie", &cookie)], "").await;
    let mut values = editor_values(&editor);
    assert!(!values.iter().any(|(k, _)| k == "field.statements"), "not a control");
    let other: serde_json::Value = serde_json::from_str(&input(&editor, "other")).unwrap();
    assert_eq!(other["statements"], serde_json::json!([]), "{other}");
    set(&mut values, "key", "a-new-voice");
    set(&mut values, "field.name", "A New Voice");
    set(&mut values, "en.role", "Witness");
    set(&mut values, "de.role", "Zeugin");
    let statement = r#"{"statements": [{"key": "a-first-statement", "sources": ["site-2016"], "en": {"summary": "Said a first thing."}, "de": {"summary": "Sagte etwas."}}]}"#;
    set(&mut values, "other", statement);
    let (status, _, page) = app.request("POST", "/admin/people/new", &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let kind = casefile::content::ItemKind::Person;
    let Some(casefile::content::Item::Person(person)) = app.state.store.item(site, kind, "a-new-voice").await.unwrap()
    else {
        panic!("the person is there")
    };
    assert_eq!(person.statements.len(), 1, "the statement written in the JSON is kept");
    // A field with a control of its own, set in the JSON too, is refused,
    // not silently overwritten.
    let path = "/admin/press/crime-story-2020";
    let (_, _, editor) = app.request("GET", path, &[("cookie", &cookie)], "").await;
    let mut values = editor_values(&editor);
    set(&mut values, "other", r#"{"authors": ["Someone Else"]}"#);
    let (status, _, page) = app.request("POST", path, &headers, &body(&values)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("`authors` has a field of its own above"), "{page}");
}

/// A language whose text was last changed before another's is marked in
/// the editor: its translation may need bringing up to date.
#[tokio::test]
async fn a_translation_older_than_the_other_language_is_marked() {
    let app = app_with_users().await;
    let cookie = sign_in(&app, "ed@example.org").await;
    let path = "/admin/news/2019-11-25-released-on-parole";
    let marked = |page: &str| page.contains("older than another language");
    let (_, _, editor) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    assert!(!marked(&editor), "both languages as imported");
    let mut values = editor_values(&editor);
    values.iter_mut().find(|(k, _)| k == "en.summary").unwrap().1.push_str(" More.");
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&values).finish();
    assert_eq!(app.request("POST", path, &[FORM, ("cookie", cookie.as_str())], &body).await.0, StatusCode::SEE_OTHER);
    let (_, _, editor) = app.request("GET", path, &[("cookie", cookie.as_str())], "").await;
    let german = editor.split("<fieldset lang=\"de\">").nth(1).unwrap().split("</legend>").next().unwrap();
    assert!(marked(german), "the German text is older now: {german}");
    let english = editor.split("<fieldset lang=\"en\">").nth(1).unwrap().split("</legend>").next().unwrap();
    assert!(!marked(english));
}
