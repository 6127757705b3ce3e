//! The read-only Content API (`/api/v1/`): published content as JSON, and
//! the OpenAPI document that describes it, both built from one table of
//! types so they cannot drift apart.
//!
//! Items are the content types as the snapshot holds them (per-language text
//! under `en`/`de`), plus `page_urls`: where each language version is shown.
//! Only public content is here; drafts, scheduled items and anything visitors
//! send never are.

use serde_json::{Map, Value, json};

use super::routes::{SiteIndex, page_path};
use crate::content::{Lang, PRESS_KINDS, PartialDate};

/// Items per page unless `per_page` says otherwise.
pub const DEFAULT_PER_PAGE: usize = 20;
/// The largest `per_page`.
pub const MAX_PER_PAGE: usize = 100;
/// The largest `page`.
pub const MAX_PAGE: usize = 100_000;

/// One content type of the API.
pub struct ApiType {
    /// The path segment (`/api/v1/<name>`).
    pub name: &'static str,
    /// What it holds, for the OpenAPI document.
    pub description: &'static str,
    /// Whether items have a date (`since`/`until` filter on it).
    pub dated: bool,
    /// The values of the `kind` filter, if the type has one.
    pub kinds: &'static [&'static str],
}

/// Every type, in the order the index lists them.
pub const TYPES: [ApiType; 11] = [
    ApiType {
        name: "pages",
        description: "Pages (the case, the pardon petition, privacy …)",
        dated: false,
        kinds: &[],
    },
    ApiType { name: "news", description: "News posts, newest first", dated: true, kinds: &[] },
    ApiType { name: "timeline", description: "Timeline events, oldest first", dated: true, kinds: &[] },
    ApiType { name: "press", description: "Press reports, newest first", dated: true, kinds: &PRESS_KINDS },
    ApiType { name: "people", description: "People and their statements", dated: false, kinds: &[] },
    ApiType { name: "books", description: "Books, newest first (dated by year)", dated: true, kinds: &[] },
    ApiType { name: "evidence", description: "Evidence items and what is contested", dated: false, kinds: &[] },
    ApiType { name: "documents", description: "Documents", dated: true, kinds: &[] },
    ApiType { name: "media", description: "Videos and audio recordings", dated: true, kinds: &["video", "audio"] },
    ApiType { name: "petitions", description: "Petitions (their text; never their signers)", dated: false, kinds: &[] },
    ApiType { name: "sources", description: "The sources items cite", dated: false, kinds: &[] },
];

/// A list request, validated.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Only this language's text.
    pub lang: Option<Lang>,
    /// 1-based page.
    pub page: usize,
    /// Items per page.
    pub per_page: usize,
    /// Items dated on or after this.
    pub since: Option<PartialDate>,
    /// Items dated on or before this.
    pub until: Option<PartialDate>,
    /// The `kind` filter.
    pub kind: Option<String>,
}

impl ListQuery {
    /// Validates query parameters; an unknown parameter or a bad value is an
    /// error message for a 400 answer.
    pub fn parse(t: &ApiType, langs: &[Lang], params: &[(String, String)]) -> Result<ListQuery, String> {
        let mut q = ListQuery { page: 1, per_page: DEFAULT_PER_PAGE, ..ListQuery::default() };
        for (k, v) in params {
            match k.as_str() {
                "lang" => q.lang = Some(parse_lang(langs, v)?),
                "page" => {
                    q.page = v.parse().ok().filter(|p| (1..=100_000).contains(p)).ok_or("page: a number from 1")?
                }
                "per_page" => {
                    q.per_page = v
                        .parse()
                        .ok()
                        .filter(|p| (1..=MAX_PER_PAGE).contains(p))
                        .ok_or(format!("per_page: a number from 1 to {MAX_PER_PAGE}"))?;
                }
                "since" | "until" if t.dated => {
                    let d: PartialDate =
                        v.parse().map_err(|_| format!("{k}: a date as YYYY, YYYY-MM or YYYY-MM-DD"))?;
                    if k == "since" { q.since = Some(d) } else { q.until = Some(d) }
                }
                "kind" if !t.kinds.is_empty() => {
                    if !t.kinds.contains(&v.as_str()) {
                        return Err(format!("kind: one of {}", t.kinds.join(", ")));
                    }
                    q.kind = Some(v.clone());
                }
                // Which site: decided before the request got here.
                "site" => {}
                other => return Err(format!("unknown parameter `{other}` for /api/v1/{}", t.name)),
            }
        }
        Ok(q)
    }
}

