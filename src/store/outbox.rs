//! The outbox: mails waiting to be sent, written in the same transaction as
//! the submission they belong to, so an answered submission never loses its
//! mail. The mail worker (`mail::worker`) claims due rows, sends them and
//! records the result.

use super::backend::Conn;
use super::error::Result;

use super::{Engine, Store};

/// A mail to queue.
#[derive(Clone, Debug)]
pub struct NewMail {
    /// What it is (`newsletter_confirm`, `contact_message` …), for the operator.
    pub kind: &'static str,
    /// The Message-ID to send it with (without angle brackets).
    pub message_id: String,
    /// The one recipient.
    pub to: String,
    /// Reply-To, for mails to the team.
    pub reply_to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// The one-click unsubscribe URL of a newsletter mail (RFC 8058).
    pub list_unsubscribe: Option<String>,
}

/// A queued mail, as the worker sends it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QueuedMail {
    /// Row id.
    pub id: i64,
    /// The stable Message-ID (without angle brackets): a retry after a
    /// crash carries the same one, so receivers can drop the duplicate.
    pub message_id: String,
    /// Recipient.
    pub recipient: String,
    /// Reply-To.
    pub reply_to: Option<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub body_text: String,
    /// HTML part.
    pub body_html: String,
    /// One-click unsubscribe URL.
    pub list_unsubscribe: Option<String>,
    /// Tries so far, this one included.
    pub attempts: i64,
}

/// How many mails are in each state, for the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting (new or to be retried).
    pub pending: i64,
    /// Handed to the worker.
    pub sending: i64,
    /// Delivered to the mail server.
    pub sent: i64,
    /// Given up.
    pub failed: i64,
}

/// Queues `mail` inside the caller's transaction.
pub async fn enqueue(conn: &mut Conn, site_id: i64, mail: &NewMail, now: i64) -> Result<()> {
    enqueue_for(conn, site_id, mail, now, None).await
}

/// Queues a mail of a newsletter issue (`newsletter`), or of none.
pub async fn enqueue_for(
    conn: &mut Conn,
    site_id: i64,
    mail: &NewMail,
    now: i64,
    newsletter: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (site_id, message_id, kind, recipient, reply_to, subject, body_text, body_html, \
         list_unsubscribe, state, attempts, next_attempt_at, created_at, newsletter_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10, $11)",
    )
    .bind(site_id)
    .bind(&mail.message_id)
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.reply_to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(&mail.list_unsubscribe)
    .bind(now)
    .bind(newsletter)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Queues mails on their own (a newsletter issue), in one transaction.
    pub async fn queue_mails(&self, site_id: i64, mails: &[NewMail], now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for m in mails {
            enqueue(&mut tx, site_id, m, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due mails until `lease_until` and returns them.
    /// Due: pending and due, or claimed by a worker whose lease ran out (it
    /// died mid-send). A mail is never claimed while its lease runs, by
    /// this process or another sharing the database.
    ///
    /// On PostgreSQL, workers claiming at the same moment skip each other's
    /// rows (`FOR UPDATE SKIP LOCKED`) instead of waiting for them and then
    /// claiming them a second time; SQLite runs one write at a time.
    pub async fn claim_due_mails(
        &self,
        instance: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<QueuedMail>> {
        let skip_locked = match self.engine() {
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_until = $2, claimed_by = $4 \
             WHERE id IN (SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $1) \
              OR (state = 'sending' AND (claimed_until IS NULL OR claimed_until <= $1)) ORDER BY id LIMIT $3{skip_locked}) \
             RETURNING id, message_id, recipient, reply_to, subject, body_text, body_html, list_unsubscribe, attempts"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .bind(instance)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Renews `instance`'s claim on a mail until `lease_until`, right before
    /// it is sent: false if the claim was lost (its lease ran out and
    /// another worker claimed the mail), and then this one must not send it.
    pub async fn keep_mail_claim(&self, id: i64, instance: &str, lease_until: i64) -> Result<bool> {
        let kept =
            sqlx::query("UPDATE outbox SET claimed_until = $2 WHERE id = $1 AND state = 'sending' AND claimed_by = $3")
                .bind(id)
                .bind(lease_until)
                .bind(instance)
                .execute(&self.pool)
                .await?;
        Ok(kept.rows_affected() == 1)
    }

    /// At start-up: the claims `instance` held when it stopped (it crashed
    /// mid-send) go back to the queue at once, without waiting for their
    /// lease. Other instances' claims are left alone. Returns how many.
    pub async fn release_own_claims(&self, instance: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'pending', claimed_until = NULL WHERE state = 'sending' AND claimed_by = $1",
        )
        .bind(instance)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Gives `instance`'s claimed mails back to the queue at once (the
    /// worker stopped mid-batch on an error); without this their lease
    /// would run out first.
    pub async fn release_mails(&self, ids: &[i64], instance: &str) -> Result<()> {
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET state = 'pending', claimed_until = NULL \
                 WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
            )
            .bind(id)
            .bind(instance)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Records a mail the server accepted; its body is no longer kept.
    pub async fn mark_mail_sent(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $2, body_text = '', body_html = '', last_error = NULL, \
             claimed_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a mail `instance` claimed back in the queue for another try at
    /// `next_at`; a mail it no longer holds (another worker sent it
    /// meanwhile) is left as it is.
    pub async fn retry_mail(&self, id: i64, instance: &str, next_at: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $2, last_error = $3, claimed_until = NULL \
             WHERE id = $1 AND state = 'sending' AND claimed_by = $4",
        )
        .bind(id)
        .bind(next_at)
        .bind(error)
        .bind(instance)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up a mail `instance` claimed (not one it no longer holds).
    pub async fn fail_mail(&self, id: i64, instance: &str, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = $2, claimed_until = NULL \
             WHERE id = $1 AND state = 'sending' AND claimed_by = $3",
        )
        .bind(id)
        .bind(error)
        .bind(instance)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many mails are in each state.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetch_all(&self.pool).await?;
        let mut c = OutboxCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "pending" => c.pending = n,
                "sending" => c.sending = n,
                "sent" => c.sent = n,
                _ => c.failed += n,
            }
        }
        Ok(c)
    }

    /// When the oldest mail still waiting to be sent was queued, if any.
    pub async fn oldest_queued_mail(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE state IN ('pending', 'sending')")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The failed mails: id, kind, recipient, tries, last error.
    pub async fn failed_mails(&self) -> Result<Vec<(i64, String, String, i64, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, recipient, attempts, last_error FROM outbox WHERE state = 'failed' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
