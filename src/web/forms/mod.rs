//! The public forms and the links their mails carry.
//!
//! Every form posts to the page it sits on; a mailed link opens a page
//! below it (`/newsletter/confirm`, `/pardon/confirm`, `/my-data/view` …)
//! that changes nothing until its button is pressed (mail scanners follow
//! links). A submission passes, in order: the same-origin check (or the
//! origin of a static copy named in `form_origins`), the rate limit, the
//! honeypot, the signed form token with its minimum fill time (which a
//! static copy's post, holding no token, skips), and the field rules; only
//! then is anything stored, together with its mail, in one transaction.

mod contact;
mod my_data;
mod newsletter;
mod petition;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

use super::abuse::{RateLimiter, client_ip};
use super::error::Error;
use super::origin::{FormOrigin, Provenance, form_origin, provenance};
use super::state::AppState;
use super::tokens::{FORM_TOKEN_SECONDS, Signer};
use crate::config::FormRules;
use crate::content::{Lang, Page, Template};
use crate::forms::Input;
use crate::mail::MailConfig;
use crate::site::{FormView, Notice, PageRequest, Rendered, SiteIndex, Target};

/// What the forms need, shared by all requests.
pub struct Forms {
    /// Signs form tokens and mailed links.
    pub signer: Signer,
    /// Mail settings.
    pub mail: MailConfig,
    /// Minimum fill time and rate limit.
    pub rules: FormRules,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Per-address submission counts.
    pub limiter: RateLimiter,
    /// Per-address search counts (the search box is a form too); `None`
    /// without a limit.
    pub search_limiter: Option<RateLimiter>,
    /// Wakes the mail worker after a mail is queued.
    pub wake: Arc<Notify>,
    /// The configured public base URL, if any; links in mails use it, or
    /// else the host the request came in on.
    pub public_base_url: Option<String>,
    /// Without a base URL, the `Host` values links may use: the listen
    /// address and its loopback names. Any other `Host` (which a client can
    /// set to anything) would let an attacker put their own site into a
    /// confirmation or "my data" link mailed to someone else.
    pub local_hosts: Vec<String>,
    /// Where mails are written as files when no SMTP server is configured
    /// (an erasure deletes the ones about the person).
    pub mail_dir: Option<std::path::PathBuf>,
}

/// Whether the "proxy not trusted" warning was logged (once is enough).
static WARNED_PROXY: AtomicBool = AtomicBool::new(false);

/// Every submission is answered no sooner than this after it arrived, so the
/// answer's timing does not tell whether an address was known (signed,
/// subscribed, holding data) – that would reveal a political opinion.
const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(300);

/// Which form a page carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormKind {
    /// Newsletter sign-up (the newsletter page and the home page).
    Newsletter,
    /// Contact form.
    Contact,
    /// Signing the petition with this key.
    Petition(String),
    /// "Manage my data".
    MyData,
}

impl FormKind {
    /// The form a page of `site` shows, if any (the home page: the
    /// newsletter's short form, on a site with a newsletter page).
    pub fn of_page(page: &Page, site: &crate::content::Site) -> Option<FormKind> {
        if let Some(k) = &page.petition {
            return Some(FormKind::Petition(k.clone()));
        }
        match page.template {
            Template::Home if site.page_with(Template::Newsletter).is_none() => None,
            Template::Home | Template::Newsletter => Some(FormKind::Newsletter),
            Template::Contact => Some(FormKind::Contact),
            Template::MyData => Some(FormKind::MyData),
            _ => None,
        }
    }

    /// The sentence next to the consent box, exactly as shown: the form
    /// renders it and the consent record stores it, from this one place.
    pub fn consent_text(&self, state: &AppState, index: &SiteIndex, lang: Lang) -> Option<String> {
        let key = match self {
            FormKind::Newsletter => "newsletter_consent",
            FormKind::Petition(_) => "petition_consent",
            FormKind::Contact | FormKind::MyData => return None,
        };
        let site_name = index.site.text.get(&lang).map_or("", |t| t.name.as_str());
        Some(state.theme.string(lang, key).replace("{site}", site_name))
    }

    /// A fresh signed token for this form.
    pub fn token(&self, state: &AppState) -> String {
        state.forms.signer.form_token(&self.token_scope(), state.clock.now_ms())
    }

    /// The name the token and the rate limit are bound to.
    fn name(&self) -> &'static str {
        match self {
            FormKind::Newsletter => "newsletter",
            FormKind::Contact => "contact",
            FormKind::Petition(_) => "petition",
            FormKind::MyData => "my_data",
        }
    }

    fn token_scope(&self) -> String {
        match self {
            FormKind::Petition(k) => format!("petition:{k}"),
            other => other.name().to_owned(),
        }
    }
}

