//! Configuration: one tree, resolved once from flags, environment, an
//! optional TOML file and defaults, in that order of precedence.
//!
//! clap already merges flags over environment variables; this module fills
//! what is still unset from the file, then from the defaults. Editor-changeable
//! settings (site name, menus) are content in the database, not config.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use lettre::message::Mailbox;

use crate::cli::{ServeArgs, StorageArgs};
use crate::mail::MailConfig;

/// The default listen address: loopback only, so a fresh install is not
/// reachable from the network until the operator says so.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data folder, relative to the working directory.
pub const DEFAULT_DATA: &str = "data";

/// The optional config file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Same as `--listen`.
    pub listen: Option<SocketAddr>,
    /// Same as `--data`.
    pub data: Option<PathBuf>,
    /// Same as `--database`.
    pub database_url: Option<String>,
    /// Same as `--base-url`.
    pub base_url: Option<String>,
    /// Log filter, e.g. `info` or `casefile=debug` (`RUST_LOG` wins).
    pub log: Option<String>,
    /// Same as `--smtp-url`.
    pub smtp_url: Option<String>,
    /// Same as `--mail-from`.
    pub mail_from: Option<String>,
    /// Same as `--contact-to`.
    pub contact_to: Option<String>,
    /// Same as `--trusted-proxy`.
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// Tries before a mail is given up [default: 20, about 12 hours].
    pub mail_max_attempts: Option<i64>,
    /// Seconds before the first retry of a mail; doubles up to an hour [default: 15].
    pub mail_retry_seconds: Option<i64>,
    /// Seconds a visitor must spend on a form before sending it [default: 3].
    pub form_min_seconds: Option<f64>,
    /// Form submissions allowed per IP address per 10 minutes, per form [default: 10].
    pub form_rate_limit: Option<u32>,
}

