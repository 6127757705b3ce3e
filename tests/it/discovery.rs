//! Feeds, sitemap, robots.txt and share cards, parsed with real parsers.

use std::collections::BTreeSet;

use quick_xml::events::Event;
use scraper::{Html, Selector};

use crate::server::{Server, client};

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("valid selector")
}

/// The path of an absolute URL on the test server.
fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("not on the server's base: {url}"));
    rest[rest.find('/').expect("a path")..].to_owned()
}

#[tokio::test]
async fn feeds_parse_and_every_item_links_to_a_page_that_exists() {
    let server = Server::start();
    let c = client();
    let mut checked = BTreeSet::new();
    for (list, min) in [("/news", 6), ("/de/neuigkeiten", 6), ("/press", 12), ("/de/presse", 12)] {
        for (file, content_type) in [
            ("feed.atom", "application/atom+xml; charset=utf-8"),
            ("feed.rss", "application/rss+xml; charset=utf-8"),
            ("feed.json", "application/feed+json; charset=utf-8"),
        ] {
            let url = server.url(&format!("{list}/{file}"));
            let res = c.get(&url).send().await.unwrap();
            assert_eq!(res.status(), 200, "{url}");
            assert_eq!(res.headers()["content-type"], content_type, "{url}");
            assert!(res.headers().contains_key("etag"));
            let body = res.bytes().await.unwrap();
            let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{url} does not parse: {e}"));
            assert!(feed.entries.len() >= min, "{url}: {} entries", feed.entries.len());
            assert!(feed.title.is_some(), "{url} has a title");
            for entry in &feed.entries {
                assert!(entry.title.as_ref().is_some_and(|t| !t.content.is_empty()), "{url}: an entry without title");
                assert!(entry.published.is_some() || entry.updated.is_some(), "{url}: an undated entry");
                let link = entry.links.first().map(|l| l.href.clone()).unwrap_or_else(|| entry.id.clone());
                checked.insert(path_of(&link));
            }
        }
    }
    // Every linked page exists; anchors point at an element on it.
    for path in checked {
        let (page, anchor) = path.split_once('#').map_or((path.as_str(), None), |(p, a)| (p, Some(a)));
        let res = c.get(server.url(page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "feed link {path}");
        if let Some(anchor) = anchor {
            let doc = Html::parse_document(&res.text().await.unwrap());
            assert!(doc.select(&sel(&format!("[id=\"{anchor}\"]"))).next().is_some(), "no #{anchor} on {page}");
        }
    }
}

#[tokio::test]
async fn every_page_advertises_its_feeds_and_a_share_card() {
    let server = Server::start();
    let c = client();
    for (path, lang) in [("/", "en"), ("/de/chronik", "de"), ("/news", "en")] {
        let body = c.get(server.url(path)).send().await.unwrap().text().await.unwrap();
        let doc = Html::parse_document(&body);
        for mime in ["application/atom+xml", "application/rss+xml", "application/feed+json"] {
            let links: Vec<&str> = doc
                .select(&sel(&format!("link[rel=alternate][type=\"{mime}\"]")))
                .filter_map(|l| l.attr("href"))
                .collect();
            assert_eq!(links.len(), 2, "{path}: news and press feeds in {mime}");
            let prefix = if lang == "de" { "/de/" } else { "/" };
            assert!(links.iter().all(|l| path_of(l).starts_with(prefix)), "{path}: feeds in the page's language");
        }
        let meta = |p: &str| {
            doc.select(&sel(&format!("meta[property=\"{p}\"]")))
                .next()
                .and_then(|m| m.attr("content"))
                .map(str::to_owned)
        };
        let canonical = doc.select(&sel("link[rel=canonical]")).next().unwrap().attr("href").unwrap().to_owned();
        assert_eq!(path_of(&canonical), path);
        assert_eq!(meta("og:url").as_deref(), Some(canonical.as_str()));
        assert!(meta("og:title").is_some_and(|t| !t.is_empty()));
        assert_eq!(meta("og:locale").as_deref(), Some(if lang == "de" { "de_DE" } else { "en_US" }));
        assert!(meta("og:locale:alternate").is_some());
        let image = meta("og:image").unwrap();
        let res = c.get(server.url(&path_of(&image))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/png");
    }
}

#[tokio::test]
async fn the_sitemap_lists_every_page_with_alternates_and_robots_names_it() {
    let server = Server::start();
    let c = client();
    let robots = c.get(server.url("/robots.txt")).send().await.unwrap();
    assert_eq!(robots.headers()["content-type"], "text/plain; charset=utf-8");
    let robots = robots.text().await.unwrap();
    let sitemap_line = robots.lines().find(|l| l.starts_with("Sitemap: ")).expect("robots.txt names the sitemap");
    let sitemap_url = sitemap_line.trim_start_matches("Sitemap: ");
    assert_eq!(path_of(sitemap_url), "/sitemap.xml");

    // The sitemap is an index of parts (at most 50,000 URLs each).
    let index = c.get(sitemap_url).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("<sitemapindex"), "{index}");
    let (parts, _, _) = sitemap_locs(&index);
    assert_eq!(parts.iter().map(|p| path_of(p)).collect::<Vec<_>>(), ["/sitemap-1.xml"]);
    let xml = c.get(&parts[0]).send().await.unwrap().text().await.unwrap();
    let (locs, alternates, lastmods) = sitemap_locs(&xml);
    assert!(locs.len() >= 2 * (15 + 6), "pages and news in both languages: {}", locs.len());
    assert_eq!(lastmods, locs.len(), "every URL has a lastmod");
    assert_eq!(alternates, 2 * locs.len(), "every URL names both language versions");
    for want in ["/", "/de/", "/timeline", "/de/chronik", "/news", "/de/neuigkeiten"] {
        assert!(locs.iter().any(|l| path_of(l) == want), "{want} missing from the sitemap");
    }
    for loc in &locs {
        let res = c.get(loc).send().await.unwrap();
        assert_eq!(res.status(), 200, "{loc}");
    }
}

/// The `<loc>` values of a sitemap or sitemap index, with the number of
/// `xhtml:link` alternates and of `lastmod` elements.
fn sitemap_locs(xml: &str) -> (Vec<String>, usize, usize) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut locs, mut alternates, mut lastmods) = (Vec::new(), 0, 0);
    let mut in_loc = false;
    loop {
        match reader.read_event().expect("the sitemap is well-formed XML") {
            Event::Start(e) if e.name().as_ref() == "loc" => in_loc = true,
            Event::Start(e) if e.name().as_ref() == "lastmod" => lastmods += 1,
            Event::Text(t) if in_loc => {
                locs.push(t.html_content().into_owned());
                in_loc = false;
            }
            Event::Empty(e) if e.name().as_ref() == "xhtml:link" => alternates += 1,
            Event::Eof => break,
            _ => {}
        }
    }
    (locs, alternates, lastmods)
}

