//! `casefile serve`: open the database (creating the default site on first
//! start), bind, serve until SIGINT/SIGTERM.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::mail::worker::MailWorker;
use crate::mail::{MailConfig, Mailer};
use crate::site::Theme;
use crate::store::{Error as StoreError, Store};
use crate::web::abuse::{FORM_WINDOW, RateLimiter, SEARCH_WINDOW};
use crate::web::forms::Forms;
use crate::web::tokens::Signer;
use crate::web::{AppState, app, server};

/// How often the server checks the database for content changes made by
/// another process (the admin in this process refreshes directly).
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Runs the server.
pub async fn run(config: ServeConfig) -> Result<()> {
    let started = Instant::now();
    config.storage.prepare()?;
    let _lock = crate::store::lock_for_serving(&config.storage.database_url)?;
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                " (the address is in use: is another server running? choose another with --listen)"
            }
            std::io::ErrorKind::PermissionDenied => " (permission denied: ports below 1024 need privileges)",
            _ => "",
        };
        anyhow::anyhow!("cannot listen on {}: {e}{hint}", config.listen)
    })?;
    let addr = listener.local_addr()?;
    let mailer = Mailer::new(&config.mail, config.storage.data_dir.join("mail"))?;
    tracing::info!(to = %mailer.describe(), "mail");
    if config.base_url.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            "no base_url is set: links in mails will name http://{addr}; set base_url to the public address"
        );
    }
    let (state, worker) = build(&config, addr, mailer, Clock::system()).await?;
    state.store.check_writable().await.map_err(|e| {
        anyhow::anyhow!(
            "the database {} does not take writes (a read-only file or a full disk?): {}",
            crate::store::redact(&config.storage.database_url),
            crate::root_cause(&e)
        )
    })?;
    warn_on_default_operator(&state.store, state.site_id, addr).await?;
    if config.worker {
        start_jobs(&config, worker);
    } else {
        tracing::info!("serving without background jobs (--no-worker): run `casefile worker` beside");
    }
    serve_metrics(&config, &state.store).await?;
    for site in std::iter::once(&state).chain(state.others()) {
        site.spawn_refresher(REFRESH_EVERY);
        site.spawn_change_listener();
        if !site.hosts.is_empty() {
            tracing::info!(hosts = %site.hosts.join(" "), "serving {} as well", site.base_url);
        }
    }
    if let Some(link) = crate::web::admin::setup_link(&state).await {
        tracing::warn!(
            "no one can sign in to the admin yet: open {link} within the hour to choose the first owner's \
             address and password (or run `casefile user add --role owner`)"
        );
    }
    let shutdown = server::shutdown_signal();
    tracing::info!(
        data = %config.storage.data_dir.display(),
        ready_ms = started.elapsed().as_millis() as u64,
        "listening on http://{addr}"
    );
    let store = state.store.clone();
    server::serve(listener, app(state), shutdown, config.connections, config.trusted_proxies.clone()).await;
    store.close().await;
    Ok(())
}

/// Starts the background jobs: the mail worker (with the retention purge)
/// and scheduled backups.
pub fn start_jobs(config: &ServeConfig, worker: MailWorker) {
    worker.spawn();
    if let Some((every, keep)) = config.backups {
        crate::backup::schedule(config.storage.clone(), every, keep);
    }
}

/// Serves the metrics on their own address, if one is set.
pub async fn serve_metrics(config: &ServeConfig, store: &Store) -> Result<()> {
    if let Some(addr) = config.metrics_listen {
        let bound = crate::metrics::serve(addr, store.clone()).await?;
        tracing::info!("metrics on http://{bound}/metrics");
    }
    Ok(())
}

/// The database with its site (the default site imported on first start).
pub async fn open_store(config: &ServeConfig) -> Result<(Store, i64)> {
    let store = Store::open_with(&config.storage.database_url, &config.storage.pool).await?;
    let site_id = open_site(&store, &config.storage.files_dir).await?;
    open_companions(&store).await?;
    Ok((store, site_id))
}

