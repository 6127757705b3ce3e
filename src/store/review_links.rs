//! Review links: who may read which item before it is published, until
//! when. The token in the address is signed elsewhere (`web::tokens`);
//! here is what makes a link revocable.

use super::Store;
use super::error::Result;
use crate::content::ItemKind;

/// A review link as the admin lists it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewLink {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub nonce: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A review link about to be made.
pub struct NewReviewLink<'a> {
    pub kind: ItemKind,
    pub key: &'a str,
    /// The secret the signed token carries.
    pub nonce: &'a str,
    /// Who made it.
    pub by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

impl ReviewLink {
    /// Whether the link opens the item at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now <= self.expires_at
    }
}

impl Store {
    /// Records a new review link.
    pub async fn create_review_link(&self, site_id: i64, link: &NewReviewLink<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO review_links (site_id, kind, key, nonce, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(site_id)
        .bind(link.kind.as_str())
        .bind(link.key)
        .bind(link.nonce)
        .bind(link.by)
        .bind(link.now)
        .bind(link.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The link with this nonce, if it was made on this site.
    pub async fn review_link(&self, site_id: i64, nonce: &str) -> Result<Option<ReviewLink>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, key, nonce, created_by, created_at, expires_at, revoked_at FROM review_links \
             WHERE site_id = $1 AND nonce = $2",
        )
        .bind(site_id)
        .bind(nonce)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// An item's review links, newest first.
    pub async fn review_links_of(&self, site_id: i64, kind: ItemKind, key: &str) -> Result<Vec<ReviewLink>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, key, nonce, created_by, created_at, expires_at, revoked_at FROM review_links \
             WHERE site_id = $1 AND kind = $2 AND key = $3 ORDER BY created_at DESC, id DESC",
        )
        .bind(site_id)
        .bind(kind.as_str())
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes a link at once; false when there is no such live link.
    pub async fn revoke_review_link(&self, site_id: i64, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE review_links SET revoked_at = $3 WHERE site_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(site_id)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
