//! The state every handler shares, and keeping the site snapshot fresh.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::RwLock;

use anyhow::Result;

use super::forms::Forms;
use crate::clock::Clock;
use crate::site::cache::PageCache;
use crate::site::{SiteIndex, Theme};
use crate::store::Store;

/// How many search results pages are kept: a few hundred queries cover
/// what a crowd asks on a busy night (a results page is about 20 KB).
const SEARCH_CACHE_ENTRIES: usize = 512;

/// Shared by all requests (behind an `Arc`).
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Templates, strings and assets.
    pub theme: Theme,
    /// The site served.
    pub site_id: i64,
    /// The public base URL, without a trailing slash.
    pub base_url: String,
    /// Rendered pages of the current snapshot.
    pub cache: PageCache,
    /// Search results pages of the current snapshot, the most recent queries.
    pub search_cache: PageCache,
    /// Whether `casefile export` is asking for the pages: they are not kept
    /// in `cache` (it asks for each once and compresses what it writes),
    /// and a petition page lists no signers (a copy would keep their names
    /// after they erased their data).
    pub exporting: std::sync::atomic::AtomicBool,
    /// The public forms.
    pub forms: Forms,
    /// Where document files are stored (`/files/<name>`).
    pub files_dir: std::path::PathBuf,
    /// The time decisions are made by.
    pub clock: Clock,
    /// Where the search index is kept between runs.
    pub search_dir: std::path::PathBuf,
    /// How uploaded PDFs' text is read.
    pub pdf_reader: crate::pdf::PdfReader,
    /// Where the install's served sites are, by key (this one's included):
    /// for the links between them ("also on …").
    pub site_urls: Arc<HashMap<String, String>>,
    /// The host names this site answers on; none for the first site, which
    /// answers every host no other site names.
    pub hosts: Vec<String>,
    /// Whether a host no site names gets a 404 (on the first site).
    pub unknown_host_404: bool,
    /// The install's other sites, on the first site only: `web::app` routes
    /// their hosts to them.
    others: OnceLock<Vec<Arc<AppState>>>,
    /// Every site of the install: an edit here may show there too (a
    /// shared item), so each refreshes after it.
    family: OnceLock<Vec<Weak<AppState>>>,
    index: RwLock<Arc<SiteIndex>>,
    /// Counts snapshots: the page cache belongs to one.
    generations: AtomicU64,
    /// Held while a snapshot is built: one at a time, newest last.
    refreshing: tokio::sync::Mutex<()>,
    /// Held while a search index is built in the background: edits in a
    /// row build it once, for the snapshot current when the build starts.
    searching: tokio::sync::Mutex<()>,
    /// The last readiness check and when it ran (`ready`).
    readiness: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl AppState {
    /// Loads the site's snapshot and builds the state; `dirs` are where
    /// files are kept (shared by every site) and this site's search index.
    pub async fn new(
        store: Store,
        theme: Theme,
        site_id: i64,
        urls: (String, Arc<HashMap<String, String>>),
        forms: Forms,
        dirs: (std::path::PathBuf, std::path::PathBuf),
        clock: Clock,
    ) -> Result<AppState> {
        let ((files_dir, search_dir), (base_url, site_urls)) = (dirs, urls);
        let index = load_index(&store, site_id, (&base_url, &site_urls), 0, clock.now(), &search_dir).await?;
        release_free_memory().await;
        let index = RwLock::new(Arc::new(index));
        let generations = AtomicU64::new(0);
        Ok(AppState {
            store,
            theme,
            site_id,
            base_url,
            site_urls,
            cache: PageCache::default(),
            search_cache: PageCache::with_capacity(SEARCH_CACHE_ENTRIES),
            exporting: std::sync::atomic::AtomicBool::new(false),
            forms,
            files_dir,
            clock,
            search_dir,
            pdf_reader: crate::pdf::PdfReader::this_program(),
            hosts: Vec::new(),
            unknown_host_404: false,
            others: OnceLock::new(),
            family: OnceLock::new(),
            index,
            generations,
            refreshing: tokio::sync::Mutex::new(()),
            searching: tokio::sync::Mutex::new(()),
            readiness: tokio::sync::Mutex::new(None),
        })
    }

    /// Whether the database takes writes, checked at most once a second:
    /// probes that arrive together wait for one check and share its answer.
    pub async fn ready(&self) -> bool {
        let mut last = self.readiness.lock().await;
        match *last {
            Some((at, ready)) if at.elapsed() < Duration::from_secs(1) => ready,
            _ => {
                let ready = match self.store.check_writable().await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(error = %crate::error_chain(&e), "not ready: the database refuses writes");
                        false
                    }
                };
                *last = Some((std::time::Instant::now(), ready));
                ready
            }
        }
    }

    /// The current snapshot.
    pub fn index(&self) -> Arc<SiteIndex> {
        self.index.read().clone()
    }

    /// Reloads the snapshot if the content version changed (here or in
    /// another process sharing the database) or a scheduled item became due,
    /// search index included. Returns whether it reloaded.
    pub async fn refresh(&self) -> Result<bool> {
        let Some(index) = self.reload_pages().await? else { return Ok(false) };
        self.install_search(&index).await?;
        release_free_memory().await;
        Ok(true)
    }

    /// Makes `others` the install's other sites, served beside `first`.
    pub fn join(first: &Arc<AppState>, others: Vec<Arc<AppState>>) {
        let family: Vec<Weak<AppState>> = std::iter::once(first).chain(others.iter()).map(Arc::downgrade).collect();
        for site in std::iter::once(first).chain(others.iter()) {
            let _ = site.family.set(family.clone());
        }
        let _ = first.others.set(others);
    }

    /// Every site of the install, this one included, the first first.
    pub fn family(&self) -> Vec<Arc<AppState>> {
        self.family.get().into_iter().flatten().filter_map(Weak::upgrade).collect()
    }

    /// The install's other sites (on the first site; empty elsewhere).
    pub fn others(&self) -> &[Arc<AppState>] {
        self.others.get().map_or(&[], Vec::as_slice)
    }

    /// The same after an editor's save, for this site and every other site
    /// of the install (whose version moved if the edit was to an item it
    /// shows too): the pages follow at once, the search index is built in
    /// the background (seconds on a site of thousands of items) and
    /// searches use the previous one until it is ready. Returns whether
    /// this site reloaded.
    pub async fn refresh_after_edit(self: &Arc<Self>) -> Result<bool> {
        let reloaded = self.reload_after_edit().await?;
        for other in self.family.get().into_iter().flatten().filter_map(Weak::upgrade) {
            if !Arc::ptr_eq(&other, self)
                && let Err(e) = other.reload_after_edit().await
            {
                tracing::warn!(error = %format!("{e:#}"), "reloading another site after an edit failed; its next check will");
            }
        }
        Ok(reloaded)
    }

    async fn reload_after_edit(self: &Arc<Self>) -> Result<bool> {
        let Some(index) = self.reload_pages().await? else { return Ok(false) };
        let state = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = state.install_search(&index).await {
                tracing::warn!(error = %format!("{e:#}"), "building the search index failed; the next change retries");
            }
            release_free_memory().await;
        });
        Ok(true)
    }

    /// Swaps in a new snapshot (still searching with the previous index)
    /// and resets the page cache, if anything changed.
    async fn reload_pages(&self) -> Result<Option<Arc<SiteIndex>>> {
        let _one_at_a_time = self.refreshing.lock().await;
        let current = self.index();
        let version = self.store.content_version(self.site_id).await?;
        let now = self.clock.now();
        let due = current.next_publication.is_some_and(|t| t <= now);
        if version == current.version && !due {
            return Ok(None);
        }
        let generation = self.generations.fetch_add(1, Ordering::SeqCst) + 1;
        let started = std::time::Instant::now();
        let (version, mut site) = self.store.snapshot(self.site_id).await?;
        locate_elsewhere(&mut site, &self.site_urls);
        let base_url = self.base_url.clone();
        let mut index =
            tokio::task::spawn_blocking(move || SiteIndex::reusing_search(site, version, now, &base_url, &current))
                .await??;
        index.generation = generation;
        let index = Arc::new(index);
        // The snapshot first, then the cache: a render from the old snapshot
        // that finishes in between is refused by the cache's generation.
        *self.index.write() = Arc::clone(&index);
        self.cache.reset(generation);
        self.search_cache.reset(generation);
        tracing::info!(version, ms = started.elapsed().as_millis() as u64, "content changed; page cache cleared");
        crate::metrics::snapshot_reloaded();
        Ok(Some(index))
    }

    /// Builds `index`'s search index and installs it, unless a newer
    /// snapshot has its own already.
    async fn install_search(&self, index: &Arc<SiteIndex>) -> Result<()> {
        let _one_at_a_time = self.searching.lock().await;
        // Edits made while this waited: build for the newest snapshot only.
        let index = self.index().max_by_generation(index);
        if index.search_is_current() {
            return Ok(());
        }
        let (built, dir) = (Arc::clone(&index), self.search_dir.clone());
        let search = tokio::task::spawn_blocking(move || built.build_search(Some(&dir))).await??;
        index.set_search(search);
        if self.index().generation == index.generation {
            // Results cached from the previous index are stale now.
            self.search_cache.reset(index.generation);
        }
        Ok(())
    }

    /// Refreshes as soon as another process announces a change to this
    /// site (PostgreSQL's `LISTEN`; nothing to do on SQLite). The periodic
    /// check stays the fallback for a notification missed while the
    /// listening connection was down.
    pub fn spawn_change_listener(self: &Arc<Self>) {
        let state = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match state.store.change_feed().await {
                    Ok(None) => return,
                    Ok(Some(feed)) => {
                        let e = state.follow(feed).await;
                        tracing::warn!(error = %e, "lost the content change notifications; listening again");
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for content changes; checking periodically"),
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }

    /// Refreshes at each change `feed` announces for this site, until the
    /// feed fails; returns why.
    async fn follow(&self, mut feed: crate::store::ChangeFeed) -> sqlx::Error {
        loop {
            match feed.next().await {
                Ok(site) if site == self.site_id => {
                    if let Err(e) = self.refresh().await {
                        tracing::warn!(error = %format!("{e:#}"), "could not load announced content changes");
                    }
                }
                Ok(_) => {}
                Err(e) => return e,
            }
        }
    }

    /// Checks for content changes every `every` until the process ends.
    pub fn spawn_refresher(self: &Arc<Self>, every: Duration) {
        let state = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                state.forms.limiter.forget_idle();
                if let Some(limiter) = &state.forms.search_limiter {
                    limiter.forget_idle();
                }
                if let Err(e) = state.refresh().await {
                    tracing::warn!(error = %format!("{e:#}"), "could not check for content changes");
                }
            }
        });
    }
}

