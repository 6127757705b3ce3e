//! The in-process test app (the crates.io `TestApp` habit): the real router
//! and state, built by the same `cmd::serve::build` as the server, called
//! with `tower::ServiceExt::oneshot` over a temporary database, with the
//! configuration set in code, a mailer that keeps mails in memory and a
//! clock the test moves. For behaviour in time (scheduling, fill times,
//! expiry, retention) without sleeping; the real-binary tests keep what only
//! a process can show (signals, `kill -9`, SMTP, the browser).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use casefile::cli::ServeArgs;
use casefile::clock::Clock;
use casefile::config::ServeConfig;
use casefile::mail::Mailer;
use casefile::mail::worker::MailWorker;
use casefile::web::AppState;
use tower::ServiceExt;

/// A running app without a socket.
pub struct TestApp {
    /// The shared state (store, snapshot, cache, forms).
    pub state: Arc<AppState>,
    /// The time the app sees; starts at a fixed moment.
    pub clock: Clock,
    sent: Arc<parking_lot::Mutex<Vec<String>>>,
    worker: MailWorker,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

/// An answer: status, `Location` (for redirects) and body.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// Builds a [`TestApp`].
#[derive(Default)]
pub struct Builder {
    args: ServeArgs,
}

impl Builder {
    /// Changes the configuration (as flags or a `casefile.toml` would).
    pub fn config(mut self, f: impl FnOnce(&mut ServeArgs)) -> Builder {
        f(&mut self.args);
        self
    }

    /// Opens the database, imports the site and builds the state.
    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut args = self.args;
        args.storage.data = Some(dir.path().join("data"));
        args.storage.database_url = crate::db::url_for(&dir.path().join("data"));
        let mut config = ServeConfig::resolve(&args).unwrap();
        // The server reads PDFs by starting itself: here, the real binary.
        config.pdf_reader = crate::documents::reader();
        config.storage.prepare().unwrap();
        // A fixed moment well after every date in the default site.
        let clock = Clock::fixed(casefile::store::now());
        let sent = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mailer = Mailer::Memory(Arc::clone(&sent));
        let addr = "127.0.0.1:8080".parse().unwrap();
        let (state, worker) = casefile::cmd::serve::build(&config, addr, mailer, clock.clone()).await.unwrap();
        let router = casefile::web::app(Arc::clone(&state));
        TestApp { state, clock, sent, worker, router, _dir: dir }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        crate::db::release(&self._dir.path().join("data"));
    }
}

impl TestApp {
    /// A builder with the default configuration and site.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The data folder.
    pub fn data(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// The default app.
    pub async fn new() -> TestApp {
        Builder::default().build().await
    }

    async fn call(&self, req: Request<Body>) -> Answer {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        Answer { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Request::get(path).header(header::HOST, "127.0.0.1:8080").body(Body::empty()).unwrap()).await
    }

    /// `GET path` on the host name `host` (another site of the install).
    pub async fn get_on(&self, host: &str, path: &str) -> Answer {
        self.call(Request::get(path).header(header::HOST, host).body(Body::empty()).unwrap()).await
    }

    /// `GET path` with extra headers: status, headers and the raw body.
    pub async fn get_raw(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, header::HeaderMap, Vec<u8>) {
        let mut req = Request::get(path).header(header::HOST, "127.0.0.1:8080");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = res.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
    }

    /// Any request: status, headers and the body as text. It carries the
    /// app's own `Origin`, as a browser's post from one of its pages does,
    /// unless `headers` name one.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, header::HeaderMap, String) {
        self.request_bytes(method, path, headers, body.as_bytes().to_vec()).await
    }

    /// The same with a body of bytes (a file upload).
    pub async fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, header::HeaderMap, String) {
        // The app's own host and origin, unless `headers` name others.
        let host = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("host")).map_or("127.0.0.1:8080", |(_, v)| *v);
        let mut req = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req = req.header(header::HOST, host);
        }
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("origin")) {
            req = req.header(header::ORIGIN, format!("http://{host}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self.router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A user with this role and a fresh API token for them.
    pub async fn token_for(&self, email: &str, role: casefile::accounts::Role) -> String {
        let store = &self.state.store;
        store.add_user(email, role, &casefile::accounts::hash_password("x"), 0).await.unwrap();
        let (token, hash) = casefile::accounts::new_token();
        store.add_token(email, "test", &hash, 0).await.unwrap();
        token
    }

    /// `POST path` with a form body.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = Request::post(path)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.call(req).await
    }

    /// The token of the form on the page at `path` (rendered now).
    pub async fn form_token(&self, path: &str) -> String {
        let page = self.get(path).await.body;
        let doc = scraper::Html::parse_document(&page);
        let sel = scraper::Selector::parse("input[name=token]").unwrap();
        doc.select(&sel).next().expect("a form token").value().attr("value").unwrap().to_owned()
    }

    /// Reloads the snapshot if content changed or something became due.
    pub async fn refresh(&self) -> bool {
        self.state.refresh().await.unwrap()
    }

    /// Runs the mail worker once; returns how many mails it handled.
    pub async fn deliver(&self) -> usize {
        self.worker.run_once().await.unwrap()
    }

    /// The token of the last mailed link below `path` (`/pardon/confirm`),
    /// read from the quoted-printable text part.
    pub fn mailed_token(&self, path: &str) -> String {
        let mail = self.mails().pop().expect("a mail was sent");
        let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        let needle = format!("{path}?t=");
        let at = text.find(&needle).unwrap_or_else(|| panic!("no {needle} in:\n{mail}")) + needle.len();
        text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || ".-_".contains(*c)).collect()
    }

    /// Every mail handed to the mailer so far, as sent.
    pub fn mails(&self) -> Vec<String> {
        self.sent.lock().clone()
    }
}
