//! What an operator watches: the Prometheus metrics on their own address,
//! the health checks and JSON logs with a request id on each line.

use std::time::{Duration, Instant};

use crate::forms::{post, submit, write_config};
use crate::server::{Server, client};

/// The value of the sample of `name` whose labels include `labels`, in a
/// Prometheus text exposition.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        let matches = (rest.is_empty() || rest.starts_with('{'))
            && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

async fn scrape(c: &reqwest::Client, metrics: &str) -> String {
    let res = c.get(metrics).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    res.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_the_cache_forms_and_mail_on_an_address_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(&data, "", "");
    let server = Server::start_with_env(
        &data,
        &["--config", config.to_str().unwrap(), "--metrics-listen", "127.0.0.1:0", "--log-format", "json"],
        &[("RUST_LOG", "info,casefile::web::observe=debug")],
    );
    let announced = server.early.iter().find_map(|l| l.split("metrics on ").nth(1)).expect("the metrics address");
    let metrics = announced.split('"').next().unwrap().to_owned();
    assert!(metrics.starts_with("http://127.0.0.1:") && metrics.ends_with("/metrics"), "{metrics}");
    let c = client();

    // Two looks at one page: a miss, then a hit.
    for _ in 0..2 {
        assert_eq!(c.get(server.url("/de/")).send().await.unwrap().status(), 200);
    }
    assert_eq!(c.get(server.url("/metrics")).send().await.unwrap().status(), 404, "never on the public port");
    assert_eq!(c.get(server.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(server.url("/readyz")).send().await.unwrap().status(), 200);
    let foreign = c
        .post(server.url("/newsletter"))
        .header("origin", "https://elsewhere.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let signed_up = submit(&c, &server, "/newsletter", &[("email", "reader@example.org"), ("consent", "yes")]).await;
    assert_eq!(signed_up.status(), 303);
    assert_eq!(post(&c, &server, "/newsletter", &[("email", "x")]).await.status(), 422, "no token: the form again");

    let text = scrape(&c, &metrics).await;
    let count = |name, labels: &[(&str, &str)]| sample(&text, name, labels).unwrap_or(0.0);
    assert!(count("casefile_http_requests_total", &[("route", "page"), ("status", "200")]) >= 2.0, "{text}");
    assert_eq!(count("casefile_http_requests_total", &[("route", "healthz"), ("status", "200")]), 1.0);
    assert!(count("casefile_http_request_duration_seconds_count", &[("route", "page")]) >= 4.0, "{text}");
    assert_eq!(count("casefile_http_request_duration_seconds_count", &[("route", "form")]), 3.0, "3 posts: {text}");
    assert_eq!(count("casefile_outbox_read_ok", &[]), 1.0);
    assert!(count("casefile_page_cache_lookups_total", &[("result", "hit")]) >= 1.0, "{text}");
    assert!(count("casefile_page_cache_lookups_total", &[("result", "miss")]) >= 1.0, "{text}");
    assert_eq!(count("casefile_form_refusals_total", &[("form", "newsletter"), ("reason", "origin")]), 1.0);
    assert_eq!(count("casefile_form_refusals_total", &[("form", "newsletter"), ("reason", "token")]), 1.0);
    assert_eq!(count("casefile_form_submissions_total", &[("form", "newsletter")]), 1.0);
    let max = count("casefile_db_connections_max", &[]);
    assert!(max >= 1.0 && count("casefile_db_connections", &[("state", "idle")]) <= max, "{text}");

    // The confirmation mail: queued, then sent by this process's worker.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(&c, &metrics).await;
        if sample(&text, "casefile_mails_total", &[("outcome", "sent")]) == Some(1.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "no mail counted as sent:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(sample(&text, "casefile_outbox_mails", &[("state", "sent")]), Some(1.0), "{text}");
    assert_eq!(sample(&text, "casefile_outbox_mails", &[("state", "queued")]), Some(0.0));
    assert_eq!(sample(&text, "casefile_outbox_oldest_queued_seconds", &[]), Some(0.0));

    // Every line is JSON; a request's lines carry the id it was answered with.
    let res = c.get(server.url("/de/fall")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = server
            .log
            .lock()
            .unwrap()
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line");
        let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if json["span"]["request_id"] == id.as_str() {
            assert_eq!(json["fields"]["message"], "answered", "{line}");
            assert_eq!(json["fields"]["route"], "page");
            break;
        }
    }
}

#[test]
fn metrics_must_not_share_the_public_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"))
        .args(["serve", "--listen", "127.0.0.1:18311", "--metrics-listen", "127.0.0.1:18311", "--data"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("metrics_listen must differ from listen"));
}
