//! Full-text search over the public snapshot with tantivy.
//!
//! One index per snapshot, built when the snapshot is loaded (at start-up
//! and after each content change, in the refresher task, never on a
//! request). With a data folder it is kept on disk under `search/<key>`,
//! where the key is a fingerprint of the documents: a restart over
//! unchanged content opens it instead of indexing again (seconds for a site
//! with thousands of news posts). English text is analysed with an English stemmer, German text
//! with a German one, so "fingerprints" finds "fingerprint" and
//! "Fingerabdrücke" finds "Fingerabdruck". Each language has its own title
//! and body fields; a query searches the fields of the page's language.

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{Index, IndexReader, Term, doc};

use super::routes::SiteIndex;
use crate::content::{Lang, Template};
use crate::markdown::to_text;

/// The kinds of result, in the order the filter lists them.
pub const KINDS: [&str; 8] = ["page", "news", "timeline", "press", "person", "book", "evidence", "document"];
/// Results per page.
pub const PER_PAGE: usize = 10;
/// Longest query we look at; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// One searchable item in one language.
pub struct SearchDoc {
    /// Its language.
    pub lang: Lang,
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Where it is shown, with an anchor where it has one.
    pub url: String,
}

/// One hit, ready for the template.
#[derive(Serialize)]
pub struct Hit {
    /// One of [`KINDS`].
    pub kind: String,
    /// Title.
    pub title: String,
    /// Link.
    pub url: String,
    /// An excerpt as HTML: tantivy escapes the text and wraps matches in `<mark>`.
    pub snippet: String,
}

/// A page of results.
#[derive(Serialize, Default)]
pub struct Results {
    /// All matches.
    pub total: usize,
    /// This page's hits.
    pub hits: Vec<Hit>,
    /// 1-based page number.
    pub page: usize,
    /// Number of pages.
    pub pages: usize,
}

struct LangFields {
    title: Field,
    body: Field,
}

/// The index of one snapshot.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    lang: Field,
    kind: Field,
    url: Field,
    en: LangFields,
    de: LangFields,
}

/// Bumped when the schema or the analysers change: old indexes on disk
/// then no longer match any fingerprint.
const SCHEMA_VERSION: u32 = 1;

fn schema() -> Schema {
    let mut schema = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored()
    };
    schema.add_text_field("lang", STRING);
    schema.add_text_field("kind", STRING | STORED);
    schema.add_text_field("url", STORED);
    for l in ["en", "de"] {
        schema.add_text_field(&format!("title_{l}"), text(l));
        schema.add_text_field(&format!("body_{l}"), text(l));
    }
    schema.build()
}

/// A fingerprint of the documents, naming the index built from them.
fn fingerprint(docs: &[SearchDoc]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    SCHEMA_VERSION.hash(&mut h);
    for d in docs {
        (d.lang, d.kind, &d.title, &d.body, &d.url).hash(&mut h);
    }
    format!("{:016x}-{}", h.finish(), docs.len())
}

impl SearchIndex {
    /// Indexes `docs` in memory.
    pub fn build(docs: impl IntoIterator<Item = SearchDoc>) -> tantivy::Result<SearchIndex> {
        let index = Index::create_in_ram(schema());
        Self::fill(index, docs)
    }

    /// The index of `docs` kept under `root`: opened if an earlier run built
    /// it for the same documents, else built there (in a temporary folder,
    /// renamed into place when complete, so a crash leaves no half index).
    /// The two most recent indexes are kept; older ones are deleted.
    pub fn persistent(root: &std::path::Path, docs: Vec<SearchDoc>) -> tantivy::Result<SearchIndex> {
        let dir = root.join(fingerprint(&docs));
        if dir.join("meta.json").is_file()
            && let Ok(found) = Index::open_in_dir(&dir).and_then(Self::open)
        {
            return Ok(found);
        }
        let io = |e: std::io::Error| tantivy::TantivyError::IoError(std::sync::Arc::new(e));
        // Named for this process and this build: instances on other hosts
        // may share the folder (a shared volume), and their pids with ours.
        let tmp = root.join(format!("{}{}", building_prefix(), crate::ids::nonce()));
        std::fs::create_dir_all(&tmp).map_err(io)?;
        drop(Self::fill(Index::create_in_dir(&tmp, schema())?, docs)?);
        if !dir.join("meta.json").is_file() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        // Another instance may have put the same index in place meanwhile:
        // then the rename fails, and its index is as good as ours.
        if std::fs::rename(&tmp, &dir).is_err() && dir.join("meta.json").is_file() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        prune(root, 2);
        Self::open(Index::open_in_dir(&dir)?)
    }

