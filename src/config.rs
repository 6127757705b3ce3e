//! Configuration: one tree, resolved once from flags, environment, an
//! optional TOML file and defaults, in that order of precedence.
//!
//! The options are declared once, in `cli`. clap merges flags over
//! environment variables; [`parse`] gives it the config file's values as
//! the options' defaults, so the file fills only what is still unset, and
//! the built-in defaults fill the rest. Editor-changeable settings (site
//! name, menus) are content in the database, not config.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches};

use lettre::message::Mailbox;

use crate::cli::{Cli, ServeArgs, StorageArgs};
use crate::mail::MailConfig;
use crate::store::{Engine, PoolSettings};

/// The default listen address: loopback only, so a fresh install is not
/// reachable from the network until the operator says so.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data folder, relative to the working directory.
pub const DEFAULT_DATA: &str = "data";

/// Parses the command line (`args` includes the program name), with the
/// config file's keys as defaults of the `serve` options of the same name.
/// Without a subcommand it is `serve`. A clap error (including `--help`) is
/// returned as [`clap::Error`] inside the `anyhow::Error`, for the caller
/// to print and exit with.
pub fn parse(args: Vec<OsString>) -> Result<Cli> {
    // First pass: only to find the config file.
    let early = Cli::command().ignore_errors(true).try_get_matches_from(&args)?;
    let mut command = Cli::command();
    if let Some(path) = early.get_one::<PathBuf>("config") {
        command = with_file_defaults(command, path)?;
    }
    let matches = command.clone().try_get_matches_from(&args)?;
    let matches = match matches.subcommand() {
        Some(_) => matches,
        // `casefile` alone serves: parse again so that serve's flags,
        // environment variables and file keys apply exactly as there.
        None => command.try_get_matches_from(args.into_iter().chain([OsString::from("serve")]))?,
    };
    Ok(Cli::from_arg_matches(&matches)?)
}

/// Makes each key of the TOML file at `path` the default of the option with
/// that name, on the top level and on every subcommand that has it. Keys
/// must name a global or a `serve` option.
fn with_file_defaults(mut command: clap::Command, path: &Path) -> Result<clap::Command> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    let known: Vec<String> = command
        .get_arguments()
        .chain(command.find_subcommand("serve").into_iter().flat_map(|s| s.get_arguments()))
        .map(|a| a.get_id().to_string())
        .filter(|id| !["config", "help", "version"].contains(&id.as_str()))
        .collect();
    for (key, value) in table {
        // `[[sites]]` tables: another way to write `site_hosts`.
        let (key, value) =
            if key == "sites" { ("site_hosts".into(), site_tables(&value, path)?) } else { (key, value) };
        if !known.contains(&key) {
            bail!("unknown key `{key}` in the config file {}; known keys: {}", path.display(), known.join(", "));
        }
        let values = file_values(&value).with_context(|| format!("`{key}` in the config file {}", path.display()))?;
        command = set_default(command, &key, &values);
    }
    Ok(command)
}

/// Makes `values` the default of option `key` in `command` and, at any
/// depth, its subcommands (`casefile user add --data …`). File values may be
/// secrets (an SMTP password): `--help` does not show them.
fn set_default(command: clap::Command, key: &str, values: &[String]) -> clap::Command {
    let set = |a: clap::Arg| match a.get_id() == key {
        true => a.default_values(values.to_vec()).hide_default_value(true),
        false => a,
    };
    command.mut_args(set).mut_subcommands(|s| set_default(s, key, values))
}

/// A TOML value as the strings clap parses: a scalar, or an array of them.
/// `[[sites]]` tables (`key`, `hosts`) as `site_hosts` values (`KEY=HOST`).
fn site_tables(value: &toml::Value, path: &Path) -> Result<toml::Value> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SiteTable {
        key: String,
        hosts: Vec<String>,
    }
    let tables: Vec<SiteTable> = value
        .clone()
        .try_into()
        .with_context(|| format!("`[[sites]]` in the config file {}: each needs `key` and `hosts`", path.display()))?;
    let pairs = tables.iter().flat_map(|t| t.hosts.iter().map(move |h| toml::Value::from(format!("{}={h}", t.key))));
    Ok(toml::Value::Array(pairs.collect()))
}

fn file_values(value: &toml::Value) -> Result<Vec<String>> {
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => bail!("expected a string, a number or a boolean, found {}", other.type_str()),
    };
    match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        v => Ok(vec![scalar(v)?]),
    }
}

