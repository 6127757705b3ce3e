//! The store's error type: what went wrong, in the terms a caller decides
//! on. `web::error` maps it to a status code and a page in one `match`.

use crate::content::Invalid;

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The item (or site, or revision) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change collides with the current state: a key or slug taken, an
    /// item still referred to, an item in the trash.
    #[error("{0}")]
    Conflict(String),
    /// The item changed since the revision the writer read: a second
    /// editor's save, refused instead of overwriting the first.
    #[error("{0}")]
    Stale(String),
    /// The content breaks a rule.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The database is busy, locked or its disk is full; try again.
    #[error("the database is busy")]
    Busy(#[source] sqlx::Error),
    /// Stored data that cannot be read back (a bug or a hand edit).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// Anything else the database reported (a full disk, a broken file).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        if super::backend::is_busy(&e) { Error::Busy(e) } else { Error::Database(e) }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Error {
        Error::Database(sqlx::Error::Migrate(Box::new(e)))
    }
}

/// A store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
