//! Casefile: a fast, self-hosted website engine for justice campaigns.
//!
//! The binary (`src/main.rs`) is a thin CLI over these modules; see
//! `ARCHITECTURE.md` for the map.

pub mod accounts;
pub mod alloc;
pub mod backup;
pub mod bundle;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod content;
pub mod documents;
pub mod export;
pub mod forms;
pub mod ids;
pub mod mail;
pub mod markdown;
pub mod media;
pub mod metrics;
pub mod pdf;
pub mod site;
pub mod store;
pub mod web;
pub mod wordpress;

/// The innermost cause of an error, for a one-line message where the
/// layers above it repeat its text (sqlx's do).
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// An error and its causes on one line, for the log (what `{:#}` does for
/// `anyhow`, for the typed errors).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
