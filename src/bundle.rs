//! Reading a content bundle (see `docs/BUNDLE.md`) into a [`content::Site`].
//!
//! A bundle is a folder of Markdown files with TOML front matter. The default
//! site's bundle is embedded in the binary ([`DefaultBundle`]); others are
//! read from disk ([`read_dir`]). This module parses and validates; it does
//! not touch the database (`store::import` writes what it returns).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use rust_embed::Embed;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::content::{
    Book, Document, EvidenceItem, Lang, Localized, MediaItem, NewsPost, PRESS_KINDS, Page, Person, Petition,
    PressReport, Site, SiteText, Source, Subject, TimelineEvent,
};
use crate::documents::Attachment;

/// The default site, embedded at build time.
#[derive(Embed)]
#[folder = "sites/jens-soering/"]
pub struct DefaultBundle;

/// One file of a bundle: its path inside the bundle and its text.
pub type BundleFile = (String, String);

/// The text files (`.md`, `.toml`) of the embedded default bundle.
pub fn default_files() -> Vec<BundleFile> {
    DefaultBundle::iter()
        .filter(|path| is_text(path))
        .filter_map(|path| {
            let file = DefaultBundle::get(&path)?;
            let text = String::from_utf8(file.data.into_owned()).ok()?;
            Some((path.into_owned(), text))
        })
        .collect()
}

/// The other files of the embedded default bundle (PDFs, images).
pub fn default_attachments() -> Vec<Attachment> {
    DefaultBundle::iter()
        .filter(|path| !is_text(path))
        .filter_map(|path| Some((path.to_string(), DefaultBundle::get(&path)?.data.into_owned())))
        .collect()
}

fn is_text(path: &str) -> bool {
    path.ends_with(".md") || path.ends_with(".toml")
}

/// The files of a bundle folder on disk: the text files, and the files
/// items name (documents' PDFs, images of pages and news) as attachments.
pub fn read_dir(root: &Path) -> Result<(Vec<BundleFile>, Vec<Attachment>)> {
    fn walk(root: &Path, dir: &Path, out: &mut (Vec<BundleFile>, Vec<Attachment>)) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if is_text(&rel) {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                out.0.push((rel, text));
            } else if ["documents/", "pages/", "news/"].iter().any(|d| rel.starts_with(d)) {
                out.1.push((rel, std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?));
            }
        }
        Ok(())
    }
    let mut out = (Vec::new(), Vec::new());
    walk(root, root, &mut out)?;
    Ok(out)
}

#[derive(Deserialize)]
struct SiteFile {
    key: String,
    default_language: Lang,
    languages: Vec<Lang>,
    subject: Option<Subject>,
    #[serde(flatten)]
    text: Localized<SiteText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectsFile {
    #[serde(default)]
    redirect: Vec<RedirectEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectEntry {
    from: String,
    to: String,
    #[serde(default = "permanent")]
    status: u16,
}

fn permanent() -> u16 {
    301
}

#[derive(Deserialize)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<Source>,
}

/// Parses and validates a whole bundle. Every error names the file.
pub fn parse(files: &[BundleFile]) -> Result<Site> {
    let get = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, t)| t.as_str())
            .ok_or_else(|| anyhow!("the bundle has no {name}"))
    };
    let site_file: SiteFile = toml::from_str(get("site.toml")?).context("site.toml")?;
    let mut languages = vec![site_file.default_language];
    languages.extend(site_file.languages.iter().copied().filter(|l| *l != site_file.default_language));
    let mut site =
        Site { key: site_file.key, languages, text: site_file.text, subject: site_file.subject, ..Site::default() };
    check_langs(&site.languages, &site.text, "site.toml")?;

    site.sources = toml::from_str::<SourcesFile>(get("sources.toml")?).context("sources.toml")?.source;
    if let Ok(text) = get("redirects.toml") {
        for r in toml::from_str::<RedirectsFile>(text).context("redirects.toml")?.redirect {
            check_redirect(&r).with_context(|| format!("redirects.toml: from `{}`", r.from))?;
            if site.redirects.iter().any(|(from, _, _)| *from == r.from) {
                bail!("redirects.toml: `{}` is listed twice", r.from);
            }
            if site.redirects.iter().any(|(from, _, _)| *from == r.to) {
                bail!("redirects.toml: `{}` leads to another redirect; point it at the final address", r.from);
            }
            site.redirects.push((r.from, r.to, r.status));
        }
    }

    site.pages = items(files, "pages", &site.languages)?;
    site.news = items(files, "news", &site.languages)?;
    site.timeline = items(files, "timeline", &site.languages)?;
    site.press = items(files, "press", &site.languages)?;
    site.people = items(files, "people", &site.languages)?;
    site.books = items(files, "books", &site.languages)?;
    site.evidence = items(files, "evidence", &site.languages)?;
    site.documents = items(files, "documents", &site.languages)?;
    site.media = items(files, "media", &site.languages)?;
    site.petitions = items(files, "petitions", &site.languages)?;
    validate(&site)?;
    sort(&mut site);
    Ok(site)
}