/// The JSON-LD graph of a page, parsed.
async fn jsonld(c: &reqwest::Client, url: &str) -> Vec<serde_json::Value> {
    let body = c.get(url).send().await.unwrap().text().await.unwrap();
    let doc = Html::parse_document(&body);
    let script =
        doc.select(&sel("script[type=\"application/ld+json\"]")).next().unwrap_or_else(|| panic!("{url}: no JSON-LD"));
    let value: serde_json::Value = serde_json::from_str(&script.text().collect::<String>()).expect("valid JSON");
    assert_eq!(value["@context"], "https://schema.org");
    value["@graph"].as_array().expect("a graph").clone()
}

fn of_type<'a>(graph: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    graph.iter().filter(|v| v["@type"] == t).collect()
}

#[tokio::test]
async fn structured_data_describes_the_person_books_news_and_events() {
    let server = Server::start();
    let c = client();
    let home = jsonld(&c, &server.url("/")).await;
    let person = of_type(&home, "Person");
    assert_eq!(person.len(), 1);
    assert_eq!(person[0]["name"], "Jens Söring");
    assert_eq!(person[0]["birthDate"], "1966-08-01");
    assert_eq!(of_type(&home, "Organization")[0]["name"], "Friends of Jens Söring");
    assert!(of_type(&home, "BreadcrumbList").is_empty(), "no breadcrumbs on the home page");

    let books = jsonld(&c, &server.url("/books")).await;
    let isbns: Vec<&str> = of_type(&books, "Book").iter().filter_map(|b| b["isbn"].as_str()).collect();
    assert!(isbns.contains(&"978-1590563458"), "{isbns:?}");

    let timeline = jsonld(&c, &server.url("/de/chronik")).await;
    let events = of_type(&timeline, "Event");
    assert!(events.len() >= 25);
    assert!(events.iter().any(|e| e["startDate"] == "1985-03-30"));
    let crumbs = of_type(&timeline, "BreadcrumbList");
    assert_eq!(crumbs[0]["itemListElement"].as_array().unwrap().len(), 2);

    let news = c.get(server.url("/news")).send().await.unwrap().text().await.unwrap();
    let first = Html::parse_document(&news)
        .select(&sel("main .news-list a"))
        .find_map(|a| a.attr("href").map(str::to_owned))
        .expect("a news link");
    let article = jsonld(&c, &server.url(&first)).await;
    let a = of_type(&article, "NewsArticle");
    assert_eq!(a.len(), 1);
    assert!(a[0]["headline"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(a[0]["datePublished"].as_str().is_some());
    assert_eq!(of_type(&article, "BreadcrumbList")[0]["itemListElement"].as_array().unwrap().len(), 3);
}

/// Old addresses answer 301: former slugs of pages and news posts (slug
/// history) and the redirect table, both from a bundle.
#[tokio::test]
async fn old_slugs_and_listed_redirects_answer_301() {
    let mut files = casefile::bundle::default_files();
    files.push((
        "redirects.toml".to_owned(),
        "[[redirect]]\nfrom = \"/the-case.html\"\nto = \"/case\"\n\n[[redirect]]\nfrom = \"/shop\"\nto = \"/books\"\nstatus = 302\n"
            .to_owned(),
    ));
    let mut site = casefile::bundle::parse(&files).unwrap();
    let case = site.pages.iter_mut().find(|p| p.key == "case").unwrap();
    case.text.get_mut(&casefile::content::Lang::En).unwrap().old_slugs.push("the-case".into());
    case.text.get_mut(&casefile::content::Lang::De).unwrap().old_slugs.push("der-fall".into());
    let post = &mut site.news[0];
    let new_slug = post.text[&casefile::content::Lang::En].slug.clone();
    post.text.get_mut(&casefile::content::Lang::En).unwrap().old_slugs.push("old-news-slug".into());
    let news_page = site.pages.iter_mut().find(|p| p.key == "news").unwrap();
    news_page.text.get_mut(&casefile::content::Lang::En).unwrap().old_slugs.push("updates".into());
    let server = Server::start_with_site(site, &[]).await;
    let c = client();
    let moved_post = format!("/updates/{new_slug}");
    for (from, to, status) in [
        ("/the-case", "/case".to_owned(), 301),
        ("/de/der-fall", "/de/fall".to_owned(), 301),
        ("/news/old-news-slug", format!("/news/{new_slug}"), 301),
        ("/the-case.html", "/case".to_owned(), 301),
        ("/shop", "/books".to_owned(), 302),
        // The news page moved: its posts and feeds moved with it.
        ("/updates", "/news".to_owned(), 301),
        (moved_post.as_str(), format!("/news/{new_slug}"), 301),
        ("/updates/old-news-slug", format!("/news/{new_slug}"), 301),
        ("/updates/feed.atom", "/news/feed.atom".to_owned(), 301),
    ] {
        let res = c.get(server.url(from)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{from}");
        assert_eq!(res.headers()["location"], to.as_str(), "{from}");
        assert_eq!(c.get(server.url(&to)).send().await.unwrap().status(), 200, "{to}");
    }
    // Bad redirect entries are refused with the file named.
    for entries in [
        "[[redirect]]\nfrom = \"old\"\nto = \"/case\"\n",
        "[[redirect]]\nfrom = \"/old/\"\nto = \"/case\"\n",
        "[[redirect]]\nfrom = \"/api/v1/news\"\nto = \"/case\"\n",
        "[[redirect]]\nfrom = \"/a\"\nto = \"/a\"\n",
        "[[redirect]]\nfrom = \"/a\"\nto = \"/\\\\evil.example\"\n",
        "[[redirect]]\nfrom = \"/a\"\nto = \"/b\"\n[[redirect]]\nfrom = \"/a\"\nto = \"/c\"\n",
    ] {
        let mut bad = casefile::bundle::default_files();
        bad.push(("redirects.toml".to_owned(), entries.to_owned()));
        let err = format!("{:#}", casefile::bundle::parse(&bad).expect_err(entries));
        assert!(err.contains("redirects.toml"), "{err}");
    }
}

/// A long news list comes in pages of 20, linked both ways (in the page and
/// in its head), every page in the sitemap; a page past the end is a 404.
#[tokio::test]
async fn the_news_list_is_paginated_and_every_page_is_in_the_sitemap() {
    let mut site = casefile::bundle::parse(&casefile::bundle::default_files()).unwrap();
    let model = site.news[0].clone();
    for i in 0..45 {
        let mut post = model.clone();
        post.key = format!("generated-{i}");
        for t in post.text.values_mut() {
            t.slug = format!("generated-{i}");
            t.old_slugs.clear();
        }
        site.news.push(post);
    }
    site.sort();
    let total = site.news.len();
    let pages = total.div_ceil(20);
    assert_eq!(pages, 3, "{total} posts");
    let server = Server::start_with_site(site, &[]).await;
    let c = client();
    let mut seen = BTreeSet::new();
    for page in 1..=pages {
        let path = if page == 1 { "/news".to_owned() } else { format!("/news/page/{page}") };
        let res = c.get(server.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let doc = Html::parse_document(&res.text().await.unwrap());
        let posts: Vec<String> =
            doc.select(&sel(".news-list h2 a")).map(|a| a.value().attr("href").unwrap().to_owned()).collect();
        assert_eq!(posts.len(), if page < pages { 20 } else { total - 40 }, "{path}");
        seen.extend(posts);
        let head_next = doc.select(&sel("link[rel=next]")).next().map(|l| l.value().attr("href").unwrap().to_owned());
        assert_eq!(head_next, (page < pages).then(|| format!("/news/page/{}", page + 1)), "{path}");
        let head_prev = doc.select(&sel("link[rel=prev]")).next().map(|l| l.value().attr("href").unwrap().to_owned());
        let want_prev = match page {
            1 => None,
            2 => Some("/news".to_owned()),
            p => Some(format!("/news/page/{}", p - 1)),
        };
        assert_eq!(head_prev, want_prev, "{path}");
        let canonical =
            doc.select(&sel("link[rel=canonical]")).next().unwrap().value().attr("href").unwrap().to_owned();
        assert_eq!(path_of(&canonical), path, "each page is its own canonical address");
    }
    assert_eq!(seen.len(), total, "every post is on exactly one page");
    for bad in ["/news/page/4", "/news/page/1", "/news/page/x", "/news/page", "/de/neuigkeiten/page/99", "/news?page=4"]
    {
        assert_eq!(c.get(server.url(bad)).send().await.unwrap().status(), 404, "{bad}");
    }
    // The addresses of earlier versions lead to the page's own.
    let old = c.get(server.url("/de/neuigkeiten?page=2")).send().await.unwrap();
    assert_eq!((old.status().as_u16(), old.headers()["location"].to_str().unwrap()), (301, "/de/neuigkeiten/page/2"));
    let de = c.get(server.url("/de/neuigkeiten/page/2")).send().await.unwrap().text().await.unwrap();
    let doc = Html::parse_document(&de);
    let twin = doc.select(&sel("link[rel=alternate][hreflang=en]")).next().unwrap().value().attr("href").unwrap();
    assert!(twin.ends_with("/news/page/2"), "the twins of a page are the same page: {twin}");
    let part = c.get(server.url("/sitemap-1.xml")).send().await.unwrap().text().await.unwrap();
    let (locs, _, _) = sitemap_locs(&part);
    let paths: Vec<String> = locs.iter().map(|l| path_of(l)).collect();
    for want in ["/news/page/2", "/news/page/3", "/de/neuigkeiten/page/3"] {
        assert!(paths.iter().any(|p| p == want), "{want} in the sitemap");
    }
    assert!(!paths.iter().any(|p| p.ends_with("/page/4")));
    // The feed carries the newest 50 posts, not all of them.
    let atom = c.get(server.url("/news/feed.atom")).send().await.unwrap().text().await.unwrap();
    assert_eq!(atom.matches("<entry>").count(), 50.min(total), "{total} posts");
    let newest = doc_first_post(&c, &server).await;
    assert!(atom.contains(&newest), "the newest post ({newest}) is in the feed");
}

/// The address of the first post on the news list (the newest).
async fn doc_first_post(c: &reqwest::Client, server: &Server) -> String {
    let list = c.get(server.url("/news")).send().await.unwrap().text().await.unwrap();
    let doc = Html::parse_document(&list);
    doc.select(&sel(".news-list h2 a")).next().unwrap().value().attr("href").unwrap().to_owned()
}
