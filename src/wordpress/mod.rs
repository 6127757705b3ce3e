//! `casefile import-wordpress`: a WordPress export (WXR) merged into a
//! site as Casefile items, then imported by the bundle import's rules
//! (`store::content::import`: matched by key, so a second run duplicates
//! nothing).
//!
//! What becomes what: posts are news, pages are pages (their parents kept),
//! categories and tags the posts' topics, authors people (drafts), PDF
//! attachments documents (drafts: the export holds no files), YouTube
//! embeds click-to-load videos, old permalinks and archive addresses
//! redirects. Every item cites one source: the old site. What cannot be
//! kept is said in the report, with the reason.

mod html;
mod wxr;
mod xml;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::{Result, bail};

use crate::content::{
    DescribedText, Document, Lang, Localized, MediaItem, Meta, NewsPost, Page, PageText, PartialDate, Person,
    PersonText, Redirect, Site, SiteText, Source, Status, Template, slug,
};
pub use wxr::{Export, read};

/// Key of the source every imported item cites: the old site.
const SOURCE_KEY: &str = "wp-site";

/// What the importer was told.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// The language of items that do not name theirs (Polylang does);
    /// default: the site's default language.
    pub lang: Option<Lang>,
}

/// The site with the export merged in, and what the report says.
#[derive(Debug)]
pub struct Merged {
    pub site: Site,
    /// One line per thing imported differently or not at all.
    pub notes: Vec<String>,
    /// Items made from the export, by kind.
    pub counts: BTreeMap<&'static str, usize>,
}

/// Merges `export` into `site` (or into a new site made from the export's
/// title and language). Refused as a whole when items are in languages
/// the site lacks or the result breaks a rule of the content model.
pub fn merge(export: &Export, site: Option<Site>, options: Options, now: i64) -> Result<Merged> {
    let default = options.lang.or_else(|| export.language.get(..2).and_then(|c| c.parse().ok())).unwrap_or_default();
    let site = match site {
        Some(site) => site,
        None => new_site(export, &languages_of(export, default)),
    };
    let mut m = Merger::new(export, site, options);
    m.check_languages()?;
    m.source();
    m.authors();
    m.posts(now);
    m.attachments();
    m.archives();
    m.others();
    let problems = m.site.problems();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| p.0.clone()).collect();
        bail!("the export would make content that breaks these rules; nothing was imported:\n{}", list.join("\n"));
    }
    Ok(Merged { site: m.site, notes: m.notes, counts: m.counts })
}

/// Every language the export's items are in (Polylang), the default first.
fn languages_of(export: &Export, default: Lang) -> Vec<Lang> {
    let mut langs = vec![default];
    for post in &export.posts {
        for (_, code, _) in post.terms_in("language") {
            if let Ok(l) = code.parse::<Lang>()
                && !langs.contains(&l)
            {
                langs.push(l);
            }
        }
    }
    langs
}

/// A site for an empty data folder, in `langs` (the default first): the
/// old site's name and tagline, a home page and a news page.
fn new_site(export: &Export, langs: &[Lang]) -> Site {
    let name = if export.title.is_empty() { "Campaign".to_owned() } else { export.title.clone() };
    let key = slug(&name).unwrap_or_else(|| "site".into());
    let mut site = Site { key, languages: langs.to_vec(), ..Site::default() };
    site.operator.name = name.clone();
    let news_slug = |l: Lang| if l == Lang::De { "neuigkeiten" } else { "news" };
    let news_title = |l: Lang| if l == Lang::De { "Neuigkeiten" } else { "News" };
    for &l in langs {
        site.text
            .insert(l, SiteText { name: name.clone(), tagline: export.description.clone(), footer: String::new() });
    }
    let page = |key: &str, template, text: Localized<PageText>| Page {
        key: key.into(),
        template,
        menu_position: Some(if template == Template::Home { 0 } else { 10 }),
        text,
        ..Page::default()
    };
    let home = langs
        .iter()
        .map(|&l| (l, PageText { title: name.clone(), summary: export.description.clone(), ..PageText::default() }));
    let news = langs
        .iter()
        .map(|&l| (l, PageText { slug: news_slug(l).into(), title: news_title(l).into(), ..PageText::default() }));
    site.pages.push(page("home", Template::Home, home.collect()));
    site.pages.push(page("news", Template::News, news.collect()));
    site
}

