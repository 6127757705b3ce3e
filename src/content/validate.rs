//! The rules content must follow: per item ([`ItemRef::check`]) and across
//! a whole site ([`Site::validate`]). The bundle reader and the store both
//! call these, so a bundle and an edit are held to the same rules.

use std::collections::{HashMap, HashSet};

use super::*;

/// Content that breaks a rule; the message names the item and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Checks a key or slug: lowercase ASCII letters, digits and `-`.
pub fn check_key(key: &str) -> Result<(), Invalid> {
    let ok = !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-');
    if ok { Ok(()) } else { Err(Invalid(format!("invalid key `{key}`: use lowercase ASCII letters, digits and `-`"))) }
}

fn check_langs<T>(langs: &[Lang], map: &Localized<T>, what: &str) -> Result<(), Invalid> {
    match langs.iter().find(|l| !map.contains_key(l)) {
        Some(l) => Err(Invalid(format!("{what}: no `[{l}]` text"))),
        None => Ok(()),
    }
}

/// Every language present, every current and former slug well-formed.
fn check_slugs(langs: &[Lang], text: &Localized<PageText>, what: &str, empty_ok: bool) -> Result<(), Invalid> {
    check_langs(langs, text, what)?;
    for t in text.values() {
        let current = Some(&t.slug).filter(|s| !(empty_ok && s.is_empty()));
        for (slug, which) in current.into_iter().map(|s| (s, "slug")).chain(t.old_slugs.iter().map(|s| (s, "old slug")))
        {
            check_key(slug).map_err(|e| Invalid(format!("{what}: {which}: {e}")))?;
        }
    }
    Ok(())
}

fn check_redirect(r: &Redirect) -> Result<(), String> {
    // What the server would answer itself, or could never see: its own
    // routes, and paths it rewrites before routing (a trailing slash).
    const RESERVED: [&str; 8] =
        ["/api/", "/files/", "/media/", "/assets/", "/healthz", "/readyz", "/sitemap", "/review/"];
    let path_ok = |p: &str| {
        p.starts_with('/')
            && p.bytes().all(|b| b.is_ascii_graphic() && !b"?#\\\"<>".contains(&b))
            && !p.contains("//")
            && (p == "/" || !p.ends_with('/'))
    };
    if !path_ok(&r.from) || r.from == "/" || RESERVED.iter().any(|x| r.from.starts_with(x)) {
        return Err(
            "`from` must be a path on this site like /old-page (no trailing slash, not one of the server's own paths)"
                .into(),
        );
    }
    let url_ok = |u: &str| {
        (u.starts_with("https://") || u.starts_with("http://")) && u.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    };
    if !(path_ok(&r.to) || url_ok(&r.to)) {
        return Err("`to` must be a path on this site or an http(s) address".into());
    }
    if r.to == r.from {
        return Err("`to` is the same as `from`".into());
    }
    if !matches!(r.status, 301 | 302 | 307 | 308) {
        return Err("`status` must be 301, 302, 307 or 308".into());
    }
    Ok(())
}

impl<'a> ItemRef<'a> {
    /// Where the item lives in a bundle, for messages: `pages/case.md`,
    /// `sources.toml: source `x``.
    pub fn label(self) -> String {
        match self {
            ItemRef::Source(s) => format!("sources.toml: source `{}`", s.key),
            ItemRef::Redirect(r) => format!("redirects.toml: from `{}`", r.from),
            other => format!("{}/{}.md", other.kind().folder(), other.key()),
        }
    }

