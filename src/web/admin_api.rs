//! The Admin API (`/api/admin/v1/`): every content type at the Content
//! API's names, drafts included, for scripts and integrations.
//!
//! Requests carry a personal token (`Authorization: Bearer …`, made with
//! `casefile token add`); cookies count for nothing here, so there is no
//! session to forge. Items are the Content API's JSON (`key`, the fields,
//! one object per language); each answer names the item's latest revision
//! as its ETag (`"r<revision>"`), and a replacement must send it back as
//! `If-Match`: a stale one is refused (412), a missing one too (428), so a
//! script never overwrites an editor's change it has not seen.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::AppState;
use crate::accounts::Role;
use crate::content::{Item, ItemKind};
use crate::store::{Change, Error as StoreError, User};

/// The note every Admin API revision carries.
const NOTE: &str = "Admin API";

/// The API name of a kind: the Content API's type names, and `redirects`.
pub fn type_name(kind: ItemKind) -> &'static str {
    kind.folder().trim_end_matches(".toml")
}

/// Every type the Admin API serves, by name, in the Content API's order
/// (the admin's menu follows it).
pub fn types() -> impl Iterator<Item = (&'static str, ItemKind)> {
    const ORDER: [ItemKind; 12] = [
        ItemKind::Page,
        ItemKind::News,
        ItemKind::Timeline,
        ItemKind::Press,
        ItemKind::Person,
        ItemKind::Book,
        ItemKind::Evidence,
        ItemKind::Document,
        ItemKind::Media,
        ItemKind::Petition,
        ItemKind::Source,
        ItemKind::Redirect,
    ];
    ORDER.into_iter().map(|k| (type_name(k), k))
}

fn kind_of(name: &str) -> Result<ItemKind, ApiError> {
    types()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| k)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no type `{name}`")))
}

/// `GET /api/admin/v1/<type>`: every item of the type, drafts included.
pub async fn list(State(state): State<Arc<AppState>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    answer(async {
        authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let items = state.store.items_of(state.site_id, kind).await.map_err(store_error)?;
        let items: Vec<Value> = items.iter().map(|(item, rev)| to_json(item, *rev)).collect();
        Ok(json_response(StatusCode::OK, &json!({ "items": items }), None))
    })
    .await
}

/// `GET /api/admin/v1/<type>/<key>`: one item, with its ETag.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(async {
        authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let (item, rev) = find(&state, kind, &key).await?;
        Ok(json_response(StatusCode::OK, &to_json(&item, rev), Some(rev)))
    })
    .await
}

/// `POST /api/admin/v1/<type>`: creates an item (201 with `Location`).
pub async fn create(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(async {
        let user = authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let body = parse_body(&body)?;
        let Some(key) = body.get("key").and_then(Value::as_str).map(str::to_owned) else {
            return Err(invalid(vec![("key".into(), "a key is required".into())]));
        };
        let item = from_json(kind, &key, body)?;
        let change = Change { author: &user.email, note: NOTE };
        let written = state.store.create_item(state.site_id, &item, change).await.map_err(store_error)?;
        refresh(&state).await;
        let mut res = json_response(StatusCode::CREATED, &to_json(&item, written.revision), Some(written.revision));
        if let Ok(v) = HeaderValue::from_str(&format!("/api/admin/v1/{name}/{key}")) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        Ok(res)
    })
    .await
}

/// `PUT /api/admin/v1/<type>/<key>`: replaces an item; needs `If-Match`.
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(async {
        let user = authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let expected = if_match(&headers)?;
        let body = parse_body(&body)?;
        if body.get("key").and_then(Value::as_str).is_some_and(|k| k != key) {
            return Err(invalid(vec![("key".into(), format!("the key is `{key}`, as in the path"))]));
        }
        find(&state, kind, &key).await?;
        let item = from_json(kind, &key, body)?;
        let change = Change { author: &user.email, note: NOTE };
        state.store.update_item_if(state.site_id, &item, expected, change).await.map_err(store_error)?;
        refresh(&state).await;
        // As stored: a changed slug has joined the former ones.
        let (item, rev) = find(&state, kind, &key).await?;
        Ok(json_response(StatusCode::OK, &to_json(&item, rev), Some(rev)))
    })
    .await
}

/// `DELETE /api/admin/v1/<type>/<key>`: moves the item to the trash.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(async {
        let user = authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let change = Change { author: &user.email, note: NOTE };
        state.store.delete_item(state.site_id, kind, &key, change).await.map_err(store_error)?;
        refresh(&state).await;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `GET /api/admin/v1/<type>/<key>/revisions`: newest first.