/// The state of one merge: the site being filled, what is taken, the report.
struct Merger<'a> {
    export: &'a Export,
    site: Site,
    options: Options,
    /// WordPress post id → the key it became (pages and posts).
    keys: HashMap<u64, String>,
    /// `(namespace, lang, slug)` → key, for slugs the site's items hold.
    slugs: HashMap<(&'static str, Lang, String), String>,
    notes: Vec<String>,
    counts: BTreeMap<&'static str, usize>,
    /// Old address → new address.
    redirects: BTreeMap<String, String>,
}

impl<'a> Merger<'a> {
    fn new(export: &'a Export, site: Site, options: Options) -> Merger<'a> {
        let mut slugs = HashMap::new();
        for p in &site.pages {
            for (l, t) in &p.text {
                slugs.insert(("page", *l, t.slug.clone()), p.key.clone());
            }
        }
        for n in &site.news {
            for (l, t) in &n.text {
                slugs.insert(("news", *l, t.slug.clone()), n.key.clone());
            }
        }
        let (keys, notes, counts, redirects) = Default::default();
        Merger { export, site, options, keys, slugs, notes, counts, redirects }
    }

    /// The language of a post: Polylang's, or the one given, or the site's.
    fn lang_of(&self, post: &wxr::Post) -> Result<Lang, String> {
        match post.terms_in("language").next() {
            Some((_, code, _)) => code.parse(),
            None => Ok(self.options.lang.unwrap_or_else(|| self.site.default_lang())),
        }
    }

    fn check_languages(&self) -> Result<()> {
        let mut problems = Vec::new();
        for post in self.export.posts.iter().filter(|p| matches!(p.kind.as_str(), "post" | "page")) {
            match self.lang_of(post) {
                Ok(l) if self.site.languages.contains(&l) => {}
                Ok(l) => problems
                    .push(format!("`{}` (id {}) is in {l}, which the site is not written in", post.title, post.id)),
                Err(e) => problems.push(format!("`{}` (id {}): {e}", post.title, post.id)),
            }
        }
        if !problems.is_empty() {
            bail!("nothing was imported:\n{}", problems.join("\n"));
        }
        Ok(())
    }

    fn count(&mut self, kind: &'static str) {
        *self.counts.entry(kind).or_default() += 1;
    }

    fn each_lang<T>(&self, f: impl Fn(Lang) -> T) -> Localized<T> {
        self.site.languages.iter().map(|&l| (l, f(l))).collect()
    }

    /// The old site, cited by everything imported.
    fn source(&mut self) {
        let host = self.export.link.split("://").nth(1).unwrap_or(&self.export.link).to_owned();
        let title = &self.export.title;
        let citation = self.each_lang(|l| match l {
            Lang::De => format!("{title}: die frühere Website ({host}), aus ihrem WordPress-Export übernommen"),
            Lang::En => format!("{title}: the former website ({host}), from its WordPress export"),
        });
        let url = self.export.link.starts_with("http").then(|| self.export.link.clone());
        let source = Source { key: SOURCE_KEY.into(), kind: "url".into(), url, press: None, document: None, citation };
        self.site.sources.retain(|s| s.key != SOURCE_KEY);
        self.site.sources.push(source);
    }

    /// Authors become people, as drafts: an editor decides whether the
    /// campaign's public pages name them.
    fn authors(&mut self) {
        let export = self.export;
        let wrote: HashSet<&str> = export
            .posts
            .iter()
            .filter(|p| matches!(p.kind.as_str(), "post" | "page"))
            .map(|p| p.creator.as_str())
            .collect();
        for a in export.authors.iter().filter(|a| wrote.contains(a.login.as_str())) {
            let Some(login) = slug(&a.login) else { continue };
            let key = format!("wp-author-{login}");
            // An earlier run's person is the editors' now (published, given
            // a role): left as it is.
            if self.site.people.iter().any(|p| p.key == key) {
                continue;
            }
            let name = if a.display_name.is_empty() { a.login.clone() } else { a.display_name.clone() };
            let text = self.each_lang(|l| PersonText {
                role: match l {
                    Lang::De => "Schrieb für die frühere Website".into(),
                    Lang::En => "Wrote for the former website".into(),
                },
                body: String::new(),
            });
            let meta = Meta { status: Status::Draft, ..Meta::default() };
            let person = Person {
                key: key.clone(),
                name,
                position: 1000,
                sources: vec![SOURCE_KEY.into()],
                statements: Vec::new(),
                meta,
                text,
            };
            self.site.people.retain(|p| p.key != key);
            self.site.people.push(person);
            self.count("people (drafts)");
        }
    }
}

/// A WordPress time (`2020-05-01 10:00:00`, UTC) as unix seconds.
fn unix(time: &str) -> Option<i64> {
    let t: jiff::civil::DateTime = time.trim().replace(' ', "T").parse().ok()?;
    Some(t.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_second())
}

/// A WordPress time's day.
fn day(time: &str) -> Option<PartialDate> {
    let date = time.get(..10)?;
    let d: PartialDate = date.parse().ok()?;
    (d.year > 0).then_some(d)
}

/// The path of an address (`https://x.example/a/b/` → `/a/b`).
fn path_of(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    if url.query().is_some() {
        return None; // `?p=12`: plain permalinks, nothing a path can match
    }
    let path = url.path().trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_owned())
}

