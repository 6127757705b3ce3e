//! Newsletter subscribers: sign-up, confirmation, unsubscription.

use super::error::{Error, Result};

use super::consent::{self, Consent};
use super::outbox::{NewMail, enqueue};
use super::{Store, backend};

/// What a sign-up did. The visitor sees the same answer for each, so the
/// form cannot tell anyone whether an address is subscribed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignUp {
    /// A confirmation mail is queued.
    ConfirmationQueued,
    /// This address got a confirmation mail less than a day ago: nothing sent.
    Throttled,
    /// Already confirmed: nothing sent (no second welcome).
    AlreadySubscribed,
}

/// What the welcome mail needs to know about the new subscriber.
#[derive(Clone, Debug)]
pub struct Subscriber {
    /// Address.
    pub email: String,
    /// Name, possibly empty.
    pub name: String,
    /// Language code of the sign-up.
    pub lang: String,
    /// The secret behind the subscriber's unsubscribe links.
    pub unsubscribe_nonce: String,
}

/// What a confirmation or unsubscription did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done now.
    Done,
    /// Had been done before (the link was used twice).
    AlreadyDone,
    /// No such pending request: an old or foreign link.
    Invalid,
}

/// A new sign-up: its fields and the secrets its links will carry.
pub struct SignUpRequest<'a> {
    /// Address (lowercased).
    pub email: &'a str,
    /// Name, possibly empty.
    pub name: &'a str,
    /// Language code.
    pub lang: &'a str,
    /// The consent given.
    pub consent: &'a Consent,
    /// The nonce in the confirmation link of `mail`.
    pub confirm_nonce: &'a str,
    /// Used only for a new subscriber.
    pub unsubscribe_nonce: &'a str,
    /// The confirmation mail.
    pub mail: &'a NewMail,
}

impl Store {
    /// Records a sign-up and queues its confirmation mail, in one transaction.
    pub async fn sign_up(&self, site_id: i64, r: &SignUpRequest<'_>, now: i64) -> Result<SignUp> {
        let mut tx = self.begin_write_for(r.email).await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM subscribers WHERE site_id = $1 AND email = $2")
                .bind(site_id)
                .bind(r.email)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref() == Some("confirmed") {
            return Ok(SignUp::AlreadySubscribed);
        }
        if !consent::take_mail_slot(&mut tx, site_id, "newsletter", r.email, now).await? {
            return Ok(SignUp::Throttled);
        }
        // A former subscriber keeps confirmed_at and unsubscribed_at (and
        // the unsubscribe nonce): until the new sign-up is confirmed, the old
        // proof of consent must survive (see `purge_expired`).
        sqlx::query(
            "INSERT INTO subscribers (site_id, email, name, lang, status, confirm_nonce, unsubscribe_nonce, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) \
             ON CONFLICT (site_id, email) DO UPDATE SET status = 'pending', name = excluded.name, \
             lang = excluded.lang, confirm_nonce = excluded.confirm_nonce, created_at = excluded.created_at",
        )
        .bind(site_id)
        .bind(r.email)
        .bind(r.name)
        .bind(r.lang)
        .bind(r.confirm_nonce)
        .bind(r.unsubscribe_nonce)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        consent::record(&mut tx, site_id, r.email, r.consent, now).await?;
        enqueue(&mut tx, site_id, r.mail, now).await?;
        tx.commit().await?;
        Ok(SignUp::ConfirmationQueued)
    }

    /// Confirms the sign-up whose link carries `nonce` and queues the welcome
    /// mail that `welcome` builds, in one transaction. `welcome` may fail
    /// with the caller's own error; then nothing is confirmed.
    pub async fn confirm_subscription<E: From<Error>>(
        &self,
        nonce: &str,
        ip: &str,
        now: i64,
        welcome: impl FnOnce(&Subscriber) -> std::result::Result<NewMail, E>,
    ) -> std::result::Result<Outcome, E> {
        let mut tx = self.begin_write().await.map_err(Error::from)?;
        let select =
            "SELECT site_id, status, email, name, lang, unsubscribe_nonce FROM subscribers WHERE confirm_nonce = $1";
        let mut row: Option<(i64, String, String, String, String, String)> =
            sqlx::query_as(select).bind(nonce).fetch_optional(&mut *tx).await.map_err(Error::from)?;
        // A new sign-up for the address commits under its own lock: take
        // it, then read again what that sign-up may have changed.
        if let Some(r) = &row
            && backend::lock_address(&mut tx, &r.2).await.map_err(Error::from)?
        {
            row = sqlx::query_as(select).bind(nonce).fetch_optional(&mut *tx).await.map_err(Error::from)?;
        }
        let Some((site_id, status, email, name, lang, unsubscribe_nonce)) = row else { return Ok(Outcome::Invalid) };
        match status.as_str() {
            "confirmed" => return Ok(Outcome::AlreadyDone),
            "pending" => {}
            _ => return Ok(Outcome::Invalid),
        }
        sqlx::query(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL WHERE confirm_nonce = $1",
        )
        .bind(nonce)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
        consent::confirm(&mut tx, site_id, &email, "newsletter", ip, now).await?;
        let mail = welcome(&Subscriber { email, name, lang, unsubscribe_nonce })?;
        enqueue(&mut tx, site_id, &mail, now).await?;
        tx.commit().await.map_err(Error::from)?;
        Ok(Outcome::Done)
    }

    /// Ends the subscription whose unsubscribe links carry `nonce`, and
    /// takes back the issues queued to it and not yet on their way (they
    /// would arrive after the "goodbye", with the name in them).
    pub async fn unsubscribe(&self, nonce: &str, now: i64) -> Result<Outcome> {
        let found: Option<(i64, String, String)> =
            sqlx::query_as("SELECT site_id, email, status FROM subscribers WHERE unsubscribe_nonce = $1")
                .bind(nonce)
                .fetch_optional(&self.pool)
                .await?;
        let Some((site_id, email, status)) = found else { return Ok(Outcome::Invalid) };
        if status == "unsubscribed" {
            return Ok(Outcome::AlreadyDone);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $2, confirm_nonce = NULL, name = '' \
             WHERE unsubscribe_nonce = $1",
        )
        .bind(nonce)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM outbox WHERE site_id = $1 AND recipient = $2 AND newsletter_id IS NOT NULL AND state = 'pending'",
        )
        .bind(site_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }
}
