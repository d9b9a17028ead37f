//! Resource properties against the official resource provider schemas.
//!
//! Supported keywords (all the vendored schemas use): type, enum, pattern
//! (searched, as JSON Schema does; patterns Rust's regex cannot compile are
//! skipped), min/maxLength, minimum/maximum, min/maxItems, items,
//! properties, required, additionalProperties, patternProperties, $ref to
//! definitions, oneOf/anyOf/allOf. Values that are intrinsic functions are
//! not validated: their result is only known at deploy time.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use apprun_template::{References, Template, Value};
use regex::Regex;
use serde_json::Value as J;

use crate::finding::Finding;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// Types whose every property is also a GetAtt attribute (cfn-lint's list).
const ALL_PROPERTIES_ARE_ATTRIBUTES: &[&str] = &[
    "AWS::EC2::Instance",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::SSM::Parameter",
    "AWS::RDS::DBInstance",
];

struct Registry {
    texts: HashMap<&'static str, &'static str>,
    names: HashSet<&'static str>,
    parsed: Mutex<HashMap<&'static str, Arc<J>>>,
    patterns: Mutex<HashMap<String, Option<Regex>>>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Registry {
        texts: SCHEMAS.iter().copied().collect(),
        names: TYPE_NAMES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect(),
        parsed: Mutex::new(HashMap::new()),
        patterns: Mutex::new(HashMap::new()),
    })
}

/// The schema of a resource type, when vendored.
pub(crate) fn schema_of(kind: &str) -> Option<Arc<J>> {
    let r = registry();
    let (&name, &text) = r.texts.get_key_value(kind)?;
    let mut parsed = r.parsed.lock().ok()?;
    if let Some(s) = parsed.get(name) {
        return Some(s.clone());
    }
    let s = Arc::new(serde_json::from_str(text).ok()?);
    parsed.insert(name, Arc::clone(&s));
    Some(s)
}

/// Whether CloudFormation knows the type at all (any vendored region).
pub(crate) fn is_known_type(kind: &str) -> bool {
    kind.starts_with("Custom::")
        || kind == "AWS::CloudFormation::CustomResource"
        || registry().names.contains(kind)
}

