//! Machine-readable views of the snapshot: Atom, RSS 2.0 and JSON Feed for
//! news and press reports per language, the sitemap and robots.txt.
//!
//! XML is written by hand: the documents are small and fixed in shape, and
//! every text value goes through [`xml`]. JSON goes through serde_json.

use std::fmt::Write;

use serde_json::json;

use super::dates::{rfc822, rfc3339, unix, ymd};
use super::routes::{FeedFormat, FeedOf, SITEMAP_URLS, SiteIndex};
use crate::content::Lang;
use crate::markdown;

/// Escapes text for XML content and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped rather than sent.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Entries a feed carries: the newest, as feed readers expect (the lists
/// and the sitemap have everything). A site of 10,000 posts would
/// otherwise have feeds of tens of megabytes, each post's full text in each.
pub const FEED_ENTRIES: usize = 50;

/// One entry, whatever the feed lists.
struct Entry {
    id: String,
    title: String,
    summary: String,
    html: Option<String>,
    published: i64,
    updated: i64,
}

/// The feed's head: title, page and self URLs.
struct Head {
    title: String,
    description: String,
    page_url: String,
    self_url: String,
    lang: Lang,
    author: String,
}

fn collect(index: &SiteIndex, lang: Lang, of: FeedOf) -> Option<(Head, Vec<Entry>)> {
    let site = &index.site;
    let key = if of == FeedOf::News { "news" } else { "press" };
    let page = site.page(key)?;
    let text = page.text.get(&lang)?;
    let page_path = index.path_of(key, lang)?;
    let format_path = |f: FeedFormat| format!("{page_path}/{}", f.file_name());
    let site_name = site.text.get(&lang).map(|t| t.name.clone()).unwrap_or_default();
    let head = Head {
        title: format!("{site_name}: {}", text.title),
        description: text.summary.clone(),
        page_url: index.absolute(&page_path),
        self_url: index.absolute(&format_path(FeedFormat::Atom)),
        lang,
        author: site_name,
    };
    let entries = match of {
        FeedOf::News => site
            .news
            .iter()
            .filter_map(|n| {
                let t = n.text.get(&lang)?;
                let published = n.date.map(unix).unwrap_or(n.meta.created_at);
                Some(Entry {
                    id: index.absolute(&format!("{page_path}/{}", t.slug)),
                    title: t.title.clone(),
                    summary: t.summary.clone(),
                    html: Some(markdown::to_html(&t.body)),
                    published,
                    updated: n.meta.updated_at.max(published),
                })
            })
            .take(FEED_ENTRIES)
            .collect(),
        FeedOf::Press => site
            .press
            .iter()
            .filter_map(|r| {
                let t = r.text.get(&lang)?;
                let published = r.date.map(unix).unwrap_or(r.meta.created_at);
                let mut title = r.title.clone().unwrap_or_else(|| t.title.clone());
                if let Some(outlet) = &r.outlet {
                    title = format!("{title} ({outlet})");
                }
                Some(Entry {
                    id: index.absolute(&format!("{page_path}#{}", r.key)),
                    title,
                    summary: t.summary.clone(),
                    html: None,
                    published,
                    updated: r.meta.updated_at.max(published),
                })
            })
            .take(FEED_ENTRIES)
            .collect(),
    };
    Some((head, entries))
}

/// Renders a feed; `None` if the site has no such list page.
pub fn feed(index: &SiteIndex, lang: Lang, of: FeedOf, format: FeedFormat) -> Option<String> {
    let (mut head, entries) = collect(index, lang, of)?;
    head.self_url = head.self_url.replace(FeedFormat::Atom.file_name(), format.file_name());
    Some(match format {
        FeedFormat::Atom => atom(&head, &entries),
        FeedFormat::Rss => rss(&head, &entries),
        FeedFormat::Json => json_feed(&head, &entries),
    })
}

