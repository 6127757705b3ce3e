//! The content store, item by item, over a temporary database: create,
//! update, delete to the trash, restore, revisions, and the rules that keep
//! a site whole (references, names, keys).

use casefile::bundle;
use casefile::content::{Item, ItemKind, ItemRef, Lang, Site, Status};
use casefile::store::{Action, Change, Error, ImportRules, Store, changed_fields};

const EDITOR: Change<'static> = Change { author: "editor@example.org", note: "test" };

/// A store holding the default site, and the site as parsed.
async fn default_site() -> (tempfile::TempDir, Store, i64, Site) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::db::store_url(dir.path())).await.unwrap();
    let site = bundle::parse(&bundle::default_files()).unwrap();
    let id = store.import_site(&site, Change { author: "test", note: "import" }).await.unwrap();
    (dir, store, id, site)
}

/// A mail to queue, its Message-ID and recipient given.
pub(crate) fn mail(message_id: String, to: String) -> casefile::store::NewMail {
    casefile::store::NewMail {
        kind: "test",
        message_id,
        to,
        reply_to: None,
        subject: "s".into(),
        text: "t".into(),
        html: "h".into(),
        list_unsubscribe: None,
    }
}

/// A copy of `item` under a new key, with its unique names changed too.
fn copy_of(item: ItemRef<'_>) -> Item {
    let mut item = item.to_owned();
    let rename = |s: &mut String| s.push_str("-copy");
    match &mut item {
        Item::Source(x) => rename(&mut x.key),
        Item::Redirect(x) => rename(&mut x.from),
        Item::Page(x) => {
            rename(&mut x.key);
            for t in x.text.values_mut() {
                t.slug = format!("{}-copy", t.slug);
                t.old_slugs.clear();
            }
        }
        Item::News(x) => {
            rename(&mut x.key);
            for t in x.text.values_mut() {
                rename(&mut t.slug);
                t.old_slugs.clear();
            }
        }
        Item::Person(x) => {
            rename(&mut x.key);
            for s in &mut x.statements {
                rename(&mut s.key);
            }
        }
        Item::Timeline(x) => rename(&mut x.key),
        Item::Press(x) => rename(&mut x.key),
        Item::Book(x) => rename(&mut x.key),
        Item::Evidence(x) => rename(&mut x.key),
        Item::Document(x) => rename(&mut x.key),
        Item::Media(x) => rename(&mut x.key),
        Item::Petition(x) => rename(&mut x.key),
    }
    item
}

fn key_of(item: &Item) -> String {
    item.as_ref().key().to_owned()
}

/// Every kind goes through the whole life of an item: created, updated,
/// deleted, restored, and back to an earlier revision, each write with a
/// new content version and a revision.
#[tokio::test]
async fn every_kind_is_created_updated_deleted_restored_and_revised() {
    let (_dir, store, id, site) = default_site().await;
    let mut kinds_seen = Vec::new();
    let mut version = store.content_version(id).await.unwrap();
    for kind in ItemKind::ALL.iter().copied().filter(|k| *k != ItemKind::Settings) {
        let Some(original) = site.items().find(|i| i.kind() == kind) else {
            // The default site has no redirect: make one.
            assert_eq!(kind, ItemKind::Redirect, "the default site has a {kind}");
            let r = casefile::content::Redirect { from: "/old".into(), to: "/case".into(), status: 301 };
            let w = store.create_item(id, &Item::Redirect(r), EDITOR).await.unwrap();
            assert!(w.version > version);
            version = w.version;
            continue;
        };
        kinds_seen.push(kind);
        let item = copy_of(original);
        let key = key_of(&item);

        let created = store.create_item(id, &item, EDITOR).await.unwrap();
        assert_eq!(created.version, version + 1, "{kind}: a write bumps the version once");
        let loaded = store.item(id, kind, &key).await.unwrap().expect("created");
        assert_eq!(loaded.as_ref().to_json(), item.as_ref().to_json(), "{kind}: reads back as written");
        assert!(
            matches!(store.create_item(id, &item, EDITOR).await, Err(Error::Conflict(_))),
            "{kind}: creating the same key twice is a conflict"
        );

        // Update: drafts are a status like any other field.
        let mut edited = item.clone();
        if let Some(meta) = edited.meta_mut() {
            meta.status = Status::Draft;
        }
        let updated = store.update_item(id, &edited, EDITOR).await.unwrap();
        assert_eq!(updated.version, created.version + 1);
        let revs = store.revisions(id, kind, &key).await.unwrap();
        assert_eq!(revs.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["update", "create"], "{kind}");
        assert!(revs.iter().all(|r| r.author == "editor@example.org"));

        // Delete to the trash, then restore.
        let deleted = store.delete_item(id, kind, &key, EDITOR).await.unwrap();
        assert!(store.item(id, kind, &key).await.unwrap().is_none(), "{kind}: gone once deleted");
        assert!(store.trash(id).await.unwrap().iter().any(|t| t.kind == kind && t.key == key));
        assert!(
            matches!(store.create_item(id, &item, EDITOR).await, Err(Error::Conflict(m)) if m.contains("trash")),
            "{kind}: a trashed key is not silently reused"
        );
        let restored = store.restore_item(id, kind, &key, EDITOR).await.unwrap();
        assert!(restored.version > deleted.version);
        assert_eq!(store.item(id, kind, &key).await.unwrap().unwrap().as_ref().to_json(), edited.as_ref().to_json());

        // Back to the first revision (the item as created).
        let first = store.revisions(id, kind, &key).await.unwrap().pop().unwrap();
        store.restore_revision(id, first.id, EDITOR).await.unwrap();
        assert_eq!(store.item(id, kind, &key).await.unwrap().unwrap().as_ref().to_json(), item.as_ref().to_json());
        let actions: Vec<String> =
            store.revisions(id, kind, &key).await.unwrap().into_iter().map(|r| r.action).collect();
        assert_eq!(actions, ["update", "restore", "delete", "update", "create"], "{kind}");
        version = store.content_version(id).await.unwrap();
    }
    assert_eq!(kinds_seen.len(), ItemKind::ALL.len() - 2, "every kind but settings and redirects: {kinds_seen:?}");
    // The loaded site is still valid as a whole.
    store.load_site(id).await.unwrap().validate().unwrap();
}

