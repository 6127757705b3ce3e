//! A real SMTP server for the tests: aiosmtpd (PyPI) on a free loopback
//! port, writing every message it accepts into a Maildir that the tests read.
//!
//! Without aiosmtpd the mail tests skip with a message, unless
//! `CASEFILE_REQUIRE_SMTP` is set (CI sets it), where a missing server fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
    _dir: tempfile::TempDir,
}

/// A received mail, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub reply_to: Option<String>,
    pub raw_headers: String,
}

impl Mail {
    /// The first link in the plain-text part that contains `needle`.
    pub fn link(&self, needle: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(needle))
            .unwrap_or_else(|| panic!("no link with {needle} in:\n{}", self.text))
            .to_owned()
    }
}

/// Whether aiosmtpd can run here; skips (returns false) or panics per the
/// CI switch.
pub fn available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CASEFILE_REQUIRE_SMTP").is_some() {
            panic!("{test}: aiosmtpd is required (CASEFILE_REQUIRE_SMTP is set); pip install aiosmtpd==1.4.6");
        }
        eprintln!("SKIPPED {test}: python3 with aiosmtpd is not installed (pip install aiosmtpd==1.4.6)");
    }
    ok
}

/// A loopback port that nothing listens on, below the kernel's ephemeral
/// range: servers that other tests start on port 0 can never be given it
/// while this test leaves it closed on purpose (a mail server that is down).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed =
        std::process::id() ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    loop {
        let n = seed.wrapping_add(NEXT.fetch_add(7919, Ordering::Relaxed));
        let port = 20_000 + (n % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// Starts on `port` and waits until it accepts connections.
    pub fn start_on(port: u16) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer { child, port, maildir, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// How many mails arrived so far (cheaper than reading them).
    pub fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .map(Iterator::count)
            .sum()
    }

    /// Every mail received so far.
    pub fn mails(&self) -> Vec<Mail> {
        read_maildir(&self.maildir)
    }

    /// Waits (bounded) until `n` mails to `to` have arrived, and returns them.
    pub fn wait_for(&self, to: &str, n: usize) -> Vec<Mail> {
        // A retry backs off (1, 2, 4, 8, 16, 32 s in the tests' settings):
        // on a loaded machine the try after the server is back can be late.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got: Vec<Mail> = self.mails().into_iter().filter(|m| m.to == to).collect();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "expected {n} mails to {to}, got {}: {got:#?}", got.len());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The mails to `to` after waiting a little longer for stragglers.
    pub fn settled(&self, to: &str, wait: Duration) -> Vec<Mail> {
        std::thread::sleep(wait);
        self.mails().into_iter().filter(|m| m.to == to).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_maildir(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).map(|b| parse(&b)).collect()
}

/// Parses a raw message with a real MIME parser.
pub fn parse(bytes: &[u8]) -> Mail {
    let msg = mail_parser::MessageParser::default().parse(bytes).expect("a parseable mail");
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned).unwrap_or_default()
    };
    let raw = String::from_utf8_lossy(bytes);
    let raw_headers = raw.split("\r\n\r\n").next().unwrap_or("").split("\n\n").next().unwrap_or("").to_owned();
    Mail {
        to: addr(msg.to()),
        subject: msg.subject().unwrap_or("").to_owned(),
        text: msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: msg.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        message_id: msg.message_id().unwrap_or("").to_owned(),
        reply_to: Some(addr(msg.reply_to())).filter(|s| !s.is_empty()),
        raw_headers,
    }
}
