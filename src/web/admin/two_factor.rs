//! Two-factor sign-in in the admin: the code step after the password,
//! setting it up with an authenticator app (QR code, recovery codes),
//! turning it off, and the owners' rule that everyone must use it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::items::{done, failed};
use super::session::{self, Note, SignIn};
use super::{Page, SignInPost, Signed, redirect, signed};
use crate::accounts::two_factor;
use crate::content::Lang;
use crate::store::Session;
use crate::web::state::AppState;

/// The answer to a sign-in step: the session, the code page, or the
/// sign-in page with what went wrong.
pub fn answer(state: &AppState, lang: Lang, outcome: Result<SignIn, crate::store::Error>, email: &str) -> Response {
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "sign-in failed");
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "Service unavailable\n")
                .into_response();
        }
    };
    match outcome {
        SignIn::Started(cookie) => {
            let mut res = redirect("/admin");
            res.headers_mut().insert(header::SET_COOKIE, cookie);
            res
        }
        SignIn::SecondFactor(pending) => code_page(state, lang, StatusCode::OK, None, &pending),
        SignIn::WrongCode(pending) => {
            code_page(state, lang, StatusCode::UNPROCESSABLE_ENTITY, Some("admin_wrong_code"), &pending)
        }
        SignIn::Refused => session::sign_in_page(state, lang, StatusCode::UNPROCESSABLE_ENTITY, Note::Refused, email),
        SignIn::Throttled => session::sign_in_page(state, lang, StatusCode::TOO_MANY_REQUESTS, Note::Throttled, email),
    }
}

fn code_page(state: &AppState, lang: Lang, status: StatusCode, error: Option<&'static str>, pending: &str) -> Response {
    let p = Page { lang, title_key: "admin_second_factor", error, ..Page::default() };
    super::page(state, "admin/sign_in_code.html", &p, context! { pending }, status)
}

/// `POST /admin/sign-in/code`: the code after the password.
pub async fn sign_in_code(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let post = match SignInPost::read(&state, req).await {
        Ok(post) => post,
        Err(res) => return res,
    };
    let outcome = session::second_factor(&state, post.get("pending"), post.get("code"), post.ip).await;
    answer(&state, post.lang, outcome, "")
}

/// Whether this user must set up a second factor before anything else
/// (owners require it and they have none). When the database cannot say,
/// the answer is yes: a security rule fails closed.
pub async fn missing(state: &AppState, session: &Session) -> bool {
    match (state.store.two_factor_required().await, state.store.two_factor(session.user.id).await) {
        (Ok(false), _) => false,
        (Ok(true), Ok(tf)) => tf.secret.is_none(),
        _ => true,
    }
}

/// `GET /admin/two-factor`: on, with how many recovery codes are left; or
/// off, with a QR code and the secret for setting it up.
pub async fn page(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            setup_page(&state, &s, StatusCode::OK, None).await
        }
        .await,
    )
}

async fn setup_page(
    state: &AppState,
    s: &Signed,
    status: StatusCode,
    error: Option<&'static str>,
) -> Result<Response, Response> {
    let user = &s.session.user;
    let fail = |e| failed(state, s, &e);
    let tf = state.store.two_factor(user.id).await.map_err(fail)?;
    let required = state.store.two_factor_required().await.map_err(fail)?;
    let p = Page { error, ..s.page("admin_two_factor", "two-factor") };
    if tf.secret.is_some() {
        let ctx = context! { on => true, recovery_left => tf.recovery_left, required };
        return Ok(super::page(state, "admin/two_factor.html", &p, ctx, status));
    }
    let secret = match tf.pending {
        Some(secret) => secret,
        None => {
            let secret = two_factor::new_secret();
            state.store.set_pending_two_factor(user.id, &secret).await.map_err(fail)?;
            secret
        }
    };
    let issuer = site_name(state, s.lang);
    let url = two_factor::setup_url(&secret, &user.email, &issuer).unwrap_or_default();
    let qr = two_factor::qr_data_url(&url);
    // Groups of four are easier to type into an app by hand.
    let grouped: Vec<String> = secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let ctx = context! { on => false, secret => grouped.join(" "), qr, required };
    Ok(super::page(state, "admin/two_factor.html", &p, ctx, status))
}

/// `POST /admin/two-factor`: `action=enable` with the first code from the
/// app (answered with the recovery codes, shown once), or `action=disable`
/// with a current code or a recovery code.
pub async fn change(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let user = s.session.user.clone();
            let code = s.field("code").unwrap_or("").to_owned();
            let now = state.clock.now();
            match s.field("action") {
                Some("enable") => {
                    let tf = state.store.two_factor(user.id).await.map_err(|e| failed(&state, &s, &e))?;
                    let step = tf.pending.as_deref().and_then(|p| two_factor::check_code(p, &code, now));
                    let (Some(pending), Some(step)) = (tf.pending, step) else {
                        return setup_page(&state, &s, StatusCode::UNPROCESSABLE_ENTITY, Some("admin_wrong_code"))
                            .await;
                    };
                    let codes = two_factor::new_recovery_codes();
                    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
                    let on = state.store.enable_two_factor(user.id, &pending, step, &hashes).await;
                    if !on.map_err(|e| failed(&state, &s, &e))? {
                        return setup_page(&state, &s, StatusCode::CONFLICT, Some("admin_wrong_code")).await;
                    }
                    tracing::info!(user = user.email, "two-factor sign-in turned on");
                    let codes: Vec<String> = codes.into_iter().map(|(c, _)| c).collect();
                    let p = Page { message: Some("admin_two_factor_on"), ..s.page("admin_two_factor", "two-factor") };
                    Ok(super::page(&state, "admin/recovery_codes.html", &p, context! { codes }, StatusCode::OK))
                }
                Some("disable") => {
                    let ok =
                        session::code_matches(&state, &user, &code, now).await.map_err(|e| failed(&state, &s, &e))?;
                    if !ok {
                        return setup_page(&state, &s, StatusCode::UNPROCESSABLE_ENTITY, Some("admin_wrong_code"))
                            .await;
                    }
                    state.store.disable_two_factor(&user.email).await.map_err(|e| failed(&state, &s, &e))?;
                    tracing::info!(user = user.email, "two-factor sign-in turned off");
                    Ok(redirect("/admin/two-factor"))
                }
                _ => Err(super::items::not_found(&state, &s)),
            }
        }
        .await,
    )
}

/// `POST /admin/users/two-factor`: owners require two-factor sign-in of
/// everyone (`require=1`) or leave it to each user.
pub async fn require(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            if let Some(refused) = s.refuse_editor(&state, "admin_users", "users") {
                return Err(refused);
            }
            let required = s.field("require") == Some("1");
            state.store.set_two_factor_required(required).await.map_err(|e| failed(&state, &s, &e))?;
            tracing::info!(by = s.session.user.email, required, "the rule on two-factor sign-in changed");
            Ok(redirect("/admin/users"))
        }
        .await,
    )
}

/// The name an authenticator app shows for this site.
fn site_name(state: &AppState, lang: Lang) -> String {
    let index = state.index();
    index.site.text.get(&lang).or_else(|| index.site.text.values().next()).map_or("Casefile".into(), |t| t.name.clone())
}
