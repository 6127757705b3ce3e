//! A person's data across every table: the "manage my data" requests,
//! export (GDPR Art. 15/20), erasure (Art. 17), and the retention purge that
//! the privacy page promises.

use super::error::Result;
use serde::Serialize;
use sqlx::FromRow;

use super::Store;
use super::backend::Flag;
use super::consent;
use super::outbox::{NewMail, enqueue};

/// How long a "manage my data" link works.
pub const DATA_REQUEST_SECONDS: i64 = 24 * 3600;
const DAY: i64 = 24 * 3600;

/// What a data request did; the visitor sees the same answer for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataRequestOutcome {
    /// A link is on its way.
    LinkQueued,
    /// The site holds nothing about the address: no mail.
    NothingHeld,
    /// A link went to this address less than a day ago.
    Throttled,
}

/// A newsletter subscription, as exported.
#[derive(Debug, Serialize, FromRow)]
pub struct SubscriptionData {
    /// Address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Language.
    pub lang: String,
    /// pending, confirmed or unsubscribed.
    pub status: String,
    /// Sign-up time (unix seconds).
    pub created_at: i64,
    /// Confirmation time.
    pub confirmed_at: Option<i64>,
    /// Unsubscription time.
    pub unsubscribed_at: Option<i64>,
}

/// A petition signature, as exported.
#[derive(Debug, Serialize, FromRow)]
pub struct SignatureData {
    /// The petition's key.
    pub petition: String,
    /// Name.
    pub name: String,
    /// Country.
    pub country: String,
    /// Whether the name is shown publicly.
    #[sqlx(try_from = "Flag")]
    pub show_name: bool,
    /// Language.
    pub lang: String,
    /// pending or confirmed.
    pub status: String,
    /// Signing time.
    pub created_at: i64,
    /// Confirmation time.
    pub confirmed_at: Option<i64>,
}

/// A contact message, as exported.
#[derive(Debug, Serialize, FromRow)]
pub struct MessageData {
    /// Name.
    pub name: String,
    /// Subject.
    pub subject: String,
    /// Text.
    pub body: String,
    /// Language.
    pub lang: String,
    /// Shortened IP address.
    pub ip: String,
    /// Time received.
    pub created_at: i64,
}

/// A consent record, as exported.
#[derive(Debug, Serialize, FromRow)]
pub struct ConsentData {
    /// What for.
    pub subject: String,
    /// The text agreed to.
    pub text: String,
    /// Its language.
    pub lang: String,
    /// The page of the form.
    pub source_url: String,
    /// Shortened IP address at sign-up.
    pub ip: String,
    /// When given.
    pub given_at: i64,
    /// When confirmed.
    pub confirmed_at: Option<i64>,
    /// Shortened IP address at confirmation.
    pub confirm_ip: Option<String>,
}

/// A mail to or about the person still held in the outbox.
#[derive(Debug, Serialize, FromRow)]
pub struct MailData {
    /// What kind of mail.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// pending, sending, sent or failed.
    pub state: String,
    /// When queued.
    pub created_at: i64,
}

/// Everything the site holds about one address.
#[derive(Debug, Serialize)]
pub struct PersonalData {
    /// The address.
    pub email: String,
    /// Subscriptions.
    pub subscriptions: Vec<SubscriptionData>,
    /// Signatures.
    pub signatures: Vec<SignatureData>,
    /// Contact messages.
    pub messages: Vec<MessageData>,
    /// Consent records.
    pub consents: Vec<ConsentData>,
    /// Mails in the outbox.
    pub mails: Vec<MailData>,
}