#[tokio::test]
async fn an_item_something_refers_to_cannot_be_deleted() {
    let (_dir, store, id, site) = default_site().await;
    let source = &site.timeline[0].sources[0];
    let err = store.delete_item(id, ItemKind::Source, source, EDITOR).await.unwrap_err();
    let Error::Conflict(msg) = err else { panic!("a conflict, not {err:?}") };
    assert!(msg.contains(&format!("timeline `{}`", site.timeline[0].key)), "names who refers to it: {msg}");
    assert!(store.item(id, ItemKind::Source, source).await.unwrap().is_some(), "nothing deleted");

    // Once nothing refers to a media item, it can go; its own citations go with it.
    let mut event = site.timeline.iter().find(|e| !e.media.is_empty()).unwrap().clone();
    let media = event.media.remove(0);
    assert!(site.timeline.iter().filter(|e| e.media.contains(&media)).count() == 1, "one event links {media}");
    assert!(matches!(store.delete_item(id, ItemKind::Media, &media, EDITOR).await, Err(Error::Conflict(_))));
    store.update_item(id, &Item::Timeline(event), EDITOR).await.unwrap();
    store.delete_item(id, ItemKind::Media, &media, EDITOR).await.unwrap();
    let cited = &site.media.iter().find(|m| m.key == media).unwrap().sources;
    for source in cited
        .iter()
        .filter(|s| !site.items().any(|i| i.key() != media && i.links().contains(&(ItemKind::Source, s.as_str()))))
    {
        store.delete_item(id, ItemKind::Source, source, EDITOR).await.unwrap();
    }
}

#[tokio::test]
async fn references_must_resolve_and_names_must_be_unique() {
    let (_dir, store, id, site) = default_site().await;
    let mut news = site.news[0].clone();
    news.key = "another-post".into();
    let err = store.create_item(id, &Item::News(news.clone()), EDITOR).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("taken by the news")), "slug taken: {err}");

    for t in news.text.values_mut() {
        t.slug = "another-post".into();
    }
    news.sources = vec!["no-such-source".into()];
    let err = store.create_item(id, &Item::News(news.clone()), EDITOR).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(m) if m.to_string().contains("no-such-source")), "{err}");

    news.sources.clear();
    news.text.remove(&Lang::De);
    let err = store.create_item(id, &Item::News(news.clone()), EDITOR).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(m) if m.to_string().contains("no `[de]` text")), "{err}");
    assert!(store.item(id, ItemKind::News, "another-post").await.unwrap().is_none(), "nothing written");
    let before = store.content_version(id).await.unwrap();
    assert_eq!(store.content_version(id).await.unwrap(), before, "refused writes change no version");
}

