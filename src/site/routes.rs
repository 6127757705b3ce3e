//! The URL table of a site: which path shows which item in which language.
//!
//! URLs: the default language has no prefix (`/case`), the others do
//! (`/de/fall`); the home pages are `/` and `/de/`. News posts live under the
//! news page (`/news/<slug>`, `/de/neuigkeiten/<slug>`).

use std::collections::HashMap;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use super::search::{self, SearchIndex};
use crate::content::{ItemKind, Lang, Site, Template};

/// What a path shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `site.pages[index]` in `lang`.
    Page { lang: Lang, index: usize },
    /// `site.news[index]` in `lang`.
    News { lang: Lang, index: usize },
    /// A permanent or temporary redirect.
    Redirect { to: String, status: u16 },
    /// A feed of news posts or press reports in `lang`.
    Feed { lang: Lang, of: FeedOf, format: FeedFormat },
    /// `/sitemap.xml`: the sitemap index, naming the parts.
    SitemapIndex,
    /// `/sitemap-<part>.xml` (from 1): at most [`SITEMAP_URLS`] URLs each.
    Sitemap { part: usize },
    /// `/robots.txt`.
    Robots,
    /// `<search page>/index.json`: what `assets/search.js` searches in a
    /// static copy of the site, in `lang`.
    SearchData { lang: Lang },
    /// `<newsletter page>/archive`: the archived newsletters of `lang`.
    NewsletterArchive { lang: Lang },
    /// `<newsletter page>/archive/<id>`: `site.newsletters[index]`.
    NewsletterIssue { lang: Lang, index: usize },
}

/// What a feed lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedOf {
    /// News posts.
    News,
    /// Press reports.
    Press,
}

/// A feed's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    /// Atom 1.0.
    Atom,
    /// RSS 2.0.
    Rss,
    /// JSON Feed 1.1.
    Json,
}

impl FeedFormat {
    /// All formats, in the order pages advertise them.
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Atom, FeedFormat::Rss, FeedFormat::Json];

    /// The file name under the list page (`/news/feed.atom`).
    pub fn file_name(self) -> &'static str {
        match self {
            FeedFormat::Atom => "feed.atom",
            FeedFormat::Rss => "feed.rss",
            FeedFormat::Json => "feed.json",
        }
    }

    /// The media type, for the response and for `<link rel="alternate">`.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }
}

/// A public snapshot of a site with its URL table.
pub struct SiteIndex {
    /// The public content (drafts and future items removed).
    pub site: Site,
    /// The content version this snapshot was loaded at.
    pub version: i64,
    /// Which snapshot of this process this is (the page cache's key).
    pub generation: u64,
    /// The earliest future publication time of a hidden item, if any: the
    /// snapshot must be rebuilt then.
    pub next_publication: Option<i64>,
    /// The public base URL, without a trailing slash, for absolute links.
    pub base_url: String,
    /// The full-text index: of this snapshot, or (until `set_search`) of
    /// the one before it, while this one's is built in the background.
    search: RwLock<Arc<SearchIndex>>,
    /// Whether `search` was built from this snapshot.
    search_current: AtomicBool,
    routes: HashMap<String, Target>,
}

/// At most this many URLs in one sitemap file (the protocol's limit).
pub const SITEMAP_URLS: usize = 50_000;

/// News posts per page of the news list.
pub const NEWS_PER_PAGE: usize = 20;

/// One URL of the sitemap.
pub struct SitemapEntry {
    /// The path.
    pub path: String,
    /// Its language versions.
    pub alternates: Vec<(Lang, String)>,
    /// When its content last changed (unix seconds).
    pub updated: i64,
}

/// The path prefix of a language: "" for the default one, "/de" otherwise.
pub fn prefix(site: &Site, lang: Lang) -> String {
    if lang == site.default_lang() { String::new() } else { format!("/{}", lang.code()) }
}

/// The path of a page slug in a language.
pub fn page_path(site: &Site, lang: Lang, slug: &str) -> String {
    let prefix = prefix(site, lang);
    if slug.is_empty() { format!("{prefix}/") } else { format!("{prefix}/{slug}") }
}

