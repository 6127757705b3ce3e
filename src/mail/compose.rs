//! Composing a mail from the theme: `templates/email/<name>/<lang>.txt`
//! (first line `Subject: …`, then the plain-text body) and
//! `templates/email/<name>/<lang>.html` (the HTML part).
//!
//! Values are escaped in the HTML part by minijinja (the template name ends
//! in `.html`) and left as typed in the plain-text part.

use minijinja::Value;

use super::{Error, MailConfig};
use crate::content::Lang;
use crate::ids::nonce;
use crate::site::Theme;
use crate::store::NewMail;

/// Renders mail `name` in `lang` for `to`.
pub fn compose(
    theme: &Theme,
    config: &MailConfig,
    name: &'static str,
    lang: Lang,
    to: &str,
    ctx: Value,
) -> Result<NewMail, Error> {
    let ctx = minijinja::context! { lang => lang.code(), ..ctx };
    let text = theme.render(&format!("email/{name}/{lang}.txt"), ctx.clone())?;
    let html = theme.render(&format!("email/{name}/{lang}.html"), ctx)?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let Some(subject) = first.strip_prefix("Subject:") else {
        return Err(Error::NoSubject(format!("email/{name}/{lang}.txt")));
    };
    let domain = config.from.email.domain().to_owned();
    Ok(NewMail {
        kind: name,
        message_id: format!("{}@{domain}", nonce()),
        to: to.to_owned(),
        reply_to: None,
        subject: subject.trim().to_owned(),
        text: body.trim_start_matches('\n').to_owned(),
        html,
        list_unsubscribe: None,
    })
}
