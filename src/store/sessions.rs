//! Web admin sessions and the sign-in throttle's memory. Sessions live in
//! the database so that every instance knows them and a restart signs no
//! one out; they end after a time without use and after a fixed lifetime.

use super::Store;
use super::error::Result;
use super::users::{User, user_row};

/// A live session: whose it is and the token its forms must carry.
#[derive(Clone, Debug)]
pub struct Session {
    /// The signed-in user.
    pub user: User,
    /// The CSRF token of this session.
    pub csrf: String,
}

/// How long a session lasts without use.
pub const IDLE_SECONDS: i64 = 2 * 3600;
/// How long a session lasts at most.
pub const MAX_SECONDS: i64 = 12 * 3600;

/// A session with its user: the user's row (see `users::user_row`), then
/// the CSRF token, created and last seen.
type SessionRow = (i64, String, String, i64, Option<String>, String, i64, i64);

impl Store {
    /// Starts a session for a user.
    pub async fn create_session(&self, user_id: i64, id_hash: &str, csrf: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this id hash; marks it used (at most once a
    /// minute). An expired one is deleted and is `None`.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.role, u.created_at, u.ui_lang, s.csrf, s.created_at, s.last_seen_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, email, role, user_created, lang, csrf, created, seen)) = row else { return Ok(None) };
        if now - seen > IDLE_SECONDS || now - created > MAX_SECONDS {
            self.end_session(id_hash).await?;
            return Ok(None);
        }
        if now - seen >= 60 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session { user: user_row((id, email, role, user_created, lang))?, csrf }))
    }

    /// Ends a session (signing out).
    pub async fn end_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Records a sign-in attempt as failed under each scope (`email:…`,
    /// `ip:…`) before its password is checked, and returns the rows and how
    /// many failures each scope has since `since`, this one included.
    /// Recording first is what makes attempts sent at once count one after
    /// another; a right password then takes its rows back
    /// (`forget_sign_in_attempt`).
    pub async fn begin_sign_in_attempt(&self, scopes: &[String], since: i64, now: i64) -> Result<(Vec<i64>, Vec<i64>)> {
        let mut tx = super::backend::begin_write(&self.pool).await?;
        let (mut rows, mut counts) = (Vec::new(), Vec::new());
        for scope in scopes {
            let id: i64 = sqlx::query_scalar("INSERT INTO sign_in_failures (scope, at) VALUES ($1, $2) RETURNING id")
                .bind(scope)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            rows.push(id);
            counts.push(
                sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE scope = $1 AND at >= $2")
                    .bind(scope)
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await?,
            );
        }
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(now - 86_400).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok((rows, counts))
    }

    /// Takes back the rows of an attempt that turned out right (or that
    /// was refused unchecked, so refusals do not extend the lock-out).
    pub async fn forget_sign_in_attempt(&self, rows: &[i64]) -> Result<()> {
        let mut tx = super::backend::begin_write(&self.pool).await?;
        for id in rows {
            sqlx::query("DELETE FROM sign_in_failures WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