/// A summary: the excerpt, or the text's first paragraph.
fn summary(excerpt: &str, markdown: &str) -> String {
    let text = if excerpt.trim().is_empty() {
        let first = markdown.split("\n\n").find(|p| !p.trim_start().starts_with('#')).unwrap_or("");
        crate::markdown::to_text(first)
    } else {
        crate::markdown::to_text(&html::to_markdown(excerpt).markdown)
    };
    if text.chars().count() <= 200 {
        return text;
    }
    let cut: String = text.chars().take(200).collect();
    format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a))
}

impl Merger<'_> {
    /// Posts and pages, grouped with their translations (Polylang).
    fn posts(&mut self, now: i64) {
        let export = self.export;
        let mut groups: Vec<Vec<&wxr::Post>> = Vec::new();
        let mut by_group: HashMap<&str, usize> = HashMap::new();
        for post in export.posts.iter().filter(|p| matches!(p.kind.as_str(), "post" | "page")) {
            if matches!(post.status.as_str(), "trash" | "auto-draft" | "inherit") {
                self.notes.push(format!(
                    "{} `{}` (id {}): not imported (status {})",
                    post.kind, post.title, post.id, post.status
                ));
                continue;
            }
            let group = post.terms_in("post_translations").next().map(|(_, g, _)| g.as_str());
            match group.and_then(|g| by_group.get(g)) {
                Some(&i) => groups[i].push(post),
                None => {
                    by_group.extend(group.map(|g| (g, groups.len())));
                    groups.push(vec![post]);
                }
            }
        }
        // Keys first, so that a page can name a parent that comes later.
        let mut taken: HashSet<(String, String)> = HashSet::new();
        let mut keyed = Vec::new();
        for group in groups {
            let default = self.site.default_lang();
            let main_at = group.iter().position(|p| self.lang_of(p) == Ok(default)).unwrap_or(0);
            let main = group[main_at];
            let base = slug(&main.name).or_else(|| slug(&main.title)).unwrap_or_else(|| main.id.to_string());
            let mut key = format!("wp-{base}");
            if !taken.insert((main.kind.clone(), key.clone())) {
                key = format!("wp-{base}-{}", main.id);
                taken.insert((main.kind.clone(), key.clone()));
            }
            for p in &group {
                self.keys.insert(p.id, key.clone());
            }
            keyed.push((key, main_at, group));
        }
        for (key, main_at, group) in keyed {
            self.post(&key, &group, main_at, now);
        }
    }

    /// One post or page with its translations.
    fn post(&mut self, key: &str, group: &[&wxr::Post], main_at: usize, now: i64) {
        let main = group[main_at];
        let (ns, kind) = if main.kind == "page" { ("page", "pages") } else { ("news", "news") };
        let mut texts: Localized<PageText> = Localized::new();
        let mut videos: Vec<String> = Vec::new();
        for p in group {
            let Ok(lang) = self.lang_of(p) else { continue };
            let converted = html::to_markdown(&p.content);
            for line in &converted.dropped {
                self.notes.push(format!("{ns} `{key}` ({lang}, id {}): removed {line}", p.id));
            }
            if converted.images > 0 {
                *self.counts.entry("images linked at their old address").or_default() += converted.images;
            }
            for v in converted.videos {
                if !videos.iter().any(|x| html::youtube_id(x) == html::youtube_id(&v)) {
                    videos.push(v);
                }
            }
            let base = slug(&p.name).or_else(|| slug(&p.title)).unwrap_or_else(|| key.trim_start_matches("wp-").into());
            let slug = self.claim_slug(ns, lang, &base, key, p.id);
            let summary = summary(&p.excerpt, &converted.markdown);
            texts.insert(
                lang,
                PageText { slug, title: p.title.clone(), summary, body: converted.markdown, old_slugs: Vec::new() },
            );
        }
        let main_lang = self.lang_of(main).unwrap_or_default();
        for &l in &self.site.languages.clone() {
            if !texts.contains_key(&l) {
                let mut text = texts[&main_lang].clone();
                text.slug = self.claim_slug(ns, l, &text.slug, key, main.id);
                texts.insert(l, text);
                self.notes.push(format!(
                    "{ns} `{key}`: no {l} text in the export; the {main_lang} text stands in for it until translated"
                ));
            }
        }
        let meta = self.meta(main, ns, key, now);
        let public = meta.status == Status::Published;
        let media = self.videos(key, &videos, &texts, &meta, day(&main.date));
        if public {
            for p in group {
                let (Ok(lang), Some(old)) = (self.lang_of(p), path_of(&p.link)) else { continue };
                let new = self.path(ns, lang, &texts[&lang].slug);
                self.redirects.insert(old, new);
            }
        }
        self.push_item(ns, key, main, media, meta, texts);
        self.count(kind);
    }

    /// The page or news post made from `main` (and its translations).
    fn push_item(
        &mut self,
        ns: &str,
        key: &str,
        main: &wxr::Post,
        media: Vec<String>,
        meta: Meta,
        texts: Localized<PageText>,
    ) {
        if ns == "page" {
            let parent = match main.parent {
                0 => None,
                id => match self.keys.get(&id) {
                    Some(k) if k != key => Some(k.clone()),
                    _ => {
                        self.notes.push(format!("page `{key}`: its parent (id {id}) is not imported; it stands alone"));
                        None
                    }
                },
            };
            // An earlier run's page: what WordPress has replaces its parts;
            // what editors gave it since (a template, a menu place, an
            // image, a petition, more sources) stays.
            let page = match self.site.pages.iter().find(|p| p.key == key) {
                Some(old) => Page { parent, media, meta, text: texts, ..old.clone() },
                None => Page {
                    key: key.into(),
                    template: Template::Page,
                    sources: vec![SOURCE_KEY.into()],
                    parent,
                    media,
                    meta,
                    text: texts,
                    ..Page::default()
                },
            };
            self.site.pages.retain(|p| p.key != key);
            self.site.pages.push(page);
        } else {
            let tags = main
                .terms
                .iter()
                .filter(|(d, n, _)| (d == "category" && n != "uncategorized") || d == "post_tag")
                .map(|(_, _, name)| name.clone())
                .collect();
            let date = day(&main.date).or_else(|| day(&main.modified_gmt));
            // An earlier run's post keeps the image and sources editors gave it.
            let (image, sources) = match self.site.news.iter().find(|p| p.key == key) {
                Some(old) => (old.image.clone(), old.sources.clone()),
                None => (None, vec![SOURCE_KEY.into()]),
            };
            let post = NewsPost { key: key.into(), date, image, sources, tags, media, meta, text: texts };
            self.site.news.retain(|p| p.key != key);
            self.site.news.push(post);
        }
    }

    /// Status and times: scheduled posts keep their time, private ones
    /// become drafts.
    fn meta(&mut self, post: &wxr::Post, ns: &str, key: &str, now: i64) -> Meta {
        let at = || unix(&post.date_gmt).or_else(|| unix(&post.date));
        let updated_at = unix(&post.modified_gmt).filter(|&t| t > 0).unwrap_or(now);
        let (status, published_at) = match post.status.as_str() {
            "publish" | "future" if post.password => {
                self.notes.push(format!("{ns} `{key}`: was protected by a password; imported as a draft"));
                (Status::Draft, None)
            }
            "publish" => (Status::Published, None),
            "future" => (Status::Published, at()),
            "private" => {
                self.notes.push(format!("{ns} `{key}`: was private; imported as a draft"));
                (Status::Draft, None)
            }
            _ => (Status::Draft, None),
        };
        Meta { status, published_at, created_at: 0, updated_at, also_on: false }
    }

    /// A slug not yet used by another item in this language.
    fn claim_slug(&mut self, ns: &'static str, lang: Lang, base: &str, key: &str, id: u64) -> String {
        let mut slug = base.to_owned();
        if self.slugs.get(&(ns, lang, slug.clone())).is_some_and(|owner| owner != key) {
            slug = format!("{base}-{id}");
            self.notes.push(format!("{ns} `{key}` ({lang}): the address `{base}` is taken; it is `{slug}`"));
        }
        self.slugs.insert((ns, lang, slug.clone()), key.into());
        slug
    }

    /// The path of a page or post on this site.
    fn path(&self, ns: &str, lang: Lang, slug: &str) -> String {
        let page = crate::site::page_path(&self.site, lang, slug);
        if ns == "page" {
            return page;
        }
        let news = self.site.page_with(Template::News).and_then(|p| p.text.get(&lang)).map(|t| t.slug.clone());
        format!("{}/{slug}", crate::site::page_path(&self.site, lang, &news.unwrap_or_default()))
    }

    /// Click-to-load videos for the YouTube embeds of an item.
    fn videos(
        &mut self,
        key: &str,
        urls: &[String],
        texts: &Localized<PageText>,
        meta: &Meta,
        date: Option<PartialDate>,
    ) -> Vec<String> {
        let mut keys = Vec::new();
        for (n, url) in urls.iter().enumerate() {
            let Some(id) = html::youtube_id(url) else { continue };
            let media_key = format!("{key}-video-{}", n + 1);
            let text = texts
                .iter()
                .map(|(l, t)| (*l, DescribedText { title: t.title.clone(), description: String::new() }))
                .collect();
            let item = MediaItem {
                key: media_key.clone(),
                kind: "video".into(),
                provider: Some("youtube".into()),
                embed_url: Some(format!("https://www.youtube-nocookie.com/embed/{id}")),
                page_url: Some(format!("https://www.youtube.com/watch?v={id}")),
                date,
                sources: vec![SOURCE_KEY.into()],
                meta: meta.clone(),
                text,
            };
            self.site.media.retain(|m| m.key != media_key);
            self.site.media.push(item);
            self.count("videos");
            keys.push(media_key);
        }
        keys
    }
}

