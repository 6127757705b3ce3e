//! One template context per page kind, and [`render`], the single entry
//! point that turns a request for a path into HTML.
//!
//! Items are handed to templates as they are (serialised content types, with
//! their per-language text under `item[lang]`); what the templates cannot
//! work out themselves (URLs, note numbers, filters) is computed here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use minijinja::{Value, context};

use super::routes::FeedFormat;
use super::routes::{NEWS_PER_PAGE, SiteIndex, Target};
use super::to_value;
use super::{HTML, PageRequest, RenderError, Rendered, Theme, feeds, jsonld, search};
use crate::content::{ItemKind, Lang, PRESS_KINDS, Page, PressReport, Site, Template};

/// Numbered source notes, in order of first citation on the page.
#[derive(Default)]
struct Notes {
    order: Vec<String>,
}

impl Notes {
    fn cite(&mut self, keys: &[String]) {
        for k in keys {
            if !self.order.contains(k) {
                self.order.push(k.clone());
            }
        }
    }

    /// Source key → note number, and the list for the page's foot.
    fn into_values(self, site: &Site, lang: Lang, index: &SiteIndex) -> (Value, Value) {
        let numbers: HashMap<&str, usize> = self.order.iter().enumerate().map(|(i, k)| (k.as_str(), i + 1)).collect();
        let press_path = index.path_of("press", lang);
        let list: Vec<Value> = self
            .order
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let s = site.source(k)?;
                let url = match (&s.url, &s.press, &press_path) {
                    (Some(u), _, _) => Some(u.clone()),
                    (None, Some(p), Some(path)) => Some(format!("{path}#{p}")),
                    _ => None,
                };
                Some(context! { n => i + 1, key => k, text => s.citation.get(&lang), url })
            })
            .collect();
        (to_value(&numbers), Value::from(list))
    }
}

/// Renders whatever `req.path` shows; an unknown path gives the 404 page in
/// the language its prefix suggests.
pub fn render(theme: &Theme, index: &SiteIndex, req: &PageRequest) -> Result<Rendered, RenderError> {
    match index.resolve(&req.path) {
        Some(target @ Target::Page { lang, index: i }) => {
            let page = &index.site.pages[*i];
            if page.template == Template::News && !(1..=index.news_pages()).contains(&req.page) {
                return not_found(theme, index, *lang);
            }
            let html = render_page(theme, index, target, page, *lang, req)?;
            Ok(Rendered { status: 200, html, lang: *lang, content_type: HTML })
        }
        Some(target @ Target::News { lang, index: i }) => {
            let post = &index.site.news[*i];
            let mut notes = Notes::default();
            notes.cite(&post.sources);
            let media = attached_media(&index.site, &post.media, &mut notes);
            let text = &post.text[lang];
            let base = base(theme, index, *lang, &text.title, &text.summary, index.alternates(target), Some("news"));
            let (n, note_list) = notes.into_values(&index.site, *lang, index);
            let share = share_image(theme, index, post.image.as_deref());
            let jsonld = jsonld::for_target(index, target, &site_card(theme, index), &share.url);
            let ctx = context! { post => to_value(post), attached_media => media, n, notes => note_list, og_type => "article", jsonld, share_image => share.url, share_image_size => share.size, ..base };
            Ok(Rendered { status: 200, html: theme.render("news_item.html", ctx)?, lang: *lang, content_type: HTML })
        }
        Some(&Target::Feed { lang, of, format }) => match feeds::feed(index, lang, of, format) {
            Some(body) => Ok(Rendered { status: 200, html: body, lang, content_type: feed_content_type(format) }),
            None => not_found(theme, index, lang),
        },
        Some(Target::SitemapIndex) => Ok(Rendered {
            status: 200,
            html: feeds::sitemap_index(index),
            lang: index.site.default_lang(),
            content_type: "application/xml; charset=utf-8",
        }),
        Some(&Target::Sitemap { part }) => Ok(Rendered {
            status: 200,
            html: feeds::sitemap(index, part),
            lang: index.site.default_lang(),
            content_type: "application/xml; charset=utf-8",
        }),
        Some(&Target::NewsletterArchive { lang }) => newsletters(theme, index, lang, None),
        Some(&Target::NewsletterIssue { lang, index: i }) => newsletters(theme, index, lang, Some(i)),
        Some(&Target::SearchData { lang }) => {
            Ok(Rendered { status: 200, html: search::client_data(index, lang), lang, content_type: "application/json" })
        }
        Some(Target::Robots) => Ok(Rendered {
            status: 200,
            html: feeds::robots(index),
            lang: index.site.default_lang(),
            content_type: "text/plain; charset=utf-8",
        }),
        Some(Target::Redirect { .. }) | None => not_found(theme, index, index.lang_of_path(&req.path)),
    }
}

