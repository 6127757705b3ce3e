//! Rendered responses kept in memory, precompressed, with strong ETags.
//!
//! A page is rendered and compressed once per content version; later
//! requests are a hash-map lookup and a memcpy-free `Bytes` clone. The cache
//! is cleared as a whole when the content version changes (see
//! `web::state::AppState::refresh`), which is simpler and safer than
//! per-item invalidation: a news post shows on the home page, the news
//! list, the feed and the sitemap.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use sha2::{Digest, Sha256};

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

impl CachedBody {
    /// Compresses `bytes` with gzip and brotli and computes the ETag.
    pub fn new(bytes: impl Into<Bytes>, content_type: &'static str) -> CachedBody {
        let identity: Bytes = bytes.into();
        let etag = etag(&identity);
        let tagged = |coding: &str| format!("{}-{coding}\"", etag.trim_end_matches('"'));
        let (etag_gzip, etag_br) = (tagged("gz"), tagged("br"));
        let compressible = !content_type.starts_with("image/png") && !content_type.starts_with("font/");
        let (gzip, br) = if compressible && identity.len() > 256 {
            (smaller(gzip(&identity), identity.len()), smaller(brotli(&identity), identity.len()))
        } else {
            (None, None)
        };
        CachedBody { identity, gzip, br, etag, etag_gzip, etag_br, content_type }
    }
}

/// A strong validator for `bytes`: 96 bits of their SHA-256, quoted.
pub fn etag(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes).iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn smaller(compressed: Vec<u8>, original: usize) -> Option<Bytes> {
    (compressed.len() < original).then(|| Bytes::from(compressed))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::best());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("writing to a Vec cannot fail");
    out
}

/// A rendered page: status and body.
#[derive(Clone)]
pub struct CachedPage {
    /// 200 or 404.
    pub status: u16,
    /// The body.
    pub body: CachedBody,
    /// When it must be rendered again (pages with a form token).
    pub expires: Option<std::time::Instant>,
}

/// Rendered pages by cache key. Bounded: only keys the site can produce
/// (paths in the URL table, press filters from a fixed set) are stored.
#[derive(Default)]
pub struct PageCache {
    pages: RwLock<HashMap<String, Arc<CachedPage>>>,
}

/// Upper bound on entries, as a guard against a key space we did not foresee.
const MAX_ENTRIES: usize = 4096;

impl PageCache {
    /// The cached page for `key`.
    pub fn get(&self, key: &str) -> Option<Arc<CachedPage>> {
        let page = self.pages.read().expect("cache lock").get(key).cloned()?;
        page.expires.is_none_or(|t| std::time::Instant::now() < t).then_some(page)
    }

    /// Stores a page (dropped silently when the cache is full).
    pub fn insert(&self, key: String, page: Arc<CachedPage>) {
        let mut pages = self.pages.write().expect("cache lock");
        if pages.len() < MAX_ENTRIES || pages.contains_key(&key) {
            pages.insert(key, page);
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.pages.write().expect("cache lock").clear();
    }

    /// Number of cached pages.
    pub fn len(&self) -> usize {
        self.pages.read().expect("cache lock").len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
