//! `/admin/settings`: the site's name, tagline and footer per language, its
//! languages, and the operator the privacy page names as the controller.
//! Owners only; a save is a settings revision like any edit, refused when
//! another owner saved meanwhile.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::items::{done, failed};
use super::{Page, Signed, page, redirect, signed};
use crate::content::{ContactDetails, Lang, Operator, SiteSettings, SiteText, SocialLink};
use crate::store::{Change, Error as StoreError};
use crate::web::state::AppState;

/// `GET /admin/settings`.
pub async fn form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let saved = req.uri().query() == Some("saved=1");
    done(
        async {
            let s = signed(&state, req).await?;
            if let Some(refused) = s.refuse_editor(&state, "admin_settings", "settings") {
                return Err(refused);
            }
            let (settings, revision) =
                state.store.settings_at(state.site_id).await.map_err(|e| failed(&state, &s, &e))?;
            let p = Page { message: saved.then_some("admin_settings_saved"), ..s.page("admin_settings", "settings") };
            Ok(settings_page(&state, &p, &settings, revision, StatusCode::OK))
        }
        .await,
    )
}

/// `POST /admin/settings`.
pub async fn save(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            if let Some(refused) = s.refuse_editor(&state, "admin_settings", "settings") {
                return Err(refused);
            }
            let current = state.store.settings(state.site_id).await.map_err(|e| failed(&state, &s, &e))?;
            let revision: i64 = s.field("revision").and_then(|r| r.parse().ok()).unwrap_or(0);
            let settings = match read(&s, &current) {
                Ok(settings) => settings,
                Err(key) => return Err(mistake(&state, &s, &from_form(&s, &current), revision, key, None)),
            };
            let change = Change { author: &s.session.user.email, note: "site settings" };
            match state.store.save_settings_if(state.site_id, &settings, Some(revision), change).await {
                Ok(_) => {
                    super::items::refresh(&state).await;
                    Ok(redirect("/admin/settings?saved=1"))
                }
                Err(StoreError::Invalid(e)) => {
                    Err(mistake(&state, &s, &settings, revision, "admin_invalid", Some(e.0)))
                }
                Err(StoreError::Stale(_)) => {
                    Err(mistake(&state, &s, &settings, revision, "admin_settings_stale", None))
                }
                Err(e) => Err(failed(&state, &s, &e)),
            }
        }
        .await,
    )
}

/// The form again with what was entered, and why it was not saved.
fn mistake(
    state: &AppState,
    s: &Signed,
    entered: &SiteSettings,
    revision: i64,
    key: &'static str,
    detail: Option<String>,
) -> Response {
    let status = if key == "admin_settings_stale" { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    let p = Page { error: Some(key), detail, ..s.page("admin_settings", "settings") };
    settings_page(state, &p, entered, revision, status)
}

fn settings_page(
    state: &AppState,
    p: &Page<'_>,
    settings: &SiteSettings,
    revision: i64,
    status: StatusCode,
) -> Response {
    let languages: Vec<Value> = Lang::ALL
        .iter()
        .map(|l| {
            let text = settings.text.get(l).cloned().unwrap_or_default();
            context! {
                code => l.code(), name => super::lang_name(state, p.lang, *l),
                on => settings.languages.contains(l), default => settings.languages.first() == Some(l),
                site_name => text.name, tagline => text.tagline, footer => text.footer,
            }
        })
        .collect();
    let o = &settings.operator;
    let social: Vec<String> = settings.contact.social.iter().map(|l| format!("{} {}", l.label, l.url)).collect();
    let ctx = context! {
        languages, revision,
        operator => context! { name => &o.name, email => &o.email, address => &o.address },
        contact => context! { email => &settings.contact.email, social => social.join("\n") },
    };
    page(state, "admin/settings.html", p, ctx, status)
}

/// The settings as entered, for showing the form again (nothing checked).
fn from_form(s: &Signed, current: &SiteSettings) -> SiteSettings {
    let field = |name: &str| s.field(name).unwrap_or("").trim().to_owned();
    let mut entered = current.clone();
    for l in Lang::ALL.iter().copied() {
        let c = l.code();
        let text = SiteText {
            name: field(&format!("name_{c}")),
            tagline: field(&format!("tagline_{c}")),
            footer: field(&format!("footer_{c}")),
        };
        entered.text.insert(l, text);
    }
    let default = s.field("default_language").and_then(|c| c.parse::<Lang>().ok());
    let chosen = Lang::ALL.iter().copied().filter(|l| s.field(&format!("lang_{}", l.code())) == Some("1"));
    entered.languages = default.into_iter().chain(chosen.filter(|l| Some(*l) != default)).collect();
    entered.operator =
        Operator { name: field("operator_name"), email: field("operator_email"), address: field("operator_address") };
    entered.contact = ContactDetails { email: field("contact_email"), social: social_links(&field("social")) };
    entered
}

/// "Label https://…" per line (the address last); a line without one
/// keeps an empty address, which the store's check names.
fn social_links(text: &str) -> Vec<SocialLink> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.rsplit_once(char::is_whitespace) {
            Some((label, url)) if url.contains("://") => SocialLink { label: label.trim().into(), url: url.into() },
            _ => SocialLink { label: line.into(), url: String::new() },
        })
        .collect()
}

/// The settings to save, or the UI string key of what is wrong.
fn read(s: &Signed, current: &SiteSettings) -> Result<SiteSettings, &'static str> {
    let mut settings = from_form(s, current);
    if settings.languages.is_empty() || s.field(&format!("lang_{}", settings.languages[0].code())) != Some("1") {
        return Err("admin_settings_default_language");
    }
    if settings.languages.iter().any(|l| settings.text[l].name.is_empty()) {
        return Err("admin_settings_name_missing");
    }
    // Texts of languages the site does not use are not kept.
    let used = settings.languages.clone();
    settings.text.retain(|l, _| used.contains(l));
    let o = &mut settings.operator;
    if o.name.is_empty() {
        return Err("admin_settings_operator_missing");
    }
    o.email = crate::forms::email_address(&o.email).ok_or("admin_settings_operator_email")?;
    Ok(settings)
}
