//! The public site over real HTTP: every page in both languages, validators,
//! compression, headers, 404/405, no cookies, no third-party requests.

use std::collections::BTreeSet;
use std::io::Read;

use crate::server::{Server, client};
use scraper::{Html, Selector};

/// The English paths the issue fixes; each must have a German twin.
const EN_PATHS: &[&str] = &[
    "/",
    "/case",
    "/timeline",
    "/evidence",
    "/voices",
    "/pardon",
    "/press",
    "/film",
    "/books",
    "/news",
    "/speaking",
    "/newsletter",
    "/contact",
    "/privacy",
    "/search",
];

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("valid selector")
}

async fn get_html(c: &reqwest::Client, url: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let res = c.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.text().await.expect("body"))
}

/// The path of a page's `hreflang` alternate (the link itself is absolute).
fn hreflang(doc: &Html, lang: &str) -> Option<String> {
    let href = doc.select(&sel(&format!("link[rel=alternate][hreflang={lang}]"))).next()?.attr("href")?;
    let rest = href.strip_prefix("http://127.0.0.1:").expect("hreflang links are absolute URLs on the server's base");
    Some(rest[rest.find('/').expect("a path")..].to_owned())
}

/// Every resource a page would load by itself (not links a visitor may follow).
fn loaded_resources(doc: &Html) -> Vec<String> {
    let mut out = Vec::new();
    for (selector, attr) in [
        ("script[src]", "src"),
        ("link[rel=stylesheet]", "href"),
        ("link[rel=icon]", "href"),
        ("link[rel=preload]", "href"),
        ("img[src]", "src"),
        ("iframe[src]", "src"),
        ("source[src]", "src"),
        ("video[src]", "src"),
        ("audio[src]", "src"),
        ("object[data]", "data"),
        ("embed[src]", "src"),
    ] {
        out.extend(doc.select(&sel(selector)).filter_map(|e| e.attr(attr)).map(str::to_owned));
    }
    out
}

fn is_third_party(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("http:") || u.starts_with("https:") || u.starts_with("//")
}

#[tokio::test]
async fn every_page_exists_in_both_languages_with_its_twin() {
    let server = Server::start();
    let c = client();
    let mut pages: Vec<String> = EN_PATHS.iter().map(|p| (*p).to_owned()).collect();
    // The news items, found through the news page.
    let (_, _, news) = get_html(&c, &server.url("/news")).await;
    let news_links: Vec<String> = Html::parse_document(&news)
        .select(&sel("main .news-list a"))
        .filter_map(|a| a.attr("href"))
        .filter(|h| h.starts_with("/news/"))
        .map(str::to_owned)
        .collect();
    assert!(news_links.len() >= 6, "the news page lists at least 6 items, found {news_links:?}");
    pages.extend(news_links);

    let mut german = BTreeSet::new();
    for path in &pages {
        let (status, headers, body) = get_html(&c, &server.url(path)).await;
        assert_eq!(status, 200, "GET {path}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{path}");
        let doc = Html::parse_document(&body);
        assert_eq!(doc.select(&sel("html")).next().unwrap().attr("lang"), Some("en"), "{path} is English");
        assert_eq!(hreflang(&doc, "en").as_deref(), Some(path.as_str()), "{path} names itself as the English version");
        let de = hreflang(&doc, "de").unwrap_or_else(|| panic!("{path} has no German alternate"));
        assert!(de.starts_with("/de/"), "{path}: German twin {de}");
        // The visible language switch links the twin too.
        assert!(
            doc.select(&sel(&format!(".lang-switch a[href=\"{de}\"]"))).next().is_some(),
            "{path}: no visible switch to {de}"
        );
        assert!(doc.select(&sel("main h1")).next().is_some(), "{path} has a main heading");
        assert!(doc.select(&sel("a.skip-link[href=\"#main\"]")).next().is_some(), "{path} has a skip link");

        let (status, _, body) = get_html(&c, &server.url(&de)).await;
        assert_eq!(status, 200, "GET {de} (twin of {path})");
        let doc = Html::parse_document(&body);
        assert_eq!(doc.select(&sel("html")).next().unwrap().attr("lang"), Some("de"), "{de} is German");
        assert_eq!(hreflang(&doc, "en").as_deref(), Some(path.as_str()), "{de} links back to {path}");
        assert_eq!(hreflang(&doc, "de").as_deref(), Some(de.as_str()), "{de} names itself");
        assert!(german.insert(de.clone()), "two English pages share the German twin {de}");
    }
}

