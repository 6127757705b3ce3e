//! Command-line interface. The doc comments are the `--help` text.
//!
//! Every option is declared here once: its flag, its environment variable
//! and, by its name, its key in the config file (`config::parse` makes the
//! file's values the options' defaults). The README's table is checked
//! against these declarations by a test.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Casefile: a fast, self-hosted website engine for justice campaigns.
#[derive(Debug, Parser)]
#[command(name = "casefile", version, about, long_about = None)]
pub struct Cli {
    /// A TOML config file (flags beat environment beat file beat defaults).
    #[arg(long, global = true, env = "CASEFILE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log filter, e.g. `info` or `casefile=debug` (`RUST_LOG` wins) [default: info].
    #[arg(long, global = true, env = "CASEFILE_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log lines as `text` for people or `json` (one object per line, with
    /// the request id of each request's lines) for log collectors [default: text].
    #[arg(long, global = true, env = "CASEFILE_LOG_FORMAT", value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,

    /// What to do; without a subcommand, `serve` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site over HTTP (creates the database and the default site on first start).
    Serve(ServeArgs),
    /// Run the background jobs (sending mail, the retention purge, scheduled
    /// backups) without serving HTTP; takes the same options as `serve`.
    Worker(ServeArgs),
    /// Show the mail outbox: how many mails wait, were sent or failed, and why.
    Outbox(StorageArgs),
    /// Show or set who runs the site (the controller named on the privacy page).
    Operator(OperatorArgs),
    /// Write the whole public site as static files for any web server or
    /// CDN (pages, feeds, sitemaps, assets, documents, redirects, with .gz
    /// and .br twins).
    Export(ExportArgs),
    /// Manage the people who edit the site: add, list, passwd, remove.
    #[command(subcommand)]
    User(UserAction),
    /// Manage personal API tokens for the Admin API: add, list, revoke.
    #[command(subcommand)]
    Token(TokenAction),
    /// Show the install's sites: their addresses, languages and content.
    #[command(subcommand)]
    Site(SiteAction),
    /// Back up the database, the secret key, files and theme overrides into
    /// one archive, while the server runs.
    Backup(BackupArgs),
    /// Restore a backup into an empty data folder (or replace one with --force).
    Restore(RestoreArgs),
    /// Import a content bundle (docs/BUNDLE.md) into the site, or bring in
    /// the built-in default content of this version (--default).
    Import(ImportArgs),
    /// Write all content (every item in every language, drafts, sources,
    /// redirects, settings, document files) as a bundle.
    ExportContent(ExportContentArgs),
    /// Import a WordPress export (WXR, from Tools → Export): posts as news,
    /// pages, topics, authors, PDFs, videos, and the old addresses as redirects.
    ImportWordpress(ImportWordpressArgs),
    /// Internal: reads a PDF on standard input and writes its text to FILE.
    /// The server starts itself this way, limited, for every PDF (`pdf`).
    #[command(hide = true)]
    PdfText { out: PathBuf },
}

/// Where data lives; the same for every subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct StorageArgs {
    /// The data folder (database, theme overrides, files) [default: ./data].
    #[arg(long, env = "CASEFILE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Database URL: sqlite:PATH or postgres://USER:PASSWORD@HOST/DB, with
    /// `?sslmode=require` (or verify-full) for TLS [default: sqlite:<data>/casefile.db].
    #[arg(long = "database", env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Where document files and images are kept and served from; several
    /// instances share one (a mounted volume) [default: <data>/files].
    #[arg(long, env = "CASEFILE_FILES", value_name = "DIR")]
    pub files: Option<PathBuf>,

    /// Database connections at most [default: 4 on SQLite, 10 on PostgreSQL].
    #[arg(long, env = "CASEFILE_DB_POOL_SIZE", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: Option<u32>,

    /// How long one statement may run on PostgreSQL before it is cancelled,
    /// e.g. `30s` [default: 30s].
    #[arg(long, env = "CASEFILE_DB_STATEMENT_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    pub db_statement_timeout: Option<std::time::Duration>,
}

/// `casefile site …`.
#[derive(Debug, Subcommand)]
pub enum SiteAction {
    /// List the sites: key, name, languages, items (their own, and those
    /// shown from another site) and where each is served. Takes the same
    /// options as `serve` (the host names are `serve`'s `site_hosts`).
    List(ServeArgs),
}

