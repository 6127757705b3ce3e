//! `/admin/newsletters`: write a newsletter in Markdown for the subscribers
//! of one language, preview it as HTML and as text, send a test to
//! yourself, send it (once) through the outbox, and watch it go out.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::items::{done, failed, not_found};
use super::{Page, Signed, page, redirect, signed};
use crate::content::{Lang, Template};
use crate::store::{Error as StoreError, NewMail, Newsletter};
use crate::web::state::AppState;
use crate::web::tokens::Purpose;

/// `GET /admin/newsletters`: every newsletter with its progress, and a form
/// for a new one.
pub async fn list(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let all = state.store.newsletters(state.site_id).await.map_err(|e| failed(&state, &s, &e))?;
            let rows: Vec<Value> = all
                .iter()
                .map(|(n, p)| context! { n => summary(n), queued => p.queued, sent => p.sent, failed => p.failed })
                .collect();
            let ctx = context! { rows, langs => languages(&state, s.lang) };
            Ok(page(&state, "admin/newsletters.html", &s.page("admin_newsletters", "newsletters"), ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `POST /admin/newsletters`: a new draft.
pub async fn create(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let lang =
                s.field("lang").and_then(|l| l.parse::<Lang>().ok()).unwrap_or(state.index().site.default_lang());
            let subject = s.field("subject").unwrap_or("").trim();
            let subject = if subject.is_empty() {
                state.theme.string(s.lang, "admin_newsletter_untitled")
            } else {
                subject.to_owned()
            };
            let (by, now) = (&s.session.user.email, state.clock.now());
            let id = state
                .store
                .create_newsletter(state.site_id, lang.code(), &subject, "", by, now)
                .await
                .map_err(|e| failed(&state, &s, &e))?;
            Ok(redirect(&format!("/admin/newsletters/{id}")))
        }
        .await,
    )
}

/// `GET /admin/newsletters/{id}`: the editor of a draft with its preview,
/// or a sent newsletter with its progress.
pub async fn show(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    let note = match req.uri().query() {
        Some("saved=1") => Some("admin_newsletter_saved"),
        Some("tested=1") => Some("admin_newsletter_tested"),
        Some("sent=1") => Some("admin_newsletter_sending"),
        _ => None,
    };
    done(
        async {
            let s = signed(&state, req).await?;
            let n = load(&state, &s, id).await?;
            let p = Page { message: note, ..s.page("admin_newsletter", "newsletters") };
            Ok(newsletter_page(&state, &s, &p, &n, StatusCode::OK).await)
        }
        .await,
    )
}

/// `POST /admin/newsletters/{id}`: saves a draft.
pub async fn save(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let subject = s.field("subject").unwrap_or("").trim();
            let body = s.field("body").unwrap_or("");
            if subject.is_empty() {
                let mut n = load(&state, &s, id).await?;
                n.body = body.to_owned();
                let p =
                    Page { error: Some("admin_newsletter_no_subject"), ..s.page("admin_newsletter", "newsletters") };
                return Err(newsletter_page(&state, &s, &p, &n, StatusCode::UNPROCESSABLE_ENTITY).await);
            }
            match state.store.save_newsletter(state.site_id, id, subject, body, state.clock.now()).await {
                Ok(()) => Ok(redirect(&format!("/admin/newsletters/{id}?saved=1"))),
                Err(e) => Err(refused(&state, &s, &e)),
            }
        }
        .await,
    )
}

/// `POST /admin/newsletters/{id}/test`: the newsletter as saved, to the
/// signed-in user only.
pub async fn test(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let n = load(&state, &s, id).await?;
            let home = absolute_page(&state, &n, Template::Newsletter);
            let mut mail =
                compose(&state, &n, &s.session.user.email, &home).map_err(|e| mail_failed(&state, &s, &e))?;
            mail.subject = format!("[{}] {}", state.theme.string(s.lang, "admin_newsletter_test_tag"), mail.subject);
            let now = state.clock.now();
            state.store.queue_mails(state.site_id, &[mail], now).await.map_err(|e| failed(&state, &s, &e))?;
            state.forms.wake.notify_one();
            Ok(redirect(&format!("/admin/newsletters/{id}?tested=1")))
        }
        .await,
    )
}

/// `POST /admin/newsletters/{id}/send`: to every confirmed subscriber of its
/// language, each mail with their own one-click unsubscribe link.
pub async fn send(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let n = load(&state, &s, id).await?;
            let signup = absolute_page(&state, &n, Template::Newsletter);
            let sent = state
                .store
                .send_newsletter(state.site_id, id, state.clock.now(), |r| {
                    let token = state.forms.signer.link_token(Purpose::Unsubscribe, &r.unsubscribe_nonce, 0);
                    let unsubscribe = format!("{}/unsubscribe?t={token}", signup.trim_end_matches('/'));
                    let mut mail = compose(&state, &n, &r.email, &unsubscribe)?;
                    mail.list_unsubscribe = Some(unsubscribe);
                    Ok::<_, crate::mail::Error>(mail)
                })
                .await
                .map_err(|e| refused(&state, &s, &e))?;
            let count = sent.map_err(|e| mail_failed(&state, &s, &e))?;
            state.forms.wake.notify_one();
            tracing::info!(newsletter = id, recipients = count, by = %s.session.user.email, "newsletter queued");
            Ok(redirect(&format!("/admin/newsletters/{id}?sent=1")))
        }
        .await,
    )
}