/// The newsletter archive of `lang`, or one newsletter of it.
fn newsletters(theme: &Theme, index: &SiteIndex, lang: Lang, issue: Option<usize>) -> Result<Rendered, RenderError> {
    let archive = index.newsletter_archive(lang).unwrap_or_default();
    let (title, template, ctx) = match issue.map(|i| &index.site.newsletters[i]) {
        Some(n) => (n.subject.clone(), "newsletter_issue.html", context! { archive, issue => to_value(n) }),
        None => {
            let list: Vec<_> = index.site.newsletters.iter().filter(|n| n.lang == lang).collect();
            let ctx = context! { archive, issues => to_value(&list) };
            (theme.string(lang, "newsletter_archive"), "newsletter_archive.html", ctx)
        }
    };
    let base = base(theme, index, lang, &title, "", Vec::new(), Some("newsletter"));
    let ctx = context! { ..ctx, ..base };
    Ok(Rendered { status: 200, html: theme.render(template, ctx)?, lang, content_type: HTML })
}

/// The 404 page in `lang`.
pub fn not_found(theme: &Theme, index: &SiteIndex, lang: Lang) -> Result<Rendered, RenderError> {
    let title = theme.string(lang, "not_found_title");
    let alternates = index.site.languages.iter().filter_map(|&l| Some((l, index.path_of("home", l)?))).collect();
    let base = base(theme, index, lang, &title, "", alternates, None);
    let ctx = context! { noindex => true, ..base };
    Ok(Rendered { status: 404, html: theme.render("not_found.html", ctx)?, lang, content_type: HTML })
}

fn feed_content_type(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Atom => "application/atom+xml; charset=utf-8",
        FeedFormat::Rss => "application/rss+xml; charset=utf-8",
        FeedFormat::Json => "application/feed+json; charset=utf-8",
    }
}