/// `casefile user …`.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user. The password is read from standard input (one line)
    /// when it is not a terminal, and asked for otherwise.
    Add {
        /// The user's e-mail address, their sign-in name.
        #[arg(long)]
        email: String,
        /// What they may do: owners also manage users and settings.
        #[arg(long, value_parser = ["owner", "editor"])]
        role: String,
        /// A site they may edit, by key (repeat; default: every site of
        /// the install).
        #[arg(long = "site", value_name = "KEY")]
        sites: Vec<String>,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List the users.
    List {
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set a user's password (read as for `add`).
    Passwd {
        /// The user's e-mail address.
        email: String,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Remove a user and their API tokens.
    Remove {
        /// The user's e-mail address.
        email: String,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Turn a user's two-factor sign-in off (a lost phone and no recovery
    /// code left); they can set it up again after signing in.
    ResetTwoFactor {
        /// The user's e-mail address.
        email: String,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// `casefile token …`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token for a user and print it, once, alone on one line of
    /// standard output (only its hash is stored).
    Add {
        /// Whose token: it carries their role.
        #[arg(long)]
        email: String,
        /// What it is for, e.g. "newsletter script".
        #[arg(long)]
        name: String,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List the tokens (never the tokens themselves).
    List {
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Revoke a token by the id `token list` shows.
    Revoke {
        /// The token's id.
        id: i64,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// `casefile backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The archive to write (a new file; `.tar.gz` by convention).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to restore, as `casefile backup` wrote it.
    pub file: PathBuf,
    /// Replace a data folder that is not empty (it is kept beside, renamed).
    #[arg(long)]
    pub force: bool,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bundle folder (with site.toml at its top).
    #[arg(required_unless_present = "default", conflicts_with = "default")]
    pub dir: Option<PathBuf>,
    /// Bring in this version's built-in default content: items nobody has
    /// changed since the default put them there are updated; items an
    /// editor changed, trashed or deleted are kept as they are.
    #[arg(long)]
    pub default: bool,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Move to the trash the items the bundle lacks (listed first; asks,
    /// unless --yes).
    #[arg(long)]
    pub prune: bool,
    /// Do not ask before pruning.
    #[arg(long)]
    pub yes: bool,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The folder to write into: new, empty, or an earlier export (then
    /// only what changed is written, and what is gone removed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The address the exported site will have (canonical links, feeds,
    /// sitemap, share cards), e.g. https://jenssoering.example.
    #[arg(long, env = "CASEFILE_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Where the copy's forms post: a Casefile instance that takes posts
    /// from the copy's address (its `--form-origin`), e.g.
    /// https://forms.jenssoering.example [default: the copy's own address].
    #[arg(long, value_name = "URL")]
    pub forms_url: Option<String>,

    /// The site to export, by key, where the install has several (`casefile
    /// export --site killing-for-love --base-url https://film.example`)
    /// [default: the first].
    #[arg(long, value_name = "KEY")]
    pub site: Option<String>,
    /// Write no .gz and .br twins: for a CDN that compresses by itself
    /// (Cloudflare, Netlify); a second export removes earlier twins.
    #[arg(long)]
    pub no_twins: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile export-content`.
#[derive(Debug, Args)]
pub struct ExportContentArgs {
    /// The folder to write the bundle into (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write every item's revisions (revisions.jsonl; import ignores it).
    #[arg(long)]
    pub revisions: bool,

    /// The site to export, by key, where the install has several; the
    /// items it shows from another site are named in `shared.toml`
    /// [default: the first].
    #[arg(long, value_name = "KEY")]
    pub site: Option<String>,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile import-wordpress`.
#[derive(Debug, Args)]
pub struct ImportWordpressArgs {
    /// The WordPress export file (WXR, .xml).
    pub file: PathBuf,
    /// The language of items that do not name theirs (Polylang's language
    /// is used where present) [default: the site's default language].
    #[arg(long, value_name = "LANG")]
    pub lang: Option<crate::content::Lang>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile operator`.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// The operator's name (a person or an association).
    #[arg(long)]
    pub name: Option<String>,
    /// An e-mail address for privacy requests.
    #[arg(long)]
    pub email: Option<String>,
    /// A postal address (one line), where you give one.
    #[arg(long)]
    pub address: Option<String>,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `casefile serve`.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CASEFILE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// The public address of the site, for absolute links in feeds, the
    /// sitemap and share cards [default: http://<listen address>].
    #[arg(long, env = "CASEFILE_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// SMTP server for outgoing mail: smtps://user:pass@host:465 (TLS),
    /// smtp://user:pass@host:587?tls=required (STARTTLS) or smtp://host:25
    /// (plain, local servers only). Without it, mails are written as .eml
    /// files into <data>/mail/.
    #[arg(long, env = "CASEFILE_SMTP_URL", value_name = "URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of every mail, `Name <address>` or an address [default: noreply@localhost].
    #[arg(long, env = "CASEFILE_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,

    /// Where contact-form messages are mailed [default: the sender address].
    #[arg(long, env = "CASEFILE_CONTACT_TO", value_name = "MAILBOX")]
    pub contact_to: Option<String>,

    /// Another site whose pages post forms here: the address of a static
    /// copy (`casefile export --forms-url`) (repeat, or comma-separate in
    /// the environment).
    #[arg(long = "form-origin", env = "CASEFILE_FORM_ORIGINS", value_name = "URL", value_delimiter = ',')]
    pub form_origins: Vec<String>,

    /// A reverse proxy whose X-Forwarded-For header is believed (repeat, or
    /// comma-separate in the environment). Others' headers are ignored.
    #[arg(long = "trusted-proxy", env = "CASEFILE_TRUSTED_PROXIES", value_name = "IP", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Tries before a mail is given up [default: 20, about 12 hours].
    #[arg(long, env = "CASEFILE_MAIL_MAX_ATTEMPTS", value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub mail_max_attempts: Option<i64>,

    /// Seconds before the first retry of a mail; doubles up to an hour [default: 15].
    #[arg(long, env = "CASEFILE_MAIL_RETRY_SECONDS", value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub mail_retry_seconds: Option<i64>,

    /// Seconds a visitor must spend on a form before sending it; faster
    /// posts count as bots [default: 3].
    #[arg(long, env = "CASEFILE_FORM_MIN_SECONDS", value_name = "SECONDS")]
    pub form_min_seconds: Option<f64>,

    /// Form submissions allowed per IP address per form per 10 minutes [default: 10].
    #[arg(long, env = "CASEFILE_FORM_RATE_LIMIT", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub form_rate_limit: Option<u32>,

    /// Searches allowed per IP address per minute; 0 turns the limit off [default: 600].
    #[arg(long, env = "CASEFILE_SEARCH_RATE_LIMIT", value_name = "N")]
    pub search_rate_limit: Option<u32>,

    /// Open connections allowed from one IP address; more are closed at once [default: 256].
    #[arg(long, env = "CASEFILE_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: Option<u32>,

    /// Open connections allowed in all [default: the open-file limit less 10%, raised to the hard limit at start].
    #[arg(long, env = "CASEFILE_MAX_CONNECTIONS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Seconds a response may take to be written to a client that does not
    /// read; then the connection is closed [default: 30].
    #[arg(long, env = "CASEFILE_WRITE_TIMEOUT", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout: Option<u64>,

    /// Take a backup this often into `<data>/backups/`, e.g. `24h` or `6h 30m` [default: never].
    #[arg(long, env = "CASEFILE_BACKUP_EVERY", value_name = "DURATION", value_parser = parse_duration)]
    pub backup_every: Option<std::time::Duration>,

    /// How many scheduled backups to keep; older ones are deleted [default: 7].
    #[arg(long, env = "CASEFILE_BACKUP_KEEP", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: Option<u32>,

    /// Serve without the background jobs (sending mail, the retention purge,
    /// scheduled backups), for deployments that run them in `casefile worker`.
    #[arg(long, env = "CASEFILE_NO_WORKER", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub no_worker: Option<bool>,

    /// A host name another site of this install answers on, as KEY=HOST
    /// (repeat; comma-separate in the environment; `[[sites]]` in the
    /// config file) [default: killing-for-love=film.localhost]. Every other
    /// host gets the first site.
    #[arg(long = "site-host", env = "CASEFILE_SITE_HOSTS", value_name = "KEY=HOST", value_delimiter = ',')]
    pub site_hosts: Vec<String>,

    /// What a request for a host no site names gets: `default` (the first
    /// site) or `404` [default: default].
    #[arg(long, env = "CASEFILE_UNKNOWN_HOST", value_name = "default|404")]
    pub unknown_host: Option<String>,

    /// Serve Prometheus metrics at http://ADDR/metrics, an address apart
    /// from the site's (keep it private) [default: off].
    #[arg(long, env = "CASEFILE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// A duration such as `24h`, `90m` or `1h 30m` (at least a second).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = s.trim().parse().map_err(|e| format!("not a duration such as 24h: {e}"))?;
    let d = std::time::Duration::try_from(d).map_err(|_| "a duration must be positive".to_owned())?;
    if d < std::time::Duration::from_secs(1) {
        return Err("at least one second".into());
    }
    Ok(d)
}