async fn load(state: &AppState, s: &Signed, id: i64) -> Result<Newsletter, Response> {
    match state.store.newsletter(state.site_id, id).await {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(not_found(state, s)),
        Err(e) => Err(failed(state, s, &e)),
    }
}

/// `POST /admin/newsletters/{id}/archive`: shows a sent newsletter in the
/// public archive (`show=1`) or takes it out (`show=0`).
pub async fn archive(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let show = s.field("show") == Some("1");
            match state.store.archive_newsletter(state.site_id, id, show, state.clock.now()).await {
                Ok(()) => {
                    super::items::refresh(&state).await;
                    Ok(redirect(&format!("/admin/newsletters/{id}")))
                }
                Err(StoreError::Conflict(_)) => {
                    let p =
                        Page { error: Some("admin_newsletter_not_sent"), ..s.page("admin_newsletter", "newsletters") };
                    Err(page(&state, "admin/message.html", &p, context! {}, StatusCode::CONFLICT))
                }
                Err(e) => Err(failed(&state, &s, &e)),
            }
        }
        .await,
    )
}

async fn newsletter_page(state: &AppState, s: &Signed, p: &Page<'_>, n: &Newsletter, status: StatusCode) -> Response {
    let progress = match state.store.newsletter_progress(n.id).await {
        Ok(progress) => progress,
        Err(e) => return failed(state, s, &e),
    };
    let lang = n.lang.parse::<Lang>().unwrap_or_default();
    let ctx = context! {
        n => summary(n), body => &n.body,
        preview_html => Value::from_safe_string(crate::markdown::to_html(&n.body)),
        queued => progress.queued, sent => progress.sent, failed => progress.failed,
        lang_name => super::lang_name(state, s.lang, lang),
        // Refreshed every few seconds while mails wait (no script needed).
        refresh => n.sent_at.is_some() && progress.queued > 0,
    };
    page(state, "admin/newsletter.html", p, ctx, status)
}

fn summary(n: &Newsletter) -> Value {
    context! { id => n.id, lang => &n.lang, subject => &n.subject, created_by => &n.created_by,
    updated_at => n.updated_at, sent_at => n.sent_at, recipients => n.recipients, archived_at => n.archived_at }
}

/// The site's languages, for the new-newsletter form.
fn languages(state: &AppState, ui: Lang) -> Vec<Value> {
    let index = state.index();
    index
        .site
        .languages
        .iter()
        .map(|l| context! { code => l.code(), name => super::lang_name(state, ui, *l) })
        .collect()
}

/// The absolute address of the page with `template` in the newsletter's
/// language (the home page where there is none).
fn absolute_page(state: &AppState, n: &Newsletter, template: Template) -> String {
    let index = state.index();
    let lang = n.lang.parse::<Lang>().unwrap_or(index.site.default_lang());
    let page = index.site.page_with(template).or_else(|| index.site.page_with(Template::Home));
    let slug = page.and_then(|p| p.text.get(&lang)).map_or("", |t| t.slug.as_str());
    index.absolute(&crate::site::page_path(&index.site, lang, slug))
}

/// One mail of the newsletter to `to`.
fn compose(state: &AppState, n: &Newsletter, to: &str, unsubscribe_url: &str) -> Result<NewMail, crate::mail::Error> {
    let index = state.index();
    let lang = n.lang.parse::<Lang>().unwrap_or(index.site.default_lang());
    let site_name = index.site.text.get(&lang).map(|t| t.name.clone()).unwrap_or_default();
    let ctx = context! {
        subject => &n.subject, body_text => &n.body, body_html => crate::markdown::to_html(&n.body),
        site_name, site_url => absolute_page(state, n, Template::Home), unsubscribe_url,
    };
    crate::mail::compose::compose(&state.theme, &state.forms.mail, "newsletter", lang, to, ctx)
}

/// A newsletter that cannot change (sent) or is gone.
fn refused(state: &AppState, s: &Signed, e: &StoreError) -> Response {
    match e {
        StoreError::Conflict(_) => {
            let p = Page { error: Some("admin_newsletter_already_sent"), ..s.page("admin_newsletter", "newsletters") };
            page(state, "admin/message.html", &p, context! {}, StatusCode::CONFLICT)
        }
        other => failed(state, s, other),
    }
}

fn mail_failed(state: &AppState, s: &Signed, e: &crate::mail::Error) -> Response {
    tracing::error!(error = %crate::error_chain(e), "composing a newsletter failed");
    let p = Page { error: Some("admin_error"), ..s.page("admin_newsletter", "newsletters") };
    page(state, "admin/message.html", &p, context! {}, StatusCode::INTERNAL_SERVER_ERROR)
}
