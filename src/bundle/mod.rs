//! Reading a content bundle (see `docs/BUNDLE.md`) into a [`content::Site`].
//!
//! A bundle is a folder of Markdown files with TOML front matter. The default
//! site's bundle is embedded in the binary ([`DefaultBundle`]); `folder`
//! reads one from disk (`casefile import`) and writes one (`casefile
//! export-content`, with `write` turning a site back into files). This
//! module parses and validates; it does not touch the database
//! (`store::content::import` writes what it returns).

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use rust_embed::Embed;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::content::{
    Book, ContactDetails, Document, EvidenceItem, Included, ItemKind, Lang, Localized, MediaItem, NewsPost, Operator,
    Page, Person, Petition, PressReport, Redirect, SHAREABLE, Site, SiteText, Source, Subject, TimelineEvent,
    check_key,
};
use crate::documents::Attachment;

mod folder;
pub mod images;
mod write;

pub use folder::{REVISIONS, read as read_folder, write as write_folder};
pub use write::files as to_files;

/// The default site, embedded at build time.
#[derive(Embed)]
#[folder = "sites/jens-soering/"]
pub struct DefaultBundle;

/// One file of a bundle: its path inside the bundle and its text.
pub type BundleFile = (String, String);

/// The text files (`.md`, `.toml`) of the embedded default bundle.
pub fn default_files() -> Vec<BundleFile> {
    text_files::<DefaultBundle>()
}

/// The documentary's site, embedded beside the default one and imported
/// with it; its timeline is the default site's, shared (`shared.toml`).
#[derive(Embed)]
#[folder = "sites/killing-for-love/"]
pub struct FilmBundle;

/// The text files of the built-in sites other than the default one, each
/// a bundle that may include items of the default site.
pub fn companion_files() -> Vec<Vec<BundleFile>> {
    vec![text_files::<FilmBundle>()]
}

fn text_files<E: Embed>() -> Vec<BundleFile> {
    E::iter()
        // A bundle's README is about it, not part of it.
        .filter(|path| is_text(path) && path != "README.md")
        .filter_map(|path| {
            let file = E::get(&path)?;
            let text = String::from_utf8(file.data.into_owned()).ok()?;
            Some((path.into_owned(), text))
        })
        .collect()
}

