//! Rendered responses kept in memory, precompressed, with strong ETags.
//!
//! A page is rendered and compressed once per content version; later
//! requests are a hash-map lookup and a memcpy-free `Bytes` clone. The cache
//! is cleared as a whole when the content version changes (see
//! `web::state::AppState::refresh`), which is simpler and safer than
//! per-item invalidation: a news post shows on the home page, the news
//! list, the feed and the sitemap.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

use super::token_page::TokenBody;

/// One response body in every encoding we serve.
#[derive(Clone)]
pub struct CachedBody {
    /// The uncompressed bytes.
    pub identity: Bytes,
    /// gzip, if it is smaller.
    pub gzip: Option<Bytes>,
    /// brotli, if it is smaller.
    pub br: Option<Bytes>,
    /// Strong validator over the uncompressed bytes, quoted.
    pub etag: String,
    /// The validators of the gzip and brotli representations: a strong
    /// ETag names one representation, and a content coding makes another
    /// (RFC 9110, 8.8.3), so caches never mix them up.
    pub etag_gzip: String,
    /// See `etag_gzip`.
    pub etag_br: String,
    /// The Content-Type header value.
    pub content_type: &'static str,
}

/// How hard to compress: once for a body served many times, quickly for
/// a body served once (search results, form pages, API lists) or for the
/// first answer of a page that is compressed harder in the background. The
/// validators name the content and the coding, not the effort: both are the
/// same representation, and pages are not served in ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effort {
    /// brotli 11 and gzip 9: worth it for a body kept in memory.
    Max,
    /// brotli 4 and gzip 1, nothing under 1 KiB: a fraction of a
    /// millisecond on the request path.
    Fast,
    /// Not compressed: a page asked for once (a static export, which
    /// compresses its files itself).
    None,
}

/// Bodies above this size are compressed with less effort even when kept.
const LARGE: usize = 256 * 1024;

impl CachedBody {
    /// Compresses `bytes` with gzip and brotli at maximum effort and
    /// computes the ETag: for bodies that are kept.
    pub fn new(bytes: impl Into<Bytes>, content_type: &'static str) -> CachedBody {
        CachedBody::with_effort(bytes, content_type, Effort::Max)
    }

    /// The same, at the given effort.
    pub fn with_effort(bytes: impl Into<Bytes>, content_type: &'static str, effort: Effort) -> CachedBody {
        let identity: Bytes = bytes.into();
        let etag = etag(&identity);
        let tagged = |coding: &str| format!("{}-{coding}\"", etag.trim_end_matches('"'));
        let (etag_gzip, etag_br) = (tagged("gz"), tagged("br"));
        let compressible = !content_type.starts_with("image/png") && !content_type.starts_with("font/");
        let worth = match effort {
            Effort::Max => 256,
            Effort::Fast => 1024,
            Effort::None => usize::MAX,
        };
        let (gzip, br) = if compressible && identity.len() > worth {
            // brotli 11 manages about a megabyte a second: a sitemap of
            // thousands of URLs gets a lighter setting.
            let (level, quality) = match effort {
                Effort::Max if identity.len() <= LARGE => (9, 11),
                Effort::Max => (6, 6),
                Effort::Fast | Effort::None => (1, 4),
            };
            (smaller(gzip(&identity, level), identity.len()), smaller(brotli(&identity, quality), identity.len()))
        } else {
            (None, None)
        };
        CachedBody { identity, gzip, br, etag, etag_gzip, etag_br, content_type }
    }
}

/// A strong validator for `bytes`: 96 bits of their SHA-256, quoted.
pub fn etag(bytes: &[u8]) -> String {
    let hex = crate::ids::to_hex(&Sha256::digest(bytes)[..12]);
    format!("\"{hex}\"")
}

fn smaller(compressed: Vec<u8>, original: usize) -> Option<Bytes> {
    (compressed.len() < original).then(|| Bytes::from(compressed))
}

pub(crate) fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::new(level));
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

