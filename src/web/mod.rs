//! HTTP: the router, handlers, response headers and the server loop.
//!
//! Handlers hold no SQL and no HTML: they route, call `site` to render and
//! `site::cache` to remember, and turn the result into a response.

pub mod abuse;
pub mod admin;
pub mod admin_api;
mod api;
pub mod error;
pub mod forms;
pub mod headers;
pub mod observe;
pub mod origin;
mod public;
mod respond;
pub mod router;
pub mod server;
pub mod state;
pub mod tokens;

pub use router::app;
pub use state::AppState;