fn render_page(
    theme: &Theme,
    index: &SiteIndex,
    target: &Target,
    page: &Page,
    lang: Lang,
    req: &PageRequest,
) -> Result<String, RenderError> {
    let site = &index.site;
    let text = &page.text[&lang];
    let mut alternates = index.alternates(target);
    let mut notes = Notes::default();
    notes.cite(&page.sources);
    let mut extra = BTreeMap::<&str, Value>::new();
    match page.template {
        Template::Home => {
            let quotes: Vec<Value> = site
                .people
                .iter()
                .filter_map(|p| p.statements.iter().find(|s| s.quote.is_some()).map(|s| (p, s)))
                .take(3)
                .map(|(p, s)| {
                    notes.cite(&s.sources);
                    context! { person => to_value(p), statement => to_value(s) }
                })
                .collect();
            let latest: Vec<&crate::content::NewsPost> = site.news.iter().take(3).collect();
            extra.insert("quotes", Value::from(quotes));
            extra.insert("latest", to_value(&latest));
        }
        Template::Timeline => {
            let mut years: BTreeMap<i32, Vec<Value>> = BTreeMap::new();
            for e in &site.timeline {
                notes.cite(&e.sources);
                let year = e.date.map_or(0, |d| d.year);
                years.entry(year).or_default().push(to_value(e));
            }
            let years: Vec<Value> = years.into_iter().map(|(year, events)| context! { year, events }).collect();
            extra.insert("years", Value::from(years));
            extra.insert(
                "also_on",
                also_on(index, site.timeline.iter().map(|e| (&e.key, &e.meta)), ItemKind::Timeline, lang),
            );
            extra.insert("press_by_key", by_key(site.press.iter().map(|p| (&p.key, p))));
            extra.insert("documents_by_key", by_key(site.documents.iter().map(|p| (&p.key, p))));
            extra.insert("media_by_key", by_key(site.media.iter().map(|p| (&p.key, p))));
        }
        Template::Evidence => {
            for e in &site.evidence {
                notes.cite(&e.sources);
            }
            extra.insert("items", to_value(&site.evidence));
        }
        Template::Voices => {
            for p in &site.people {
                notes.cite(&p.sources);
                for s in &p.statements {
                    notes.cite(&s.sources);
                }
            }
            extra.insert("people", to_value(&site.people));
        }
        Template::Press => {
            let reports: Vec<_> =
                site.press.iter().filter(|p| in_year(p, req.year) && of_kind(p, req.kind.as_deref())).collect();
            for r in &reports {
                notes.cite(&r.sources);
            }
            let suffix = filter_path(req);
            for (_, path) in &mut alternates {
                path.push_str(&suffix);
            }
            let (year_links, kind_links) = press_filters(index, page, lang, req);
            extra.insert("also_on", also_on(index, reports.iter().map(|r| (&r.key, &r.meta)), ItemKind::Press, lang));
            extra.insert("reports", to_value(&reports));
            extra.insert("year_links", year_links);
            extra.insert("kind_links", kind_links);
            extra.insert("filtered", Value::from(req.year.is_some() || req.kind.is_some()));
        }
        Template::Film => {
            let films: Vec<_> = site.press.iter().filter(|p| p.kind == "film").collect();
            for f in &films {
                notes.cite(&f.sources);
            }
            extra.insert("films", to_value(&films));
            extra.insert("media_items", to_value(&site.media));
        }
        Template::Books => {
            for b in &site.books {
                notes.cite(&b.sources);
            }
            extra.insert("books", to_value(&site.books));
        }
        Template::News => {
            let (current, pages) = (req.page, index.news_pages());
            let posts: Vec<_> = site.news.iter().skip((current - 1) * NEWS_PER_PAGE).take(NEWS_PER_PAGE).collect();
            let query = |n: usize| if n == 1 { String::new() } else { format!("/page/{n}") };
            for (_, path) in &mut alternates {
                path.push_str(&query(current));
            }
            let numbers: Vec<Value> = page_numbers(current, pages)
                .into_iter()
                .map(|n| match n {
                    Some(n) => context! { n, query => query(n), current => n == current },
                    None => Value::from(()),
                })
                .collect();
            extra.insert("posts", to_value(&posts));
            extra.insert(
                "pager",
                context! {
                    base => index.path_of(&page.key, lang),
                    page => current,
                    pages,
                    prev => (current > 1).then(|| query(current - 1)),
                    next => (current < pages).then(|| query(current + 1)),
                    numbers,
                },
            );
        }
        Template::Search => {
            let q = req.q.as_deref().unwrap_or("").trim();
            let results = if q.is_empty() {
                search::Results::default()
            } else {
                index.search().search(lang, q, req.kind.as_deref(), req.page)
            };
            let query_string = |page: usize| {
                let mut s = format!("?q={}", form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
                if let Some(k) = &req.kind {
                    s.push_str(&format!("&type={k}"));
                }
                if page > 1 {
                    s.push_str(&format!("&page={page}"));
                }
                s
            };
            if !q.is_empty() {
                for (_, path) in &mut alternates {
                    path.push_str(&query_string(req.page));
                }
            }
            let prev = (results.page > 1).then(|| query_string(results.page - 1));
            let next = (results.page < results.pages).then(|| query_string(results.page + 1));
            extra.insert("query", Value::from(q));
            extra.insert("kinds", to_value(search::KINDS));
            extra.insert("kind", to_value(&req.kind));
            extra.insert("results", to_value(&results));
            extra.insert("prev", to_value(prev));
            extra.insert("next", to_value(next));
            extra.insert("noindex", Value::from(true));
        }
        Template::Privacy => {
            extra.insert("operator", to_value(&site.operator));
        }
        Template::Newsletter => {
            extra.insert("archive", to_value(index.newsletter_archive(lang)));
        }
        Template::Page | Template::Contact | Template::MyData => {}
    }
    if let Some(petition) = page.petition.as_deref().and_then(|k| site.petition(k)) {
        notes.cite(&petition.sources);
        extra.insert("petition", to_value(petition));
    }
    extra.insert("attached_media", attached_media(site, &page.media, &mut notes));
    extra.insert("section", section(index, page, lang));
    if let Some(form) = &req.form {
        extra.insert("form", form.to_value(theme, lang));
    }

    let (n, note_list) = notes.into_values(site, lang, index);
    let base = base(theme, index, lang, &text.title, &text.summary, alternates, Some(&page.key));
    let share = share_image(theme, index, page.image.as_deref());
    let jsonld = jsonld::for_target(index, target, &site_card(theme, index), &share.url);
    let ctx = context! {
        jsonld,
        share_image => share.url,
        share_image_size => share.size,
        page => to_value(page),
        n,
        notes => note_list,
        ..Value::from(extra),
    };
    let ctx = context! { ..ctx, ..base };
    theme.render(page.template.file(), ctx)
}

fn in_year(p: &&PressReport, year: Option<i32>) -> bool {
    year.is_none_or(|y| p.date.is_some_and(|d| d.year == y))
}

fn of_kind(p: &&PressReport, kind: Option<&str>) -> bool {
    kind.is_none_or(|k| p.kind == k)
}

/// Per key, the other sites that show the item too, for items whose
/// editors ask for "also on …".
fn also_on<'a>(
    index: &SiteIndex,
    items: impl Iterator<Item = (&'a String, &'a crate::content::Meta)>,
    kind: ItemKind,
    lang: Lang,
) -> Value {
    let places: BTreeMap<&String, Vec<Value>> = items
        .filter(|(_, meta)| meta.also_on)
        .map(|(key, _)| {
            let sites = index.also_on(kind, key, lang).into_iter().map(|(name, url)| context! { name, url }).collect();
            (key, sites)
        })
        .collect();
    to_value(&places)
}

