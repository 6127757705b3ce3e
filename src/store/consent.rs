//! Consent records and the per-address mail throttle, shared by the
//! newsletter and petition flows.

use super::backend::Conn;
use super::error::Result;

/// At most one confirmation-type mail per address and purpose in this many
/// seconds, so a form cannot be used to flood someone's inbox.
pub const THROTTLE_SECONDS: i64 = 24 * 3600;

/// What a person agreed to, as the form showed it.
#[derive(Clone, Debug)]
pub struct Consent {
    /// `newsletter` or `petition:<key>`.
    pub subject: String,
    /// The exact text shown next to the box.
    pub text: String,
    /// Its language.
    pub lang: String,
    /// The page the form was on.
    pub source_url: String,
    /// The shortened IP address.
    pub ip: String,
}

/// Stores a consent record.
pub(super) async fn record(conn: &mut Conn, site_id: i64, email: &str, c: &Consent, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO consents (site_id, email, subject, text, lang, source_url, ip, given_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(site_id)
    .bind(email)
    .bind(&c.subject)
    .bind(&c.text)
    .bind(&c.lang)
    .bind(&c.source_url)
    .bind(&c.ip)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the open consent records of `email` for `subject` as confirmed.
pub(super) async fn confirm(
    conn: &mut Conn,
    site_id: i64,
    email: &str,
    subject: &str,
    ip: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE consents SET confirmed_at = $4, confirm_ip = $5 \
         WHERE site_id = $1 AND email = $2 AND subject = $3 AND confirmed_at IS NULL",
    )
    .bind(site_id)
    .bind(email)
    .bind(subject)
    .bind(now)
    .bind(ip)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the right to send `email` a mail for `purpose` now: `false` if one
/// was sent within [`THROTTLE_SECONDS`].
pub(super) async fn take_mail_slot(
    conn: &mut Conn,
    site_id: i64,
    purpose: &str,
    email: &str,
    now: i64,
) -> Result<bool> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT sent_at FROM mail_throttle WHERE site_id = $1 AND purpose = $2 AND email = $3")
            .bind(site_id)
            .bind(purpose)
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    if last.is_some_and(|t| now - t < THROTTLE_SECONDS) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO mail_throttle (site_id, purpose, email, sent_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (site_id, purpose, email) DO UPDATE SET sent_at = excluded.sent_at",
    )
    .bind(site_id)
    .bind(purpose)
    .bind(email)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}
