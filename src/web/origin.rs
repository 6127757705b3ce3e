//! Where a state-changing request comes from, as the browser tells it: the
//! defence against cross-site request forgery that needs no cookie.

use axum::http::HeaderMap;

/// What a request's headers say about where it was sent from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// A page of this site.
    SameOrigin,
    /// Another site (or an opaque `null` origin).
    CrossSite,
    /// Nothing: no `Origin`, no `Referer`, no `Sec-Fetch-Site`. Browsers
    /// always send one of them with a form post; a mail provider's one-click
    /// unsubscribe (RFC 8058) or a command-line tool sends none.
    Unstated,
}

/// Reads `Sec-Fetch-Site`, then `Origin`, then (when `Origin` is absent)
/// the origin of `Referer`. With a configured base URL the origin must be
/// its origin (a proxy may rewrite `Host`); else it must name the `Host`
/// the request came to. Origins are compared as origins: scheme, host and
/// port, default ports included (`https://a` is `https://a:443`).
pub fn provenance(headers: &HeaderMap, base_url: Option<&str>) -> Provenance {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let fetch_site = get("sec-fetch-site");
    if fetch_site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return Provenance::CrossSite;
    }
    let Some(claimed) = get("origin").or_else(|| get("referer")) else {
        return if fetch_site.is_some() { Provenance::SameOrigin } else { Provenance::Unstated };
    };
    let Ok(origin) = url::Url::parse(claimed).map(|u| u.origin()) else { return Provenance::CrossSite };
    let expected = match base_url {
        Some(base) => url::Url::parse(base),
        None => match (&origin, get("host")) {
            (url::Origin::Tuple(scheme, ..), Some(host)) => url::Url::parse(&format!("{scheme}://{host}")),
            _ => return Provenance::CrossSite,
        },
    };
    if expected.is_ok_and(|u| u.origin() == origin) { Provenance::SameOrigin } else { Provenance::CrossSite }
}

/// Whether a browser form post comes from this site: refused when it says
/// nothing, as no browser does.
pub fn is_same_origin(headers: &HeaderMap, base_url: Option<&str>) -> bool {
    provenance(headers, base_url) == Provenance::SameOrigin
}

/// Where an accepted form post was sent from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormOrigin {
    /// A page of this site, which carries a signed token.
    Site,
    /// A static copy of the site named in `form_origins`: its files keep no
    /// token, so the origin the browser states is the forgery check.
    Copy,
}

/// Where a form post comes from, if from this site or from one of `others`
/// (origins such as `https://static.example`: a static copy of the site
/// whose forms post here), as its `Origin` (or `Referer`) says; `None` for
/// any other site and for a post that says nothing, as no browser sends.
pub fn form_origin(headers: &HeaderMap, base_url: Option<&str>, others: &[String]) -> Option<FormOrigin> {
    match provenance(headers, base_url) {
        Provenance::SameOrigin => Some(FormOrigin::Site),
        Provenance::Unstated => None,
        Provenance::CrossSite if others.is_empty() => None,
        Provenance::CrossSite => {
            let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
            let claimed = get("origin").or_else(|| get("referer")).and_then(|c| url::Url::parse(c).ok());
            claimed.is_some_and(|u| others.contains(&u.origin().ascii_serialization())).then_some(FormOrigin::Copy)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn posts_from_a_named_static_copy_are_allowed() {
        let others = ["https://static.example".to_owned()];
        let from = |pairs: &[(&'static str, &'static str)]| form_origin(&h(pairs), Some("https://a.org"), &others);
        let cross = ("sec-fetch-site", "cross-site");
        assert_eq!(from(&[cross, ("origin", "https://static.example")]), Some(FormOrigin::Copy));
        assert_eq!(from(&[cross, ("referer", "https://static.example/pardon")]), Some(FormOrigin::Copy));
        assert_eq!(from(&[("origin", "https://a.org")]), Some(FormOrigin::Site));
        assert_eq!(from(&[cross, ("origin", "https://evil.example")]), None);
        assert_eq!(from(&[cross, ("origin", "http://static.example")]), None, "the scheme is part of the origin");
        assert_eq!(from(&[cross, ("origin", "https://static.example:8443")]), None, "so is the port");
        assert_eq!(from(&[cross]), None, "a cross-site post that names no origin");
        assert_eq!(from(&[]), None);
        let alone = form_origin(&h(&[cross, ("origin", "https://static.example")]), Some("https://a.org"), &[]);
        assert_eq!(alone, None, "no copy is named");
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let from = |pairs: &[(&'static str, &'static str)]| provenance(&h(pairs), None);
        use Provenance::*;
        assert_eq!(
            from(&[("host", "a.org"), ("origin", "https://a.org"), ("sec-fetch-site", "same-origin")]),
            SameOrigin
        );
        assert_eq!(from(&[]), Unstated);
        assert_eq!(from(&[("host", "a.org")]), Unstated);
        assert_eq!(from(&[("host", "a.org"), ("origin", "https://evil.org")]), CrossSite);
        assert_eq!(from(&[("host", "a.org"), ("origin", "null")]), CrossSite);
        assert_eq!(from(&[("sec-fetch-site", "cross-site")]), CrossSite);
        assert_eq!(from(&[("sec-fetch-site", "same-site")]), CrossSite);
        assert_eq!(from(&[("sec-fetch-site", "same-origin")]), SameOrigin);
        // Without Origin, the Referer's origin decides.
        assert_eq!(from(&[("host", "a.org"), ("referer", "https://a.org/contact?x=1")]), SameOrigin);
        assert_eq!(from(&[("host", "a.org"), ("referer", "https://evil.org/a.org")]), CrossSite);
        assert_eq!(from(&[("host", "a.org"), ("referer", "not a url")]), CrossSite);
        // Origin wins over Referer.
        assert_eq!(
            from(&[("host", "a.org"), ("origin", "https://evil.org"), ("referer", "https://a.org/")]),
            CrossSite
        );
    }

    #[test]
    fn behind_a_proxy_the_configured_origin_counts() {
        let proxied = h(&[("host", "127.0.0.1:8080"), ("origin", "https://campaign.example")]);
        assert!(is_same_origin(&proxied, Some("https://campaign.example/")));
        assert!(is_same_origin(&proxied, Some("https://campaign.example/sub")));
        assert!(!is_same_origin(&proxied, Some("https://other.example")));
        assert!(!is_same_origin(&proxied, None));
        // Default ports are the same origin; another port or scheme is not.
        let port = h(&[("host", "a.org"), ("origin", "https://a.org:443")]);
        assert!(is_same_origin(&port, Some("https://a.org")));
        assert!(!is_same_origin(&port, Some("http://a.org")));
        assert!(!is_same_origin(&port, Some("https://a.org:8443")));
    }
}