/// The press page's filters as links, not a form: each filtered list has
/// an address (a static copy has it too), and only lists with reports are
/// linked. The years (of the kind chosen) and the kinds (of the year).
fn press_filters(index: &SiteIndex, page: &Page, lang: Lang, req: &PageRequest) -> (Value, Value) {
    let site = &index.site;
    let base = index.path_of(&page.key, lang).unwrap_or_default();
    let link = |year: Option<i32>, kind: Option<&str>, label: Value| {
        let filter = PageRequest { year, kind: kind.map(str::to_owned), page: 1, ..PageRequest::default() };
        let current = year == req.year && kind == req.kind.as_deref();
        context! { label, path => format!("{base}{}", filter_path(&filter)), current }
    };
    let kind = req.kind.as_deref();
    let years: BTreeSet<i32> =
        site.press.iter().filter(|p| of_kind(p, kind)).filter_map(|p| p.date.map(|d| d.year)).collect();
    let year_links: Vec<Value> = std::iter::once(link(None, kind, Value::from(())))
        .chain(years.iter().rev().map(|&y| link(Some(y), kind, Value::from(y))))
        .collect();
    let kinds = PRESS_KINDS.iter().filter(|k| site.press.iter().any(|p| p.kind == **k && in_year(&p, req.year)));
    let kind_links: Vec<Value> = std::iter::once(link(req.year, None, Value::from(())))
        .chain(kinds.map(|k| link(req.year, Some(k), Value::from(*k))))
        .collect();
    (Value::from(year_links), Value::from(kind_links))
}

/// The videos and audio an item shows below its body, their sources cited.
fn attached_media(site: &Site, keys: &[String], notes: &mut Notes) -> Value {
    let items: Vec<_> = keys.iter().filter_map(|k| site.media.iter().find(|m| &m.key == k)).collect();
    for m in &items {
        notes.cite(&m.sources);
    }
    to_value(&items)
}

/// Where a page sits among pages: the pages above it (the top first) and
/// the pages under it, each as title and path.
fn section(index: &SiteIndex, page: &Page, lang: Lang) -> Value {
    let link = |p: &Page| {
        let title = p.text.get(&lang).map(|t| t.title.as_str()).unwrap_or_default();
        context! { title, path => index.path_of(&p.key, lang), summary => p.text.get(&lang).map(|t| t.summary.as_str()) }
    };
    let mut parents = Vec::new();
    let mut up = page.parent.as_deref();
    while let Some(p) = up.and_then(|k| index.site.page(k)) {
        if parents.len() > index.site.pages.len() {
            break; // a loop (the validator refuses them; never hang on one)
        }
        parents.insert(0, link(p));
        up = p.parent.as_deref();
    }
    let children: Vec<Value> =
        index.site.pages.iter().filter(|p| p.parent.as_deref() == Some(page.key.as_str())).map(link).collect();
    context! { parents, children }
}

/// The page numbers a pager links: the first, the last, and two on each
/// side of the current one; `None` where numbers are left out.
fn page_numbers(current: usize, pages: usize) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || n.abs_diff(current) <= 2 {
            out.push(Some(n));
        } else if out.last() != Some(&None) {
            out.push(None);
        }
    }
    out
}