    fn fill(index: Index, docs: impl IntoIterator<Item = SearchDoc>) -> tantivy::Result<SearchIndex> {
        let s = Self::open(index)?;
        // The smallest arena tantivy allows per thread: memory matters more
        // than indexing speed; two threads where there are two cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        let mut writer = s.index.writer_with_num_threads::<TantivyDocument>(threads, threads * 15_000_000)?;
        for d in docs {
            let f = match d.lang {
                Lang::En => &s.en,
                Lang::De => &s.de,
            };
            writer.add_document(doc!(
                s.lang => d.lang.code(),
                s.kind => d.kind,
                s.url => d.url,
                f.title => d.title,
                f.body => d.body,
            ))?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        s.reader.reload()?;
        Ok(s)
    }

    /// Wraps an index of [`schema`]: its fields, analysers and reader.
    fn open(index: Index) -> tantivy::Result<SearchIndex> {
        for (name, language) in [("en", Language::English), ("de", Language::German)] {
            let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(60))
                .filter(LowerCaser)
                .filter(Stemmer::new(language))
                .build();
            index.tokenizers().register(name, analyzer);
        }
        let schema = index.schema();
        let field = |name: &str| schema.get_field(name);
        let lang_fields = |l: &str| -> tantivy::Result<LangFields> {
            Ok(LangFields { title: field(&format!("title_{l}"))?, body: field(&format!("body_{l}"))? })
        };
        let (lang, kind, url) = (field("lang")?, field("kind")?, field("url")?);
        let (en, de) = (lang_fields("en")?, lang_fields("de")?);
        // Reloaded by hand after the one commit: no watcher thread per index.
        let reader = index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { index, reader, lang, kind, url, en, de })
    }

    /// Searches in `lang`, optionally one kind only; `page` is 1-based.
    /// Odd input (quotes, operators, markup, very long strings) never fails:
    /// the parser is lenient and what it cannot read is dropped.
    pub fn search(&self, lang: Lang, query: &str, kind: Option<&str>, page: usize) -> Results {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let f = match lang {
            Lang::En => &self.en,
            Lang::De => &self.de,
        };
        let mut parser = tantivy::query::QueryParser::for_index(&self.index, vec![f.title, f.body]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        let (text_query, _errors) = parser.parse_query_lenient(&query);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, text_query.box_clone()),
            (
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(self.lang, lang.code()), IndexRecordOption::Basic)),
            ),
        ];
        if let Some(k) = kind {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(self.kind, k), IndexRecordOption::Basic)),
            ));
        }
        let combined = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let page = page.max(1);
        let collector = (TopDocs::with_limit(PER_PAGE).and_offset((page - 1) * PER_PAGE).order_by_score(), Count);
        let Ok((top, total)) = searcher.search(&combined, &collector) else { return Results::default() };
        let snippets = SnippetGenerator::create(&searcher, &*text_query, f.body).ok().map(|mut g| {
            g.set_max_num_chars(200);
            g
        });
        let hits = top
            .into_iter()
            .filter_map(|(_, address)| {
                let d: TantivyDocument = searcher.doc(address).ok()?;
                let text = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                let snippet = match &snippets {
                    Some(g) => {
                        let mut s = g.snippet_from_doc(&d);
                        s.set_snippet_prefix_postfix("<mark>", "</mark>");
                        s.to_html()
                    }
                    None => String::new(),
                };
                Some(Hit { kind: text(self.kind), title: text(f.title), url: text(self.url), snippet })
            })
            .collect();
        Results { total, hits, page, pages: total.div_ceil(PER_PAGE) }
    }
}

/// The start of the names of this process's builds under way.
fn building_prefix() -> String {
    format!(".building-{}-", std::process::id())
}

