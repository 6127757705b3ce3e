//! Sending mail: the transports, turning a queued mail into a MIME message,
//! and composing mails from the theme's templates.
//!
//! Nothing here is called on a request's path except `compose`: requests
//! only queue mails (`store::outbox`); `worker` sends them.

pub mod compose;
mod smtp;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::store::{QueuedMail, redact};

/// Mail settings, from the configuration. `Debug` hides the SMTP password.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://…` or `smtps://…`; `None` writes `.eml` files instead.
    pub smtp_url: Option<String>,
    /// The sender, `Name <address>` or a bare address.
    pub from: Mailbox,
    /// Where contact messages go.
    pub contact_to: Mailbox,
    /// Tries before a mail is given up.
    pub max_attempts: i64,
    /// Delay before the first retry, in seconds; it doubles up to an hour.
    pub retry_seconds: i64,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("from", &self.from)
            .field("contact_to", &self.contact_to)
            .field("max_attempts", &self.max_attempts)
            .field("retry_seconds", &self.retry_seconds)
            .finish()
    }
}

/// Why a send failed.
#[derive(Debug)]
pub enum SendError {
    /// Worth trying again later (server down, timeout, 4xx).
    Transient(String),
    /// Will never work (5xx rejection, a malformed address).
    Permanent(String),
}

/// Where mails go: a real SMTP server, or files in a folder (the default
/// with no SMTP configured, so a fresh install works end to end).
///
/// An enum rather than a trait object: there are exactly two transports,
/// and tests use the real SMTP one against a local server.
#[derive(Clone)]
pub enum Mailer {
    /// SMTP, over pooled connections.
    Smtp(Arc<smtp::SmtpSender>),
    /// One `.eml` file per mail in this folder.
    Files(PathBuf),
    /// Kept in memory, for tests: every message as sent, in order.
    Memory(Arc<parking_lot::Mutex<Vec<String>>>),
}

impl Mailer {
    /// Builds the transport the configuration asks for.
    pub fn new(config: &MailConfig, mail_dir: PathBuf) -> Result<Mailer> {
        match &config.smtp_url {
            Some(url) => {
                let sender =
                    smtp::SmtpSender::from_url(url).with_context(|| format!("invalid SMTP URL `{}`", redact(url)))?;
                Ok(Mailer::Smtp(Arc::new(sender)))
            }
            None => {
                std::fs::create_dir_all(&mail_dir)
                    .with_context(|| format!("cannot create the mail folder {}", mail_dir.display()))?;
                Ok(Mailer::Files(mail_dir))
            }
        }
    }

    /// What the log says about where mail goes.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP".to_owned(),
            Mailer::Files(dir) => format!("files in {} (no SMTP configured)", dir.display()),
            Mailer::Memory(_) => "memory (tests)".to_owned(),
        }
    }

    /// Hands one mail over.
    pub async fn send(&self, from: &Mailbox, mail: &QueuedMail) -> Result<(), SendError> {
        let message = build_message(from, mail).map_err(|e| SendError::Permanent(crate::error_chain(&e)))?;
        match self {
            Mailer::Smtp(sender) => sender.send(&message).await,
            Mailer::Memory(sent) => {
                sent.lock().push(String::from_utf8_lossy(&message.formatted()).into_owned());
                Ok(())
            }
            Mailer::Files(dir) => {
                // Named by the Message-ID, so a retry overwrites rather than
                // duplicates; written whole, then renamed into place.
                let name = mail.message_id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "_");
                let path = dir.join(format!("{name}.eml"));
                let tmp = dir.join(format!(".{name}.tmp"));
                let bytes = message.formatted();
                tokio::fs::write(&tmp, bytes)
                    .await
                    .and(tokio::fs::rename(&tmp, &path).await)
                    .map_err(|e| SendError::Transient(format!("writing {}: {e}", path.display())))
            }
        }
    }
}

