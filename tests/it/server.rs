//! A real `casefile serve` process on a free loopback port, for the
//! integration tests. It is killed when the handle is dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
    /// Keeps the temporary data folder alive.
    _dir: Option<tempfile::TempDir>,
    /// What the server logs from now on (behind a lock: a `Server` is shared
    /// by tasks that load it).
    pub log: std::sync::Mutex<mpsc::Receiver<String>>,
    /// What the server logged before it listened.
    pub early: Vec<String>,
}

impl Server {
    /// Starts a server over a fresh temporary data folder.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let mut s = Server::start_in(&data);
        s._dir = Some(dir);
        s
    }

    /// Starts a server over a fresh data folder holding `site` (with the
    /// files its items name), as an import would leave it.
    pub async fn start_with_site(
        mut site: casefile::content::Site,
        attachments: &[casefile::documents::Attachment],
    ) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        casefile::documents::attach(&mut site, attachments, &crate::documents::reader()).unwrap();
        casefile::documents::store_files(&site, attachments, &data.join("files")).unwrap();
        let store = casefile::store::Store::open(&crate::db::store_url(&data)).await.unwrap();
        store.import_site(&site, casefile::store::Change { author: "test", note: "import" }).await.unwrap();
        store.close().await;
        let mut server = Server::start_in(&data);
        server._dir = Some(dir);
        server
    }

    /// Starts a server over `data` (which may hold a database already).
    pub fn start_in(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// Starts a server over `data` with extra `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data, extra, &[])
    }

    /// [`Server::start_with`] with environment variables set last
    /// (`RUST_LOG` is `info` unless given).
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"]).arg(data).args(extra);
        crate::db::point(&mut cmd);
        let mut child = cmd
            .env_remove("CASEFILE_SMTP_URL")
            .env_remove("CASEFILE_MAIL_FROM")
            .env_remove("CASEFILE_CONTACT_TO")
            .env_remove("CASEFILE_TRUSTED_PROXIES")
            .env_remove("CASEFILE_BASE_URL")
            .env_remove("CASEFILE_LISTEN")
            .env_remove("CASEFILE_DATA")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the casefile binary starts");
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        // In a JSON line the address ends at the quote.
                        let end = |c: char| c.is_whitespace() || c == '"';
                        break rest.split(end).next().expect("an address").to_owned();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the server did not start; it said:\n{}", seen.join("\n"));
                }
            }
        };
        Server { child, base, data: data.to_owned(), _dir: None, log: std::sync::Mutex::new(rx), early: seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self._dir.is_some() {
            crate::db::release(&self.data);
        }
    }
}

/// A client that follows no redirects and asks for no compression.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}
