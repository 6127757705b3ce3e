//! Behaviour in time, in process: scheduled publication, form fill times,
//! token expiry and the retention purge, with a clock the test moves.

use std::time::Duration;

use axum::http::StatusCode;
use casefile::content::{Item, ItemKind, Lang, Meta, Petition, PetitionText, Status};
use casefile::store::Change;

use crate::app::TestApp;

const EDITOR: Change<'static> = Change { author: "editor@example.org", note: "schedule" };

fn scheduled(at: i64) -> Meta {
    Meta { status: Status::Published, published_at: Some(at), ..Meta::default() }
}

/// Items of any kind with a future publication time appear at that time,
/// without a restart: a news post, and a petition shown on a page (the kind
/// `next_publication` used to forget).
#[tokio::test]
async fn scheduled_items_of_every_kind_appear_on_time() {
    let app = TestApp::new().await;
    let (store, site) = (&app.state.store, app.state.site_id);
    let at = app.clock.now() + 60;

    let Some(Item::News(mut post)) = store.item(site, ItemKind::News, "2019-11-25-released-on-parole").await.unwrap()
    else {
        panic!("the default site has this news post")
    };
    post.key = "scheduled-post".into();
    for t in post.text.values_mut() {
        t.slug = "scheduled-post".into();
        t.old_slugs.clear();
    }
    post.meta = scheduled(at + 30);
    store.create_item(site, &Item::News(post), EDITOR).await.unwrap();

    let text = PetitionText { title: "A scheduled petition".into(), summary: "s".into(), body: "b".into() };
    let petition = Petition {
        key: "scheduled-petition".into(),
        open: true,
        text: [(Lang::En, text.clone()), (Lang::De, text)].into(),
        meta: scheduled(at),
        ..Petition::default()
    };
    store.create_item(site, &Item::Petition(petition), EDITOR).await.unwrap();
    let Some(Item::Page(mut page)) = store.item(site, ItemKind::Page, "speaking").await.unwrap() else { panic!() };
    page.petition = Some("scheduled-petition".into());
    store.update_item(site, &Item::Page(page), EDITOR).await.unwrap();

    assert!(app.refresh().await, "the edits are loaded");
    assert_eq!(app.get("/news/scheduled-post").await.status, 404, "not before its time");
    assert!(!app.get("/speaking").await.body.contains("A scheduled petition"));

    app.clock.advance(Duration::from_secs(59));
    assert!(!app.refresh().await, "nothing is due a second early");
    assert_eq!(app.get("/news/scheduled-post").await.status, 404);

    // The petition alone is due: it must be what triggers the rebuild.
    app.clock.advance(Duration::from_secs(1));
    assert!(app.refresh().await, "due now: the snapshot is rebuilt");
    assert!(app.get("/speaking").await.body.contains("A scheduled petition"), "the petition appears on its page");
    assert_eq!(app.get("/news/scheduled-post").await.status, 404, "the post is due 30 s later");

    app.clock.advance(Duration::from_secs(30));
    assert!(app.refresh().await);
    assert_eq!(app.get("/news/scheduled-post").await.status, 200);
}

/// A form sent sooner than the minimum fill time is refused with the
/// entries kept; once the time has passed it goes through; after two hours
/// the token has expired.
#[tokio::test]
async fn forms_enforce_the_minimum_fill_time_and_expire() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(3.0)).build().await;
    let token = app.form_token("/contact").await;
    let fields = |token: &str| {
        [
            ("token", token.to_owned()),
            ("name", "Ann".to_owned()),
            ("email", "ann@example.org".to_owned()),
            ("subject", "A question".to_owned()),
            ("message", "Is there a public event in Berlin?".to_owned()),
        ]
    };
    let send = |token: String| {
        let app = &app;
        async move {
            let f = fields(&token);
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post("/contact", &pairs).await
        }
    };
    let too_fast = send(token.clone()).await;
    assert_eq!(too_fast.status, 422);
    assert!(too_fast.body.contains("only seconds after the page loaded"), "says why");
    assert!(too_fast.body.contains("Is there a public event in Berlin?"), "keeps what was typed");

    app.clock.advance(Duration::from_secs(3));
    let ok = send(token).await;
    assert_eq!((ok.status, ok.location.as_deref()), (StatusCode::SEE_OTHER, Some("/contact/thanks")));

    let old = app.form_token("/contact").await;
    app.clock.advance(Duration::from_secs(2 * 3600 + 1));
    let expired = send(old).await;
    assert_eq!(expired.status, 422);
    assert!(expired.body.contains("has expired"), "an old token is refused");
}