impl Store {
    /// Queues a "manage my data" link for `email` if the site holds anything
    /// about it.
    pub async fn request_data(
        &self,
        site_id: i64,
        email: &str,
        nonce: &str,
        mail: &NewMail,
        now: i64,
    ) -> Result<DataRequestOutcome> {
        if !self.holds_data(site_id, email).await? {
            return Ok(DataRequestOutcome::NothingHeld);
        }
        let mut tx = self.begin_write_for(email).await?;
        if !consent::take_mail_slot(&mut tx, site_id, "data", email, now).await? {
            return Ok(DataRequestOutcome::Throttled);
        }
        sqlx::query("INSERT INTO data_requests (site_id, email, nonce, created_at) VALUES ($1, $2, $3, $4)")
            .bind(site_id)
            .bind(email)
            .bind(nonce)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        enqueue(&mut tx, site_id, mail, now).await?;
        tx.commit().await?;
        Ok(DataRequestOutcome::LinkQueued)
    }

    /// Whether anything `personal_data` would list is held about `email`
    /// (in either spelling of its domain, see [`other_spelling`]).
    async fn holds_data(&self, site_id: i64, email: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM subscribers WHERE site_id = $1 AND email IN ($2, $3)) \
             OR EXISTS (SELECT 1 FROM signatures WHERE site_id = $1 AND email IN ($2, $3)) \
             OR EXISTS (SELECT 1 FROM messages WHERE site_id = $1 AND email IN ($2, $3)) \
             OR EXISTS (SELECT 1 FROM consents WHERE site_id = $1 AND email IN ($2, $3)) \
             OR EXISTS (SELECT 1 FROM outbox WHERE site_id = $1 AND (recipient IN ($2, $3) OR reply_to IN ($2, $3)) \
                        AND kind <> 'data_access')",
        )
        .bind(site_id)
        .bind(email)
        .bind(other_spelling(email))
        .fetch_one(&self.pool)
        .await
        .map(|f: Flag| f.0)?)
    }

    /// The site and address of a data request that is still valid.
    pub async fn data_request(&self, nonce: &str, now: i64) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query_as("SELECT site_id, email FROM data_requests WHERE nonce = $1 AND created_at > $2")
            .bind(nonce)
            .bind(now - DATA_REQUEST_SECONDS)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Everything held about `email` on a site.
    pub async fn personal_data(&self, site_id: i64, email: &str) -> Result<PersonalData> {
        let other = other_spelling(email);
        let subscriptions = sqlx::query_as(
            "SELECT email, name, lang, status, created_at, confirmed_at, unsubscribed_at FROM subscribers \
             WHERE site_id = $1 AND email IN ($2, $3)",
        )
        .bind(site_id)
        .bind(email)
        .bind(&other)
        .fetch_all(&self.pool)
        .await?;
        let signatures = sqlx::query_as(
            "SELECT petition, name, country, show_name, lang, status, created_at, confirmed_at \
             FROM signatures WHERE site_id = $1 AND email IN ($2, $3) ORDER BY id",
        )
        .bind(site_id)
        .bind(email)
        .bind(&other)
        .fetch_all(&self.pool)
        .await?;
        let messages = sqlx::query_as(
            "SELECT name, subject, body, lang, ip, created_at FROM messages WHERE site_id = $1 AND email IN ($2, $3) ORDER BY id",
        )
        .bind(site_id)
        .bind(email)
        .bind(&other)
        .fetch_all(&self.pool)
        .await?;
        let consents = sqlx::query_as(
            "SELECT subject, text, lang, source_url, ip, given_at, confirmed_at, confirm_ip FROM consents \
             WHERE site_id = $1 AND email IN ($2, $3) ORDER BY id",
        )
        .bind(site_id)
        .bind(email)
        .bind(&other)
        .fetch_all(&self.pool)
        .await?;
        // Data-access mails are left out: they exist because of the request.
        let mails = sqlx::query_as(
            "SELECT kind, subject, state, created_at FROM outbox \
             WHERE site_id = $1 AND (recipient IN ($2, $3) OR reply_to IN ($2, $3)) AND kind <> 'data_access' ORDER BY id",
        )
        .bind(site_id)
        .bind(email)
        .bind(&other)
        .fetch_all(&self.pool)
        .await?;
        Ok(PersonalData { email: email.to_owned(), subscriptions, signatures, messages, consents, mails })
    }

    /// Deletes everything held about `email` on a site, in one transaction.
    pub async fn erase_personal_data(&self, site_id: i64, email: &str) -> Result<()> {
        let other = other_spelling(email);
        let mut tx = self.begin_write().await?;
        // Form posts for the address commit under its own lock: none may
        // land between these deletes (a signature without its consent).
        for address in [email, &other] {
            super::backend::lock_address(&mut tx, address).await?;
        }
        for sql in [
            "DELETE FROM subscribers WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM signatures WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM messages WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM consents WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM data_requests WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM mail_throttle WHERE site_id = $1 AND email IN ($2, $3)",
            "DELETE FROM outbox WHERE site_id = $1 AND (recipient IN ($2, $3) OR reply_to IN ($2, $3))",
        ] {
            sqlx::query(sql).bind(site_id).bind(email).bind(&other).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        super::backend::forget_deleted(&self.pool).await;
        Ok(())
    }

    /// Deletes what the privacy page says is kept no longer. Returns the
    /// number of rows deleted.
    pub async fn purge_expired(&self, now: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for (sql, age) in [
            // Unconfirmed sign-ups and signatures: 30 days. A former
            // subscriber's unconfirmed new sign-up falls back to
            // 'unsubscribed', keeping the earlier proof of consent.
            ("DELETE FROM subscribers WHERE status = 'pending' AND confirmed_at IS NULL AND created_at < $1", 30 * DAY),
            (
                "UPDATE subscribers SET status = 'unsubscribed', confirm_nonce = NULL, name = '' \
                 WHERE status = 'pending' AND created_at < $1",
                30 * DAY,
            ),
            ("DELETE FROM signatures WHERE status = 'pending' AND created_at < $1", 30 * DAY),
            ("DELETE FROM consents WHERE confirmed_at IS NULL AND given_at < $1", 30 * DAY),
            // Former subscribers: 3 years after leaving (proof of consent).
            ("DELETE FROM subscribers WHERE status = 'unsubscribed' AND unsubscribed_at < $1", 3 * 365 * DAY),
            // Consent records whose subscription or signature is gone.
            (
                "DELETE FROM consents WHERE subject = 'newsletter' AND given_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM subscribers s WHERE s.site_id = consents.site_id AND s.email = consents.email)",
                0,
            ),
            (
                "DELETE FROM consents WHERE subject LIKE 'petition:%' AND given_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM signatures g WHERE g.site_id = consents.site_id AND g.email = consents.email \
                  AND consents.subject = 'petition:' || g.petition)",
                0,
            ),
            // Contact messages: 12 months.
            ("DELETE FROM messages WHERE created_at < $1", 365 * DAY),
            // Data-request links and the mail throttle: a day.
            ("DELETE FROM data_requests WHERE created_at < $1", DAY),
            ("DELETE FROM mail_throttle WHERE sent_at < $1", DAY),
            // Sent and failed mails: 30 days.
            ("DELETE FROM outbox WHERE state IN ('sent', 'failed') AND created_at < $1", 30 * DAY),
            // Admin sessions past their expiry, and failed sign-ins (a typed
            // address and a client address): a day.
            ("DELETE FROM sessions WHERE last_seen_at < $1", super::IDLE_SECONDS),
            ("DELETE FROM sessions WHERE created_at < $1", super::MAX_SECONDS),
            ("DELETE FROM sign_in_failures WHERE at < $1", DAY),
        ] {
            n += sqlx::query(sql).bind(now - age).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        // Every hour, also when nothing expired: an erasure whose emptying
        // of the log was held up by a reader is completed here.
        super::backend::forget_deleted(&self.pool).await;
        Ok(n)
    }
}

/// The same address with its domain spelled the other way: Unicode for an
/// ASCII (`xn--`) domain. Addresses are stored with ASCII domains since
/// 2026-11-26; rows stored before kept the domain as it was typed
/// (`anna@müller.de`), and a person's data is found, exported and erased
/// in both spellings.
fn other_spelling(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let (unicode, _) = idna::domain_to_unicode(domain);
            format!("{local}@{unicode}")
        }
        None => email.to_owned(),
    }
}
