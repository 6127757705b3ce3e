//! Newsletters: drafts editors write (one language each), and issues sent
//! to that language's confirmed subscribers through the outbox, whose rows
//! name the issue so its progress can be counted.

use super::Store;
use super::error::{Error, Result};
use super::outbox::{NewMail, enqueue_for};

/// A newsletter, draft or sent.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Newsletter {
    /// Row id.
    pub id: i64,
    /// The language of its subscribers (`en`, `de`).
    pub lang: String,
    /// Subject line.
    pub subject: String,
    /// Markdown.
    pub body: String,
    /// Who wrote it.
    pub created_by: String,
    /// Created (unix seconds).
    pub created_at: i64,
    /// Last saved.
    pub updated_at: i64,
    /// When it was sent; `None` for a draft.
    pub sent_at: Option<i64>,
    /// To how many subscribers.
    pub recipients: i64,
    /// Since when it is in the public archive; `None`: it is not.
    pub archived_at: Option<i64>,
}

/// Where the mails of a sent newsletter are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Waiting or being sent.
    pub queued: i64,
    /// Accepted by the mail server.
    pub sent: i64,
    /// Given up.
    pub failed: i64,
}

/// A confirmed subscriber a newsletter goes to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Recipient {
    /// Address.
    pub email: String,
    /// Name, possibly empty.
    pub name: String,
    /// The nonce of their unsubscribe link.
    pub unsubscribe_nonce: String,
}

impl Store {
    /// Creates a draft; returns its id.
    pub async fn create_newsletter(
        &self,
        site_id: i64,
        lang: &str,
        subject: &str,
        body: &str,
        by: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO newsletters (site_id, lang, subject, body, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(site_id)
        .bind(lang)
        .bind(subject)
        .bind(body)
        .bind(by)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Puts a sent newsletter into the public archive, or takes it out. The
    /// archive is part of the site's snapshot: the content version moves.
    pub async fn archive_newsletter(&self, site_id: i64, id: i64, show: bool, now: i64) -> Result<()> {
        let mut tx = super::backend::begin_write(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE newsletters SET archived_at = CASE WHEN $3 = 1 THEN COALESCE(archived_at, $4) END \
             WHERE site_id = $1 AND id = $2 AND sent_at IS NOT NULL",
        )
        .bind(site_id)
        .bind(id)
        .bind(i64::from(show))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::Conflict("only a sent newsletter can be in the archive".into()));
        }
        super::content::bump_version(&mut tx, site_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a draft; a sent newsletter is a conflict.
    pub async fn save_newsletter(&self, site_id: i64, id: i64, subject: &str, body: &str, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE newsletters SET subject = $3, body = $4, updated_at = $5 \
             WHERE site_id = $1 AND id = $2 AND sent_at IS NULL",
        )
        .bind(site_id)
        .bind(id)
        .bind(subject)
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(self.why_not_draft(site_id, id).await?);
        }
        Ok(())
    }

    async fn why_not_draft(&self, site_id: i64, id: i64) -> Result<Error> {
        Ok(match self.newsletter(site_id, id).await? {
            Some(_) => Error::Conflict(format!("the newsletter {id} has been sent; it cannot change")),
            None => Error::NotFound(format!("there is no newsletter {id}")),
        })
    }

    /// One newsletter.
    pub async fn newsletter(&self, site_id: i64, id: i64) -> Result<Option<Newsletter>> {
        Ok(sqlx::query_as(
            "SELECT id, lang, subject, body, created_by, created_at, updated_at, sent_at, recipients, archived_at \
             FROM newsletters WHERE site_id = $1 AND id = $2",
        )
        .bind(site_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every newsletter with its progress, newest first.
    pub async fn newsletters(&self, site_id: i64) -> Result<Vec<(Newsletter, Progress)>> {
        #[derive(sqlx::FromRow)]
        struct Listed {
            #[sqlx(flatten)]
            newsletter: Newsletter,
            queued: i64,
            sent: i64,
            failed: i64,
        }
        let rows: Vec<Listed> = sqlx::query_as(
            "SELECT n.id, n.lang, n.subject, n.body, n.created_by, n.created_at, n.updated_at, n.sent_at, n.archived_at, \
             n.recipients, COUNT(*) FILTER (WHERE o.state IN ('pending', 'sending')) AS queued, \
             COUNT(*) FILTER (WHERE o.state = 'sent') AS sent, COUNT(*) FILTER (WHERE o.state = 'failed') AS failed \
             FROM newsletters n LEFT JOIN outbox o ON o.newsletter_id = n.id \
             WHERE n.site_id = $1 GROUP BY n.id ORDER BY n.id DESC",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.newsletter, Progress { queued: r.queued, sent: r.sent, failed: r.failed }))
            .collect())
    }

    /// Where the mails of a newsletter are (mails the retention purge or an
    /// erasure removed are no longer counted).
    pub async fn newsletter_progress(&self, id: i64) -> Result<Progress> {
        let (queued, sent, failed): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE state IN ('pending', 'sending')), COUNT(*) FILTER (WHERE state = 'sent'), \
             COUNT(*) FILTER (WHERE state = 'failed') FROM outbox WHERE newsletter_id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Progress { queued, sent, failed })
    }

    /// Sends a draft: one mail per confirmed subscriber of its language,
    /// made by `mail`, queued in one transaction with the newsletter marked
    /// sent (a newsletter is sent once). Returns the number of recipients.
    pub async fn send_newsletter<E>(
        &self,
        site_id: i64,
        id: i64,
        now: i64,
        mail: impl Fn(&Recipient) -> std::result::Result<NewMail, E>,
    ) -> Result<std::result::Result<i64, E>> {
        let mut tx = self.begin_write().await?;
        let lang: Option<String> =
            sqlx::query_scalar("SELECT lang FROM newsletters WHERE site_id = $1 AND id = $2 AND sent_at IS NULL")
                .bind(site_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(lang) = lang else {
            drop(tx);
            return Err(self.why_not_draft(site_id, id).await?);
        };
        let recipients: Vec<Recipient> = sqlx::query_as(
            "SELECT email, name, unsubscribe_nonce FROM subscribers \
             WHERE site_id = $1 AND lang = $2 AND status = 'confirmed' ORDER BY id",
        )
        .bind(site_id)
        .bind(&lang)
        .fetch_all(&mut *tx)
        .await?;
        for r in &recipients {
            match mail(r) {
                Ok(m) => enqueue_for(&mut tx, site_id, &m, now, Some(id)).await?,
                Err(e) => return Ok(Err(e)),
            }
        }
        sqlx::query("UPDATE newsletters SET sent_at = $2, recipients = $3 WHERE id = $1")
            .bind(id)
            .bind(now)
            .bind(recipients.len() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(recipients.len() as i64))
    }
}
