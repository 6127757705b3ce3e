//! The `casefile` binary: parse the command line, set up logging, run.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use casefile::cli::{Cli, Command};
use casefile::config::ServeConfig;

fn main() -> ExitCode {
    limit_malloc_arenas();
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(cli.log.as_deref().unwrap_or("info")))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command.expect("set above") {
        Command::Serve(args) => runtime.block_on(casefile::cmd::serve::run(ServeConfig::resolve(&args)?)),
        Command::Outbox(args) => {
            runtime.block_on(casefile::cmd::outbox::run(casefile::config::Storage::resolve(&args)?))
        }
        Command::Operator(args) => {
            runtime.block_on(casefile::cmd::operator::run(casefile::config::Storage::resolve(&args.storage)?, args))
        }
        Command::User(action) => runtime.block_on(casefile::cmd::user::user(action)),
        Command::Token(action) => runtime.block_on(casefile::cmd::user::token(action)),
        Command::Export(_) | Command::Backup(_) | Command::Import(_) => {
            anyhow::bail!("this subcommand is reserved and not available yet")
        }
    }
}

/// glibc keeps a malloc arena per thread (up to eight per core), and the
/// snapshot and search index rebuilt on the blocking pool after edits left
/// hundreds of megabytes in them; two arenas keep that down and are no
/// slower here (BENCHMARKS.md). `MALLOC_ARENA_MAX` in the environment wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator; it is
        // called first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
