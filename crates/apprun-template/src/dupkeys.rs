//! Duplicate keys in JSON objects. JSON readers (serde_json, Python's json,
//! CloudFormation) keep the last value silently; cfn-lint reports the second
//! key (E0000), and so do we. The reader finds which paths repeat a key as
//! it builds the value; one linear pass over the text then finds their
//! lines (only then: a text without duplicates is not scanned again).

use std::collections::HashMap;

use crate::template::Note;
use crate::validate::Severity;

enum Frame {
    Object { expect_key: bool, path: String },
    Array { index: usize, path: String },
}

impl Frame {
    fn path(&self) -> &str {
        match self {
            Frame::Object { path, .. } | Frame::Array { path, .. } => path,
        }
    }
}

/// A note at the line of every key that repeats an earlier key of its
/// object, for the `paths` (each the path of a repeated key, once per
/// repeat) a reader found: as many notes for a path as it lists it.
pub(crate) fn duplicate_keys(text: &str, paths: &[String]) -> Vec<Note> {
    let mut wanted: HashMap<String, Wanted> = HashMap::new();
    for p in paths {
        wanted.entry(p.clone()).or_default().repeats += 1;
    }
    let mut notes = scan(text, Some(wanted), &mut |_, _| {}).notes;
    // A key the text spells with escapes (`"\u0041"` for `"A"`) has another
    // path in the text: its note has no line.
    let noted: std::collections::HashSet<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    let mut missing: Vec<&String> = paths
        .iter()
        .filter(|p| !noted.contains(p.as_str()))
        .collect();
    missing.sort();
    missing.dedup();
    let missing: Vec<String> = missing.into_iter().cloned().collect();
    for path in &missing {
        {
            let key = path.rsplit('/').next().unwrap_or(path);
            notes.push(duplicate_note(path.clone(), key, None));
        }
    }
    notes
}

/// Calls `record(path, line)` with the 1-based line of every key of a JSON
/// text and its path (`Resources/Vpc/Properties/CidrBlock`, list items as
/// their index), in text order: what findings on a JSON template need to
/// say where they are. A callback, not a list: the caller keeps only the
/// paths it asks for (a list of every key took several times the text).
pub fn json_key_lines(text: &str, record: &mut dyn FnMut(&str, usize)) {
    scan(text, None, record);
}

fn duplicate_note(path: String, key: &str, line: Option<usize>) -> Note {
    Note {
        severity: Severity::Error,
        code: "E-DUPLICATE-KEY",
        path: path.into(),
        line: line.and_then(|l| u32::try_from(l).ok()),
        message: format!("duplicate key `{key}`: JSON keeps only the last value").into(),
    }
}

fn scan<'r>(
    text: &str,
    wanted: Option<HashMap<String, Wanted>>,
    record: &'r mut dyn FnMut(&str, usize),
) -> Scanner<'r> {
    let mut scanner = Scanner {
        notes: Vec::new(),
        record,
        wanted,
        stack: Vec::new(),
        pending: None,
        line: 1,
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
    scanner
}

/// A path whose repeats are noted: how many (the reader's count, which
/// stops at the note limit) and how often the key was seen so far.
#[derive(Default)]
struct Wanted {
    repeats: usize,
    seen: usize,
}

/// The state of one pass over a JSON text.
struct Scanner<'r> {
    notes: Vec<Note>,
    /// Told the path and line of every key.
    record: &'r mut dyn FnMut(&str, usize),
    /// The paths whose repeats are noted, with how often each was seen.
    wanted: Option<HashMap<String, Wanted>>,
    stack: Vec<Frame>,
    /// The key (or index) the next value belongs to, as a path segment.
    pending: Option<String>,
    /// The 1-based line being read.
    line: usize,
}

impl Scanner<'_> {
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
        let Some(Frame::Object { expect_key, path }) = self.stack.last_mut() else {
            return;
        };
        if !*expect_key {
            return;
        }
        *expect_key = false;
        let at = join(path, &raw);
        if let Some(w) = self.wanted.as_mut().and_then(|w| w.get_mut(&at)) {
            w.seen += 1;
            if w.seen > 1 && w.seen <= w.repeats + 1 {
                self.notes
                    .push(duplicate_note(at.clone(), &raw, Some(self.line)));
            }
        }
        (self.record)(&at, self.line);
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
        let paths = ["Resources/B/0/k".to_owned(), "Resources/A".to_owned()];
        let notes = duplicate_keys(text, &paths);
        let found: Vec<(&str, Option<u32>)> =
            notes.iter().map(|n| (n.path.as_str(), n.line)).collect();
        assert_eq!(
            found,
            vec![("Resources/B/0/k", Some(4)), ("Resources/A", Some(5))]
        );
    }

    fn all_key_lines(text: &str) -> Vec<(String, usize)> {
        let mut lines = Vec::new();
        json_key_lines(text, &mut |path, line| lines.push((path.to_owned(), line)));
        lines
    }

    #[test]
    fn every_key_has_its_line() {
        let text = "{\n \"Resources\": {\n  \"A\": {\n   \"Tags\": [{\"Key\": 1},\n    {\"Key\": 2}]\n  }\n }\n}";
        assert_eq!(
            all_key_lines(text),
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
        assert_eq!(all_key_lines(text).len(), 3);
    }
}