impl FileConfig {
    /// Reads the file, or returns the empty config when there is none.
    pub fn load(path: Option<&Path>) -> Result<FileConfig> {
        let Some(path) = path else { return Ok(FileConfig::default()) };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// Where data lives. `Debug` hides a database password.
#[derive(Clone)]
pub struct Storage {
    /// The data folder.
    pub data_dir: PathBuf,
    /// The database URL.
    pub database_url: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("data_dir", &self.data_dir)
            .field("database_url", &crate::store::redact(&self.database_url))
            .finish()
    }
}

impl Storage {
    /// Resolves storage options and makes sure the data folder is usable.
    pub fn resolve(args: &StorageArgs, file: &FileConfig) -> Result<Storage> {
        let data_dir = args.data.clone().or_else(|| file.data.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let database_url = match args.database.clone().or_else(|| file.database_url.clone()) {
            Some(url) => url,
            None => format!("sqlite:{}", data_dir.join("casefile.db").display()),
        };
        if database_url.trim().is_empty() {
            bail!("the database URL is empty");
        }
        Ok(Storage { data_dir, database_url })
    }

    /// Creates the data folder if needed and checks that it is writable.
    pub fn prepare(&self) -> Result<()> {
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
        let probe = dir.join(format!(".write-test-{}", std::process::id()));
        std::fs::write(&probe, b"").with_context(|| format!("the data folder {} is not writable", dir.display()))?;
        let _ = std::fs::remove_file(probe);
        Ok(())
    }
}

/// Everything `casefile serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL without a trailing slash; `None` means "derive from
    /// the address we listen on".
    pub base_url: Option<String>,
    /// Storage.
    pub storage: Storage,
    /// Mail.
    pub mail: MailConfig,
    /// Form rules.
    pub forms: FormRules,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

/// Anti-abuse settings of the public forms.
#[derive(Debug, Clone)]
pub struct FormRules {
    /// Minimum time between rendering a form and receiving it.
    pub min_fill: std::time::Duration,
    /// Submissions per IP address per 10 minutes, per form.
    pub rate_limit: u32,
}

impl ServeConfig {
    /// Resolves `serve` options.
    pub fn resolve(args: &ServeArgs, file: &FileConfig) -> Result<ServeConfig> {
        let listen = match args.listen.or(file.listen) {
            Some(a) => a,
            None => DEFAULT_LISTEN.parse().expect("valid default"),
        };
        let base_url =
            args.base_url.clone().or_else(|| file.base_url.clone()).map(|u| check_base_url(&u)).transpose()?;
        let from = args.mail_from.clone().or_else(|| file.mail_from.clone()).unwrap_or_else(|| DEFAULT_FROM.to_owned());
        let from: Mailbox = from.parse().with_context(|| format!("invalid sender address `{from}`"))?;
        let contact_to = match args.contact_to.clone().or_else(|| file.contact_to.clone()) {
            Some(c) => c.parse().with_context(|| format!("invalid contact address `{c}`"))?,
            None => from.clone(),
        };
        let smtp_url = args.smtp_url.clone().or_else(|| file.smtp_url.clone()).filter(|u| !u.trim().is_empty());
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("invalid SMTP URL `{}`: expected smtp://… or smtps://…", crate::store::redact(url));
        }
        let mail = MailConfig {
            smtp_url,
            from,
            contact_to,
            max_attempts: file.mail_max_attempts.unwrap_or(20).max(1),
            retry_seconds: file.mail_retry_seconds.unwrap_or(15).max(1),
        };
        let forms = FormRules {
            min_fill: std::time::Duration::from_secs_f64(file.form_min_seconds.unwrap_or(3.0).clamp(0.0, 600.0)),
            rate_limit: file.form_rate_limit.unwrap_or(10).max(1),
        };
        let trusted_proxies = if args.trusted_proxies.is_empty() {
            file.trusted_proxies.clone().unwrap_or_default()
        } else {
            args.trusted_proxies.clone()
        };
        Ok(ServeConfig {
            listen,
            base_url,
            storage: Storage::resolve(&args.storage, file)?,
            mail,
            forms,
            trusted_proxies,
        })
    }
}

/// The sender when none is configured.
const DEFAULT_FROM: &str = "noreply@localhost";

/// Accepts `http(s)://host[:port][/path]`, returned without a trailing slash.
fn check_base_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains(['?', '#']) => {
            Ok(trimmed.to_owned())
        }
        _ => bail!("invalid base URL `{url}`: expected http://host or https://host, optionally with a port and path"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beat_defaults() {
        let file = FileConfig {
            data: Some("from-file".into()),
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            ..FileConfig::default()
        };
        let args = ServeArgs { storage: StorageArgs { data: Some("from-flag".into()), database: None }, ..no_args() };
        let c = ServeConfig::resolve(&args, &file).unwrap();
        assert_eq!(c.storage.data_dir, PathBuf::from("from-flag"));
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.storage.database_url, format!("sqlite:{}", Path::new("from-flag").join("casefile.db").display()));
        let c = ServeConfig::resolve(&no_args(), &FileConfig::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.storage.data_dir, PathBuf::from(DEFAULT_DATA));
    }

    fn no_args() -> ServeArgs {
        ServeArgs::default()
    }

    #[test]
    fn debug_output_names_no_password() {
        let args = ServeArgs {
            smtp_url: Some("smtps://me:hunter2@mail.example.org:465".into()),
            storage: StorageArgs { data: None, database: Some("postgres://u:hunter2@db/site".into()) },
            ..no_args()
        };
        let c = ServeConfig::resolve(&args, &FileConfig::default()).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("mail.example.org"), "{shown}");
    }

    #[test]
    fn mail_settings_are_checked() {
        let c = ServeConfig::resolve(&no_args(), &FileConfig::default()).unwrap();
        assert_eq!(c.mail.contact_to, c.mail.from, "contact mail goes to the sender by default");
        assert!(c.mail.smtp_url.is_none());
        let bad = ServeArgs { smtp_url: Some("http://mail.example.org".into()), ..no_args() };
        assert!(ServeConfig::resolve(&bad, &FileConfig::default()).is_err());
        let bad = ServeArgs { mail_from: Some("not an address".into()), ..no_args() };
        assert!(ServeConfig::resolve(&bad, &FileConfig::default()).is_err());
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(check_base_url("https://example.org/").unwrap(), "https://example.org");
        assert_eq!(check_base_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in ["example.org", "ftp://x", "https://", "https://a b", "https://x/?q=1"] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_config_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("listn = \"x\"").is_err());
    }
}
