//! The first owner: when an install has no user, `serve` logs a signed link
//! valid for an hour (`setup_link`); it opens a form to choose the owner's
//! address and password, and works once.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::{Page, page, redirect, session, ui_lang};
use crate::accounts;
use crate::web::state::AppState;
use crate::web::tokens::Purpose;

/// How long the setup link works.
const VALID_SECONDS: i64 = 3600;

/// The setup link to log at start, when no user exists yet.
pub async fn setup_link(state: &AppState) -> Option<String> {
    let users = state.store.users().await.ok()?;
    if !users.is_empty() {
        return None;
    }
    let token = state.forms.signer.link_token(Purpose::Setup, &crate::ids::nonce(), state.clock.now() + VALID_SECONDS);
    Some(format!("{}/admin/setup?t={token}", state.base_url))
}

/// `GET /admin/setup?t=…`.
pub async fn form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let lang = ui_lang(req.headers());
    let query = crate::web::public::parse_query(req.uri().query().unwrap_or(""));
    let token = query.iter().find(|(k, _)| k == "t").map_or("", |(_, v)| v.as_str());
    match check(&state, token, lang).await {
        Ok(()) => setup_page(&state, lang, token, "", None, StatusCode::OK),
        Err(res) => res,
    }
}

/// `POST /admin/setup`: the first owner, signed in at once.
pub async fn submit(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let lang = ui_lang(req.headers());
    if !crate::web::origin::is_same_origin(req.headers(), state.forms.public_base_url.as_deref()) {
        return (StatusCode::FORBIDDEN, "Cross-site request refused\n").into_response();
    }
    let Ok(body) = axum::body::to_bytes(req.into_body(), crate::web::router::BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large\n").into_response();
    };
    let form = crate::web::public::parse_query(&String::from_utf8_lossy(&body));
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let (token, email, password) = (get("t"), get("email").trim().to_lowercase(), get("password"));
    if let Err(res) = check(&state, token, lang).await {
        return res;
    }
    let problem = if !email.contains('@') || email.contains(char::is_whitespace) {
        Some(state.theme.string(lang, "admin_setup_bad_email"))
    } else if password != get("password_again") {
        Some(state.theme.string(lang, "admin_setup_passwords_differ"))
    } else {
        accounts::check_password(password, &email).err().map(|e| e.to_string())
    };
    if let Some(problem) = problem {
        return setup_page(&state, lang, token, &email, Some(problem), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let hash = {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await.unwrap_or_default()
    };
    let added = state.store.add_first_owner(&email, &hash, state.clock.now()).await;
    match added {
        Ok(Some(user)) => {
            tracing::info!(user = user.email, "the first owner was set up");
            match session::start(&state, &user).await {
                Ok(cookie) => {
                    let mut res = redirect("/admin");
                    res.headers_mut().insert(header::SET_COOKIE, cookie);
                    res
                }
                Err(_) => redirect("/admin/sign-in"),
            }
        }
        Ok(None) => redirect("/admin/sign-in"),
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "setting up the first owner failed");
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "Service unavailable\n").into_response()
        }
    }
}

/// The link must be signed, unexpired, and no user may exist yet.
async fn check(state: &AppState, token: &str, lang: crate::content::Lang) -> Result<(), Response> {
    let done = state.store.users().await.map(|u| !u.is_empty()).unwrap_or(true);
    if done {
        return Err(redirect("/admin/sign-in"));
    }
    if state.forms.signer.check_link_token(Purpose::Setup, token, state.clock.now()).is_none() {
        let p = Page { lang, title_key: "admin_setup", error: Some("admin_setup_expired"), ..Page::default() };
        return Err(page(state, "admin/message.html", &p, context! {}, StatusCode::FORBIDDEN));
    }
    Ok(())
}

fn setup_page(
    state: &AppState,
    lang: crate::content::Lang,
    token: &str,
    email: &str,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let p = Page { lang, title_key: "admin_setup", ..Page::default() };
    page(state, "admin/setup.html", &p, context! { token, email, problem }, status)
}