#[tokio::test]
async fn pages_carry_their_key_content() {
    let server = Server::start();
    let c = client();
    for (path, needles) in [
        ("/", &["November 25, 2019", "Grisham", "Martin Sheen", "Irwin Cotler"][..]),
        ("/de/", &["25. November 2019"][..]),
        ("/timeline", &["1966", "March 30, 1985", "April 30, 1986", "July 7, 1989", "January 12, 1990", "2022"][..]),
        ("/de/chronik", &["30. März 1985", "7. Juli 1989"][..]),
        ("/evidence", &["42", "11", "fingerprint", "FBI"][..]),
        ("/voices", &["Steven D. Rosenfield", "Chuck Reid", "Chip Harding", "Andy Griffiths"][..]),
        ("/press", &["The New Yorker", "Crime Story", "Roanoke Times", "Richmond Times-Dispatch"][..]),
        ("/film", &["Killing for Love", "Marcus Vetter", "Karin Steinberger", "December 15, 2017"][..]),
        (
            "/books",
            &["One Day in the Life of 179212", "978-1590563458", "A Far, Far Better Thing", "Return to Life"][..],
        ),
        ("/pardon", &["August 22", "August 24"][..]),
        // The German twins carry the same facts in German.
        ("/de/fall", &["30. März 1985", "Haysom"][..]),
        ("/de/beweise", &["42", "11", "Fingerabdr", "FBI"][..]),
        ("/de/stimmen", &["Steven D. Rosenfield", "Chuck Reid", "Chip Harding", "Andy Griffiths"][..]),
        ("/de/presse", &["The New Yorker", "Crime Story", "Roanoke Times", "Richmond Times-Dispatch"][..]),
        ("/de/film", &["Killing for Love", "Marcus Vetter", "Karin Steinberger", "15. Dezember 2017"][..]),
        ("/de/buecher", &["One Day in the Life of 179212", "978-1590563458", "Return to Life"][..]),
        ("/de/begnadigung", &["22. August", "24. August", "Gnadengesuch"][..]),
        ("/de/vortraege", &["Resilienz"][..]),
    ] {
        let (status, _, body) = get_html(&c, &server.url(path)).await;
        assert_eq!(status, 200, "{path}");
        for needle in needles {
            assert!(body.contains(needle), "{path} should mention {needle:?}");
        }
        // Every page cites: numbered notes at the foot link their numbers.
        if path != "/de/" {
            let doc = Html::parse_document(&body);
            let refs: Vec<_> = doc.select(&sel("a.ref")).filter_map(|a| a.attr("href")).collect();
            assert!(!refs.is_empty(), "{path} cites no source");
            for r in refs {
                assert!(doc.select(&sel(r)).next().is_some(), "{path}: citation {r} has no note");
            }
        }
    }
}

#[tokio::test]
async fn press_page_filters_by_year_and_kind_without_javascript() {
    let server = Server::start();
    let c = client();
    let count = |body: &str| Html::parse_document(body).select(&sel("article.report")).count();
    let (_, _, all) = get_html(&c, &server.url("/press")).await;
    let total = count(&all);
    assert!(total >= 12, "at least 12 press reports, found {total}");
    let (_, _, films) = get_html(&c, &server.url("/press/film")).await;
    let doc = Html::parse_document(&films);
    assert!(count(&films) >= 1 && count(&films) < total);
    for kind in doc.select(&sel("article.report .kind")) {
        assert_eq!(kind.text().collect::<String>(), "Film");
    }
    let (_, _, y2019) = get_html(&c, &server.url("/press/2019")).await;
    let doc = Html::parse_document(&y2019);
    assert!(count(&y2019) >= 1 && count(&y2019) < total);
    for t in doc.select(&sel("article.report time")) {
        assert!(t.attr("datetime").unwrap().starts_with("2019"), "only 2019 reports");
    }
    // The filters are links, each list has an address of its own, the
    // current one is marked, and the German twin keeps the filter.
    let current: Vec<String> =
        doc.select(&sel("nav.filters a[aria-current=page]")).map(|a| a.attr("href").unwrap().to_owned()).collect();
    assert_eq!(current, ["/press/2019", "/press/2019"], "the year 2019, and all kinds of 2019");
    assert_eq!(hreflang(&doc, "de").as_deref(), Some("/de/presse/2019"));
    // Every kind linked from 2019 has reports: no empty lists are linked.
    for a in doc.select(&sel("nav.filters a")) {
        let href = a.attr("href").unwrap();
        let (_, _, list) = get_html(&c, &server.url(href)).await;
        assert!(count(&list) >= 1, "{href} lists reports");
    }
    let (_, _, both) = get_html(&c, &server.url("/press/2019/film")).await;
    assert!(count(&both) <= count(&y2019).min(count(&films)));
    // Links and bookmarks with the query of earlier versions lead there.
    let old = c.get(server.url("/press?year=2019&kind=film")).send().await.unwrap();
    assert_eq!((old.status().as_u16(), old.headers()["location"].to_str().unwrap()), (301, "/press/2019/film"));
    for bad in ["/press/1850", "/press/blog", "/press/film/2019", "/press/2019/film/x"] {
        assert_eq!(c.get(server.url(bad)).send().await.unwrap().status(), 404, "{bad}");
    }
    // Nonsense values are ignored, not errors.
    let (status, _, odd) = get_html(&c, &server.url("/press?year=abc&kind=<script>")).await;
    assert_eq!(status, 200);
    assert_eq!(count(&odd), total);
    assert!(!odd.contains("<script>"));
}

