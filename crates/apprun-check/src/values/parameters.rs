//! E-VALUE-PARAMETER-DEFAULT: CloudFormation checks a parameter's Default
//! against its own constraints (AllowedValues, AllowedPattern, MinLength,
//! MaxLength) when the stack is created without a value for it.

use apprun_template::{Parameter, Value};
use regex::Regex;

use crate::rules::{Scope, Sink};

/// The text of a literal default (numbers as written), or None.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.as_str().into()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// A list parameter's default passes when the whole text passes, or each
/// of its comma-separated items (spaces around them ignored).
fn each_or_whole(p: &Parameter, default: &str, ok: &dyn Fn(&str) -> bool) -> bool {
    let list = p.kind == "CommaDelimitedList" || p.kind.starts_with("List<");
    ok(default) || (list && default.split(',').all(|item| ok(item.trim())))
}

fn problem(p: &Parameter, default: &str) -> Option<String> {
    let allowed: Vec<String> = p.allowed_values.iter().filter_map(text).collect();
    if !allowed.is_empty() && !each_or_whole(p, default, &|v| allowed.iter().any(|a| a == v)) {
        return Some(format!(
            "Default `{default}` is not one of AllowedValues ({})",
            allowed.join(", ")
        ));
    }
    // Patterns Rust's regex cannot compile are skipped; matched from the
    // start, as CloudFormation does.
    if let Some(re) = p
        .allowed_pattern
        .as_deref()
        .and_then(|pat| Regex::new(&format!("^(?:{pat})")).ok())
        && !each_or_whole(p, default, &|v| re.is_match(v))
    {
        return Some(format!("Default `{default}` does not match AllowedPattern"));
    }
    let len = i64::try_from(default.chars().count()).unwrap_or(i64::MAX);
    if p.min_length.is_some_and(|min| len < min) || p.max_length.is_some_and(|max| len > max) {
        return Some(format!(
            "Default `{default}` has {len} characters, outside MinLength/MaxLength"
        ));
    }
    None
}

pub(crate) fn defaults(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (name, p) in &scope.template.parameters {
        let Some(default) = p.default.as_ref().and_then(text) else {
            continue;
        };
        if let Some(message) = problem(p, &default) {
            out.push(name, format!("Parameters/{name}/Default"), message);
        }
    }
}
