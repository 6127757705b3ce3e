//! Signing in and out of the web admin: the session cookie, the CSRF token
//! every form carries, and the throttle on failed attempts.
//!
//! The cookie holds 256 random bits; the database keeps only their SHA-256
//! (`store::sessions`). It is `HttpOnly`, `SameSite=Strict`, limited to
//! `/admin`, and `Secure` when the site's base URL is HTTPS, so public pages
//! never see it and never set a cookie themselves.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Page, page};
use crate::accounts;
use crate::store::{CodeAttempt, Session, User};
use crate::web::state::AppState;
use crate::web::tokens::Purpose;

/// The cookie's name.
const COOKIE: &str = "casefile_session";
/// Failed attempts within [`THROTTLE_WINDOW`] before an address is refused.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// The same, per client address (several accounts tried from one place).
const MAX_FAILURES_PER_IP: i64 = 20;
/// How far back failed attempts count.
const THROTTLE_WINDOW: i64 = 15 * 60;

/// The session the request's cookie names, if it is live.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers)?;
    match state.store.session(&accounts::token_hash(&token), state.clock.now()).await {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "reading a session failed");
            None
        }
    }
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Whether a posted CSRF token is the session's (compared in constant time).
pub fn csrf_ok(session: &Session, posted: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    posted.is_some_and(|p| p.as_bytes().ct_eq(session.csrf.as_bytes()).into())
}

/// What a sign-in attempt came to.
pub enum SignIn {
    /// A new session: the `Set-Cookie` value.
    Started(HeaderValue),
    /// The password was right and the user has two-factor sign-in: the
    /// code is asked for next, carrying this signed, short-lived token.
    SecondFactor(String),
    /// A wrong or used code: asked for again, with the same token.
    WrongCode(String),
    /// Wrong address or password (the same answer for both), or the time
    /// for the code ran out.
    Refused,
    /// Too many failures lately.
    Throttled,
}

/// How long the code may take after the password.
const SECOND_FACTOR_SECONDS: i64 = 5 * 60;

/// The throttle's scopes for an attempt: the account and the client.
fn scopes(email: &str, ip: IpAddr) -> [String; 2] {
    [format!("email:{email}"), format!("ip:{ip}")]
}

/// Records the attempt and checks the throttle, then the password (against
/// a decoy hash when the address is unknown, so both take as long), and
/// starts a session.
pub async fn sign_in(state: &AppState, email: &str, password: &str, ip: IpAddr) -> Result<SignIn, crate::store::Error> {
    let now = state.clock.now();
    let email = email.trim().to_lowercase();
    let scopes = scopes(&email, ip);
    let (attempt, counts) = state.store.begin_sign_in_attempt(&scopes, now - THROTTLE_WINDOW, now).await?;
    if counts[0] > MAX_FAILURES_PER_ACCOUNT || counts[1] > MAX_FAILURES_PER_IP {
        state.store.forget_sign_in_attempt(&attempt).await?;
        return Ok(SignIn::Throttled);
    }
    let found = state.store.user_for_sign_in(&email).await?;
    let hash = found.as_ref().map_or(accounts::decoy_hash().to_owned(), |(_, h)| h.clone());
    let password = password.to_owned();
    // argon2 takes tens of milliseconds of CPU: not on the async threads.
    let matches =
        tokio::task::spawn_blocking(move || accounts::verify_password(&hash, &password)).await.unwrap_or(false);
    let user: Option<User> = found.filter(|_| matches).map(|(u, _)| u);
    // A wrong password keeps the attempt's rows: it was a failure.
    let Some(user) = user else { return Ok(SignIn::Refused) };
    state.store.forget_sign_in_attempt(&attempt).await?;
    if state.store.two_factor(user.id).await?.secret.is_some() {
        let pending = format!("{:032x}", user.id);
        let token = state.forms.signer.link_token(Purpose::SecondFactor, &pending, now + SECOND_FACTOR_SECONDS);
        return Ok(SignIn::SecondFactor(token));
    }
    tracing::info!(user = user.email, "signed in to the admin");
    Ok(SignIn::Started(start(state, &user).await?))
}