/// Imports the built-in sites that go with the default one (the
/// documentary's), where the default site is the built-in one and they are
/// not there yet: on first start, and on the first start of a version that
/// brings one. Their shared items are the default site's, not copies.
async fn open_companions(store: &Store) -> Result<()> {
    if store.first_site_key().await? != crate::bundle::default_key() {
        return Ok(());
    }
    // Parsed only when a companion is missing: not on every start.
    let mut default = None;
    for files in crate::bundle::companion_files() {
        if let Some(key) = crate::bundle::key_of(&files)
            && store.site_id(&key).await?.is_some()
        {
            continue;
        }
        if default.is_none() {
            let parsed =
                crate::bundle::parse(&crate::bundle::default_files()).context("the built-in site is invalid")?;
            default = Some(parsed);
        }
        let default = default.as_ref().expect("parsed above");
        let mut site = crate::bundle::parse_with(&files, std::slice::from_ref(default))
            .context("a built-in companion site is invalid")?;
        // One install, one operator: the controller the privacy page names.
        if site.operator.name.is_empty() {
            site.operator = store.settings(store.site_id(&default.key).await?.unwrap_or_default()).await?.operator;
        }
        match store.import_site(&site, crate::store::DEFAULT_CONTENT).await {
            Ok(_) => tracing::info!(site = %site.key, "imported the built-in site"),
            // Another instance on the same database imported it first.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The mail worker (not started); `wake` starts a round at once.
pub fn mail_worker(
    config: &ServeConfig,
    store: &Store,
    mailer: Mailer,
    clock: &Clock,
    wake: Arc<Notify>,
) -> MailWorker {
    MailWorker {
        store: store.clone(),
        mailer,
        from: config.mail.from.clone(),
        max_attempts: config.mail.max_attempts,
        retry_seconds: config.mail.retry_seconds,
        wake,
        clock: clock.clone(),
        instance: instance_name(&config.storage.data_dir),
    }
}

/// Everything a server runs on, for a server listening at `addr`: the
/// database (with the default sites on first start), the state of the
/// first site with the install's other sites joined to it (those with host
/// names), and the mail worker (not started). `serve` and the in-process
/// test app both build it here, so tests run the same wiring.
pub async fn build(
    config: &ServeConfig,
    addr: std::net::SocketAddr,
    mailer: Mailer,
    clock: Clock,
) -> Result<(Arc<AppState>, MailWorker)> {
    let (store, site_id) = open_store(config).await?;
    let mail_dir = match &mailer {
        Mailer::Files(dir) => Some(dir.clone()),
        Mailer::Smtp(_) | Mailer::Memory(_) => None,
    };
    let wake = Arc::new(Notify::new());
    let worker = mail_worker(config, &store, mailer, &clock, Arc::clone(&wake));
    let parts = Parts {
        config,
        addr,
        store,
        signer: Signer::load_or_create(&config.storage.data_dir.join("secret.key"))?,
        wake,
        mail_dir,
        clock,
    };
    // Every served site's address first: their pages link to each other.
    let mut served = Vec::new();
    for (id, key) in parts.store.sites().await? {
        if id == site_id {
            served
                .insert(0, (id, key, config.base_url.clone().unwrap_or_else(|| format!("http://{addr}")), Vec::new()));
            continue;
        }
        let Some((_, hosts)) = config.site_hosts.iter().find(|(k, _)| *k == key) else {
            tracing::info!(site = %key, "no host names: this site is not served (see site_hosts)");
            continue;
        };
        served.push((id, key, site_url(config, hosts, addr.port()), hosts.clone()));
    }
    let links = served.iter().filter(|_| config.site_links);
    let urls: Arc<HashMap<String, String>> =
        Arc::new(links.map(|(_, key, url, _)| (key.clone(), url.clone())).collect());
    let mut states = Vec::new();
    for (id, key, base_url, hosts) in served {
        let dir = if id == site_id {
            config.storage.data_dir.clone()
        } else {
            config.storage.data_dir.join("sites").join(&key)
        };
        states.push(Arc::new(parts.site(id, (base_url, Arc::clone(&urls)), hosts, &dir).await?));
    }
    let others = states.split_off(1);
    let first = states.pop().expect("the first site is always served");
    AppState::join(&first, others);
    Ok((first, worker))
}

/// The address of a site other than the first, served on `hosts`: the
/// scheme of `base_url` and the first host name, or without a `base_url`
/// the first host name on the port listened on.
pub fn site_url(config: &ServeConfig, hosts: &[String], port: u16) -> String {
    let host = hosts.first().map_or("", String::as_str);
    match &config.base_url {
        Some(url) => format!("{}://{host}", url.split("://").next().unwrap_or("https")),
        None => format!("http://{host}:{port}"),
    }
}

/// What every site's state is made from.
struct Parts<'a> {
    config: &'a ServeConfig,
    addr: std::net::SocketAddr,
    store: Store,
    signer: Signer,
    wake: Arc<Notify>,
    mail_dir: Option<std::path::PathBuf>,
    clock: Clock,
}

impl Parts<'_> {
    /// The state of the site `site_id`, served at `base_url` on `hosts`,
    /// with its theme overrides and search index in `dir` (the data folder
    /// for the first site, `<data>/sites/<key>/` for the others).
    async fn site(
        &self,
        site_id: i64,
        (base_url, site_urls): (String, Arc<HashMap<String, String>>),
        hosts: Vec<String>,
        dir: &std::path::Path,
    ) -> Result<AppState> {
        let (config, port) = (self.config, self.addr.port());
        let mut local_hosts = vec![self.addr.to_string(), format!("localhost:{port}"), format!("127.0.0.1:{port}")];
        local_hosts.extend(hosts.iter().map(|h| format!("{h}:{port}")));
        let forms = Forms {
            signer: self.signer.clone(),
            limiter: RateLimiter::new(config.forms.rate_limit, FORM_WINDOW),
            search_limiter: (config.forms.search_rate_limit > 0)
                .then(|| RateLimiter::new(config.forms.search_rate_limit, SEARCH_WINDOW)),
            // Requests compose mails; only the worker talks SMTP: the URL with
            // its password stays out of request-path state.
            mail: MailConfig { smtp_url: None, ..config.mail.clone() },
            rules: config.forms.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            wake: Arc::clone(&self.wake),
            // A site of its own host has its own public address.
            public_base_url: config
                .base_url
                .as_ref()
                .map(|first| if hosts.is_empty() { first.clone() } else { base_url.clone() }),
            mail_dir: self.mail_dir.clone(),
            local_hosts,
        };
        let theme = Theme::load(Some(&dir.join("theme")))?;
        let dirs = (config.storage.files_dir.clone(), dir.join("search"));
        let store = self.store.clone();
        let mut state =
            AppState::new(store, theme, site_id, (base_url, site_urls), forms, dirs, self.clock.clone()).await?;
        state.pdf_reader = config.pdf_reader.clone();
        state.unknown_host_404 = hosts.is_empty() && config.unknown_host_404;
        state.hosts = hosts;
        Ok(state)
    }
}

/// This instance's name in mail claims: the host and the data folder, the
/// same across restarts (whatever port it listens on), different for each
/// instance sharing a database (each has its own data folder).
fn instance_name(data_dir: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    let dir = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_owned());
    format!("{}:{}", host.trim(), dir.display())
}