/// Compresses with brotli, with a window no larger than the input needs
/// (at least 256 KiB: smaller windows select hashers this brotli does not
/// have). How much memory brotli zeroes per call depends on the quality:
/// 1 MB at 5, 32 MB at 9 (which made page faults most of a static
/// export's time), a window's worth at 10 and 11.
pub(crate) fn brotli(data: &[u8], quality: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let lgwin = (usize::BITS - data.len().leading_zeros()).clamp(18, 22) as i32;
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin, size_hint: data.len(), ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("writing to a Vec cannot fail");
    out
}

/// A rendered page: status and body.
pub struct CachedPage {
    /// 200 or 404.
    pub status: u16,
    /// The body.
    pub body: PageBody,
    /// When it must be rendered again (a petition page, for its count), in
    /// unix milliseconds by the app's clock.
    pub expires: Option<i64>,
}

/// What a cached page holds.
pub enum PageBody {
    /// The same bytes for every request.
    Whole(CachedBody),
    /// A form page, completed per request with a fresh form token.
    WithToken(TokenBody),
}

/// Rendered pages by cache key, for one snapshot at a time.
///
/// The cache belongs to a snapshot generation: [`PageCache::reset`] empties
/// it for a new one, and a page rendered from an older snapshot is never
/// stored after that ([`PageCache::insert`] compares generations under the
/// lock), so a stale page cannot outlive its snapshot. Bounded: only keys
/// the site can produce (paths in the URL table, press filters from a fixed
/// set) are stored.
pub struct PageCache {
    pages: RwLock<Pages>,
    /// Renders under way, per key: concurrent misses wait for one render.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// At most this many entries; a new key beyond it empties the cache.
    capacity: usize,
}

impl Default for PageCache {
    fn default() -> PageCache {
        PageCache::with_capacity(MAX_PAGES)
    }
}

#[derive(Default)]
struct Pages {
    generation: u64,
    map: HashMap<String, Arc<CachedPage>>,
}

/// Upper bound on entries of the page cache, as a guard against a key
/// space we did not foresee.
const MAX_PAGES: usize = 4096;

impl PageCache {
    /// An empty cache of at most `capacity` entries. When a new key finds
    /// it full, it starts again empty: for search results, whose keys are
    /// unbounded, that keeps the queries asked since, which are the ones
    /// asked now.
    pub fn with_capacity(capacity: usize) -> PageCache {
        PageCache { pages: RwLock::default(), inflight: Mutex::default(), capacity }
    }

    /// The cached page for `key`, unless it expired by `now_ms`.
    pub fn get(&self, key: &str, now_ms: i64) -> Option<Arc<CachedPage>> {
        let page = self.pages.read().map.get(key).cloned()?;
        page.expires.is_none_or(|t| now_ms < t).then_some(page)
    }

    /// Stores a page rendered from snapshot `generation`; dropped if the
    /// cache has moved on to another snapshot.
    pub fn insert(&self, generation: u64, key: String, page: Arc<CachedPage>) {
        let mut pages = self.pages.write();
        if pages.generation != generation {
            return;
        }
        if pages.map.len() >= self.capacity && !pages.map.contains_key(&key) {
            pages.map.clear();
        }
        pages.map.insert(key, page);
    }

    /// Empties the cache for snapshot `generation`.
    pub fn reset(&self, generation: u64) {
        let mut pages = self.pages.write();
        pages.generation = generation;
        pages.map.clear();
    }

    /// Replaces the page stored for `key` by a better one (the same page,
    /// compressed harder), unless it changed or the snapshot moved on since.
    pub fn upgrade(&self, generation: u64, key: &str, old: &Arc<CachedPage>, better: Arc<CachedPage>) {
        let mut pages = self.pages.write();
        if pages.generation == generation && pages.map.get(key).is_some_and(|p| Arc::ptr_eq(p, old)) {
            pages.map.insert(key.to_owned(), better);
        }
    }

