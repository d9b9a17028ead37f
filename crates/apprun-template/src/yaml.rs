//! Deterministic YAML rendering with CloudFormation short-form tags.
//!
//! We render ourselves instead of through a YAML library because readers of
//! CloudFormation YAML disagree on what a plain scalar means: PyYAML (cfn-lint,
//! moto) reads `2012-10-17` as a date and `yes` as a boolean. Anything that is
//! not unambiguously a string is therefore single-quoted.

use std::fmt::Write;

use crate::value::{Intrinsic, Map, Value};

/// Lines longer than this are never put in flow style.
const FLOW_WIDTH: usize = 80;

pub(crate) fn to_yaml(root: &Value) -> String {
    let mut out = String::new();
    match root {
        Value::Map(map) if !map.is_empty() => write_entries(&mut out, map, 0, false),
        other => {
            out.push_str(&inline(other).unwrap_or_else(|| "{}".into()));
            out.push('\n');
        }
    }
    out
}

/// Writes `key: value` lines at `indent`. With `first_inline`, the first entry
/// continues a line that already holds a `- ` list marker.
fn write_entries(out: &mut String, map: &Map, indent: usize, first_inline: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if !(first_inline && i == 0) {
            pad(out, indent);
        }
        out.push_str(&scalar_str(key, false));
        out.push(':');
        write_after_indicator(out, value, indent);
    }
}

/// Writes a value that follows `key:` or `-` on a line indented by `indent`.
fn write_after_indicator(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Map(map) if !map.is_empty() => {
            out.push('\n');
            write_entries(out, map, indent + 2, false);
        }
        Value::List(items) if !items.is_empty() => match inline_within(value, indent) {
            Some(flow) => {
                let _ = writeln!(out, " {flow}");
            }
            None => {
                out.push('\n');
                for item in items {
                    write_list_item(out, item, indent + 2);
                }
            }
        },
        Value::String(s) if is_block_literal(s) => write_block_literal(out, s, indent + 2),
        Value::Fn(f) => {
            let _ = write!(out, " !{}", f.short_tag());
            let arg = short_form_argument(f);
            write_after_indicator(out, &arg, indent);
        }
        Value::String(s) => {
            out.push(' ');
            out.push_str(&scalar_str(s, false));
            out.push('\n');
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar).unwrap_or_default());
            out.push('\n');
        }
    }
}

fn write_list_item(out: &mut String, item: &Value, indent: usize) {
    pad(out, indent);
    out.push('-');
    match item {
        Value::Map(map) if !map.is_empty() => {
            out.push(' ');
            write_entries(out, map, indent + 2, true);
        }
        other => write_after_indicator(out, other, indent),
    }
}

fn write_block_literal(out: &mut String, s: &str, indent: usize) {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let _ = writeln!(out, " |{chomp}");
    let body = if trailing >= 1 { &s[..s.len() - 1] } else { s };
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// The argument as written after a short-form tag. YAML cannot put a tag
/// directly on another tagged node in CloudFormation (`!Base64 !Sub` is
/// rejected), so a nested function right under a tag is written long-form.
fn short_form_argument(f: &Intrinsic) -> Value {
    match f {
        Intrinsic::GetAtt {
            resource,
            attribute,
        } => Value::String(format!("{resource}.{attribute}").into()),
        _ => match f.argument() {
            Value::Fn(inner) => {
                let mut m = Map::new();
                m.insert(inner.long_name().into(), inner.argument());
                Value::Map(m)
            }
            other => other,
        },
    }
}

fn inline_within(value: &Value, indent: usize) -> Option<String> {
    let flow = inline(value)?;
    (indent + flow.len() < FLOW_WIDTH).then_some(flow)
}

/// Flow-style rendering, when the value has one.
fn inline(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => float(*f),
        Value::String(s) => {
            if s.contains('\n') {
                return None;
            }
            scalar_str(s, true)
        }
        Value::Map(m) if m.is_empty() => "{}".into(),
        Value::Map(_) => return None,
        Value::List(items) => {
            let parts: Option<Vec<String>> = items.iter().map(inline).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Fn(f) => {
            let arg = short_form_argument(f);
            if matches!(arg, Value::Map(_)) {
                return None;
            }
            format!("!{} {}", f.short_tag(), inline(&arg)?)
        }
    })
}