fn atom(head: &Head, entries: &[Entry]) -> String {
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(0);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = write!(
        out,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n<title>{title}</title>\n<subtitle>{sub}</subtitle>\n\
         <id>{self_url}</id>\n<link rel=\"self\" href=\"{self_url}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n\
         <updated>{updated}</updated>\n<author><name>{author}</name></author>\n",
        lang = head.lang,
        title = xml(&head.title),
        sub = xml(&head.description),
        self_url = xml(&head.self_url),
        page = xml(&head.page_url),
        updated = rfc3339(updated),
        author = xml(&head.author),
    );
    for e in entries {
        let _ = write!(
            out,
            "<entry>\n<id>{id}</id>\n<title>{title}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{id}\"/>\n\
             <published>{published}</published>\n<updated>{updated}</updated>\n<summary>{summary}</summary>\n",
            id = xml(&e.id),
            title = xml(&e.title),
            published = rfc3339(e.published),
            updated = rfc3339(e.updated),
            summary = xml(&e.summary),
        );
        if let Some(html) = &e.html {
            let _ = writeln!(out, "<content type=\"html\">{}</content>", xml(html));
        }
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn rss(head: &Head, entries: &[Entry]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = write!(
        out,
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>{title}</title>\n<link>{page}</link>\n\
         <description>{desc}</description>\n<language>{lang}</language>\n<atom:link href=\"{self_url}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        title = xml(&head.title),
        page = xml(&head.page_url),
        desc = xml(&head.description),
        lang = head.lang,
        self_url = xml(&head.self_url),
    );
    for e in entries {
        let _ = write!(
            out,
            "<item>\n<title>{title}</title>\n<link>{id}</link>\n<guid isPermaLink=\"true\">{id}</guid>\n<pubDate>{date}</pubDate>\n\
             <description>{summary}</description>\n</item>\n",
            title = xml(&e.title),
            id = xml(&e.id),
            date = rfc822(e.published),
            summary = xml(&e.summary),
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn json_feed(head: &Head, entries: &[Entry]) -> String {
    let items: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.id,
                "url": e.id,
                "title": e.title,
                "summary": e.summary,
                "date_published": rfc3339(e.published),
                "date_modified": rfc3339(e.updated),
            });
            item["content_html"] = json!(e.html.clone().unwrap_or_else(|| format!("<p>{}</p>", xml(&e.summary))));
            item
        })
        .collect();
    let feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": head.title,
        "description": head.description,
        "home_page_url": head.page_url,
        "feed_url": head.self_url,
        "language": head.lang.code(),
        "authors": [{ "name": head.author }],
        "items": items,
    });
    serde_json::to_string_pretty(&feed).expect("JSON values serialise")
}

/// `/sitemap.xml`: a sitemap index naming every part.
pub fn sitemap_index(index: &SiteIndex) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for part in 1..=index.sitemap_parts() {
        let loc = xml(&index.absolute(&format!("/sitemap-{part}.xml")));
        let _ = writeln!(out, "<sitemap><loc>{loc}</loc></sitemap>");
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// `/sitemap-<part>.xml`: up to [`SITEMAP_URLS`] URLs with their language
/// versions, in linear time.
pub fn sitemap(index: &SiteIndex, part: usize) -> String {
    let entries = index.sitemap_entries();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for e in entries.iter().skip((part - 1) * SITEMAP_URLS).take(SITEMAP_URLS) {
        let _ =
            writeln!(out, "<url>\n<loc>{}</loc>\n<lastmod>{}</lastmod>", xml(&index.absolute(&e.path)), ymd(e.updated));
        for (lang, alt) in &e.alternates {
            let _ = writeln!(
                out,
                "<xhtml:link rel=\"alternate\" hreflang=\"{lang}\" href=\"{}\"/>",
                xml(&index.absolute(alt))
            );
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

/// `/robots.txt`: everything may be crawled; the sitemap is named.
pub fn robots(index: &SiteIndex) -> String {
    format!("User-agent: *\nAllow: /\n\nSitemap: {}\n", index.absolute("/sitemap.xml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(xml("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