impl Merger<'_> {
    /// PDFs become documents (drafts until their file is added: an export
    /// holds no files); images stay where they were, linked from the text.
    fn attachments(&mut self) {
        let export = self.export;
        let (mut images, mut other) = (0, Vec::new());
        for a in export.posts.iter().filter(|p| p.kind == "attachment") {
            let file = a.attachment_url.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
            let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
            match ext {
                "pdf" => self.document(a, &file),
                "jpg" | "jpeg" | "png" | "gif" | "webp" | "svg" | "avif" => images += 1,
                _ => other.push(file),
            }
        }
        if images > 0 {
            self.notes.push(format!(
                "{images} image attachment{}: not copied (an export holds no files); texts link them at their old address, featured images are left out",
                if images == 1 { "" } else { "s" }
            ));
        }
        for file in other {
            self.notes.push(format!("attachment {file}: not imported (only PDFs become documents)"));
        }
    }

    fn document(&mut self, a: &wxr::Post, file: &str) {
        let Some(base) = slug(file.trim_end_matches(".pdf")) else { return };
        let key = format!("wp-doc-{base}");
        // An earlier run's document is the editors' now (its file added,
        // published): left as it is.
        if self.site.documents.iter().any(|d| d.key == key) {
            return;
        }
        let description = crate::markdown::to_text(
            &html::to_markdown(if a.excerpt.is_empty() { &a.content } else { &a.excerpt }).markdown,
        );
        let title = if a.title.is_empty() { file.to_owned() } else { a.title.clone() };
        let text = self.each_lang(|_| DescribedText { title: title.clone(), description: description.clone() });
        let meta = Meta { status: Status::Draft, ..Meta::default() };
        let doc = Document {
            key: key.clone(),
            media_type: Some("application/pdf".into()),
            date: day(&a.date),
            sources: vec![SOURCE_KEY.into()],
            meta,
            text,
            ..Document::default()
        };
        self.site.documents.retain(|d| d.key != key);
        self.site.documents.push(doc);
        self.count("documents (drafts)");
        self.notes.push(format!(
            "document `{key}`: a draft until its file is added ({} was not in the export)",
            a.attachment_url
        ));
    }

    /// Category, tag and author archives lead to the news page.
    fn archives(&mut self) {
        let export = self.export;
        if !export.posts.iter().any(|p| matches!(p.kind.as_str(), "post" | "page") && path_of(&p.link).is_some()) {
            return; // plain permalinks: archives were queries too
        }
        let base = path_of(&export.link).unwrap_or_default();
        let Some(news) = self.site.page_with(Template::News).and_then(|p| p.text.get(&self.site.default_lang())) else {
            return;
        };
        let news = crate::site::page_path(&self.site, self.site.default_lang(), &news.slug);
        let parents: HashMap<&str, &str> =
            export.category_parents.iter().map(|(c, p)| (c.as_str(), p.as_str())).collect();
        let mut archives = BTreeSet::new();
        for (category, _) in &export.category_parents {
            let mut chain = vec![category.as_str()];
            while let Some(&up) = parents.get(chain[0]).filter(|p| !p.is_empty() && chain.len() < 10) {
                chain.insert(0, up);
            }
            archives.insert(format!("{base}/category/{}", chain.join("/")));
        }
        for post in &export.posts {
            for (_, tag, _) in post.terms_in("post_tag") {
                archives.insert(format!("{base}/tag/{tag}"));
            }
        }
        for a in &export.authors {
            archives.insert(format!("{base}/author/{}", a.login));
        }
        for old in archives {
            self.redirects.entry(old).or_insert_with(|| news.clone());
        }
    }

    /// Comments, menus and other kinds the site has no place for; then the
    /// redirects, each checked.
    fn others(&mut self) {
        let export = self.export;
        let comments: usize = export.posts.iter().map(|p| p.comments).sum();
        if comments > 0 {
            self.notes.push(format!(
                "{comments} comment{}: not imported (Casefile has no comments)",
                if comments == 1 { "" } else { "s" }
            ));
        }
        let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
        for p in export.posts.iter().filter(|p| !matches!(p.kind.as_str(), "post" | "page" | "attachment")) {
            *skipped.entry(p.kind.as_str()).or_default() += 1;
        }
        for (kind, n) in skipped {
            let why = match kind {
                "nav_menu_item" => "menus are set per page in Casefile",
                "wp_block" | "wp_template" | "wp_template_part" | "wp_global_styles" | "wp_navigation" => {
                    "theme and editor data"
                }
                _ => "a type Casefile does not have",
            };
            self.notes.push(format!("{n} item{} of type {kind}: not imported ({why})", if n == 1 { "" } else { "s" }));
        }
        if self.counts.contains_key("pages") {
            self.notes.push("imported pages are not in the main menu: give them a menu position in the admin".into());
        }
        self.relink();
        let langs = self.site.languages.clone();
        for (from, to) in std::mem::take(&mut self.redirects) {
            if from == to {
                continue;
            }
            let redirect = Redirect { from: from.clone(), to, status: 301 };
            match crate::content::ItemRef::Redirect(&redirect).check(&langs) {
                Ok(()) => {
                    self.site.redirects.retain(|r| r.from != from);
                    self.site.redirects.push(redirect);
                    self.count("redirects");
                }
                Err(e) => self.notes.push(format!("old address {from}: no redirect ({})", e.0)),
            }
        }
    }
}

