//! Messages from the contact form.

use super::error::Result;

use super::Store;
use super::outbox::{NewMail, enqueue};

/// A contact message as stored.
pub struct NewMessage<'a> {
    /// Sender's name.
    pub name: &'a str,
    /// Sender's address (lowercased).
    pub email: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// The message.
    pub body: &'a str,
    /// Language code of the page it was sent from.
    pub lang: &'a str,
    /// Shortened IP address.
    pub ip: &'a str,
}

impl Store {
    /// Stores a message and queues the mail to the team, in one transaction.
    pub async fn store_message(&self, site_id: i64, m: &NewMessage<'_>, mail: &NewMail, now: i64) -> Result<()> {
        let mut tx = self.begin_write_for(m.email).await?;
        sqlx::query(
            "INSERT INTO messages (site_id, email, name, subject, body, lang, ip, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(site_id)
        .bind(m.email)
        .bind(m.name)
        .bind(m.subject)
        .bind(m.body)
        .bind(m.lang)
        .bind(m.ip)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        enqueue(&mut tx, site_id, mail, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
