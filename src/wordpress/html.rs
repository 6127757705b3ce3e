//! A post's WordPress HTML to Casefile Markdown: classic paragraphs made
//! explicit (WordPress adds `<p>` only when it shows a post), block
//! comments and shortcodes taken out, YouTube embeds lifted out as videos,
//! images turned into links to where they were (nothing on a page may load
//! from another site before the visitor asks), scripts and styles dropped,
//! then htmd writes Markdown. What was dropped is counted for the report.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What became of one post's content.
#[derive(Debug, Default, PartialEq)]
pub struct Converted {
    pub markdown: String,
    /// YouTube videos it embedded (their watch addresses), in order.
    pub videos: Vec<String>,
    /// Images, now links to their old address.
    pub images: usize,
    /// What could not be kept, one line each ("the shortcode [gallery]").
    pub dropped: Vec<String>,
}

static BLOCK_EMBED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<!--\s*wp:(?:core-)?embed[^>]*?"url"\s*:\s*"([^"]+)".*?-->.*?<!--\s*/wp:(?:core-)?embed[^>]*-->"#)
        .expect("a valid pattern")
});
static EMBED_SHORTCODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)\[embed[^\]]*\](.*?)\[/embed\]").expect("a valid pattern"));
static BARE_URL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(?:<p>)?[ \t]*(https?://[^\s<>]+)[ \t]*(?:</p>)?[ \t]*$").expect("a valid pattern")
});
static YOUTUBE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|embed/|shorts/)|youtu\.be/)([A-Za-z0-9_-]{11})",
    )
    .expect("a valid pattern")
});
static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->").expect("a valid pattern"));
/// `[name attr…]`, `[name]…[/name]` and `[/name]`; a bracketed word
/// without attributes or a closing tag (`[sic]`) is text, not a shortcode.
static SHORTCODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(/?)([a-zA-Z][a-zA-Z0-9_-]*)((?:\s[^\[\]]*)?)\]").expect("a valid pattern"));
static SCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<(script|style|noscript|iframe)\b.*?</(?:script|style|noscript|iframe)\s*>")
        .expect("a valid pattern")
});
static STYLE_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\sstyle\s*=\s*("[^"]*"|'[^']*')"#).expect("a valid pattern"));
static IMG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<img\b[^>]*>").expect("a valid pattern"));
static ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?is)\s(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("a valid pattern"));
/// The block elements `wpautop` knows.
const BLOCKS: &str = "p|div|ul|ol|li|h[1-6]|blockquote|table|thead|tbody|tr|td|th|figure|figcaption|pre|hr|dl|dt|dd|address|section|form";
static BLOCK_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?i)^</?(?:{BLOCKS})\b")).expect("a valid pattern"));
static BLOCK_OPEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?i)<(?:{BLOCKS})[\s/>]")).expect("a valid pattern"));
static BLOCK_CLOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?i)</(?:{BLOCKS})>")).expect("a valid pattern"));