/// A request to a form page or one of its links, after routing.
pub struct FormRequest<'a> {
    /// The shared state.
    pub state: &'a AppState,
    /// The snapshot.
    pub index: &'a SiteIndex,
    /// The page the form is on.
    pub page: &'a Page,
    /// Its path.
    pub page_path: String,
    /// Its language.
    pub lang: Lang,
    /// Which form.
    pub kind: FormKind,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The client's address (after trusted proxies).
    pub ip: IpAddr,
}

/// Finds the form page behind `path`: the page itself, or the page above a
/// link path (`/newsletter/confirm` → `/newsletter` and `confirm`).
pub fn route<'a>(index: &'a SiteIndex, path: &str) -> Option<(&'a Page, Lang, String, Option<&'static str>)> {
    // The home page's short form posts to the newsletter page, so the home
    // page itself takes no posts and has no links below it.
    let page_at = |p: &str| match index.resolve(p) {
        Some(Target::Page { lang, index: i }) if index.site.pages[*i].template != Template::Home => {
            let page = &index.site.pages[*i];
            FormKind::of_page(page, &index.site).map(|_| (page, *lang))
        }
        _ => None,
    };
    if let Some((page, lang)) = page_at(path) {
        return Some((page, lang, path.to_owned(), None));
    }
    let (parent, last) = path.rsplit_once('/')?;
    const ACTIONS: [&str; 6] = ["thanks", "confirm", "unsubscribe", "view", "export", "erase"];
    let action = ACTIONS.into_iter().find(|a| *a == last)?;
    let (page, lang) = page_at(parent)?;
    Some((page, lang, parent.to_owned(), Some(action)))
}

/// Handles a POST or a link GET on a form page. `None` means "not a form
/// route" (the caller answers 404 or 405).
pub async fn handle(
    state: &AppState,
    index: &SiteIndex,
    request: &Parts,
    peer: IpAddr,
    body: Bytes,
) -> Option<Response> {
    let method_is_post = request.method == Method::POST;
    let (path, query, headers) = (request.uri.path(), request.uri.query(), &request.headers);
    let arrived = tokio::time::Instant::now();
    let (page, lang, page_path, action) = route(index, path)?;
    let kind = FormKind::of_page(page, &index.site)?;
    let ip = client_ip(peer, headers, &state.forms.trusted_proxies);
    if ip.is_loopback() && headers.contains_key("x-forwarded-for") && !WARNED_PROXY.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "a request through a local proxy carries X-Forwarded-For, but no trusted proxy is configured: \
             every visitor counts as one address for rate limits; set --trusted-proxy"
        );
    }
    let req = FormRequest { state, index, page, page_path, lang, kind, headers, ip };
    let token = link_token(query, &body);
    let res = match (method_is_post, action) {
        (true, None) => submit(&req, body, arrived).await,
        (false, Some("thanks")) => Ok(req.notice(Notice::new(req.sent_key(), 200))),
        (post, Some(action)) => {
            // A mailed link's button, or a mail provider's one-click
            // unsubscribe (which states no origin): the token in the link
            // is the credential, so only a cross-site post is refused.
            if post && provenance(headers, state.forms.public_base_url.as_deref()) == Provenance::CrossSite {
                return Some(req.notice(Notice::new("forbidden", 403)));
            }
            match (&req.kind, action) {
                (FormKind::Newsletter, "confirm") => newsletter::confirm(&req, post, &token).await,
                (FormKind::Newsletter, "unsubscribe") => newsletter::unsubscribe(&req, post, &token).await,
                (FormKind::Petition(_), "confirm") => petition::confirm(&req, post, &token).await,
                (FormKind::MyData, "view") if !post => my_data::view(&req, &token).await,
                (FormKind::MyData, "export") if !post => my_data::export(&req, &token).await,
                (FormKind::MyData, "erase") if post => my_data::erase(&req, &token).await,
                _ => return None,
            }
        }
        (false, None) => return None,
    };
    Some(res.unwrap_or_else(|e| req.failed(&e, "form handling failed")))
}