/// Where data lives. `Debug` hides a database password.
#[derive(Clone)]
pub struct Storage {
    /// The data folder.
    pub data_dir: PathBuf,
    /// The database URL.
    pub database_url: String,
    /// Where document files and images are kept (`<data>/files` unless set).
    pub files_dir: PathBuf,
    /// The connection pool's size and statement timeout.
    pub pool: PoolSettings,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("data_dir", &self.data_dir)
            .field("database_url", &crate::store::redact(&self.database_url))
            .field("files_dir", &self.files_dir)
            .field("pool", &self.pool)
            .finish()
    }
}

impl Storage {
    /// Resolves storage options and makes sure the data folder is usable.
    pub fn resolve(args: &StorageArgs) -> Result<Storage> {
        let data_dir = args.data.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let database_url = match args.database_url.clone() {
            Some(url) => url,
            None => format!("sqlite:{}", data_dir.join("casefile.db").display()),
        };
        if database_url.trim().is_empty() {
            bail!("the database URL is empty");
        }
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            max_connections: args.db_pool_size,
            statement_timeout: args.db_statement_timeout.unwrap_or(defaults.statement_timeout),
        };
        let files_dir = args.files.clone().unwrap_or_else(|| data_dir.join("files"));
        Ok(Storage { data_dir, database_url, files_dir, pool })
    }

    /// Creates the data folder if needed and checks that it is writable.
    pub fn prepare(&self) -> Result<()> {
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
        restrict_to_owner(dir)?;
        let probe = dir.join(format!(".write-test-{}", std::process::id()));
        std::fs::write(&probe, b"").with_context(|| format!("the data folder {} is not writable", dir.display()))?;
        let _ = std::fs::remove_file(probe);
        Ok(())
    }
}

/// Makes a folder readable by its owner only (0700): a data folder created
/// by an older version (0755) stops exposing what is in it.
#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))
            .with_context(|| format!("cannot restrict the data folder {} to its owner", dir.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> Result<()> {
    Ok(())
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
    /// Connection limits.
    pub connections: ConnectionLimits,
    /// Scheduled backups, if any: how often, and how many are kept.
    pub backups: Option<(std::time::Duration, usize)>,
    /// Whether `serve` runs the background jobs too (not with `--no-worker`).
    pub worker: bool,
    /// Where Prometheus metrics are served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// How uploaded PDFs' text is read: this program as a limited child.
    pub pdf_reader: crate::pdf::PdfReader,
    /// Whether the sites link each other's pages ("also on …"); off for
    /// a static export, which knows only its own address.
    pub site_links: bool,
    /// The host names of the sites other than the first, by site key.
    pub site_hosts: Vec<(String, Vec<String>)>,
    /// Whether a host no site names gets a 404 rather than the first site.
    pub unknown_host_404: bool,
}

/// The host names of the built-in sites beside the default one, when the
/// configuration names none: for a local try (`*.localhost` is this
/// machine in browsers).
pub const DEFAULT_SITE_HOSTS: [(&str, &str); 1] = [("killing-for-love", "film.localhost")];

/// `KEY=HOST` values, grouped by site, each host checked and named once.
fn site_hosts(values: &[String]) -> Result<Vec<(String, Vec<String>)>> {
    let pairs: Vec<(String, String)> = if values.is_empty() {
        DEFAULT_SITE_HOSTS.iter().map(|(k, h)| ((*k).to_owned(), (*h).to_owned())).collect()
    } else {
        values
            .iter()
            .map(|v| {
                let (key, host) = v.split_once('=').with_context(|| format!("`{v}`: a site host is KEY=HOST"))?;
                Ok((key.trim().to_owned(), host.trim().to_ascii_lowercase()))
            })
            .collect::<Result<_>>()?
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (key, host) in pairs {
        crate::content::check_key(&key).map_err(|e| anyhow::anyhow!("site host `{key}={host}`: {}", e.0))?;
        let plain = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !plain {
            bail!("site host `{key}={host}`: a host name only (`film.example`), no scheme, port or path");
        }
        if out.iter().any(|(_, hosts)| hosts.contains(&host)) {
            bail!("the host `{host}` is named twice in site_hosts");
        }
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, hosts)) => hosts.push(host),
            None => out.push((key, vec![host])),
        }
    }
    Ok(out)
}

