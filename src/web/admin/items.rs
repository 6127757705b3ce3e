//! The admin's content pages: the dashboard, a list per type, the editor,
//! revisions, the trash and the users.
//!
//! The editor is the same for every type, shaped by the item's JSON: the
//! texts of each language side by side (every text field any language
//! has), status and publication time, the sources from a picker, each
//! other plain field (text, date, number, yes/no, a list such as related
//! items' keys) as a control of its own, and what is left (nested values)
//! as JSON. Saving sends the revision the form was made from, so a second
//! editor's save is refused and both versions shown, never overwritten.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde_json::{Map, Value as Json};

use super::{Page, Signed, page, redirect, signed};
use crate::content::{Item, ItemKind, Lang, Status};
use crate::store::{Change, Error as StoreError, ListFilter};
use crate::web::admin_api::{type_name, types};
use crate::web::state::AppState;

/// The per-language text fields, first in this order; others follow by name.
const TEXT_FIELDS: [&str; 4] = ["title", "slug", "summary", "body"];

/// How a field of the item's own is edited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Control {
    /// A line of text (a date is one too).
    Text,
    /// A whole number.
    Number,
    /// Yes or no.
    Check,
    /// A list of texts, one per line (related items' keys, tags).
    Lines,
}

impl Control {
    const ALL: [(Control, &'static str); 4] =
        [(Control::Text, "text"), (Control::Number, "number"), (Control::Check, "check"), (Control::Lines, "lines")];

    fn name(self) -> &'static str {
        Control::ALL.iter().find(|(c, _)| *c == self).map_or("text", |(_, n)| n)
    }

    /// The control for a JSON value, if it is a plain one.
    fn of(value: &Json) -> Option<(Control, String)> {
        match value {
            Json::String(s) => Some((Control::Text, s.clone())),
            Json::Number(n) => n.as_i64().map(|n| (Control::Number, n.to_string())),
            Json::Bool(b) => Some((Control::Check, if *b { "true".into() } else { String::new() })),
            Json::Array(items) if items.iter().all(Json::is_string) => {
                let lines: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
                Some((Control::Lines, lines.join("\n")))
            }
            _ => None,
        }
    }

    /// The JSON value of what was posted.
    fn value(self, name: &str, posted: &str) -> Result<Json, String> {
        Ok(match self {
            Control::Text => Json::from(posted.trim()),
            Control::Number if posted.trim().is_empty() => Json::from(""),
            Control::Number => {
                Json::from(posted.trim().parse::<i64>().map_err(|_| format!("`{name}` must be a whole number"))?)
            }
            Control::Check => Json::from(posted == "true"),
            Control::Lines => Json::from(
                posted.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>(),
            ),
        })
    }
}

/// The note revisions made here carry.
const NOTE: &str = "edited in the admin";

pub(super) fn kind_of(name: &str) -> Option<ItemKind> {
    types().find(|(n, _)| *n == name).map(|(_, k)| k)
}

/// Answers with the page `r` made, or the response it failed with.
pub(super) fn done(r: Result<Response, Response>) -> Response {
    r.unwrap_or_else(|res| res)
}

pub(super) fn not_found(state: &AppState, s: &Signed) -> Response {
    let p = Page { error: Some("admin_not_found"), ..s.page("admin_dashboard", "") };
    page(state, "admin/message.html", &p, context! {}, StatusCode::NOT_FOUND)
}

/// A store failure as a page: a rule of the store refused the change (409
/// or 422, with its reason), busy is 503, anything unexpected 500.
pub(super) fn failed(state: &AppState, s: &Signed, e: &StoreError) -> Response {
    let (status, key, detail) = match e {
        StoreError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "admin_busy", None),
        StoreError::NotFound(_) => return not_found(state, s),
        StoreError::Conflict(why) | StoreError::Stale(why) => {
            (StatusCode::CONFLICT, "admin_invalid", Some(why.clone()))
        }
        StoreError::Invalid(why) => (StatusCode::UNPROCESSABLE_ENTITY, "admin_invalid", Some(why.to_string())),
        _ => {
            tracing::error!(error = %crate::error_chain(e), "an admin request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "admin_error", None)
        }
    };
    let p = Page { error: Some(key), detail, ..s.page("admin_dashboard", "") };
    page(state, "admin/message.html", &p, context! {}, status)
}

/// `GET /admin`: what there is, per type, and what needs translating.
pub async fn dashboard(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let langs = languages(&state).await;
            let counts = state.store.item_counts(state.site_id).await.map_err(|e| failed(&state, &s, &e))?;
            let rows: Vec<Value> = types()
                .map(|(name, kind)| {
                    let (count, drafts) = counts.iter().find(|c| c.0 == kind).map_or((0, 0), |c| (c.1, c.2));
                    context! { name, count, drafts }
                })
                .collect();
            let untranslated =
                state.store.untranslated(state.site_id, &langs, 200).await.map_err(|e| failed(&state, &s, &e))?;
            let untranslated: Vec<Value> = untranslated
                .iter()
                .map(|(kind, item)| {
                    let missing: Vec<&str> =
                        langs.iter().filter(|l| !item.text_langs.contains(l)).map(|l| l.code()).collect();
                    context! { type => type_name(*kind), key => &item.key, title => &item.title, missing }
                })
                .collect();
            let p = s.page("admin_dashboard", "dashboard");
            Ok(page(&state, "admin/dashboard.html", &p, context! { types => rows, untranslated }, StatusCode::OK))
        }
        .await,
    )
}

