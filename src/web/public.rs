//! The public site: every GET that is not an asset or a health check.

use std::sync::Arc;

use std::net::IpAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use tower_http::services::ServeFile;

use super::abuse::{PeerAddr, client_ip};
use super::forms;
use super::respond::{self, ASSET_CACHE, PAGE_CACHE};
use super::router::BODY_LIMIT;
use super::state::AppState;
use crate::content::{PRESS_KINDS, Template};
use crate::site::cache::{CachedBody, CachedPage, Effort, PageBody};
use crate::site::token_page::TokenBody;
use crate::site::{PageRequest, SiteIndex, Target, search};

/// How long a petition page is served before it is rendered again with
/// the current count: the count is read at most once a second per page.
const PETITION_PAGE_TTL: Duration = Duration::from_secs(1);

/// Serves a page (from the cache when it can), a form post, or a mailed link.
pub async fn page(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = &parts.method;
    let path = parts.uri.path();
    if let Some(to) = canonical_path(path) {
        return redirect(&to, StatusCode::MOVED_PERMANENTLY);
    }
    let index = state.index();
    let form_route = forms::route(&index, path);
    let takes_posts = form_route.is_some();
    if !(method == Method::GET || method == Method::HEAD || (method == Method::POST && takes_posts)) {
        return method_not_allowed(takes_posts);
    }
    if method == Method::POST || form_route.is_some_and(|(_, _, _, action)| action.is_some()) {
        let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large\n").into_response();
        };
        let peer = parts.extensions.get::<PeerAddr>().map_or(IpAddr::from([127, 0, 0, 1]), |p| p.0.ip());
        return match forms::handle(&state, &index, &parts, peer, body).await {
            Some(res) => res,
            None if method == Method::POST => method_not_allowed(false),
            None => not_found(&state, &index, path),
        };
    }
    if let Some(Target::Redirect { to, status }) = index.resolve(path) {
        return redirect(to, StatusCode::from_u16(*status).unwrap_or(StatusCode::MOVED_PERMANENTLY));
    }
    let req = match page_request(&index, path, parts.uri.query()) {
        Ok(req) => req,
        // A filter or page number in the query: the list's own address.
        Err(to) => return redirect(&to, StatusCode::MOVED_PERMANENTLY),
    };
    if req.q.is_some() && !may_search(&state, &parts) {
        // 429: too many searches from one address.
        return notice_to_retry(&state, &index, path, "search_rate_limited", StatusCode::TOO_MANY_REQUESTS, "60");
    }
    get_page(&state, &index, req, &parts.headers).await
}

/// Whether the client may run another search now (`search_rate_limit`):
/// a results page that is not cached costs CPU.
fn may_search(state: &AppState, parts: &axum::http::request::Parts) -> bool {
    let Some(limiter) = &state.forms.search_limiter else { return true };
    let peer = parts.extensions.get::<PeerAddr>().map_or(IpAddr::from([127, 0, 0, 1]), |p| p.0.ip());
    limiter.allow("search", client_ip(peer, &parts.headers, &state.forms.trusted_proxies))
}

/// A notice page (`key`) in the visitor's language with `status`, telling
/// them to try again after `retry_after` seconds.
fn notice_to_retry(
    state: &AppState,
    index: &SiteIndex,
    path: &str,
    key: &str,
    status: StatusCode,
    retry_after: &'static str,
) -> Response {
    let notice = crate::site::Notice::new(key, status.as_u16());
    let mut res = match crate::site::render_notice(&state.theme, index, index.lang_of_path(path), &notice) {
        Ok(r) => forms::fresh(r, status),
        Err(_) => (status, format!("{}\n", status.canonical_reason().unwrap_or("Try again later"))).into_response(),
    };
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    res
}

