//! The newsletter target: 10,000 queued mails handed to a local SMTP server
//! in under 60 s, none twice.
//!
//! Uses the real outbox and mail worker against aiosmtpd (PyPI) on a
//! loopback port, which stores every message in a Maildir; then checks that
//! every Message-ID arrived exactly once.
//!
//! ```sh
//! cargo bench --bench outbox            # 10,000 mails
//! MAILS=2000 cargo bench --bench outbox
//! ```

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use casefile::mail::worker::MailWorker;
use casefile::mail::{MailConfig, Mailer};
use casefile::store::{Change, NewMail, Store, now};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("MAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let maildir = dir.path().join("maildir");
    let mut smtp = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "aiosmtpd did not start (pip install aiosmtpd==1.4.6)");
        std::thread::sleep(Duration::from_millis(50));
    }

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = rt.block_on(async {
        let store = Store::open(&format!("sqlite:{}", dir.path().join("bench.db").display())).await?;
        let site = casefile::bundle::parse(&casefile::bundle::default_files())?;
        let site_id = store.import_site(&site, Change { author: "bench", note: "import" }).await?;
        let mails: Vec<NewMail> = (0..n)
            .map(|i| NewMail {
                kind: "newsletter",
                message_id: format!("bench-{i}@example.org"),
                to: format!("reader{i}@example.org"),
                reply_to: None,
                subject: format!("Newsletter {i}"),
                text: "Plain text of the newsletter.\n".repeat(20),
                html: "<p>HTML of the newsletter.</p>\n".repeat(20),
                list_unsubscribe: Some(format!("https://example.org/newsletter/unsubscribe?t={i}")),
            })
            .collect();
        let queued = Instant::now();
        store.queue_mails(site_id, &mails, now()).await?;
        let queue_time = queued.elapsed();

        let config = MailConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            from: "Campaign <team@example.org>".parse()?,
            contact_to: "team@example.org".parse()?,
            max_attempts: 5,
            retry_seconds: 1,
        };
        let worker = MailWorker {
            store: store.clone(),
            mailer: Mailer::new(&config, dir.path().join("unused"))?,
            from: config.from.clone(),
            max_attempts: config.max_attempts,
            retry_seconds: config.retry_seconds,
            wake: Arc::new(tokio::sync::Notify::new()),
            clock: casefile::clock::Clock::system(),
            instance: "bench".into(),
        };
        let start = Instant::now();
        while store.outbox_counts().await?.sent < n as i64 {
            if worker.run_once().await? == 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::ensure!(start.elapsed() < Duration::from_secs(600), "not done after 10 minutes");
        }
        let send_time = start.elapsed();
        anyhow::Ok((queue_time, send_time, store.outbox_counts().await?))
    });
    let (queue_time, send_time, counts) = result?;

    // Every Message-ID exactly once in the server's Maildir.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(maildir.join("new"))? {
        let text = std::fs::read_to_string(entry?.path())?;
        let id = text.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap_or("").to_owned();
        *seen.entry(id).or_default() += 1;
    }
    let _ = smtp.kill();
    let received: usize = seen.values().sum();
    let twice = seen.values().filter(|c| **c > 1).count();
    println!("mails queued: {n} in {:.2} s (one transaction)", queue_time.as_secs_f64());
    println!(
        "handed to SMTP: {} in {:.1} s = {:.0} mails/s",
        counts.sent,
        send_time.as_secs_f64(),
        n as f64 / send_time.as_secs_f64()
    );
    println!("received by the server: {received}, distinct Message-IDs: {}, sent twice: {twice}", seen.len());
    anyhow::ensure!(received == n && seen.len() == n && twice == 0, "lost or duplicated mails");
    Ok(())
}