/// A fingerprint of the embedded default bundle (SHA-256 over every file's
/// path and bytes): a site remembers the one it was last given, and `serve`
/// says when this binary's default content differs.
pub fn default_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut paths: Vec<_> = DefaultBundle::iter().collect();
    paths.sort();
    let mut hasher = Sha256::new();
    for path in paths {
        let Some(file) = DefaultBundle::get(&path) else { continue };
        for part in [path.as_bytes(), file.data.as_ref()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    crate::ids::to_hex(&hasher.finalize())
}

/// The key of the embedded default site (from its `site.toml`).
pub fn default_key() -> Option<String> {
    let file = DefaultBundle::get("site.toml")?;
    let site: SiteFile = toml::from_str(std::str::from_utf8(&file.data).ok()?).ok()?;
    Some(site.key)
}

/// The key a bundle's `site.toml` gives, read without the rest.
pub fn key_of(files: &[BundleFile]) -> Option<String> {
    let (_, text) = files.iter().find(|(p, _)| p == "site.toml")?;
    toml::from_str::<SiteFile>(text).ok().map(|site| site.key)
}

/// The key of the site whose items the bundle shows (its `shared.toml`).
pub fn shared_from(files: &[BundleFile]) -> Option<String> {
    let (_, text) = files.iter().find(|(p, _)| p == "shared.toml")?;
    toml::from_str::<SharedFile>(text).ok().map(|shared| shared.from)
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

/// Whether a text file of a bundle is one the format reads, or a note at
/// the top (`README.md`): a text file in a folder the format does not have
/// would be left out unnoticed, and `--prune` would trash its item.
fn is_known(path: &str) -> bool {
    match path.split_once('/') {
        None => true,
        Some((folder, name)) => {
            let item_folder = ItemKind::ALL.iter().any(|k| *k != ItemKind::Settings && k.folder() == folder);
            item_folder && name.ends_with(".md") && !name.contains('/')
        }
    }
}

#[derive(Deserialize, Serialize)]
struct SiteFile {
    key: String,
    default_language: Lang,
    languages: Vec<Lang>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Subject>,
    #[serde(default)]
    operator: Operator,
    #[serde(default, skip_serializing_if = "ContactDetails::is_empty")]
    contact: ContactDetails,
    #[serde(flatten)]
    text: Localized<SiteText>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RedirectsFile {
    #[serde(default)]
    redirect: Vec<Redirect>,
}

#[derive(Deserialize, Serialize)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<Source>,
}

/// Every mistake found in a bundle, one per line, each naming its file
/// (and, for TOML syntax and fields, the line).
#[derive(Debug, Default, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct Problems(pub Vec<String>);

impl Problems {
    fn note(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    /// Reads a TOML text that starts on line `first_line` of `path`.
    fn toml<T: DeserializeOwned>(&mut self, path: &str, text: &str, first_line: usize) -> Option<T> {
        toml::from_str(text).map_err(|e| self.note(toml_problem(path, text, first_line, &e))).ok()
    }
}

/// `path:line: message` for a TOML error.
fn toml_problem(path: &str, text: &str, first_line: usize, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let line = first_line + text[..span.start.min(text.len())].matches('\n').count();
            format!("{path}:{line}: {message}")
        }
        None => format!("{path}: {message}"),
    }
}

/// Parses and validates a whole bundle. On a mistake, nothing is returned
/// but every mistake found, each naming its file.
pub fn parse(files: &[BundleFile]) -> Result<Site, Problems> {
    parse_with(files, &[])
}

/// Parses a bundle that may include items of the sites `others` (its
/// `shared.toml`): they join the site, so that it checks as a whole, and
/// `Site::included` names them, so that they are stored once.
pub fn parse_with(files: &[BundleFile], others: &[Site]) -> Result<Site, Problems> {
    let mut problems = Problems::default();
    let get = |name: &str| files.iter().find(|(p, _)| p == name).map(|(_, t)| t.as_str());
    let Some(site_text) = get("site.toml") else {
        return Err(Problems(vec!["the bundle has no site.toml".into()]));
    };
    let Some(site_file) = problems.toml::<SiteFile>("site.toml", site_text, 1) else { return Err(problems) };
    let mut languages = vec![site_file.default_language];
    languages.extend(site_file.languages.iter().copied().filter(|l| *l != site_file.default_language));
    let mut site = Site {
        key: site_file.key,
        languages,
        text: site_file.text,
        subject: site_file.subject,
        operator: site_file.operator,
        contact: site_file.contact,
        ..Site::default()
    };
    match get("sources.toml") {
        Some(text) => {
            site.sources = problems.toml::<SourcesFile>("sources.toml", text, 1).map(|f| f.source).unwrap_or_default()
        }
        None => problems.note("the bundle has no sources.toml"),
    }
    if let Some(text) = get("redirects.toml") {
        site.redirects =
            problems.toml::<RedirectsFile>("redirects.toml", text, 1).map(|f| f.redirect).unwrap_or_default();
    }
    // The site-wide files must read for the rules across items to mean
    // anything; an item file that does not read stands in as an empty item
    // (so what refers to it still resolves) whose own problems are not news.
    let cross_checks = problems.0.is_empty();
    for (path, _) in files.iter().filter(|(path, _)| !is_known(path)) {
        problems.note(format!(
            "{path}: not a file this format reads (a misspelt folder, or not `.md`?): see docs/BUNDLE.md"
        ));
    }
    let langs = site.languages.clone();
    site.pages = items(files, "pages", &langs, &mut problems);
    site.news = items(files, "news", &langs, &mut problems);
    site.timeline = items(files, "timeline", &langs, &mut problems);
    site.press = items(files, "press", &langs, &mut problems);
    site.people = items(files, "people", &langs, &mut problems);
    site.books = items(files, "books", &langs, &mut problems);
    site.evidence = items(files, "evidence", &langs, &mut problems);
    site.documents = items(files, "documents", &langs, &mut problems);
    site.media = items(files, "media", &langs, &mut problems);
    site.petitions = items(files, "petitions", &langs, &mut problems);
    if let Some(text) = get("shared.toml")
        && let Some(shared) = problems.toml::<SharedFile>("shared.toml", text, 1)
    {
        include(&mut site, shared, others, &mut problems);
    }
    if cross_checks {
        let unread: Vec<String> = problems.0.iter().filter_map(|p| p.split(':').next()).map(str::to_owned).collect();
        let fresh =
            site.problems().into_iter().map(|e| e.0).filter(|p| !unread.iter().any(|u| p.starts_with(u.as_str())));
        problems.0.extend(fresh.collect::<Vec<_>>());
    }
    if !problems.0.is_empty() {
        return Err(problems);
    }
    site.sort();
    Ok(site)
}

/// `shared.toml`: the items of another site this one shows too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedFile {
    /// The key of the site that stores them.
    from: String,
    /// Per folder (`timeline`, `press`, `documents`, `sources`), the keys.
    include: BTreeMap<String, Vec<String>>,
}

