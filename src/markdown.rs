//! Markdown to safe HTML: pulldown-cmark renders, ammonia sanitises.
//!
//! Every piece of editor-written text passes through [`to_html`] before it
//! reaches a template, so raw HTML in content can never inject script,
//! styles or event handlers. Links keep only http(s), mailto and relative
//! addresses, and external links get `rel="noopener noreferrer"`.

use std::sync::LazyLock;

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .add_tags(["figure", "figcaption", "picture", "source"])
        .add_tag_attributes("source", ["srcset", "sizes", "type"])
        .add_tag_attributes("img", ["srcset", "sizes", "width", "height", "loading", "decoding"])
        // A `srcset` names only the site's own images: no other site is
        // asked for anything before a visitor chooses to.
        .attribute_filter(|_, attr, value| match attr {
            "srcset" => own_srcset(value).then(|| value.into()),
            _ => Some(value.into()),
        })
        .add_generic_attributes(["id"])
        // Footnote references point at ids inside the same document.
        .id_prefix(None);
    b
});

/// Renders Markdown to sanitised HTML. An image whose address is
/// `media:<key>` (an upload, see `media`) becomes a `<picture>` of its
/// WebP and JPEG variants.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Pictures { events: Parser::new_ext(markdown, options) });
    sanitize(&raw)
}

/// Turns `![alt](media:<key>)` into a `<picture>`; other events pass.
struct Pictures<'a, I: Iterator<Item = Event<'a>>> {
    events: I,
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Pictures<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let event = self.events.next()?;
        let Event::Start(Tag::Image { dest_url, .. }) = &event else { return Some(event) };
        let Some(key) = dest_url.strip_prefix("media:").filter(|k| crate::media::is_key(k)) else {
            return Some(event);
        };
        let key = key.to_owned();
        let mut alt = String::new();
        for e in self.events.by_ref() {
            match e {
                Event::End(TagEnd::Image) => break,
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                _ => {}
            }
        }
        Some(Event::Html(picture(&key, &alt).into()))
    }
}

/// The `<picture>` of an uploaded image: WebP for browsers that take it,
/// JPEG for the rest, each in every width made, laid out at its size.
pub fn picture(key: &str, alt: &str) -> String {
    let Some((width, height)) = crate::media::size_of_key(key) else { return String::new() };
    let widths = crate::media::widths(width);
    let set = |ext: &str| widths.iter().map(|w| format!("/media/{key}/{w}.{ext} {w}w")).collect::<Vec<_>>().join(", ");
    let fallback = widths.iter().copied().filter(|&w| w <= 960).max().unwrap_or(widths[0]);
    let sizes = "(max-width: 45rem) 100vw, 45rem";
    let alt = alt.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<picture><source type=\"image/webp\" srcset=\"{}\" sizes=\"{sizes}\"><img src=\"/media/{key}/{fallback}.jpg\" srcset=\"{}\" sizes=\"{sizes}\" alt=\"{alt}\" width=\"{width}\" height=\"{height}\" loading=\"lazy\" decoding=\"async\"></picture>",
        set("webp"),
        set("jpg")
    )
}

/// Whether every address in a `srcset` is one of the site's uploads.
fn own_srcset(value: &str) -> bool {
    value.split(',').all(|candidate| {
        let url = candidate.split_whitespace().next().unwrap_or("");
        url.strip_prefix("/media/").is_some_and(|rest| {
            let (key, file) = rest.split_once('/').unwrap_or(("", ""));
            crate::media::variant(key, file).is_some()
        })
    })
}

/// Keeps only the HTML [`to_html`] allows (its last step). The result is a
/// fixed point: sanitised again, it stays the same, so a browser parsing it
/// builds the tree the sanitiser checked (misnested markup such as
/// `<p><object><p>` is re-parsed differently the second time; found by the
/// property tests).
pub fn sanitize(html: &str) -> String {
    let mut clean = SANITIZER.clean(html).to_string();
    for _ in 0..3 {
        let again = SANITIZER.clean(&clean).to_string();
        if again == clean {
            break;
        }
        clean = again;
    }
    clean
}