/// A form post: the checks every submission passes, in order, then the
/// form's own handler. Refusals by origin and rate come at once (shedding
/// load must be cheap); every other answer waits for [`ANSWER_FLOOR`].
async fn submit(req: &FormRequest<'_>, body: Bytes, arrived: tokio::time::Instant) -> Result<Response, Error> {
    let forms = &req.state.forms;
    let form = req.kind.name();
    let Some(origin) = form_origin(req.headers, forms.public_base_url.as_deref(), &forms.rules.origins) else {
        crate::metrics::form_refused(form, "origin");
        return Ok(req.notice(Notice::new("forbidden", 403)));
    };
    if !forms.limiter.allow(form, req.ip) {
        crate::metrics::form_refused(form, "rate_limited");
        let mut res = req.notice(Notice::new("rate_limited", 429));
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return Ok(res);
    }
    let Some(input) = Input::parse(&body) else {
        crate::metrics::form_refused(form, "malformed");
        return Ok((StatusCode::BAD_REQUEST, "Malformed form\n").into_response());
    };
    let res = if input.is_bot() {
        crate::metrics::form_refused(form, "bot");
        // Pretend success: a bot learns nothing from the answer.
        Ok(req.redirect("thanks"))
    } else if let Err(notice) = req.check_form_token(input.get("token"), origin) {
        crate::metrics::form_refused(form, "token");
        Ok(req.form_again(&input, Default::default(), Some(notice)).await)
    } else {
        let res = match &req.kind {
            FormKind::Newsletter => newsletter::submit(req, &input).await,
            FormKind::Contact => contact::submit(req, &input).await,
            FormKind::Petition(key) => petition::submit(req, key, &input).await,
            FormKind::MyData => my_data::submit(req, &input).await,
        };
        count_outcome(form, &res);
        res
    };
    tokio::time::sleep_until(arrived + ANSWER_FLOOR).await;
    res
}

/// Counts what a form's own handler made of a post, for the metrics.
fn count_outcome(form: &'static str, res: &Result<Response, Error>) {
    match res.as_ref().map(Response::status) {
        Ok(s) if s.is_success() || s.is_redirection() => crate::metrics::form_accepted(form),
        Ok(StatusCode::UNPROCESSABLE_ENTITY) => crate::metrics::form_refused(form, "invalid"),
        Ok(StatusCode::TOO_MANY_REQUESTS) => crate::metrics::form_refused(form, "rate_limited"),
        Ok(_) => crate::metrics::form_refused(form, "refused"),
        Err(_) => crate::metrics::form_refused(form, "error"),
    }
}

/// The link token from `?t=` or from a posted `t` field.
fn link_token(query: Option<&str>, body: &[u8]) -> String {
    let from = |bytes: &[u8]| form_urlencoded::parse(bytes).find(|(k, _)| k == "t").map(|(_, v)| v.into_owned());
    query.and_then(|q| from(q.as_bytes())).or_else(|| from(body)).unwrap_or_default()
}

