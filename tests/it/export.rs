//! `casefile export`: the public site as static files, rendered by the same
//! code that serves it, with every link resolving inside the export.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::server::{Server, client};

fn export(data: &Path, out: &Path, base: &str) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["export", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--base-url", base]);
    crate::db::point(&mut cmd);
    cmd.env_remove("CASEFILE_DATA").output().unwrap()
}

/// Every file below `dir`, as paths relative to it.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_owned());
            }
        }
    }
    out
}

/// The address a static host serves a file at.
fn path_of(file: &Path) -> String {
    let f = file.to_str().unwrap();
    match f.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{}", f.strip_suffix(".html").unwrap_or(f)),
    }
}

/// What a static host would serve for `path`, if the export has it.
fn resolves(all: &BTreeSet<PathBuf>, path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    let candidates = [rel.to_owned(), format!("{rel}.html"), format!("{rel}index.html"), format!("{rel}/index.html")];
    candidates.iter().any(|c| all.contains(Path::new(c)))
}

/// The page without its list of a petition's signers.
fn without_signers(page: &str) -> String {
    const START: &str = "<div class=\"petition-signers\">";
    match page.split_once(START) {
        Some((before, after)) => format!("{before}{}", after.split_once("</div>").map_or("", |(_, rest)| rest)),
        None => page.to_owned(),
    }
}

fn without_token(page: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse("input[name=token]").unwrap();
    let mut page = page.to_owned();
    for input in doc.select(&sel) {
        let value = input.value().attr("value").unwrap();
        if !value.is_empty() {
            page = page.replace(&format!("value=\"{value}\""), "value=\"\"");
        }
    }
    page
}

#[tokio::test]
async fn the_export_is_the_served_site_with_every_link_inside_it_and_a_second_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::forms::start(&dir.path().join("data"), "", "");
    // A signer who allowed their name on the petition page: the copy does
    // not list it (it would keep it after the signer erased their data).
    let c = client();
    let sign = [
        ("name", "Dora Signer"),
        ("email", "dora@example.org"),
        ("country", "Germany"),
        ("show_name", "yes"),
        ("consent", "yes"),
    ];
    assert_eq!(crate::forms::submit(&c, &server, "/pardon", &sign).await.status(), 303);
    let link = mail_to(&server.data, "dora@example.org").await.link("/pardon/confirm?t=");
    crate::forms::follow(&c, &server, &link).await;
    let named = crate::forms::petition_page_showing(&c, &server, "Dora Signer").await;
    assert!(named.contains("Dora Signer"), "the served page names the signer");
    let out = dir.path().join("site");
    let run = export(&server.data, &out, &server.base);
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{said}{}", String::from_utf8_lossy(&run.stderr));
    assert!(said.contains("0 removed"), "{said}");
    let all = files(&out);
    let pages: Vec<&PathBuf> = all.iter().filter(|f| f.extension().is_some_and(|e| e == "html")).collect();
    assert!(pages.len() > 40 && all.contains(Path::new("de/index.html")) && all.contains(Path::new("sitemap.xml")));

    // Byte for byte what the server answers (the form token and the
    // petition's signers aside).
    for file in pages.iter().filter(|f| **f != Path::new("404.html")) {
        let path = path_of(file);
        let served = c.get(server.url(&path)).send().await.unwrap().text().await.unwrap();
        let exported = std::fs::read_to_string(out.join(file)).unwrap();
        let served = without_signers(&without_token(&served));
        assert!(served == exported, "{} differs from {path} as served", file.display());
    }
    let petition = std::fs::read_to_string(out.join("pardon.html")).unwrap();
    assert!(petition.contains("1 confirmed signature") && !petition.contains("Dora Signer"), "counted, not named");

    // Every link and asset on every page is in the export (or needs the
    // dynamic site: an address with a query).
    let link = scraper::Selector::parse("[href], [src]").unwrap();
    for file in &pages {
        let doc = scraper::Html::parse_document(&std::fs::read_to_string(out.join(file)).unwrap());
        for el in doc.select(&link) {
            let value = el.value().attr("href").or(el.value().attr("src")).unwrap();
            let local = value.strip_prefix(server.base.as_str()).unwrap_or(value);
            let local = local.split('#').next().unwrap();
            if !local.starts_with('/') || local.starts_with("//") {
                continue;
            }
            assert!(!local.contains('?'), "{}: {local} needs the dynamic site", file.display());
            assert!(resolves(&all, local), "{}: {local} is not in the export", file.display());
        }
    }

    // What needs a query on the served site has files of its own: the
    // press filters, and the data the search page's script searches.
    for file in ["press/2019.html", "de/presse/2019.html", "search/index.json", "de/suche/index.json"] {
        assert!(all.contains(Path::new(file)), "{file} is exported");
    }
    let said_dynamic = String::from_utf8_lossy(&run.stdout);
    assert!(!said_dynamic.contains("need the dynamic site"), "{said_dynamic}");

    // A web server reads them: public, though Casefile's own files are not.
    use std::os::unix::fs::PermissionsExt;
    for f in [out.join("index.html"), out.join("de"), out.clone()] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "{} is readable by everyone", f.display());
    }

    // Text files have compressed twins of the same bytes.
    let gz = std::fs::read(out.join("index.html.gz")).unwrap();
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, std::fs::read(out.join("index.html")).unwrap());
    assert!(all.contains(Path::new("index.html.br")) && all.contains(Path::new("_redirects")));

    // Unchanged site, unchanged files; and the list of what the last
    // export wrote removes nothing outside the folder, whatever it says.
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "keep").unwrap();
    let manifest = out.join(".casefile-export");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{listed}../outside.txt\n{}\n", outside.display())).unwrap();
    let again = export(&server.data, &out, &server.base);
    assert!(String::from_utf8_lossy(&again.stdout).contains(": 0 written, 0 removed"), "{again:?}");
    assert!(outside.exists());
    // A folder that holds something else is not written into.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("mine.txt"), "x").unwrap();
    let refused = export(&server.data, &other, &server.base);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("not empty"));
}