/// The context every page shares: language, site, menu, alternates, assets.
pub(super) fn base(
    theme: &Theme,
    index: &SiteIndex,
    lang: Lang,
    title: &str,
    description: &str,
    alternates: Vec<(Lang, String)>,
    current: Option<&str>,
) -> Value {
    let site = &index.site;
    let menu: Vec<Value> = site
        .pages
        .iter()
        .filter(|p| p.menu_position.is_some())
        .filter_map(|p| {
            let t = p.text.get(&lang)?;
            let path = index.path_of(&p.key, lang)?;
            Some(context! { title => t.title.as_str(), path, current => current == Some(p.key.as_str()) })
        })
        .collect();
    let links: BTreeMap<&str, String> =
        site.pages.iter().filter_map(|p| Some((p.key.as_str(), index.path_of(&p.key, lang)?))).collect();
    let canonical = alternates.iter().find(|(l, _)| *l == lang).map(|(_, p)| index.absolute(p));
    let other_locales: Vec<&str> = alternates.iter().filter(|(l, _)| *l != lang).map(|(l, _)| locale(*l)).collect();
    let alternates: Vec<Value> = alternates
        .into_iter()
        .map(|(l, path)| {
            let url = index.absolute(&path);
            context! { lang => l.code(), name => l.native_name(), path, url, current => l == lang }
        })
        .collect();
    // Feeds advertised in every page's head, in the page's language.
    let mut feeds = Vec::new();
    for key in ["news", "press"] {
        if let (Some(path), Some(page)) = (index.path_of(key, lang), site.page(key)) {
            let title = page.text.get(&lang).map(|t| t.title.clone()).unwrap_or_default();
            for format in FeedFormat::ALL {
                let url = index.absolute(&format!("{path}/{}", format.file_name()));
                feeds.push(context! { title => title.as_str(), url, media_type => format.media_type() });
            }
        }
    }
    context! {
        lang => lang.code(),
        t => theme.strings(lang),
        site => to_value(site.text.get(&lang)),
        contact => to_value(&site.contact),
        title,
        description,
        menu,
        links,
        alternates,
        canonical,
        feeds,
        locale => locale(lang),
        other_locales,
        share_image => site_card(theme, index),
        share_image_size => SITE_CARD_SIZE,
        assets => to_value(theme.assets.urls()),
        is_home => current == Some("home"),
    }
}

/// A share card's image: the item's own, or the site's (whose size we know).
struct ShareImage {
    url: String,
    size: Option<(u32, u32)>,
}

fn share_image(theme: &Theme, index: &SiteIndex, item_image: Option<&str>) -> ShareImage {
    match item_image {
        Some(name) => ShareImage { url: index.absolute(&format!("/files/{name}")), size: None },
        None => ShareImage { url: site_card(theme, index), size: Some(SITE_CARD_SIZE) },
    }
}

/// The size of the site's card, `assets/share.png`.
const SITE_CARD_SIZE: (u32, u32) = (1200, 630);

/// The site's own share card, also its logo in structured data.
fn site_card(theme: &Theme, index: &SiteIndex) -> String {
    index.absolute(&theme.assets.url("share.png"))
}

/// The Open Graph locale of a language.
fn locale(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en_US",
        Lang::De => "de_DE",
    }
}

fn by_key<'a, T: serde::Serialize + 'a>(items: impl Iterator<Item = (&'a String, &'a T)>) -> Value {
    let map: BTreeMap<&String, &T> = items.collect();
    to_value(&map)
}

/// The part of a press or news list's address after the page's own path:
/// `/2019`, `/film`, `/2019/film`, `/page/3`. Every filtered list has an
/// address of its own, so a static copy of the site has it as a file.
pub fn filter_path(req: &PageRequest) -> String {
    let mut out = String::new();
    // Page 0 (out of range) keeps a key of its own: the 404 page.
    if req.q.is_none() && req.page != 1 {
        out.push_str(&format!("/page/{}", req.page));
    }
    if let Some(y) = req.year {
        out.push_str(&format!("/{y}"));
    }
    if let Some(k) = &req.kind {
        out.push('/');
        out.push_str(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagers_link_the_ends_and_the_neighbourhood() {
        assert_eq!(page_numbers(1, 1), [Some(1)]);
        assert_eq!(page_numbers(1, 4), [Some(1), Some(2), Some(3), Some(4)]);
        let far = page_numbers(10, 500);
        assert_eq!(far, [Some(1), None, Some(8), Some(9), Some(10), Some(11), Some(12), None, Some(500)]);
    }
}