/// The site to serve: the first one in the database. An empty database (or
/// one whose content predates the item store) gets the embedded default site.
async fn open_site(store: &Store, files_dir: &std::path::Path) -> Result<i64> {
    let existing = match store.first_site_key().await? {
        Some(key) => store.site_id(&key).await?,
        None => None,
    };
    if let Some(id) = existing {
        match store.settings(id).await {
            Ok(_) => {
                hint_at_new_default_content(store).await?;
                return Ok(id);
            }
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let attachments = crate::bundle::default_attachments();
    let mut bundle = crate::bundle::parse(&crate::bundle::default_files()).context("the built-in site is invalid")?;
    // The built-in PDFs are compiled in, not untrusted: read in process.
    let reader = crate::pdf::PdfReader::InProcess;
    crate::documents::attach(&mut bundle, &attachments, &reader).context("the built-in site is invalid")?;
    // Files first: a crash in between leaves files nobody links, never
    // links to missing files.
    crate::documents::store_files(&bundle, &attachments, files_dir)?;
    let change = crate::store::DEFAULT_CONTENT;
    let id = match existing {
        Some(id) => {
            store.import_items(id, &bundle, change).await?;
            id
        }
        None => match store.import_site(&bundle, change).await {
            Ok(id) => id,
            // Another instance on the same database (started at the same
            // moment) imported it first: serve that one.
            Err(StoreError::Conflict(_)) if let Some(id) = store.site_id(&bundle.key).await? => {
                tracing::info!(site = %bundle.key, "another instance created the default site first");
                return Ok(id);
            }
            Err(e) => return Err(e.into()),
        },
    };
    remember_default_content(store).await?;
    tracing::info!(site = %bundle.key, "no content in the database: imported the default site");
    Ok(id)
}

/// Where the fingerprint of the default content a site was last given is kept.
const DEFAULT_FINGERPRINT: &str = "default_content";

/// Notes that the site has this binary's default content (what it was
/// created with, or what `import --default` brought in).
pub async fn remember_default_content(store: &Store) -> Result<()> {
    Ok(store.set_install_value(DEFAULT_FINGERPRINT, &crate::bundle::default_fingerprint()).await?)
}

/// A site created by an older Casefile keeps its content; say when this
/// binary brings other default content, and how to see what would change.
async fn hint_at_new_default_content(store: &Store) -> Result<()> {
    // A site made from another bundle has nothing to bring in.
    if store.first_site_key().await? != crate::bundle::default_key() {
        return Ok(());
    }
    if store.install_value(DEFAULT_FINGERPRINT).await?.as_deref() != Some(&crate::bundle::default_fingerprint()) {
        tracing::info!(
            "this version's built-in default content differs from what this site was given; \
             `casefile import --default --dry-run` lists what bringing it in would change (editors' changes are kept)"
        );
    }
    Ok(())
}

/// The default site names its campaign as the controller on the privacy
/// page. Served to the public by someone else, that would be false: say so.
async fn warn_on_default_operator(store: &Store, site_id: i64, addr: std::net::SocketAddr) -> Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    let default = crate::bundle::parse(&crate::bundle::default_files()).map(|s| s.operator).unwrap_or_default();
    if store.settings(site_id).await?.operator == default {
        tracing::warn!(
            "the privacy page names the built-in default operator ({}); set your own name and e-mail \
             (see \"The operator\" in the README) before the site goes public",
            default.name
        );
    }
    Ok(())
}
