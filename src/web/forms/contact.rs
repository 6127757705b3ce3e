//! The contact form: the message is stored and mailed to the team, with
//! Reply-To set to the visitor. Nothing is mailed to the visitor, so the
//! form cannot be used to send mail to third parties.

use crate::web::error::Error;

type Result<T> = std::result::Result<T, Error>;
use axum::response::Response;
use minijinja::context;

use super::FormRequest;
use crate::content::Lang;
use crate::forms::{Contact, Input};
use crate::mail::compose::compose;
use crate::store::NewMessage;

pub(super) async fn submit(req: &FormRequest<'_>, input: &Input) -> Result<Response> {
    let c = match Contact::validate(input) {
        Ok(c) => c,
        Err(errors) => return Ok(req.form_again(input, errors, None).await),
    };
    let state = req.state;
    let team = &state.forms.mail.contact_to;
    // The team reads mail in the site's default language.
    let team_lang: Lang = req.index.site.default_lang();
    let t = state.clock.now();
    let mut mail = compose(
        &state.theme,
        &state.forms.mail,
        "contact_message",
        team_lang,
        team.email.as_ref(),
        context! {
            site_name => req.site_name(),
            name => &c.name,
            email => &c.email,
            subject => &c.subject,
            message => &c.message,
            visitor_lang => req.lang.code(),
            received_at => crate::site::timestamp(t, team_lang),
        },
    )?;
    mail.reply_to = Some(c.email.clone());
    let ip = req.short_ip();
    let message = NewMessage {
        name: &c.name,
        email: &c.email,
        subject: &c.subject,
        body: &c.message,
        lang: req.lang.code(),
        ip: &ip,
    };
    state.store.store_message(state.site_id, &message, &mail, t).await?;
    tracing::info!("contact message stored and queued");
    state.forms.wake.notify_one();
    Ok(req.redirect("thanks"))
}
