//! Markdown to safe HTML: pulldown-cmark renders, ammonia sanitises.
//!
//! Every piece of editor-written text passes through [`to_html`] before it
//! reaches a template, so raw HTML in content can never inject script,
//! styles or event handlers. Links keep only http(s), mailto and relative
//! addresses, and external links get `rel="noopener noreferrer"`.

use std::sync::LazyLock;

use ammonia::Builder;
use pulldown_cmark::{Options, Parser, html};

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .add_tags(["figure", "figcaption"])
        .add_generic_attributes(["id"])
        // Footnote references point at ids inside the same document.
        .id_prefix(None);
    b
});

/// Renders Markdown to sanitised HTML.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    sanitize(&raw)
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
    use pulldown_cmark::{Event, TagEnd};
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
            "base", "link", "template", "noscript", "textarea", "select", "video", "audio", "source",
        ];
        let doc = scraper::Html::parse_fragment(html);
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else { continue };
            let name = el.name();
            assert!(!FORBIDDEN.contains(&name), "<{name}> survived for {payload:?}: {html}");
            for (attr, value) in el.attrs() {
                assert!(!attr.to_ascii_lowercase().starts_with("on"), "{attr} survived for {payload:?}: {html}");
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
