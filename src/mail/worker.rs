//! The mail worker: sends what the outbox holds, retries with backoff, and
//! runs the hourly retention purge.
//!
//! Each mail is claimed (`sending`, with a lease) before it is handed to the
//! server and marked `sent` after, so a crash neither loses a mail nor
//! (unless the process died in between) sends one twice: a mail whose lease
//! ran out is claimed again, and none is claimed while its lease runs.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::Notify;

use super::{Mailer, SendError};
use crate::clock::Clock;
use crate::store::Store;

/// How often the worker looks for due mails when nobody wakes it.
const POLL: Duration = Duration::from_secs(5);
/// How often expired personal data is deleted, in seconds.
const PURGE_EVERY: i64 = 3600;
/// The purge's name among the periodic jobs (`Store::claim_periodic`).
const PURGE_JOB: &str = "retention_purge";
/// How often a worker asks whether the purge is due (another instance may
/// have run it).
const PURGE_CHECK: Duration = Duration::from_secs(60);
/// Mails claimed per round.
const BATCH: i64 = 100;
/// How long a claim holds, renewed before each mail's send: longer than a
/// send can take (`smtp::LONGEST_SEND`), so that no other worker takes a
/// mail over while it is on its way.
const LEASE: i64 = 120;
const _: () = assert!(LEASE as u64 > super::smtp::LONGEST_SEND.as_secs());
/// The longest delay between two tries.
const MAX_DELAY: i64 = 3600;

/// Sends queued mails until the process ends.
pub struct MailWorker {
    /// The database.
    pub store: Store,
    /// Where mails go.
    pub mailer: Mailer,
    /// The sender.
    pub from: Mailbox,
    /// Tries before giving up.
    pub max_attempts: i64,
    /// First retry delay in seconds.
    pub retry_seconds: i64,
    /// Wakes the worker when a mail is queued.
    pub wake: Arc<Notify>,
    /// The time sends, retries and the purge are decided by.
    pub clock: Clock,
    /// This instance's name in mail claims (host and data folder).
    pub instance: String,
}

