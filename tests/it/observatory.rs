//! The response headers graded by the rules of the MDN HTTP Observatory
//! (its scoring as documented at developer.mozilla.org/en-US/observatory/docs/tests_and_scoring):
//! a start of 100, penalties for what is missing or weak, bonuses for what
//! is strict. A+ needs 100 or more. Reproduced here because the Observatory
//! itself only grades sites on the public internet.

use axum::http::{HeaderMap, StatusCode};

use crate::app::TestApp;

/// The score and the findings, per the Observatory's tests that depend on
/// response headers (redirection and subresource integrity depend on the
/// deployment and on third-party scripts, of which there are none).
fn grade(headers: &HeaderMap, https: bool) -> (i32, Vec<String>) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let mut score = 100;
    let mut findings = Vec::new();
    let mut note = |delta: i32, what: &str| {
        score += delta;
        findings.push(format!("{delta:+} {what}"));
    };

    // Content Security Policy.
    let csp = get("content-security-policy");
    let directive = |name: &str| {
        csp.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name)).map(str::to_owned)
    };
    let script = directive("script-src").or_else(|| directive("default-src")).unwrap_or_default();
    if csp.is_empty() {
        note(-25, "no CSP");
    } else if script.contains("'unsafe-inline'") || script.contains("data:") || script.contains(" *") {
        note(-20, "CSP allows inline or remote script");
    } else if script.contains("'unsafe-eval'") {
        note(-10, "CSP allows eval");
    } else if directive("default-src").is_some_and(|d| d.contains("'none'")) {
        note(10, "CSP default-src 'none' without unsafe sources");
    }
    // Cookies: every one Secure (over HTTPS), HttpOnly and SameSite.
    let cookies: Vec<String> =
        headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap_or("").to_ascii_lowercase()).collect();
    if cookies.iter().any(|c| https && !c.contains("; secure")) {
        note(-20, "a cookie without Secure");
    }
    if cookies.iter().any(|c| !c.contains("; httponly")) {
        note(-30, "a cookie without HttpOnly");
    }
    if !cookies.is_empty() && cookies.iter().all(|c| c.contains("; samesite=strict") || c.contains("; samesite=lax")) {
        note(5, "every cookie SameSite");
    }
    // Strict-Transport-Security (HTTPS only).
    if https {
        let hsts = get("strict-transport-security");
        let max_age = hsts
            .split(';')
            .find_map(|p| p.trim().strip_prefix("max-age=").and_then(|v| v.parse::<u64>().ok()))
            .unwrap_or(0);
        if hsts.is_empty() {
            note(-20, "no HSTS");
        } else if max_age < 15_768_000 {
            note(-10, "HSTS max-age under six months");
        } else if hsts.contains("preload") {
            note(5, "HSTS preloaded");
        }
    }
    // Referrer-Policy.
    match get("referrer-policy").as_str() {
        "no-referrer" | "same-origin" | "strict-origin" | "strict-origin-when-cross-origin" => {
            note(5, "private Referrer-Policy")
        }
        "unsafe-url" | "no-referrer-when-downgrade" => note(-5, "leaky Referrer-Policy"),
        _ => {}
    }
    // X-Content-Type-Options.
    if get("x-content-type-options") != "nosniff" {
        note(-5, "no nosniff");
    }
    // Framing: frame-ancestors in the CSP, or X-Frame-Options.
    if directive("frame-ancestors").is_some_and(|d| d.contains("'none'") || d.contains("'self'")) {
        note(5, "CSP frame-ancestors");
    } else if !matches!(get("x-frame-options").as_str(), "deny" | "sameorigin") {
        note(-20, "can be framed");
    }
    // CORS: only the read-only API may be read from other origins.
    if get("access-control-allow-origin") == "*" && get("access-control-allow-credentials") == "true" {
        note(-50, "credentials readable cross-origin");
    }
    (score, findings)
}

#[tokio::test]
async fn public_pages_and_the_admin_grade_a_plus() {
    let app = TestApp::builder().config(|c| c.base_url = Some("https://campaign.example".into())).build().await;
    for path in ["/", "/de/chronik", "/newsletter", "/search?q=dna", "/no-such-page", "/api/v1/news", "/admin/sign-in"]
    {
        let (_, headers, _) = app.get_raw(path, &[]).await;
        let (score, findings) = grade(&headers, true);
        assert!(score >= 100, "{path}: {score} (A+ needs 100): {findings:?}");
    }
    // A signed-in editor's session cookie.
    let email = "grade@example.org";
    app.state
        .store
        .add_user(
            email,
            casefile::accounts::Role::Editor,
            &casefile::accounts::hash_password("a long and unusual passphrase"),
            0,
        )
        .await
        .unwrap();
    let body = "email=grade%40example.org&password=a+long+and+unusual+passphrase";
    let (status, headers, _) = app
        .request(
            "POST",
            "/admin/sign-in",
            &[("content-type", "application/x-www-form-urlencoded"), ("origin", "https://campaign.example")],
            body,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers.contains_key("set-cookie"));
    let (score, findings) = grade(&headers, true);
    assert!(score >= 100, "sign-in: {score}: {findings:?}");
    assert!(findings.iter().any(|f| f.contains("SameSite")), "{findings:?}");
}

#[test]
fn the_grader_fails_weak_headers() {
    let mut weak = HeaderMap::new();
    weak.insert("content-security-policy", "script-src 'self' 'unsafe-inline'".parse().unwrap());
    weak.insert("set-cookie", "s=1; Path=/".parse().unwrap());
    let (score, findings) = grade(&weak, true);
    assert!(score < 50, "{score}: {findings:?}");
    assert!(grade(&HeaderMap::new(), false).0 < 100);
}