impl FormRequest<'_> {
    /// An empty form for this page, carrying `token`.
    pub async fn fresh_form(
        state: &AppState,
        index: &SiteIndex,
        page: &Page,
        lang: Lang,
        path: &str,
        token: String,
    ) -> Result<FormView, crate::store::Error> {
        let kind = FormKind::of_page(page, &index.site).expect("a form page");
        let action = match kind {
            // The home page's short form posts to the newsletter page.
            FormKind::Newsletter => index
                .site
                .pages
                .iter()
                .find(|p| p.template == Template::Newsletter)
                .and_then(|p| index.path_of(&p.key, lang))
                .unwrap_or_else(|| path.to_owned()),
            _ => path.to_owned(),
        };
        let petition = match &kind {
            FormKind::Petition(key) => Some(state.store.petition_stats(state.site_id, key).await?),
            _ => None,
        };
        let signers_listed = !state.exporting.load(Ordering::Relaxed);
        let consent = kind.consent_text(state, index, lang);
        Ok(FormView { consent, action, token, petition, signers_listed, ..FormView::default() })
    }

    /// Checks the form token: signed for this form, not too fresh (bots
    /// post at once), not too old. A static copy's page has none, and its
    /// post is taken on the origin its browser stated (which no other site
    /// can forge); a token it does send is checked. The error is the
    /// notice to show.
    fn check_form_token(&self, token: &str, origin: FormOrigin) -> Result<(), &'static str> {
        if origin == FormOrigin::Copy && token.is_empty() {
            return Ok(());
        }
        let signer = &self.state.forms.signer;
        let Some(issued) = signer.check_form_token(&self.kind.token_scope(), token) else { return Err("err_expired") };
        let age = self.state.clock.now_ms() - issued;
        if age < self.state.forms.rules.min_fill.as_millis() as i64 {
            Err("err_too_fast")
        } else if age > FORM_TOKEN_SECONDS * 1000 {
            Err("err_expired")
        } else {
            Ok(())
        }
    }

    /// The form page again, with what was typed and what is wrong (422).
    async fn form_again(
        &self,
        input: &Input,
        errors: crate::forms::FieldErrors,
        notice: Option<&'static str>,
    ) -> Response {
        let result = async {
            let token = self.kind.token(self.state);
            let mut form =
                Self::fresh_form(self.state, self.index, self.page, self.lang, &self.page_path, token).await?;
            form.values = input.echo();
            form.errors = errors;
            form.notice = notice;
            let req = PageRequest { path: self.page_path.clone(), page: 1, form: Some(form), ..PageRequest::default() };
            Ok::<_, Error>(crate::site::render(&self.state.theme, self.index, &req)?)
        }
        .await;
        match result {
            Ok(r) => fresh(r, StatusCode::UNPROCESSABLE_ENTITY),
            // A busy database is a 503 here too (the petition's count).
            Err(e) => self.failed(&e, "rendering a form failed"),
        }
    }

    /// The notice page for an error, with the status it decides (a busy
    /// database: 503, to be tried again in 30 seconds).
    fn failed(&self, e: &Error, what: &str) -> Response {
        let (status, notice) = e.answer();
        tracing::error!(error = %crate::error_chain(e), status = status.as_u16(), path = %self.page_path, "{what}");
        let mut res = self.notice(Notice::new(notice, status.as_u16()));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        res
    }

    /// A notice page in the form's language.
    fn notice(&self, notice: Notice) -> Response {
        match crate::site::render_notice(&self.state.theme, self.index, self.lang, &notice) {
            Ok(r) => {
                let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
                fresh(r, status)
            }
            Err(e) => {
                tracing::error!(error = %crate::error_chain(&e), "rendering a notice failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error\n").into_response()
            }
        }
    }

    /// The page a mailed link opens: `key`'s title, text and button, which
    /// posts the link's token back to the same address.
    fn landing(&self, key: &str, action: &str, token: &str) -> Response {
        self.landing_with(key, action, token, Vec::new())
    }

    /// The same, showing `details` (what the button acts on) above it.
    fn landing_with(&self, key: &str, action: &str, token: &str, details: Vec<(&'static str, String)>) -> Response {
        let action = format!("{}/{action}", self.page_path.trim_end_matches('/'));
        self.notice(Notice { details, ..Notice::new(key, 200).with_button(key, action, token.to_owned()) })
    }

    /// 303 to a page below the form page (POST, then redirect, then GET).
    fn redirect(&self, action: &str) -> Response {
        let to = format!("{}/{action}", self.page_path.trim_end_matches('/'));
        (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
    }

    /// The UI string key (`<key>_title`/`_text`) of the "sent" page.
    fn sent_key(&self) -> &'static str {
        match self.kind {
            FormKind::Newsletter => "newsletter_sent",
            FormKind::Contact => "contact_sent",
            FormKind::Petition(_) => "petition_sent",
            FormKind::MyData => "mydata_sent",
        }
    }

    /// The absolute address of `path` for a mail: the configured base URL,
    /// or the host this request came in on.
    fn absolute(&self, path: &str) -> String {
        let forms = &self.state.forms;
        let base = match &forms.public_base_url {
            Some(b) => b.clone(),
            None => match self.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
                Some(h) if forms.local_hosts.iter().any(|l| l.eq_ignore_ascii_case(h)) => format!("http://{h}"),
                _ => self.state.base_url.clone(),
            },
        };
        format!("{base}{path}")
    }

    /// The absolute address of a link below the form page.
    fn link(&self, action: &str, token: &str) -> String {
        self.absolute(&format!("{}/{action}?t={token}", self.page_path.trim_end_matches('/')))
    }

    /// The site's name in the form's language.
    fn site_name(&self) -> String {
        self.index.site.text.get(&self.lang).map(|t| t.name.clone()).unwrap_or_default()
    }

    /// The shortened client address kept as evidence.
    fn short_ip(&self) -> String {
        crate::forms::shorten_ip(self.ip)
    }
}

/// A response that must not be cached (it carries a token or personal data).
pub fn fresh(r: Rendered, status: StatusCode) -> Response {
    (status, [(header::CONTENT_TYPE, r.content_type), (header::CACHE_CONTROL, "no-store")], r.html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_come_from_the_query_or_the_body() {
        assert_eq!(link_token(Some("t=abc"), b""), "abc");
        assert_eq!(link_token(None, b"t=xyz&other=1"), "xyz");
        assert_eq!(link_token(Some("List-Unsubscribe=One-Click"), b"List-Unsubscribe=One-Click"), "");
    }
}