/// What loading the content freed (the rows, the previous snapshot once
/// its last reader let go) goes back to the system: it takes a few
/// milliseconds on a large heap, so not on the async threads.
async fn release_free_memory() {
    let started = std::time::Instant::now();
    let _ = tokio::task::spawn_blocking(crate::alloc::release_free_memory).await;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "free heap pages returned to the system");
}

/// Gives the other sites that show this one's items their addresses.
fn locate_elsewhere(site: &mut crate::content::Site, urls: &HashMap<String, String>) {
    for other in &mut site.elsewhere {
        other.url = urls.get(&other.site.key).cloned();
    }
}

/// Loads the content and builds the snapshot (URL table, search index) off
/// the async threads: it takes milliseconds to seconds on a large site.
async fn load_index(
    store: &Store,
    site_id: i64,
    (base_url, site_urls): (&str, &HashMap<String, String>),
    generation: u64,
    now: i64,
    search_dir: &std::path::Path,
) -> Result<SiteIndex> {
    let search_dir = search_dir.to_owned();
    let started = std::time::Instant::now();
    let (version, mut site) = store.snapshot(site_id).await?;
    locate_elsewhere(&mut site, site_urls);
    let loaded = started.elapsed();
    let base_url = base_url.to_owned();
    let mut index =
        tokio::task::spawn_blocking(move || SiteIndex::new(site, version, now, &base_url, Some(&search_dir))).await??;
    index.generation = generation;
    tracing::debug!(
        version,
        load_ms = loaded.as_millis() as u64,
        index_ms = (started.elapsed() - loaded).as_millis() as u64,
        "snapshot built"
    );
    Ok(index)
}
