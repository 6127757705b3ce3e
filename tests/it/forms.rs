//! The forms over real HTTP with a real SMTP server: newsletter double
//! opt-in, contact, petition, "manage my data", outages and crashes, and
//! bad input.

use std::path::Path;
use std::time::Duration;

use scraper::{Html, Selector};

use crate::server::{Server, client};
use crate::smtp::{self, SmtpServer};

/// The minimum fill time the tests configure (the default is 3 s).
const MIN_FILL: Duration = Duration::from_millis(400);

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Starts a server whose mail goes to `smtp_url` (or, if empty, to `.eml`
/// files), with test-friendly form timing plus `extra` config lines.
pub(crate) fn start(data: &Path, smtp_url: &str, extra: &str) -> Server {
    start_with_args(data, smtp_url, extra, &[])
}

/// [`start`] with extra `serve` arguments.
pub(crate) fn start_with_args(data: &Path, smtp_url: &str, extra: &str, args: &[&str]) -> Server {
    let config = write_config(data, smtp_url, extra);
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    Server::start_with(data, &all)
}

/// Writes the config file [`start`] uses into `data` and returns its path.
pub(crate) fn write_config(data: &Path, smtp_url: &str, extra: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(data).unwrap();
    let config = data.join("casefile.toml");
    std::fs::write(
        &config,
        format!(
            "{}mail_from = \"Campaign <team@example.org>\"\ncontact_to = \"inbox@example.org\"\n\
             form_min_seconds = {}\nmail_retry_seconds = 1\n{extra}",
            if smtp_url.is_empty() { String::new() } else { format!("smtp_url = \"{smtp_url}\"\n") },
            MIN_FILL.as_secs_f64()
        ),
    )
    .unwrap();
    config
}

/// The token and action of the first form with a token on the page at `path`.
async fn form(c: &reqwest::Client, server: &Server, path: &str) -> (String, String) {
    let res = c.get(server.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    assert!(res.headers().get("set-cookie").is_none(), "a form page sets no cookie");
    let doc = Html::parse_document(&res.text().await.unwrap());
    let form = doc
        .select(&sel("form"))
        .find(|f| f.select(&sel("input[name=token]")).next().is_some())
        .unwrap_or_else(|| panic!("no form with a token on {path}"));
    let token = form.select(&sel("input[name=token]")).next().unwrap().attr("value").unwrap().to_owned();
    let action = form.attr("action").unwrap().split('#').next().unwrap().to_owned();
    (token, action)
}

pub(crate) async fn post(
    c: &reqwest::Client,
    server: &Server,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    c.post(server.url(path))
        .header("origin", &server.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(fields))
        .send()
        .await
        .unwrap()
}

fn encode(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Fills in the form on `page` like a person: load, wait, send.
pub(crate) async fn submit(
    c: &reqwest::Client,
    server: &Server,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (token, action) = form(c, server, page).await;
    tokio::time::sleep(MIN_FILL + Duration::from_millis(100)).await;
    let mut all = vec![("token", token.as_str())];
    all.extend_from_slice(fields);
    post(c, server, &action, &all).await
}

/// Opens a mailed link (a GET, as a mail scanner would), then presses the
/// page's button. Returns the final page's text.
pub(crate) async fn follow(c: &reqwest::Client, server: &Server, link: &str) -> String {
    let res = c.get(link).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {link}");
    let doc = Html::parse_document(&res.text().await.unwrap());
    let form = doc.select(&sel("main form")).next().expect("the link opens a page with a button");
    let action = form.attr("action").unwrap().to_owned();
    let t = form.select(&sel("input[name=t]")).next().unwrap().attr("value").unwrap().to_owned();
    let res = post(c, server, &action, &[("t", &t)]).await;
    assert_eq!(res.status(), 200, "POST {action}");
    res.text().await.unwrap()
}

/// The petition page once it shows `text`: the count on it is up to a
/// second old. Gives up after three seconds and returns the page.
pub(crate) async fn petition_page_showing(c: &reqwest::Client, server: &Server, text: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let page = c.get(server.url("/pardon")).send().await.unwrap().text().await.unwrap();
        if page.contains(text) || std::time::Instant::now() > deadline {
            assert!(page.contains(text), "the petition page should show {text:?}");
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `casefile outbox` says about the data folder `data`.
fn outbox(data: &Path) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["outbox", "--data"]).arg(data);
    crate::db::point(&mut cmd);
    cmd.output().unwrap()
}

/// Every text value in every table that contains `needle`, as `table:
/// value` (on PostgreSQL, the whole row as JSON).
async fn rows_mentioning(data: &Path, needle: &str) -> Vec<String> {
    use sqlx::{Column, Row};
    let pool = crate::db::pool(data).await;
    let postgres = crate::db::url_for(data).is_some();
    let tables: Vec<String> = sqlx::query_scalar(if postgres {
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    })
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut hits = Vec::new();
    // sqlx's own bookkeeping holds no personal data (and a type `Any` cannot read).
    for t in tables.into_iter().filter(|t| t != "_sqlx_migrations") {
        let select = if postgres {
            format!("SELECT to_jsonb(t)::text FROM \"{t}\" t")
        } else {
            format!("SELECT * FROM \"{t}\"")
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch_all(&pool).await.unwrap();
        for row in rows {
            for col in row.columns() {
                if let Ok(Some(v)) = row.try_get::<Option<String>, _>(col.ordinal())
                    && v.contains(needle)
                {
                    hits.push(format!("{t}.{}: {v}", col.name()));
                }
            }
        }
    }
    pool.close().await;
    hits
}

#[tokio::test]
async fn newsletter_double_opt_in_welcome_and_one_click_unsubscribe() {
    if !smtp::available("newsletter_double_opt_in") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "");
    let c = client();

    let res =
        submit(&c, &server, "/newsletter", &[("name", "Ann"), ("email", "Ann@Example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/newsletter/thanks");
    let thanks = c.get(server.url("/newsletter/thanks")).send().await.unwrap().text().await.unwrap();
    assert!(thanks.contains("Please check your inbox"), "{thanks}");

    let confirm = smtp.wait_for("ann@example.org", 1).remove(0);
    assert!(confirm.subject.contains("confirm"), "{}", confirm.subject);
    assert!(!confirm.html.is_empty() && !confirm.text.is_empty(), "an HTML and a plain-text part");
    assert!(confirm.message_id.ends_with("@example.org"), "{}", confirm.message_id);
    let link = confirm.link("/newsletter/confirm?t=");

    // A mail scanner's GET (and HEAD) changes nothing: no welcome mail.
    assert_eq!(c.head(&link).send().await.unwrap().status(), 200);
    assert!(c.get(&link).send().await.unwrap().text().await.unwrap().contains("Confirm subscription"));
    assert_eq!(smtp.settled("ann@example.org", Duration::from_millis(1500)).len(), 1, "GET did not confirm");

    let page = follow(&c, &server, &link).await;
    assert!(page.contains("Subscription confirmed"), "{page}");
    let mails = smtp.wait_for("ann@example.org", 2);
    let welcome = &mails[1];
    assert!(welcome.text.contains("Ann"), "{}", welcome.text);
    assert!(
        welcome.raw_headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        welcome.raw_headers
    );
    let unsubscribe = welcome.link("/newsletter/unsubscribe?t=");
    assert!(welcome.raw_headers.contains(&format!("List-Unsubscribe: <{unsubscribe}>")), "{}", welcome.raw_headers);

    // Confirming twice is harmless; subscribing again while subscribed gives
    // the same answer and sends nothing (no second welcome).
    follow(&c, &server, &link).await;
    let res = submit(&c, &server, "/newsletter", &[("email", "ann@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(smtp.settled("ann@example.org", Duration::from_millis(1500)).len(), 2);

    // RFC 8058 one-click: the mail client POSTs without Origin or token field.
    let res = c
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("You have been unsubscribed"));
    let pool = crate::db::pool(&server.data).await;
    let status: String = sqlx::query_scalar("SELECT status FROM subscribers WHERE email = 'ann@example.org'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "unsubscribed");
    let consent: (String, String, Option<i64>) =
        sqlx::query_as("SELECT text, ip, confirmed_at FROM consents WHERE email = 'ann@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(consent.0.contains("newsletter"), "the consent text is kept: {}", consent.0);
    assert_eq!(consent.1, "127.0.0.0", "the IP is kept shortened");
    assert!(consent.2.is_some(), "the confirmation is recorded");
}

#[tokio::test]
async fn german_sign_up_gets_german_mail_and_one_mail_a_day_at_most() {
    if !smtp::available("german_sign_up") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "");
    let c = client();
    // The home page's short form posts to the newsletter page.
    let (_, action) = form(&c, &server, "/de/").await;
    assert_eq!(action, "/de/newsletter");
    for _ in 0..3 {
        let res = submit(&c, &server, "/de/", &[("email", "bea@example.org"), ("consent", "yes")]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/de/newsletter/thanks");
    }
    let mails = smtp.settled("bea@example.org", Duration::from_millis(2000));
    assert_eq!(mails.len(), 1, "three sign-ups, one confirmation mail a day");
    assert!(mails[0].subject.contains("bestätigen"), "{}", mails[0].subject);
    assert!(mails[0].text.contains("/de/newsletter/confirm?t="), "{}", mails[0].text);
}

#[tokio::test]
async fn contact_messages_reach_the_team_with_reply_to_and_escaped_html() {
    if !smtp::available("contact") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "");
    let c = client();
    let payload = "<script>alert(1)</script> & \"quotes\"";
    let res = submit(
        &c,
        &server,
        "/contact",
        &[
            ("name", "Carl <b>"),
            ("email", "carl@example.org"),
            ("subject", "Interview\r\nBcc: evil@example.org"),
            ("message", payload),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let mail = smtp.wait_for("inbox@example.org", 1).remove(0);
    assert_eq!(mail.reply_to.as_deref(), Some("carl@example.org"));
    assert!(mail.text.contains(payload), "the plain text keeps the message as typed");
    assert!(!mail.html.contains("<script>") && mail.html.contains("&lt;script&gt;"), "{}", mail.html);
    assert!(smtp.mails().iter().all(|m| m.to != "carl@example.org"), "nothing is mailed to the visitor");
    assert!(mail.subject.contains("Interview") && !mail.raw_headers.contains("\nBcc:"), "{}", mail.raw_headers);
    assert!(smtp.settled("evil@example.org", Duration::from_millis(500)).is_empty(), "no injected recipient");
}

#[tokio::test]
async fn petition_signatures_count_once_confirmed() {
    if !smtp::available("petition") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "");
    let c = client();
    let page = c.get(server.url("/pardon")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("0 confirmed signatures"), "the count starts at zero");

    let res = submit(
        &c,
        &server,
        "/pardon",
        &[
            ("name", "Dora <i>X</i>"),
            ("email", "dora@example.org"),
            ("country", "Germany"),
            ("show_name", "yes"),
            ("consent", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/pardon/thanks");
    let page = c.get(server.url("/pardon")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("0 confirmed signatures"), "an unconfirmed signature does not count");

    let link = smtp.wait_for("dora@example.org", 1)[0].link("/pardon/confirm?t=");
    // The link's page shows what will be public, before anything is.
    let landing = c.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(landing.contains("<dd>Dora &lt;i&gt;X&lt;&#x2f;i&gt;</dd><dt>Country</dt><dd>Germany</dd>"), "{landing}");
    assert!(landing.contains("Your name and country are shown"), "{landing}");
    assert!(follow(&c, &server, &link).await.contains("Thank you for signing"));
    let res = submit(
        &c,
        &server,
        "/de/begnadigung",
        &[("name", "Emil"), ("email", "emil@example.org"), ("country", "Österreich"), ("consent", "yes")],
    )
    .await;
    assert_eq!(res.headers()["location"], "/de/begnadigung/thanks");
    let mail = smtp.wait_for("emil@example.org", 1).remove(0);
    assert!(!mail.text.contains("Emil"), "a stranger's text never reaches a confirmation mail");
    let landing = c.get(mail.link("/de/begnadigung/confirm?t=")).send().await.unwrap().text().await.unwrap();
    assert!(landing.contains("Nicht gezeigt: Ihre Unterschrift wird nur gezählt"), "{landing}");
    follow(&c, &server, &mail.link("/de/begnadigung/confirm?t=")).await;

    let page = petition_page_showing(&c, &server, "2 confirmed signatures").await;
    assert!(page.contains("Dora &lt;i&gt;X&lt;&#x2f;i&gt;, Germany"), "shown by consent, escaped");
    assert!(!page.contains("Emil"), "a signer who did not agree is not named");
}

#[tokio::test]
async fn my_data_shows_exports_and_erases_everything_about_an_address() {
    if !smtp::available("my_data") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "");
    let c = client();
    let who = "fay@example.org";
    submit(&c, &server, "/newsletter", &[("email", who), ("consent", "yes")]).await;
    follow(&c, &server, &smtp.wait_for(who, 1)[0].link("/confirm?t=")).await;
    submit(&c, &server, "/pardon", &[("name", "Fay"), ("email", who), ("country", "UK"), ("consent", "yes")]).await;
    submit(
        &c,
        &server,
        "/contact",
        &[("name", "Fay"), ("email", who), ("subject", "Hello"), ("message", "A question")],
    )
    .await;
    smtp.wait_for(who, 3);

    // Asking for an unknown address answers the same and sends nothing.
    let res = submit(&c, &server, "/my-data", &[("email", "nobody@example.org")]).await;
    assert_eq!(res.headers()["location"], "/my-data/thanks");
    let res = submit(&c, &server, "/my-data", &[("email", who)]).await;
    assert_eq!(res.headers()["location"], "/my-data/thanks");
    let mails = smtp.wait_for(who, 4);
    assert!(smtp.mails().iter().all(|m| m.to != "nobody@example.org"));
    let view = mails[3].link("/my-data/view?t=");

    let page = c.get(&view).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(who) && page.contains("A question") && page.contains("UK"), "{page}");
    let token = view.split("t=").nth(1).unwrap();
    let res = c.get(server.url(&format!("/my-data/export?t={token}"))).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json; charset=utf-8");
    let json: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(json["email"], who);
    assert_eq!(json["subscriptions"][0]["status"], "confirmed");
    assert_eq!(json["signatures"][0]["petition"], "pardon-support");
    assert_eq!(json["messages"][0]["body"], "A question");
    assert!(json["consents"].as_array().unwrap().len() >= 2, "newsletter and petition consents");

    assert!(!rows_mentioning(&server.data, who).await.is_empty());
    let res = post(&c, &server, "/my-data/erase", &[("t", token)]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("has been erased"));
    let left = rows_mentioning(&server.data, who).await;
    assert!(left.is_empty(), "erasure leaves nothing behind: {left:#?}");
    // The link is dead now.
    assert_eq!(c.get(&view).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn mail_queued_while_smtp_is_down_goes_out_once_it_is_back() {
    if !smtp::available("smtp_down") {
        return;
    }
    let port = smtp::free_port();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &format!("smtp://127.0.0.1:{port}"), "");
    let c = client();
    let started = std::time::Instant::now();
    let res = submit(
        &c,
        &server,
        "/contact",
        &[("name", "Gus"), ("email", "gus@example.org"), ("subject", "S"), ("message", "M")],
    )
    .await;
    assert_eq!(res.status(), 303, "the visitor gets success while the mail server is down");
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let smtp = SmtpServer::start_on(port);
    let mails = smtp.wait_for("inbox@example.org", 1);
    assert_eq!(mails.len(), 1);
    assert_eq!(smtp.settled("inbox@example.org", Duration::from_secs(3)).len(), 1, "sent once");
}

#[tokio::test]
async fn an_answered_submission_survives_kill_9_and_its_mail_goes_out_once() {
    if !smtp::available("kill_9") {
        return;
    }
    let port = smtp::free_port();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &format!("smtp://127.0.0.1:{port}"), "");
    let c = client();
    let res = submit(
        &c,
        &server,
        "/pardon",
        &[("name", "Hal"), ("email", "hal@example.org"), ("country", "US"), ("consent", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let old_base = server.base.clone();
    server.kill_hard();

    let smtp = SmtpServer::start_on(port);
    let server = start(&data, &smtp.url(), "");
    let mails = smtp.wait_for("hal@example.org", 1);
    assert_eq!(smtp.settled("hal@example.org", Duration::from_secs(3)).len(), 1, "exactly once");
    // The link names the address of the first process; the second listens elsewhere.
    let link = mails[0].link("/pardon/confirm?t=").replace(&old_base, &server.base);
    follow(&c, &server, &link).await;
    let page = c.get(server.url("/pardon")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("1 confirmed signature"), "the signature survived the crash");
}

#[tokio::test]
async fn bad_input_comes_back_with_errors_and_nothing_is_stored_or_sent() {
    if !smtp::available("bad_input") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "form_rate_limit = 5\n");
    let c = client();

    // Field errors: 422, the form filled in again, the error by the field.
    let xss = "\"><script>alert(1)</script>";
    let res = submit(
        &c,
        &server,
        "/contact",
        &[("name", xss), ("email", "not-an-address"), ("subject", ""), ("message", &"x".repeat(5001))],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(!body.contains("<script>alert(1)"), "the echo is escaped");
    let doc = Html::parse_document(&body);
    let name = doc.select(&sel("#contact-name")).next().unwrap();
    assert_eq!(name.attr("value"), Some(xss), "what was typed comes back");
    assert_eq!(doc.select(&sel("#contact-email")).next().unwrap().attr("aria-invalid"), Some("true"));
    assert!(
        doc.select(&sel("#contact-email-error")).next().unwrap().text().collect::<String>().contains("valid email")
    );
    assert!(doc.select(&sel("#contact-subject-error")).next().is_some());
    assert!(doc.select(&sel("#contact-message-error")).next().unwrap().text().collect::<String>().contains("5000"));
    assert!(doc.select(&sel("#contact-name-error")).next().is_none(), "a good field has no error");

    // German errors on German pages.
    let res = submit(&c, &server, "/de/newsletter", &[("email", "x@example.org")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Bitte"), "German error text");

    // Sent too fast, no token, a forged token: the form comes back.
    let (token, _) = form(&c, &server, "/newsletter").await;
    let res =
        post(&c, &server, "/newsletter", &[("token", &token), ("email", "i@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("only seconds after"));
    let res = post(&c, &server, "/newsletter", &[("email", "i@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 422);
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    let res =
        post(&c, &server, "/newsletter", &[("token", &forged), ("email", "i@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 422);

    // A cross-site post is refused.
    let res = c
        .post(server.url("/newsletter"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("token", &token), ("email", "i@example.org"), ("consent", "yes")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // A bot that fills the honeypot is told "thanks" and nothing happens.
    let res = submit(
        &c,
        &server,
        "/newsletter",
        &[("email", "bot@example.org"), ("consent", "yes"), ("website", "http://spam")],
    )
    .await;
    assert_eq!(res.status(), 303);

    // Rate limit: five newsletter posts so far from this address; the next is refused.
    let res = submit(&c, &server, "/newsletter", &[("email", "j@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Other forms keep their own count.
    let res = submit(&c, &server, "/my-data", &[("email", "j@example.org")]).await;
    assert_eq!(res.status(), 303);

    // Nothing above was stored or mailed.
    assert!(smtp.settled("bot@example.org", Duration::from_millis(1500)).is_empty());
    assert!(smtp.mails().is_empty(), "no mail at all: {:#?}", smtp.mails());
    for who in ["i@example.org", "bot@example.org", "j@example.org", "x@example.org"] {
        assert!(rows_mentioning(&server.data, who).await.is_empty(), "{who} stored");
    }
}

/// Markup, template syntax and SQL in every field of every form: escaped
/// when the form comes back, escaped in the HTML mails, taken literally.
#[tokio::test]
async fn payloads_in_every_field_are_escaped_in_pages_and_mails() {
    if !smtp::available("payloads") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), &smtp.url(), "form_rate_limit = 100\n");
    let c = client();
    const PAYLOADS: [&str; 5] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "{{ 7*7 }}{% if true %}x{% endif %}",
        "' OR '1'='1'; DROP TABLE subscribers; --",
        "</textarea><svg onload=alert(1)>",
    ];
    let forms: [(&str, &[&str]); 4] = [
        ("/newsletter", &["name"]),
        ("/contact", &["name", "subject", "message"]),
        ("/pardon", &["name", "country"]),
        ("/my-data", &[]),
    ];
    for (page, fields) in forms {
        for p in PAYLOADS {
            // With a bad address the form comes back, echoing every field.
            let mut all: Vec<(&str, &str)> = fields.iter().map(|f| (*f, p)).collect();
            all.push(("email", p));
            let res = submit(&c, &server, page, &all).await;
            assert_eq!(res.status(), 422, "{page} with {p}");
            let body = res.text().await.unwrap();
            for raw in ["<script>alert", "<img src=x", "<svg onload", "</textarea><svg"] {
                assert!(!body.contains(raw), "{page} reflects {raw} unescaped");
            }
            assert!(!body.contains(">49<") && !body.contains("\"49\""), "{page} evaluated template syntax");
        }
    }
    // Accepted submissions: the payloads travel into the HTML mails escaped.
    for (i, p) in PAYLOADS.iter().enumerate() {
        let email = format!("p{i}@example.org");
        submit(&c, &server, "/newsletter", &[("name", p), ("email", &email), ("consent", "yes")]).await;
        submit(&c, &server, "/contact", &[("name", p), ("email", &email), ("subject", p), ("message", p)]).await;
        let mail = smtp.wait_for(&email, 1).remove(0);
        for raw in ["<script>alert", "<img src=x", "<svg onload"] {
            assert!(!mail.html.contains(raw), "confirmation mail HTML: {}", mail.html);
        }
    }
    let team = smtp.wait_for("inbox@example.org", PAYLOADS.len());
    for (m, p) in team.iter().zip(PAYLOADS) {
        assert!(m.text.contains(p), "the plain text keeps the message as typed");
        for raw in ["<script>alert", "<img src=x", "<svg onload"] {
            assert!(!m.html.contains(raw), "team mail HTML: {}", m.html);
        }
    }
    // The SQL payload was data, not code.
    assert!(!rows_mentioning(&server.data, "DROP TABLE subscribers").await.is_empty());
}

/// With no SMTP server configured, the whole flow works through `.eml` files
/// in the data folder, and an erasure deletes those files too.
#[tokio::test]
async fn without_smtp_mail_goes_to_files_and_erasure_deletes_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("data"), "", "");
    let mail_dir = server.data.join("mail");
    let c = client();
    let files_to = |who: &str| -> Vec<crate::smtp::Mail> {
        std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.filter_map(|e| std::fs::read(e.unwrap().path()).ok()).map(|b| smtp::parse(&b)).collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|m: &crate::smtp::Mail| m.to == who)
            .collect()
    };
    let wait = |who: &str, n: usize| {
        for _ in 0..100 {
            if files_to(who).len() >= n {
                return files_to(who);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no {n} mail files to {who}");
    };
    let who = "kim@example.org";
    submit(&c, &server, "/newsletter", &[("email", who), ("consent", "yes")]).await;
    let link = wait(who, 1)[0].link("/newsletter/confirm?t=");
    assert!(follow(&c, &server, &link).await.contains("Subscription confirmed"));
    wait(who, 2);
    submit(&c, &server, "/my-data", &[("email", who)]).await;
    let mails = wait(who, 3);
    let view = mails.iter().find(|m| m.text.contains("/my-data/view?t=")).unwrap().link("/my-data/view?t=");
    let token = view.split("t=").nth(1).unwrap().to_owned();
    assert_eq!(post(&c, &server, "/my-data/erase", &[("t", &token)]).await.status(), 200);
    assert!(files_to(who).is_empty(), "the mail files about the address are gone");
    assert!(rows_mentioning(&server.data, who).await.is_empty());
    // No file of the data folder holds a copy, the write-ahead log included.
    let holding: Vec<_> = entries_under(&server.data)
        .into_iter()
        .filter(|p| p.is_file() && std::fs::read(p).unwrap().windows(who.len()).any(|w| w == who.as_bytes()))
        .collect();
    assert!(holding.is_empty(), "erased, yet still in {holding:?}");
    // Everything Casefile made in it is its owner's alone: files 0600,
    // folders 0700 (the test wrote the config file).
    use std::os::unix::fs::PermissionsExt;
    let made = entries_under(&server.data).into_iter().filter(|p| !p.ends_with("casefile.toml"));
    for p in made.chain([server.data.clone()]) {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is open to others: {:o}", p.display(), mode & 0o777);
    }
}

/// Every file and folder below `dir`.
pub(crate) fn entries_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(entries_under(&path));
        }
        found.push(path);
    }
    found
}

/// `?tls=required` never falls back to plain text: against a server without
/// STARTTLS nothing is delivered; the mail waits, and after its last try the
/// operator sees it in `casefile outbox`.
#[tokio::test]
async fn required_tls_is_never_downgraded_and_given_up_mail_is_visible() {
    if !smtp::available("tls_required") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &format!("{}?tls=required", smtp.url()), "mail_max_attempts = 1\n");
    let c = client();
    let res = submit(
        &c,
        &server,
        "/contact",
        &[("name", "Lu"), ("email", "lu@example.org"), ("subject", "S"), ("message", "M")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(smtp.settled("inbox@example.org", Duration::from_secs(2)).is_empty(), "nothing sent in clear");
    let out = outbox(&data);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("failed 1"), "{text}");
    assert!(text.contains("contact_message") && text.contains("STARTTLS"), "{text}");
}

/// An address in UTF-8 to a server without SMTPUTF8 can never be sent: the
/// mail fails at its first try (not after twelve hours of retries), and
/// the operator sees why in `casefile outbox`.
#[tokio::test]
async fn a_permanent_refusal_fails_the_mail_at_once() {
    if !smtp::available("smtputf8") {
        return;
    }
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &smtp.url(), "");
    let res = submit(&client(), &server, "/newsletter", &[("email", "jörg@example.org"), ("consent", "yes")]).await;
    assert_eq!(res.status(), 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let out = outbox(&data);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("failed 1") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(text.contains("failed 1") && text.contains("SMTPUTF8"), "{text}");
    assert!(text.contains("after 1 tries"), "given up at the first try: {text}");
    assert!(smtp.mails().is_empty());
}
