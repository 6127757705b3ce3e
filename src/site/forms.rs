//! What the templates need for forms: the state of a form (token, what the
//! visitor typed, errors in their language), the pages that answer a form
//! or a mailed link, and the "my data" page.

use std::collections::BTreeMap;

use minijinja::{Value, context};
use serde::Serialize;

use super::routes::SiteIndex;
use super::views::base;
use super::{HTML, RenderError, Rendered, Theme, to_value};
use crate::content::Lang;
use crate::forms::{FieldError, FieldErrors};
use crate::store::{PersonalData, PetitionStats};

/// The state of the form on a page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FormView {
    /// Where it posts to.
    pub action: String,
    /// The signed form token.
    pub token: String,
    /// What the visitor typed, when the form comes back.
    pub values: BTreeMap<String, String>,
    /// What is wrong, per field.
    pub errors: FieldErrors,
    /// A message for the whole form (a UI string key), e.g. `err_too_fast`.
    pub notice: Option<&'static str>,
    /// The public count and names of the page's petition.
    pub petition: Option<PetitionStats>,
    /// Whether the page lists the petition's signers who allowed it (not
    /// in a static copy).
    pub signers_listed: bool,
    /// The consent sentence, for forms that ask for consent.
    pub consent: Option<String>,
}

impl FormView {
    /// The template value: errors turned into sentences in `lang`.
    pub(super) fn to_value(&self, theme: &Theme, lang: Lang) -> Value {
        let errors: BTreeMap<&str, String> =
            self.errors.iter().map(|(field, e)| (*field, error_message(theme, lang, *e))).collect();
        context! {
            action => &self.action,
            token => &self.token,
            values => to_value(&self.values),
            errors => to_value(errors),
            notice => self.notice.map(|k| theme.string(lang, k)),
            petition => to_value(&self.petition),
            signers_listed => self.signers_listed,
            consent => &self.consent,
        }
    }
}

fn error_message(theme: &Theme, lang: Lang, e: FieldError) -> String {
    match e {
        FieldError::Required => theme.string(lang, "err_required"),
        FieldError::Email => theme.string(lang, "err_email"),
        FieldError::TooLong { max } => theme.string(lang, "err_too_long").replace("{max}", &max.to_string()),
        FieldError::Consent => theme.string(lang, "err_consent"),
    }
}

/// A page that answers a form or a mailed link: a title, a text and
/// optionally a button that posts `token` to `action` (so that following a
/// link never changes anything by itself; mail scanners follow links).
#[derive(Clone, Debug)]
pub struct Notice {
    /// UI string key of the title.
    pub title: String,
    /// UI string key of the text.
    pub text: String,
    /// Button: (action path, link token, UI string key of its label).
    pub button: Option<(String, String, String)>,
    /// What the button acts on, shown above it: (UI string key of the
    /// label, value).
    pub details: Vec<(&'static str, String)>,
    /// HTTP status.
    pub status: u16,
}

impl Notice {
    /// A notice without a button; `key` names `<key>_title` and `<key>_text`.
    pub fn new(key: &str, status: u16) -> Notice {
        Notice { title: format!("{key}_title"), text: format!("{key}_text"), button: None, details: Vec::new(), status }
    }

    /// The same notice with a button labelled by UI string `<key>_button`.
    pub fn with_button(mut self, key: &str, action: String, token: String) -> Notice {
        self.button = Some((action, token, format!("{key}_button")));
        self
    }
}

/// Renders a notice page in `lang`.
pub fn render_notice(theme: &Theme, index: &SiteIndex, lang: Lang, notice: &Notice) -> Result<Rendered, RenderError> {
    let title = theme.string(lang, &notice.title);
    let ctx = context! {
        text => theme.string(lang, &notice.text),
        button => notice.button.as_ref().map(|(action, token, label)| context! { action, token, label => theme.string(lang, label) }),
        details => notice.details.iter().map(|(label, value)| context! { label => theme.string(lang, label), value }).collect::<Vec<_>>(),
        noindex => true,
        ..home_base(theme, index, lang, &title)
    };
    Ok(Rendered { status: notice.status, html: theme.render("notice.html", ctx)?, lang, content_type: HTML })
}

/// Renders everything held about one address, with the download link and
/// the erase button.
pub fn render_personal_data(
    theme: &Theme,
    index: &SiteIndex,
    lang: Lang,
    data: &PersonalData,
    base_path: &str,
    token: &str,
) -> Result<Rendered, RenderError> {
    let title = theme.string(lang, "mydata_view_title");
    let ctx = context! {
        data => to_value(data),
        intro => theme.string(lang, "mydata_view_intro").replace("{email}", &data.email),
        base_path,
        token,
        noindex => true,
        ..home_base(theme, index, lang, &title)
    };
    Ok(Rendered { status: 200, html: theme.render("my_data_view.html", ctx)?, lang, content_type: HTML })
}

/// The shared context for pages that are not content: the language switch
/// leads to the home pages.
fn home_base(theme: &Theme, index: &SiteIndex, lang: Lang, title: &str) -> Value {
    let alternates = index.site.languages.iter().filter_map(|&l| Some((l, index.path_of("home", l)?))).collect();
    base(theme, index, lang, title, "", alternates, None)
}
