//! The default content bundle: complete, in both languages, and imported whole.

use casefile::bundle;
use casefile::content::Lang;
use casefile::store::{Change, Store};

const IMPORT: Change<'static> = Change { author: "test", note: "import" };

#[test]
fn the_bundle_has_what_the_default_site_needs() {
    let site = bundle::parse(&bundle::default_files()).expect("the bundle parses");
    assert!(site.timeline.len() >= 25, "timeline events: {}", site.timeline.len());
    let first = site.timeline.first().and_then(|e| e.date).unwrap();
    let last = site.timeline.last().and_then(|e| e.date).unwrap();
    assert_eq!(first.year, 1966);
    assert!(last.year >= 2022, "the timeline reaches 2022, ends {last}");
    assert!(site.press.len() >= 12, "press reports: {}", site.press.len());
    assert!(site.people.len() >= 6, "voices: {}", site.people.len());
    assert!(site.news.len() >= 6, "news: {}", site.news.len());
    let books: Vec<&str> = site.books.iter().map(|b| b.title.as_str()).collect();
    for title in
        ["The Way of the Prisoner", "One Day in the Life of 179212", "A Far, Far Better Thing", "Return to Life"]
    {
        assert!(books.contains(&title), "book {title} missing from {books:?}");
    }
    for key in [
        "home",
        "case",
        "timeline",
        "evidence",
        "voices",
        "pardon",
        "press",
        "film",
        "books",
        "news",
        "speaking",
        "newsletter",
        "contact",
        "privacy",
        "search",
    ] {
        assert!(site.page(key).is_some(), "page {key} missing");
    }
    // Every item cites a source, and says something in every language.
    for e in &site.timeline {
        assert!(!e.sources.is_empty(), "timeline/{} cites nothing", e.key);
        for l in Lang::ALL {
            assert!(!e.text[&l].title.is_empty() && !e.text[&l].body.is_empty(), "timeline/{} ({l}) is empty", e.key);
        }
    }
    for p in &site.pages {
        for l in Lang::ALL {
            assert!(!p.text[&l].body.is_empty(), "pages/{} has no {l} body", p.key);
        }
    }
    for e in &site.evidence {
        assert!(!e.sources.is_empty(), "evidence/{} cites nothing", e.key);
    }
    for r in &site.press {
        assert!(!r.sources.is_empty(), "press/{} cites nothing", r.key);
    }
    for p in &site.people {
        for s in &p.statements {
            assert!(!s.sources.is_empty(), "statement {} cites nothing", s.key);
        }
    }
}

#[tokio::test]
async fn the_bundle_imports_completely_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::db::store_url(dir.path())).await.unwrap();
    let site = bundle::parse(&bundle::default_files()).unwrap();
    let id = store.import_site(&site, IMPORT).await.unwrap();
    let loaded = store.load_site(id).await.unwrap();
    assert_eq!(serde_json::to_value(&loaded).unwrap(), serde_json::to_value(&site).unwrap());
    // Importing the same site twice is refused and changes nothing.
    assert!(store.import_site(&site, IMPORT).await.is_err());
    assert_eq!(store.load_site(id).await.unwrap().timeline.len(), site.timeline.len());
}