/// A `lang` value, one of the site's languages.
pub fn parse_lang(langs: &[Lang], v: &str) -> Result<Lang, String> {
    let codes: Vec<&str> = langs.iter().map(|l| l.code()).collect();
    langs.iter().copied().find(|l| l.code() == v).ok_or_else(|| format!("lang: one of {}", codes.join(", ")))
}

/// One item: its key, date, kind, slugs and JSON.
struct Entry {
    key: String,
    date: Option<PartialDate>,
    kind: Option<String>,
    slugs: Vec<String>,
    value: Value,
}

fn entry<T: serde::Serialize>(key: &str, date: Option<PartialDate>, kind: Option<&str>, item: &T) -> Entry {
    Entry {
        key: key.to_owned(),
        date,
        kind: kind.map(str::to_owned),
        slugs: Vec::new(),
        value: serde_json::to_value(item).unwrap_or(Value::Null),
    }
}

/// The items of a type, in site order, with where each is shown.
fn entries(index: &SiteIndex, t: &ApiType) -> Vec<Entry> {
    let site = &index.site;
    let anchored = |key: &str, page: &str| -> Value {
        let urls: Map<String, Value> = site
            .languages
            .iter()
            .filter_map(|&l| {
                Some((l.code().to_owned(), Value::from(index.absolute(&format!("{}#{key}", index.path_of(page, l)?)))))
            })
            .collect();
        Value::Object(urls)
    };
    let mut out: Vec<Entry> = match t.name {
        "pages" => site
            .pages
            .iter()
            .map(|p| {
                let mut e = entry(&p.key, None, None, p);
                e.slugs = p.text.values().map(|x| x.slug.clone()).filter(|s| !s.is_empty()).collect();
                let urls: Map<String, Value> = p
                    .text
                    .iter()
                    .map(|(l, x)| (l.code().to_owned(), Value::from(index.absolute(&page_path(site, *l, &x.slug)))))
                    .collect();
                e.value["page_urls"] = Value::Object(urls);
                e
            })
            .collect(),
        "news" => site
            .news
            .iter()
            .map(|n| {
                let mut e = entry(&n.key, n.date, None, n);
                e.slugs = n.text.values().map(|x| x.slug.clone()).collect();
                let urls: Map<String, Value> = n
                    .text
                    .iter()
                    .filter_map(|(l, x)| {
                        Some((
                            l.code().to_owned(),
                            Value::from(index.absolute(&format!("{}/{}", index.path_of("news", *l)?, x.slug))),
                        ))
                    })
                    .collect();
                e.value["page_urls"] = Value::Object(urls);
                e
            })
            .collect(),
        "timeline" => site
            .timeline
            .iter()
            .map(|x| with_urls(entry(&x.key, x.date, None, x), anchored(&x.key, "timeline")))
            .collect(),
        "press" => site
            .press
            .iter()
            .map(|x| with_urls(entry(&x.key, x.date, Some(&x.kind), x), anchored(&x.key, "press")))
            .collect(),
        "people" => {
            site.people.iter().map(|x| with_urls(entry(&x.key, None, None, x), anchored(&x.key, "voices"))).collect()
        }
        "books" => site
            .books
            .iter()
            .map(|x| {
                let year = x.year.map(|y| PartialDate { year: y, month: None, day: None });
                with_urls(entry(&x.key, year, None, x), anchored(&x.key, "books"))
            })
            .collect(),
        "evidence" => site
            .evidence
            .iter()
            .map(|x| with_urls(entry(&x.key, None, None, x), anchored(&x.key, "evidence")))
            .collect(),
        "documents" => site.documents.iter().map(|x| entry(&x.key, x.date, None, x)).collect(),
        "media" => site.media.iter().map(|x| entry(&x.key, x.date, Some(&x.kind), x)).collect(),
        "petitions" => site.petitions.iter().map(|x| entry(&x.key, None, None, x)).collect(),
        "sources" => site.sources.iter().map(|x| entry(&x.key, None, None, x)).collect(),
        _ => Vec::new(),
    };
    for e in &mut out {
        if let Value::Object(m) = &mut e.value {
            m.insert("key".to_owned(), Value::from(e.key.clone()));
        }
    }
    out
}

fn with_urls(mut e: Entry, urls: Value) -> Entry {
    e.value["page_urls"] = urls;
    e
}

