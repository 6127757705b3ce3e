//! Property tests: the parsers and the sanitiser hold their promises for
//! any input, not only for the cases we thought of. 10,000 cases each on a
//! laptop, 500 in CI (`PROPTEST_CASES` overrides both). A case that fails
//! is written to `proptest-regressions/` beside this file; commit it, and
//! it is tried first on every run after.

use casefile::forms::{Contact, Input, Sign, Subscribe, email_address};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    let default = if std::env::var_os("CI").is_some() { 500 } else { 10_000 };
    Config::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

/// Pieces attackers put together: tags, handlers, protocols, entities,
/// comments, Markdown links and raw HTML blocks.
const XSS_PIECES: &[&str] = &[
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "<a href=\"java\tscript:x\">",
    "![i](x\" onerror=\"alert(1))",
    "<iframe src=//evil>",
    "<style>*{}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=1>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<div ",
    " onclick=",
    "\"",
    "'",
    ">",
    "`",
    "\n\n",
    "    ",
    "<details open ontoggle=alert(1)>",
    "<form action=javascript:1><button>",
    "<object data=x>",
    "<base href=//evil>",
    "&lt;script&gt;",
    "<noscript><p title=\"</noscript><img src=x onerror=1>\">",
];

fn hostile_markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(XSS_PIECES).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-z ]{0,8}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Whether an attribute value is a script URL, the way a browser reads it
/// (control characters and spaces are ignored inside the scheme).
fn is_script_url(value: &str) -> bool {
    let scheme: String =
        value.chars().filter(|c| !c.is_ascii_control() && !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"].iter().any(|s| scheme.starts_with(s))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sanitised_markdown_never_carries_script(markdown in hostile_markdown()) {
        let html = casefile::markdown::to_html(&markdown);
        let doc = scraper::Html::parse_fragment(&html);
        for node in doc.tree.nodes() {
            if let Some(el) = node.value().as_element() {
                prop_assert!(
                    !matches!(el.name(), "script" | "style" | "iframe" | "object" | "embed" | "form" | "base" | "svg" | "math"),
                    "<{}> in {html}", el.name()
                );
                for (name, value) in el.attrs() {
                    prop_assert!(!name.to_ascii_lowercase().starts_with("on"), "{name}= in {html}");
                    prop_assert!(!is_script_url(value), "{name}={value:?} in {html}");
                }
            }
        }
        prop_assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        prop_assert_eq!(casefile::markdown::sanitize(&html), html.clone(), "sanitising twice changes nothing");
    }

    #[test]
    fn the_form_decoder_takes_any_bytes_and_gives_back_what_was_encoded(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        fields in prop::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..20),
    ) {
        if let Some(input) = Input::parse(&bytes) {
            // Every validator copes with whatever arrived.
            let _ = (Subscribe::validate(&input), Contact::validate(&input), Sign::validate(&input));
        }
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &fields {
            body.append_pair(k, v);
        }
        let input = Input::parse(body.finish().as_bytes()).expect("a plausible form");
        prop_assert_eq!(&input.0, &fields);
    }

    #[test]
    fn accepted_names_and_subjects_carry_no_hidden_characters(name in any::<String>(), subject in any::<String>()) {
        let input = Input([
            ("name".to_owned(), name),
            ("email".to_owned(), "a@example.org".to_owned()),
            ("subject".to_owned(), subject),
            ("message".to_owned(), "m".to_owned()),
        ].into());
        if let Ok(c) = Contact::validate(&input) {
            for field in [&c.name, &c.subject] {
                prop_assert!(!field.chars().any(|ch| ch.is_control()), "{field:?}");
                prop_assert!(!field.chars().any(|ch| matches!(ch, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')), "{field:?}");
                prop_assert_eq!(field.trim(), field.as_str());
            }
        }
    }

    #[test]
    fn accepted_addresses_are_sendable_and_stable(
        local in prop_oneof!["[a-zA-Z0-9._+-]{1,20}", any::<String>()],
        domain in prop_oneof!["[a-zA-Z0-9-]{1,12}\\.[a-z]{2,6}", "[a-zäöüß]{1,10}\\.(de|example)", any::<String>()],
    ) {
        let typed = format!("{local}@{domain}");
        if let Some(address) = email_address(&typed) {
            prop_assert!(address.parse::<lettre::Address>().is_ok(), "{address}");
            prop_assert_eq!(email_address(&address), Some(address.clone()), "normalising twice changes nothing");
            let (_, domain) = address.rsplit_once('@').unwrap();
            prop_assert!(domain.is_ascii() && !domain.contains(['[', ']']), "{address}");
            prop_assert!(!address.chars().any(|c| c.is_whitespace() || c.is_control()), "{address:?}");
            prop_assert_eq!(address.to_lowercase(), address.clone());
        }
    }

    #[test]
    fn a_damaged_bundle_is_refused_or_read_never_a_panic(
        file in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..40,
        insert in prop_oneof![Just(String::new()), any::<String>(), prop::sample::select(&["\"", "]", "[[", "=", "\n", "key = 1\n", "date = \"1985-13-45\"\n"][..]).prop_map(str::to_owned)],
    ) {
        let mut files = casefile::bundle::default_files();
        let which = file.index(files.len());
        let (_, text) = &mut files[which];
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.replace_range(at..end, &insert);
        let _ = casefile::bundle::parse(&files);
    }
}
