//! Comparing two revisions of an item: every text that changed, word by
//! word, grouped by language (fields under a language's code) and shown
//! with `<ins>` and `<del>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

use super::items::{done, failed, kind_of, not_found};
use super::{Page, page, signed};
use crate::web::state::AppState;

/// `GET /admin/<type>/<key>/revisions/<number>/diff[?with=<other>]`: the
/// revision against `other`, by default the one before it.
pub async fn diff(
    State(state): State<Arc<AppState>>,
    Path((name, key, number)): Path<(String, String, i64)>,
    req: Request,
) -> Response {
    let with: Option<i64> = crate::web::public::parse_query(req.uri().query().unwrap_or(""))
        .into_iter()
        .find_map(|(k, v)| (k == "with").then(|| v.parse().ok()).flatten());
    done(
        async {
            let s = signed(&state, req).await?;
            let Some(kind) = kind_of(&name) else { return Err(not_found(&state, &s)) };
            let fail = |e| failed(&state, &s, &e);
            let mut list = state.store.revisions(state.site_id, kind, &key).await.map_err(fail)?;
            list.sort_by_key(|r| r.id);
            let Some(at) = list.iter().position(|r| r.id == number) else { return Err(not_found(&state, &s)) };
            let other = match with {
                Some(w) if list.iter().any(|r| r.id == w) => Some(w),
                Some(_) => return Err(not_found(&state, &s)),
                None => at.checked_sub(1).map(|i| list[i].id),
            };
            let load = |id: i64| {
                let state = &state;
                async move { state.store.revision(state.site_id, id).await.map(|r| r.data) }
            };
            let new = load(number).await.map_err(fail)?;
            let old = match other {
                Some(id) => load(id).await.map_err(fail)?,
                None => "{}".to_owned(),
            };
            let languages: Vec<&str> = state.index().site.languages.iter().map(|l| l.code()).collect();
            let groups = compare(&old, &new, &languages);
            let p = Page { title: Some(key.clone()), ..s.page("admin_compare", &name) };
            let ctx = context! { type => &name, key => &key, number, other, groups };
            Ok(page(&state, "admin/diff.html", &p, ctx, StatusCode::OK))
        }
        .await,
    )
}

/// The changed texts of two item JSONs, grouped: one group per language
/// (the fields below its code), then one for the fields of all languages.
fn compare(old: &str, new: &str, languages: &[&str]) -> Vec<Value> {
    let (old, new) = (texts(old), texts(new));
    let mut groups: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let fields: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for field in fields {
        let (a, b) = (old.get(field).map_or("", String::as_str), new.get(field).map_or("", String::as_str));
        if a == b {
            continue;
        }
        let runs = runs(a, b);
        let parts: Vec<Value> = runs.iter().map(|(tag, text)| context! { tag => *tag, text }).collect();
        let segments: Vec<&str> = field.split('.').collect();
        let group = languages.iter().position(|l| segments.contains(l)).unwrap_or(languages.len());
        groups.entry(group).or_default().push(context! { field, parts });
    }
    groups.into_iter().map(|(i, fields)| context! { lang => languages.get(i).copied(), fields }).collect()
}

/// The word diff of two texts as runs: a changed passage is one deleted and
/// one inserted run ("<del>on parole</del><ins>– edited</ins>"), not a
/// word at a time; spaces between changed words go with the change.
fn runs(old: &str, new: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let (mut del, mut ins, mut space) = (String::new(), String::new(), String::new());
    let absorb = |buffer: &mut String, space: &str| {
        if !buffer.is_empty() {
            buffer.push_str(space);
        }
    };
    for c in TextDiff::from_words(old, new).iter_all_changes() {
        let v = c.value();
        match c.tag() {
            ChangeTag::Delete | ChangeTag::Insert => {
                absorb(&mut del, &space);
                absorb(&mut ins, &space);
                space.clear();
                if c.tag() == ChangeTag::Delete { del.push_str(v) } else { ins.push_str(v) }
            }
            ChangeTag::Equal if v.trim().is_empty() && !(del.is_empty() && ins.is_empty()) => space.push_str(v),
            ChangeTag::Equal => {
                for (tag, text) in [("del", &mut del), ("ins", &mut ins)] {
                    if !text.is_empty() {
                        out.push((tag, std::mem::take(text)));
                    }
                }
                let same = format!("{}{v}", std::mem::take(&mut space));
                match out.last_mut() {
                    Some(("same", text)) => text.push_str(&same),
                    _ => out.push(("same", same)),
                }
            }
        }
    }
    for (tag, text) in [("del", del), ("ins", ins), ("same", space)] {
        if !text.is_empty() {
            out.push((tag, text));
        }
    }
    out
}

/// Every text in an item's JSON by its dotted path; lists of texts joined.
fn texts(json: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Json, out: &mut BTreeMap<String, String>) {
        match v {
            Json::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&path, v, out);
                }
            }
            Json::Array(items) if items.iter().all(|i| !i.is_object()) => {
                let joined: Vec<String> =
                    items.iter().map(|i| i.as_str().map_or(i.to_string(), str::to_owned)).collect();
                out.insert(prefix.to_owned(), joined.join(", "));
            }
            Json::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}.{}", n + 1), item, out);
                }
            }
            Json::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            Json::Null => {}
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(v) = serde_json::from_str::<Json>(json) {
        walk("", &v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_words_are_marked_per_language() {
        let old =
            r#"{"date":"1985-03-30","text":{"en":{"title":"The murders of Derek Haysom"},"de":{"title":"Die Morde"}}}"#;
        let new = r#"{"date":"1985-03-30","text":{"en":{"title":"The murders of Derek and Nancy Haysom"},"de":{"title":"Die Morde"}}}"#;
        let groups = compare(old, new, &["en", "de"]);
        assert_eq!(groups.len(), 1, "only English changed");
        let g = &groups[0];
        assert_eq!(g.get_attr("lang").unwrap().to_string(), "en");
        let parts = g.get_attr("fields").unwrap().get_item(&Value::from(0)).unwrap().get_attr("parts").unwrap();
        let inserted: Vec<String> = parts
            .try_iter()
            .unwrap()
            .filter(|p| p.get_attr("tag").unwrap().to_string() == "ins")
            .map(|p| p.get_attr("text").unwrap().to_string())
            .collect();
        assert_eq!(inserted.concat().trim(), "and Nancy");
    }

    #[test]
    fn a_changed_passage_is_one_run_each_way() {
        let r = runs("Released on parole after 33 years", "Released – edited in the admin");
        assert_eq!(
            r,
            vec![
                ("same", "Released ".to_owned()),
                ("del", "on parole after 33 years".to_owned()),
                ("ins", "– edited in the admin".to_owned())
            ]
        );
    }

    #[test]
    fn fields_of_all_languages_come_last_and_lists_are_compared_as_text() {
        let groups = compare(r#"{"sources":["a","b"]}"#, r#"{"sources":["a","c"]}"#, &["en", "de"]);
        assert_eq!(groups.len(), 1);
        assert!(groups[0].get_attr("lang").unwrap().is_none());
    }
}
