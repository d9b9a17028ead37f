//! Duplicate keys in JSON objects. JSON readers (serde_json, Python's json,
//! CloudFormation) keep the last value silently; cfn-lint reports the second
//! key (E0000), and so do we. One linear pass over text that already parsed.

use std::collections::HashSet;

use crate::template::Note;
use crate::validate::Severity;

enum Frame {
    Object {
        keys: HashSet<String>,
        expect_key: bool,
        path: String,
    },
    Array {
        index: usize,
        path: String,
    },
}

impl Frame {
    fn path(&self) -> &str {
        match self {
            Frame::Object { path, .. } | Frame::Array { path, .. } => path,
        }
    }
}

/// A note at the line of every key that repeats an earlier key of its object.
pub(crate) fn duplicate_keys(text: &str) -> Vec<Note> {
    scan(text).0
}

/// The 1-based line of every key of a JSON text, with its path
/// (`Resources/Vpc/Properties/CidrBlock`, list items as their index), in
/// text order: what findings on a JSON template need to say where they are.
pub fn json_key_lines(text: &str) -> Vec<(String, usize)> {
    scan(text).1
}

fn scan(text: &str) -> (Vec<Note>, Vec<(String, usize)>) {
    let mut scanner = Scanner {
        line: 1,
        ..Scanner::default()
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => scanner.line += 1,
            '"' => {
                let raw = scanner.string(&mut chars);
                scanner.key(raw);
            }
            '{' | '[' => scanner.open(c == '{'),
            '}' | ']' => {
                scanner.stack.pop();
                scanner.pending = None;
            }
            ',' => scanner.next_item(),
            _ => {}
        }
    }
    (scanner.notes, scanner.lines)
}

/// The state of one pass over a JSON text.
#[derive(Default)]
struct Scanner {
    notes: Vec<Note>,
    lines: Vec<(String, usize)>,
    stack: Vec<Frame>,
    /// The key (or index) the next value belongs to, as a path segment.
    pending: Option<String>,
    /// The 1-based line being read.
    line: usize,
}

impl Scanner {
    /// Reads a string after its opening quote, up to its closing quote; its
    /// raw text (escapes kept as written, so keys compare as written).
    fn string(&mut self, chars: &mut std::str::Chars<'_>) -> String {
        let mut raw = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    raw.push(c);
                    if let Some(e) = chars.next() {
                        raw.push(e);
                    }
                }
                '"' => break,
                '\n' => {
                    self.line += 1;
                    raw.push(c);
                }
                c => raw.push(c),
            }
        }
        raw
    }

    /// A string where an object expects a key: records its line and notes a
    /// repeat. Strings in value position are ignored.
    fn key(&mut self, raw: String) {
        let Some(Frame::Object {
            keys,
            expect_key,
            path,
        }) = self.stack.last_mut()
        else {
            return;
        };
        if !*expect_key {
            return;
        }
        *expect_key = false;
        let at = join(path, &raw);
        if !keys.insert(raw.clone()) {
            self.notes.push(Note {
                severity: Severity::Error,
                code: "E-DUPLICATE-KEY",
                path: at.clone(),
                line: Some(self.line),
                message: format!("duplicate key `{raw}`: JSON keeps only the last value"),
            });
        }
        self.lines.push((at.clone(), self.line));
        self.pending = Some(at);
    }

    /// Opens an object (`{`) or an array (`[`) at the path of the key or
    /// item it is the value of.
    fn open(&mut self, object: bool) {
        let path = self
            .pending
            .take()
            .unwrap_or_else(|| match self.stack.last() {
                Some(Frame::Array { index, path }) => join(path, &index.to_string()),
                Some(f) => f.path().to_owned(),
                None => String::new(),
            });
        self.stack.push(if object {
            Frame::Object {
                keys: HashSet::new(),
                expect_key: true,
                path,
            }
        } else {
            Frame::Array { index: 0, path }
        });
    }

    /// A comma: the next key of an object or the next item of an array.
    fn next_item(&mut self) {
        self.pending = None;
        match self.stack.last_mut() {
            Some(Frame::Object { expect_key, .. }) => *expect_key = true,
            Some(Frame::Array { index, .. }) => *index += 1,
            None => {}
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}/{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_key_is_reported_at_its_line() {
        let text = "{\n \"Resources\": {\n  \"A\": {\"Type\": \"x\"},\n  \"B\": [ {\"k\": 1, \"k\": 2} ],\n  \"A\": {}\n }\n}";
        let notes = duplicate_keys(text);
        let found: Vec<(&str, Option<usize>)> =
            notes.iter().map(|n| (n.path.as_str(), n.line)).collect();
        assert_eq!(
            found,
            vec![("Resources/B/0/k", Some(4)), ("Resources/A", Some(5))]
        );
    }

    #[test]
    fn every_key_has_its_line() {
        let text = "{\n \"Resources\": {\n  \"A\": {\n   \"Tags\": [{\"Key\": 1},\n    {\"Key\": 2}]\n  }\n }\n}";
        assert_eq!(
            json_key_lines(text),
            vec![
                ("Resources".to_owned(), 2),
                ("Resources/A".to_owned(), 3),
                ("Resources/A/Tags".to_owned(), 4),
                ("Resources/A/Tags/0/Key".to_owned(), 4),
                ("Resources/A/Tags/1/Key".to_owned(), 5),
            ]
        );
    }

    #[test]
    fn escaped_quotes_and_braces_in_strings_are_not_structure() {
        let text = r#"{"a": "x\"}{", "b": "[,", "c": 1}"#;
        assert!(duplicate_keys(text).is_empty());
    }
}