/// Keeps only the text of `keep` (the site's languages, or the one asked
/// for): drops the other languages' keys at any depth. An item shown from
/// another site (a shared event on the English-only film site) carries
/// that site's languages too.
fn only_langs(v: &mut Value, keep: &[Lang]) {
    match v {
        Value::Object(m) => {
            for other in Lang::ALL.iter().filter(|l| !keep.contains(l)) {
                m.remove(other.code());
            }
            for x in m.values_mut() {
                only_langs(x, keep);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| only_langs(x, keep)),
        _ => {}
    }
}

/// Whether a date range [start, start's end] meets the filter: `since`
/// compares with the item's latest possible day, `until` with its earliest.
fn in_range(date: Option<PartialDate>, q: &ListQuery) -> bool {
    if q.since.is_none() && q.until.is_none() {
        return true;
    }
    let Some(d) = date else { return false };
    let last = |p: PartialDate| {
        let m = p.month.unwrap_or(12);
        (p.year, m, p.day.unwrap_or_else(|| crate::content::days_in_month(p.year, m)))
    };
    q.since.is_none_or(|s| last(d) >= s.first_day()) && q.until.is_none_or(|u| d.first_day() <= last(u))
}

/// A page of items of type `t`.
pub fn list(index: &SiteIndex, t: &ApiType, q: &ListQuery, self_path: &str) -> Value {
    let items: Vec<Entry> = entries(index, t)
        .into_iter()
        .filter(|e| in_range(e.date, q))
        .filter(|e| q.kind.is_none() || e.kind == q.kind)
        .collect();
    let total = items.len();
    let pages = total.div_ceil(q.per_page).max(1);
    let mut page_items: Vec<Value> =
        items.into_iter().skip((q.page - 1) * q.per_page).take(q.per_page).map(|e| e.value).collect();
    let keep = q.lang.map_or_else(|| index.site.languages.clone(), |l| vec![l]);
    page_items.iter_mut().for_each(|v| only_langs(v, &keep));
    let link = |page: usize| {
        let mut qs = vec![format!("page={page}"), format!("per_page={}", q.per_page)];
        if let Some(l) = q.lang {
            qs.push(format!("lang={l}"));
        }
        for (name, d) in [("since", q.since), ("until", q.until)] {
            if let Some(d) = d {
                qs.push(format!("{name}={d}"));
            }
        }
        if let Some(k) = &q.kind {
            qs.push(format!("kind={k}"));
        }
        index.absolute(&format!("{self_path}?{}", qs.join("&")))
    };
    json!({
        "type": t.name,
        "page": q.page,
        "per_page": q.per_page,
        "total": total,
        "pages": pages,
        "items": page_items,
        "next": (q.page < pages).then(|| link(q.page + 1)),
        "prev": (q.page > 1).then(|| link((q.page - 1).min(pages))),
    })
}

/// One item of type `t` by key (or, for pages and news, by a slug).
pub fn item(index: &SiteIndex, t: &ApiType, key: &str, lang: Option<Lang>) -> Option<Value> {
    // A key first, so that no slug can hide another item's key.
    let all = entries(index, t);
    let pos =
        all.iter().position(|e| e.key == key).or_else(|| all.iter().position(|e| e.slugs.iter().any(|s| s == key)))?;
    let mut v = all.into_iter().nth(pos)?.value;
    only_langs(&mut v, &lang.map_or_else(|| index.site.languages.clone(), |l| vec![l]));
    Some(v)
}

/// The index of the API: every type and its URL.
pub fn root(index: &SiteIndex) -> Value {
    let types: Vec<Value> = TYPES
        .iter()
        .map(|t| json!({ "type": t.name, "description": t.description, "url": index.absolute(&format!("/api/v1/{}", t.name)) }))
        .collect();
    json!({ "types": types, "openapi": index.absolute("/api/v1/openapi.json") })
}

/// The OpenAPI 3.1 document of the API, built from [`TYPES`].
pub fn openapi(index: &SiteIndex) -> Value {
    let langs: Vec<&str> = index.site.languages.iter().map(|l| l.code()).collect();
    let lang_param = json!({ "name": "lang", "in": "query", "required": false,
        "description": "Only this language's text", "schema": { "type": "string", "enum": langs } });
    let site_param = json!({ "name": "site", "in": "query", "required": false,
        "description": "The key of a site of this install (another than the host's), such as this one's",
        "schema": { "type": "string", "examples": [index.site.key] } });
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/".into(),
        json!({ "get": { "summary": "The content types and their URLs", "operationId": "root",
            "responses": { "200": { "description": "The index", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Root" } } } } } } }),
    );
    for t in &TYPES {
        let mut params = vec![
            lang_param.clone(),
            site_param.clone(),
            json!({ "name": "page", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 } }),
            json!({ "name": "per_page", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE } }),
        ];
        if t.dated {
            for (name, what) in [("since", "on or after"), ("until", "on or before")] {
                params.push(json!({ "name": name, "in": "query", "required": false,
                    "description": format!("Items dated {what} this date (YYYY, YYYY-MM or YYYY-MM-DD)"),
                    "schema": { "type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$" } }));
            }
        }
        if !t.kinds.is_empty() {
            params.push(json!({ "name": "kind", "in": "query", "required": false, "schema": { "type": "string", "enum": t.kinds } }));
        }
        let errors = json!({
            "304": { "description": "Not modified (If-None-Match matched the ETag)" },
            "400": { "description": "An unknown parameter or a bad value", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        });
        let mut list_responses = json!({ "200": { "description": format!("A page of {}", t.name),
            "headers": { "ETag": { "schema": { "type": "string" } } },
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/List" } } } } });
        list_responses.as_object_mut().expect("object").extend(errors.as_object().expect("object").clone());
        paths.insert(
            format!("/api/v1/{}", t.name),
            json!({ "get": { "summary": t.description, "operationId": format!("list_{}", t.name), "parameters": params, "responses": list_responses } }),
        );
        paths.insert(
            format!("/api/v1/{}/{{key}}", t.name),
            json!({ "get": { "summary": format!("One item of {} by key{}", t.name, if matches!(t.name, "pages" | "news") { " or slug" } else { "" }),
                "operationId": format!("get_{}", t.name),
                "parameters": [ { "name": "key", "in": "path", "required": true, "schema": { "type": "string" } }, lang_param, site_param ],
                "responses": {
                    "200": { "description": "The item", "headers": { "ETag": { "schema": { "type": "string" } } },
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Item" } } } },
                    "304": { "description": "Not modified" },
                    "400": { "description": "An unknown parameter or a bad value", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                    "404": { "description": "No such item", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } } } }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Casefile Content API", "version": "1",
            "description": "Read-only access to the published content of this site. CORS is open for GET; every answer carries a strong ETag." },
        "servers": [ { "url": index.base_url } ],
        "paths": paths,
        "components": { "schemas": {
            "Item": { "type": "object", "required": ["key"], "additionalProperties": true,
                "properties": { "key": { "type": "string" }, "page_urls": { "type": "object", "additionalProperties": { "type": "string" } } } },
            "List": { "type": "object", "required": ["type", "page", "per_page", "total", "pages", "items"],
                "properties": { "type": { "type": "string" }, "page": { "type": "integer" }, "per_page": { "type": "integer" },
                    "total": { "type": "integer" }, "pages": { "type": "integer" },
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } },
                    "next": { "type": ["string", "null"] }, "prev": { "type": ["string", "null"] } } },
            "Root": { "type": "object", "required": ["types", "openapi"],
                "properties": { "types": { "type": "array" }, "openapi": { "type": "string" } } },
            "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } }
        } }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<PartialDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn date_filters_respect_precision() {
        let q = ListQuery { since: d("2016-07"), until: d("2016-08"), ..ListQuery::default() };
        assert!(in_range(d("2016-07-26"), &q));
        assert!(in_range(d("2016"), &q), "a year-only date may fall in the range");
        assert!(!in_range(d("2016-09-01"), &q));
        assert!(!in_range(None, &q), "undated items drop out of a date filter");
        assert!(in_range(None, &ListQuery::default()));
    }

    #[test]
    fn parameters_are_validated() {
        let press = &TYPES[3];
        let p = |pairs: &[(&str, &str)]| {
            let v: Vec<(String, String)> = pairs.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect();
            ListQuery::parse(press, &[Lang::En, Lang::De], &v)
        };
        assert!(p(&[("kind", "podcast"), ("since", "2019"), ("lang", "de"), ("per_page", "5")]).is_ok());
        assert!(p(&[("kind", "blog")]).is_err());
        assert!(p(&[("per_page", "1000")]).is_err());
        assert!(p(&[("page", "0")]).is_err());
        assert!(p(&[("since", "2019-13")]).is_err());
        assert!(p(&[("sort", "x")]).is_err(), "unknown parameters are refused, not ignored");
        assert!(
            ListQuery::parse(&TYPES[0], &[Lang::En], &[("since".into(), "2019".into())]).is_err(),
            "pages have no date"
        );
        let de = [("lang".to_owned(), "de".to_owned())];
        assert!(ListQuery::parse(&TYPES[0], &[Lang::En], &de).is_err(), "only the site's languages");
    }
}
