//! Command-line interface. The doc comments are the `--help` text.

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

    /// What to do; without a subcommand, `serve` with its defaults.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site over HTTP (creates the database and the default site on first start).
    Serve(ServeArgs),
    /// Show the mail outbox: how many mails wait, were sent or failed, and why.
    Outbox(StorageArgs),
    /// Show or set who runs the site (the controller named on the privacy page).
    Operator(OperatorArgs),
    /// Write the whole public site as static files (not available yet).
    Export(StorageArgs),
    /// Manage admin users (not available yet).
    User(StorageArgs),
    /// Back up the database and media (not available yet).
    Backup(StorageArgs),
    /// Import a content bundle or a WordPress export (not available yet).
    Import(StorageArgs),
}

/// Where data lives; the same for every subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct StorageArgs {
    /// The data folder (database, theme overrides, files) [default: ./data].
    #[arg(long, env = "CASEFILE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Database URL [default: sqlite:<data>/casefile.db].
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
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

    /// A reverse proxy whose X-Forwarded-For header is believed (repeat, or
    /// comma-separate in the environment). Others' headers are ignored.
    #[arg(long = "trusted-proxy", env = "CASEFILE_TRUSTED_PROXIES", value_name = "IP", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}