/// The second step for a user with two-factor sign-in: a code from their
/// app (each time step once) or an unused recovery code. Wrong codes count
/// against the same throttle as wrong passwords.
pub async fn second_factor(
    state: &AppState,
    pending: &str,
    code: &str,
    ip: IpAddr,
) -> Result<SignIn, crate::store::Error> {
    let now = state.clock.now();
    let user_id = state
        .forms
        .signer
        .check_link_token(Purpose::SecondFactor, pending, now)
        .and_then(|hex| i64::from_str_radix(&hex, 16).ok());
    let Some(user) = (match user_id {
        Some(id) => state.store.user(id).await?,
        None => None,
    }) else {
        return Ok(SignIn::Refused);
    };
    let [account, client] = scopes(&user.email, ip);
    let limits = [(account, MAX_FAILURES_PER_ACCOUNT), (client, MAX_FAILURES_PER_IP)];
    let throttle = crate::store::Throttle { scopes: &limits, since: now - THROTTLE_WINDOW };
    let recovery = accounts::two_factor::recovery_code_hash(code);
    let step_of = |secret: &str| accounts::two_factor::check_code(secret, code, now);
    match state.store.attempt_second_factor(user.id, &throttle, now, step_of, &recovery).await? {
        CodeAttempt::Accepted => {
            tracing::info!(user = user.email, "signed in to the admin with a second factor");
            Ok(SignIn::Started(start(state, &user).await?))
        }
        CodeAttempt::Wrong => Ok(SignIn::WrongCode(pending.to_owned())),
        CodeAttempt::Throttled => Ok(SignIn::Throttled),
    }
}

/// Whether `code` is the user's current code (not used before) or one of
/// their unused recovery codes, which it then uses up. Wrong codes count
/// against the account's sign-in limit, so a stolen session cannot guess
/// its way to turning the second factor off.
pub async fn code_matches(state: &AppState, user: &User, code: &str, now: i64) -> Result<bool, crate::store::Error> {
    let limits = [(format!("email:{}", user.email), MAX_FAILURES_PER_ACCOUNT)];
    let throttle = crate::store::Throttle { scopes: &limits, since: now - THROTTLE_WINDOW };
    let recovery = accounts::two_factor::recovery_code_hash(code);
    let step_of = |secret: &str| accounts::two_factor::check_code(secret, code, now);
    let attempt = state.store.attempt_second_factor(user.id, &throttle, now, step_of, &recovery).await?;
    Ok(attempt == CodeAttempt::Accepted)
}

/// Starts a session for `user`; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user: &User) -> Result<HeaderValue, crate::store::Error> {
    let token = format!("{}{}", crate::ids::nonce(), crate::ids::nonce());
    state.store.create_session(user.id, &accounts::token_hash(&token), &crate::ids::nonce(), state.clock.now()).await?;
    Ok(set_cookie(state, &token, false))
}

/// Ends the session on the server and clears the cookie.
pub async fn sign_out(state: &AppState, headers: &HeaderMap) -> Response {
    if let Some(token) = cookie(headers)
        && let Err(e) = state.store.end_session(&accounts::token_hash(&token)).await
    {
        tracing::error!(error = %crate::error_chain(&e), "ending a session failed");
    }
    let mut res = super::redirect("/admin/sign-in?signed_out=1");
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(state, "", true));
    res
}

/// The `Set-Cookie` value for `token` (or one that clears the cookie).
fn set_cookie(state: &AppState, token: &str, clear: bool) -> HeaderValue {
    let secure = if state.base_url.starts_with("https://") { "; Secure" } else { "" };
    let age = if clear { "; Max-Age=0".to_owned() } else { format!("; Max-Age={}", crate::store::MAX_SECONDS) };
    let value = format!("{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict{secure}{age}");
    HeaderValue::from_str(&value).expect("a cookie of hex digits is a valid header")
}

/// The sign-in page, with a message or an error, and its status.
pub fn sign_in_page(
    state: &AppState,
    lang: crate::content::Lang,
    status: StatusCode,
    note: Note,
    email: &str,
) -> Response {
    let (message, error) = match note {
        Note::None => (None, None),
        Note::SignedOut => (Some("admin_signed_out"), None),
        Note::Refused => (None, Some("admin_bad_credentials")),
        Note::Throttled => (None, Some("admin_too_many")),
    };
    let p = Page { lang, title_key: "admin_sign_in", message, error, ..Page::default() };
    let mut res = page(state, "admin/sign_in.html", &p, minijinja::context! { email }, status);
    if note == Note::Throttled {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(THROTTLE_WINDOW));
    }
    res
}

/// What the sign-in page says above the form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Nothing.
    None,
    /// "You are signed out."
    SignedOut,
    /// Wrong address or password.
    Refused,
    /// Too many attempts.
    Throttled,
}