    /// The cached page for `key`, or the one `render` makes (stored for
    /// snapshot `generation`), and whether this call rendered it.
    /// Concurrent callers for one key wait for a single render instead of
    /// each doing it.
    pub async fn get_or_render<E, F>(
        &self,
        generation: u64,
        key: &str,
        now_ms: i64,
        render: F,
    ) -> Result<(Arc<CachedPage>, bool), E>
    where
        F: Future<Output = Result<Arc<CachedPage>, E>>,
    {
        if let Some(page) = self.get(key, now_ms) {
            return Ok((page, false));
        }
        let gate = Arc::clone(self.inflight.lock().entry(key.to_owned()).or_default());
        let _turn = gate.lock().await;
        if let Some(page) = self.get(key, now_ms) {
            return Ok((page, false));
        }
        let result = render.await;
        if let Ok(page) = &result {
            self.insert(generation, key.to_owned(), Arc::clone(page));
        }
        self.inflight.lock().remove(key);
        result.map(|page| (page, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Arc<CachedPage> {
        let body = PageBody::Whole(CachedBody::new(text.to_owned(), "text/plain"));
        Arc::new(CachedPage { status: 200, body, expires: None })
    }

    fn text(page: &CachedPage) -> &[u8] {
        match &page.body {
            PageBody::Whole(b) => &b.identity,
            PageBody::WithToken(_) => unreachable!("whole pages only here"),
        }
    }

    #[test]
    fn a_full_cache_starts_again_with_the_newest_key() {
        let cache = PageCache::with_capacity(2);
        cache.insert(0, "a".into(), page("a"));
        cache.insert(0, "b".into(), page("b"));
        cache.insert(0, "b".into(), page("b2"));
        assert!(cache.get("a", 0).is_some(), "replacing a key does not count as new");
        cache.insert(0, "c".into(), page("c"));
        assert!(cache.get("a", 0).is_none() && cache.get("b", 0).is_none());
        assert_eq!(text(&cache.get("c", 0).unwrap()), b"c");
    }

    #[test]
    fn a_page_from_an_older_snapshot_is_never_stored_after_a_newer_one_is_live() {
        let cache = PageCache::default();
        cache.reset(2);
        // A render that started on snapshot 1 finishes after the swap to 2.
        cache.insert(1, "/".into(), page("old"));
        assert!(cache.get("/", 0).is_none(), "the old page is dropped");
        cache.insert(2, "/".into(), page("new"));
        assert_eq!(text(&cache.get("/", 0).unwrap()), b"new");
        let fast = cache.get("/", 0).unwrap();
        cache.upgrade(2, "/", &fast, page("better"));
        assert_eq!(text(&cache.get("/", 0).unwrap()), b"better");
        cache.upgrade(2, "/", &fast, page("stale upgrade"));
        assert_eq!(text(&cache.get("/", 0).unwrap()), b"better", "only the page it was made from is replaced");
        cache.reset(3);
        assert!(cache.get("/", 0).is_none(), "a new snapshot starts empty");
    }

    #[tokio::test]
    async fn concurrent_misses_for_one_page_render_it_once() {
        let cache = Arc::new(PageCache::default());
        let renders = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, renders) = (Arc::clone(&cache), Arc::clone(&renders));
                tokio::spawn(async move {
                    cache
                        .get_or_render(0, "/x", 0, async {
                            renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            Ok::<_, ()>(page("x"))
                        })
                        .await
                        .unwrap()
                        .0
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(text(&t.await.unwrap()), b"x");
        }
        assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn fast_compression_skips_small_bodies_and_still_compresses_large_ones() {
        let small = CachedBody::with_effort("a".repeat(500), "text/html", Effort::Fast);
        assert!(small.gzip.is_none() && small.br.is_none());
        let large = CachedBody::with_effort("hello world ".repeat(1000), "text/html", Effort::Fast);
        assert!(large.gzip.is_some() && large.br.is_some());
    }
}
