//! Static assets (CSS, JavaScript, icons) with content-hashed names.
//!
//! `style.css` is served as `/assets/style.3f9a1c2b7d0e.css` with a one-year
//! immutable cache: a changed file gets a new name, so no visitor ever keeps
//! a stale copy. Bodies are precompressed once at start-up.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use super::cache::CachedBody;

#[derive(Embed)]
#[folder = "assets/"]
struct BuiltinAssets;

/// The theme's static files.
pub struct Assets {
    /// Logical name (`style.css`) → public URL (`/assets/style.<hash>.css`).
    urls: HashMap<String, String>,
    /// Public URL → body.
    bodies: HashMap<String, CachedBody>,
}

impl Assets {
    /// Loads the embedded assets, replaced by same-named files in `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Assets> {
        let mut urls = HashMap::new();
        let mut bodies = HashMap::new();
        for name in BuiltinAssets::iter() {
            let over = dir.map(|d| d.join(name.as_ref())).filter(|p| p.is_file());
            let bytes = match over {
                Some(p) => std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?,
                None => BuiltinAssets::get(&name).expect("listed").data.into_owned(),
            };
            let hash = Sha256::digest(&bytes);
            let short = crate::ids::to_hex(&hash[..6]);
            let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
            let url = format!("/assets/{stem}.{short}.{ext}");
            bodies.insert(url.clone(), CachedBody::new(bytes, content_type(ext)));
            urls.insert(name.into_owned(), url);
        }
        Ok(Assets { urls, bodies })
    }

    /// The public URL of an asset.
    pub fn url(&self, name: &str) -> String {
        self.urls.get(name).cloned().unwrap_or_else(|| format!("/assets/{name}"))
    }

    /// All logical name → URL pairs (for templates).
    pub fn urls(&self) -> &HashMap<String, String> {
        &self.urls
    }

    /// The body served at a public URL.
    pub fn get(&self, url: &str) -> Option<&CachedBody> {
        self.bodies.get(url)
    }
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}