#[tokio::test]
async fn revisions_can_be_compared_and_the_trash_emptied() {
    let (_dir, store, id, site) = default_site().await;
    let mut book = site.books[0].clone();
    let key = book.key.clone();
    book.text.get_mut(&Lang::De).unwrap().summary = "Neu".into();
    book.year = Some(2000);
    store.update_item(id, &Item::Book(book), EDITOR).await.unwrap();
    let revs = store.revisions(id, ItemKind::Book, &key).await.unwrap();
    let (new, old) = (store.revision(id, revs[0].id).await.unwrap(), store.revision(id, revs[1].id).await.unwrap());
    assert_eq!(changed_fields(&old.data, &new.data), ["de.summary", "year"]);

    // Emptied from the trash, a book is gone for good; its history stays.
    store.delete_item(id, ItemKind::Book, &key, EDITOR).await.unwrap();
    store.purge_item(id, ItemKind::Book, &key).await.unwrap();
    assert!(store.trash(id).await.unwrap().is_empty());
    assert!(matches!(store.restore_item(id, ItemKind::Book, &key, EDITOR).await, Err(Error::NotFound(_))));
    assert_eq!(store.revisions(id, ItemKind::Book, &key).await.unwrap().len(), 3, "history outlives the item");
}

#[tokio::test]
async fn settings_are_an_item_with_revisions_and_keep_the_site_valid() {
    let (_dir, store, id, _site) = default_site().await;
    let mut settings = store.settings(id).await.unwrap();
    settings.text.get_mut(&Lang::En).unwrap().name = "Renamed".into();
    store.save_settings(id, &settings, EDITOR).await.unwrap();
    assert_eq!(store.load_site(id).await.unwrap().text[&Lang::En].name, "Renamed");
    // Dropping a language is allowed: the items keep their text in it.
    settings.text.remove(&Lang::De);
    settings.languages = vec![Lang::En];
    store.save_settings(id, &settings, EDITOR).await.unwrap();
    let revs = store.revisions(id, ItemKind::Settings, "site").await.unwrap();
    assert_eq!(revs.len(), 3, "import, rename, languages");
    store.restore_revision(id, revs[1].id, EDITOR).await.unwrap();
    assert_eq!(store.settings(id).await.unwrap().languages, [Lang::En, Lang::De]);
}

/// A database made by the previous version (per-kind content tables) is
/// migrated: its signatures are kept under their petition's key, and the
/// server imports the default content again on its next start.
#[tokio::test]
async fn a_database_from_before_the_item_store_keeps_its_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("old.db").display());
    {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap();
        let mut old = sqlx::migrate!("./migrations/sqlite");
        old.migrations = old.migrations.iter().filter(|m| m.version < 7).cloned().collect::<Vec<_>>().into();
        old.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO sites (id, key, default_lang, languages, created_at, updated_at) VALUES (1, 'jens-soering', 'en', 'en,de', 0, 0)",
            "INSERT INTO petitions (id, site_id, key, status, created_at, updated_at) VALUES (7, 1, 'pardon-support', 'published', 0, 0)",
            "INSERT INTO signatures (petition_id, email, name, country, show_name, lang, status, created_at) \
             VALUES (7, 'a@example.org', 'A', 'DE', 1, 'en', 'confirmed', 5)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    assert!(matches!(store.settings(1).await, Err(Error::NotFound(_))), "the old content is gone");
    let site = bundle::parse(&bundle::default_files()).unwrap();
    store.import_items(1, &site, Change { author: "system", note: "default" }).await.unwrap();
    let stats = store.petition_stats(1, "pardon-support").await.unwrap();
    assert_eq!(stats.count, 1, "the confirmed signature still counts");
}