#[tokio::test]
async fn no_cookies_and_no_third_party_resources_anywhere() {
    let server = Server::start();
    let c = client();
    let (_, _, css) = get_html(&c, &server.url("/")).await;
    let css_url = Html::parse_document(&css)
        .select(&sel("link[rel=stylesheet]"))
        .next()
        .unwrap()
        .attr("href")
        .unwrap()
        .to_owned();
    let (_, headers, css_body) = get_html(&c, &server.url(&css_url)).await;
    assert!(!headers.contains_key("set-cookie"));
    for line in css_body.lines().filter(|l| l.contains("url(") || l.contains("@import")) {
        assert!(!line.contains("http"), "the stylesheet loads something from elsewhere: {line}");
    }
    let mut paths: Vec<String> = EN_PATHS.iter().map(|p| (*p).to_owned()).collect();
    paths.extend(EN_PATHS.iter().map(|p| format!("/de{p}")));
    paths.push("/no-such-page".into());
    paths.push("/search?q=DNA".into());
    for path in paths {
        let res = c.get(server.url(&path)).send().await.unwrap();
        assert!(!res.headers().contains_key("set-cookie"), "{path} sets a cookie");
        let body = res.text().await.unwrap();
        let doc = Html::parse_document(&body);
        for url in loaded_resources(&doc) {
            assert!(!is_third_party(&url), "{path} loads {url}");
        }
        assert!(
            doc.select(&sel("script:not([src]):not([type=\"application/ld+json\"])")).next().is_none(),
            "{path} has an inline script"
        );
        assert!(doc.select(&sel("[style]")).next().is_none(), "{path} has an inline style");
    }
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let server = Server::start();
    let c = client();
    for path in ["/", "/de/fall", "/nope", "/healthz"] {
        let res = c.get(server.url(path)).send().await.unwrap();
        for (name, value) in casefile::web::headers::SECURITY_HEADERS {
            assert_eq!(res.headers().get(name).and_then(|v| v.to_str().ok()), Some(value), "{path}: {name}");
        }
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
        );
    }
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096).read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn cached_pages_are_compressed_validated_and_answer_head() {
    let server = Server::start();
    let c = client();
    let plain = c.get(server.url("/timeline")).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "Accept-Encoding");
    assert_eq!(plain.headers()["cache-control"], "public, max-age=60");
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
    let plain = plain.bytes().await.unwrap();

    let gz = c.get(server.url("/timeline")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz_etag = gz.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_etag, etag, "each content coding is its own representation with its own strong ETag");
    let gz = gz.bytes().await.unwrap();
    assert!(gz.len() < plain.len() / 2);
    assert_eq!(gunzip(&gz), plain);

    let br = c.get(server.url("/timeline")).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    let br = br.bytes().await.unwrap();
    assert_eq!(unbrotli(&br), plain);

    let not_modified = c.get(server.url("/timeline")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"].to_str().unwrap(), etag);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let other = c.get(server.url("/timeline")).header("if-none-match", "\"something-else\"").send().await.unwrap();
    assert_eq!(other.status(), 200);
    let gz_304 = c
        .get(server.url("/timeline"))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gz_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(gz_304.status(), 304, "the gzip validator revalidates the gzip representation");
    let mixed = c.get(server.url("/timeline")).header("if-none-match", &gz_etag).send().await.unwrap();
    assert_eq!(mixed.status(), 200, "but not the uncompressed one");

    let head = c.head(server.url("/timeline")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), plain.len().to_string());
    assert!(head.bytes().await.unwrap().is_empty());

    // Assets: hashed names, cached for a year.
    let doc = Html::parse_document(std::str::from_utf8(&plain).unwrap());
    let css = doc.select(&sel("link[rel=stylesheet]")).next().unwrap().attr("href").unwrap().to_owned();
    assert!(css.starts_with("/assets/style.") && css.len() > "/assets/style.css".len() + 8, "{css}");
    let res = c.get(server.url(&css)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(c.get(server.url("/assets/style.css")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn errors_come_in_the_visitors_language_with_the_right_status() {
    let server = Server::start();
    let c = client();
    let (status, _, body) = get_html(&c, &server.url("/no-such-page")).await;
    assert_eq!(status, 404);
    let doc = Html::parse_document(&body);
    assert_eq!(doc.select(&sel("html")).next().unwrap().attr("lang"), Some("en"));
    assert!(body.contains("Page not found"));
    let (status, _, body) = get_html(&c, &server.url("/de/gibt-es-nicht")).await;
    assert_eq!(status, 404);
    assert_eq!(Html::parse_document(&body).select(&sel("html")).next().unwrap().attr("lang"), Some("de"));
    assert!(body.contains("Seite nicht gefunden"));

    let res = c.post(server.url("/")).body("x=1").send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_eq!(c.delete(server.url("/case")).send().await.unwrap().status(), 405);

    // Canonical paths: a trailing slash redirects, the German home has one.
    let res = c.get(server.url("/case/")).send().await.unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/case");
    let res = c.get(server.url("/de")).send().await.unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/de/");

    // A body larger than the limit is refused before it is read: the
    // request announces 2 MiB and sends none of it, and still gets its answer.
    let status = raw_status(&server, "POST /contact HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n");
    assert_eq!(status, 413, "oversized body");
    // A huge header line gets 431, a huge URI 414.
    let status = raw_status(&server, &format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(10 * 1024)));
    assert_eq!(status, 414);
    let status = raw_status(&server, &format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "y".repeat(40 * 1024)));
    assert_eq!(status, 431);

    let res = c.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn search_finds_content_in_each_language_and_never_reflects_markup() {
    let server = Server::start();
    let c = client();
    let hits = |body: &str| -> Vec<String> {
        Html::parse_document(body)
            .select(&sel(".results h2 a"))
            .filter_map(|a| a.attr("href"))
            .map(str::to_owned)
            .collect()
    };
    // Stemming: the plural finds the singular, in each language.
    let (status, _, body) = get_html(&c, &server.url("/search?q=fingerprints")).await;
    assert_eq!(status, 200);
    assert!(hits(&body).contains(&"/evidence#fingerprint".to_owned()), "{:?}", hits(&body));
    assert!(Html::parse_document(&body).select(&sel(".results mark")).next().is_some(), "matches are highlighted");
    let (_, _, body) = get_html(&c, &server.url("/de/suche?q=Fingerabdr%C3%BCcke")).await;
    assert!(hits(&body).contains(&"/de/beweise#fingerprint".to_owned()), "{:?}", hits(&body));
    // A type filter narrows the results to that kind.
    let (_, _, all) = get_html(&c, &server.url("/search?q=Haysom")).await;
    let (_, _, only) = get_html(&c, &server.url("/search?q=Haysom&type=timeline")).await;
    assert!(!hits(&only).is_empty() && hits(&only).iter().all(|h| h.starts_with("/timeline#")), "{:?}", hits(&only));
    // Pagination: ten per page, a next link, and the second page differs.
    let doc = Html::parse_document(&all);
    let next =
        doc.select(&sel(".pager a[rel=next]")).next().expect("Haysom has more than ten hits").attr("href").unwrap();
    let (_, _, page2) = get_html(&c, &server.url(&next.replace("&amp;", "&"))).await;
    assert!(!hits(&page2).is_empty());
    assert!(hits(&page2).iter().all(|h| !hits(&all).contains(h)), "page 2 repeats page 1");
    for q in [
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%22%27%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "AND%20OR%20NOT%20*%20%22",
        &"a".repeat(5000),
    ] {
        let (status, _, body) = get_html(&c, &server.url(&format!("/search?q={q}"))).await;
        assert_eq!(status, 200);
        assert!(!body.contains("<script>alert") && !body.contains("<img src=x"), "markup reflected for {q}");
    }
}

/// Sends `request` on a fresh connection and returns the answer's status
/// code: no client library retries, reuses or hides what the server did.
fn raw_status(server: &Server, request: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).expect("an answer before the connection closes");
    let line = String::from_utf8_lossy(&head).into_owned();
    line.strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}