/// Items per list page.
const PER_PAGE: i64 = 50;

/// `GET /admin/<type>`: a page of the items, searched, filtered and sorted.
pub async fn list(State(state): State<Arc<AppState>>, Path(name): Path<String>, req: Request) -> Response {
    let query = super::super::public::parse_query(req.uri().query().unwrap_or(""));
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let param = |k: &str| query.iter().find(|(n, _)| n == k).map_or(String::new(), |(_, v)| v.clone());
            let status = match param("status").as_str() {
                "draft" => Some(Status::Draft),
                "published" => Some(Status::Published),
                _ => None,
            };
            let page_no: i64 = param("page").parse().ok().filter(|p| (1..=1_000_000).contains(p)).unwrap_or(1);
            let filter = ListFilter {
                q: param("q").trim().to_owned(),
                status,
                by_title: param("sort") == "title",
                offset: (page_no - 1) * PER_PAGE,
                limit: PER_PAGE,
            };
            let langs = languages(&state).await;
            let (total, items) =
                state.store.list_items(state.site_id, kind, &filter).await.map_err(|e| failed(&state, &s, &e))?;
            let rows: Vec<Value> = items
                .iter()
                .map(|i| {
                    let missing: Vec<&str> = if i.text_langs.is_empty() {
                        Vec::new()
                    } else {
                        langs.iter().filter(|l| !i.text_langs.contains(l)).map(|l| l.code()).collect()
                    };
                    context! { key => &i.key, title => &i.title, status => i.status.as_str(), missing }
                })
                .collect();
            let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
            let link = |n: i64| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                for (k, v) in [("q", filter.q.as_str()), ("status", status.map_or("", |s| s.as_str()))] {
                    if !v.is_empty() {
                        q.append_pair(k, v);
                    }
                }
                if filter.by_title {
                    q.append_pair("sort", "title");
                }
                q.append_pair("page", &n.to_string());
                format!("/admin/{name}?{}", q.finish())
            };
            let prev = (page_no > 1).then(|| link(page_no - 1));
            let next = (page_no < pages).then(|| link(page_no + 1));
            let title = state.theme.string(s.lang, &format!("admin_type_{name}"));
            let p = Page { title: Some(title), ..s.page("admin_dashboard", &name) };
            let sort = if filter.by_title { "title" } else { "key" };
            let shared = match page_no {
                1 => {
                    super::sharing::shown_from_others(&state, kind, &name).await.map_err(|e| failed(&state, &s, &e))?
                }
                _ => Vec::new(),
            };
            let ctx = context! {
                type => &name, items => rows, total, page => page_no, pages, prev, next, shared,
                q => &filter.q, status => status.map_or("", |s| s.as_str()), sort,
            };
            Ok(page(&state, "admin/list.html", &p, ctx, StatusCode::OK))
        }
        .await,
    )
}

