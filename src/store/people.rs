//! The people who wrote to the campaign, as editors see them in the admin:
//! subscribers, petition signatures and the contact inbox. Lists page
//! through the rows; exports read them all.

use super::Store;
use super::error::Result;
use super::privacy::SubscriptionData;

/// Which subscribers to list: empty strings match all.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    pub lang: String,
    pub status: String,
}

/// A signature as the admin lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignatureRow {
    pub email: String,
    pub name: String,
    pub country: String,
    pub lang: String,
    pub status: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

/// A contact message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub lang: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

impl Store {
    /// A page of subscribers, newest first, and how many match in all.
    pub async fn subscribers_page(
        &self,
        site_id: i64,
        f: &SubscriberFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<SubscriptionData>)> {
        let total = sqlx::query_scalar(
            "SELECT COUNT(*) FROM subscribers WHERE site_id = $1 AND ($2 = '' OR lang = $2) AND ($3 = '' OR status = $3)",
        )
        .bind(site_id)
        .bind(&f.lang)
        .bind(&f.status)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query_as(
            "SELECT email, name, lang, status, created_at, confirmed_at, unsubscribed_at FROM subscribers \
             WHERE site_id = $1 AND ($2 = '' OR lang = $2) AND ($3 = '' OR status = $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
        )
        .bind(site_id)
        .bind(&f.lang)
        .bind(&f.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((total, rows))
    }

    /// Every subscriber that matches, oldest first (for a CSV export).
    pub async fn all_subscribers(&self, site_id: i64, f: &SubscriberFilter) -> Result<Vec<SubscriptionData>> {
        Ok(sqlx::query_as(
            "SELECT email, name, lang, status, created_at, confirmed_at, unsubscribed_at FROM subscribers \
             WHERE site_id = $1 AND ($2 = '' OR lang = $2) AND ($3 = '' OR status = $3) ORDER BY created_at, id",
        )
        .bind(site_id)
        .bind(&f.lang)
        .bind(&f.status)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Confirmed signatures of a petition per day (UTC), newest day first:
    /// (the day's first second, count).
    pub async fn signatures_per_day(&self, site_id: i64, petition: &str) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT (confirmed_at / 86400) * 86400 AS day, COUNT(*) FROM signatures \
             WHERE site_id = $1 AND petition = $2 AND status = 'confirmed' GROUP BY day ORDER BY day DESC",
        )
        .bind(site_id)
        .bind(petition)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of a petition's signatures, newest first, and the total.
    pub async fn signatures_page(
        &self,
        site_id: i64,
        petition: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<SignatureRow>)> {
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM signatures WHERE site_id = $1 AND petition = $2")
            .bind(site_id)
            .bind(petition)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query_as(
            "SELECT email, name, country, lang, status, created_at, confirmed_at FROM signatures \
             WHERE site_id = $1 AND petition = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
        )
        .bind(site_id)
        .bind(petition)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((total, rows))
    }

    /// Every confirmed signature of a petition, in the order they came.
    pub async fn confirmed_signatures(&self, site_id: i64, petition: &str) -> Result<Vec<SignatureRow>> {
        Ok(sqlx::query_as(
            "SELECT email, name, country, lang, status, created_at, confirmed_at FROM signatures \
             WHERE site_id = $1 AND petition = $2 AND status = 'confirmed' ORDER BY confirmed_at, id",
        )
        .bind(site_id)
        .bind(petition)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of the inbox, newest first: open messages, or those done.
    pub async fn messages_page(
        &self,
        site_id: i64,
        done: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<MessageRow>)> {
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE site_id = $1 AND (done_at IS NOT NULL) = $2")
                .bind(site_id)
                .bind(done)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query_as(
            "SELECT id, email, name, subject, body, lang, created_at, done_at FROM messages \
             WHERE site_id = $1 AND (done_at IS NOT NULL) = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
        )
        .bind(site_id)
        .bind(done)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((total, rows))
    }

    /// One message, if it exists (and has not been deleted by retention).
    pub async fn message(&self, site_id: i64, id: i64) -> Result<Option<MessageRow>> {
        Ok(sqlx::query_as(
            "SELECT id, email, name, subject, body, lang, created_at, done_at FROM messages WHERE site_id = $1 AND id = $2",
        )
        .bind(site_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks a message done, or open again; false when it does not exist.
    pub async fn set_message_done(&self, site_id: i64, id: i64, done_at: Option<i64>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE messages SET done_at = $3 WHERE site_id = $1 AND id = $2")
            .bind(site_id)
            .bind(id)
            .bind(done_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }
}
