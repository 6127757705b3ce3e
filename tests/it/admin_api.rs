//! The Admin API in process: tokens and roles on every route, the life of
//! an item (create, edit, a stale edit refused, revisions, restore,
//! delete) and what the public site shows after each step.

use axum::http::StatusCode;
use casefile::accounts::Role;
use casefile::web::admin_api::types;
use serde_json::{Value, json};

use crate::app::TestApp;

/// Every route of the Admin API, for every type, with a method.
fn routes() -> Vec<(&'static str, String)> {
    let mut all = vec![("GET", "/api/admin/v1/users".to_owned()), ("GET", "/api/admin/v1/nothing/here/at/all".into())];
    for (name, _) in types() {
        all.push(("GET", format!("/api/admin/v1/{name}")));
        all.push(("POST", format!("/api/admin/v1/{name}")));
        all.push(("GET", format!("/api/admin/v1/{name}/some-key")));
        all.push(("PUT", format!("/api/admin/v1/{name}/some-key")));
        all.push(("DELETE", format!("/api/admin/v1/{name}/some-key")));
        all.push(("GET", format!("/api/admin/v1/{name}/some-key/revisions")));
        all.push(("POST", format!("/api/admin/v1/{name}/some-key/revisions/1/restore")));
    }
    all
}

#[tokio::test]
async fn every_route_needs_a_live_token_and_owner_routes_an_owner() {
    let app = TestApp::new().await;
    let editor = app.token_for("ed@example.org", Role::Editor).await;
    let owner = app.token_for("own@example.org", Role::Owner).await;
    let revoked = app.token_for("gone@example.org", Role::Owner).await;
    let id = app.state.store.tokens().await.unwrap().into_iter().find(|t| t.email == "gone@example.org").unwrap().id;
    app.state.store.revoke_token(id, 1).await.unwrap();

    for (method, path) in routes() {
        for auth in [None, Some("Bearer cf_not-a-token".to_owned()), Some(format!("Bearer {revoked}"))] {
            let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
            let (status, h, body) = app.request(method, &path, &headers, "{}").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {auth:?}: {body}");
            assert_eq!(h["www-authenticate"], "Bearer");
        }
        // A session cookie counts for nothing.
        let (status, ..) = app.request(method, &path, &[("cookie", "session=x")], "{}").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with a cookie");
    }
    let (status, ..) =
        app.request("GET", "/api/admin/v1/users", &[("authorization", &format!("Bearer {editor}"))], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an editor does not manage users");
    let (status, _, body) =
        app.request("GET", "/api/admin/v1/users", &[("authorization", &format!("Bearer {owner}"))], "").await;
    assert_eq!(status, StatusCode::OK);
    let users: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(users["users"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_item_is_created_edited_guarded_restored_and_deleted() {
    let app = TestApp::new().await;
    let token = app.token_for("ed@example.org", Role::Editor).await;
    let auth = format!("Bearer {token}");
    let call = |method: &'static str, path: String, extra: Vec<(&'static str, String)>, body: String| {
        let (app, auth) = (&app, auth.clone());
        async move {
            let mut headers = vec![("authorization", auth.as_str())];
            headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            let (status, h, text) = app.request(method, &path, &headers, &body).await;
            (status, h, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
        }
    };

    // Drafts are listed too; an item reads with its revision as ETag.
    let (status, _, list) = call("GET", "/api/admin/v1/news".into(), vec![], String::new()).await;
    assert_eq!(status, StatusCode::OK);
    let first = list["items"][0].clone();
    let key = first["key"].as_str().unwrap().to_owned();
    let (status, h, item) = call("GET", format!("/api/admin/v1/news/{key}"), vec![], String::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["etag"].to_str().unwrap(), format!("\"r{}\"", item["revision"]));

    // Create: what GET gave, under a new key and slugs.
    let mut new = item.clone();
    new["key"] = json!("api-post");
    new["en"]["slug"] = json!("api-post");
    new["en"]["title"] = json!("Posted through the API");
    new["de"]["slug"] = json!("api-beitrag");
    let (status, h, created) = call("POST", "/api/admin/v1/news".into(), vec![], new.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(h["location"], "/api/admin/v1/news/api-post");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(app.get("/news/api-post").await.body.contains("Posted through the API"), "shown at once");
    let (status, ..) = call("POST", "/api/admin/v1/news".into(), vec![], new.to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "the key is taken");

    // Replace: If-Match required, a stale one refused.
    let mut edited = created.clone();
    edited["en"]["title"] = json!("Edited through the API");
    edited["en"]["slug"] = json!("api-post-renamed");
    let put = |extra: Vec<(&'static str, String)>| {
        call("PUT", "/api/admin/v1/news/api-post".into(), extra, edited.to_string())
    };
    assert_eq!(put(vec![]).await.0, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(put(vec![("if-match", "\"r1\"".into())]).await.0, StatusCode::PRECONDITION_FAILED);
    let (status, h, stored) = put(vec![("if-match", etag.clone())]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["en"]["old_slugs"], json!(["api-post"]), "the old address is kept");
    assert_ne!(h["etag"].to_str().unwrap(), etag);
    assert_eq!(
        put(vec![("if-match", etag.clone())]).await.0,
        StatusCode::PRECONDITION_FAILED,
        "the old ETag is stale now"
    );
    assert!(app.get("/news/api-post-renamed").await.body.contains("Edited through the API"));
    let old = app.get("/news/api-post").await;
    assert_eq!((old.status, old.location.as_deref()), (StatusCode::MOVED_PERMANENTLY, Some("/news/api-post-renamed")));

    // Revisions, newest first; restoring the first brings the title back.
    let (_, _, revs) = call("GET", "/api/admin/v1/news/api-post/revisions".into(), vec![], String::new()).await;
    let revs = revs["revisions"].as_array().unwrap().clone();
    assert_eq!(revs.len(), 2);
    assert!(revs[0]["number"].as_i64() > revs[1]["number"].as_i64());
    assert_eq!(revs[0]["author"], "ed@example.org");
    let oldest = revs[1]["number"].as_i64().unwrap();
    let (status, _, restored) =
        call("POST", format!("/api/admin/v1/news/api-post/revisions/{oldest}/restore"), vec![], String::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(restored["en"]["title"], "Posted through the API");
    assert!(app.get("/news/api-post").await.body.contains("Posted through the API"));

    // Mistakes: 422 naming the field, 404 for unknown keys and types.
    let mut broken = created.clone();
    broken.as_object_mut().unwrap().remove("en");
    broken["key"] = json!("broken");
    let (status, _, err) = call("POST", "/api/admin/v1/news".into(), vec![], broken.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err["errors"][0]["field"].is_string() && err["errors"][0]["message"].is_string(), "{err}");
    let (status, _, err) = call("POST", "/api/admin/v1/news".into(), vec![], json!({ "x": 1 }).to_string()).await;
    assert_eq!((status, &err["errors"][0]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("key")));
    assert_eq!(call("GET", "/api/admin/v1/news/nope".into(), vec![], String::new()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call("GET", "/api/admin/v1/nope".into(), vec![], String::new()).await.0, StatusCode::NOT_FOUND);

    // Delete: to the trash, gone from the site.
    assert_eq!(
        call("DELETE", "/api/admin/v1/news/api-post".into(), vec![], String::new()).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(call("GET", "/api/admin/v1/news/api-post".into(), vec![], String::new()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/news/api-post").await.status, StatusCode::NOT_FOUND);
    assert!(app.state.store.trash(app.state.site_id).await.unwrap().iter().any(|t| t.key == "api-post"));
}
