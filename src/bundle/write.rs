//! Writing a [`Site`] as a bundle: the inverse of [`super::parse`], so an
//! export reads back as the same site (`casefile export-content`).

use anyhow::{Context, Result};

use super::{BundleFile, RedirectsFile, SiteFile, SourcesFile};
use crate::content::{Included, ItemKind, ItemRef, Site};

/// The text files of a bundle holding `site`, drafts included: `site.toml`,
/// `sources.toml`, `redirects.toml` (when there are redirects) and one
/// Markdown file per item.
pub fn files(site: &Site) -> Result<Vec<BundleFile>> {
    let site_file = SiteFile {
        key: site.key.clone(),
        default_language: site.default_lang(),
        languages: site.languages.clone(),
        subject: site.subject.clone(),
        operator: site.operator.clone(),
        contact: site.contact.clone(),
        text: site.text.clone(),
    };
    let mut out = vec![("site.toml".to_owned(), toml::to_string(&site_file).context("site.toml")?)];
    // Items another site stores are named in shared.toml, not copied.
    if let Some(shared) = &site.included {
        out.push(("shared.toml".to_owned(), shared_file(shared)?));
    }
    let own_sources =
        site.sources.iter().filter(|s| !site.shows_from_elsewhere(ItemKind::Source, &s.key)).cloned().collect();
    let sources = SourcesFile { source: own_sources };
    out.push(("sources.toml".to_owned(), toml::to_string(&sources).context("sources.toml")?));
    if !site.redirects.is_empty() {
        let redirects = RedirectsFile { redirect: site.redirects.clone() };
        out.push(("redirects.toml".to_owned(), toml::to_string(&redirects).context("redirects.toml")?));
    }
    let own = |i: &ItemRef<'_>| !site.shows_from_elsewhere(i.kind(), i.key());
    for item in site.items().filter(|i| !matches!(i.kind(), ItemKind::Source | ItemKind::Redirect)).filter(own) {
        let path = item.label();
        out.push((path.clone(), item_file(item, site).with_context(|| path)?));
    }
    Ok(out)
}

/// `shared.toml`: the site that stores the included items, and their keys
/// per folder.
fn shared_file(shared: &Included) -> Result<String> {
    let mut include = toml::Table::new();
    for (kind, key) in &shared.items {
        let folder = kind.folder().trim_end_matches(".toml");
        let keys = include.entry(folder).or_insert_with(|| toml::Value::Array(Vec::new()));
        if let toml::Value::Array(keys) = keys {
            keys.push(toml::Value::String(key.clone()));
        }
    }
    let mut file = toml::Table::new();
    file.insert("from".into(), toml::Value::String(shared.from.clone()));
    file.insert("include".into(), toml::Value::Table(include));
    Ok(toml::to_string(&file)?)
}

/// `+++`, the front matter, `+++`, then one `::: <lang>` section per body.
fn item_file(item: ItemRef<'_>, site: &Site) -> Result<String> {
    let mut front = toml::Table::try_from(item)?;
    front.remove("key");
    readable_times(&mut front);
    // When it last changed, so a site imported from the export shows the
    // same dates (feeds, sitemap, structured data).
    if let Some(updated) = item.meta().map(|m| m.updated_at).filter(|t| *t > 0) {
        front.insert("updated".into(), toml::Value::String(rfc3339(updated)));
    }
    // Derived on import from the file itself, where there is one.
    if item.kind() == ItemKind::Document && front.contains_key("file") {
        front.remove("media_type");
    }
    let mut bodies = Vec::new();
    for lang in &site.languages {
        let Some(toml::Value::Table(text)) = front.get_mut(lang.code()) else { continue };
        if let Some(toml::Value::String(body)) = text.remove("body") {
            bodies.push((lang, body));
        }
    }
    let mut file = format!("+++\n{}+++\n", toml::to_string(&front)?);
    for (lang, body) in bodies.iter().filter(|(_, b)| !b.is_empty()) {
        file.push_str(&format!("::: {lang}\n{body}\n\n"));
    }
    Ok(file)
}

/// Publication times as RFC 3339 text rather than unix seconds, in the item
/// and its statements.
fn readable_times(table: &mut toml::Table) {
    if let Some(toml::Value::Integer(t)) = table.get("published_at") {
        let text = rfc3339(*t);
        table.insert("published_at".into(), toml::Value::String(text));
    }
    if let Some(toml::Value::Array(statements)) = table.get_mut("statements") {
        statements.iter_mut().filter_map(toml::Value::as_table_mut).for_each(readable_times);
    }
}

fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Item;

    fn json_of(site: &Site) -> Vec<String> {
        let settings = serde_json::to_string(&site.settings()).unwrap();
        std::iter::once(settings).chain(site.items().map(|i| format!("{} {}", i.label(), i.to_json()))).collect()
    }

    #[test]
    fn a_written_site_reads_back_as_the_same_site() {
        let mut site = super::super::parse(&super::super::default_files()).unwrap();
        // What the default bundle lacks: a draft with a time, a redirect,
        // an old slug and quotes and newlines in a title.
        let mut news = site.news[0].clone();
        news.key = "a-draft".into();
        news.meta.status = crate::content::Status::Draft;
        news.meta.published_at = Some(1_900_000_000);
        for (i, t) in news.text.values_mut().enumerate() {
            t.slug = format!("a-draft-{i}");
            t.old_slugs = vec![format!("older-{i}")];
            t.title = "A \"quoted\" title\\ with ''' and \"\"\"".into();
        }
        site.push(Item::News(news));
        site.redirects.push(crate::content::Redirect { from: "/old".into(), to: "/case".into(), status: 302 });
        site.sort();
        let mut documents = site.documents.clone();
        let files = files(&site).unwrap();
        let mut back = super::super::parse(&files).unwrap_or_else(|e| panic!("{e}"));
        // The media type comes from the file, which `attach` reads.
        for (d, was) in back.documents.iter_mut().zip(documents.iter_mut()) {
            d.media_type = was.media_type.take();
        }
        assert_eq!(json_of(&back), json_of(&site));
    }
}
