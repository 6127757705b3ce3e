//! schema.org structured data (JSON-LD) for the page being rendered:
//! Organization, WebSite and Person on the home page, Book, NewsArticle,
//! Event per timeline entry, and a BreadcrumbList everywhere else.

use serde_json::{Value, json};

use super::dates::{rfc3339, unix};
use super::routes::{SiteIndex, Target};
use crate::content::{Lang, PartialDate, Template};
use crate::markdown::to_text;

/// The JSON-LD for a page, ready to put inside `<script type="application/ld+json">`.
/// `<`, `>` and `&` are escaped, so content can never close the element.
/// `logo` is the site's card (the organisation's logo), `image` the page's
/// own share image.
pub fn for_target(index: &SiteIndex, target: &Target, logo: &str, image: &str) -> Option<String> {
    let site = &index.site;
    let mut graph = match *target {
        Target::Page { lang, index: i } => {
            let page = &site.pages[i];
            let mut graph = Vec::new();
            match page.template {
                Template::Home => {
                    graph.push(organization(index, lang, logo));
                    graph.push(json!({
                        "@type": "WebSite",
                        "name": site.text.get(&lang).map(|t| t.name.as_str()),
                        "url": index.absolute(&index.path_of("home", lang)?),
                        "inLanguage": lang.code(),
                    }));
                    if let Some(s) = &site.subject {
                        graph.push(json!({
                            "@type": "Person",
                            "name": s.name,
                            "birthDate": s.birth_date.map(|d| d.to_string()),
                            "birthPlace": s.birth_place.as_ref().map(|p| json!({ "@type": "Place", "name": p })),
                            "nationality": s.nationality.as_ref().map(|n| json!({ "@type": "Country", "name": n })),
                        }));
                    }
                }
                Template::Books => graph.extend(site.books.iter().map(|b| {
                    json!({
                        "@type": "Book",
                        "name": b.title,
                        "author": b.authors.iter().map(|a| json!({ "@type": "Person", "name": a })).collect::<Vec<_>>(),
                        "isbn": b.isbn,
                        "publisher": b.publisher.as_ref().map(|p| json!({ "@type": "Organization", "name": p })),
                        "datePublished": b.year.map(|y| y.to_string()),
                        "inLanguage": b.language.code(),
                        "description": b.text.get(&lang).map(|t| t.summary.as_str()),
                        "url": format!("{}#{}", index.absolute(&index.path_of("books", lang).unwrap_or_default()), b.key),
                    })
                })),
                Template::Timeline => {
                    let base = index.absolute(&index.path_of("timeline", lang)?);
                    graph.extend(site.timeline.iter().filter_map(|e| {
                        let t = e.text.get(&lang)?;
                        Some(json!({
                            "@type": "Event",
                            "name": t.title,
                            "startDate": e.date.map(|d| d.to_string()),
                            "endDate": e.end_date.map(|d| d.to_string()),
                            "description": truncate(&to_text(&t.body), 300),
                            "url": format!("{base}#{}", e.key),
                        }))
                    }));
                }
                _ => {}
            }
            if page.key != "home" {
                graph.push(breadcrumbs(
                    index,
                    lang,
                    &[(page.text.get(&lang)?.title.clone(), index.alternates(target))],
                ));
            }
            graph
        }
        Target::News { lang, index: i } => {
            let post = &site.news[i];
            let t = post.text.get(&lang)?;
            let url = index.absolute(&index.alternates(target).into_iter().find(|(l, _)| *l == lang)?.1);
            let news_page = site.page("news")?;
            let news_title = news_page.text.get(&lang)?.title.clone();
            let news_alternates = site.languages.iter().filter_map(|&l| Some((l, index.path_of("news", l)?))).collect();
            let graph = vec![
                json!({
                    "@type": "NewsArticle",
                    "headline": t.title,
                    "description": t.summary,
                    "datePublished": post.date.map(date_time),
                    "dateModified": rfc3339(post.meta.updated_at),
                    "inLanguage": lang.code(),
                    "mainEntityOfPage": url,
                    "image": image,
                    "author": organization(index, lang, logo),
                    "publisher": organization(index, lang, logo),
                }),
                breadcrumbs(index, lang, &[(news_title, news_alternates), (t.title.clone(), index.alternates(target))]),
            ];
            graph
        }
        _ => return None,
    };
    graph.retain(|v| !v.is_null());
    let doc = json!({ "@context": "https://schema.org", "@graph": graph });
    Some(strip_nulls(doc).to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026"))
}

fn organization(index: &SiteIndex, lang: Lang, logo: &str) -> Value {
    json!({
        "@type": "Organization",
        "name": index.site.text.get(&lang).map(|t| t.name.as_str()),
        "url": index.absolute(&index.path_of("home", lang).unwrap_or_else(|| "/".into())),
        "logo": logo,
    })
}

/// Home → each `(title, alternates)` level, in the page's language.
fn breadcrumbs(index: &SiteIndex, lang: Lang, levels: &[(String, Vec<(Lang, String)>)]) -> Value {
    let home_title = index.site.text.get(&lang).map(|t| t.name.clone()).unwrap_or_default();
    let mut items = vec![(home_title, index.path_of("home", lang).unwrap_or_else(|| "/".into()))];
    for (title, alternates) in levels {
        if let Some((_, path)) = alternates.iter().find(|(l, _)| *l == lang) {
            items.push((title.clone(), path.clone()));
        }
    }
    let list: Vec<Value> = items
        .into_iter()
        .enumerate()
        .map(|(i, (name, path))| json!({ "@type": "ListItem", "position": i + 1, "name": name, "item": index.absolute(&path) }))
        .collect();
    json!({ "@type": "BreadcrumbList", "itemListElement": list })
}

fn date_time(d: PartialDate) -> String {
    if d.day.is_some() { d.to_string() } else { rfc3339(unix(d)) }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a))
}

/// Removes `null` members, which schema.org validators flag.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}