/// Anti-abuse settings of the public forms.
#[derive(Debug, Clone)]
pub struct FormRules {
    /// Minimum time between rendering a form and receiving it.
    pub min_fill: std::time::Duration,
    /// Submissions per IP address per 10 minutes, per form.
    pub rate_limit: u32,
    /// Searches per IP address per minute; 0 for no limit.
    pub search_rate_limit: u32,
    /// Other sites whose pages may post forms here (a static copy), as
    /// origins (`https://static.example`).
    pub origins: Vec<String>,
}

/// What the server allows each connection, against clients that hold
/// connections open (see `web::server`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections from one address.
    pub per_address: usize,
    /// Open connections in all; `None`: from the open-file limit at start.
    pub total: Option<usize>,
    /// How long writing a response may take.
    pub write_timeout: std::time::Duration,
}

impl ServeConfig {
    /// Resolves `serve` options.
    pub fn resolve(args: &ServeArgs) -> Result<ServeConfig> {
        let listen = args.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default"));
        let base_url = args.base_url.as_deref().map(check_base_url).transpose()?;
        let from = args.mail_from.as_deref().unwrap_or(DEFAULT_FROM);
        let from: Mailbox = from.parse().with_context(|| format!("invalid sender address `{from}`"))?;
        let contact_to = match &args.contact_to {
            Some(c) => c.parse().with_context(|| format!("invalid contact address `{c}`"))?,
            None => from.clone(),
        };
        let smtp_url = args.smtp_url.clone().filter(|u| !u.trim().is_empty());
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("invalid SMTP URL `{}`: expected smtp://… or smtps://…", crate::store::redact(url));
        }
        let mail = MailConfig {
            smtp_url,
            from,
            contact_to,
            max_attempts: args.mail_max_attempts.unwrap_or(20).max(1),
            retry_seconds: args.mail_retry_seconds.unwrap_or(15).max(1),
        };
        let forms = FormRules {
            min_fill: std::time::Duration::from_secs_f64(args.form_min_seconds.unwrap_or(3.0).clamp(0.0, 600.0)),
            rate_limit: args.form_rate_limit.unwrap_or(10).max(1),
            search_rate_limit: args.search_rate_limit.unwrap_or(600),
            origins: args.form_origins.iter().map(|o| origin_of(o)).collect::<Result<_>>()?,
        };
        let connections = ConnectionLimits {
            per_address: args.max_connections_per_address.unwrap_or(256) as usize,
            total: args.max_connections.map(|n| n as usize),
            write_timeout: std::time::Duration::from_secs(args.write_timeout.unwrap_or(30)),
        };
        let storage = Storage::resolve(&args.storage)?;
        if args.metrics_listen.is_some_and(|m| m == listen && listen.port() != 0) {
            bail!("metrics_listen must differ from listen: metrics are not for the public");
        }
        if args.backup_every.is_some() && Engine::of_url(&storage.database_url) == Some(Engine::Postgres) {
            bail!("backup_every copies the SQLite file; on PostgreSQL, back up with pg_dump");
        }
        Ok(ServeConfig {
            listen,
            base_url,
            storage,
            mail,
            forms,
            trusted_proxies: args.trusted_proxies.clone(),
            connections,
            backups: args.backup_every.map(|every| (every, args.backup_keep.unwrap_or(7) as usize)),
            worker: !args.no_worker.unwrap_or(false),
            metrics_listen: args.metrics_listen,
            pdf_reader: crate::pdf::PdfReader::this_program(),
            site_links: true,
            site_hosts: site_hosts(&args.site_hosts)?,
            unknown_host_404: match args.unknown_host.as_deref() {
                None | Some("default") => false,
                Some("404") => true,
                Some(other) => bail!("unknown_host is `default` or `404`, not `{other}`"),
            },
        })
    }
}

/// The sender when none is configured.
const DEFAULT_FROM: &str = "noreply@localhost";