impl Merger<'_> {
    /// Links from one imported text to another lead to its new address,
    /// not through the old site.
    fn relink(&mut self) {
        let pattern = format!(r"\]\({}(/[^)\s#]*)?(#[^)\s]*)?\)", regex::escape(&self.export.link));
        let Ok(link) = regex::Regex::new(&pattern) else { return };
        let redirects = &self.redirects;
        let relink = |body: &mut String| {
            let new = link.replace_all(body, |c: &regex::Captures| {
                let old = c.get(1).map_or("", |m| m.as_str().trim_end_matches('/'));
                let fragment = c.get(2).map_or("", |m| m.as_str());
                match redirects.get(old) {
                    Some(to) => format!("]({to}{fragment})"),
                    None => c[0].to_owned(),
                }
            });
            *body = new.into_owned();
        };
        let made: HashSet<&String> = self.keys.values().collect();
        for page in self.site.pages.iter_mut().filter(|p| made.contains(&p.key)) {
            page.text.values_mut().for_each(|t| relink(&mut t.body));
        }
        for post in self.site.news.iter_mut().filter(|p| made.contains(&p.key)) {
            post.text.values_mut().for_each(|t| relink(&mut t.body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two posts Polylang links as translations, and a page in English only.
    const POLYLANG: &str = r#"<rss><channel><title>Kampagne</title><link>https://old.example</link><language>de-DE</language>
        <wp:wxr_version>1.2</wp:wxr_version>
        <item><title>Anhörung</title><link>https://old.example/de/anhoerung/</link><wp:post_id>1</wp:post_id>
          <wp:post_date>2021-02-03 14:00:00</wp:post_date><wp:post_name>anhoerung</wp:post_name><wp:status>publish</wp:status>
          <wp:post_type>post</wp:post_type><content:encoded><![CDATA[Der Text.]]></content:encoded>
          <category domain="language" nicename="de"><![CDATA[Deutsch]]></category>
          <category domain="post_translations" nicename="pll_1"><![CDATA[pll_1]]></category></item>
        <item><title>Hearing</title><link>https://old.example/en/hearing/</link><wp:post_id>2</wp:post_id>
          <wp:post_date>2021-02-03 14:00:00</wp:post_date><wp:post_name>hearing</wp:post_name><wp:status>publish</wp:status>
          <wp:post_type>post</wp:post_type><content:encoded><![CDATA[The text.]]></content:encoded>
          <category domain="language" nicename="en"><![CDATA[English]]></category>
          <category domain="post_translations" nicename="pll_1"><![CDATA[pll_1]]></category></item>
        <item><title>About</title><link>https://old.example/en/about/</link><wp:post_id>3</wp:post_id>
          <wp:post_date>2021-01-01 10:00:00</wp:post_date><wp:post_name>about</wp:post_name><wp:status>publish</wp:status>
          <wp:post_type>page</wp:post_type><content:encoded><![CDATA[About us.]]></content:encoded>
          <category domain="language" nicename="en"><![CDATA[English]]></category></item>
        </channel></rss>"#;

    #[test]
    fn polylang_translations_become_one_item_in_a_new_bilingual_site() {
        let merged = merge(&read(POLYLANG).unwrap(), None, Options::default(), 0).unwrap();
        let site = merged.site;
        assert_eq!(site.languages, [Lang::De, Lang::En], "the export's language first, then Polylang's");
        assert_eq!(site.news.len(), 1, "one post in two languages");
        let post = &site.news[0];
        assert_eq!(post.key, "wp-anhoerung", "keyed by the default language's slug");
        assert_eq!(post.text[&Lang::En].title, "Hearing");
        assert_eq!(post.text[&Lang::De].body, "Der Text.");
        let page = site.pages.iter().find(|p| p.key == "wp-about").unwrap();
        assert_eq!(page.text[&Lang::De].body, "About us.", "the English text stands in");
        assert!(merged.notes.iter().any(|n| n.contains("`wp-about`: no de text")), "{:?}", merged.notes);
        let to = |from: &str| site.redirects.iter().find(|r| r.from == from).map(|r| r.to.as_str());
        assert_eq!(to("/de/anhoerung"), Some("/neuigkeiten/anhoerung"));
        assert_eq!(to("/en/hearing"), Some("/en/news/hearing"));
        assert_eq!(to("/en/about"), None, "the new address is the old one");
    }

    #[test]
    fn items_in_a_language_the_site_lacks_are_refused() {
        let mut site = merge(&read(POLYLANG).unwrap(), None, Options::default(), 0).unwrap().site;
        site.languages = vec![Lang::De];
        for p in &mut site.pages {
            p.text.remove(&Lang::En);
        }
        let err = merge(&read(POLYLANG).unwrap(), Some(site), Options::default(), 0).unwrap_err().to_string();
        assert!(err.contains("`Hearing` (id 2) is in en, which the site is not written in"), "{err}");
    }

    #[test]
    fn times_and_days_are_read_as_wordpress_writes_them() {
        assert_eq!(unix("2031-01-01 10:00:00"), Some(1_925_028_000));
        assert_eq!(unix("0000-00-00 00:00:00"), None);
        assert_eq!(day("2020-05-01 10:00:00").map(|d| d.to_string()).as_deref(), Some("2020-05-01"));
        assert_eq!(path_of("http://wxr.localhost/2020/05/a-post/").as_deref(), Some("/2020/05/a-post"));
        assert_eq!(path_of("http://wxr.localhost/?p=12"), None);
    }
}
