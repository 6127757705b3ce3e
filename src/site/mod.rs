//! The public site: turning a content snapshot into pages.
//!
//! - [`SiteIndex`] is a loaded site plus its URL table (path → page), built
//!   once per content version.
//! - [`Theme`] holds the templates, UI strings and assets (embedded, with an
//!   optional override folder).
//! - `views` builds one template context per page kind; `render` is the one
//!   function both the server and a future static export call.
//! - `cache` holds rendered, precompressed bytes.
//!
//! Nothing here opens a database connection or knows about HTTP beyond a
//! status code.

pub mod api;
pub mod assets;
pub mod cache;
mod dates;
mod feeds;
pub mod forms;
mod jsonld;
mod routes;
pub mod search;
mod theme;
pub mod token_page;
mod views;

pub use dates::{rfc3339, timestamp, ymd};
pub use forms::{FormView, Notice, render_notice, render_personal_data};
pub use routes::{FeedFormat, FeedOf, SiteIndex, Target, page_path};
pub use theme::Theme;
pub use views::{filter_path, not_found, render};

use crate::content::Lang;

/// Converts any serialisable value for a template.
pub fn to_value<T: serde::Serialize>(x: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

/// What a request asked for, after routing.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The normalised path.
    pub path: String,
    /// Press filter: year.
    pub year: Option<i32>,
    /// Press filter: kind.
    pub kind: Option<String>,
    /// Search query.
    pub q: Option<String>,
    /// Search results page (1-based).
    pub page: usize,
    /// The state of the page's form, for pages that have one.
    pub form: Option<FormView>,
}

/// A rendered page.
pub struct Rendered {
    /// HTTP status (200 or 404).
    pub status: u16,
    /// The HTML.
    pub html: String,
    /// The page's language.
    pub lang: Lang,
    /// The Content-Type header value.
    pub content_type: &'static str,
}

/// A template that is missing or does not render: a bug in a template or
/// in a theme override, never the visitor's fault. The only way rendering
/// fails on the request path.
#[derive(Debug, thiserror::Error)]
#[error("rendering {template}")]
pub struct RenderError {
    /// The template's name.
    pub template: String,
    /// What minijinja reported (with the line).
    #[source]
    pub source: minijinja::Error,
}

/// The Content-Type of HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";
