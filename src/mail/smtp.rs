//! The SMTP client: lettre's SMTP protocol implementation over sockets we
//! open ourselves, with `TCP_NODELAY`, and a small pool of open connections.
//!
//! Why not lettre's `AsyncSmtpTransport`: it writes a message's body and its
//! terminating `CRLF.CRLF` in two writes on a socket with Nagle's algorithm
//! on, so each mail waits for the server's delayed ACK (about 40 ms). Over
//! loopback that capped sending at about 8 mails a second; with `TCP_NODELAY`
//! the same code sends hundreds (see `BENCHMARKS.md`).

use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

use super::SendError;

/// How long connecting, or one mail's conversation, may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long checking that an idle connection is still open may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one mail's send can take: the check, a new connection and
/// the conversation.
pub(super) const LONGEST_SEND: Duration =
    Duration::from_secs(CHECK_TIMEOUT.as_secs() + TIMEOUT.as_secs() + TIMEOUT.as_secs());
/// Open connections kept for reuse.
const MAX_IDLE: usize = 4;

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    /// `smtp://host` without `?tls=`: plain text (a server on this machine).
    Plain,
    /// `smtp://host?tls=opportunistic`: STARTTLS when offered.
    StartTlsIfOffered,
    /// `smtp://host?tls=required`: STARTTLS or refuse to send.
    StartTls,
    /// `smtps://host`: TLS from the first byte.
    Implicit,
}

/// Sends mails to one SMTP server.
pub struct SmtpSender {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    tls: Option<TlsConnector>,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
}

impl SmtpSender {
    /// Reads an `smtp://` or `smtps://` URL: user and password (percent-encoded),
    /// host, port (587 or 465 by default), and `?tls=required|opportunistic`.
    pub fn from_url(raw: &str) -> Result<SmtpSender> {
        let url = url::Url::parse(raw).context("not a URL")?;
        let host = url.host_str().filter(|h| !h.is_empty()).context("no host")?.trim_matches(['[', ']']).to_owned();
        let tls_param = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let security = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None) => Security::Implicit,
            ("smtp", None) => Security::Plain,
            ("smtp", Some("required")) => Security::StartTls,
            ("smtp", Some("opportunistic")) => Security::StartTlsIfOffered,
            (scheme, tls) => bail!("unsupported combination: scheme `{scheme}` with tls={tls:?}"),
        };
        let port = url.port().unwrap_or(if security == Security::Implicit { 465 } else { 587 });
        let decode = |s: &str| percent_decode(s);
        let credentials = (!url.username().is_empty())
            .then(|| Credentials::new(decode(url.username()), decode(url.password().unwrap_or(""))));
        let tls = (security == Security::Implicit).then(|| {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            let config =
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default protocol versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            TlsConnector::from(Arc::new(config))
        });
        Ok(SmtpSender {
            host,
            port,
            security,
            credentials,
            hello: ClientId::default(),
            tls,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends one message, over an open connection if one is idle.
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let idle = self.idle.lock().pop();
        // A connection a NAT dropped silently would let the check wait for
        // TCP to give up (minutes): it gets a few seconds.
        let reusable = match idle {
            Some(mut c) => tokio::time::timeout(CHECK_TIMEOUT, c.test_connected()).await.unwrap_or(false).then_some(c),
            None => None,
        };
        let mut conn = match reusable {
            Some(c) => c,
            // None idle, or the server closed it meanwhile: a new one.
            None => tokio::time::timeout(TIMEOUT, self.connect())
                .await
                .map_err(|_| SendError::Transient("timed out connecting to the SMTP server".into()))??,
        };
        let bytes = message.formatted();
        match tokio::time::timeout(TIMEOUT, conn.send(message.envelope(), &bytes)).await {
            Ok(Ok(_)) => {
                let mut idle = self.idle.lock();
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
                Ok(())
            }
            // A 5xx reply, or lettre refusing to send (an address in UTF-8
            // to a server without SMTPUTF8): trying again cannot help.
            Ok(Err(e)) if e.is_permanent() || e.is_client() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
            Err(_) => Err(SendError::Transient("the SMTP server did not answer in time".into())),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let transient = |e: &dyn std::fmt::Display| SendError::Transient(format!("SMTP connection: {e}"));
        let tcp = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| transient(&e))?;
        tcp.set_nodelay(true).map_err(|e| transient(&e))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone()).map_err(|e| transient(&e))?;
                Box::new(Tls(tls.connect(name, tcp).await.map_err(|e| transient(&e))?))
            }
            None => Box::new(tcp),
        };
        let mut conn =
            AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await.map_err(|e| transient(&e))?;
        match self.security {
            Security::StartTls | Security::StartTlsIfOffered if conn.can_starttls() => {
                let params = TlsParameters::new(self.host.clone()).map_err(|e| transient(&e))?;
                conn.starttls(params, &self.hello).await.map_err(|e| transient(&e))?;
            }
            // Never fall back to plain text when TLS was asked for.
            Security::StartTls => return Err(SendError::Transient("the server offers no STARTTLS".into())),
            _ => {}
        }
        if let Some(creds) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], creds)
                .await
                .map_err(|e| if e.is_permanent() { SendError::Permanent(e.to_string()) } else { transient(&e) })?;
        }
        Ok(conn)
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A TLS stream lettre can drive (its stream trait needs the peer address).
#[derive(Debug)]
struct Tls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_port_security_and_credentials() {
        let s = SmtpSender::from_url("smtps://me%40x.org:p%3Ass+w@mail.example.org").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.security), ("mail.example.org", 465, Security::Implicit));
        assert!(s.credentials.is_some());
        let s = SmtpSender::from_url("smtp://mail.example.org:2525?tls=required").unwrap();
        assert_eq!((s.port, s.security), (2525, Security::StartTls));
        let s = SmtpSender::from_url("smtp://127.0.0.1:25").unwrap();
        assert_eq!(s.security, Security::Plain);
        assert!(s.credentials.is_none());
        assert!(SmtpSender::from_url("smtps://x?tls=required").is_err());
        assert!(SmtpSender::from_url("smtp://x?tls=sometimes").is_err());
        assert_eq!(percent_decode("p%3Ass+w"), "p:ss+w");
    }
}