/// Strips Markdown to plain text (for descriptions and search).
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item)
                if !out.ends_with(' ') =>
            {
                out.push(' ');
            }
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads from the OWASP XSS filter evasion cheat sheet and known
    /// sanitizer bypasses (mXSS, namespace confusion, protocol tricks).
    const XSS_CORPUS: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<body onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "[x](javascript:alert(1))",
        "[x](  javascript:alert(1) )",
        "[x](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<style>@import 'http://evil/x.css';</style>",
        "<object data=\"x.swf\"></object>",
        "<embed src=\"x.swf\">",
        "<form action=\"http://evil\"><input name=x></form>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<a href=\"x\" onclick=\"alert(1)\">x</a>",
        "<details open ontoggle=alert(1)>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"http://evil/\">",
        "<link rel=stylesheet href=http://evil/x.css>",
        "<template><script>alert(1)</script></template>",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<!--<script>alert(1)</script>-->",
        "`<script>alert(1)</script>`",
        "<scr<script>ipt>alert(1)</script>",
        "<IMG SRC=`javascript:alert(1)`>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<video><source onerror=alert(1)></video>",
        "<input autofocus onfocus=alert(1)>",
    ];

    /// Re-parses the output as a browser would and looks for anything
    /// that could run script or load from elsewhere.
    fn assert_safe(html: &str, payload: &str) {
        const FORBIDDEN: &[&str] = &[
            "script", "style", "iframe", "frame", "svg", "math", "object", "embed", "form", "input", "button", "meta",
            "base", "link", "template", "noscript", "textarea", "select", "video", "audio",
        ];
        let doc = scraper::Html::parse_fragment(html);
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else { continue };
            let name = el.name();
            assert!(!FORBIDDEN.contains(&name), "<{name}> survived for {payload:?}: {html}");
            if name == "source" {
                // Kept for uploads' <picture>: only with the site's own images.
                assert!(el.attrs().all(|(a, _)| matches!(a, "srcset" | "sizes" | "type")), "{html}");
            }
            for (attr, value) in el.attrs() {
                assert!(!attr.to_ascii_lowercase().starts_with("on"), "{attr} survived for {payload:?}: {html}");
                assert!(attr != "srcset" || value.starts_with("/media/"), "{attr}={value} for {payload:?}: {html}");
                assert_ne!(attr, "style", "style survived for {payload:?}: {html}");
                let v: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
                let v = v.to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!v.starts_with(scheme), "{attr}={value} survived for {payload:?}: {html}");
                }
            }
        }
    }

    #[test]
    fn uploaded_images_become_pictures_of_their_variants_only() {
        let html = to_html("Before ![The court \"house\" & co](media:img-0123456789ab-1200x800) after");
        assert!(html.contains("<picture><source type=\"image/webp\" srcset=\"/media/img-0123456789ab-1200x800/480.webp 480w, /media/img-0123456789ab-1200x800/960.webp 960w, /media/img-0123456789ab-1200x800/1200.webp 1200w\""), "{html}");
        assert!(html.contains("src=\"/media/img-0123456789ab-1200x800/960.jpg\""), "{html}");
        assert!(
            html.contains("alt=\"The court &quot;house&quot; &amp; co\"") && html.contains("width=\"1200\""),
            "{html}"
        );
        // A key that is not one stays an ordinary (broken) image address.
        assert!(!to_html("![x](media:../../etc/passwd)").contains("<picture"));
        // A srcset written by hand that names another site is dropped.
        let foreign = to_html("<img src=\"/a.jpg\" srcset=\"https://tracker.example/p.gif 1x\" alt=\"\">");
        assert!(!foreign.contains("tracker.example"), "{foreign}");
        let own = to_html(
            "<img src=\"/a.jpg\" srcset=\"/media/img-0123456789ab-1200x800/480.jpg 480w, //evil.example/x 2x\">",
        );
        assert!(!own.contains("srcset"), "one foreign candidate drops the srcset: {own}");
    }

    #[test]
    fn xss_payloads_are_neutralised() {
        for payload in XSS_CORPUS {
            assert_safe(&to_html(payload), payload);
            // Inline in a paragraph and inside a list as well.
            assert_safe(&to_html(&format!("Text {payload} more")), payload);
            assert_safe(&to_html(&format!("- {payload}")), payload);
        }
    }

    #[test]
    fn sanitising_is_idempotent() {
        for payload in XSS_CORPUS {
            let once = to_html(payload);
            assert_eq!(SANITIZER.clean(&once).to_string(), once, "not a fixpoint for {payload:?}");
        }
    }

    #[test]
    fn ordinary_markdown_survives() {
        let html = to_html(
            "# Title\n\nSome *emphasis* and a [link](https://example.org/a) and [inside](/timeline#x).\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        );
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<em>emphasis</em>"));
        assert!(html.contains("href=\"https://example.org/a\""));
        assert!(html.contains("rel=\"noopener noreferrer\""));
        assert!(html.contains("href=\"/timeline#x\""));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(to_text("# A\n\nB *c* [d](/x)"), "A B c d");
    }
}