pub async fn revisions(
    State(state): State<Arc<AppState>>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(async {
        authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let mut list = state.store.revisions(state.site_id, kind, &key).await.map_err(store_error)?;
        if list.is_empty() {
            return Err(error(StatusCode::NOT_FOUND, &format!("no {name} item `{key}`")));
        }
        list.sort_by_key(|r| std::cmp::Reverse(r.id));
        let revisions: Vec<Value> = list
            .iter()
            .map(|r| {
                json!({
                    "number": r.id,
                    "time": crate::site::rfc3339(r.created_at),
                    "author": r.author,
                    "note": r.note,
                    "action": r.action,
                })
            })
            .collect();
        Ok(json_response(StatusCode::OK, &json!({ "revisions": revisions }), None))
    })
    .await
}

/// `POST /api/admin/v1/<type>/<key>/revisions/<number>/restore`: makes an
/// earlier revision the current state (itself a new revision).
pub async fn restore(
    State(state): State<Arc<AppState>>,
    Path((name, key, number)): Path<(String, String, i64)>,
    headers: HeaderMap,
) -> Response {
    answer(async {
        let user = authenticate(&state, &headers, Role::Editor).await?;
        let kind = kind_of(&name)?;
        let revision = state.store.revision(state.site_id, number).await.map_err(store_error)?;
        if revision.kind != kind || revision.key != key {
            return Err(error(StatusCode::NOT_FOUND, &format!("no revision {number} of {name} `{key}`")));
        }
        let change = Change { author: &user.email, note: "restored through the Admin API" };
        state.store.restore_revision(state.site_id, number, change).await.map_err(store_error)?;
        refresh(&state).await;
        let (item, rev) = find(&state, kind, &key).await?;
        Ok(json_response(StatusCode::OK, &to_json(&item, rev), Some(rev)))
    })
    .await
}

/// `GET /api/admin/v1/users`: owners only.
pub async fn users(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    answer(async {
        authenticate(&state, &headers, Role::Owner).await?;
        let users = state.store.users().await.map_err(store_error)?;
        let users: Vec<Value> = users
            .iter()
            .map(|u| json!({ "email": u.email, "role": u.role, "created": crate::site::rfc3339(u.created_at) }))
            .collect();
        Ok(json_response(StatusCode::OK, &json!({ "users": users }), None))
    })
    .await
}

/// Any other path below `/api/admin/v1/`.
pub async fn not_found(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    answer(async {
        authenticate(&state, &headers, Role::Editor).await?;
        Err::<Response, ApiError>(error(StatusCode::NOT_FOUND, "no such route"))
    })
    .await
}

async fn answer(f: impl Future<Output = Result<Response, ApiError>>) -> Response {
    f.await.unwrap_or_else(IntoResponse::into_response)
}

/// Every answer that is not the item asked for: a status and a JSON body
/// (`{"error": …}`, and for 422 the `errors` by field).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = json_response(self.status, &self.body, None);
        let h = res.headers_mut();
        match self.status {
            StatusCode::UNAUTHORIZED => h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
            StatusCode::SERVICE_UNAVAILABLE => h.insert(header::RETRY_AFTER, HeaderValue::from_static("5")),
            _ => None,
        };
        res
    }
}

/// The user behind the bearer token, if they hold at least `needed`.
async fn authenticate(state: &AppState, headers: &HeaderMap, needed: Role) -> Result<User, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let unauthorized = |msg: &str| error(StatusCode::UNAUTHORIZED, msg);
    let Some(token) = token else { return Err(unauthorized("send a token: Authorization: Bearer <token>")) };
    let hash = crate::accounts::token_hash(token);
    let user = state.store.user_for_token(&hash, state.clock.now()).await.map_err(store_error)?;
    let Some(user) = user else { return Err(unauthorized("unknown or revoked token")) };
    if needed == Role::Owner && user.role != Role::Owner {
        return Err(error(StatusCode::FORBIDDEN, "only owners may do this"));
    }
    let site = state.index().site.key.clone();
    if !state.store.may_edit(user.id, &site).await.map_err(store_error)? {
        return Err(error(StatusCode::FORBIDDEN, &format!("this token's user may not edit the site `{site}`")));
    }
    Ok(user)
}

async fn find(state: &AppState, kind: ItemKind, key: &str) -> Result<(Item, i64), ApiError> {
    let found = state.store.item_at(state.site_id, kind, key).await.map_err(store_error)?;
    found.ok_or_else(|| error(StatusCode::NOT_FOUND, &format!("no {} item `{key}`", type_name(kind))))
}