/// `GET /admin/<type>/<key>`: the editor.
pub async fn edit_form(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    let saved = req.uri().query() == Some("saved=1");
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let found = state.store.item_at(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
            let Some((item, revision)) = found else {
                // An item shown from another site is edited in that site's admin.
                let owner =
                    state.store.owner_of_shared(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
                let there = owner.and_then(|o| super::sharing::admin_url(&state, &o, &format!("/{name}/{key}")));
                return Err(there.map_or_else(|| not_found(&state, &s), |url| redirect(&url)));
            };
            let mut view = Editor::of(kind, &item_json(&item), &languages(&state).await, revision);
            view.shown_on = super::sharing::current(&state, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
            let message = saved.then_some("admin_saved");
            let older =
                state.store.older_translations(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
            Ok(editor_page(&state, &s, &name, &key, false, &view, Extra { message, older, ..Extra::default() }).await)
        }
        .await,
    )
}

/// `GET /admin/<type>/new`: an empty editor, shaped like the type's items.
pub async fn new_form(State(state): State<Arc<AppState>>, Path(name): Path<String>, req: Request) -> Response {
    // "New document with this file" (`/admin/files`) names the file.
    let query = super::super::public::parse_query(req.uri().query().unwrap_or(""));
    let file = query.into_iter().find(|(k, v)| k == "file" && crate::documents::is_file_name(v)).map(|(_, v)| v);
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let items = state.store.items_of(state.site_id, kind).await.map_err(|e| failed(&state, &s, &e))?;
            // Every field any item of the type has, emptied; for a type the
            // site has none of yet, those of the built-in site's.
            let mut shape = Json::Object(Map::new());
            for (item, _) in &items {
                merge_shape(&mut shape, blank(item_json(item)));
            }
            if items.is_empty() {
                shape = built_in_shape(kind, &languages(&state).await);
            }
            if let Some(m) = shape.as_object_mut() {
                m.remove("key");
                m.remove("also_on");
                if m.contains_key("status") {
                    m.insert("status".into(), Json::from("draft"));
                }
                if let (ItemKind::Document, Some(file)) = (kind, &file) {
                    m.insert("file".into(), Json::from(file.clone()));
                    m.remove("media_type");
                }
            }
            let mut view = Editor::of(kind, &shape, &languages(&state).await, 0);
            view.shown_on = super::sharing::current(&state, kind, "").await.map_err(|e| failed(&state, &s, &e))?;
            Ok(editor_page(&state, &s, &name, "", true, &view, Extra::default()).await)
        }
        .await,
    )
}

/// `POST /admin/<type>/new`.
pub async fn create(State(state): State<Arc<AppState>>, Path(name): Path<String>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let key = s.field("key").unwrap_or("").trim().to_owned();
            let (view, item) = form_item(&state, &s, &name, &key, true, kind).await?;
            let change = Change { author: &s.session.user.email, note: NOTE };
            let written = match &view.shown_on {
                Some(sites) => state.store.create_item_shown_on(state.site_id, &item, sites, change).await,
                None => state.store.create_item(state.site_id, &item, change).await,
            };
            after_write(&state, &s, &name, &key, true, &view, written).await
        }
        .await,
    )
}

/// `POST /admin/<type>/<key>`: saves, unless someone saved meanwhile.
pub async fn save(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let (view, item) = form_item(&state, &s, &name, &key, false, kind).await?;
            let change = Change { author: &s.session.user.email, note: NOTE };
            let (store, id, revision) = (&state.store, state.site_id, view.revision);
            let written = match &view.shown_on {
                Some(sites) => store.update_item_shown_on_if(id, &item, revision, sites, change).await,
                None => store.update_item_if(id, &item, revision, change).await,
            };
            match written {
                Err(StoreError::Stale(_)) => {
                    let current =
                        state.store.item_at(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
                    let Some((theirs, revision)) = current else { return Err(not_found(&state, &s)) };
                    let mine = Editor { revision, ..view };
                    let theirs = serde_json::to_string_pretty(&item_json(&theirs)).unwrap_or_default();
                    let extra = Extra { theirs: Some(theirs), status: StatusCode::CONFLICT, ..Extra::default() };
                    Err(editor_page(&state, &s, &name, &key, false, &mine, extra).await)
                }
                written => after_write(&state, &s, &name, &key, false, &view, written).await,
            }
        }
        .await,
    )
}

/// The editor's form and the item it describes, or the form again with
/// what is wrong (422).
async fn form_item(
    state: &AppState,
    s: &Signed,
    name: &str,
    key: &str,
    is_new: bool,
    kind: ItemKind,
) -> Result<(Editor, Item), Response> {
    let mut view = Editor::from_form(s, &languages(state).await);
    view.shown_on = super::sharing::posted(state, s, kind, key).await.map_err(|e| failed(state, s, &e))?;
    let item = match view.to_item(kind, key) {
        Ok(item) => item,
        Err(e) => return Err(invalid(state, s, name, key, is_new, &view, e).await),
    };
    // A document names a file uploaded under Files (or imported).
    if let Item::Document(d) = &item
        && let Some(file) = &d.file
        && state.store.file(file).await.map_err(|e| failed(state, s, &e))?.is_none()
    {
        let error = format!("`file`: there is no file `{file}`; upload it under Files first");
        return Err(invalid(state, s, name, key, is_new, &view, error).await);
    }
    Ok((view, item))
}