    /// The rules one item must follow on its own, for a site in `langs`.
    pub fn check(self, langs: &[Lang]) -> Result<(), Invalid> {
        let what = self.label();
        let fail = |msg: &str| Err(Invalid(format!("{what}: {msg}")));
        if !matches!(self, ItemRef::Redirect(_)) {
            check_key(self.key()).map_err(|e| Invalid(format!("{what}: {e}")))?;
        }
        match self {
            ItemRef::Source(s) => {
                check_langs(langs, &s.citation, &what)?;
                match (s.kind.as_str(), &s.press, &s.document) {
                    ("seed" | "url", _, _) | ("press", Some(_), _) | ("document", _, Some(_)) => {}
                    ("press", None, _) => return fail("a press source names its press report (`press = \"key\"`)"),
                    ("document", _, None) => return fail("a document source names its document"),
                    (other, _, _) => return fail(&format!("unknown kind `{other}`")),
                }
            }
            ItemRef::Redirect(r) => check_redirect(r).or_else(|e| fail(&e))?,
            // A page's slug may be empty (the home page); a post's may not.
            ItemRef::Page(p) => check_slugs(langs, &p.text, &what, true)?,
            ItemRef::News(n) => {
                check_slugs(langs, &n.text, &what, false)?;
                if n.date.is_none() {
                    return fail("a news post needs a date");
                }
            }
            ItemRef::Timeline(e) => {
                check_langs(langs, &e.text, &what)?;
                if e.date.is_none() {
                    return fail("a timeline event needs a date");
                }
            }
            ItemRef::Press(p) => {
                check_langs(langs, &p.text, &what)?;
                if !PRESS_KINDS.contains(&p.kind.as_str()) {
                    return fail(&format!("unknown kind `{}` (expected one of {})", p.kind, PRESS_KINDS.join(", ")));
                }
                if p.title.is_none() && p.text.values().any(|t| t.title.is_empty()) {
                    return fail("without a `title`, every language needs a descriptive `title`");
                }
            }
            ItemRef::Person(p) => {
                check_langs(langs, &p.text, &what)?;
                let mut keys = HashSet::new();
                for s in &p.statements {
                    let what = format!("{what}: statement `{}`", s.key);
                    check_key(&s.key).map_err(|e| Invalid(format!("{what}: {e}")))?;
                    if !keys.insert(s.key.as_str()) {
                        return Err(Invalid(format!("{what}: the key is used twice")));
                    }
                    check_langs(langs, &s.text, &what)?;
                    if s.sources.is_empty() {
                        return Err(Invalid(format!("{what}: a statement needs a source")));
                    }
                    if s.quote.is_none() && s.text.values().any(|t| t.summary.is_empty()) {
                        return Err(Invalid(format!("{what}: without a `quote`, every language needs a `summary`")));
                    }
                }
            }
            ItemRef::Petition(p) => {
                check_langs(langs, &p.text, &what)?;
                if p.goal.is_some_and(|g| g < 1) {
                    return fail("a goal must be a positive number");
                }
            }
            ItemRef::Media(m) => {
                check_langs(langs, &m.text, &what)?;
                if !matches!(m.kind.as_str(), "video" | "audio") {
                    return fail("kind must be `video` or `audio`");
                }
            }
            ItemRef::Book(x) => check_langs(langs, &x.text, &what)?,
            ItemRef::Evidence(x) => check_langs(langs, &x.text, &what)?,
            ItemRef::Document(x) => check_langs(langs, &x.text, &what)?,
        }
        match self.addresses().into_iter().find(|(_, url)| !is_web_address(url)) {
            Some((field, url)) => fail(&format!("`{field}`: `{url}` is not an http(s) address")),
            None => Ok(()),
        }
    }

