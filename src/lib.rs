//! Casefile: a fast, self-hosted website engine for justice campaigns.
//!
//! The binary (`src/main.rs`) is a thin CLI over these modules; see
//! `ARCHITECTURE.md` for the map.

pub mod bundle;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod content;
pub mod documents;
pub mod forms;
pub mod ids;
pub mod mail;
pub mod markdown;
pub mod site;
pub mod store;
pub mod web;
