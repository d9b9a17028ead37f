//! JSON read straight into apprun's [`Value`]: serde_json drives a
//! visitor that builds each node once (no `serde_json::Value` tree first),
//! reading long-form functions as it goes.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ParseError, Reader, json_error};
use crate::value::{Map, Value};

/// Reads one JSON text into a value (what the reader notes stays on it).
pub(super) fn read(text: &str, reader: &mut Reader) -> Result<Value, ParseError> {
    let mut state = State {
        reader,
        path: String::new(),
        duplicates: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Node {
        state: &mut state,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| json_error(&e))?;
    let duplicates = state.duplicates;
    if !duplicates.is_empty() {
        reader
            .notes
            .extend(crate::dupkeys::duplicate_keys(text, &duplicates));
    }
    Ok(value)
}

/// The `Transform` section of a JSON template, read before the rest (the
/// functions a transform adds must be known while reading); every other
/// section is skipped unbuilt.
pub(super) fn transform_section(text: &str) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(TransformOnly).ok().flatten()
}

struct State<'r> {
    reader: &'r mut Reader,
    /// The path of the node being read.
    path: String,
    /// Paths of the keys an object repeats (their lines are found after).
    duplicates: Vec<String>,
}

impl State<'_> {
    /// Appends `/segment` to the path; the length to truncate back to.
    fn enter(&mut self, segment: &str) -> usize {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(segment);
        len
    }
}

/// One JSON value at a depth.
struct Node<'s, 'r> {
    state: &'s mut State<'r>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.state.reader.too_deep(&self.state.path, self.depth) {
            d.deserialize_ignored_any(IgnoredAny)?;
            return Ok(Value::Null);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let len = self.state.enter(&items.len().to_string());
            let item = seq.next_element_seed(Node {
                state: &mut *self.state,
                depth: self.depth + 1,
            });
            self.state.path.truncate(len);
            match item? {
                Some(v) => items.push(v),
                None => {
                    // One exact-size block (growth leaves up to twice the
                    // room): a tree of small lists would be mostly room.
                    return Ok(Value::list(items));
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let len = self.state.enter(&key);
            let value = access.next_value_seed(Node {
                state: &mut *self.state,
                depth: self.depth + 1,
            });
            if map.contains_key(&key) {
                // Past the note limit a repeat is only counted: a text
                // of `"a":1,` repeats has one every six bytes.
                if self.state.duplicates.len() < crate::MAX_NOTES {
                    self.state.duplicates.push(self.state.path.clone());
                } else {
                    let omitted = &mut self.state.reader.omitted;
                    omitted.count("E-DUPLICATE-KEY", crate::validate::Severity::Error);
                }
            }
            self.state.path.truncate(len);
            // JSON keeps the last value of a repeated key, in the first
            // one's place.
            map.insert(key.into(), value?);
        }
        map.shrink_to_fit();
        Ok(self.state.reader.long_form(map, &self.state.path))
    }
}

/// Visits the root object for its `Transform` entry only.
struct TransformOnly;

impl<'de> Visitor<'de> for TransformOnly {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(key) = access.next_key::<String>()? {
            if key == "Transform" {
                let mut reader = Reader::new(Vec::new());
                let mut state = State {
                    reader: &mut reader,
                    path: "Transform".into(),
                    duplicates: Vec::new(),
                };
                found = Some(access.next_value_seed(Node {
                    state: &mut state,
                    depth: 1,
                })?);
            } else {
                access.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}