/// The revision `If-Match` names: required, and in our ETag form.
fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Err(error(
            StatusCode::PRECONDITION_REQUIRED,
            "send the ETag you read as If-Match, so that no change is overwritten unseen",
        ));
    };
    let tag = value.trim().trim_start_matches("W/").trim_matches('"');
    tag.strip_prefix('r')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| error(StatusCode::PRECONDITION_FAILED, "If-Match does not name a revision of this item"))
}

fn parse_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(StatusCode::BAD_REQUEST, "the body must be a JSON object")),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, &format!("the body is not JSON: {e}"))),
    }
}

/// An item from the Content API's shape: `key` is the path's, and what the
/// Content API adds (`page_urls`) or this API adds (`revision`) is dropped.
fn from_json(kind: ItemKind, key: &str, mut body: serde_json::Map<String, Value>) -> Result<Item, ApiError> {
    for derived in ["key", "page_urls", "revision"] {
        body.remove(derived);
    }
    let json = Value::Object(body).to_string();
    let item = Item::from_json(kind, key, &json).map_err(|e| invalid(vec![(field_of(&e), e)]))?;
    crate::content::check_key(key).map_err(|e| invalid(vec![("key".into(), e.0)]))?;
    Ok(item)
}

/// The item as the Content API shows it, with its key and revision.
fn to_json(item: &Item, revision: i64) -> Value {
    let mut v: Value = serde_json::from_str(&item.as_ref().to_json()).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("key".into(), Value::from(item.as_ref().key()));
        m.insert("revision".into(), Value::from(revision));
    }
    v
}

/// The field a message names in backquotes (serde: "missing field `date`").
fn field_of(message: &str) -> String {
    message.split('`').nth(1).unwrap_or("item").to_owned()
}

/// 422 with each field and what is wrong with it.
fn invalid(errors: Vec<(String, String)>) -> ApiError {
    let errors: Vec<Value> =
        errors.into_iter().map(|(field, message)| json!({ "field": field, "message": message })).collect();
    ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, body: json!({ "error": "invalid", "errors": errors }) }
}

/// A store error as the API's answer, decided here in one `match`.
fn store_error(e: StoreError) -> ApiError {
    let status = match &e {
        StoreError::NotFound(_) => StatusCode::NOT_FOUND,
        StoreError::Conflict(_) => StatusCode::CONFLICT,
        StoreError::Stale(_) => StatusCode::PRECONDITION_FAILED,
        StoreError::Invalid(i) => return invalid(vec![(field_of(&i.0), i.0.clone())]),
        StoreError::Busy(_) => return error(StatusCode::SERVICE_UNAVAILABLE, "the database is busy; try again"),
        StoreError::Corrupt(_) | StoreError::Database(_) => {
            tracing::error!(error = %crate::error_chain(&e), "Admin API request failed");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    error(status, &e.to_string())
}

fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError { status, body: json!({ "error": message }) }
}

/// A JSON answer that no cache keeps; with the item's ETag when there is one.
fn json_response(status: StatusCode, value: &Value, revision: Option<i64>) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(rev) = revision
        && let Ok(v) = HeaderValue::from_str(&format!("\"r{rev}\""))
    {
        h.insert(header::ETAG, v);
    }
    res
}

/// Shows a change at once: the snapshot and the page cache follow the store.
async fn refresh(state: &Arc<AppState>) {
    if let Err(e) = state.refresh_after_edit().await {
        tracing::warn!(error = %format!("{e:#}"), "reloading the snapshot after an API write failed; the next check will");
    }
}

/// `GET /api/admin/v1/openapi.json`: this API described (OpenAPI 3.1),
/// built from the same list of types as the routes.
pub async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, &document(&state.base_url), None)
}