/// How long `.eml` files are kept, like sent mails in the outbox.
const FILE_RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl Mailer {
    /// Deletes `.eml` files older than the outbox keeps sent mails.
    pub fn purge_files(&self) {
        let Mailer::Files(dir) = self else { return };
        for path in eml_files(dir) {
            let old = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > FILE_RETENTION));
            if old {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Deletes the `.eml` files to or about `email` (To or Reply-To), for an
/// erasure request; returns how many.
pub fn erase_files(dir: &std::path::Path, email: &str) -> usize {
    let email = email.to_lowercase();
    let mut n = 0;
    for path in eml_files(dir) {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let concerns = ["to", "reply-to"].iter().any(|h| addresses_in(head, h).contains(&email));
        if concerns && std::fs::remove_file(&path).is_ok() {
            n += 1;
        }
    }
    n
}

/// The addresses of one header (`to`) of a mail's head, lowercased, its
/// folded lines joined: compared whole, so that erasing `n@example.org`
/// leaves `ann@example.org`'s mail alone.
fn addresses_in(head: &str, header: &str) -> Vec<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ").replace("\n ", " ");
    let prefix = format!("{header}:");
    unfolded
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .flat_map(|l| l[prefix.len()..].split(|c: char| c.is_whitespace() || "<>,;\"".contains(c)))
        .filter(|w| w.contains('@'))
        .map(str::to_lowercase)
        .collect()
}

fn eml_files(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
        })
        .unwrap_or_default()
}

/// The MIME message for a queued mail: plain text and HTML alternatives,
/// the stored Message-ID, and the RFC 8058 one-click unsubscribe headers
/// for newsletter mails.
pub fn build_message(from: &Mailbox, mail: &QueuedMail) -> Result<Message, Error> {
    let address = |field: &str, a: &str| a.parse().map_err(|e| Error::Message(format!("{field}: {e}")));
    let mut b = Message::builder()
        .message_id(Some(format!("<{}>", mail.message_id)))
        .from(from.clone())
        .to(address("recipient", &mail.recipient)?)
        .subject(mail.subject.replace(['\r', '\n'], " "));
    if let Some(r) = &mail.reply_to {
        b = b.reply_to(address("reply-to", r)?);
    }
    if let Some(url) = &mail.list_unsubscribe {
        b = b
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    b.multipart(MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone()))
        .map_err(|e| Error::Message(e.to_string()))
}

/// What composing or building a mail can fail with. Sending has its own
/// [`SendError`], on which the worker decides to retry or give up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mail template is missing or broken.
    #[error(transparent)]
    Template(#[from] crate::site::RenderError),
    /// The plain-text template does not start with `Subject:`.
    #[error("{0} must start with a `Subject:` line")]
    NoSubject(String),
    /// An address or a part that cannot go into a message.
    #[error("cannot build the message: {0}")]
    Message(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasing_mail_files_matches_whole_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let mail =
            |name: &str, head: &str| std::fs::write(dir.path().join(name), format!("{head}\r\n\r\nbody")).unwrap();
        mail("a.eml", "From: team@example.org\r\nTo: ann@example.org");
        mail("b.eml", "From: team@example.org\r\nTo: \"N\" <N@Example.org>");
        mail("c.eml", "To: team@example.org\r\nReply-To: \"Someone with a long name\"\r\n <n@example.org>");
        mail("d.eml", "To: team@example.org\r\nSubject: about n@example.org");
        assert_eq!(erase_files(dir.path(), "n@example.org"), 2);
        let left: Vec<String> =
            eml_files(dir.path()).iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
        assert_eq!(left.len(), 2);
        assert!(left.contains(&"a.eml".to_owned()) && left.contains(&"d.eml".to_owned()), "{left:?}");
    }

    #[test]
    fn a_newsletter_mail_has_both_parts_and_one_click_unsubscribe() {
        let mail = QueuedMail {
            id: 1,
            message_id: "abc@example.org".into(),
            recipient: "ann@example.org".into(),
            reply_to: None,
            subject: "Bestätigen\r\nBcc: x@evil.org".into(),
            body_text: "plain".into(),
            body_html: "<p>html</p>".into(),
            list_unsubscribe: Some("https://example.org/newsletter/unsubscribe?t=x".into()),
            attempts: 1,
        };
        let from: Mailbox = "Friends <team@example.org>".parse().unwrap();
        let raw = String::from_utf8(build_message(&from, &mail).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <abc@example.org>"), "{raw}");
        assert!(raw.contains("List-Unsubscribe: <https://example.org/newsletter/unsubscribe?t=x>"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("multipart/alternative") && raw.contains("text/plain") && raw.contains("text/html"));
        assert!(!raw.contains("\r\nBcc:"), "no header injection through the subject");
    }
}