/// After a write from the editor: back to it with "Saved", or the form
/// again with the store's reason.
async fn after_write(
    state: &Arc<AppState>,
    s: &Signed,
    name: &str,
    key: &str,
    is_new: bool,
    view: &Editor,
    written: Result<crate::store::Written, StoreError>,
) -> Result<Response, Response> {
    match written {
        Ok(_) => {
            refresh(state).await;
            Ok(redirect(&format!("/admin/{name}/{key}?saved=1")))
        }
        Err(StoreError::Invalid(e)) => Err(invalid(state, s, name, key, is_new, view, e.0).await),
        Err(StoreError::Conflict(e)) => Err(invalid(state, s, name, key, is_new, view, e).await),
        Err(e) => Err(failed(state, s, &e)),
    }
}

/// `POST /admin/<type>/<key>/delete`: to the trash.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let change = Change { author: &s.session.user.email, note: NOTE };
            match state.store.delete_item(state.site_id, kind, &key, change).await {
                Ok(_) => {
                    refresh(&state).await;
                    Ok(redirect("/admin/trash"))
                }
                Err(StoreError::Conflict(e)) => {
                    let p = Page { error: Some("admin_invalid"), detail: Some(e), ..s.page("admin_dashboard", &name) };
                    Err(page(&state, "admin/message.html", &p, context! {}, StatusCode::CONFLICT))
                }
                Err(e) => Err(failed(&state, &s, &e)),
            }
        }
        .await,
    )
}

/// `GET /admin/<type>/<key>/revisions`: newest first, with what changed.
pub async fn revisions(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(async {
        let s = signed(&state, req).await?;
        let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
        let mut list = state.store.revisions(state.site_id, kind, &key).await.map_err(|e| failed(&state, &s, &e))?;
        list.sort_by_key(|r| r.id); // oldest first, to see what each changed
        if list.is_empty() {
            return Err(not_found(&state, &s));
        }
        let mut rows = Vec::new();
        let mut before = String::from("{}");
        for info in &list {
            let data = state.store.revision(state.site_id, info.id).await.map_err(|e| failed(&state, &s, &e))?.data;
            let changed = crate::store::changed_fields(&before, &data);
            rows.push(context! { number => info.id, time => info.created_at, author => &info.author, note => &info.note, action => &info.action, changed });
            before = data;
        }
        rows.reverse();
        let p = Page { title: Some(key.clone()), ..s.page("admin_revisions", &name) };
        Ok(page(&state, "admin/revisions.html", &p, context! { type => &name, key => &key, revisions => rows }, StatusCode::OK))
    }
    .await)
}

/// `POST /admin/<type>/<key>/revisions/<number>/restore`.
pub async fn restore_revision(
    State(state): State<Arc<AppState>>,
    Path((name, key, number)): Path<(String, String, i64)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let revision = state.store.revision(state.site_id, number).await.map_err(|e| failed(&state, &s, &e))?;
            if revision.kind != kind || revision.key != key {
                return Err(not_found(&state, &s));
            }
            let change = Change { author: &s.session.user.email, note: "restored an earlier revision" };
            state.store.restore_revision(state.site_id, number, change).await.map_err(|e| failed(&state, &s, &e))?;
            refresh(&state).await;
            Ok(redirect(&format!("/admin/{name}/{key}?saved=1")))
        }
        .await,
    )
}

/// `GET /admin/trash`.
pub async fn trash(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let items = state.store.trash(state.site_id).await.map_err(|e| failed(&state, &s, &e))?;
            let items: Vec<Value> = items
                .iter()
                .map(|t| context! { type => type_name(t.kind), key => &t.key, deleted_at => t.deleted_at })
                .collect();
            let p = s.page("admin_trash", "trash");
            Ok(page(&state, "admin/trash.html", &p, context! { items }, StatusCode::OK))
        }
        .await,
    )
}

/// `POST /admin/trash/<type>/<key>/restore`.
pub async fn restore_from_trash(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    req: Request,
) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let change = Change { author: &s.session.user.email, note: "restored from the trash" };
            state.store.restore_item(state.site_id, kind, &key, change).await.map_err(|e| failed(&state, &s, &e))?;
            refresh(&state).await;
            Ok(redirect(&format!("/admin/{name}/{key}?saved=1")))
        }
        .await,
    )
}

