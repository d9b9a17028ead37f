//! `on = { ... }`: an EventBridge event pattern written as a TOML table,
//! checked against the rules of the EventBridge User Guide ("Creating event
//! patterns", "Content filtering"): every value to match is in an array,
//! arrays are not empty, objects inside arrays are content filters.

use std::collections::BTreeMap;

use crate::job::{EventPattern, PatternValue};

/// The content filters EventBridge documents (an object inside a match
/// array has exactly one of these keys).
const FILTERS: &[&str] = &[
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
];

/// A problem at a dotted path below `on`.
pub(crate) struct PatternError {
    /// Path below `on` (`detail.state`), empty for `on` itself.
    pub path: String,
    pub message: String,
}

/// Converts and checks the pattern; every problem is returned.
pub(crate) fn check(table: &toml::Table) -> Result<EventPattern, Vec<PatternError>> {
    let mut errors = Vec::new();
    if table.is_empty() {
        errors.push(PatternError {
            path: String::new(),
            message: "an empty pattern matches every event; name what to match, e.g. on = { source = [\"aws.s3\"], detail-type = [\"Object Created\"] }".into(),
        });
    }
    let pattern = object(table, "", &mut errors);
    if errors.is_empty() {
        Ok(EventPattern(pattern))
    } else {
        Err(errors)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A pattern object: each key holds an array of values to match, a nested
/// object, or (`$or`) an array of alternative objects.
fn object(
    table: &toml::Table,
    path: &str,
    errors: &mut Vec<PatternError>,
) -> BTreeMap<String, PatternValue> {
    let mut out = BTreeMap::new();
    for (key, v) in table {
        let here = join(path, key);
        let converted = match (key.as_str(), v) {
            ("$or", toml::Value::Array(items)) if !items.is_empty() => PatternValue::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        toml::Value::Table(t) => {
                            PatternValue::Object(object(t, &format!("{here}[{i}]"), errors))
                        }
                        _ => {
                            errors.push(PatternError {
                                path: format!("{here}[{i}]"),
                                message: "each alternative of `$or` is a pattern object".into(),
                            });
                            PatternValue::Bool(false)
                        }
                    })
                    .collect(),
            ),
            ("$or", _) => {
                errors.push(PatternError {
                    path: here.clone(),
                    message: "`$or` takes a non-empty array of pattern objects".into(),
                });
                PatternValue::Bool(false)
            }
            (_, toml::Value::Table(t)) => {
                if t.is_empty() {
                    errors.push(PatternError {
                        path: here.clone(),
                        message: "an empty object matches nothing in particular; remove it or name fields to match".into(),
                    });
                }
                PatternValue::Object(object(t, &here, errors))
            }
            (_, toml::Value::Array(items)) => PatternValue::List(matches(items, &here, errors)),
            (_, other) => {
                errors.push(PatternError {
                    path: here.clone(),
                    message: format!(
                        "EventBridge matches values in arrays: write {key} = [{other}]"
                    ),
                });
                PatternValue::Bool(false)
            }
        };
        out.insert(key.clone(), converted);
    }
    out
}

/// The array of values one field may match: scalars and content filters.
fn matches(items: &[toml::Value], path: &str, errors: &mut Vec<PatternError>) -> Vec<PatternValue> {
    if items.is_empty() {
        errors.push(PatternError {
            path: path.to_owned(),
            message: "an empty array matches nothing; list the values to match".into(),
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{path}[{i}]");
            match item {
                toml::Value::Table(t) => filter(t, &at, errors),
                other => scalar(other).unwrap_or_else(|| {
                    errors.push(PatternError {
                        path: at,
                        message: "a value to match is a string, number or boolean, or a content filter such as { prefix = \"uploads/\" }".into(),
                    });
                    PatternValue::Bool(false)
                }),
            }
        })
        .collect()
}

/// A content filter: one known key (its argument is passed through).
fn filter(t: &toml::Table, path: &str, errors: &mut Vec<PatternError>) -> PatternValue {
    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
    let known = keys.len() == 1 && FILTERS.contains(&keys[0]);
    if !known {
        errors.push(PatternError {
            path: path.to_owned(),
            message: format!(
                "a content filter has exactly one of: {}; found: {}",
                FILTERS.join(", "),
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            ),
        });
    }
    PatternValue::Object(t.iter().map(|(k, v)| (k.clone(), any(v))).collect())
}

fn scalar(v: &toml::Value) -> Option<PatternValue> {
    match v {
        toml::Value::String(s) => Some(PatternValue::String(s.clone())),
        toml::Value::Integer(i) => Some(PatternValue::Integer(*i)),
        toml::Value::Float(f) => Some(PatternValue::Float(*f)),
        toml::Value::Boolean(b) => Some(PatternValue::Bool(*b)),
        _ => None,
    }
}

/// A filter's argument, any shape (`numeric = [">", 0, "<=", 5]`).
fn any(v: &toml::Value) -> PatternValue {
    match v {
        toml::Value::Array(a) => PatternValue::List(a.iter().map(any).collect()),
        toml::Value::Table(t) => {
            PatternValue::Object(t.iter().map(|(k, v)| (k.clone(), any(v))).collect())
        }
        toml::Value::Datetime(d) => PatternValue::String(d.to_string()),
        other => scalar(other).unwrap_or(PatternValue::Bool(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<EventPattern, Vec<String>> {
        let t: toml::Table = toml::from_str(text).expect("toml");
        check(&t).map_err(|es| {
            es.into_iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect()
        })
    }

    #[test]
    fn accepts_documented_shapes() {
        let p = run(r#"
            source = ["aws.s3"]
            detail-type = ["Object Created"]
            detail = { bucket = { name = ["uploads"] }, object = { key = [{ prefix = "in/" }] }, size = [{ numeric = [">", 0] }] }
        "#)
        .expect("valid");
        assert_eq!(
            p.0.get("source"),
            Some(&PatternValue::List(vec![PatternValue::String(
                "aws.s3".into()
            )]))
        );
        assert!(
            run(r#"source = ["aws.ec2"]
            "$or" = [{ detail-type = ["A"] }, { detail-type = ["B"] }]"#)
            .is_ok()
        );
    }

    #[test]
    fn rejects_with_paths() {
        let e = run(r#"source = "aws.s3""#).unwrap_err();
        assert!(
            e[0].starts_with("source: EventBridge matches values in arrays"),
            "{e:?}"
        );
        let e = run(r#"detail = { state = [] }"#).unwrap_err();
        assert!(e[0].starts_with("detail.state: an empty array"), "{e:?}");
        let e = run(r#"detail = { key = [{ begins = "x" }] }"#).unwrap_err();
        assert!(e[0].starts_with("detail.key[0]: a content filter"), "{e:?}");
        assert!(e[0].contains("found: begins"), "{e:?}");
        let e = run("").unwrap_err();
        assert!(e[0].contains("matches every event"), "{e:?}");
        let e = run(r#""$or" = "x""#).unwrap_err();
        assert!(e[0].starts_with("$or: "), "{e:?}");
    }
}
