//! The read-only Content API against its own OpenAPI document.

use serde_json::Value;

use crate::server::{Server, client};

async fn get_json(c: &reqwest::Client, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
    };
    (status, headers, v)
}

/// The properties a schema requires, following one `$ref`.
fn required<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a str> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    schema["required"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// An example value for a documented query parameter.
fn example(param: &Value) -> String {
    let s = &param["schema"];
    if let Some(e) = s["enum"].as_array().or(s["examples"].as_array()) {
        return e[0].as_str().unwrap().to_owned();
    }
    match param["name"].as_str().unwrap() {
        "since" => "1985".into(),
        "until" => "2019-12".into(),
        _ => s["default"].as_i64().unwrap_or(1).to_string(),
    }
}

#[tokio::test]
async fn every_documented_route_answers_as_documented() {
    let server = Server::start();
    let c = client();
    let (status, headers, doc) = get_json(&c, &server.url("/api/v1/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "a list and an item route per type");
    for (template, ops) in paths {
        let op = &ops["get"];
        let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
        let path = if template.contains("{key}") {
            // Take a real key from the list of that type.
            let list = template.trim_end_matches("/{key}");
            let (_, _, v) = get_json(&c, &server.url(list)).await;
            let key = v["items"][0]["key"].as_str().unwrap_or_else(|| panic!("{list} lists no item"));
            template.replace("{key}", key)
        } else {
            template.clone()
        };
        let (status, headers, body) = get_json(&c, &server.url(&path)).await;
        assert_eq!(status, 200, "GET {path}");
        assert_eq!(headers["content-type"], "application/json; charset=utf-8", "{path}");
        for prop in required(&doc, ok) {
            assert!(body.get(prop).is_some(), "{path} lacks the documented property `{prop}`: {body}");
        }
        if body.get("items").is_some() {
            for item in body["items"].as_array().unwrap() {
                assert!(item["key"].is_string(), "{path}: every item has a key");
            }
        }
        // Every documented query parameter is accepted with a valid value.
        for p in op["parameters"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            if p["in"] != "query" {
                continue;
            }
            let url = server.url(&format!("{path}?{}={}", p["name"].as_str().unwrap(), example(p)));
            let (status, _, body) = get_json(&c, &url).await;
            assert_eq!(status, 200, "GET {url}: {body}");
        }
        // An undocumented one is refused with a JSON error (for routes that take parameters).
        if op["responses"].get("400").is_some() {
            let (status, _, body) = get_json(&c, &server.url(&format!("{path}?sort=desc"))).await;
            assert_eq!(status, 400, "{path}?sort=desc");
            assert!(body["error"].as_str().unwrap().contains("sort"));
        }
    }
    let (status, _, body) = get_json(&c, &server.url("/api/v1/nothing")).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    assert_eq!(get_json(&c, &server.url("/api/v1/news/no-such-post")).await.0, 404);
}

#[tokio::test]
async fn lists_filter_paginate_and_validate() {
    let server = Server::start();
    let c = client();
    let (_, _, all) = get_json(&c, &server.url("/api/v1/press")).await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 12);

    let (_, _, pods) = get_json(&c, &server.url("/api/v1/press?kind=podcast&per_page=100")).await;
    let pods = pods["items"].as_array().unwrap().clone();
    assert!(!pods.is_empty() && pods.iter().all(|p| p["kind"] == "podcast"));

    let (_, _, recent) = get_json(&c, &server.url("/api/v1/timeline?since=2016&until=2019&per_page=100")).await;
    for e in recent["items"].as_array().unwrap() {
        let year: i32 = e["date"].as_str().unwrap()[..4].parse().unwrap();
        assert!((2016..=2019).contains(&year), "{}", e["date"]);
    }

    let (_, _, page1) = get_json(&c, &server.url("/api/v1/press?per_page=5")).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 5);
    let next = page1["next"].as_str().expect("a next link");
    let (_, _, page2) = get_json(&c, next).await;
    assert_eq!(page2["page"], 2);
    assert_ne!(page1["items"][0]["key"], page2["items"][0]["key"]);

    // One language only: the other language's text is gone at every depth.
    let (_, _, de) = get_json(&c, &server.url("/api/v1/people?lang=de")).await;
    let text = de.to_string();
    assert!(!text.contains("\"en\":"), "no English text left");
    assert!(text.contains("\"de\":"));

    // Pages and news also answer to their slugs.
    let (_, _, news) = get_json(&c, &server.url("/api/v1/news?per_page=1")).await;
    let slug = news["items"][0]["de"]["slug"].as_str().unwrap().to_owned();
    let (status, _, by_slug) = get_json(&c, &server.url(&format!("/api/v1/news/{slug}"))).await;
    assert_eq!(status, 200);
    assert_eq!(by_slug["key"], news["items"][0]["key"]);
    assert!(by_slug["page_urls"]["de"].as_str().unwrap().ends_with(&slug));

    for bad in [
        "/api/v1/press?kind=blog",
        "/api/v1/press?per_page=1000",
        "/api/v1/news?since=2019-13",
        "/api/v1/pages?since=2019",
    ] {
        assert_eq!(get_json(&c, &server.url(bad)).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn answers_carry_validators_and_cors_and_no_personal_data() {
    let server = Server::start();
    let c = client();
    let res = c.get(server.url("/api/v1/books")).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'));
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let res = c.get(server.url("/api/v1/books")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304);
    let res = c
        .request(reqwest::Method::OPTIONS, server.url("/api/v1/books"))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));
    assert!(c.post(server.url("/api/v1/books")).send().await.unwrap().status().is_client_error(), "read-only");

    let (_, _, petitions) = get_json(&c, &server.url("/api/v1/petitions")).await;
    let text = petitions.to_string();
    assert!(!text.contains("email") && !text.contains("signature\""), "{text}");
}
