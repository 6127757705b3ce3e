//! The people who wrote to the campaign: subscribers, petition signatures
//! and the contact inbox, with CSV exports and erasure of one person's
//! data. Editors and owners alike (it is the campaign's daily work).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value, context};

use super::items::{done, failed};
use super::{Page, Signed, page, redirect, signed};
use crate::store::{SignatureRow, SubscriberFilter, SubscriptionData};
use crate::web::state::AppState;

/// Rows per page.
const PER_PAGE: i64 = 50;

/// The query parameters of a request.
struct Query(Vec<(String, String)>);

impl Query {
    fn of(req: &Request) -> Query {
        Query(crate::web::public::parse_query(req.uri().query().unwrap_or("")))
    }

    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn page(&self) -> i64 {
        // Bounded, so that the offset never overflows.
        self.get("page").parse().ok().filter(|p| (1..=1_000_000).contains(p)).unwrap_or(1)
    }
}

/// Links to the previous and next page, keeping `keep` parameters.
fn pager(path: &str, keep: &[(&str, &str)], page_no: i64, total: i64) -> (Option<String>, Option<String>, i64) {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |n: i64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in keep.iter().filter(|(_, v)| !v.is_empty()) {
            q.append_pair(k, v);
        }
        q.append_pair("page", &n.to_string());
        format!("{path}?{}", q.finish())
    };
    ((page_no > 1).then(|| link(page_no - 1)), (page_no < pages).then(|| link(page_no + 1)), pages)
}

/// The filter from `?lang=&status=`, unknown values dropped.
fn subscriber_filter(q: &Query) -> SubscriberFilter {
    let lang = q.get("lang");
    let status = q.get("status");
    SubscriberFilter {
        lang: lang.parse::<crate::content::Lang>().map_or(String::new(), |l| l.code().to_owned()),
        status: ["pending", "confirmed", "unsubscribed"].into_iter().find(|s| *s == status).unwrap_or("").to_owned(),
    }
}

fn subscriber_value(r: &SubscriptionData) -> Value {
    context! { email => &r.email, name => &r.name, lang => &r.lang, status => &r.status,
    created_at => r.created_at, confirmed_at => r.confirmed_at }
}