/// How old another process's build must be to count as abandoned (a build
/// of 10,000 posts takes seconds).
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes all but the `keep` most recently built indexes under `root`
/// (best effort: an index still open keeps working on Linux until closed),
/// and what a process stopped while building left behind: another
/// process's build, untouched for [`ABANDONED_AFTER`] (instances on other
/// hosts may share the folder and be building now).
fn prune(root: &std::path::Path, keep: usize) {
    let ours = building_prefix();
    let Ok(entries) = std::fs::read_dir(root) else { return };
    let entries: Vec<std::fs::DirEntry> = entries.filter_map(|e| e.ok()).collect();
    for e in &entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let idle = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if name.starts_with(".building-") && !name.starts_with(&ours) && idle.is_some_and(|d| d > ABANDONED_AFTER) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let mut dirs: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .into_iter()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    for (_, path) in dirs.into_iter().skip(keep) {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// How much of a document's text the browser's search data holds: enough
/// for the words a visitor looks for, little enough to load at once.
pub const CLIENT_TEXT_CHARS: usize = 3000;

/// The search data of one language for the site's own script
/// (`assets/search.js`), which searches a static copy of the site in the
/// browser: each document's kind, title, address and text (its start).
pub fn client_data(index: &SiteIndex, lang: Lang) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        k: &'a str,
        t: &'a str,
        u: &'a str,
        x: String,
    }
    let docs = documents_in(index, lang);
    let list: Vec<Doc<'_>> = docs
        .iter()
        .map(|d| Doc { k: d.kind, t: &d.title, u: &d.url, x: d.body.chars().take(CLIENT_TEXT_CHARS).collect() })
        .collect();
    serde_json::json!({ "docs": list }).to_string()
}

/// Everything public in every language, as search documents.
pub fn documents(index: &SiteIndex) -> Vec<SearchDoc> {
    index.site.languages.iter().flat_map(|&lang| documents_in(index, lang)).collect()
}

