//! The parts of a WordPress export (WXR) the importer uses, read from the
//! element tree. See <https://wordpress.org/documentation/article/tools-export-screen/>.

use anyhow::{Result, bail};

use super::xml::{self, Element};

/// A WordPress export.
#[derive(Debug, Default)]
pub struct Export {
    pub title: String,
    pub description: String,
    /// The site's address (`<link>`), without a trailing slash.
    pub link: String,
    /// `en-US`, `de-DE`, … as WordPress writes it.
    pub language: String,
    pub authors: Vec<Author>,
    /// Category slug → its parent's slug ("" at the top).
    pub category_parents: Vec<(String, String)>,
    pub posts: Vec<Post>,
}

/// A `wp:author`.
#[derive(Debug, Default)]
pub struct Author {
    pub login: String,
    pub display_name: String,
}

/// An `item`: a post, page, attachment, menu entry …
#[derive(Debug, Default)]
pub struct Post {
    pub id: u64,
    pub title: String,
    /// The permalink.
    pub link: String,
    pub creator: String,
    /// HTML as stored by WordPress (classic or block markup).
    pub content: String,
    pub excerpt: String,
    /// `YYYY-MM-DD HH:MM:SS`, the site's local time.
    pub date: String,
    /// The same in UTC; `0000-00-00 00:00:00` for drafts never scheduled.
    pub date_gmt: String,
    /// When it last changed, UTC.
    pub modified_gmt: String,
    /// Percent-encoded, as WordPress keeps it.
    pub name: String,
    /// publish, future, draft, pending, private, trash, inherit, auto-draft.
    pub status: String,
    /// post, page, attachment, nav_menu_item, …
    pub kind: String,
    pub parent: u64,
    pub menu_order: i64,
    pub attachment_url: String,
    /// `(domain, nicename, name)`: category, post_tag, language (Polylang), …
    pub terms: Vec<(String, String, String)>,
    pub meta: Vec<(String, String)>,
    pub comments: usize,
    /// Set when the post was shown only to those who knew a password.
    pub password: bool,
}

impl Post {
    /// The names of its terms in one taxonomy.
    pub fn terms_in<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a (String, String, String)> + 'a {
        self.terms.iter().filter(move |(d, _, _)| d == domain)
    }

    /// A post meta value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Reads a WXR file; anything else is refused.
pub fn read(text: &str) -> Result<Export> {
    let root = match xml::parse(text) {
        Ok(root) => root,
        Err(e) => bail!("not a WordPress export (WXR): {e}"),
    };
    let channel = root.child("channel").filter(|_| root.name == "rss");
    let Some(channel) = channel.filter(|c| c.child("wp:wxr_version").is_some()) else {
        bail!("not a WordPress export (WXR): no <rss><channel> with <wp:wxr_version> (make one with Tools → Export)");
    };
    Ok(Export {
        title: channel.text_of("title").to_owned(),
        description: channel.text_of("description").to_owned(),
        link: channel.text_of("link").trim_end_matches('/').to_owned(),
        language: channel.text_of("language").to_owned(),
        authors: channel
            .all("wp:author")
            .map(|a| Author {
                login: a.text_of("wp:author_login").to_owned(),
                display_name: a.text_of("wp:author_display_name").to_owned(),
            })
            .collect(),
        category_parents: channel
            .all("wp:category")
            .map(|c| (c.text_of("wp:category_nicename").to_owned(), c.text_of("wp:category_parent").to_owned()))
            .collect(),
        posts: channel.all("item").map(post).collect(),
    })
}

fn post(item: &Element) -> Post {
    let number = |name: &str| item.text_of(name).parse().unwrap_or(0);
    Post {
        id: number("wp:post_id"),
        title: item.text_of("title").to_owned(),
        link: item.text_of("link").to_owned(),
        creator: item.text_of("dc:creator").to_owned(),
        content: item.child("content:encoded").map(|c| c.text.clone()).unwrap_or_default(),
        excerpt: item.text_of("excerpt:encoded").to_owned(),
        date: item.text_of("wp:post_date").to_owned(),
        date_gmt: item.text_of("wp:post_date_gmt").to_owned(),
        modified_gmt: item.text_of("wp:post_modified_gmt").to_owned(),
        name: item.text_of("wp:post_name").to_owned(),
        status: item.text_of("wp:status").to_owned(),
        kind: item.text_of("wp:post_type").to_owned(),
        parent: number("wp:post_parent"),
        menu_order: item.text_of("wp:menu_order").parse().unwrap_or(0),
        attachment_url: item.text_of("wp:attachment_url").to_owned(),
        terms: item
            .all("category")
            .map(|c| {
                let attr = |n| c.attr(n).unwrap_or("").to_owned();
                (attr("domain"), attr("nicename"), c.text.trim().to_owned())
            })
            .collect(),
        meta: item
            .all("wp:postmeta")
            .map(|m| (m.text_of("wp:meta_key").to_owned(), m.text_of("wp:meta_value").to_owned()))
            .collect(),
        comments: item.all("wp:comment").count(),
        password: !item.text_of("wp:post_password").is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_xml_is_not_taken_for_an_export() {
        let rss = r#"<rss version="2.0"><channel><title>A feed</title><item><title>x</title></item></channel></rss>"#;
        let err = read(rss).unwrap_err().to_string();
        assert!(err.starts_with("not a WordPress export (WXR)"), "{err}");
        assert!(read("<html><body>hi</body></html>").is_err());
        assert!(read("").is_err());
    }
}