impl MailWorker {
    /// Starts the worker on the runtime.
    pub fn spawn(self) {
        tokio::spawn(async move {
            match self.store.release_own_claims(&self.instance).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(mails = n, "mails interrupted by a crash of this instance go out again"),
                Err(e) => tracing::error!(error = %crate::error_chain(&e), "could not take back interrupted mails"),
            }
            let mut last_purge_check: Option<tokio::time::Instant> = None;
            loop {
                if last_purge_check.is_none_or(|t| t.elapsed() >= PURGE_CHECK) {
                    self.purge_if_due().await;
                    last_purge_check = Some(tokio::time::Instant::now());
                }
                let sent = match self.run_once().await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::error!(error = %crate::error_chain(&e), "mail worker: database error");
                        0
                    }
                };
                if sent == 0 {
                    tokio::select! {
                        () = self.wake.notified() => {},
                        () = tokio::time::sleep(POLL) => {},
                    }
                }
            }
        });
    }

    /// The retention purge, once per [`PURGE_EVERY`] among all workers
    /// sharing the database (the one that claims the period runs it). Mail
    /// files are this worker's own: it purges them at each check.
    async fn purge_if_due(&self) {
        self.mailer.purge_files();
        let purge = async {
            if !self.store.claim_periodic(PURGE_JOB, self.clock.now(), PURGE_EVERY).await? {
                return Ok(None);
            }
            self.store.purge_expired(self.clock.now()).await.map(Some)
        };
        match purge.await {
            Ok(None | Some(0)) => {}
            Ok(Some(n)) => tracing::info!(rows = n, "deleted expired personal data"),
            Err(e) => {
                tracing::error!(error = %crate::error_chain(&e), "retention purge failed; tried again at the next check");
                if let Err(e) = self.store.unclaim_periodic(PURGE_JOB).await {
                    tracing::warn!(error = %crate::error_chain(&e), "the purge's hour stays claimed");
                }
            }
        }
    }

    /// Sends one batch of due mails; returns how many it handled. Each mail
    /// is recorded as sent as soon as the server took it, so an interruption
    /// can repeat at most the one mail in flight. Before each send the
    /// mail's lease is renewed for longer than a send can take, and a mail
    /// whose claim was lost meanwhile (another worker took it over) is
    /// skipped. On a database error the rest of the batch goes back to the
    /// queue.
    pub async fn run_once(&self) -> Result<usize, crate::store::Error> {
        let lease_until = self.clock.now() + LEASE;
        let batch = self.store.claim_due_mails(&self.instance, self.clock.now(), lease_until, BATCH).await?;
        for (i, mail) in batch.iter().enumerate() {
            let result = async {
                if self.store.keep_mail_claim(mail.id, &self.instance, self.clock.now() + LEASE).await? {
                    self.send_one(mail).await?;
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let rest: Vec<i64> = batch[i..].iter().map(|m| m.id).collect();
                if let Err(again) = self.store.release_mails(&rest, &self.instance).await {
                    tracing::warn!(error = %format!("{again:#}"), "could not release claimed mails; their lease will");
                }
                return Err(e);
            }
        }
        Ok(batch.len())
    }

    async fn send_one(&self, mail: &crate::store::QueuedMail) -> Result<(), crate::store::Error> {
        match self.mailer.send(&self.from, mail).await {
            Ok(()) => {
                self.store.mark_mail_sent(mail.id, self.clock.now()).await?;
                crate::metrics::mail("sent");
            }
            Err(SendError::Permanent(e)) => {
                tracing::error!(mail = mail.id, error = %without_addresses(&e), "mail rejected permanently; given up");
                self.store.fail_mail(mail.id, &self.instance, &e).await?;
                crate::metrics::mail("failed");
            }
            Err(SendError::Transient(e)) if mail.attempts >= self.max_attempts => {
                tracing::error!(mail = mail.id, tries = mail.attempts, error = %without_addresses(&e), "mail given up after too many tries");
                self.store.fail_mail(mail.id, &self.instance, &e).await?;
                crate::metrics::mail("failed");
            }
            Err(SendError::Transient(e)) => {
                let delay = retry_delay(self.retry_seconds, mail.attempts);
                tracing::warn!(mail = mail.id, tries = mail.attempts, retry_in_s = delay, error = %without_addresses(&e), "mail not sent; will retry");
                self.store.retry_mail(mail.id, &self.instance, self.clock.now() + delay, &e).await?;
                crate::metrics::mail("retry");
            }
        }
        Ok(())
    }
}

/// A server's error text without the mail addresses it often quotes
/// (`550 <ann@example.org> rejected`): the log holds no visitor data.
fn without_addresses(error: &str) -> String {
    error.split(' ').map(|w| if w.contains('@') { "<address>" } else { w }).collect::<Vec<_>>().join(" ")
}

/// Exponential backoff from `base` seconds, capped at an hour, with up to
/// 25% jitter so that many mails queued during an outage do not all come
/// back at the same second.
pub fn retry_delay(base: i64, attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let delay = base.saturating_mul(1_i64 << exp).clamp(1, MAX_DELAY);
    let mut b = [0u8; 2];
    let jitter = if getrandom::fill(&mut b).is_ok() { i64::from(u16::from_le_bytes(b)) * delay / 4 / 65536 } else { 0 };
    delay + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_errors_name_no_address() {
        assert_eq!(without_addresses("550 5.1.1 <ann@example.org>: unknown"), "550 5.1.1 <address> unknown");
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        for _ in 0..50 {
            let first = retry_delay(15, 1);
            assert!((15..=18).contains(&first), "the first retry comes within 30 s: {first}");
            assert!((30..=37).contains(&retry_delay(15, 2)));
            assert!((3600..=4500).contains(&retry_delay(15, 30)), "capped at an hour plus jitter");
        }
    }
}