/// `GET /admin/audit`: who changed what and when (owners only).
pub async fn audit(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(async {
        let s = signed(&state, req).await?;
        if let Some(refused) = s.refuse_editor(&state, "admin_audit", "audit") {
            return Err(refused);
        }
        let recent = state.store.recent_revisions(state.site_id, 200).await.map_err(|e| failed(&state, &s, &e))?;
        let rows: Vec<Value> = recent
            .iter()
            .map(|(kind, key, r)| {
                let t = if *kind == ItemKind::Settings { "settings" } else { type_name(*kind) };
                context! { type => t, key, time => r.created_at, author => &r.author, action => &r.action, note => &r.note, number => r.id }
            })
            .collect();
        let p = s.page("admin_audit", "audit");
        Ok(page(&state, "admin/audit.html", &p, context! { rows }, StatusCode::OK))
    }
    .await)
}

/// `GET /admin/users`: owners only.
pub async fn users(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            if let Some(refused) = s.refuse_editor(&state, "admin_users", "users") {
                return Err(refused);
            }
            let store = &state.store;
            let fail = |e| failed(&state, &s, &e);
            let mut rows = Vec::new();
            for u in store.users().await.map_err(fail)? {
                let two_factor = store.two_factor(u.id).await.map_err(fail)?.secret.is_some();
                rows.push(
                    context! { email => &u.email, role => u.role.as_str(), created_at => u.created_at, two_factor },
                );
            }
            let required = store.two_factor_required().await.map_err(fail)?;
            let p = s.page("admin_users", "users");
            Ok(page(&state, "admin/users.html", &p, context! { users => rows, required }, StatusCode::OK))
        }
        .await,
    )
}

/// The editor's state: what the form shows and sends back.
pub(super) struct Editor {
    /// Per language: the text fields shown, with their values.
    texts: Vec<(Lang, Vec<(String, String)>)>,
    /// Whether the type has a status and publication time.
    has_meta: bool,
    /// `draft` or `published`.
    status: String,
    /// RFC 3339, or empty.
    published_at: String,
    /// Whether the item's place names the other sites that show it.
    also_on: bool,
    /// The other sites that show it (keys), where that can be chosen.
    shown_on: Option<Vec<String>>,
    /// The sources it cites, in order, for types that cite (a picker, not
    /// part of the JSON); `None` for types without sources.
    sources: Option<Vec<String>>,
    /// The item's own plain fields, each a control: name, control, value.
    fields: Vec<(String, Control, String)>,
    /// Everything else, as JSON text.
    other: String,
    /// The revision the form was made from.
    revision: i64,
}

