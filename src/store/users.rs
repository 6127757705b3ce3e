//! Users and their API tokens. Passwords arrive hashed (`accounts`), tokens
//! as their SHA-256: this module never sees a secret.

use super::Store;
use super::error::{Error, Result};
use crate::accounts::Role;
use crate::content::Lang;

/// A user as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Lower-case e-mail address, the sign-in name.
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// Created (unix seconds).
    pub created_at: i64,
    /// The language they read the admin in; `None`: their browser's.
    pub ui_lang: Option<Lang>,
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Row id, the handle to revoke it by.
    pub id: i64,
    /// Whose it is.
    pub email: String,
    /// What it is for ("newsletter script").
    pub name: String,
    /// Created (unix seconds).
    pub created_at: i64,
    /// Last used (unix seconds), if ever.
    pub last_used_at: Option<i64>,
    /// Revoked (unix seconds), if so.
    pub revoked_at: Option<i64>,
}

type UserRow = (i64, String, String, i64, Option<String>);
type TokenRow = (i64, String, String, i64, Option<i64>, Option<i64>);
type TokenUserRow = (i64, i64, String, String, i64, Option<String>, Option<i64>);

/// A user from its row (`id, email, role, created_at, ui_lang`).
pub(super) fn user_row(row: UserRow) -> Result<User> {
    let role = row.2.parse().map_err(|_| Error::Corrupt(format!("user {}: role `{}`", row.0, row.2)))?;
    let ui_lang = row.4.and_then(|l| l.parse().ok());
    Ok(User { id: row.0, email: row.1, role, created_at: row.3, ui_lang })
}

impl Store {
    /// The keys of the sites a user may edit; empty: every site.
    pub async fn user_sites(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT site_key FROM user_sites WHERE user_id = $1 ORDER BY site_key")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Limits a user to the sites `keys` (none: every site).
    pub async fn set_user_sites(&self, user_id: i64, keys: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM user_sites WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for key in keys {
            sqlx::query("INSERT INTO user_sites (user_id, site_key) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(user_id)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a user may edit the site `site_key`.
    pub async fn may_edit(&self, user_id: i64, site_key: &str) -> Result<bool> {
        let sites = self.user_sites(user_id).await?;
        Ok(sites.is_empty() || sites.iter().any(|k| k == site_key))
    }

    /// Adds a user; an existing address is a conflict.
    pub async fn add_user(&self, email: &str, role: Role, password_hash: &str, now: i64) -> Result<User> {
        let email = email.trim().to_lowercase();
        let row: Option<UserRow> = sqlx::query_as(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (email) DO NOTHING RETURNING id, email, role, created_at, ui_lang",
        )
        .bind(&email)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_row).transpose()?.ok_or_else(|| Error::Conflict(format!("a user {email} exists already")))
    }

    /// Adds the first owner, only while there is no user at all (the setup
    /// link works once); `None` when someone was first.
    pub async fn add_first_owner(&self, email: &str, password_hash: &str, now: i64) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at)
             SELECT $1, 'owner', $2, $3, $3 WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING id, email, role, created_at, ui_lang",
        )
        .bind(email.trim().to_lowercase())
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_row).transpose()
    }

    /// Every user, by address.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> =
            sqlx::query_as("SELECT id, email, role, created_at, ui_lang FROM users ORDER BY email")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(user_row).collect()
    }

    /// The user with this id, if any.
    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, email, role, created_at, ui_lang FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(user_row).transpose()
    }

    /// The user with this address and their password hash.
    pub async fn user_for_sign_in(&self, email: &str) -> Result<Option<(User, String)>> {
        let row: Option<(i64, String, String, i64, Option<String>, String)> =
            sqlx::query_as("SELECT id, email, role, created_at, ui_lang, password_hash FROM users WHERE email = $1")
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(id, email, role, at, lang, hash)| Ok((user_row((id, email, role, at, lang))?, hash))).transpose()
    }

    /// Sets the language a user reads the admin in (`None`: the browser's).
    pub async fn set_ui_lang(&self, user_id: i64, lang: Option<Lang>) -> Result<()> {
        sqlx::query("UPDATE users SET ui_lang = $1 WHERE id = $2")
            .bind(lang.map(Lang::code))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces a user's password hash and ends their sessions: a new
    /// password is often set because the old one, or a signed-in browser,
    /// got into other hands.
    pub async fn set_password(&self, email: &str, password_hash: &str, now: i64) -> Result<()> {
        let email = email.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE email = $3")
            .bind(password_hash)
            .bind(now)
            .bind(&email)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("no user {email}")));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = $1)")
            .bind(&email)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a user and their tokens. The last owner cannot be removed:
    /// someone must be able to manage the users.
    pub async fn remove_user(&self, email: &str) -> Result<()> {
        let email = email.trim().to_lowercase();
        let mut tx = super::backend::begin_write(&self.pool).await?;
        let role: Option<(String,)> =
            sqlx::query_as("SELECT role FROM users WHERE email = $1").bind(&email).fetch_optional(&mut *tx).await?;
        let Some((role,)) = role else { return Err(Error::NotFound(format!("no user {email}"))) };
        if role == Role::Owner.as_str() {
            let (owners,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'owner'").fetch_one(&mut *tx).await?;
            if owners == 1 {
                return Err(Error::Conflict(format!("{email} is the last owner; add another owner first")));
            }
        }
        sqlx::query("DELETE FROM users WHERE email = $1").bind(&email).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new API token (its hash) for the user with this address.
    pub async fn add_token(&self, email: &str, name: &str, token_hash: &str, now: i64) -> Result<TokenInfo> {
        let email = email.trim().to_lowercase();
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at)
             SELECT id, $2, $3, $4 FROM users WHERE email = $1 RETURNING id",
        )
        .bind(&email)
        .bind(name.trim())
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let (id,) = row.ok_or_else(|| Error::NotFound(format!("no user {email}")))?;
        Ok(TokenInfo { id, email, name: name.trim().to_owned(), created_at: now, last_used_at: None, revoked_at: None })
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT t.id, u.email, t.name, t.created_at, t.last_used_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, email, name, created_at, last_used_at, revoked_at)| TokenInfo {
                id,
                email,
                name,
                created_at,
                last_used_at,
                revoked_at,
            })
            .collect())
    }

    /// Revokes a token; revoking one twice is fine, an unknown id is not.
    pub async fn revoke_token(&self, id: i64, now: i64) -> Result<()> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("no token {id}")));
        }
        Ok(())
    }

    /// The user a live token belongs to; records its use (at most once a
    /// minute, so that reading through the API does not write every time).
    pub async fn user_for_token(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        let row: Option<TokenUserRow> = sqlx::query_as(
            "SELECT t.id, u.id, u.email, u.role, u.created_at, u.ui_lang, t.last_used_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some((token_id, id, email, role, created_at, lang, last_used)) = row else { return Ok(None) };
        if last_used.is_none_or(|t| now - t >= 60) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token_id)
                .execute(&self.pool)
                .await?;
        }
        user_row((id, email, role, created_at, lang)).map(Some)
    }
}
