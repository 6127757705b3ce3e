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
    // A document naming a file that was never uploaded is refused, and the
    // name stays free for the upload.
    let (_, _, doc) = call("GET", "/api/admin/v1/documents/griffiths-report-2016".into(), vec![], String::new()).await;
    let mut doc = doc.clone();
    doc["key"] = json!("api-document");
    doc["file"] = json!("never-uploaded-2016.pdf");
    let (status, _, err) = call("POST", "/api/admin/v1/documents".into(), vec![], doc.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err.to_string().contains("not among the uploaded files"), "{err}");
    assert!(app.state.store.file("never-uploaded-2016.pdf").await.unwrap().is_none(), "no file recorded");

    // Delete: to the trash, gone from the site.
    assert_eq!(
        call("DELETE", "/api/admin/v1/news/api-post".into(), vec![], String::new()).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(call("GET", "/api/admin/v1/news/api-post".into(), vec![], String::new()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/news/api-post").await.status, StatusCode::NOT_FOUND);
    assert!(app.state.store.trash(app.state.site_id).await.unwrap().iter().any(|t| t.key == "api-post"));
}

/// Every route the OpenAPI document names, with every method, answers with
/// one of the statuses it documents: reads succeed, a replacement of an
/// item with itself succeeds, a copy under a new key is created (or
/// refused as documented), revisions restore, and deletion moves to the
/// trash. Routes and document come from the same list of types.
#[tokio::test]
async fn every_documented_admin_route_answers_as_documented() {
    let app = TestApp::new().await;
    let owner = format!("Bearer {}", app.token_for("own@example.org", Role::Owner).await);
    let (status, _, text) = app.request("GET", "/api/admin/v1/openapi.json", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), types().count() * 4 + 1, "four routes per type, and the users");
    let call = |method: &'static str, path: String, extra: Vec<(&'static str, String)>, body: String| {
        let (app, auth) = (&app, owner.clone());
        async move {
            let mut headers = vec![("authorization", auth.as_str())];
            headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            let (status, h, text) = app.request(method, &path, &headers, &body).await;
            (status, h, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
        }
    };
    let documented = |template: &str, method: &str, status: StatusCode| {
        let responses = &paths[template][method]["responses"];
        assert!(
            responses.get(status.as_str()).is_some(),
            "{method} {template} answered {status}, which is not documented"
        );
    };
    for (name, _) in types() {
        let list = format!("/api/admin/v1/{name}");
        let (status, _, items) = call("GET", list.clone(), vec![], String::new()).await;
        documented(&list, "get", status);
        assert_eq!(status, StatusCode::OK);
        let Some(first) = items["items"].as_array().and_then(|a| a.first()).cloned() else { continue };
        let key = first["key"].as_str().unwrap().to_owned();
        let item_t = format!("/api/admin/v1/{name}/{{key}}");
        let item_path = format!("/api/admin/v1/{name}/{key}");

        let (status, h, item) = call("GET", item_path.clone(), vec![], String::new()).await;
        documented(&item_t, "get", status);
        assert_eq!(status, StatusCode::OK);
        let etag = h["etag"].to_str().unwrap().to_owned();
        let (status, ..) = call("PUT", item_path.clone(), vec![("if-match", etag)], item.to_string()).await;
        documented(&item_t, "put", status);
        assert_eq!(status, StatusCode::OK, "PUT {item_path} with itself");

        // A copy under a new key, its slugs changed: created, or refused as documented.
        let mut copy = item.clone();
        copy["key"] = json!(format!("{key}-copy"));
        for lang in ["en", "de"] {
            if let Some(slug) = copy[lang]["slug"].as_str().filter(|s| !s.is_empty()) {
                copy[lang]["slug"] = json!(format!("{slug}-copy"));
            }
        }
        let (status, ..) = call("POST", list.clone(), vec![], copy.to_string()).await;
        documented(&list, "post", status);

        let revs_t = format!("{item_t}/revisions");
        let (status, _, revs) = call("GET", format!("{item_path}/revisions"), vec![], String::new()).await;
        documented(&revs_t, "get", status);
        assert_eq!(status, StatusCode::OK);
        let oldest = revs["revisions"].as_array().unwrap().last().unwrap()["number"].as_i64().unwrap();
        let restore_t = format!("{revs_t}/{{number}}/restore");
        let (status, ..) = call("POST", format!("{item_path}/revisions/{oldest}/restore"), vec![], String::new()).await;
        documented(&restore_t, "post", status);
        assert_eq!(status, StatusCode::OK);

        let (status, ..) = call("DELETE", item_path.clone(), vec![], String::new()).await;
        documented(&item_t, "delete", status);
        assert!(status == StatusCode::NO_CONTENT || status == StatusCode::CONFLICT, "DELETE {item_path}: {status}");
    }
    let (status, ..) = call("GET", "/api/admin/v1/users".into(), vec![], String::new()).await;
    documented("/api/admin/v1/users", "get", status);
    assert_eq!(status, StatusCode::OK);
}

/// An edit's page is served at once; its search results follow when the
/// index, built in the background, is ready (bounded wait here).
#[tokio::test]
async fn search_follows_an_edit() {
    let app = TestApp::new().await;
    let auth = format!("Bearer {}", app.token_for("ed@example.org", Role::Editor).await);
    let path = "/api/admin/v1/news/2019-11-25-released-on-parole";
    let (_, h, text) = app.request("GET", path, &[("authorization", auth.as_str())], "").await;
    let mut item: Value = serde_json::from_str(&text).unwrap();
    item["en"]["body"] = json!("A zebrafinch was seen.");
    let etag = h["etag"].to_str().unwrap().to_owned();
    let headers = [("authorization", auth.as_str()), ("if-match", etag.as_str())];
    assert_eq!(app.request("PUT", path, &headers, &item.to_string()).await.0, StatusCode::OK);
    let slug = item["en"]["slug"].as_str().unwrap();
    assert!(app.get(&format!("/news/{slug}")).await.body.contains("zebrafinch"), "the page at once");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if app.get("/search?q=zebrafinch").await.body.contains(slug) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "search never found the edit");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