/// The attributes `Fn::GetAtt` accepts for a type, when its schema is vendored.
pub(crate) fn attributes_of(kind: &str) -> Option<BTreeSet<String>> {
    let s = schema_of(kind)?;
    let mut attrs: BTreeSet<String> = s["readOnlyProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(J::as_str)
        .map(|p| p.trim_start_matches("/properties/").replace('/', "."))
        .collect();
    if ALL_PROPERTIES_ARE_ATTRIBUTES.contains(&kind)
        && let Some(props) = s["properties"].as_object()
    {
        attrs.extend(props.keys().cloned());
    }
    Some(attrs)
}

fn pattern(p: &str) -> Option<Regex> {
    let r = registry();
    let mut cache = r.patterns.lock().ok()?;
    cache
        .entry(p.to_owned())
        .or_insert_with(|| Regex::new(&without_length_lookahead(p)).ok())
        .clone()
}

/// Several schemas open a pattern with `^(?=.{2,256}$)`, a lookahead that
/// only restates minLength/maxLength (checked on their own) and that Rust's
/// regex cannot compile. Dropping exactly that form keeps the rest usable.
fn without_length_lookahead(p: &str) -> String {
    static LOOKAHEAD: OnceLock<Option<Regex>> = OnceLock::new();
    let re = LOOKAHEAD.get_or_init(|| Regex::new(r"^\^\(\?=\.\{\d*,?\d*\}\$\)").ok());
    match re {
        Some(re) => re.replace(p, "^").into_owned(),
        None => p.to_owned(),
    }
}

pub(crate) fn check(t: &Template, out: &mut Vec<Finding>) {
    for (id, r) in &t.resources {
        let path = format!("Resources/{id}");
        if !is_known_type(&r.kind) {
            out.push(Finding::error(
                "E-TYPE-UNKNOWN",
                id,
                format!("{path}/Type"),
                format!("`{}` is not a CloudFormation resource type", r.kind),
            ));
            continue;
        }
        let Some(schema) = schema_of(&r.kind) else {
            continue;
        };
        let mut v = Validator {
            root: &schema,
            logical: id,
            out: &mut *out,
        };
        v.object(
            &Value::Map(r.properties.clone()),
            &schema,
            &format!("{path}/Properties"),
        );
    }
    check_get_atts(t, out);
}

fn check_get_atts(t: &Template, out: &mut Vec<Finding>) {
    let mut visit = |id: &str, path: String, v: &Value| {
        for (resource, attribute) in References::of(v).get_atts {
            let Some(target) = t.resources.get(&resource) else {
                continue;
            };
            let Some(attrs) = attributes_of(&target.kind) else {
                continue;
            };
            if !attrs.contains(&attribute) {
                out.push(Finding::error(
                    "E-GETATT-ATTR",
                    id,
                    path.clone(),
                    format!(
                        "{} has no attribute `{attribute}` for GetAtt {resource}.{attribute}; it has: {}",
                        target.kind,
                        attrs.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    };
    for (id, r) in &t.resources {
        visit(
            id,
            format!("Resources/{id}/Properties"),
            &Value::Map(r.properties.clone()),
        );
    }
    for (id, o) in &t.outputs {
        visit(id, format!("Outputs/{id}/Value"), &o.value);
    }
}

struct Validator<'a, 'o> {
    root: &'a J,
    logical: &'a str,
    out: &'o mut Vec<Finding>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        Value::Map(_) => "object",
        Value::Fn(_) => "function",
    }
}

/// CloudFormation converts scalars between strings, numbers and booleans.
fn type_matches(v: &Value, want: &str) -> bool {
    match (want, v) {
        ("string", Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) => true,
        ("integer", Value::Int(_)) => true,
        ("integer", Value::String(s)) => s.parse::<i64>().is_ok(),
        ("number", Value::Int(_) | Value::Float(_)) => true,
        ("number", Value::String(s)) => s.parse::<f64>().is_ok(),
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::String(s)) => matches!(s.as_str(), "true" | "false" | "True" | "False"),
        ("array", Value::List(_)) | ("object", Value::Map(_)) | ("null", Value::Null) => true,
        _ => false,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Follows `$ref: #/definitions/X` (repeatedly).
fn deref<'s>(root: &'s J, mut schema: &'s J) -> &'s J {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(J::as_str)
            .and_then(|r| r.strip_prefix("#/"))
        {
            Some(pointer) => match root.pointer(&format!("/{pointer}")) {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

impl<'a> Validator<'a, '_> {
    fn report(&mut self, rule: &str, path: &str, message: String) {
        self.out
            .push(Finding::error(rule, self.logical, path.to_owned(), message));
    }

    fn value(&mut self, v: &Value, schema: &'a J, path: &str) {
        let schema = deref(self.root, schema);
        if matches!(v, Value::Fn(_)) {
            return;
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(J::as_array) {
                let fits = branches.iter().any(|b| {
                    let mut scratch = Vec::new();
                    let mut sub = Validator {
                        root: self.root,
                        logical: self.logical,
                        out: &mut scratch,
                    };
                    sub.value(v, b, path);
                    scratch.is_empty()
                });
                if !fits {
                    self.report(
                        "E-PROP-TYPE",
                        path,
                        format!(
                            "value does not match any of the {} shapes the schema allows here",
                            branches.len()
                        ),
                    );
                    return;
                }
            }
        }
        if let Some(all) = schema.get("allOf").and_then(J::as_array) {
            for b in all {
                self.value(v, b, path);
            }
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(J::String(t)) => vec![t.as_str()],
            Some(J::Array(ts)) => ts.iter().filter_map(J::as_str).collect(),
            _ if schema.get("properties").is_some() => vec!["object"],
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(v, t)) {
            self.report(
                "E-PROP-TYPE",
                path,
                format!("expected {}, found {}", types.join(" or "), kind_of(v)),
            );
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(J::as_array)
            && let Some(text) = scalar_text(v)
        {
            let ok = allowed.iter().any(|a| match a {
                J::String(s) => *s == text,
                other => {
                    other
                        .as_f64()
                        .is_some_and(|n| text.parse::<f64>().ok() == Some(n))
                        || other
                            .as_bool()
                            .is_some_and(|b| text == if b { "true" } else { "false" })
                }
            });
            if !ok {
                let list: Vec<String> = allowed
                    .iter()
                    .map(|a| a.as_str().map_or(a.to_string(), str::to_owned))
                    .collect();
                self.report(
                    "E-PROP-ENUM",
                    path,
                    format!("`{text}` is not allowed; allowed: {}", list.join(", ")),
                );
            }
        }
        if let Value::String(s) = v {
            if let Some(p) = schema.get("pattern").and_then(J::as_str)
                && let Some(re) = pattern(p)
                && !re.is_match(s)
            {
                self.report(
                    "E-PROP-PATTERN",
                    path,
                    format!("`{s}` does not match the pattern {p}"),
                );
            }
            let len = s.chars().count() as u64;
            self.limits(
                schema,
                path,
                ("minLength", "maxLength"),
                len,
                &format!("`{s}` is {len} characters"),
            );
        }
        if types.iter().any(|t| *t == "integer" || *t == "number")
            && let Some(n) = number(v)
        {
            if let Some(min) = schema.get("minimum").and_then(J::as_f64).filter(|m| n < *m) {
                self.report(
                    "E-PROP-RANGE",
                    path,
                    format!("{n} is below the minimum {min}"),
                );
            }
            if let Some(max) = schema.get("maximum").and_then(J::as_f64).filter(|m| n > *m) {
                self.report(
                    "E-PROP-RANGE",
                    path,
                    format!("{n} is above the maximum {max}"),
                );
            }
        }
        match v {
            Value::List(items) => {
                let n = items.len() as u64;
                self.limits(
                    schema,
                    path,
                    ("minItems", "maxItems"),
                    n,
                    &format!("{n} items"),
                );
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.value(item, item_schema, &format!("{path}/{i}"));
                    }
                }
            }
            Value::Map(_) => self.object(v, schema, path),
            _ => {}
        }
    }

    /// `minLength`/`maxLength`, `minItems`/`maxItems`: `subject` says what was counted.
    fn limits(
        &mut self,
        schema: &J,
        path: &str,
        (min_key, max_key): (&str, &str),
        n: u64,
        subject: &str,
    ) {
        if let Some(min) = schema.get(min_key).and_then(J::as_u64).filter(|m| n < *m) {
            self.report(
                "E-PROP-LENGTH",
                path,
                format!("{subject}; at least {min} needed"),
            );
        }
        if let Some(max) = schema.get(max_key).and_then(J::as_u64).filter(|m| n > *m) {
            self.report(
                "E-PROP-LENGTH",
                path,
                format!("{subject}; at most {max} allowed"),
            );
        }
    }

    fn object(&mut self, v: &Value, schema: &'a J, path: &str) {
        let schema = deref(self.root, schema);
        let Value::Map(map) = v else { return };
        let props = schema.get("properties").and_then(J::as_object);
        for req in schema
            .get("required")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
        {
            if !map.contains_key(req) {
                self.report(
                    "E-PROP-REQUIRED",
                    path,
                    format!("required property `{req}` is missing"),
                );
            }
        }
        let patterns: Vec<(Regex, &J)> = schema
            .get("patternProperties")
            .and_then(J::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(p, s)| pattern(p).map(|re| (re, s)))
            .collect();
        let closed = schema.get("additionalProperties") == Some(&J::Bool(false));
        for (key, value) in map {
            let child = format!("{path}/{key}");
            if let Some(s) = props.and_then(|p| p.get(key)) {
                self.value(value, s, &child);
            } else if let Some((_, s)) = patterns.iter().find(|(re, _)| re.is_match(key)) {
                self.value(value, s, &child);
            } else if closed {
                let mut known: Vec<&str> = props
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .collect();
                known.sort();
                self.report(
                    "E-PROP-UNKNOWN",
                    &child,
                    format!(
                        "`{key}` is not a property here; allowed: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_schema_parses_and_knows_its_type() {
        assert!(SCHEMAS.len() >= 30, "{}", SCHEMAS.len());
        for (name, _) in SCHEMAS {
            let s = schema_of(name).unwrap_or_else(|| panic!("{name} parses"));
            assert_eq!(s["typeName"], *name);
            assert!(is_known_type(name));
        }
        assert!(is_known_type("AWS::Lambda::Url") && !is_known_type("AWS::EC2::Vpc"));
        let attrs = attributes_of("AWS::AppRunner::Service").unwrap();
        assert!(attrs.contains("ServiceUrl") && attrs.contains("ServiceArn"));
        assert!(
            attributes_of("AWS::EC2::VPC")
                .unwrap()
                .contains("CidrBlock")
        );
        assert_eq!(
            without_length_lookahead("^(?=.{2,256}$)([a-z0-9]+)$"),
            "^([a-z0-9]+)$"
        );
        assert_eq!(
            without_length_lookahead("(?=x)abc"),
            "(?=x)abc",
            "other lookaheads are left alone"
        );
    }
}
