//! The static export: the public site as files for any web server or CDN,
//! rendered by asking the same router that serves the dynamic site (in
//! process, no socket), so the two cannot drift.
//!
//! Every path the snapshot answers is written (pages, posts, feeds,
//! sitemaps, robots.txt), then whatever those pages link to on the site
//! (assets, document files), and a `404.html`. A path without an extension
//! becomes `<path>.html`, one ending in `/` `<path>/index.html`. Text files
//! get precompressed `.gz` and `.br` twins. Redirects and former slugs go
//! into `_redirects` (Netlify, Cloudflare Pages) and `nginx-redirects.map`.
//! A second export into the same folder rewrites only what changed and
//! removes what the site no longer has.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use crate::site::{SiteIndex, Target};

/// The list of files the last export wrote, kept in the export folder.
const MANIFEST: &str = ".casefile-export";

/// Brotli quality of the `.br` twins: 5 makes files about 5% larger than 9
/// and needs a hash table of 1 MB where 9 needs 32 MB, which the kernel
/// zeroes for every file (at 9, page faults were most of an export's time).
const BROTLI_QUALITY: i32 = 5;

/// Gzip level of the `.gz` twins: 6 (zlib's default) makes files about
/// 1% larger than 9 in a third of the time.
const GZIP_LEVEL: u32 = 6;

/// Pages rendered at once.
const RENDERING: usize = 4;

/// What an export did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Pages and other files of the site exported (without twins).
    pub files: usize,
    /// Files written because they were new or changed (twins included).
    pub written: usize,
    /// Files removed because the site no longer has them.
    pub removed: usize,
    /// Bytes of the exported files (without twins).
    pub bytes: u64,
    /// Links to addresses with a query (press filters, search, further
    /// pages of a long news list), which a static site cannot answer; the
    /// first page that links each.
    pub dynamic: BTreeMap<String, String>,
}

/// Where an export goes and what it says about where it lives.
pub struct Destination<'a> {
    /// The folder written into.
    pub out: &'a Path,
    /// The host name requests carry (the base URL's).
    pub host: &'a str,
    /// Where forms post, when not to the copy itself: a Casefile instance
    /// that takes posts from the copy (`--form-origin`).
    pub forms_url: Option<&'a str>,
    /// Whether text files get `.gz` and `.br` twins (not for a CDN that
    /// compresses by itself).
    pub twins: bool,
}

/// Exports the site `router` serves (the snapshot `index`) as `to` says;
/// `progress` is told each path. Each file is written as soon as it is
/// rendered, so memory stays flat however large the site.
pub async fn export(
    router: Router,
    index: &SiteIndex,
    to: Destination<'_>,
    progress: impl Fn(&str),
) -> Result<Summary> {
    let (out, host) = (to.out, to.host);
    let mut writer = Writer::open(out)?;
    let mut redirects = Vec::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for (path, target) in index.routes() {
        match target {
            Target::Redirect { to, status } => redirects.push((path.to_owned(), to.clone(), *status)),
            _ => queue.push_back((path.to_owned(), String::new())),
        }
    }
    redirects.sort();
    let mut seen: BTreeSet<String> = queue.iter().map(|(p, _)| p.clone()).collect();
    // A few pages at once, each rendered, compressed and written by one
    // task: a hand-over between threads per file cost more than the
    // writing (the scheduler's wake-ups were a third of an export's time).
    let mut running = tokio::task::JoinSet::new();
    let render = Arc::new(Render {
        router: router.clone(),
        host: host.to_owned(),
        base_url: index.base_url.clone(),
        forms_url: to.forms_url.map(str::to_owned),
    });
    let files = Arc::new(writer.files(to.twins));
    loop {
        while running.len() < RENDERING
            && let Some((path, from)) = queue.pop_front()
        {
            progress(&path);
            let (render, files) = (Arc::clone(&render), Arc::clone(&files));
            running.spawn(async move { render.export(path, from, &files).await });
        }
        let Some(done) = running.join_next().await else { break };
        let exported = done.context("rendering a page")??;
        for (link, on) in exported.links {
            if link.contains('?') {
                writer.summary.dynamic.entry(link).or_insert(on);
            } else if seen.insert(link.clone()) {
                queue.push_back((link, on));
            }
        }
        writer.record(exported.written);
    }
    // What a static host shows for an address it does not have.
    let (_, _, not_found) = get(&router, host, "/casefile-export-404").await?;
    let written = files.put(PathBuf::from("404.html"), not_found, to.twins)?;
    writer.record(written);
    for (name, text) in [("_redirects", redirects_file(&redirects)), ("nginx-redirects.map", nginx_map(&redirects))] {
        let written = files.put(PathBuf::from(name), text.into_bytes(), false)?;
        writer.record(written);
    }
    writer.finish()
}