/// A claimed mail is not claimed again while its lease runs (another worker
/// is sending it), and is once the lease ran out (that worker died).
#[tokio::test]
async fn mail_claims_hold_a_lease() {
    let (_dir, store, id, _site) = default_site().await;
    let mail = mail("m1@example.org".into(), "ann@example.org".into());
    store.queue_mails(id, &[mail], 100).await.unwrap();
    let first = store.claim_due_mails("a", 100, 160, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(store.claim_due_mails("b", 159, 219, 10).await.unwrap().is_empty(), "not while the lease runs");
    let again = store.claim_due_mails("b", 160, 220, 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2), "claimed again once the lease ran out");
    // The worker that lost the claim (still alive, only slow) learns so
    // before it sends, and what it reports changes nothing of b's claim.
    let m = again[0].id;
    assert!(!store.keep_mail_claim(m, "a", 200).await.unwrap(), "a must not send it");
    store.retry_mail(m, "a", 300, "late").await.unwrap();
    store.fail_mail(m, "a", "late").await.unwrap();
    store.release_mails(&[m], "a").await.unwrap();
    assert_eq!(store.outbox_counts().await.unwrap().sending, 1, "still b's, being sent");
    assert!(store.claim_due_mails("c", 200, 260, 10).await.unwrap().is_empty(), "and not due: b's lease runs");
    assert!(store.keep_mail_claim(m, "b", 280).await.unwrap(), "b renews its lease and sends it");
    store.release_mails(&[m], "b").await.unwrap();
    assert_eq!(store.claim_due_mails("b", 161, 221, 10).await.unwrap().len(), 1, "released mails are due at once");
    // A restarted instance takes back its own claims, not another's.
    assert_eq!(store.release_own_claims("a").await.unwrap(), 0, "b holds it");
    assert_eq!(store.release_own_claims("b").await.unwrap(), 1);
    assert_eq!(store.claim_due_mails("a", 162, 222, 10).await.unwrap().len(), 1);
}

/// Workers claiming at the same moment (each its own pool, as separate
/// processes would) share the queue out: no mail is claimed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_take_one_mail_twice() {
    // SQLite runs one write at a time; its busy handler is not fair, and
    // eight pools racing on a slow disk could starve one.
    if crate::db::postgres_server().is_none() {
        eprintln!("concurrent claims: skipped on SQLite (one writer at a time), run with CASEFILE_TEST_POSTGRES");
        return;
    }
    let (dir, store, id, _site) = default_site().await;
    let mails: Vec<_> =
        (0..2000).map(|n| mail(format!("m{n}@example.org"), format!("reader{n}@example.org"))).collect();
    store.queue_mails(id, &mails, 100).await.unwrap();
    let url = crate::db::store_url(dir.path());
    let mut workers = Vec::new();
    for w in 0..8 {
        let store = Store::open(&url).await.unwrap();
        workers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let batch = store.claim_due_mails(&format!("w{w}"), 100, 160, 7).await.unwrap();
                if batch.is_empty() {
                    return ids;
                }
                ids.extend(batch.iter().map(|m| m.id));
            }
        }));
    }
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.unwrap());
    }
    let total = claimed.len();
    claimed.sort_unstable();
    claimed.dedup();
    assert_eq!((total, claimed.len()), (2000, 2000), "every mail claimed, none twice");
}

/// Sign-ups arriving at once through separate pools (instances): for one
/// address the one-mail-a-day rule holds (one confirmation queued), and
/// those for other addresses are all stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ups_keep_the_rule_per_address() {
    use casefile::store::{Consent, SignUp, SignUpRequest};
    let (dir, _store, site_id, _site) = default_site().await;
    let url = crate::db::store_url(dir.path());
    let sign_up = |store: Store, email: String, n: usize| async move {
        let consent = Consent {
            subject: "newsletter".into(),
            text: "Yes".into(),
            lang: "en".into(),
            source_url: "/newsletter".into(),
            ip: "127.0.0.0".into(),
        };
        let mail = mail(format!("c{n}@example.org"), email.clone());
        let (confirm, unsubscribe) = (format!("c{n}"), format!("u{n}"));
        let request = SignUpRequest {
            email: &email,
            name: "",
            lang: "en",
            consent: &consent,
            confirm_nonce: &confirm,
            unsubscribe_nonce: &unsubscribe,
            mail: &mail,
        };
        store.sign_up(site_id, &request, 1_000).await.unwrap()
    };
    // Every pool open and connected first, so that the sign-ups overlap.
    let mut stores = Vec::new();
    for _ in 0..24 {
        let store = Store::open(&url).await.unwrap();
        store.outbox_counts().await.unwrap();
        stores.push(store);
    }
    let mut tasks = Vec::new();
    for (n, store) in stores.into_iter().enumerate() {
        let email = if n % 2 == 0 { "same@example.org".to_owned() } else { format!("other{n}@example.org") };
        tasks.push(tokio::spawn(sign_up(store, email, n)));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let same: Vec<_> = outcomes.iter().step_by(2).collect();
    assert_eq!(same.iter().filter(|o| ***o == SignUp::ConfirmationQueued).count(), 1, "{same:?}");
    assert!(same.iter().all(|o| matches!(o, SignUp::ConfirmationQueued | SignUp::Throttled)));
    assert!(outcomes.iter().skip(1).step_by(2).all(|o| *o == SignUp::ConfirmationQueued), "{outcomes:?}");
    let pool = crate::db::pool(dir.path()).await;
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(queued, 13, "one mail for the repeated address, twelve for the others");
}

