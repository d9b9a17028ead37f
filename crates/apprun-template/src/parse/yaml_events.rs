//! YAML read event by event into apprun's [`Value`], without an
//! intermediate tree: the parser's events are consumed as they come, each
//! node is built once, and nothing of the document is buffered besides the
//! value being built (and the anchored nodes an alias may repeat).
//!
//! Scalars resolve as the YAML reader apprun used before (the YAML 1.2 core
//! schema, as CloudFormation's own reader): `true`/`false` in three
//! capitalisations are booleans (`yes`/`no` stay strings), `null`, `~` and
//! the empty plain scalar are null, integers in decimal, `0x`, `0o` and
//! `0b`, decimal digits with a leading zero stay strings, `.inf`/`.nan` are
//! floats; quoted and block scalars are always strings. A local tag
//! (`!Ref`, `!Sub`, ...) is a short-form function; the non-specific tag `!`
//! leaves the node as it is.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};

use super::{ParseError, Reader};
use crate::value::{Map, Str, Value};

/// The core schema's tags once resolved (`!!str` is `tag:yaml.org,2002:str`).
const CORE: &str = "tag:yaml.org,2002:";

/// Builds the single document of a YAML text.
pub(super) struct Builder<'t, 'r> {
    events: Parser<'t, StrInput<'t>>,
    reader: &'r mut Reader,
    /// The path of the node being read (`Resources/Vpc/Properties`).
    path: String,
    /// Anchored nodes, for the aliases that repeat them.
    anchors: HashMap<usize, Value>,
    /// Nodes read from the text, and nodes copied for anchors and aliases:
    /// copies may not outnumber the nodes read (a "billion laughs" document
    /// would otherwise grow exponentially from a few lines).
    read: usize,
    copied: usize,
}

type Step<'t> = (Event<'t>, Span);

fn scan_error(e: &ScanError) -> ParseError {
    ParseError::Yaml {
        message: e.info().to_owned(),
        line: Some(e.marker().line()),
        column: Some(e.marker().col() + 1),
    }
}

fn error_at(span: &Span, message: impl Into<String>) -> ParseError {
    ParseError::Yaml {
        message: message.into(),
        line: Some(span.start.line()),
        column: Some(span.start.col() + 1),
    }
}

/// How a node's tag reads.
enum Tagged {
    /// No tag, a core-schema tag on a collection, or the non-specific `!`.
    Plain,
    /// A core-schema tag on a scalar (`!!str`, `!!int`, ...): its suffix.
    Core(String),
    /// A local tag: a short-form function named by the tag.
    Function(String),
}

fn tagged(tag: Option<&Tag>) -> Tagged {
    match tag {
        None => Tagged::Plain,
        Some(t) if t.handle == CORE => Tagged::Core(t.suffix.clone()),
        // The non-specific tag `!` (the parser gives it as an empty handle).
        Some(t) if t.handle.is_empty() && t.suffix == "!" => Tagged::Plain,
        Some(t) if t.handle == "!" => Tagged::Function(t.suffix.clone()),
        Some(t) => Tagged::Function(t.to_string().trim_start_matches('!').to_owned()),
    }
}

impl<'t, 'r> Builder<'t, 'r> {
    pub(super) fn new(text: &'t str, reader: &'r mut Reader) -> Self {
        Builder {
            events: Parser::new_from_str(text),
            reader,
            path: String::new(),
            anchors: HashMap::new(),
            read: 0,
            copied: 0,
        }
    }