impl Editor {
    /// Splits an item's JSON into the form's parts.
    fn of(kind: ItemKind, json: &Json, langs: &[Lang], revision: i64) -> Editor {
        let mut rest = json.as_object().cloned().unwrap_or_default();
        rest.remove("key");
        let has_meta = rest.contains_key("status");
        let status =
            rest.remove("status").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "draft".into());
        let published_at = match rest.remove("published_at") {
            Some(Json::Number(n)) => n.as_i64().map(crate::site::rfc3339).unwrap_or_default(),
            Some(Json::String(s)) => s,
            _ => String::new(),
        };
        let also_on = rest.remove("also_on").and_then(|v| v.as_bool()).unwrap_or(false);
        let sources = match rest.remove("sources") {
            Some(Json::Array(keys)) => Some(keys.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect()),
            Some(other) => {
                rest.insert("sources".into(), other);
                None
            }
            None => None,
        };
        // The text fields any language has are shown for every language,
        // so a missing translation can be written here.
        let mut shown: Vec<String> = TEXT_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        for l in langs {
            if let Some(obj) = rest.get(l.code()).and_then(Json::as_object) {
                let mut more: Vec<&String> =
                    obj.iter().filter(|(k, v)| v.is_string() && !shown.contains(k)).map(|(k, _)| k).collect();
                more.sort();
                shown.extend(more.into_iter().cloned());
            }
        }
        shown.retain(|f| langs.iter().any(|l| rest.get(l.code()).and_then(|o| o.get(f)).is_some_and(Json::is_string)));
        let texts = langs
            .iter()
            .map(|l| {
                let mut obj = rest.get_mut(l.code()).and_then(Json::as_object_mut);
                let fields = shown
                    .iter()
                    .map(|f| {
                        let value = obj.as_mut().and_then(|o| o.remove(f)).and_then(|v| v.as_str().map(str::to_owned));
                        (f.clone(), value.unwrap_or_default())
                    })
                    .collect();
                (*l, fields)
            })
            .collect();
        // The item's own plain fields get controls; nested values stay JSON,
        // and so does an empty list of them (a person's statements).
        let plain: Vec<String> = rest
            .iter()
            .filter(|(k, v)| k.parse::<Lang>().is_err() && Control::of(v).is_some())
            .filter(|(k, v)| v.as_array().is_none_or(|a| !a.is_empty()) || takes_texts(kind, k))
            .map(|(k, _)| k.clone())
            .collect();
        let fields = plain
            .into_iter()
            .filter_map(|k| {
                let (control, value) = Control::of(&rest.remove(&k)?)?;
                Some((k, control, value))
            })
            .collect();
        let other = serde_json::to_string_pretty(&Json::Object(rest)).unwrap_or_default();
        Editor { texts, has_meta, status, published_at, also_on, shown_on: None, sources, fields, other, revision }
    }

    /// The form as posted.
    pub(super) fn from_form(s: &Signed, langs: &[Lang]) -> Editor {
        // The form names the text fields it shows (`text_fields`).
        let shown: Vec<String> = match s.field("text_fields") {
            Some(list) => list.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
            None => TEXT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        };
        let texts = langs
            .iter()
            .map(|l| {
                let fields = shown
                    .iter()
                    .filter_map(|f| s.field(&format!("{}.{f}", l.code())).map(|v| (f.clone(), v.replace("\r\n", "\n"))))
                    .collect();
                (*l, fields)
            })
            .collect();
        // Each control says what it is (`control.<name>`): an unticked
        // box sends nothing else.
        let fields = s
            .form
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("control.")?;
                let control = Control::ALL.iter().find(|(_, n)| n == v)?.0;
                let value = s.field(&format!("field.{name}")).unwrap_or("").replace("\r\n", "\n");
                Some((name.to_owned(), control, value))
            })
            .collect();
        Editor {
            texts,
            has_meta: s.field("status").is_some(),
            status: s.field("status").unwrap_or("draft").to_owned(),
            published_at: s.field("published_at").unwrap_or("").trim().to_owned(),
            also_on: s.field("also_on").is_some(),
            shown_on: None,
            sources: Self::sources_posted(s),
            fields,
            other: s.field("other").unwrap_or("{}").to_owned(),
            revision: s.field("revision").and_then(|r| r.parse().ok()).unwrap_or(0),
        }
    }

    /// The sources chosen in the picker: those cited before keep their
    /// order (it numbers the notes), new ones follow in the list's order.
    fn sources_posted(s: &Signed) -> Option<Vec<String>> {
        s.field("sources_field")?;
        let chosen: Vec<&str> = s.form.iter().filter(|(k, _)| k == "sources").map(|(_, v)| v.as_str()).collect();
        let before = s.field("sources_order").unwrap_or("");
        let mut out: Vec<String> = before.split(',').filter(|k| chosen.contains(k)).map(str::to_owned).collect();
        for k in chosen {
            if !out.iter().any(|o| o == k) {
                out.push(k.to_owned());
            }
        }
        Some(out)
    }

    /// The item the form describes, or what is wrong with it.
    pub(super) fn to_item(&self, kind: ItemKind, key: &str) -> Result<Item, String> {
        crate::content::check_key(key).map_err(|e| e.0)?;
        let mut json: Map<String, Json> = match serde_json::from_str(&self.other) {
            Ok(Json::Object(m)) => m,
            Ok(_) => return Err("the other fields must be a JSON object ({ … })".into()),
            Err(e) => return Err(format!("the other fields are not valid JSON: {e}")),
        };
        for (lang, fields) in &self.texts {
            let not_begun = fields.iter().all(|(_, v)| v.trim().is_empty()) && !json.contains_key(lang.code());
            // (A source's citation is one text per language, in the JSON.)
            if fields.is_empty() || not_begun {
                continue;
            }
            let obj = json.entry(lang.code()).or_insert_with(|| Json::Object(Map::new()));
            let Some(obj) = obj.as_object_mut() else { return Err(format!("`{}` must be an object", lang.code())) };
            for (name, value) in fields {
                obj.insert(name.clone(), Json::from(value.clone()));
            }
        }
        if self.has_meta {
            json.insert("status".into(), Json::from(self.status.clone()));
            if !self.published_at.is_empty() {
                json.insert("published_at".into(), Json::from(self.published_at.clone()));
            }
            if self.also_on {
                json.insert("also_on".into(), Json::from(true));
            }
        }
        if let Some(sources) = &self.sources {
            json.insert("sources".into(), Json::from(sources.clone()));
        }
        for (name, control, posted) in &self.fields {
            if json.contains_key(name) {
                return Err(format!("`{name}` has a field of its own above: take it out of the other fields"));
            }
            json.insert(name.clone(), control.value(name, posted)?);
        }
        from_json_leaving_out_empty(kind, key, json)
    }
}

