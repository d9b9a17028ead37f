//! A small XML element tree for REST-XML bodies: build a request document,
//! read an answer by element names. Names are local (namespace prefixes
//! dropped on reading); text is unescaped on reading and escaped on writing.

use std::fmt::Write as _;

/// One element: its name, attributes, text and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// The element's own text (concatenated, surrounding white space kept).
    pub text: String,
    pub children: Vec<Element>,
}

/// An answer that is not well-formed XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the answer is not XML: {0}")]
pub struct XmlError(String);

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            ..Default::default()
        }
    }

    /// An element holding only text: `<Name>text</Name>`.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    pub fn with_children(mut self, children: impl IntoIterator<Item = Element>) -> Self {
        self.children.extend(children);
        self
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in document order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// The first element named `name` below this one, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// The element as a document, with the XML declaration.
    pub fn to_document(&self) -> String {
        let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attributes {
            let _ = write!(out, r#" {name}="{}""#, escape(value));
        }
        out.push('>');
        out.push_str(&escape(&self.text));
        for child in &self.children {
            child.write(out);
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// Escapes text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces the five named entities and character references.
fn unescape(text: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| XmlError(format!("unterminated entity in `{text}`")))?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| XmlError(format!("unknown entity `&{entity};`")))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses a document into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    use xmlparser::{ElementEnd, Token};
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    for token in xmlparser::Tokenizer::from(text) {
        let token = token.map_err(|e| XmlError(e.to_string()))?;
        match token {
            Token::ElementStart { local, .. } => stack.push(Element::new(local.as_str())),
            Token::Attribute { local, value, .. } => {
                if let Some(open) = stack.last_mut() {
                    open.attributes
                        .push((local.as_str().to_owned(), unescape(value.as_str())?));
                }
            }
            Token::ElementEnd { end, .. } => {
                let closes = match end {
                    ElementEnd::Open => false,
                    ElementEnd::Close(..) | ElementEnd::Empty => true,
                };
                if closes {
                    let done = stack
                        .pop()
                        .ok_or_else(|| XmlError("an end tag without a start".into()))?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Token::Text { text } => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&unescape(text.as_str())?);
                }
            }
            Token::Cdata { text, .. } => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError("the document ends inside an element".into()));
    }
    root.ok_or_else(|| XmlError("no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_written_escaped_and_read_back() {
        let doc = Element::new("ChangeResourceRecordSetsRequest")
            .attr("xmlns", "https://route53.amazonaws.com/doc/2013-04-01/")
            .with_child(
                Element::new("ChangeBatch").with_child(Element::leaf("Comment", "a < b & \"c\"")),
            );
        let text = doc.to_document();
        assert_eq!(
            text,
            r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>a &lt; b &amp; &quot;c&quot;</Comment></ChangeBatch></ChangeResourceRecordSetsRequest>"#
        );
        assert_eq!(parse(&text).unwrap(), doc);
    }

    #[test]
    fn answers_are_read_by_local_names() {
        let answer = r#"<?xml version="1.0"?>
<r53:GetChangeResponse xmlns:r53="https://route53.amazonaws.com/doc/2013-04-01/">
  <r53:ChangeInfo><r53:Id>/change/C2682N5HXP0BZ4</r53:Id><r53:Status>INSYNC</r53:Status><Empty/><Note><![CDATA[<raw>]]> &#x41;&#66;</Note></r53:ChangeInfo>
</r53:GetChangeResponse>"#;
        let root = parse(answer).unwrap();
        assert_eq!(root.name, "GetChangeResponse");
        let info = root.child("ChangeInfo").unwrap();
        assert_eq!(info.child_text("Status"), Some("INSYNC"));
        assert_eq!(
            root.find("Id").map(|e| e.text.as_str()),
            Some("/change/C2682N5HXP0BZ4")
        );
        assert_eq!(info.child_text("Empty"), Some(""));
        assert_eq!(info.child_text("Note"), Some("<raw> AB"));
    }

    #[test]
    fn broken_documents_are_errors() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("not xml").is_err());
        assert!(parse("<a>&bogus;</a>").is_err());
    }
}
