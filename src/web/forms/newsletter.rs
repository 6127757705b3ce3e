//! Newsletter: sign-up, the confirmation link, the unsubscribe link (also
//! RFC 8058 one-click, which mail clients POST without a session).

use crate::web::error::Error;

type Result<T> = std::result::Result<T, Error>;
use axum::response::Response;
use minijinja::context;

use super::FormRequest;
use crate::forms::{Input, Subscribe};
use crate::ids::nonce;
use crate::mail::compose::compose;
use crate::site::Notice;
use crate::store::{Consent, Outcome, SignUpRequest};
use crate::web::tokens::{CONFIRM_LINK_SECONDS, Purpose};

pub(super) async fn submit(req: &FormRequest<'_>, input: &Input) -> Result<Response> {
    let s = match Subscribe::validate(input) {
        Ok(s) => s,
        Err(errors) => return Ok(req.form_again(input, errors, None).await),
    };
    let state = req.state;
    let site_name = req.site_name();
    let confirm_nonce = nonce();
    let token = state.forms.signer.link_token(
        Purpose::ConfirmSubscription,
        &confirm_nonce,
        state.clock.now() + CONFIRM_LINK_SECONDS,
    );
    let mail = compose(
        &state.theme,
        &state.forms.mail,
        "newsletter_confirm",
        req.lang,
        &s.email,
        context! { site_name => &site_name, confirm_url => req.link("confirm", &token) },
    )?;
    let consent = Consent {
        subject: "newsletter".to_owned(),
        text: req.kind.consent_text(state, req.index, req.lang).unwrap_or_default(),
        lang: req.lang.code().to_owned(),
        source_url: req.absolute(&req.page_path),
        ip: req.short_ip(),
    };
    let outcome = state
        .store
        .sign_up(
            state.site_id,
            &SignUpRequest {
                email: &s.email,
                name: &s.name,
                lang: req.lang.code(),
                consent: &consent,
                confirm_nonce: &confirm_nonce,
                unsubscribe_nonce: &nonce(),
                mail: &mail,
            },
            state.clock.now(),
        )
        .await?;
    tracing::info!(outcome = ?outcome, "newsletter sign-up");
    state.forms.wake.notify_one();
    Ok(req.redirect("thanks"))
}

pub(super) async fn confirm(req: &FormRequest<'_>, post: bool, token: &str) -> Result<Response> {
    let state = req.state;
    let Some(nonce) = state.forms.signer.check_link_token(Purpose::ConfirmSubscription, token, state.clock.now())
    else {
        return Ok(req.notice(Notice::new("link_invalid", 404)));
    };
    if !post {
        return Ok(req.landing("newsletter_confirm", "confirm", token));
    }
    let outcome = state
        .store
        .confirm_subscription(&nonce, &req.short_ip(), state.clock.now(), |s| {
            let lang = s.lang.parse().unwrap_or(req.lang);
            let unsubscribe = state.forms.signer.link_token(Purpose::Unsubscribe, &s.unsubscribe_nonce, 0);
            let unsubscribe_url = req.link("unsubscribe", &unsubscribe);
            let mut mail = compose(
                &state.theme,
                &state.forms.mail,
                "newsletter_welcome",
                lang,
                &s.email,
                context! {
                    site_name => req.site_name(),
                    name => &s.name,
                    unsubscribe_url => &unsubscribe_url,
                    site_url => req.absolute(&req.index.path_of("home", lang).unwrap_or_else(|| "/".into())),
                },
            )?;
            mail.list_unsubscribe = Some(unsubscribe_url);
            Ok::<_, Error>(mail)
        })
        .await?;
    state.forms.wake.notify_one();
    Ok(match outcome {
        Outcome::Done | Outcome::AlreadyDone => req.notice(Notice::new("newsletter_confirmed", 200)),
        Outcome::Invalid => req.notice(Notice::new("link_invalid", 404)),
    })
}

pub(super) async fn unsubscribe(req: &FormRequest<'_>, post: bool, token: &str) -> Result<Response> {
    let state = req.state;
    let Some(nonce) = state.forms.signer.check_link_token(Purpose::Unsubscribe, token, state.clock.now()) else {
        return Ok(req.notice(Notice::new("link_invalid", 404)));
    };
    if !post {
        return Ok(req.landing("newsletter_unsubscribe", "unsubscribe", token));
    }
    Ok(match state.store.unsubscribe(&nonce, state.clock.now()).await? {
        Outcome::Done | Outcome::AlreadyDone => req.notice(Notice::new("newsletter_unsubscribed", 200)),
        Outcome::Invalid => req.notice(Notice::new("link_invalid", 404)),
    })
}