/// A periodic job (the retention purge) runs once per period, whichever
/// of the instances sharing the database asks first.
#[tokio::test]
async fn a_periodic_job_is_claimed_once_per_period() {
    let (dir, store, _id, _site) = default_site().await;
    let url = crate::db::store_url(dir.path());
    let mut askers = Vec::new();
    for _ in 0..6 {
        let store = Store::open(&url).await.unwrap();
        askers.push(tokio::spawn(async move { store.claim_periodic("purge", 10_000, 3600).await.unwrap() }));
    }
    let mut won = 0;
    for a in askers {
        won += usize::from(a.await.unwrap());
    }
    assert_eq!(won, 1, "one instance runs it");
    assert!(!store.claim_periodic("purge", 13_599, 3600).await.unwrap(), "not again within the period");
    assert!(store.claim_periodic("other", 13_599, 3600).await.unwrap(), "jobs are claimed apart");
    assert!(store.claim_periodic("purge", 13_600, 3600).await.unwrap(), "due again after it");
    store.unclaim_periodic("purge").await.unwrap();
    assert!(store.claim_periodic("purge", 13_601, 3600).await.unwrap(), "a failed run is tried again at once");
}

/// The admin's lists come from the columns written with each item: a page
/// at a time, searched by key or title, filtered by status, sorted.
#[tokio::test]
async fn lists_are_paged_searched_filtered_and_show_missing_translations() {
    let (_dir, store, site_id, site) = default_site().await;
    let news = site.news.len() as i64;
    let all = casefile::store::ListFilter { limit: 1000, ..Default::default() };
    let (total, rows) = store.list_items(site_id, ItemKind::News, &all).await.unwrap();
    assert_eq!((total, rows.len() as i64), (news, news));
    assert!(rows.windows(2).all(|w| w[0].key < w[1].key), "sorted by key");
    let first = &site.news.iter().min_by_key(|n| &n.key).unwrap();
    assert_eq!(rows[0].title, first.text[&Lang::En].title);
    assert_eq!(rows[0].text_langs, vec![Lang::De, Lang::En], "every default post has both texts");

    // A page of two, then the next.
    let page = |offset| casefile::store::ListFilter { limit: 2, offset, ..Default::default() };
    let (_, p1) = store.list_items(site_id, ItemKind::News, &page(0)).await.unwrap();
    let (_, p2) = store.list_items(site_id, ItemKind::News, &page(2)).await.unwrap();
    assert_eq!((p1.len(), p2.len()), (2, 2));
    assert_eq!(p2[0].key, rows[2].key);
    let (total, beyond) = store.list_items(site_id, ItemKind::News, &page(1000)).await.unwrap();
    assert_eq!((total, beyond.len()), (news, 0), "past the last page the total is still known");

    // Search by title, any case; `%` and `_` match themselves.
    let q = |q: &str| casefile::store::ListFilter { q: q.into(), limit: 100, ..Default::default() };
    let (n, found) = store.list_items(site_id, ItemKind::News, &q("PAROLE")).await.unwrap();
    assert!(n >= 1 && found.iter().all(|r| r.title.to_lowercase().contains("parole") || r.key.contains("parole")));
    assert_eq!(store.list_items(site_id, ItemKind::News, &q("%")).await.unwrap().0, 0);

    // A draft whose German text is not written yet.
    let mut post = site.news.iter().find(|n| n.key == rows[0].key).unwrap().clone();
    post.meta.status = Status::Draft;
    post.text.get_mut(&Lang::De).unwrap().title = String::new();
    store.update_item(site_id, &Item::News(post.clone()), EDITOR).await.unwrap();
    let drafts = casefile::store::ListFilter { status: Some(Status::Draft), limit: 100, ..Default::default() };
    let (n, found) = store.list_items(site_id, ItemKind::News, &drafts).await.unwrap();
    assert_eq!((n, found[0].key.as_str(), found[0].text_langs.as_slice()), (1, post.key.as_str(), &[Lang::En][..]));
    let counts = store.item_counts(site_id).await.unwrap();
    assert!(counts.contains(&(ItemKind::News, news, 1)), "{counts:?}");
    let missing = store.untranslated(site_id, &[Lang::En, Lang::De], 10).await.unwrap();
    assert_eq!(missing.len(), 1);
    assert_eq!((missing[0].0, missing[0].1.key.as_str()), (ItemKind::News, post.key.as_str()));
    assert!(
        store.untranslated(site_id, &[Lang::En], 10).await.unwrap().is_empty(),
        "an English-only site misses nothing"
    );
}