/// Adds the items `shared` names, from the site that stores them.
fn include(site: &mut Site, shared: SharedFile, others: &[Site], problems: &mut Problems) {
    let Some(owner) = others.iter().find(|o| o.key == shared.from) else {
        let from = &shared.from;
        return problems.note(format!(
            "shared.toml: the site `{from}` is not there to include items from (import that site first)"
        ));
    };
    let mut included = Included { from: owner.key.clone(), items: Vec::new() };
    for (folder, keys) in shared.include {
        let kind = SHAREABLE.into_iter().find(|k| k.folder().trim_end_matches(".toml") == folder);
        let Some(kind) = kind else {
            problems
                .note(format!("shared.toml: `{folder}` cannot be shared (timeline, press, documents, sources can)"));
            continue;
        };
        for key in keys {
            match owner.items().find(|i| i.kind() == kind && i.key() == key) {
                Some(item) if !site.items().any(|i| i.kind() == kind && i.key() == key) => {
                    site.push(item.to_owned());
                    included.items.push((kind, key));
                }
                Some(_) => problems.note(format!("shared.toml: this site has a {kind} `{key}` of its own")),
                None => problems.note(format!("shared.toml: the site `{}` has no {kind} `{key}`", owner.key)),
            }
        }
    }
    site.included = Some(included);
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

/// The items of one folder; a file with a mistake is noted and left out.
fn items<T: DeserializeOwned + BundleItem + Default>(
    files: &[BundleFile],
    folder: &str,
    langs: &[Lang],
    problems: &mut Problems,
) -> Vec<T> {
    let prefix = format!("{folder}/");
    let mut out = Vec::new();
    for (path, text) in files {
        let Some(name) = path.strip_prefix(&prefix).and_then(|n| n.strip_suffix(".md")) else { continue };
        let read = item(path, name, text, langs, problems)
            .unwrap_or_else(|e| {
                problems.note(format!("{path}: {e:#}"));
                None
            })
            .unwrap_or_else(|| {
                let mut stand_in = T::default();
                stand_in.set_key(name.to_owned());
                stand_in
            });
        out.push(read);
    }
    out
}

/// One item file; `Ok(None)` where its front matter was noted as wrong.
fn item<T: DeserializeOwned + BundleItem>(
    path: &str,
    name: &str,
    text: &str,
    langs: &[Lang],
    problems: &mut Problems,
) -> Result<Option<T>> {
    check_key(name)?;
    let (front, body) = split_front_matter(text)?;
    // The front matter starts on the line after the opening `+++`.
    let Some(mut item) = problems.toml::<T>(path, front, 2) else { return Ok(None) };
    item.set_key(name.to_owned());

    for (lang, text) in split_bodies(body)? {
        if !langs.contains(&lang) {
            bail!("body section for `{lang}`, which site.toml does not list");
        }
        if !item.set_body(lang, text) {
            bail!("this kind of item has no body; put the text in the front matter");
        }
    }
    Ok(Some(item))
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
