//! Signing a petition and confirming the signature by mail. Only confirmed
//! signatures count and appear (by name, if the signer allowed it).

use crate::web::error::Error;

type Result<T> = std::result::Result<T, Error>;
use axum::response::Response;
use minijinja::context;

use super::FormRequest;
use crate::forms::{Input, Sign};
use crate::ids::nonce;
use crate::mail::compose::compose;
use crate::site::Notice;
use crate::store::{Consent, Outcome, SignRequest};
use crate::web::tokens::{CONFIRM_LINK_SECONDS, Purpose};

pub(super) async fn submit(req: &FormRequest<'_>, key: &str, input: &Input) -> Result<Response> {
    let state = req.state;
    let petition = req.index.site.petition(key);
    if !petition.is_some_and(|p| p.open) {
        let closed =
            Notice { title: "petition_sign_title".into(), text: "petition_closed".into(), ..Notice::new("", 409) };
        return Ok(req.notice(closed));
    }
    let s = match Sign::validate(input) {
        Ok(s) => s,
        Err(errors) => return Ok(req.form_again(input, errors, None).await),
    };
    let site_name = req.site_name();
    let title = petition.and_then(|p| p.text.get(&req.lang)).map(|t| t.title.clone()).unwrap_or_default();
    let confirm_nonce = nonce();
    let token = state.forms.signer.link_token(
        Purpose::ConfirmSignature,
        &confirm_nonce,
        state.clock.now() + CONFIRM_LINK_SECONDS,
    );
    let mail = compose(
        &state.theme,
        &state.forms.mail,
        "petition_confirm",
        req.lang,
        &s.email,
        context! { site_name => &site_name, petition_title => title, confirm_url => req.link("confirm", &token) },
    )?;
    let consent = Consent {
        subject: format!("petition:{key}"),
        text: req.kind.consent_text(state, req.index, req.lang).unwrap_or_default(),
        lang: req.lang.code().to_owned(),
        source_url: req.absolute(&req.page_path),
        ip: req.short_ip(),
    };
    let outcome = state
        .store
        .sign(
            state.site_id,
            key,
            &SignRequest {
                email: &s.email,
                name: &s.name,
                country: &s.country,
                show_name: s.show_name,
                lang: req.lang.code(),
                consent: &consent,
                confirm_nonce: &confirm_nonce,
                mail: &mail,
            },
            state.clock.now(),
        )
        .await?;
    tracing::info!(outcome = ?outcome, "petition signature");
    state.forms.wake.notify_one();
    Ok(req.redirect("thanks"))
}

pub(super) async fn confirm(req: &FormRequest<'_>, post: bool, token: &str) -> Result<Response> {
    let state = req.state;
    let Some(nonce) = state.forms.signer.check_link_token(Purpose::ConfirmSignature, token, state.clock.now()) else {
        return Ok(req.notice(Notice::new("link_invalid", 404)));
    };
    if !post {
        // What will be public once confirmed, so that nobody confirms a
        // name or a choice they did not make.
        let details = match state.store.signature_to_confirm(&nonce).await? {
            Some((name, country, shown)) => vec![
                ("petition_confirm_name", name),
                ("petition_confirm_country", country),
                (
                    "petition_confirm_shown",
                    state.theme.string(
                        req.lang,
                        if shown { "petition_confirm_shown_yes" } else { "petition_confirm_shown_no" },
                    ),
                ),
            ],
            None => Vec::new(),
        };
        return Ok(req.landing_with("petition_confirm", "confirm", token, details));
    }
    let open: Vec<&str> = req.index.site.petitions.iter().filter(|p| p.open).map(|p| p.key.as_str()).collect();
    Ok(match state.store.confirm_signature(&nonce, &open, &req.short_ip(), state.clock.now()).await? {
        Outcome::Done | Outcome::AlreadyDone => req.notice(Notice::new("petition_confirmed", 200)),
        Outcome::Invalid => req.notice(Notice::new("link_invalid", 404)),
    })
}