impl SiteIndex {
    /// Builds the index of the public part of `site` at time `now`.
    /// With `search_dir`, the search index is kept there between runs.
    pub fn new(
        site: Site,
        version: i64,
        now: i64,
        base_url: &str,
        search_dir: Option<&std::path::Path>,
    ) -> tantivy::Result<SiteIndex> {
        let index = SiteIndex::without_search(site, version, now, base_url)?;
        index.set_search(index.build_search(search_dir)?);
        Ok(index)
    }

    /// The same, searching with `previous`'s index until [`set_search`]
    /// installs this snapshot's (built with [`build_search`]): the pages of
    /// an edit are served at once, its search results a moment later.
    ///
    /// [`set_search`]: SiteIndex::set_search
    /// [`build_search`]: SiteIndex::build_search
    pub fn reusing_search(
        site: Site,
        version: i64,
        now: i64,
        base_url: &str,
        previous: &SiteIndex,
    ) -> tantivy::Result<SiteIndex> {
        let index = SiteIndex::without_search(site, version, now, base_url)?;
        *index.search.write() = previous.search();
        Ok(index)
    }

    /// Builds this snapshot's search index (kept in `search_dir` if given).
    pub fn build_search(&self, search_dir: Option<&std::path::Path>) -> tantivy::Result<SearchIndex> {
        let started = std::time::Instant::now();
        let docs = search::documents(self);
        let documents_ms = started.elapsed().as_millis() as u64;
        let built = match search_dir {
            Some(dir) => SearchIndex::persistent(dir, docs).or_else(|e| {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot keep the search index on disk; building it in memory");
                SearchIndex::build(search::documents(self))
            })?,
            None => SearchIndex::build(docs)?,
        };
        tracing::debug!(documents_ms, search_ms = started.elapsed().as_millis() as u64, "search index built");
        Ok(built)
    }

    /// Installs this snapshot's search index.
    pub fn set_search(&self, search: SearchIndex) {
        *self.search.write() = Arc::new(search);
        self.search_current.store(true, Ordering::SeqCst);
    }

    /// The search index to query.
    pub fn search(&self) -> Arc<SearchIndex> {
        Arc::clone(&self.search.read())
    }

    /// Of `self` and `other`, the newer snapshot.
    pub fn max_by_generation(self: Arc<Self>, other: &Arc<SiteIndex>) -> Arc<SiteIndex> {
        if other.generation > self.generation { Arc::clone(other) } else { self }
    }

    /// Whether the search index is this snapshot's own.
    pub fn search_is_current(&self) -> bool {
        self.search_current.load(Ordering::SeqCst)
    }