/// The OpenAPI document of the Admin API.
pub fn document(base_url: &str) -> Value {
    let error = |what: &str| json!({ "description": what, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let item = |what: &str| {
        json!({ "description": what, "headers": { "ETag": { "schema": { "type": "string" }, "description": "\"r<revision>\"" } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Item" } } } })
    };
    let body = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Item" } } } });
    let key = json!({ "name": "key", "in": "path", "required": true, "schema": { "type": "string" } });
    let auth = json!({ "401": error("No token, or an unknown or revoked one") });
    let with = |mut responses: Value| {
        responses.as_object_mut().expect("object").extend(auth.as_object().expect("object").clone());
        responses
    };
    let mut paths = serde_json::Map::new();
    for (name, _) in types() {
        paths.insert(format!("/api/admin/v1/{name}"), json!({
            "get": { "summary": format!("Every item of {name}, drafts included"), "operationId": format!("admin_list_{name}"),
                "responses": with(json!({ "200": { "description": "The items", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Items" } } } } })) },
            "post": { "summary": format!("Create an item of {name}"), "operationId": format!("admin_create_{name}"), "requestBody": body,
                "responses": with(json!({ "201": item("Created; Location names it"), "400": error("Not a JSON object"), "409": error("The key or a name is taken"), "422": { "description": "Invalid, field by field", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Invalid" } } } } })) },
        }));
        paths.insert(format!("/api/admin/v1/{name}/{{key}}"), json!({
            "parameters": [key],
            "get": { "summary": format!("One item of {name}"), "operationId": format!("admin_get_{name}"),
                "responses": with(json!({ "200": item("The item"), "404": error("No such item") })) },
            "put": { "summary": format!("Replace an item of {name}"), "operationId": format!("admin_replace_{name}"), "requestBody": body,
                "parameters": [ { "name": "If-Match", "in": "header", "required": true, "schema": { "type": "string" }, "description": "The ETag read" } ],
                "responses": with(json!({ "200": item("Replaced, as stored"), "404": error("No such item"), "409": error("A name is taken"), "412": error("Changed since the ETag was read"), "422": { "description": "Invalid, field by field", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Invalid" } } } }, "428": error("No If-Match") })) },
            "delete": { "summary": format!("Move an item of {name} to the trash"), "operationId": format!("admin_delete_{name}"),
                "responses": with(json!({ "204": { "description": "In the trash" }, "404": error("No such item"), "409": error("Another item refers to it") })) },
        }));
        paths.insert(format!("/api/admin/v1/{name}/{{key}}/revisions"), json!({
            "parameters": [key],
            "get": { "summary": "Its revisions, newest first", "operationId": format!("admin_revisions_{name}"),
                "responses": with(json!({ "200": { "description": "The revisions", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Revisions" } } } }, "404": error("No such item") })) },
        }));
        paths.insert(format!("/api/admin/v1/{name}/{{key}}/revisions/{{number}}/restore"), json!({
            "parameters": [key, { "name": "number", "in": "path", "required": true, "schema": { "type": "integer" } }],
            "post": { "summary": "Make a revision the current state (a new revision)", "operationId": format!("admin_restore_{name}"),
                "responses": with(json!({ "200": item("Restored"), "404": error("No such revision of this item") })) },
        }));
    }
    paths.insert("/api/admin/v1/users".into(), json!({
        "get": { "summary": "The users (owners only)", "operationId": "admin_users",
            "responses": with(json!({ "200": { "description": "The users", "content": { "application/json": { "schema": { "type": "object", "required": ["users"] } } } }, "403": error("Not an owner") })) },
    }));
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Casefile Admin API", "version": "1",
            "description": "Change the content of this site: every type of the Content API, drafts included. Send a personal token (`casefile token add`) as `Authorization: Bearer <token>`; replacements need the ETag read as If-Match." },
        "servers": [ { "url": base_url } ],
        "security": [ { "token": [] } ],
        "paths": paths,
        "components": {
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Item": { "type": "object", "required": ["key"], "additionalProperties": true,
                    "properties": { "key": { "type": "string" }, "revision": { "type": "integer" } } },
                "Items": { "type": "object", "required": ["items"], "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } } } },
                "Revisions": { "type": "object", "required": ["revisions"], "properties": { "revisions": { "type": "array", "items": {
                    "type": "object", "required": ["number", "time", "author", "note", "action"],
                    "properties": { "number": { "type": "integer" }, "time": { "type": "string" }, "author": { "type": "string" }, "note": { "type": "string" }, "action": { "type": "string" } } } } } },
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
                "Invalid": { "type": "object", "required": ["error", "errors"], "properties": { "error": { "type": "string" }, "errors": { "type": "array", "items": {
                    "type": "object", "required": ["field", "message"], "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } } } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_but_the_settings_has_one_type() {
        let kinds: std::collections::HashSet<ItemKind> = types().map(|(_, k)| k).collect();
        let names: std::collections::HashSet<&str> = types().map(|(n, _)| n).collect();
        assert_eq!(kinds.len(), ItemKind::ALL.len() - 1);
        assert_eq!(names.len(), kinds.len());
        assert!(!kinds.contains(&ItemKind::Settings));
        for t in crate::site::api::TYPES {
            assert!(names.contains(t.name), "the Content API's `{}` is editable", t.name);
        }
    }
}