/// What every page of an export is rendered with.
struct Render {
    router: Router,
    /// The host name requests carry.
    host: String,
    /// The site's address, for its absolute links.
    base_url: String,
    /// Where forms post, when not to the copy itself.
    forms_url: Option<String>,
}

/// What exporting one address found and wrote.
struct Exported {
    /// The site's addresses it links to, each with this page's path.
    links: Vec<(String, String)>,
    written: Written,
}

impl Render {
    /// Exports one address, `from` being the page that linked it (empty
    /// for the snapshot's own routes).
    async fn export(&self, path: String, from: String, files: &Files) -> Result<Exported> {
        let (status, content_type, bytes) = get(&self.router, &self.host, &path).await?;
        if status != StatusCode::OK {
            let linked = if from.is_empty() { String::new() } else { format!(" (linked from {from})") };
            bail!("{path} answers {status}{linked}: the export would have a broken link");
        }
        let html = content_type.starts_with("text/html");
        let links = match html {
            true => links(&String::from_utf8_lossy(&bytes), &self.base_url),
            false => Vec::new(),
        };
        let bytes = match (html, self.forms_url.as_deref()) {
            (false, _) => bytes,
            (true, None) => blank_tokens(bytes),
            (true, Some(url)) => point_forms(blank_tokens(bytes), url),
        };
        let written = files.put(file_for(&path), bytes, files.twins && is_text(&content_type))?;
        Ok(Exported { links: links.into_iter().map(|l| (l, path.clone())).collect(), written })
    }
}

async fn get(router: &Router, host: &str, path: &str) -> Result<(StatusCode, String, Vec<u8>)> {
    let req = Request::get(path).header(header::HOST, host).body(Body::empty())?;
    let res = router.clone().oneshot(req).await.context("the router failed")?;
    let status = res.status();
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.context("reading an answer")?;
    Ok((status, content_type, Vec::from(bytes)))
}

fn is_text(content_type: &str) -> bool {
    let t = content_type.split(';').next().unwrap_or("").trim();
    t.starts_with("text/")
        || t.ends_with("+xml")
        || t.ends_with("json")
        || t.ends_with("javascript")
        || t.ends_with("/xml")
}

/// Where a path's answer is written.
fn file_for(path: &str) -> PathBuf {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || path.ends_with('/') {
        return PathBuf::from(rel).join("index.html");
    }
    let last = rel.rsplit('/').next().unwrap_or(rel);
    if last.contains('.') { PathBuf::from(rel) } else { PathBuf::from(format!("{rel}.html")) }
}

/// The site's own addresses an HTML page links to (`href`, `src`, every
/// candidate of a `srcset`), as paths without fragments; absolute links
/// to `base_url` included.
fn links(html: &str, base_url: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in [" href=\"", " src=\"", " srcset=\""] {
        for piece in html.split(attr).skip(1) {
            let Some(raw) = piece.split('"').next() else { continue };
            let raw = unescape(raw);
            let values: Vec<String> = if attr == " srcset=\"" {
                raw.split(',').filter_map(|c| c.split_whitespace().next()).map(str::to_owned).collect()
            } else {
                vec![raw]
            };
            for value in values {
                let path = match value.strip_prefix(base_url) {
                    Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_owned(),
                    Some(_) => continue,
                    None => value,
                };
                let path = path.split('#').next().unwrap_or("").to_owned();
                if path.starts_with('/') && !path.starts_with("//") {
                    out.push(path);
                }
            }
        }
    }
    out
}