    /// The same with an empty search index: for a preview, which renders
    /// one page and must not index the whole site to do it.
    pub fn without_search(mut site: Site, version: i64, now: i64, base_url: &str) -> tantivy::Result<SiteIndex> {
        let next_publication = site.next_publication(now);
        site.retain_public(now);
        for other in &mut site.elsewhere {
            other.site.retain_public(now);
        }
        let mut routes = HashMap::new();
        for (index, page) in site.pages.iter().enumerate() {
            for (&lang, text) in &page.text {
                routes.insert(page_path(&site, lang, &text.slug), Target::Page { lang, index });
            }
        }
        if let Some(news_page) = site.page("news") {
            for (index, post) in site.news.iter().enumerate() {
                for (&lang, text) in &post.text {
                    let base = news_page.text.get(&lang).map(|t| page_path(&site, lang, &t.slug)).unwrap_or_default();
                    routes.insert(format!("{base}/{}", text.slug), Target::News { lang, index });
                }
            }
        }
        for (key, of) in [("news", FeedOf::News), ("press", FeedOf::Press)] {
            let Some(page) = site.page(key) else { continue };
            for (&lang, text) in &page.text {
                let base = page_path(&site, lang, &text.slug);
                for format in FeedFormat::ALL {
                    routes.insert(format!("{base}/{}", format.file_name()), Target::Feed { lang, of, format });
                }
            }
        }
        if let Some(page) = site.page_with(Template::Search) {
            for (&lang, text) in &page.text {
                let path = format!("{}/index.json", page_path(&site, lang, &text.slug));
                routes.insert(path, Target::SearchData { lang });
            }
        }
        for (index, n) in site.newsletters.iter().enumerate() {
            let Some(page) = site.page_with(Template::Newsletter).and_then(|p| p.text.get(&n.lang)) else { continue };
            let archive = format!("{}/archive", page_path(&site, n.lang, &page.slug));
            routes.insert(format!("{archive}/{}", n.id), Target::NewsletterIssue { lang: n.lang, index });
            routes.insert(archive, Target::NewsletterArchive { lang: n.lang });
        }
        routes.insert("/sitemap.xml".to_owned(), Target::SitemapIndex);
        routes.insert("/robots.txt".to_owned(), Target::Robots);
        // Former slugs answer 301 to the current address; a current address
        // always wins over an old one.
        let mut old = Vec::new();
        for page in &site.pages {
            for (&lang, text) in &page.text {
                let to = page_path(&site, lang, &text.slug);
                old.extend(text.old_slugs.iter().map(|s| (page_path(&site, lang, s), to.clone())));
            }
        }
        if let Some(news_page) = site.page("news") {
            for (&lang, page_text) in &news_page.text {
                let base = page_path(&site, lang, &page_text.slug);
                // Every old address of the news page itself stands for it.
                let bases: Vec<String> = std::iter::once(base.clone())
                    .chain(page_text.old_slugs.iter().map(|s| page_path(&site, lang, s)))
                    .collect();
                for post in &site.news {
                    let Some(text) = post.text.get(&lang) else { continue };
                    let to = format!("{base}/{}", text.slug);
                    for b in &bases {
                        old.extend(text.old_slugs.iter().map(|s| (format!("{b}/{s}"), to.clone())));
                        if *b != base {
                            old.push((format!("{b}/{}", text.slug), to.clone()));
                        }
                    }
                }
                for b in bases.iter().filter(|b| **b != base) {
                    for format in FeedFormat::ALL {
                        old.push((format!("{b}/{}", format.file_name()), format!("{base}/{}", format.file_name())));
                    }
                }
            }
        }
        for (from, to) in old {
            routes.entry(from).or_insert(Target::Redirect { to, status: 301 });
        }
        for r in &site.redirects {
            routes.entry(r.from.clone()).or_insert_with(|| Target::Redirect { to: r.to.clone(), status: r.status });
        }
        let mut index = SiteIndex {
            site,
            version,
            generation: 0,
            next_publication,
            base_url: base_url.trim_end_matches('/').to_owned(),
            search: RwLock::new(Arc::new(SearchIndex::build([])?)),
            search_current: AtomicBool::new(false),
            routes,
        };
        for part in 1..=index.sitemap_parts() {
            index.routes.insert(format!("/sitemap-{part}.xml"), Target::Sitemap { part });
        }
        Ok(index)
    }

    /// What `path` shows, if anything.
    pub fn resolve(&self, path: &str) -> Option<&Target> {
        self.routes.get(path)
    }

    /// Every public path with its target, for tests, sitemaps and the export.
    pub fn paths(&self) -> impl Iterator<Item = (&String, &Target)> {
        self.routes.iter()
    }

    /// The language a path is in, judged by its prefix (for 404 pages).
    pub fn lang_of_path(&self, path: &str) -> Lang {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        self.site
            .languages
            .iter()
            .copied()
            .find(|l| *l != self.site.default_lang() && l.code() == first)
            .unwrap_or(self.site.default_lang())
    }