/// The item of `json`, where an empty text means "not given": left out,
/// so an optional field (a date, a file) is unset, unless the type needs
/// the field, which then gets it back as an empty text.
fn from_json_leaving_out_empty(kind: ItemKind, key: &str, mut json: Map<String, Json>) -> Result<Item, String> {
    let empty = |v: &Json| v.as_str() == Some("");
    let mut left_out: Vec<String> = json.iter().filter(|(_, v)| empty(v)).map(|(k, _)| k.clone()).collect();
    json.retain(|_, v| !empty(v));
    loop {
        match Item::from_json(kind, key, &Json::Object(json.clone()).to_string()) {
            Err(e) => {
                // serde names one missing field at a time.
                let missing = e.split("missing field `").nth(1).and_then(|r| r.split('`').next()).map(str::to_owned);
                match missing.and_then(|m| left_out.iter().position(|k| *k == m)) {
                    Some(i) => {
                        json.insert(left_out.swap_remove(i), Json::from(""));
                    }
                    None => return Err(e),
                }
            }
            done => return done,
        }
    }
}

/// Messages and extras around the editor.
struct Extra {
    message: Option<&'static str>,
    error: Option<String>,
    theirs: Option<String>,
    /// Languages whose text is older than another's.
    older: Vec<Lang>,
    status: StatusCode,
}

impl Default for Extra {
    fn default() -> Extra {
        Extra { message: None, error: None, theirs: None, older: Vec::new(), status: StatusCode::OK }
    }
}

async fn editor_page(
    state: &AppState,
    s: &Signed,
    name: &str,
    key: &str,
    is_new: bool,
    e: &Editor,
    extra: Extra,
) -> Response {
    let source_options = match &e.sources {
        Some(chosen) => match source_options(state, s.lang, chosen).await {
            Ok(options) => options,
            Err(err) => return failed(state, s, &err),
        },
        None => Vec::new(),
    };
    let site_options = match &e.shown_on {
        Some(shown) => match super::sharing::options(state, s, shown).await {
            Ok(options) => options,
            Err(err) => return failed(state, s, &err),
        },
        None => Vec::new(),
    };
    let langs: Vec<Value> = e
        .texts
        .iter()
        .map(|(l, fields)| {
            let fields: Vec<Value> = fields
                .iter()
                .map(|(name, value)| {
                    let short = SHORT_TEXTS.contains(&name.as_str()) && !value.contains('\n');
                    context! { name, value, label => label(state, s.lang, name), short }
                })
                .collect();
            let missing =
                e.texts.iter().find(|(x, _)| x == l).is_some_and(|(_, f)| f.iter().all(|(_, v)| v.is_empty()));
            let older = !missing && extra.older.contains(l);
            context! { code => l.code(), name => l.native_name(), fields, missing, older }
        })
        .collect();
    let text_fields = e.texts.first().map(|(_, f)| f.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(","));
    let fields: Vec<Value> = e
        .fields
        .iter()
        .map(|(name, control, value)| {
            let date = name == "date" || name.ends_with("_date");
            context! { name, label => label(state, s.lang, name), control => control.name(), value, date }
        })
        .collect();
    let title = if is_new { state.theme.string(s.lang, "admin_new") } else { key.to_owned() };
    let p = Page {
        title: Some(title),
        message: extra.message,
        error: extra.error.as_ref().map(|_| "admin_invalid"),
        detail: extra.error.clone(),
        ..s.page("admin_dashboard", name)
    };
    let action = if is_new { format!("/admin/{name}/new") } else { format!("/admin/{name}/{key}") };
    let preview_action = format!("{action}/preview");
    // An item that can cite sources and cites none is flagged (not refused).
    let no_sources = e.sources.as_ref().is_some_and(Vec::is_empty);
    let ctx = context! {
        type => name, key, is_new, action, preview_action, langs, no_sources, has_meta => e.has_meta, status => &e.status,
        published_at => &e.published_at, other => &e.other, revision => e.revision, theirs => extra.theirs,
        has_sources => e.sources.is_some(), source_options, fields, text_fields,
        sharing => e.shown_on.is_some(), site_options, also_on => e.also_on,
        sources_order => e.sources.as_ref().map(|k| k.join(",")).unwrap_or_default(),
    };
    page(state, "admin/edit.html", &p, ctx, extra.status)
}

