//! The HTTP edge's one error type, and the one `match` that decides what a
//! visitor gets for each failure: a status code and a notice page in their
//! language. A locked or full database is "busy, try again" (503); a bug or
//! a damaged database is an internal error (500); the two are never
//! confused, and neither shows internals.

use axum::http::StatusCode;

use crate::store::Error as StoreError;

/// What a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template that does not render.
    #[error(transparent)]
    Render(#[from] crate::site::RenderError),
    /// A mail that cannot be composed.
    #[error(transparent)]
    Mail(#[from] crate::mail::Error),
    /// A value that cannot be written as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// The status and the notice (`<key>_title`, `<key>_text`) a visitor gets.
    pub fn answer(&self) -> (StatusCode, &'static str) {
        match self {
            Error::Store(StoreError::Busy(_)) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Error::Store(StoreError::NotFound(_)) => (StatusCode::NOT_FOUND, "link_invalid"),
            Error::Store(StoreError::Conflict(_) | StoreError::Stale(_)) => (StatusCode::CONFLICT, "error"),
            Error::Store(StoreError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "error"),
            Error::Store(StoreError::Corrupt(_) | StoreError::Database(_))
            | Error::Render(_)
            | Error::Mail(_)
            | Error::Json(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_503_and_a_bug_is_500() {
        let busy = Error::from(StoreError::Busy(sqlx::Error::PoolTimedOut));
        assert_eq!(busy.answer(), (StatusCode::SERVICE_UNAVAILABLE, "busy"));
        let source = minijinja::Error::new(minijinja::ErrorKind::TemplateNotFound, "x.html");
        let bug = Error::from(crate::site::RenderError { template: "x.html".into(), source });
        assert_eq!(bug.answer().0, StatusCode::INTERNAL_SERVER_ERROR);
        let mail = Error::from(crate::mail::Error::NoSubject("email/x/en.txt".into()));
        assert_eq!(mail.answer().0, StatusCode::INTERNAL_SERVER_ERROR);
        let damaged = Error::from(StoreError::Corrupt("settings".into()));
        assert_eq!(damaged.answer().0, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