/// What the bundle reader needs of an item type: where its key and its
/// per-language bodies go.
trait BundleItem {
    fn set_key(&mut self, key: String);
    /// Stores a body section; `false` where the type has no body.
    fn set_body(&mut self, lang: Lang, body: String) -> bool;
}

macro_rules! bundle_item {
    (with_body: $($t:ty),*) => { $(impl BundleItem for $t {
        fn set_key(&mut self, key: String) { self.key = key; }
        fn set_body(&mut self, lang: Lang, body: String) -> bool {
            self.text.entry(lang).or_default().body = body;
            true
        }
    })* };
    (without_body: $($t:ty),*) => { $(impl BundleItem for $t {
        fn set_key(&mut self, key: String) { self.key = key; }
        fn set_body(&mut self, _: Lang, _: String) -> bool { false }
    })* };
}
bundle_item!(with_body: Page, NewsPost, TimelineEvent, PressReport, Person, Book, EvidenceItem, Petition);
bundle_item!(without_body: Document, MediaItem);

fn items<T: DeserializeOwned + BundleItem>(files: &[BundleFile], folder: &str, langs: &[Lang]) -> Result<Vec<T>> {
    let prefix = format!("{folder}/");
    let mut out = Vec::new();
    for (path, text) in files {
        let Some(name) = path.strip_prefix(&prefix).and_then(|n| n.strip_suffix(".md")) else { continue };
        check_key(name).with_context(|| path.clone())?;
        let (front, body) = split_front_matter(text).with_context(|| path.clone())?;
        let mut item: T = toml::from_str(front).with_context(|| format!("{path}: front matter"))?;
        item.set_key(name.to_owned());
        for (lang, text) in split_bodies(body).with_context(|| path.clone())? {
            if !langs.contains(&lang) {
                bail!("{path}: body section for `{lang}`, which site.toml does not list");
            }
            if !item.set_body(lang, text) {
                bail!("{path}: this kind of item has no body; put the text in the front matter");
            }
        }
        out.push(item);
    }
    Ok(out)
}

fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-');
    if ok { Ok(()) } else { bail!("invalid key `{key}`: use lowercase ASCII letters, digits and `-`") }
}