    fn next(&mut self) -> Result<Step<'t>, ParseError> {
        match self.events.next_event() {
            Some(Ok(step)) => Ok(step),
            Some(Err(e)) => Err(scan_error(&e)),
            None => Err(ParseError::Yaml {
                message: "unexpected end of the YAML stream".into(),
                line: None,
                column: None,
            }),
        }
    }

    /// The document's root value: null for a stream without a document,
    /// an error for a stream of more than one.
    pub(super) fn document(mut self) -> Result<Value, ParseError> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(root.unwrap_or(Value::Null)),
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(error_at(
                        &span,
                        "deserializing from YAML containing more than one document is not supported",
                    ));
                }
                Event::DocumentStart(_) => {
                    let (event, span) = self.next()?;
                    root = Some(self.node(event, span, 0)?);
                }
                _ => return Err(error_at(&span, "unexpected YAML event")),
            }
        }
    }

    /// The root mapping's `Transform` entry, read before the rest (the
    /// functions a transform adds must be known while reading); every
    /// other entry is skipped unbuilt. `None` as well when the text does
    /// not read (the main pass says why).
    pub(super) fn transform_section(mut self) -> Option<Value> {
        loop {
            match self.next().ok()?.0 {
                Event::StreamStart | Event::DocumentStart(_) => {}
                Event::MappingStart(..) => break,
                _ => return None,
            }
        }
        loop {
            let (key, _) = self.next().ok()?;
            let is_transform = match &key {
                Event::MappingEnd => return None,
                Event::Scalar(text, ..) => text == "Transform",
                _ => false,
            };
            self.skip(&key).ok()?;
            let (value, span) = self.next().ok()?;
            if is_transform {
                self.path.push_str("Transform");
                return self.node(value, span, 1).ok();
            }
            self.skip(&value).ok()?;
        }
    }

    /// One node (scalar, sequence, mapping or alias) and everything in it.
    fn node(&mut self, event: Event<'t>, span: Span, depth: usize) -> Result<Value, ParseError> {
        self.read += 1;
        if self.reader.too_deep(&self.path, depth) {
            self.skip(&event)?;
            return Ok(Value::Null);
        }
        let (anchor, value) = match event {
            Event::Alias(id) => return self.alias(id, &span),
            Event::Scalar(text, style, anchor, tag) => {
                let value = match tagged(tag.as_deref()) {
                    Tagged::Plain => scalar(&text, style),
                    Tagged::Core(suffix) => core_scalar(&text, &suffix, &span)?,
                    Tagged::Function(name) => {
                        let arg = scalar(&text, style);
                        self.function(&name, arg, depth)
                    }
                };
                (anchor, value)
            }
            Event::SequenceStart(anchor, tag) => {
                let items = self.sequence(depth + usize::from(is_function(tag.as_deref())))?;
                (
                    anchor,
                    self.tag_collection(tag.as_deref(), Value::list(items)),
                )
            }
            Event::MappingStart(anchor, tag) => {
                let inner = depth + usize::from(is_function(tag.as_deref()));
                let map = self.mapping(inner)?;
                let value = self.reader.long_form(map, &self.path);
                (anchor, self.tag_collection(tag.as_deref(), value))
            }
            _ => return Err(error_at(&span, "unexpected YAML event")),
        };
        if anchor != 0 {
            self.copied += count_nodes(&value);
            self.check_copies(&span)?;
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    /// A tagged collection: the function its local tag names, if any.
    fn tag_collection(&mut self, tag: Option<&Tag>, value: Value) -> Value {
        match tagged(tag) {
            Tagged::Function(name) => self.apply(&name, value),
            _ => value,
        }
    }

    /// A short-form function around a scalar (read one level deeper, as
    /// the tagged node's content).
    fn function(&mut self, name: &str, arg: Value, depth: usize) -> Value {
        if self.reader.too_deep(&self.path, depth + 1) {
            return self.apply(name, Value::Null);
        }
        self.apply(name, arg)
    }

    fn apply(&mut self, name: &str, arg: Value) -> Value {
        match name {
            "Ref" | "Condition" => self.reader.intrinsic(name, arg, &self.path),
            _ => self
                .reader
                .intrinsic(&format!("Fn::{name}"), arg, &self.path),
        }
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                // Growth leaves up to twice the room (and four items for
                // one): a tree of many small lists would be mostly room.
                crate::map::fit(&mut items);
                return Ok(items);
            }
            let len = self.enter(&items.len().to_string());
            let item = self.node(event, span, depth + 1);
            self.path.truncate(len);
            items.push(item?);
        }
    }

    /// A mapping's entries; merge keys (`<<`) are applied at its end.
    fn mapping(&mut self, depth: usize) -> Result<Map, ParseError> {
        let mut map = Map::new();
        let mut merged: Vec<Value> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key = self.key(event, &span, depth)?;
            let (event, value_span) = self.next()?;
            let Some(key) = key else {
                // A key CloudFormation cannot read: its value is read (to
                // get past it) and dropped.
                self.node(event, value_span, depth + 1)?;
                continue;
            };
            let duplicate = if key == "<<" {
                !merged.is_empty()
            } else {
                map.contains_key(&key)
            };
            if duplicate {
                let at = if self.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", self.path)
                };
                return Err(error_at(
                    &span,
                    format!("{at}duplicate entry with key {key:?}"),
                ));
            }
            let len = self.enter(&key);
            let value = self.node(event, value_span, depth + 1);
            self.path.truncate(len);
            let value = value?;
            if key == "<<" {
                merged.push(value);
            } else {
                map.insert(key, value);
            }
        }
        if !merged.is_empty() {
            self.reader.merge(&mut map, merged, &self.path);
        }
        map.shrink_to_fit();
        Ok(map)
    }

    /// A mapping key as CloudFormation reads it: a scalar as its text, a
    /// non-specific tag (`! "Ref"`) as the scalar it tags; `None` (with a
    /// note) for a collection or a tagged key.
    fn key(
        &mut self,
        event: Event<'t>,
        span: &Span,
        depth: usize,
    ) -> Result<Option<Str>, ParseError> {
        let key = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let key = match tagged(tag.as_deref()) {
                    Tagged::Plain => Some(key_text(scalar(&text, style))),
                    Tagged::Core(suffix) => Some(key_text(core_scalar(&text, &suffix, span)?)),
                    Tagged::Function(_) => None,
                };
                if anchor != 0
                    && let Some(k) = &key
                {
                    self.anchors.insert(anchor, Value::String(k.clone()));
                }
                key
            }
            Event::Alias(id) => match self.alias(id, span)? {
                Value::String(s) => Some(s),
                _ => None,
            },
            other => {
                // Read past the collection key (its notes are dropped with
                // it, and so are those only counted past the limit).
                let mark = self.reader.notes.len();
                let counted = self.reader.omitted.clone();
                self.node(other, *span, depth + 1)?;
                self.reader.notes.truncate(mark);
                self.reader.omitted = counted;
                None
            }
        };
        if key.is_none() {
            self.reader.note(
                "E-TEMPLATE",
                &self.path,
                "a mapping key must be a scalar (CloudFormation converts keys to JSON strings)",
            );
        }
        Ok(key)
    }

    fn alias(&mut self, id: usize, span: &Span) -> Result<Value, ParseError> {
        let Some(value) = self.anchors.get(&id) else {
            return Err(error_at(span, "unknown anchor"));
        };
        self.copied += count_nodes(value);
        let value = value.clone();
        self.check_copies(span)?;
        Ok(value)
    }

    fn check_copies(&self, span: &Span) -> Result<(), ParseError> {
        if self.copied > self.read.max(1000) {
            return Err(error_at(
                span,
                "aliases repeat more nodes than the document has (repetition limit exceeded)",
            ));
        }
        Ok(())
    }

    /// Appends `/segment` to the path; the length to truncate back to.
    fn enter(&mut self, segment: &str) -> usize {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(segment);
        len
    }

    /// Reads past the rest of a node too deep to be read.
    fn skip(&mut self, first: &Event<'t>) -> Result<(), ParseError> {
        let mut open = usize::from(matches!(
            first,
            Event::SequenceStart(..) | Event::MappingStart(..)
        ));
        while open > 0 {
            match self.next()?.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open -= 1,
                _ => {}
            }
        }
        Ok(())
    }
}