/// Rows stored before addresses were kept with ASCII domains hold the
/// domain as typed: a request in today's spelling finds and erases them.
#[tokio::test]
async fn personal_data_is_found_and_erased_in_both_spellings_of_a_domain() {
    let (dir, store, site, _) = default_site().await;
    let pool = crate::db::pool(dir.path()).await;
    for (email, nonce) in
        [("anna@müller.example", "n1"), ("anna@xn--mller-kva.example", "n2"), ("bob@müller.example", "n3")]
    {
        sqlx::query(
            "INSERT INTO subscribers (site_id, email, name, lang, status, unsubscribe_nonce, created_at) \
             VALUES ($1, $2, 'A', 'de', 'confirmed', $3, 0)",
        )
        .bind(site)
        .bind(email)
        .bind(nonce)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO messages (site_id, email, name, subject, body, lang, ip, created_at) VALUES ($1, 'anna@müller.example', 'A', 's', 'b', 'de', '', 0)")
        .bind(site)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let held = store.personal_data(site, "anna@xn--mller-kva.example").await.unwrap();
    assert_eq!((held.subscriptions.len(), held.messages.len()), (2, 1), "both spellings are found");
    store.erase_personal_data(site, "anna@xn--mller-kva.example").await.unwrap();
    let held = store.personal_data(site, "anna@xn--mller-kva.example").await.unwrap();
    assert_eq!((held.subscriptions.len(), held.messages.len()), (0, 0), "both spellings are erased");
    let bob = store.personal_data(site, "bob@xn--mller-kva.example").await.unwrap();
    assert_eq!(bob.subscriptions.len(), 1, "another address is left alone");
}

/// A pruning import removes only what its plan showed (and was confirmed):
/// an item written while the question was asked is never trashed unseen.
#[tokio::test]
async fn a_pruning_import_removes_only_what_was_confirmed() {
    let (_dir, store, id, site) = default_site().await;
    let mut bundle = site.clone();
    let gone = bundle.news.pop().unwrap().key;
    let rules = ImportRules { prune: true, dry_run: true, ..ImportRules::default() };
    let plan = store.import_bundle(&bundle, rules, EDITOR).await.unwrap();
    assert!(plan.planned.iter().any(|p| p.key == gone && p.action == Action::Delete));

    let mut source = site.sources[0].clone();
    source.key = "written-meanwhile".into();
    store.create_item(id, &Item::Source(source), EDITOR).await.unwrap();
    let confirmed = Some(plan.planned.as_slice());
    let err =
        store.import_bundle(&bundle, ImportRules { dry_run: false, confirmed, ..rules }, EDITOR).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(m) if m.contains("source `written-meanwhile`")), "{err}");
    assert!(store.item(id, ItemKind::News, &gone).await.unwrap().is_some(), "nothing was imported");
    assert!(store.item(id, ItemKind::Source, "written-meanwhile").await.unwrap().is_some());
}

/// Addresses that become links on the pages are http(s) only: a
/// `javascript:` one is refused, wherever the item comes from.
#[tokio::test]
async fn links_to_other_sites_must_be_http_addresses() {
    let (_dir, store, id, site) = default_site().await;
    let mut report = site.press[0].clone();
    for bad in ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "https://a.example/x y"] {
        report.url = Some(bad.into());
        let err = store.update_item(id, &Item::Press(report.clone()), EDITOR).await.unwrap_err();
        assert!(matches!(&err, Error::Invalid(e) if e.0.contains("is not an http(s) address")), "{bad}: {err}");
    }
    report.url = Some("HTTPS://www.example.de/bericht-über-den-fall".into());
    store.update_item(id, &Item::Press(report), EDITOR).await.unwrap();
    let mut book = site.books[0].clone();
    book.links = vec![casefile::content::Link { label: "Buy".into(), url: "javascript:void(0)".into() }];
    assert!(matches!(store.update_item(id, &Item::Book(book), EDITOR).await, Err(Error::Invalid(_))));
}