/// `GET /admin/subscribers`: filter by language and status, page through.
pub async fn subscribers(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Query::of(&req);
    done(
        async {
            let s = signed(&state, req).await?;
            let f = subscriber_filter(&q);
            let page_no = q.page();
            let (total, rows) = state
                .store
                .subscribers_page(state.site_id, &f, (page_no - 1) * PER_PAGE, PER_PAGE)
                .await
                .map_err(|e| failed(&state, &s, &e))?;
            let keep = [("lang", f.lang.as_str()), ("status", f.status.as_str())];
            let (prev, next, pages) = pager("/admin/subscribers", &keep, page_no, total);
            let csv = format!("/admin/subscribers.csv?lang={}&status={}", f.lang, f.status);
            let rows: Vec<Value> = rows.iter().map(subscriber_value).collect();
            let ctx = context! { rows, total, page => page_no, pages, prev, next, lang_filter => &f.lang,
            status_filter => &f.status, csv, languages => languages(&state) };
            Ok(page(&state, "admin/subscribers.html", &s.page("admin_subscribers", "subscribers"), ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `GET /admin/subscribers.csv`: the filtered subscribers as a spreadsheet.
pub async fn subscribers_csv(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Query::of(&req);
    done(
        async {
            let s = signed(&state, req).await?;
            let rows = state
                .store
                .all_subscribers(state.site_id, &subscriber_filter(&q))
                .await
                .map_err(|e| failed(&state, &s, &e))?;
            let header = ["email", "name", "language", "status", "signed up (UTC)", "confirmed (UTC)"];
            let lines = rows.iter().map(|r| {
                vec![
                    r.email.clone(),
                    r.name.clone(),
                    r.lang.clone(),
                    r.status.clone(),
                    time(r.created_at),
                    opt_time(r.confirmed_at),
                ]
            });
            Ok(csv_download("subscribers", state.clock.now(), &header, lines))
        }
        .await,
    )
}

/// The petitions of the site, by key, the first one if none is asked for.
fn petition_keys(state: &AppState) -> Vec<String> {
    state.index().site.petitions.iter().map(|p| p.key.clone()).collect()
}

/// The petition asked for (`?petition=`, else the first), and all of them.
fn chosen_petition(state: &AppState, q: &Query) -> Option<(String, Vec<String>)> {
    let keys = petition_keys(state);
    let asked = q.get("petition");
    let key = if asked.is_empty() { keys.first().cloned() } else { keys.iter().find(|k| *k == asked).cloned() };
    key.map(|key| (key, keys))
}

fn no_petition(state: &AppState, s: &Signed) -> Response {
    let p = Page { error: Some("admin_no_petition"), ..s.page("admin_signatures", "signatures") };
    page(state, "admin/message.html", &p, context! {}, StatusCode::NOT_FOUND)
}

fn signature_value(r: &SignatureRow) -> Value {
    context! { email => &r.email, name => &r.name, country => &r.country, lang => &r.lang, status => &r.status,
    created_at => r.created_at, confirmed_at => r.confirmed_at }
}

/// `GET /admin/signatures`: a petition's confirmed signatures per day and
/// every signature, newest first.
pub async fn signatures(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Query::of(&req);
    done(
        async {
            let s = signed(&state, req).await?;
            let Some((petition, petitions)) = chosen_petition(&state, &q) else { return Err(no_petition(&state, &s)) };
            let fail = |e| failed(&state, &s, &e);
            let per_day = state.store.signatures_per_day(state.site_id, &petition).await.map_err(fail)?;
            let page_no = q.page();
            let (total, rows) = state
                .store
                .signatures_page(state.site_id, &petition, (page_no - 1) * PER_PAGE, PER_PAGE)
                .await
                .map_err(fail)?;
            let (prev, next, pages) = pager("/admin/signatures", &[("petition", &petition)], page_no, total);
            let confirmed: i64 = per_day.iter().map(|(_, n)| n).sum();
            let per_day: Vec<Value> =
                per_day.iter().map(|(day, n)| context! { day => crate::site::ymd(*day), count => n }).collect();
            let rows: Vec<Value> = rows.iter().map(signature_value).collect();
            let ctx =
                context! { petition, petitions, per_day, confirmed, rows, total, page => page_no, pages, prev, next };
            Ok(page(&state, "admin/signatures.html", &s.page("admin_signatures", "signatures"), ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `GET /admin/signatures.csv`: a petition's confirmed signatures, for
/// handing over: name, country and the day they confirmed. Addresses stay
/// out: the recipient of a petition needs none.
pub async fn signatures_csv(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Query::of(&req);
    done(
        async {
            let s = signed(&state, req).await?;
            let Some((petition, _)) = chosen_petition(&state, &q) else { return Err(no_petition(&state, &s)) };
            let rows =
                state.store.confirmed_signatures(state.site_id, &petition).await.map_err(|e| failed(&state, &s, &e))?;
            let header = ["name", "country", "confirmed (UTC)"];
            let lines = rows.iter().map(|r| vec![r.name.clone(), r.country.clone(), opt_time(r.confirmed_at)]);
            Ok(csv_download(&format!("signatures-{petition}"), state.clock.now(), &header, lines))
        }
        .await,
    )
}

/// `GET /admin/inbox`: open messages (or, with `?done=1`, those done).
pub async fn inbox(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Query::of(&req);
    done(
        async {
            let s = signed(&state, req).await?;
            let show_done = q.get("done") == "1";
            let page_no = q.page();
            let (total, rows) = state
                .store
                .messages_page(state.site_id, show_done, (page_no - 1) * PER_PAGE, PER_PAGE)
                .await
                .map_err(|e| failed(&state, &s, &e))?;
            let (prev, next, pages) =
                pager("/admin/inbox", &[("done", if show_done { "1" } else { "" })], page_no, total);
            let rows: Vec<Value> = rows
                .iter()
                .map(|m| context! { id => m.id, name => &m.name, email => &m.email, subject => &m.subject, created_at => m.created_at })
                .collect();
            let ctx = context! { rows, total, show_done, page => page_no, pages, prev, next };
            Ok(page(&state, "admin/inbox.html", &s.page("admin_inbox", "inbox"), ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `GET /admin/inbox/<id>`: one message, with a reply link for the mail
/// program.
pub async fn message(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(m) = state.store.message(state.site_id, id).await.map_err(|e| failed(&state, &s, &e))? else {
                return Err(super::items::not_found(&state, &s));
            };
            let reply = format!(
                "mailto:{}?subject={}",
                percent_encoding::utf8_percent_encode(&m.email, percent_encoding::NON_ALPHANUMERIC),
                percent_encoding::utf8_percent_encode(
                    &format!("Re: {}", m.subject),
                    percent_encoding::NON_ALPHANUMERIC
                )
            );
            let ctx = context! { id => m.id, name => &m.name, email => &m.email, subject => &m.subject, body => &m.body,
            msg_lang => &m.lang, created_at => m.created_at, done_at => m.done_at, reply };
            let p = Page { title: Some(m.subject.clone()), ..s.page("admin_inbox", "inbox") };
            Ok(page(&state, "admin/message_view.html", &p, ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `POST /admin/inbox/<id>/done`: marks a message done (`done=1`) or open.
pub async fn message_done(State(state): State<Arc<AppState>>, Path(id): Path<i64>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let done_at = (s.field("done") == Some("1")).then(|| state.clock.now());
            if !state.store.set_message_done(state.site_id, id, done_at).await.map_err(|e| failed(&state, &s, &e))? {
                return Err(super::items::not_found(&state, &s));
            }
            let back = if done_at.is_some() { "/admin/inbox".to_owned() } else { format!("/admin/inbox/{id}") };
            Ok(redirect(&back))
        }
        .await,
    )
}

/// `GET /admin/erase`: the form to look an address up.
pub async fn erase_form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(signed(&state, req).await.map(|s| {
        let ctx = context! { email => "", held => Value::from(()) };
        page(&state, "admin/erase.html", &s.page("admin_erase", "subscribers"), ctx, StatusCode::OK)
    }))
}

/// `POST /admin/erase/look`: what is held about an address, and a button
/// that erases it. A post, not a query: the address stays out of URLs,
/// proxy logs and the browser's history.
pub async fn erase_look(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let typed = s.field("email").unwrap_or("");
            let email = crate::forms::email_address(typed);
            let held = match &email {
                Some(e) => Some(state.store.personal_data(state.site_id, e).await.map_err(|e| failed(&state, &s, &e))?),
                None => None,
            };
            let held = held.map(|d| {
                context! { subscriptions => d.subscriptions.len(), signatures => d.signatures.len(),
                messages => d.messages.len(), consents => d.consents.len(), mails => d.mails.len() }
            });
            let ctx = context! { email => email.as_deref().unwrap_or(typed), held };
            Ok(page(&state, "admin/erase.html", &s.page("admin_erase", "subscribers"), ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `POST /admin/erase`: deletes everything held about the address (the
/// same as the visitor's own "erase my data"), its mail files included.
pub async fn erase(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(email) = s.field("email").and_then(crate::forms::email_address) else {
                let p = Page { error: Some("admin_erase_no_address"), ..s.page("admin_erase", "subscribers") };
                return Err(page(&state, "admin/message.html", &p, context! {}, StatusCode::UNPROCESSABLE_ENTITY));
            };
            state.store.erase_personal_data(state.site_id, &email).await.map_err(|e| failed(&state, &s, &e))?;
            if let Some(dir) = &state.forms.mail_dir {
                crate::mail::erase_files(dir, &email);
            }
            // The address itself is not logged: that would keep what was erased.
            tracing::info!(by = %s.session.user.email, "personal data of one address erased in the admin");
            let p = Page { message: Some("admin_erased"), ..s.page("admin_erase", "subscribers") };
            Ok(page(&state, "admin/message.html", &p, context! {}, StatusCode::OK))
        }
        .await,
    )
}

/// The site's languages, as codes.
fn languages(state: &AppState) -> Vec<&'static str> {
    state.index().site.languages.iter().map(|l| l.code()).collect()
}

fn time(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn opt_time(t: Option<i64>) -> String {
    t.map(time).unwrap_or_default()
}

/// A CSV file to download (RFC 4180, UTF-8 with a byte order mark so that
/// spreadsheet programs read umlauts right).
fn csv_download(name: &str, now: i64, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Response {
    let mut body = String::from("\u{FEFF}");
    body.push_str(&csv_line(header.iter().map(|h| h.to_string())));
    for row in rows {
        body.push_str(&csv_line(row.into_iter()));
    }
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let day = crate::site::ymd(now);
    let file = format!("attachment; filename=\"{name}-{day}.csv\"");
    if let Ok(v) = HeaderValue::from_str(&file) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// One CSV line. A value a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@`, a tab or a carriage return first) gets a `'` in front: a name
/// typed into a public form must never become a formula on an editor's
/// computer.
fn csv_line(values: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = values
        .map(|v| {
            let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v };
            if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
        })
        .collect();
    cells.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let line = csv_line(
            ["a,b".into(), "say \"hi\"".into(), "=HYPERLINK(\"x\")".into(), "-1".into(), "Jörg".into()].into_iter(),
        );
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",'-1,Jörg\r\n");
    }
}