fn is_function(tag: Option<&Tag>) -> bool {
    matches!(tagged(tag), Tagged::Function(_))
}

/// The nodes of a value (what a copy of it costs).
fn count_nodes(v: &Value) -> usize {
    match v {
        Value::List(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        Value::Fn(f) => 1 + count_nodes(&f.argument()),
        _ => 1,
    }
}

/// A key's text: strings as they are, other scalars as they print.
fn key_text(v: Value) -> Str {
    match v {
        Value::String(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Int(i) => i.to_string().into(),
        Value::Float(f) => float_text(f).into(),
        // Scalars only resolve to the kinds above.
        _ => Str::default(),
    }
}

/// A float as YAML prints it: `.inf`, `.nan`, and `1.0` rather than `1`.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// An untagged scalar: plain ones resolve by the core schema, quoted and
/// block ones are strings.
fn scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.into());
    }
    if text.is_empty() || matches!(text, "null" | "Null" | "NULL" | "~") {
        return Value::Null;
    }
    if let Some(b) = boolean(text) {
        return Value::Bool(b);
    }
    if let Some(n) = number(text) {
        return n;
    }
    Value::String(text.into())
}

/// A scalar under a core-schema tag: `!!bool`, `!!int`, `!!float` and
/// `!!null` must hold what they say; any other (`!!str`, `!!binary`) is
/// the scalar's text.
fn core_scalar(text: &str, suffix: &str, span: &Span) -> Result<Value, ParseError> {
    let (value, expected) = match suffix {
        "bool" => (boolean(text).map(Value::Bool), "a boolean"),
        "int" => (integer(text), "an integer"),
        "float" => (float(text).map(Value::Float), "a float"),
        "null" => (
            matches!(text, "null" | "Null" | "NULL" | "~").then_some(Value::Null),
            "null",
        ),
        _ => return Ok(Value::String(text.into())),
    };
    value.ok_or_else(|| {
        error_at(
            span,
            format!("invalid value: string {text:?}, expected {expected}"),
        )
    })
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Digits with a leading zero (`0123`, a YAML 1.1 octal) are a string in
/// YAML 1.2, neither an integer nor a float.
fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

fn number(text: &str) -> Option<Value> {
    if let Some(i) = integer(text) {
        return Some(i);
    }
    if leading_zero_digits(text) {
        return None;
    }
    float(text).map(Value::Float)
}

/// An integer: an `Int` when it fits, else (beyond 64 bits) a `Float`.
fn integer(text: &str) -> Option<Value> {
    if leading_zero_digits(text) {
        return None;
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(d) = unsigned.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = unsigned.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = unsigned.strip_prefix("0b") {
        (2, d)
    } else {
        (10, unsigned)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    let signed = if negative {
        0i128.checked_sub(i128::try_from(magnitude).ok()?)?
    } else {
        i128::try_from(magnitude).ok()?
    };
    Some(match i64::try_from(signed) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Float(signed as f64),
    })
}

/// A float: decimal notation or `.inf`/`.nan` (Rust's own `inf`, `NaN`
/// and `infinity` spellings are strings to YAML).
fn float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_resolve_by_the_core_schema() {
        let plain = |t| scalar(t, ScalarStyle::Plain);
        assert_eq!(plain("yes"), Value::String("yes".into()));
        assert_eq!(plain("True"), Value::Bool(true));
        assert_eq!(plain("~"), Value::Null);
        assert_eq!(plain(""), Value::Null);
        assert_eq!(plain("0x1F"), Value::Int(31));
        assert_eq!(plain("-0o17"), Value::Int(-15));
        assert_eq!(plain("0123"), Value::String("0123".into()));
        assert_eq!(plain("1.5"), Value::Float(1.5));
        assert_eq!(plain("inf"), Value::String("inf".into()));
        assert!(matches!(plain(".inf"), Value::Float(f) if f.is_infinite()));
        assert_eq!(plain("99999999999999999999"), Value::Float(1e20));
        assert_eq!(
            scalar("12", ScalarStyle::SingleQuoted),
            Value::String("12".into())
        );
    }

    #[test]
    fn a_duplicate_key_is_an_error_at_the_repeat() {
        let text = "Resources:\n  A:\n    Type: x\n  B:\n    Type: y\n  A:\n    Type: z\n";
        let err = crate::parse_yaml(text).unwrap_err();
        assert_eq!((err.line(), err.column()), (Some(6), Some(3)), "{err}");
        assert!(
            err.to_string()
                .contains("Resources: duplicate entry with key \"A\""),
            "{err}"
        );
    }

    #[test]
    fn a_second_document_is_refused() {
        let err = crate::parse_yaml("Resources: {}\n---\nResources: {}\n").unwrap_err();
        assert!(err.to_string().contains("more than one document"), "{err}");
        assert_eq!(err.line(), Some(2));
    }

    #[test]
    fn numeric_keys_print_as_yaml_does() {
        assert_eq!(key_text(Value::Float(1.0)), "1.0");
        assert_eq!(key_text(Value::Float(1.5)), "1.5");
        assert_eq!(key_text(Value::Int(7)), "7");
        assert_eq!(key_text(Value::Bool(false)), "false");
    }
}