/// A form's signed token is good for two hours after it is made: a file
/// keeps none (`value=""`), so that an export is the same when the site is,
/// and a post from it gets the form back with a fresh token.
fn blank_tokens(page: Vec<u8>) -> Vec<u8> {
    const FIELD: &str = "name=\"token\" value=\"";
    let text = String::from_utf8_lossy(&page);
    if !text.contains(FIELD) {
        return page;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    while let Some(at) = rest.find(FIELD) {
        let after = &rest[at + FIELD.len()..];
        out.push_str(&rest[..at + FIELD.len()]);
        rest = after.find('"').map_or("", |end| &after[end..]);
    }
    out.push_str(rest);
    out.into_bytes()
}

/// Points the page's posting forms (`method="post"` with an action on the
/// site) at `forms_url`; the search form (a GET) stays on the copy.
fn point_forms(page: Vec<u8>, forms_url: &str) -> Vec<u8> {
    const ACTION: &str = "action=\"";
    let text = String::from_utf8_lossy(&page);
    if !text.contains("<form") {
        return page;
    }
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text.as_ref();
    while let Some(at) = rest.find("<form") {
        let end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        let tag = &rest[at..end];
        out.push_str(&rest[..at]);
        match (tag.contains("method=\"post\""), tag.find(ACTION)) {
            (true, Some(a)) => {
                let value_at = a + ACTION.len();
                let value_end = tag[value_at..].find('"').map_or(tag.len(), |e| value_at + e);
                let action = unescape(&tag[value_at..value_end]);
                out.push_str(&tag[..value_at]);
                if action.starts_with('/') && !action.starts_with("//") {
                    out.push_str(&format!("{forms_url}{action}").replace('&', "&amp;").replace('"', "&quot;"));
                } else {
                    out.push_str(&tag[value_at..value_end]);
                }
                out.push_str(&tag[value_end..]);
            }
            _ => out.push_str(tag),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.into_bytes()
}

/// The entities the template engine and the sanitiser write in attributes.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn redirects_file(redirects: &[(String, String, u16)]) -> String {
    let mut out = String::from("# Redirects of the Casefile export (Netlify, Cloudflare Pages)\n");
    for (from, to, status) in redirects {
        out.push_str(&format!("{from} {to} {status}\n"));
    }
    out
}

/// For nginx: `map $uri $casefile_redirect { include nginx-redirects.map; }`
/// and `if ($casefile_redirect) { return 301 $casefile_redirect; }`.
fn nginx_map(redirects: &[(String, String, u16)]) -> String {
    let mut out = String::from("# Redirects of the Casefile export: see docs/DEPLOY.md\n");
    for (from, to, _) in redirects {
        out.push_str(&format!("{from} {to};\n"));
    }
    out
}

/// Keeps count of what an export writes and, at the end, removes what the
/// previous export wrote that is gone.
struct Writer {
    out: PathBuf,
    before: BTreeSet<PathBuf>,
    now: BTreeSet<PathBuf>,
    /// The folders made (and made readable) so far, shared by the tasks.
    folders: Arc<Mutex<HashSet<PathBuf>>>,
    summary: Summary,
}

/// What one file's export wrote.
struct Written {
    /// The file and its twins, as paths in the export.
    paths: Vec<PathBuf>,
    /// The file's size (without twins).
    bytes: u64,
    /// How many of them were new or changed.
    changed: usize,
}

/// Writes files that changed (each whole, then renamed into place) with
/// their twins; one per task, so every core compresses.
struct Files {
    out: PathBuf,
    folders: Arc<Mutex<HashSet<PathBuf>>>,
    twins: bool,
}

impl Writer {
    fn open(out: &Path) -> Result<Writer> {
        // Only plain relative paths: a manifest is a file in a folder others
        // may write to, and what it lists may be deleted.
        let plain = |p: &PathBuf| p.components().all(|c| matches!(c, std::path::Component::Normal(_)));
        let before: BTreeSet<PathBuf> = std::fs::read_to_string(out.join(MANIFEST))
            .map(|text| text.lines().map(PathBuf::from).filter(plain).collect())
            .unwrap_or_default();
        if before.is_empty() && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some()) {
            bail!("{} is not empty and holds no earlier export; export into a new or empty folder", out.display());
        }
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        public(out, 0o755)?;
        let folders = Arc::new(Mutex::new(HashSet::from([out.to_owned()])));
        Ok(Writer { out: out.to_owned(), before, now: BTreeSet::new(), folders, summary: Summary::default() })
    }

    fn files(&self, twins: bool) -> Files {
        Files { out: self.out.clone(), folders: Arc::clone(&self.folders), twins }
    }

    fn record(&mut self, written: Written) {
        self.summary.files += 1;
        self.summary.bytes += written.bytes;
        self.summary.written += written.changed;
        self.now.extend(written.paths);
    }

    fn finish(mut self) -> Result<Summary> {
        for gone in self.before.difference(&self.now) {
            if std::fs::remove_file(self.out.join(gone)).is_ok() {
                self.summary.removed += 1;
            }
        }
        let list: Vec<String> = self.now.iter().map(|p| p.display().to_string()).collect();
        write_file(&self.out.join(MANIFEST), format!("{}\n", list.join("\n")).as_bytes())?;
        Ok(self.summary)
    }
}

impl Files {
    /// Writes `bytes` as `rel` (with `.gz` and `.br` twins if `text`),
    /// each file only if it changed.
    fn put(&self, rel: PathBuf, bytes: Vec<u8>, text: bool) -> Result<Written> {
        let size = bytes.len() as u64;
        let mut versions = Vec::with_capacity(3);
        if text {
            let gz = crate::site::cache::gzip(&bytes, GZIP_LEVEL);
            let br = crate::site::cache::brotli(&bytes, BROTLI_QUALITY);
            versions.push((PathBuf::from(format!("{}.gz", rel.display())), gz));
            versions.push((PathBuf::from(format!("{}.br", rel.display())), br));
        }
        versions.insert(0, (rel, bytes));
        let mut changed = 0;
        for (rel, bytes) in &versions {
            let target = self.out.join(rel);
            if std::fs::read(&target).ok().as_deref() != Some(bytes.as_slice()) {
                self.folder_for(&target)?;
                write_file(&target, bytes)?;
                changed += 1;
            }
        }
        Ok(Written { paths: versions.into_iter().map(|(rel, _)| rel).collect(), bytes: size, changed })
    }

    /// Makes the file's folder (readable by everyone), once per export.
    fn folder_for(&self, target: &Path) -> Result<()> {
        let Some(dir) = target.parent() else { return Ok(()) };
        if self.folders.lock().unwrap_or_else(|p| p.into_inner()).contains(dir) {
            return Ok(());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        public(dir, 0o755)?;
        self.folders.lock().unwrap_or_else(|p| p.into_inner()).insert(dir.to_owned());
        Ok(())
    }
}

/// Writes a file readable by everyone (a web server reads the export;
/// Casefile's own files are private, `main` sets umask 077).
fn write_file(target: &Path, bytes: &[u8]) -> Result<()> {
    // The whole name plus a suffix: `feed.atom` and `feed.rss` are written
    // at once, and must not share a temporary file.
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(".casefile-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    public(&tmp, 0o644)?;
    std::fs::rename(&tmp, target).with_context(|| format!("cannot write {}", target.display()))
}

#[cfg(unix)]
fn public(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot make {} readable", path.display()))
}

#[cfg(not(unix))]
fn public(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_files_a_static_host_serves_at_those_paths() {
        assert_eq!(file_for("/"), PathBuf::from("index.html"));
        assert_eq!(file_for("/de/"), PathBuf::from("de/index.html"));
        assert_eq!(file_for("/case"), PathBuf::from("case.html"));
        assert_eq!(file_for("/news/a-post"), PathBuf::from("news/a-post.html"));
        assert_eq!(file_for("/sitemap.xml"), PathBuf::from("sitemap.xml"));
        assert_eq!(file_for("/assets/style.abc.css"), PathBuf::from("assets/style.abc.css"));
    }

    #[test]
    fn form_tokens_are_left_out() {
        let page = br#"<form><input type="hidden" name="token" value="17.ab"><input name="x" value="y"></form>"#;
        let out = String::from_utf8(blank_tokens(page.to_vec())).unwrap();
        assert_eq!(out, r#"<form><input type="hidden" name="token" value=""><input name="x" value="y"></form>"#);
    }

    #[test]
    fn posting_forms_point_at_the_forms_url_and_the_search_stays() {
        let page = br#"<form class="form" method="post" action="&#x2f;pardon#petition" novalidate><form role="search" method="get" action="&#x2f;search"><form method="post" action="https://else.example/x">"#;
        let out = String::from_utf8(point_forms(page.to_vec(), "https://forms.example")).unwrap();
        assert_eq!(
            out,
            r#"<form class="form" method="post" action="https://forms.example/pardon#petition" novalidate><form role="search" method="get" action="&#x2f;search"><form method="post" action="https://else.example/x">"#
        );
    }

    #[test]
    fn links_are_read_as_the_templates_escape_them() {
        let html = r#"<a href="&#x2f;case#x">x</a><img src="/assets/a.png"><link href="https://s.example/feed.atom">
            <a href="https://other.example/">o</a><a href="//cdn.example/x">c</a><a href="/press?year=2019&amp;kind=tv">p</a>"#;
        assert_eq!(
            links(html, "https://s.example"),
            ["/case", "/feed.atom", "/press?year=2019&kind=tv", "/assets/a.png"]
        );
        let picture = r#"<source srcset="/media/k/480.webp 480w, /media/k/960.webp 960w"><img src="/media/k/960.jpg" srcset="/media/k/480.jpg 480w">"#;
        assert_eq!(
            links(picture, "https://s.example"),
            ["/media/k/960.jpg", "/media/k/480.webp", "/media/k/960.webp", "/media/k/480.jpg"]
        );
    }
}
