//! The integration tests: one binary. Most start real processes over
//! loopback; `app.rs` is the in-process app for behaviour in time.
//!
//! Each test starts its own `casefile serve` on a free port over a fresh
//! temporary data folder (see `server.rs`), so tests run in parallel.

mod admin;
mod admin_api;
mod api;
mod app;
mod backup;
mod browser;
mod content;
mod content_io;
mod db;
mod discovery;
mod documents;
mod export;
mod forms;
mod in_process;
mod instances;
mod lifecycle;
mod media;
mod metrics;
mod observatory;
mod properties;
mod public_site;
mod resilience;
mod server;
mod sites;
mod smtp;
mod store;
mod wordpress;
