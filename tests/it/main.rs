//! The integration tests: one binary, real processes over loopback.
//!
//! Each test starts its own `casefile serve` on a free port over a fresh
//! temporary data folder (see `server.rs`), so tests run in parallel.

mod api;
mod browser;
mod content;
mod discovery;
mod documents;
mod forms;
mod lifecycle;
mod public_site;
mod server;
mod smtp;
mod store;