/// The origin of a `form_origins` entry (`https://static.example`).
fn origin_of(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
    match parsed.map(|u| u.origin()) {
        Some(origin @ url::Origin::Tuple(..)) => Ok(origin.ascii_serialization()),
        _ => bail!("form_origins: `{url}` is not an http(s) address like https://static.example"),
    }
}

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
    use crate::cli::Command;

    /// Parses `args` after the program name, with `file` as the config file.
    fn parse_cli(file: &str, args: &[&str]) -> Result<Cli> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("casefile.toml");
        std::fs::write(&path, file).unwrap();
        let mut all = vec!["casefile".into(), "--config".into(), path.into_os_string()];
        all.extend(args.iter().map(OsString::from));
        parse(all)
    }

    /// The same, for `serve`.
    fn parse_with(file: &str, args: &[&str]) -> Result<ServeArgs> {
        match parse_cli(file, args)?.command {
            Some(Command::Serve(a)) => Ok(a),
            other => panic!("expected serve, got {other:?}"),
        }
    }

    #[test]
    fn flags_beat_file_beat_defaults() {
        let file = "data = \"from-file\"\nlisten = \"127.0.0.1:9000\"\nform_rate_limit = 4\n";
        let c = ServeConfig::resolve(&parse_with(file, &["serve", "--data", "from-flag"]).unwrap()).unwrap();
        assert_eq!(c.storage.data_dir, PathBuf::from("from-flag"));
        assert_eq!((c.listen.port(), c.forms.rate_limit), (9000, 4), "what the flags leave unset comes from the file");
        assert_eq!(c.storage.database_url, format!("sqlite:{}", Path::new("from-flag").join("casefile.db").display()));
        let c = ServeConfig::resolve(&parse_with(file, &[]).unwrap()).unwrap();
        assert_eq!(c.storage.data_dir, PathBuf::from("from-file"), "no subcommand is serve, with the file too");
        let c = ServeConfig::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.storage.data_dir, PathBuf::from(DEFAULT_DATA));
        assert_eq!((c.forms.rate_limit, c.mail.max_attempts), (10, 20));
    }

    #[test]
    fn file_keys_are_checked_like_flags() {
        let proxies = parse_with("trusted_proxies = [\"10.0.0.1\", \"10.0.0.2\"]", &[]).unwrap().trusted_proxies;
        assert_eq!(proxies.len(), 2);
        let cli = parse_cli("data = \"d\"\nlisten = \"127.0.0.1:1\"\nlog = \"debug\"", &["outbox"]).unwrap();
        assert_eq!(cli.log.as_deref(), Some("debug"));
        let Some(Command::Outbox(storage)) = cli.command else { panic!("outbox") };
        assert_eq!(storage.data, Some(PathBuf::from("d")), "other subcommands take the storage keys");
        for (file, says) in [
            ("listn = \"x\"", "unknown key `listn`"),
            ("name = \"x\"", "unknown key `name`"),
            ("listen = \"not an address\"", "invalid value"),
            ("form_rate_limit = 0", "invalid value"),
            ("listen = { a = 1 }", "expected a string"),
        ] {
            let err = parse_with(file, &[]).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{file}: {err:#}");
        }
    }

    #[test]
    fn the_readme_lists_every_option() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let table: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `--")).collect();
        let command = Cli::command();
        let serve = command.find_subcommand("serve").unwrap();
        for arg in command.get_arguments().chain(serve.get_arguments()) {
            let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) else { continue };
            let (flag, env) = (format!("`--{long}"), format!("`{}`", env.to_string_lossy()));
            let key = format!("`{}", arg.get_id());
            let row = table.iter().find(|r| r.contains(&format!("{flag} ")) || r.contains(&format!("{flag}`")));
            let row = row.unwrap_or_else(|| panic!("README: no row for {flag}"));
            assert!(row.contains(&env), "README: {flag} should name {env}: {row}");
            assert!(arg.get_id() == "config" || row.contains(&key), "README: {flag} should name the key {key}: {row}");
        }
    }

    #[test]
    fn debug_output_names_no_password() {
        let args = ServeArgs {
            smtp_url: Some("smtps://me:hunter2@mail.example.org:465".into()),
            storage: StorageArgs {
                database_url: Some("postgres://u:hunter2@db/site".into()),
                ..StorageArgs::default()
            },
            ..ServeArgs::default()
        };
        let c = ServeConfig::resolve(&args).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("mail.example.org"), "{shown}");
    }

    #[test]
    fn mail_settings_are_checked() {
        let c = ServeConfig::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(c.mail.contact_to, c.mail.from, "contact mail goes to the sender by default");
        assert!(c.mail.smtp_url.is_none());
        let bad = ServeArgs { smtp_url: Some("http://mail.example.org".into()), ..ServeArgs::default() };
        assert!(ServeConfig::resolve(&bad).is_err());
        let bad = ServeArgs { mail_from: Some("not an address".into()), ..ServeArgs::default() };
        assert!(ServeConfig::resolve(&bad).is_err());
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(check_base_url("https://example.org/").unwrap(), "https://example.org");
        assert_eq!(check_base_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in ["example.org", "ftp://x", "https://", "https://a b", "https://x/?q=1"] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
