//! Two-factor sign-in state: a user's TOTP secret (pending, then
//! confirmed), the last time step accepted, recovery-code hashes, and the
//! owners' rule that everyone must use it. Secrets are checked in
//! `accounts::two_factor`; this module only keeps them.

use super::Store;
use super::error::{Error, Result};

/// What the admin needs to know about a user's second factor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwoFactor {
    /// The confirmed secret, when two-factor sign-in is on.
    pub secret: Option<String>,
    /// A secret shown for setting up, not confirmed yet.
    pub pending: Option<String>,
    /// Unused recovery codes left.
    pub recovery_left: i64,
}

/// What one attempt at the second step came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeAttempt {
    /// A current code, not used before, or an unused recovery code (now used).
    Accepted,
    /// Anything else; counted as a failed sign-in.
    Wrong,
    /// Too many failures lately; the code was not looked at.
    Throttled,
}

/// The throttle an attempt is counted against: (scope, most failures since).
pub struct Throttle<'a> {
    pub scopes: &'a [(String, i64)],
    pub since: i64,
}

impl Store {
    /// One attempt at the second step, decided in one write transaction:
    /// the failures are counted, the code checked (`step_of` gives the time
    /// step a code is valid for with the stored secret) and the outcome
    /// recorded in one go, so that attempts sent at once are counted one
    /// after another and cannot all pass the count before any is recorded.
    pub async fn attempt_second_factor(
        &self,
        user_id: i64,
        throttle: &Throttle<'_>,
        now: i64,
        step_of: impl Fn(&str) -> Option<i64>,
        recovery_hash: &str,
    ) -> Result<CodeAttempt> {
        let mut tx = self.begin_write().await?;
        for (scope, most) in throttle.scopes {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE scope = $1 AND at >= $2")
                .bind(scope)
                .bind(throttle.since)
                .fetch_one(&mut *tx)
                .await?;
            if n >= *most {
                return Ok(CodeAttempt::Throttled);
            }
        }
        let secret: Option<String> = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
        let mut accepted = false;
        if let Some(step) = secret.as_deref().and_then(&step_of) {
            accepted = sqlx::query(
                "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            )
            .bind(user_id)
            .bind(step)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        }
        if !accepted && secret.is_some() {
            accepted = sqlx::query(
                "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
            )
            .bind(user_id)
            .bind(recovery_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        }
        if !accepted {
            for (scope, _) in throttle.scopes {
                sqlx::query("INSERT INTO sign_in_failures (scope, at) VALUES ($1, $2)")
                    .bind(scope)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(if accepted { CodeAttempt::Accepted } else { CodeAttempt::Wrong })
    }

    /// A user's second factor.
    pub async fn two_factor(&self, user_id: i64) -> Result<TwoFactor> {
        let (secret, pending): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT totp_secret, totp_pending FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))?;
        let recovery_left =
            sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(TwoFactor { secret, pending, recovery_left })
    }

    /// Keeps a secret shown for setting up until a code confirms it.
    pub async fn set_pending_two_factor(&self, user_id: i64, secret: &str) -> Result<()> {
        sqlx::query("UPDATE users SET totp_pending = $2 WHERE id = $1")
            .bind(user_id)
            .bind(secret)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Turns two-factor sign-in on with the pending secret, whose code for
    /// `step` was just shown, and replaces the recovery codes. False when
    /// the pending secret changed meanwhile (another tab).
    pub async fn enable_two_factor(
        &self,
        user_id: i64,
        secret: &str,
        step: i64,
        code_hashes: &[String],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $3 \
             WHERE id = $1 AND totp_pending = $2",
        )
        .bind(user_id)
        .bind(secret)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for hash in code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Turns two-factor sign-in off for a user (their choice, or an
    /// operator's reset for a lost phone); true when it was on.
    pub async fn disable_two_factor(&self, email: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Err(Error::NotFound(format!("no user {email}"))) };
        let was_on = sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
             WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(was_on)
    }

    /// Whether owners require two-factor sign-in of everyone.
    pub async fn two_factor_required(&self) -> Result<bool> {
        Ok(self.install_value("require_two_factor").await?.as_deref() == Some("1"))
    }

    /// Sets whether everyone must use two-factor sign-in.
    pub async fn set_two_factor_required(&self, required: bool) -> Result<()> {
        self.set_install_value("require_two_factor", if required { "1" } else { "0" }).await
    }
}
