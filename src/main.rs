//! The `casefile` binary: parse the command line, set up logging, run.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use casefile::cli::{Cli, Command};
use casefile::config::ServeConfig;

fn main() -> ExitCode {
    keep_new_files_private();
    let cli = match casefile::config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => match e.downcast_ref::<clap::Error>() {
            Some(usage) => usage.exit(),
            None => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        },
    };
    // (Still the only thread.) A static export is a batch job that renders
    // and compresses on every core and then exits: with two arenas, its
    // threads waited on the allocator's locks (20% of its time).
    if !matches!(cli.command, Some(Command::Export(_))) {
        casefile::alloc::limit_arenas();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // A child reading one PDF under a memory limit: nothing else is set up.
    if let Some(Command::PdfText { out }) = &cli.command {
        return casefile::pdf::child_main(out);
    }
    let spec = std::env::var("RUST_LOG").ok().or(cli.log.clone()).unwrap_or_else(|| "info".into());
    let (filter, unknown) = match EnvFilter::try_new(&spec) {
        Ok(filter) if names_something(&spec) => (filter, None),
        _ => (EnvFilter::new("info"), Some(spec)),
    };
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    if cli.log_format.as_deref() == Some("json") {
        // One object per line; a request's lines carry its id in `span`.
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    if let Some(spec) = unknown {
        tracing::warn!("the log filter `{spec}` names no level and no known module; logging at `info`");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command.expect("set above") {
        Command::Serve(args) => runtime.block_on(casefile::cmd::serve::run(ServeConfig::resolve(&args)?)),
        Command::Worker(args) => runtime.block_on(casefile::cmd::worker::run(ServeConfig::resolve(&args)?)),
        Command::Outbox(args) => {
            runtime.block_on(casefile::cmd::outbox::run(casefile::config::Storage::resolve(&args)?))
        }
        Command::Operator(args) => {
            runtime.block_on(casefile::cmd::operator::run(casefile::config::Storage::resolve(&args.storage)?, args))
        }
        Command::User(action) => runtime.block_on(casefile::cmd::user::user(action)),
        Command::Token(action) => runtime.block_on(casefile::cmd::user::token(action)),
        Command::Site(action) => runtime.block_on(casefile::cmd::site::run(action)),
        Command::Backup(args) => runtime.block_on(casefile::cmd::backup::backup(args)),
        Command::Restore(args) => runtime.block_on(casefile::cmd::backup::restore(args)),
        Command::Import(args) => runtime.block_on(casefile::cmd::content::import(args)),
        Command::ExportContent(args) => runtime.block_on(casefile::cmd::content::export(args)),
        Command::ImportWordpress(args) => runtime.block_on(casefile::cmd::wordpress::import(args)),
        Command::Export(args) => runtime.block_on(casefile::cmd::export::run(args)),
        Command::PdfText { .. } => unreachable!("handled above"),
    }
}

/// Whether a log filter turns on something: a bare word that is not a
/// level (`verbose`) is read as a module name and would silence every line,
/// errors included. Each directive must set a level or name a module of
/// Casefile or of a crate it logs through.
fn names_something(spec: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    const MODULES: [&str; 7] = ["casefile", "sqlx", "hyper", "tower_http", "tantivy", "lettre", "axum"];
    spec.split(',').map(str::trim).filter(|d| !d.is_empty()).all(|directive| {
        let target = directive.split(['=', '[']).next().unwrap_or("");
        let known_level = LEVELS.iter().any(|l| target.eq_ignore_ascii_case(l));
        known_level || MODULES.iter().any(|m| target == *m || target.starts_with(&format!("{m}::")))
    })
}

/// The data folder holds personal data (the database, its write-ahead log,
/// mails on disk): what Casefile creates is readable by its own user only
/// (files 0600, folders 0700). Nothing in it is read by a reverse proxy,
/// which talks to Casefile over HTTP.
#[cfg(unix)]
fn keep_new_files_private() {
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(not(unix))]
fn keep_new_files_private() {}