/// Splits `+++\n<toml>\n+++\n<body>`.
fn split_front_matter(text: &str) -> Result<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| anyhow!("the file must start with a line `+++`"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "+++" {
            return Ok((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    bail!("the front matter has no closing line `+++`")
}

/// Splits a body into `::: <lang>` sections.
fn split_bodies(body: &str) -> Result<BTreeMap<Lang, String>> {
    let mut out: BTreeMap<Lang, String> = BTreeMap::new();
    let mut current: Option<Lang> = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if let Some(code) = trimmed.strip_prefix("::: ") {
            let lang: Lang = code.trim().parse().map_err(|e: String| anyhow!(e))?;
            if out.contains_key(&lang) {
                bail!("two body sections for `{lang}`");
            }
            out.insert(lang, String::new());
            current = Some(lang);
        } else if let Some(lang) = current {
            out.get_mut(&lang).expect("section exists").push_str(line);
        } else if !trimmed.is_empty() {
            bail!("text before the first `::: <lang>` line");
        }
    }
    for text in out.values_mut() {
        *text = text.trim().to_owned();
    }
    Ok(out)
}

fn check_langs<T>(langs: &[Lang], map: &Localized<T>, what: &str) -> Result<()> {
    for l in langs {
        if !map.contains_key(l) {
            bail!("{what}: no `[{l}]` text");
        }
    }
    Ok(())
}

fn check_redirect(r: &RedirectEntry) -> Result<()> {
    // What the server would answer itself, or could never see: its own
    // routes, and paths it rewrites before routing (a trailing slash).
    const RESERVED: [&str; 5] = ["/api/", "/files/", "/assets/", "/healthz", "/sitemap.xml"];
    let path_ok = |p: &str| {
        p.starts_with('/')
            && p.bytes().all(|b| b.is_ascii_graphic() && !b"?#\\\"<>".contains(&b))
            && !p.contains("//")
            && (p == "/" || !p.ends_with('/'))
    };
    if !path_ok(&r.from) || r.from == "/" || RESERVED.iter().any(|x| r.from.starts_with(x)) {
        bail!(
            "`from` must be a path on this site like /old-page (no trailing slash, not one of the server's own paths)"
        );
    }
    let url_ok = |u: &str| {
        (u.starts_with("https://") || u.starts_with("http://")) && u.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    };
    if !(path_ok(&r.to) || url_ok(&r.to)) {
        bail!("`to` must be a path on this site or an http(s) address");
    }
    if r.to == r.from {
        bail!("`to` is the same as `from`");
    }
    if !matches!(r.status, 301 | 302 | 307 | 308) {
        bail!("`status` must be 301, 302, 307 or 308");
    }
    Ok(())
}

/// Cross-checks: every language present, keys unique, references resolve.
fn validate(site: &Site) -> Result<()> {
    let langs = &site.languages;
    let source_keys: HashSet<&str> = site.sources.iter().map(|s| s.key.as_str()).collect();
    if source_keys.len() != site.sources.len() {
        bail!("sources.toml: two sources share an id");
    }
    let press_keys: HashSet<&str> = site.press.iter().map(|p| p.key.as_str()).collect();
    let doc_keys: HashSet<&str> = site.documents.iter().map(|p| p.key.as_str()).collect();
    let media_keys: HashSet<&str> = site.media.iter().map(|p| p.key.as_str()).collect();
    for s in &site.sources {
        check_langs(langs, &s.citation, &format!("sources.toml: source `{}`", s.key))?;
        match s.kind.as_str() {
            "seed" | "url" => {}
            "press" => match &s.press {
                Some(k) if press_keys.contains(k.as_str()) => {}
                _ => bail!("sources.toml: source `{}` names no existing press report", s.key),
            },
            "document" => match &s.document {
                Some(k) if doc_keys.contains(k.as_str()) => {}
                _ => bail!("sources.toml: source `{}` names no existing document", s.key),
            },
            other => bail!("sources.toml: source `{}` has unknown kind `{other}`", s.key),
        }
    }
    let cites = |what: String, sources: &[String]| -> Result<()> {
        for id in sources {
            if !source_keys.contains(id.as_str()) {
                bail!("{what}: cites `{id}`, which sources.toml does not define");
            }
        }
        Ok(())
    };

    let mut slugs = HashSet::new();
    let mut old_slugs = HashSet::new();
    for p in &site.pages {
        let what = format!("pages/{}.md", p.key);
        check_langs(langs, &p.text, &what)?;
        cites(what.clone(), &p.sources)?;
        for (l, t) in &p.text {
            if !t.slug.is_empty() {
                check_key(&t.slug).with_context(|| format!("{what}: slug"))?;
            }
            for old in &t.old_slugs {
                check_key(old).with_context(|| format!("{what}: old slug"))?;
                if site.pages.iter().any(|q| q.text.get(l).is_some_and(|x| &x.slug == old)) {
                    bail!("{what}: the old {l} slug `{old}` is a current slug");
                }
                if !old_slugs.insert((*l, old.clone())) {
                    bail!("{what}: the old {l} slug `{old}` is claimed twice");
                }
            }
            if !slugs.insert((*l, t.slug.clone())) {
                bail!("{what}: the {l} slug `{}` is used twice", t.slug);
            }
        }
        if let Some(k) = &p.petition
            && site.petition(k).is_none()
        {
            bail!("{what}: shows petition `{k}`, which petitions/ does not hold");
        }
    }
    for p in &site.petitions {
        let what = format!("petitions/{}.md", p.key);
        check_langs(langs, &p.text, &what)?;
        cites(what.clone(), &p.sources)?;
        if p.goal.is_some_and(|g| g < 1) {
            bail!("{what}: a goal must be a positive number");
        }
    }
    for key in ["home", "news"] {
        if site.page(key).is_none() {
            bail!("the bundle has no pages/{key}.md");
        }
    }
    let mut news_slugs = HashSet::new();
    let mut old_news_slugs = HashSet::new();
    for n in &site.news {
        let what = format!("news/{}.md", n.key);
        check_langs(langs, &n.text, &what)?;
        cites(what.clone(), &n.sources)?;
        if n.date.is_none() {
            bail!("{what}: a news post needs a date");
        }
        for (l, t) in &n.text {
            check_key(&t.slug).with_context(|| format!("{what}: slug"))?;
            if !news_slugs.insert((*l, t.slug.clone())) {
                bail!("{what}: the {l} slug `{}` is used twice", t.slug);
            }
            for old in &t.old_slugs {
                check_key(old).with_context(|| format!("{what}: old slug"))?;
                if site.news.iter().any(|q| q.text.get(l).is_some_and(|x| &x.slug == old)) {
                    bail!("{what}: the old {l} slug `{old}` is a current slug");
                }
                if !old_news_slugs.insert((*l, old.clone())) {
                    bail!("{what}: the old {l} slug `{old}` is claimed twice");
                }
            }
        }
    }
    for e in &site.timeline {
        let what = format!("timeline/{}.md", e.key);
        check_langs(langs, &e.text, &what)?;
        cites(what.clone(), &e.sources)?;
        if e.date.is_none() {
            bail!("{what}: a timeline event needs a date");
        }
        for (keys, known, kind) in [
            (&e.press, &press_keys, "press report"),
            (&e.documents, &doc_keys, "document"),
            (&e.media, &media_keys, "media item"),
        ] {
            for k in keys {
                if !known.contains(k.as_str()) {
                    bail!("{what}: links the {kind} `{k}`, which does not exist");
                }
            }
        }
    }
    for p in &site.press {
        let what = format!("press/{}.md", p.key);
        check_langs(langs, &p.text, &what)?;
        cites(what.clone(), &p.sources)?;
        if !PRESS_KINDS.contains(&p.kind.as_str()) {
            bail!("{what}: unknown kind `{}` (expected one of {})", p.kind, PRESS_KINDS.join(", "));
        }
        if p.title.is_none() && p.text.values().any(|t| t.title.is_empty()) {
            bail!("{what}: without a `title`, every language needs a descriptive `title`");
        }
    }
    let mut statement_keys = HashSet::new();
    for p in &site.people {
        let what = format!("people/{}.md", p.key);
        check_langs(langs, &p.text, &what)?;
        cites(what.clone(), &p.sources)?;
        for s in &p.statements {
            let what = format!("{what}: statement `{}`", s.key);
            check_key(&s.key).with_context(|| what.clone())?;
            if !statement_keys.insert(s.key.as_str()) {
                bail!("{what}: the key is used twice");
            }
            check_langs(langs, &s.text, &what)?;
            cites(what.clone(), &s.sources)?;
            if s.sources.is_empty() {
                bail!("{what}: a statement needs a source");
            }
            if s.quote.is_none() && s.text.values().any(|t| t.summary.is_empty()) {
                bail!("{what}: without a `quote`, every language needs a `summary`");
            }
        }
    }
    for b in &site.books {
        let what = format!("books/{}.md", b.key);
        check_langs(langs, &b.text, &what)?;
        cites(what, &b.sources)?;
    }
    for e in &site.evidence {
        let what = format!("evidence/{}.md", e.key);
        check_langs(langs, &e.text, &what)?;
        cites(what, &e.sources)?;
    }
    for d in &site.documents {
        let what = format!("documents/{}.md", d.key);
        check_langs(langs, &d.text, &what)?;
        cites(what, &d.sources)?;
    }
    for m in &site.media {
        let what = format!("media/{}.md", m.key);
        check_langs(langs, &m.text, &what)?;
        cites(what.clone(), &m.sources)?;
        if !matches!(m.kind.as_str(), "video" | "audio") {
            bail!("{what}: kind must be `video` or `audio`");
        }
    }
    Ok(())
}

/// Puts every list in the order the site shows it.
pub fn sort(site: &mut Site) {
    site.pages.sort_by(|a, b| {
        (a.menu_position.is_none(), a.menu_position, &a.key).cmp(&(b.menu_position.is_none(), b.menu_position, &b.key))
    });
    site.news.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.key.cmp(&b.key)));
    site.timeline.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
    site.press
        .sort_by(|a, b| (b.date.is_some(), b.date).cmp(&(a.date.is_some(), a.date)).then_with(|| a.key.cmp(&b.key)));
    site.people.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
    site.books.sort_by(|a, b| b.year.cmp(&a.year).then_with(|| a.key.cmp(&b.key)));
    site.evidence.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
    site.documents.sort_by(|a, b| a.key.cmp(&b.key));
    site.media.sort_by(|a, b| a.key.cmp(&b.key));
    site.petitions.sort_by(|a, b| a.key.cmp(&b.key));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_language_sections_split() {
        let text = "+++\ntitle = \"x\"\n+++\n::: en\nHello\n\n::: de\nHallo\n";
        let (front, body) = split_front_matter(text).unwrap();
        assert_eq!(front, "title = \"x\"\n");
        let b = split_bodies(body).unwrap();
        assert_eq!(b[&Lang::En], "Hello");
        assert_eq!(b[&Lang::De], "Hallo");
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        assert!(split_front_matter("title = 1\n").is_err());
        assert!(split_front_matter("+++\ntitle = 1\n").is_err());
        assert!(split_bodies("stray text\n::: en\nx").is_err());
        assert!(split_bodies("::: fr\nbonjour").is_err());
        assert!(split_bodies("::: en\na\n::: en\nb").is_err());
        assert!(check_key("Bad Key").is_err());
        assert!(check_key("good-key-1").is_ok());
    }

    #[test]
    fn the_default_bundle_parses_and_validates() {
        let site = parse(&default_files()).expect("the default bundle is valid");
        assert_eq!(site.languages, [Lang::En, Lang::De]);
        assert!(site.page("home").is_some());
    }
}