/// Everything public in one language, as search documents.
fn documents_in(index: &SiteIndex, lang: Lang) -> Vec<SearchDoc> {
    let site = &index.site;
    let mut out = Vec::new();
    let path = |key: &str| index.path_of(key, lang).unwrap_or_default();
    let mut push = |kind: &'static str, title: String, body: String, url: String| {
        out.push(SearchDoc { lang, kind, title, body, url });
    };
    for p in &site.pages {
        if let (Some(t), Some(url)) = (p.text.get(&lang), index.path_of(&p.key, lang))
            && p.template != Template::Search
        {
            push("page", t.title.clone(), format!("{} {}", t.summary, to_text(&t.body)), url);
        }
    }
    for n in &site.news {
        if let Some(t) = n.text.get(&lang) {
            push(
                "news",
                t.title.clone(),
                format!("{} {}", t.summary, to_text(&t.body)),
                format!("{}/{}", path("news"), t.slug),
            );
        }
    }
    for e in &site.timeline {
        if let Some(t) = e.text.get(&lang) {
            push("timeline", t.title.clone(), to_text(&t.body), format!("{}#{}", path("timeline"), e.key));
        }
    }
    for r in &site.press {
        if let Some(t) = r.text.get(&lang) {
            let title = r.title.clone().unwrap_or_else(|| t.title.clone());
            let body = [
                r.outlet.as_deref().unwrap_or(""),
                &r.authors.join(", "),
                &t.summary,
                r.quote.as_deref().unwrap_or(""),
            ]
            .join(" ");
            push("press", title, body, format!("{}#{}", path("press"), r.key));
        }
    }
    for p in &site.people {
        if let Some(t) = p.text.get(&lang) {
            let mut body = format!("{} {}", t.role, to_text(&t.body));
            for s in &p.statements {
                for part in [s.quote.as_deref(), s.text.get(&lang).map(|x| x.summary.as_str())].into_iter().flatten() {
                    body.push(' ');
                    body.push_str(part);
                }
            }
            push("person", p.name.clone(), body, format!("{}#{}", path("voices"), p.key));
        }
    }
    for b in &site.books {
        if let Some(t) = b.text.get(&lang) {
            let body = format!("{} {} {}", b.authors.join(", "), t.summary, to_text(&t.body));
            push("book", b.title.clone(), body, format!("{}#{}", path("books"), b.key));
        }
    }
    for e in &site.evidence {
        if let Some(t) = e.text.get(&lang) {
            let body = format!("{} {} {}", t.summary, t.contested, to_text(&t.body));
            push("evidence", t.title.clone(), body, format!("{}#{}", path("evidence"), e.key));
        }
    }
    for d in &site.documents {
        if let Some(t) = d.text.get(&lang) {
            // The file's text is searched in every language; a hit leads to the file.
            let url = d.file.as_ref().map_or_else(|| path("timeline"), |f| format!("/files/{f}"));
            push("document", t.title.clone(), format!("{} {}", t.description, d.extracted_text), url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lang: Lang, kind: &'static str, title: &str, body: &str) -> SearchDoc {
        SearchDoc { lang, kind, title: title.into(), body: body.into(), url: format!("/{title}") }
    }

    fn index() -> SearchIndex {
        SearchIndex::build([
            doc(Lang::En, "evidence", "The fingerprint", "An unidentified fingerprint on a glass."),
            doc(Lang::En, "timeline", "Arrest", "Arrested in London in 1986."),
            doc(Lang::De, "evidence", "Der Fingerabdruck", "Ein nicht zugeordneter Fingerabdruck auf einem Glas."),
            doc(Lang::De, "timeline", "Festnahme", "Festnahme in London 1986."),
        ])
        .unwrap()
    }

    #[test]
    fn stemming_works_in_both_languages() {
        let i = index();
        let en = i.search(Lang::En, "fingerprints", None, 1);
        assert_eq!(en.total, 1);
        assert_eq!(en.hits[0].title, "The fingerprint");
        assert!(en.hits[0].snippet.contains("<mark>fingerprint</mark>"), "{}", en.hits[0].snippet);
        let de = i.search(Lang::De, "Fingerabdrücke", None, 1);
        assert_eq!(de.total, 1);
        assert_eq!(de.hits[0].title, "Der Fingerabdruck");
        // Languages do not mix.
        assert_eq!(i.search(Lang::En, "Festnahme", None, 1).total, 0);
    }

    #[test]
    fn a_kept_index_is_reopened_and_abandoned_builds_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let abandoned = root.path().join(".building-4000000-1");
        std::fs::create_dir_all(&abandoned).unwrap();
        std::fs::write(abandoned.join("half"), b"x").unwrap();
        let long_ago = std::time::SystemTime::now() - ABANDONED_AFTER - std::time::Duration::from_secs(60);
        std::fs::File::open(&abandoned).unwrap().set_modified(long_ago).unwrap();
        // Another instance's build under way (a shared folder): left alone.
        let under_way = root.path().join(".building-4000001-1");
        std::fs::create_dir_all(&under_way).unwrap();
        let docs = || vec![doc(Lang::En, "timeline", "Arrest", "Arrested in London in 1986.")];
        let built = SearchIndex::persistent(root.path(), docs()).unwrap();
        assert_eq!(built.search(Lang::En, "london", None, 1).total, 1);
        assert!(!abandoned.exists(), "a build another process abandoned is removed");
        assert!(under_way.exists(), "a build under way elsewhere is not");
        let reopened = SearchIndex::persistent(root.path(), docs()).unwrap();
        assert_eq!(reopened.search(Lang::En, "london", None, 1).total, 1);
    }

    #[test]
    fn kind_filter_and_pagination() {
        let i = index();
        assert_eq!(i.search(Lang::En, "london", Some("timeline"), 1).total, 1);
        assert_eq!(i.search(Lang::En, "london", Some("evidence"), 1).total, 0);
        let r = i.search(Lang::En, "london", None, 5);
        assert_eq!((r.total, r.hits.len(), r.pages), (1, 0, 1));
    }

    #[test]
    fn odd_queries_never_fail_and_never_reflect_markup() {
        let i = index();
        let long = "a ".repeat(5000);
        for q in [
            "\"",
            "\"unclosed",
            "AND OR NOT",
            "title:",
            "*",
            "(((",
            "<script>alert(1)</script>",
            "fingerprint^",
            "-",
            "~2",
            "[a TO",
            &long,
        ] {
            let r = i.search(Lang::En, q, None, 1);
            for h in r.hits {
                assert!(!h.snippet.contains("<script"), "{q}: {}", h.snippet);
            }
        }
        // Markup in a document comes back escaped; the only tags in a
        // snippet are the highlights.
        let i = SearchIndex::build([doc(Lang::En, "page", "Markup", "A <b>fingerprint</b> and <script>x</script>.")])
            .unwrap();
        let r = i.search(Lang::En, "fingerprint", None, 1);
        assert_eq!(r.hits.len(), 1);
        let tags = r.hits[0].snippet.replace("<mark>", "").replace("</mark>", "");
        assert!(!tags.contains('<') && tags.contains("&lt;b&gt;"), "{}", r.hits[0].snippet);
    }
}