/// Per-language texts shown on one line; the others get a text area.
const SHORT_TEXTS: [&str; 6] = ["title", "slug", "name", "role", "label", "subtitle"];

/// A field's label: the UI's word for it, or its name.
fn label(state: &AppState, lang: Lang, name: &str) -> String {
    match state.theme.string(lang, &format!("admin_field_{name}")) {
        l if l.starts_with("admin_field_") => name.replace('_', " "),
        l => l,
    }
}

/// Every source of the site (drafts' sources too), for the picker: key,
/// citation in the UI language (or another), whether the item cites it.
async fn source_options(state: &AppState, ui: Lang, chosen: &[String]) -> Result<Vec<Value>, StoreError> {
    let sources = state.store.items_of(state.site_id, ItemKind::Source).await?;
    Ok(sources
        .iter()
        .filter_map(|(item, _)| match item {
            Item::Source(source) => Some(source),
            _ => None,
        })
        .map(|source| {
            let text =
                source.citation.get(&ui).or_else(|| source.citation.values().next()).cloned().unwrap_or_default();
            context! { key => &source.key, text, selected => chosen.contains(&source.key) }
        })
        .collect())
}

async fn invalid(
    state: &AppState,
    s: &Signed,
    name: &str,
    key: &str,
    is_new: bool,
    view: &Editor,
    error: String,
) -> Response {
    let extra = Extra { error: Some(error), status: StatusCode::UNPROCESSABLE_ENTITY, ..Extra::default() };
    editor_page(state, s, name, key, is_new, view, extra).await
}

/// The site's languages, from the current snapshot.
async fn languages(state: &AppState) -> Vec<Lang> {
    state.index().site.languages.clone()
}

fn item_json(item: &Item) -> Json {
    serde_json::from_str(&item.as_ref().to_json()).unwrap_or(Json::Null)
}

/// The emptied fields of the built-in site's items of a kind, in the
/// languages `langs` only: the form for the first item of a type.
fn built_in_shape(kind: ItemKind, langs: &[Lang]) -> Json {
    let mut shape = Json::Object(Map::new());
    for item in built_in().iter().flat_map(|site| site.items()).filter(|i| i.kind() == kind) {
        merge_shape(&mut shape, blank(item_json(&item.to_owned())));
    }
    if let Some(m) = shape.as_object_mut() {
        m.retain(|k, _| k.parse::<Lang>().map_or(true, |l| langs.contains(&l)));
    }
    shape
}

/// The built-in site, parsed once.
fn built_in() -> &'static Option<crate::content::Site> {
    static SITE: std::sync::LazyLock<Option<crate::content::Site>> =
        std::sync::LazyLock::new(|| crate::bundle::parse(&crate::bundle::default_files()).ok());
    &SITE
}

/// Whether the type's field `name` holds a list of texts (tags, related
/// items' keys), which an empty list does not tell: serde is asked, with a
/// built-in item of the type holding one text there.
fn takes_texts(kind: ItemKind, name: &str) -> bool {
    let Some(item) = built_in().iter().flat_map(|site| site.items()).find(|i| i.kind() == kind) else {
        return false;
    };
    let mut json = item_json(&item.to_owned());
    let Some(m) = json.as_object_mut() else { return false };
    m.insert(name.to_owned(), Json::from(vec!["x"]));
    Item::from_json(kind, item.key(), &json.to_string()).is_ok()
}

/// Adds to `shape` the fields of `more` it lacks, in nested objects too.
fn merge_shape(shape: &mut Json, more: Json) {
    if let (Json::Object(have), Json::Object(more)) = (shape, more) {
        for (k, v) in more {
            match have.get_mut(&k) {
                Some(existing) => merge_shape(existing, v),
                None => {
                    have.insert(k, v);
                }
            }
        }
    }
}

/// The same shape with every value emptied: the form for a new item.
fn blank(v: Json) -> Json {
    match v {
        Json::String(_) => Json::from(""),
        Json::Array(_) => Json::Array(Vec::new()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, v)| (k, blank(v))).collect()),
        other => other,
    }
}

pub(super) async fn refresh(state: &Arc<AppState>) {
    if let Err(e) = state.refresh_after_edit().await {
        tracing::warn!(error = %format!("{e:#}"), "reloading the snapshot after an edit failed; the next check will");
    }
}