/// What the privacy page promises: an unconfirmed sign-up is deleted after
/// 30 days, a contact message after 12 months, and not a day earlier.
#[tokio::test]
async fn the_retention_purge_keeps_its_deadlines() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(0.0)).build().await;
    let token = app.form_token("/newsletter").await;
    let res = app
        .post("/newsletter", &[("token", &token), ("name", "Bo"), ("email", "bo@example.org"), ("consent", "yes")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let token = app.form_token("/contact").await;
    let res = app
        .post(
            "/contact",
            &[("token", &token), ("name", "Bo"), ("email", "bo@example.org"), ("subject", "Hi"), ("message", "Hello")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let (store, site, now) = (&app.state.store, app.state.site_id, app.clock.now());
    let held = |d: casefile::store::PersonalData| (d.subscriptions.len(), d.messages.len());
    const DAY: i64 = 24 * 3600;

    store.purge_expired(now + 29 * DAY).await.unwrap();
    assert_eq!(held(store.personal_data(site, "bo@example.org").await.unwrap()), (1, 1), "kept for 29 days");
    store.purge_expired(now + 31 * DAY).await.unwrap();
    assert_eq!(held(store.personal_data(site, "bo@example.org").await.unwrap()), (0, 1), "unconfirmed: 30 days");
    store.purge_expired(now + 364 * DAY).await.unwrap();
    assert_eq!(held(store.personal_data(site, "bo@example.org").await.unwrap()), (0, 1), "messages: not before a year");
    store.purge_expired(now + 366 * DAY).await.unwrap();
    assert_eq!(held(store.personal_data(site, "bo@example.org").await.unwrap()), (0, 0), "messages: 12 months");
}

/// The mailer in memory records what the worker sent: the confirmation
/// mail of a sign-up, once, with its link.
#[tokio::test]
async fn a_sign_up_mails_one_confirmation_link_and_records_the_consent_shown() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(0.0)).build().await;
    let page = app.get("/de/newsletter").await.body;
    let doc = scraper::Html::parse_document(&page);
    let label = scraper::Selector::parse("input[name=consent] + label").unwrap();
    let shown: String = doc.select(&label).next().expect("a consent box").text().collect();
    let token = app.form_token("/de/newsletter").await;
    let res = app
        .post("/de/newsletter", &[("token", &token), ("name", "Cy"), ("email", "cy@example.org"), ("consent", "yes")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.deliver().await, 1);
    assert_eq!(app.deliver().await, 0, "nothing is sent twice");
    let mails = app.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: cy@example.org") && mails[0].contains("/de/newsletter/confirm?t="), "{}", mails[0]);
    // The proof of consent holds exactly the sentence the visitor saw.
    let data = app.state.store.personal_data(app.state.site_id, "cy@example.org").await.unwrap();
    assert_eq!(data.consents.len(), 1);
    assert_eq!(data.consents[0].text, shown);
    assert!(shown.contains("Freunde von Jens Söring"), "{shown}");
}

/// Form pages come from the cache with a fresh token every time, gzipped
/// too; a petition's count is read again at most once a second.
#[tokio::test]
async fn form_pages_are_cached_with_a_fresh_token_and_a_count_at_most_a_second_old() {
    let app = TestApp::builder().config(|c| c.form_min_seconds = Some(0.0)).build().await;
    let first = app.form_token("/pardon").await;
    app.clock.advance(Duration::from_millis(10));
    let token = app.form_token("/pardon").await;
    assert_ne!(first, token, "a token per request");

    let (status, headers, gz) = app.get_raw("/pardon", &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&headers["content-encoding"], &headers["cache-control"]),
        (&"gzip".parse().unwrap(), &"no-store".parse().unwrap())
    );
    let mut zipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut zipped).expect("valid gzip");
    let plain = app.get("/pardon").await.body;
    let without_token = |page: &str| {
        let doc = scraper::Html::parse_document(page);
        let sel = scraper::Selector::parse("input[name=token]").unwrap();
        let token = doc.select(&sel).next().expect("a form").value().attr("value").unwrap().to_owned();
        assert!(token.contains('.'), "a signed token: {token}");
        page.replace(&token, "TOKEN")
    };
    assert_eq!(without_token(&zipped), without_token(&plain), "gzip and identity differ only in the token");

    let res = app
        .post(
            "/pardon",
            &[
                ("token", &token),
                ("name", "Ida"),
                ("email", "ida@example.org"),
                ("country", "Norway"),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.deliver().await, 1);
    let link_token = app.mailed_token("/pardon/confirm");
    assert_eq!(app.post("/pardon/confirm", &[("t", &link_token)]).await.status, StatusCode::OK);

    assert!(app.get("/pardon").await.body.contains("0 confirmed signatures"), "the count read under a second ago");
    app.clock.advance(Duration::from_secs(1));
    assert!(app.get("/pardon").await.body.contains("1 confirmed signature"), "read again after a second");
}