fn float(f: f64) -> String {
    let s = f.to_string();
    if s.contains(['.', 'e', 'E']) || !f.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Whether a multi-line string reads back unchanged as a `|` block: its
/// first line sets the indentation, so it must not start with whitespace,
/// and whitespace-only lines would be taken for empty ones.
fn is_block_literal(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
        && s.split('\n')
            .all(|line| line.is_empty() || !line.trim().is_empty())
}

/// A string as a plain, single-quoted or double-quoted scalar.
fn scalar_str(s: &str, flow: bool) -> String {
    if is_plain_safe(s, flow) {
        s.to_owned()
    } else if s.chars().any(|c| c.is_control()) {
        // JSON string escapes are valid YAML double-quoted escapes.
        let mut quoted = String::with_capacity(s.len() + 2);
        quoted.push('"');
        for c in s.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                '\n' => quoted.push_str("\\n"),
                '\t' => quoted.push_str("\\t"),
                '\r' => quoted.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(quoted, "\\u{:04x}", c as u32);
                }
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// Whether a string reads back as the same string in every YAML 1.1 and 1.2
/// reader when written without quotes.
fn is_plain_safe(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.chars().any(|c| c.is_control()) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    const SPECIAL: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<", ".inf",
        "-.inf", "+.inf", ".nan",
    ];
    if SPECIAL.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        return false;
    }
    // Anything that starts like a number (ints, floats, dates, times, CIDRs,
    // octal, sexagesimal) is quoted.
    let mut chars = s.chars();
    let starts_numeric = first.is_ascii_digit()
        || (matches!(first, '+' | '.') && chars.nth(1).is_some_and(|c| c.is_ascii_digit()));
    !starts_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_scalars_are_quoted() {
        for s in [
            "2012-10-17",
            "3000",
            "yes",
            "No",
            "on",
            "null",
            "~",
            "0.0.0.0/0",
            "",
            " x",
            "a: b",
            "*",
            "!x",
            "@x",
            "10.0.0.0/24",
            ".5",
            "true",
            "x:",
        ] {
            assert!(!is_plain_safe(s, false), "{s:?} must be quoted");
        }
        for s in [
            "Hello",
            "arn:aws:s3:::b/*",
            "${AWS::Region}a",
            "s3:GetObject",
            "a b",
        ] {
            assert!(is_plain_safe(s, false), "{s:?} may be plain");
        }
        assert!(
            !is_plain_safe("${AWS::Region}a", true),
            "braces are flow indicators"
        );
    }

    #[test]
    fn quotes_escape_inner_quotes() {
        assert_eq!(scalar_str("it's", false), "it's");
        assert_eq!(scalar_str("'x'", false), "'''x'''");
        assert_eq!(scalar_str("a\u{7}b", false), "\"a\\u0007b\"");
    }

    #[test]
    fn multi_line_strings_survive_every_shape() {
        for s in [
            "a\n  b\n",
            "  lead\nx",
            "x\n   \ny",
            "x\r\ny",
            "x\n\n\n",
            "x",
            "a\n\tb",
        ] {
            let mut m = Map::new();
            m.insert("K".into(), Value::String(s.into()));
            let yaml = to_yaml(&Value::Map(m));
            let back = crate::parse::parse_yaml_value(&yaml).unwrap();
            let back = back
                .as_map()
                .and_then(|m| m.get("K"))
                .and_then(Value::as_str);
            assert_eq!(back, Some(s), "{s:?} rendered as {yaml}");
        }
    }
}