/// The YouTube video id of a watch, share or embed address.
pub fn youtube_id(url: &str) -> Option<&str> {
    YOUTUBE.captures(url).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Converts one post's content.
pub fn to_markdown(html: &str) -> Converted {
    let mut out = Converted::default();
    let blocks = html.contains("<!-- wp:");
    let mut html = html.replace("\r\n", "\n");
    html = BLOCK_EMBED.replace_all(&html, |c: &Captures| embed(&mut out, &c[1])).into_owned();
    html = EMBED_SHORTCODE.replace_all(&html, |c: &Captures| embed(&mut out, c[1].trim())).into_owned();
    html = BARE_URL_LINE
        .replace_all(&html, |c: &Captures| match youtube_id(&c[1]) {
            Some(_) => embed(&mut out, &c[1]),
            None => format!("<p><a href=\"{0}\">{0}</a></p>", &c[1]),
        })
        .into_owned();
    html = COMMENT.replace_all(&html, "").into_owned();
    html = shortcodes(&html, &mut out);
    let scripts = SCRIPT.find_iter(&html).count();
    if scripts > 0 {
        out.dropped.push(format!("{scripts} script, style or frame element{}", plural(scripts)));
        html = SCRIPT.replace_all(&html, "").into_owned();
    }
    let styles = STYLE_ATTR.find_iter(&html).count();
    if styles > 0 {
        out.dropped.push(format!("{styles} inline style{}", plural(styles)));
        html = STYLE_ATTR.replace_all(&html, "").into_owned();
    }
    html = IMG.replace_all(&html, |c: &Captures| image(&mut out, &c[0])).into_owned();
    if !blocks {
        html = autop(&html);
    }
    let converter = htmd::HtmlToMarkdown::builder().skip_tags(vec!["script", "style", "noscript", "iframe"]).build();
    out.markdown = match converter.convert(&html) {
        Ok(md) => tidy(&md),
        Err(e) => {
            out.dropped.push(format!("the HTML could not be converted ({e}); kept as plain text"));
            crate::markdown::to_text(&html)
        }
    };
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An embed: a YouTube video is lifted out; anything else stays a link.
fn embed(out: &mut Converted, url: &str) -> String {
    let url = url.trim();
    if youtube_id(url).is_some() {
        out.videos.push(url.to_owned());
        String::new()
    } else {
        format!("<p><a href=\"{url}\">{url}</a></p>")
    }
}

/// Keeps what captions and other known wrappers hold; drops the rest.
fn shortcodes(html: &str, out: &mut Converted) -> String {
    let closing: std::collections::HashSet<String> =
        SHORTCODE.captures_iter(html).filter(|c| &c[1] == "/").map(|c| c[2].to_ascii_lowercase()).collect();
    let mut dropped = std::collections::BTreeSet::new();
    let result = SHORTCODE.replace_all(html, |c: &Captures| {
        let name = c[2].to_ascii_lowercase();
        let is_shortcode = !c[3].trim().is_empty() || closing.contains(&name);
        if !is_shortcode {
            return c[0].to_owned();
        }
        // Wrappers whose content is the post's own text.
        if !matches!(name.as_str(), "caption" | "wp_caption" | "su_note" | "su_box" | "quote" | "pullquote") {
            dropped.insert(name);
        }
        String::new()
    });
    for name in dropped {
        out.dropped.push(format!("the shortcode [{name}] (no equivalent in Casefile)"));
    }
    result.into_owned()
}

/// `<img>` → a link to the image's old address, named by its alt text.
fn image(out: &mut Converted, tag: &str) -> String {
    let (mut src, mut alt) = (String::new(), String::new());
    for a in ATTR.captures_iter(tag) {
        let value = a.get(2).or_else(|| a.get(3)).map_or("", |m| m.as_str()).to_owned();
        if a[1].eq_ignore_ascii_case("src") { src = value } else { alt = value }
    }
    if src.is_empty() {
        return String::new();
    }
    out.images += 1;
    let name = if alt.trim().is_empty() { src.rsplit('/').next().unwrap_or(&src).to_owned() } else { alt };
    format!("<a href=\"{src}\">{name}</a>")
}

/// WordPress's `wpautop`, simplified: text separated by a blank line is a
/// paragraph, a single line break inside one is a `<br>`.
fn autop(html: &str) -> String {
    // Block elements stand apart, as in WordPress: no paragraph around a
    // list, no line break between its items.
    let html = BLOCK_OPEN.replace_all(html, "\n\n$0");
    let html = BLOCK_CLOSE.replace_all(&html, "$0\n\n");
    let mut out = String::with_capacity(html.len() + 64);
    for chunk in html.split("\n\n").map(str::trim).filter(|c| !c.is_empty()) {
        if BLOCK_START.is_match(chunk) {
            out.push_str(chunk);
        } else {
            out.push_str("<p>");
            out.push_str(&chunk.replace('\n', "<br>\n"));
            out.push_str("</p>");
        }
        out.push('\n');
    }
    out
}

/// At most one blank line in a row, no trailing spaces.
fn tidy(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut blank = 0;
    for line in md.lines().map(str::trim_end) {
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank <= 1 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_paragraphs_lists_and_links_become_markdown() {
        let c = to_markdown(
            "First <strong>bold</strong> line\nsecond line\n\nA <a href=\"https://x.example/\">link</a>. We ask for:\n<ul>\n \t<li>one</li>\n \t<li>two</li>\n</ul>",
        );
        assert!(c.markdown.contains("**bold**"), "{}", c.markdown);
        assert!(c.markdown.contains("[link](https://x.example/)"), "{}", c.markdown);
        assert!(c.markdown.contains("*   one\n*   two"), "a tight list: {}", c.markdown);
        let paragraphs: Vec<&str> = c.markdown.split("\n\n").collect();
        assert!(paragraphs.len() >= 3, "{paragraphs:?}");
        assert!(c.dropped.is_empty());
    }

    #[test]
    fn scripts_styles_and_unknown_shortcodes_are_dropped_and_counted() {
        let c = to_markdown(
            "<p style=\"color:red\">styled</p>\n\n<script>alert('x')</script>\n\n[gallery ids=\"1,2\"]\n\nSee [sic] here.",
        );
        assert!(!c.markdown.contains("alert") && !c.markdown.contains("gallery"), "{}", c.markdown);
        assert!(c.markdown.contains("styled"), "{}", c.markdown);
        assert!(crate::markdown::to_html(&c.markdown).contains("See [sic] here."), "{}", c.markdown);
        assert_eq!(c.dropped.len(), 3, "{:?}", c.dropped);
    }

    #[test]
    fn youtube_embeds_are_lifted_out_and_other_embeds_stay_links() {
        let html = "<!-- wp:embed {\"url\":\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\",\"type\":\"video\"} -->\n<figure class=\"wp-block-embed\"><div class=\"wp-block-embed__wrapper\">\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n</div></figure>\n<!-- /wp:embed -->\n\n<!-- wp:paragraph --><p>Text</p><!-- /wp:paragraph -->\n\nhttps://youtu.be/aqz-KE-bpKQ\n\nhttps://example.org/page";
        let c = to_markdown(html);
        assert_eq!(c.videos, ["https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://youtu.be/aqz-KE-bpKQ"]);
        assert!(!c.markdown.contains("youtu"), "{}", c.markdown);
        assert!(c.markdown.contains("Text") && c.markdown.contains("https://example.org/page"), "{}", c.markdown);
    }

    #[test]
    fn captioned_images_become_links_with_their_caption() {
        let c = to_markdown(
            "[caption id=\"attachment_7\" align=\"aligncenter\" width=\"300\"]<img src=\"http://old.example/wp-content/uploads/a.jpg\" alt=\"The court\" width=\"300\" /> The courthouse in 1990[/caption]",
        );
        assert_eq!(c.images, 1);
        assert!(c.markdown.contains("[The court](http://old.example/wp-content/uploads/a.jpg)"), "{}", c.markdown);
        assert!(c.markdown.contains("The courthouse in 1990"), "{}", c.markdown);
        assert!(!c.markdown.contains("caption") && !c.markdown.contains("<img"), "{}", c.markdown);
        assert!(c.dropped.is_empty(), "{:?}", c.dropped);
    }

    #[test]
    fn youtube_ids_are_read_from_every_kind_of_address() {
        assert_eq!(youtube_id("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1"), Some("dQw4w9WgXcQ"));
        assert_eq!(youtube_id("https://youtu.be/aqz-KE-bpKQ"), Some("aqz-KE-bpKQ"));
        assert_eq!(youtube_id("https://www.youtube.com/embed/aqz-KE-bpKQ"), Some("aqz-KE-bpKQ"));
        assert_eq!(youtube_id("https://vimeo.com/1234"), None);
    }
}