    /// The addresses of other sites the item links to, by field: each
    /// becomes a link on the page (a static copy may be served without
    /// the server's Content-Security-Policy, so a `javascript:` address
    /// must never get there).
    fn addresses(self) -> Vec<(&'static str, &'a str)> {
        match self {
            ItemRef::Source(s) => s.url.iter().map(|u| ("url", u.as_str())).collect(),
            ItemRef::Press(p) => p.url.iter().map(|u| ("url", u.as_str())).collect(),
            ItemRef::Book(b) => b.links.iter().map(|l| ("links", l.url.as_str())).collect(),
            ItemRef::Media(m) => {
                let embed = m.embed_url.iter().map(|u| ("embed_url", u.as_str()));
                embed.chain(m.page_url.iter().map(|u| ("page_url", u.as_str()))).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// An http(s) address without spaces or control characters.
fn is_web_address(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl ContactDetails {
    /// A plausible public address (an `@`, no spaces) and at most twelve
    /// profiles, each a short label and an http(s) address.
    pub fn check(&self) -> Result<(), Invalid> {
        let fail = |msg: String| Err(Invalid(format!("site settings: contact: {msg}")));
        let e = &self.email;
        if !e.is_empty()
            && (e.len() > 254
                || e.matches('@').count() != 1
                || e.starts_with('@')
                || e.ends_with('@')
                || e.contains(char::is_whitespace))
        {
            return fail(format!("`{e}` is not an e-mail address"));
        }
        if self.social.len() > 12 {
            return fail("at most 12 profiles".into());
        }
        for link in &self.social {
            let label = link.label.trim();
            if label.is_empty() || label.chars().count() > 40 || label.chars().any(char::is_control) {
                return fail(format!("a profile needs a label of at most 40 characters (`{label}`)"));
            }
            let u = &link.url;
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 300
                && u.bytes().all(|b| b.is_ascii_graphic() && !b"\"<>\\".contains(&b));
            if !ok {
                return fail(format!("`{u}` is not an http(s) address"));
            }
        }
        Ok(())
    }
}

impl Site {
    /// Every item's own rules, then the rules across items: keys and names
    /// unique, every reference resolves, the pages every site needs exist.
    /// The first problem, if any (see [`Site::problems`] for all of them).
    pub fn validate(&self) -> Result<(), Invalid> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every rule the site breaks, each naming its file: a bundle with
    /// mistakes is refused with all of them listed, not one per attempt.
    pub fn problems(&self) -> Vec<Invalid> {
        let mut out = Vec::new();
        out.extend(check_langs(&self.languages, &self.text, "site.toml").err());
        out.extend(self.contact.check().err());
        let mut keys = HashSet::new();
        let mut names: HashMap<(String, String), String> = HashMap::new();
        for item in self.items() {
            out.extend(item.check(&self.languages).err());
            if !keys.insert((item.kind(), item.key())) {
                out.push(Invalid(format!("{}: the key is used twice", item.label())));
            }
            for (space, name) in item.names() {
                if let Some(other) = names.insert((space.clone(), name.clone()), item.label()) {
                    out.push(Invalid(format!(
                        "{}: the {space} name `{name}` is also claimed by {other}",
                        item.label()
                    )));
                }
            }
        }
        for item in self.items() {
            for (kind, key) in item.links() {
                if !keys.contains(&(kind, key)) {
                    out.push(Invalid(format!("{}: refers to the {kind} `{key}`, which does not exist", item.label())));
                }
            }
        }
        out.extend(self.parent_cycles());
        for r in &self.redirects {
            if self.redirects.iter().any(|x| x.from == r.to) {
                out.push(Invalid(format!(
                    "redirects.toml: `{}` leads to another redirect; point it at the final address",
                    r.from
                )));
            }
        }
        for t in [Template::Home, Template::News] {
            if self.page_with(t).is_none() {
                out.push(Invalid(format!("the site has no page with the template `{}`", t.file())));
            }
        }
        out
    }

    /// Pages that are their own ancestor (a parent chain that loops).
    fn parent_cycles(&self) -> Vec<Invalid> {
        let parent: HashMap<&str, &str> =
            self.pages.iter().filter_map(|p| Some((p.key.as_str(), p.parent.as_deref()?))).collect();
        let mut out = Vec::new();
        for page in &self.pages {
            let mut at = page.key.as_str();
            for _ in 0..self.pages.len() {
                match parent.get(at) {
                    Some(&up) if up == page.key => {
                        out.push(Invalid(format!(
                            "{}: its `parent` chain leads back to it",
                            ItemRef::Page(page).label()
                        )));
                        break;
                    }
                    Some(&up) => at = up,
                    None => break,
                }
            }
        }
        out
    }
}
