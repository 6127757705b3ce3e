//! Reading a content bundle (see `docs/BUNDLE.md`) into a [`content::Site`].
//!
//! A bundle is a folder of Markdown files with TOML front matter. The default
//! site's bundle is embedded in the binary ([`DefaultBundle`]); reading one
//! from disk comes with `casefile import`. This module parses and validates; it does
//! not touch the database (`store::import` writes what it returns).

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use rust_embed::Embed;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::content::{
    Book, Document, EvidenceItem, Lang, Localized, MediaItem, NewsPost, Operator, Page, Person, Petition, PressReport,
    Redirect, Site, SiteText, Source, Subject, TimelineEvent, check_key,
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

#[derive(Deserialize)]
struct SiteFile {
    key: String,
    default_language: Lang,
    languages: Vec<Lang>,
    subject: Option<Subject>,
    #[serde(default)]
    operator: Operator,
    #[serde(flatten)]
    text: Localized<SiteText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectsFile {
    #[serde(default)]
    redirect: Vec<Redirect>,
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
    let mut site = Site {
        key: site_file.key,
        languages,
        text: site_file.text,
        subject: site_file.subject,
        operator: site_file.operator,
        ..Site::default()
    };
    site.sources = toml::from_str::<SourcesFile>(get("sources.toml")?).context("sources.toml")?.source;
    if let Ok(text) = get("redirects.toml") {
        site.redirects = toml::from_str::<RedirectsFile>(text).context("redirects.toml")?.redirect;
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
    site.validate()?;
    site.sort();
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
