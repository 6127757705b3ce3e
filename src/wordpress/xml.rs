//! A WordPress export as a small element tree: WXR files are a few
//! megabytes of RSS, and walking a tree keeps the reader in `wxr.rs`
//! short. Names keep their prefixes (`wp:post_id`), which WordPress
//! writes the same in every WXR version.

use anyhow::{Result, bail};
use quick_xml::XmlVersion;
use quick_xml::events::Event;

/// An element: its name, attributes, text (CDATA included) and children.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child with this name, or "".
    pub fn text_of(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.trim())
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parses a whole document into its root element.
pub fn parse(xml: &str) -> Result<Element> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let at = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => bail!("the XML is malformed near byte {at}: {e}"),
        };
        match event {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let el = element(&e)?;
                top(&mut stack).children.push(el);
            }
            Event::End(_) => {
                let done = stack.pop().filter(|_| !stack.is_empty());
                match done {
                    Some(el) => top(&mut stack).children.push(el),
                    None => bail!("the XML closes an element it never opened"),
                }
            }
            Event::Text(t) => top(&mut stack).text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(t) => top(&mut stack).text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref()? {
                    Some(c) => c.to_string(),
                    None => match r.xml_content(XmlVersion::Implicit1_0).as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => bail!("the XML uses an unknown entity `&{other};`"),
                    },
                };
                top(&mut stack).text.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        bail!("the XML ends before its elements are closed (a truncated file?)");
    }
    let mut root = stack.pop().unwrap_or_default();
    match root.children.len() {
        1 => Ok(root.children.remove(0)),
        _ => bail!("the file is not one XML document"),
    }
}

fn top(stack: &mut [Element]) -> &mut Element {
    stack.last_mut().expect("the document element is never popped")
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Element> {
    let name = e.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a?;
        attrs.push((a.key.as_ref().to_owned(), a.normalized_value(XmlVersion::Implicit1_0)?.into_owned()));
    }
    Ok(Element { name, attrs, ..Element::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cdata_and_entities_are_joined() {
        let root = parse(
            r#"<rss><channel><title>A &amp; B &#252;</title><x a="1&amp;2"><![CDATA[<p>c</p>]]></x></channel></rss>"#,
        )
        .unwrap();
        let channel = root.child("channel").unwrap();
        assert_eq!(channel.text_of("title"), "A & B ü");
        assert_eq!(channel.text_of("x"), "<p>c</p>");
        assert_eq!(channel.child("x").unwrap().attr("a"), Some("1&2"));
    }

    #[test]
    fn broken_documents_are_refused() {
        assert!(parse("<rss><channel>").is_err());
        assert!(parse("<a></a><b></b>").is_err());
        assert!(parse("not xml at all").is_err());
    }
}