#[tokio::test]
async fn a_static_copy_posts_its_forms_to_the_instance_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = data.join("casefile.toml");
    std::fs::write(&config, "form_min_seconds = 0.3\nform_origins = [\"https://static.example\"]\n").unwrap();
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let out = dir.path().join("site");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_casefile"));
    cmd.args(["export", "--quiet", "--base-url", "https://static.example", "--forms-url", &server.base]);
    cmd.arg("--data").arg(&data).arg("--out").arg(&out);
    crate::db::point(&mut cmd);
    let run = cmd.env_remove("CASEFILE_DATA").output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    // Posting forms point at the instance; the search form stays on the copy.
    let page = std::fs::read_to_string(out.join("newsletter.html")).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let action = doc.select(&sel("form[method=post]")).next().unwrap().value().attr("action").unwrap().to_owned();
    assert_eq!(action, format!("{}/newsletter", server.base));
    let search = doc.select(&sel("form[role=search]")).next().unwrap().value().attr("action").unwrap();
    assert_eq!(search, "/search");

    // A post from the copy (no token: a file keeps none) is taken at once,
    // on the origin its browser states.
    let c = client();
    let post = |token: &str, origin: &str, email: &str| {
        let body = format!("token={token}&name=Sam&email={email}&consent=yes");
        c.post(&action)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let taken = post("", "https://static.example", "static%40example.org").await.unwrap();
    assert_eq!(taken.status(), 303, "{}", taken.text().await.unwrap());
    mail_to(&data, "static@example.org").await;
    // A token the copy does send is checked; a form that comes back (here:
    // a mistake) carries a fresh one, taken from the copy too.
    let forged = post("1.abc", "https://static.example", "second%40example.org").await.unwrap();
    assert_eq!(forged.status(), 422);
    let back = post("", "https://static.example", "not-an-address").await.unwrap();
    assert_eq!(back.status(), 422);
    let back = back.text().await.unwrap();
    assert!(back.contains("not-an-address"), "the entries are kept");
    let doc = scraper::Html::parse_document(&back);
    let token = doc.select(&sel("input[name=token]")).next().unwrap().value().attr("value").unwrap().to_owned();
    assert!(!token.is_empty(), "with a fresh token");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let again = post(&token, "https://static.example", "second%40example.org").await.unwrap();
    assert_eq!(again.status(), 303, "{}", again.text().await.unwrap());
    // The site's own pages carry a token, so a post of its own without one
    // comes back; another site's post is refused, however good its token.
    assert_eq!(post("", &server.base, "third%40example.org").await.unwrap().status(), 422);
    assert_eq!(post(&token, "https://evil.example", "third%40example.org").await.unwrap().status(), 403);
    assert_eq!(post("", "https://evil.example", "third%40example.org").await.unwrap().status(), 403);
}

/// The first mail to `to` in the data folder's `mail` (where mail goes
/// with no SMTP server), waited for up to 15 seconds.
async fn mail_to(data: &Path, to: &str) -> crate::smtp::Mail {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mails: Vec<crate::smtp::Mail> = std::fs::read_dir(data.join("mail"))
            .map(|d| d.filter_map(|e| std::fs::read(e.ok()?.path()).ok()).map(|b| crate::smtp::parse(&b)).collect())
            .unwrap_or_default();
        if let Some(mail) = mails.into_iter().find(|m| m.to == to) {
            return mail;
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {to} within 15 s");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