    /// An absolute URL for a path.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Every path the snapshot answers (pages, posts, feeds, sitemaps,
    /// robots.txt, redirects and former slugs), in no order: what a static
    /// export writes.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &Target)> {
        self.routes.iter().map(|(path, target)| (path.as_str(), target))
    }

    /// The address of `lang`'s newsletter archive, if it has newsletters.
    pub fn newsletter_archive(&self, lang: Lang) -> Option<String> {
        let page = self.site.page_with(Template::Newsletter)?.text.get(&lang)?;
        self.site
            .newsletters
            .iter()
            .any(|n| n.lang == lang)
            .then(|| format!("{}/archive", page_path(&self.site, lang, &page.slug)))
    }

    /// The path of the page with `key` in `lang` (for links between pages).
    pub fn path_of(&self, key: &str, lang: Lang) -> Option<String> {
        let page = self.site.page(key)?;
        Some(page_path(&self.site, lang, &page.text.get(&lang)?.slug))
    }

    /// The item's "also on …": each other site that shows it, by name,
    /// with the address of its place there (in `lang` where that site has
    /// it, else in that site's own language). Timeline events and press
    /// reports have places of their own; other kinds have none.
    pub fn also_on(&self, kind: ItemKind, key: &str, lang: Lang) -> Vec<(String, String)> {
        let template = match kind {
            ItemKind::Timeline => Template::Timeline,
            ItemKind::Press => Template::Press,
            _ => return Vec::new(),
        };
        let places = self.site.elsewhere.iter().filter(|e| e.items.iter().any(|(k, x)| *k == kind && x == key));
        places
            .filter_map(|e| {
                let (url, page) = (e.url.as_ref()?, e.site.page_with(template)?);
                let lang = if page.text.contains_key(&lang) { lang } else { e.site.default_lang() };
                let name = e.site.text.get(&lang)?.name.clone();
                Some((name, format!("{url}{}#{key}", page_path(&e.site, lang, &page.text.get(&lang)?.slug))))
            })
            .collect()
    }

    /// How many pages the news list has (at least one).
    pub fn news_pages(&self) -> usize {
        self.site.news.len().div_ceil(NEWS_PER_PAGE).max(1)
    }

    /// How many files the sitemap is split into.
    pub fn sitemap_parts(&self) -> usize {
        self.sitemap_entries().len().div_ceil(SITEMAP_URLS).max(1)
    }

    /// Every URL the sitemap lists, in path order: pages, news posts and
    /// the further pages of the news list, each with its language versions.
    pub fn sitemap_entries(&self) -> Vec<SitemapEntry> {
        let site = &self.site;
        let mut out = Vec::new();
        for (path, target) in &self.routes {
            let updated = match *target {
                Target::Page { index: i, .. } => site.pages[i].meta.updated_at,
                Target::News { index: i, .. } => site.news[i].meta.updated_at,
                _ => continue,
            };
            let alternates = self.alternates(target);
            if matches!(*target, Target::Page { index: i, .. } if site.pages[i].template == Template::News) {
                let latest = site.news.iter().map(|n| n.meta.updated_at).max().unwrap_or(updated);
                for page in 2..=self.news_pages() {
                    let q = format!("/page/{page}");
                    out.push(SitemapEntry {
                        path: format!("{path}{q}"),
                        alternates: alternates.iter().map(|(l, p)| (*l, format!("{p}{q}"))).collect(),
                        updated: latest,
                    });
                }
            }
            out.push(SitemapEntry { path: path.clone(), alternates, updated });
        }
        out.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The path of every language version of a target, in site language order.
    pub fn alternates(&self, target: &Target) -> Vec<(Lang, String)> {
        let site = &self.site;
        match *target {
            Target::Page { index, .. } => {
                let page = &site.pages[index];
                site.languages.iter().filter_map(|&l| Some((l, page_path(site, l, &page.text.get(&l)?.slug)))).collect()
            }
            Target::News { index, .. } => {
                let post = &site.news[index];
                site.languages
                    .iter()
                    .filter_map(|&l| Some((l, format!("{}/{}", self.path_of("news", l)?, post.text.get(&l)?.slug))))
                    .collect()
            }
            Target::Feed { of, format, .. } => {
                let key = if of == FeedOf::News { "news" } else { "press" };
                site.languages
                    .iter()
                    .filter_map(|&l| Some((l, format!("{}/{}", self.path_of(key, l)?, format.file_name()))))
                    .collect()
            }
            Target::Redirect { .. }
            | Target::SitemapIndex
            | Target::Sitemap { .. }
            | Target::Robots
            | Target::SearchData { .. }
            | Target::NewsletterArchive { .. }
            | Target::NewsletterIssue { .. } => Vec::new(),
        }
    }
}
