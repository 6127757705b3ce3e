//! Petition signatures: signing, confirmation, the public count.

use super::error::Result;
use serde::Serialize;

use super::consent::{self, Consent};
use super::outbox::{NewMail, enqueue};
use super::subscribers::Outcome;
use super::{Store, backend};

/// What signing did; the visitor sees the same answer for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// A confirmation mail is queued.
    ConfirmationQueued,
    /// A confirmation went to this address less than a day ago.
    Throttled,
    /// This address has signed and confirmed already.
    AlreadySigned,
}

/// A new signature and the confirmation mail for it.
pub struct SignRequest<'a> {
    /// Address (lowercased).
    pub email: &'a str,
    /// Name.
    pub name: &'a str,
    /// Country.
    pub country: &'a str,
    /// Whether name and country may be shown.
    pub show_name: bool,
    /// Language code.
    pub lang: &'a str,
    /// The consent given.
    pub consent: &'a Consent,
    /// The nonce in the confirmation link of `mail`.
    pub confirm_nonce: &'a str,
    /// The confirmation mail.
    pub mail: &'a NewMail,
}

/// The public side of a petition.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PetitionStats {
    /// Confirmed signatures.
    pub count: i64,
    /// The most recent signers who allowed it: (name, country).
    pub names: Vec<(String, String)>,
}

/// How many names the petition page lists.
const NAMES_SHOWN: i64 = 100;

impl Store {
    /// Records a signature and queues its confirmation mail, in one transaction.
    pub async fn sign(&self, site_id: i64, petition: &str, r: &SignRequest<'_>, now: i64) -> Result<Signing> {
        let mut tx = self.begin_write_for(r.email).await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM signatures WHERE site_id = $1 AND petition = $2 AND email = $3")
                .bind(site_id)
                .bind(petition)
                .bind(r.email)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref() == Some("confirmed") {
            return Ok(Signing::AlreadySigned);
        }
        if !consent::take_mail_slot(&mut tx, site_id, &r.consent.subject, r.email, now).await? {
            return Ok(Signing::Throttled);
        }
        sqlx::query(
            "INSERT INTO signatures (site_id, petition, email, name, country, show_name, lang, status, confirm_nonce, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) \
             ON CONFLICT (site_id, petition, email) DO UPDATE SET name = excluded.name, country = excluded.country, \
             show_name = excluded.show_name, lang = excluded.lang, confirm_nonce = excluded.confirm_nonce, \
             created_at = excluded.created_at",
        )
        .bind(site_id)
        .bind(petition)
        .bind(r.email)
        .bind(r.name)
        .bind(r.country)
        .bind(r.show_name)
        .bind(r.lang)
        .bind(r.confirm_nonce)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        consent::record(&mut tx, site_id, r.email, r.consent, now).await?;
        enqueue(&mut tx, site_id, r.mail, now).await?;
        tx.commit().await?;
        Ok(Signing::ConfirmationQueued)
    }

    /// What the signature whose link carries `nonce` says, as it would be
    /// published once confirmed: (name, country, whether the name is shown).
    pub async fn signature_to_confirm(&self, nonce: &str) -> Result<Option<(String, String, bool)>> {
        let row: Option<(String, String, backend::Flag)> =
            sqlx::query_as("SELECT name, country, show_name FROM signatures WHERE confirm_nonce = $1")
                .bind(nonce)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(name, country, shown)| (name, country, shown.0)))
    }

    /// Confirms the signature whose link carries `nonce`, if its petition
    /// is one of `open` (a closed petition takes no more confirmations).
    pub async fn confirm_signature(&self, nonce: &str, open: &[&str], ip: &str, now: i64) -> Result<Outcome> {
        let mut tx = self.begin_write().await?;
        let select = "SELECT site_id, petition, email, status FROM signatures WHERE confirm_nonce = $1";
        let mut row: Option<(i64, String, String, String)> =
            sqlx::query_as(select).bind(nonce).fetch_optional(&mut *tx).await?;
        // A new signature for the address commits under its own lock: take
        // it, then read again what that signature may have changed.
        if let Some(r) = &row
            && backend::lock_address(&mut tx, &r.2).await?
        {
            row = sqlx::query_as(select).bind(nonce).fetch_optional(&mut *tx).await?;
        }
        let Some((site_id, key, email, status)) = row.filter(|r| open.contains(&r.1.as_str())) else {
            return Ok(Outcome::Invalid);
        };
        if status == "confirmed" {
            return Ok(Outcome::AlreadyDone);
        }
        sqlx::query("UPDATE signatures SET status = 'confirmed', confirmed_at = $2 WHERE confirm_nonce = $1")
            .bind(nonce)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        consent::confirm(&mut tx, site_id, &email, &format!("petition:{key}"), ip, now).await?;
        tx.commit().await?;
        Ok(Outcome::Done)
    }

    /// The confirmed count and the names shown.
    pub async fn petition_stats(&self, site_id: i64, petition: &str) -> Result<PetitionStats> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM signatures WHERE site_id = $1 AND petition = $2 AND status = 'confirmed'",
        )
        .bind(site_id)
        .bind(petition)
        .fetch_one(&self.pool)
        .await?;
        let names = sqlx::query_as(
            "SELECT name, country FROM signatures WHERE site_id = $1 AND petition = $2 AND status = 'confirmed' \
             AND show_name = TRUE ORDER BY confirmed_at DESC, id DESC LIMIT $3",
        )
        .bind(site_id)
        .bind(petition)
        .bind(NAMES_SHOWN)
        .fetch_all(&self.pool)
        .await?;
        Ok(PetitionStats { count, names })
    }
}