async fn get_page(state: &Arc<AppState>, index: &Arc<SiteIndex>, req: PageRequest, headers: &HeaderMap) -> Response {
    let path = req.path.clone();
    let path = path.as_str();
    // A page with a form is kept with a hole for its token, which every
    // request fills with a fresh one (`token_page`).
    let form_page = match index.resolve(path) {
        Some(Target::Page { lang, index: i }) => {
            let page = &index.site.pages[*i];
            forms::FormKind::of_page(page, &index.site).map(|kind| (page, *lang, kind))
        }
        _ => None,
    };
    let expires = form_page
        .as_ref()
        .is_some_and(|(page, ..)| page.petition.is_some())
        .then(|| state.clock.now_ms() + PETITION_PAGE_TTL.as_millis() as i64);
    // Unknown paths share one cached 404 page per language, so random paths
    // neither fill memory nor cost a render each.
    let key = match index.resolve(path) {
        None => format!("404:{}", index.lang_of_path(path)),
        // Debug quoting keeps a query that contains a separator apart.
        Some(_) if req.q.is_some() => format!("{}?{:?}{:?}{}", req.path, req.q, req.kind, req.page),
        Some(_) => format!("{}{}", req.path, crate::site::filter_path(&req)),
    };
    // Search results go to a cache of their own: their key space is
    // unbounded, and the pages' cache must not be emptied by it.
    // The first answer is compressed quickly; a page kept until the content
    // changes is then compressed at maximum effort in the background.
    let (cache, shape, recompress) = match &form_page {
        _ if req.q.is_some() => (&state.search_cache, Shape::Whole(Effort::Fast), false),
        Some(_) => (&state.cache, Shape::WithToken, false),
        None => (&state.cache, Shape::Whole(Effort::Fast), true),
    };
    // A static export asks for every page once: nothing is worth keeping
    // or compressing (it compresses the files it writes).
    let scratch;
    let (cache, recompress, shape) = if !state.exporting.load(std::sync::atomic::Ordering::Relaxed) {
        (cache, recompress, shape)
    } else {
        scratch = crate::site::cache::PageCache::with_capacity(1);
        let shape = if let Shape::Whole(_) = shape { Shape::Whole(Effort::None) } else { shape };
        (&scratch, false, shape)
    };
    let render = async {
        let mut req = req;
        if let Some((page, lang, _)) = &form_page {
            let token = crate::site::token_page::marker().to_owned();
            req.form =
                Some(forms::FormRequest::fresh_form(state, index, page, *lang, path, token).await.map_err(|e| {
                    tracing::error!(error = %crate::error_chain(&e), path, "preparing a form failed");
                    StatusCode::SERVICE_UNAVAILABLE
                })?);
        }
        render_off_thread(state, index, req, shape, expires).await
    };
    let page =
        cache.get_or_render(index.generation, &key, state.clock.now_ms(), render).await.map(|(page, rendered)| {
            crate::metrics::page_cache(!rendered);
            if rendered && recompress {
                upgrade(state, index.generation, key, Arc::clone(&page));
            }
            page
        });
    match page {
        Ok(page) => match (&page.body, &form_page) {
            (PageBody::WithToken(body), Some((.., kind))) => {
                respond::with_token(body, &kind.token(state), status(page.status), headers)
            }
            (PageBody::WithToken(_), None) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error\n").into_response()
            }
            (PageBody::Whole(body), _) => respond::cached(body, status(page.status), headers, PAGE_CACHE),
        },
        // The page needs the database, which does not answer (an outage).
        Err(StatusCode::SERVICE_UNAVAILABLE) => {
            notice_to_retry(state, index, path, "unavailable", StatusCode::SERVICE_UNAVAILABLE, "30")
        }
        Err(code) => (code, "Internal server error\n").into_response(),
    }
}

/// How a rendered page is kept.
#[derive(Clone, Copy)]
enum Shape {
    /// Whole, compressed with this effort.
    Whole(Effort),
    /// In parts around the form token.
    WithToken,
}

/// Compresses a freshly cached page at maximum effort off the request path
/// and swaps it in, unless the page or the snapshot changed meanwhile.
fn upgrade(state: &Arc<AppState>, generation: u64, key: String, page: Arc<CachedPage>) {
    let PageBody::Whole(fast) = &page.body else { return };
    let (state, fast) = (Arc::clone(state), fast.clone());
    tokio::task::spawn_blocking(move || {
        let body = PageBody::Whole(CachedBody::new(fast.identity, fast.content_type));
        let better = Arc::new(CachedPage { status: page.status, body, expires: page.expires });
        state.cache.upgrade(generation, &key, &page, better);
    });
}

/// Renders and compresses a page on the blocking pool: rendering a large
/// list and compressing at maximum effort take milliseconds of CPU that
/// must not stall the async threads serving cached pages.
async fn render_off_thread(
    state: &Arc<AppState>,
    index: &Arc<SiteIndex>,
    req: PageRequest,
    shape: Shape,
    expires: Option<i64>,
) -> Result<Arc<CachedPage>, StatusCode> {
    let (state, index) = (Arc::clone(state), Arc::clone(index));
    let job = tokio::task::spawn_blocking(move || {
        let rendered = crate::site::render(&state.theme, &index, &req).map_err(|e| {
            tracing::error!(error = %crate::error_chain(&e), path = req.path, "rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR
        })?;
        let body = match shape {
            Shape::Whole(effort) => {
                PageBody::Whole(CachedBody::with_effort(rendered.html, rendered.content_type, effort))
            }
            Shape::WithToken => PageBody::WithToken(TokenBody::new(&rendered.html, rendered.content_type)),
        };
        Ok(Arc::new(CachedPage { status: rendered.status, body, expires }))
    });
    job.await.unwrap_or(Err(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Serves a hashed asset.
pub async fn asset(State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap) -> Response {
    match state.theme.assets.get(uri.path()) {
        Some(body) => respond::cached(body, StatusCode::OK, &headers, ASSET_CACHE),
        None => (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not found\n")
            .into_response(),
    }
}

/// `GET /files/<name>`: the file of a public item, streamed (with ranges
/// and `Last-Modified`), in a sandbox (a PDF could carry script). Files of
/// drafts and unknown names are 404.
pub async fn file(State(state): State<Arc<AppState>>, Path(name): Path<String>, req: Request) -> Response {
    let named = crate::documents::is_file_name(&name) && crate::documents::is_named(&state.index().site, &name);
    let (true, Some(media_type)) = (named, crate::documents::media_type(&name)) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not found\n")
            .into_response();
    };
    let served = tower::ServiceExt::oneshot(ServeFile::new(state.files_dir.join(&name)), req).await;
    let mut res = match served {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    if res.status().is_success() {
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
        // Images are shown (share cards); anything else is downloaded.
        let disposition = if media_type.starts_with("image/") {
            "inline".to_owned()
        } else {
            format!("attachment; filename=\"{name}\"")
        };
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    }
    res
}

/// `GET /media/<key>/<width>.<jpg|webp>`: a variant of an uploaded image.
/// Only variant names are files to serve: the original (with whatever
/// metadata it carried) never is. A key names its content, so a variant
/// never changes and is cached for a year.
pub async fn media(
    State(state): State<Arc<AppState>>,
    Path((key, name)): Path<(String, String)>,
    req: Request,
) -> Response {
    let found = crate::media::is_key(&key).then(|| crate::media::variant(&key, &name)).flatten();
    let Some((_, content_type)) = found else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not found\n")
            .into_response();
    };
    let path = crate::media::folder(&state.files_dir, &key).join(&name);
    let served = tower::ServiceExt::oneshot(ServeFile::new(path), req).await;
    let mut res = match served {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    if res.status().is_success() {
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    res
}

/// `GET /healthz`: 200 while the process answers. It asks nothing of the
/// database: an orchestrator restarts instances that fail it, and a
/// database outage is not mended by restarting every instance.
pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// `GET /readyz`: 200 when the database takes a write (the snapshot is
/// loaded before the server listens). A load balancer sends traffic
/// elsewhere while it is 503, for example while the disk is full or the
/// database is down; the check writes at most once a second, however often
/// it is asked.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready().await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the database does not take writes\n").into_response()
    }
}

/// 405, with the methods the path does accept.
fn method_not_allowed(takes_posts: bool) -> Response {
    let allow = if takes_posts { "GET, HEAD, POST" } else { "GET, HEAD" };
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, allow)], "Method not allowed\n").into_response()
}

fn not_found(state: &AppState, index: &SiteIndex, path: &str) -> Response {
    match crate::site::not_found(&state.theme, index, index.lang_of_path(path)) {
        Ok(r) => forms::fresh(r, StatusCode::NOT_FOUND),
        Err(_) => (StatusCode::NOT_FOUND, "Not found\n").into_response(),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
}

fn redirect(to: &str, status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&local_location(to)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// A path on this site stays on this site: browsers read a `Location` that
/// starts with `//` or `/\` as another host, so backslashes are escaped and
/// leading slashes collapsed. Absolute URLs (an editor's redirect to
/// another site) pass unchanged.
fn local_location(to: &str) -> std::borrow::Cow<'_, str> {
    if !to.starts_with('/') || !(to.starts_with("//") || to.contains('\\')) {
        return to.into();
    }
    format!("/{}", to.trim_start_matches('/').replace('\\', "%5C")).into()
}

/// The canonical spelling of a path, when it differs: no trailing slash
/// except on language home pages (`/de/`), no doubled slashes.
fn canonical_path(path: &str) -> Option<String> {
    // Most paths are canonical already: decide without allocating.
    let is_lang_home = path.len() == 4 && path.ends_with('/') && path[1..3].bytes().all(|b| b.is_ascii_lowercase());
    let plain = path.starts_with('/') && !path.contains("//") && (path == "/" || !path.ends_with('/'));
    let short_lang = path.len() == 3 && path[1..].bytes().all(|b| b.is_ascii_lowercase());
    if is_lang_home || (plain && !short_lang) {
        return None;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut canon = format!("/{}", segments.join("/"));
    if segments.len() == 1 && segments[0].len() == 2 && segments[0].bytes().all(|b| b.is_ascii_lowercase()) {
        canon.push('/');
    }
    (canon != path).then_some(canon)
}

/// What the page at `path` is asked for: a press list's filters and a
/// news list's page from the end of its address (`/press/2019/film`,
/// `/news/page/2`), the search page's query from the query string. An
/// impossible value is a 404 (the path stays unknown); unknown query
/// parameters are dropped rather than cached. A filter or page given in
/// the query (older links) is `Err` with the list's own address.
fn page_request(index: &SiteIndex, path: &str, query: Option<&str>) -> Result<PageRequest, String> {
    let mut req = PageRequest { path: path.to_owned(), page: 1, ..PageRequest::default() };
    let Some((base, template, rest)) = list_page(index, path) else { return Ok(req) };
    let (mut year, mut kind, mut page) = (None, None, 1);
    let parsed = match (template, rest.as_slice()) {
        (_, []) => true,
        (Template::News, ["page", n]) => {
            page = n.parse().ok().filter(|p| (2..=index.news_pages()).contains(p)).unwrap_or(0);
            page > 0
        }
        (Template::Press, [y]) if y.bytes().all(|b| b.is_ascii_digit()) => {
            year = press_year(y);
            year.is_some()
        }
        (Template::Press, [k]) => {
            kind = press_kind(k);
            kind.is_some()
        }
        (Template::Press, [y, k]) => {
            (year, kind) = (press_year(y), press_kind(k));
            year.is_some() && kind.is_some()
        }
        _ => false,
    };
    if !parsed {
        return Ok(req); // an unknown path: the 404 page
    }
    req.path = base.to_owned();
    (req.year, req.kind, req.page) = (year, kind, page);
    let mut moved = false;
    for (k, v) in parse_query(query.unwrap_or("")) {
        match (template, k.as_str()) {
            (Template::Press, "year") => moved |= press_year(&v).inspect(|&y| req.year = Some(y)).is_some(),
            (Template::Press, "kind") => moved |= press_kind(&v).inspect(|k| req.kind = Some(k.clone())).is_some(),
            (Template::Search, "q") => req.q = Some(v.chars().take(search::MAX_QUERY_CHARS).collect()),
            (Template::Search, "type") => req.kind = search::KINDS.iter().find(|k| **k == v).map(|k| (*k).to_owned()),
            // Out of range is page 0: one 404 key, whatever the number.
            (Template::News, "page") => {
                req.page = v.parse().ok().filter(|p| (1..=index.news_pages()).contains(p)).unwrap_or(0);
                moved |= req.page > 1;
            }
            (Template::Search, "page") => req.page = v.parse().ok().filter(|p| (1..=1000).contains(p)).unwrap_or(1),
            _ => {}
        }
    }
    if moved {
        return Err(format!("{}{}", req.path, crate::site::filter_path(&req)));
    }
    Ok(req)
}

/// The page a path shows and what follows that page's own address: the
/// path itself, or a press or news page with one or two segments after it.
fn list_page<'a>(index: &SiteIndex, path: &'a str) -> Option<(&'a str, Template, Vec<&'a str>)> {
    let mut base = path;
    let mut rest = Vec::new();
    loop {
        if let Some(Target::Page { index: i, .. }) = index.resolve(base) {
            let template = index.site.pages[*i].template;
            let lists = matches!(template, Template::Press | Template::News);
            return (rest.is_empty() || lists).then_some((base, template, rest));
        }
        let (up, last) = base.rsplit_once('/')?;
        if rest.len() == 2 || up.is_empty() {
            return None;
        }
        rest.insert(0, last);
        base = up;
    }
}

fn press_year(v: &str) -> Option<i32> {
    v.parse().ok().filter(|y| (1900..=2200).contains(y))
}

fn press_kind(v: &str) -> Option<String> {
    PRESS_KINDS.iter().find(|p| **p == v).map(|p| (*p).to_owned())
}

/// Decodes `a=1&b=x+y%21`; malformed escapes are kept literally.
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_canonicalised() {
        assert_eq!(canonical_path("/case/"), Some("/case".into()));
        assert_eq!(canonical_path("//case"), Some("/case".into()));
        assert_eq!(canonical_path("/de"), Some("/de/".into()));
        assert_eq!(canonical_path("/de/"), None);
        assert_eq!(canonical_path("/"), None);
        assert_eq!(canonical_path("/de/fall"), None);
    }

    #[test]
    fn no_redirect_leaves_the_site() {
        for (path, location) in [("/\\evil.example/", "/%5Cevil.example"), ("//evil.example/", "/evil.example")] {
            let to = canonical_path(path).unwrap();
            let res = redirect(&to, StatusCode::MOVED_PERMANENTLY);
            assert_eq!(res.headers()[header::LOCATION], location, "{path}");
        }
        assert_eq!(local_location("/a\\b"), "/a%5Cb");
        assert_eq!(local_location("///\\x"), "/%5Cx");
        assert_eq!(local_location("https://elsewhere.example/x"), "https://elsewhere.example/x");
        assert_eq!(local_location("/case"), "/case");
    }

    #[test]
    fn queries_decode_leniently() {
        assert_eq!(parse_query("q=a+b%21&x"), vec![("q".into(), "a b!".into()), ("x".into(), "".into())]);
        assert_eq!(parse_query("q=%zz%4"), vec![("q".into(), "%zz%4".into())]);
        assert_eq!(parse_query("q=%C3%BC"), vec![("q".into(), "ü".into())]);
    }
}
