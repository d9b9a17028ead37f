//! Parsing templates back from YAML (short or long form) and JSON.

use std::collections::BTreeMap;

use crate::template::{Output, Parameter, Resource, Template};
use crate::value::{Intrinsic, Map, Value};

/// Why a template could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("invalid YAML: {0}")]
    Yaml(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
}

fn shape(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Shape {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Parses a template, choosing JSON when the text starts with `{`.
pub fn parse_template(text: &str) -> Result<Template, ParseError> {
    if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
}

pub fn parse_yaml(text: &str) -> Result<Template, ParseError> {
    let raw: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| ParseError::Yaml(e.to_string()))?;
    template_from_value(&from_yaml(&raw, "")?)
}

pub fn parse_json(text: &str) -> Result<Template, ParseError> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    template_from_value(&from_json(&raw, "")?)
}

/// A JSON document that is not a whole template (a policy document, say) as
/// a [`Value`], reading intrinsic functions in their long form.
pub fn parse_json_value(text: &str) -> Result<Value, ParseError> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    from_json(&raw, "")
}

/// Converts a parsed YAML node into a [`Value`], reading tags and long forms.
pub fn from_yaml(v: &serde_norway::Value, path: &str) -> Result<Value, ParseError> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| from_yaml(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut map = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => return Err(shape(path, "mapping keys must be scalars")),
                };
                let child = format!("{path}/{key}");
                map.insert(key, from_yaml(v, &child)?);
            }
            long_form(map, path)?
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let arg = from_yaml(&tagged.value, path)?;
            let long = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            Value::Fn(Box::new(intrinsic(&long, arg, path, true)?))
        }
    })
}

fn from_json(v: &serde_json::Value, path: &str) -> Result<Value, ParseError> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => {
            let mut map = Map::new();
            for (k, v) in o {
                map.insert(k.clone(), from_json(v, &format!("{path}/{k}"))?);
            }
            long_form(map, path)?
        }
    })
}

/// A single-key map `{Ref: x}` or `{Fn::X: args}` is a function call.
fn long_form(map: Map, path: &str) -> Result<Value, ParseError> {
    if map.len() == 1
        && let Some((key, arg)) = map.first().map(|(k, v)| (k.clone(), v.clone()))
    {
        let is_fn = key == "Ref"
            || key.starts_with("Fn::")
            || (key == "Condition" && matches!(arg, Value::String(_)));
        if is_fn {
            return Ok(Value::Fn(Box::new(intrinsic(&key, arg, path, false)?)));
        }
    }
    Ok(Value::Map(map))
}

fn string_arg(name: &str, v: Value, path: &str) -> Result<String, ParseError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(shape(path, format!("{name} expects a string"))),
    }
}

fn list_arg<const N: usize>(name: &str, v: Value, path: &str) -> Result<[Value; N], ParseError> {
    match v {
        Value::List(items) if items.len() == N => items
            .try_into()
            .map_err(|_| shape(path, format!("{name} expects {N} arguments"))),
        _ => Err(shape(
            path,
            format!("{name} expects a list of {N} arguments"),
        )),
    }
}

fn intrinsic(name: &str, arg: Value, path: &str, short: bool) -> Result<Intrinsic, ParseError> {
    use Intrinsic::*;
    Ok(match name {
        "Ref" => Ref(string_arg(name, arg, path)?),
        "Condition" => Condition(string_arg(name, arg, path)?),
        "Fn::GetAtt" => match arg {
            Value::String(s) if short || s.contains('.') => {
                let (resource, attribute) = s
                    .split_once('.')
                    .ok_or_else(|| shape(path, "Fn::GetAtt expects 'Resource.Attribute'"))?;
                GetAtt {
                    resource: resource.to_owned(),
                    attribute: attribute.to_owned(),
                }
            }
            other => {
                let [r, a] = list_arg::<2>(name, other, path)?;
                GetAtt {
                    resource: string_arg(name, r, path)?,
                    attribute: string_arg(name, a, path)?,
                }
            }
        },
        "Fn::Sub" => match arg {
            Value::String(template) => Sub {
                template,
                vars: None,
            },
            other => {
                let [t, vars] = list_arg::<2>(name, other, path)?;
                let Value::Map(vars) = vars else {
                    return Err(shape(path, "Fn::Sub expects [template, {variables}]"));
                };
                Sub {
                    template: string_arg(name, t, path)?,
                    vars: Some(vars),
                }
            }
        },
        "Fn::Join" => {
            let [sep, items] = list_arg::<2>(name, arg, path)?;
            Join {
                separator: string_arg(name, sep, path)?,
                items,
            }
        }
        "Fn::Select" => {
            let [index, list] = list_arg::<2>(name, arg, path)?;
            Select { index, list }
        }
        "Fn::Split" => {
            let [sep, source] = list_arg::<2>(name, arg, path)?;
            Split {
                separator: string_arg(name, sep, path)?,
                source,
            }
        }
        "Fn::GetAZs" => GetAZs(arg),
        "Fn::ImportValue" => ImportValue(arg),
        "Fn::Base64" => Base64(arg),
        "Fn::Cidr" => {
            let [block, count, bits] = list_arg::<3>(name, arg, path)?;
            Cidr { block, count, bits }
        }
        "Fn::FindInMap" => {
            let [map, top, second] = list_arg::<3>(name, arg, path)?;
            FindInMap { map, top, second }
        }
        "Fn::If" => {
            let [c, then, otherwise] = list_arg::<3>(name, arg, path)?;
            If {
                condition: string_arg(name, c, path)?,
                then,
                otherwise,
            }
        }
        "Fn::Equals" => {
            let [a, b] = list_arg::<2>(name, arg, path)?;
            Equals(a, b)
        }
        "Fn::Not" => {
            let [c] = list_arg::<1>(name, arg, path)?;
            Not(c)
        }
        "Fn::And" | "Fn::Or" => match arg {
            Value::List(items) if (2..=10).contains(&items.len()) => {
                if name == "Fn::And" {
                    And(items)
                } else {
                    Or(items)
                }
            }
            _ => {
                return Err(shape(
                    path,
                    format!("{name} expects a list of 2 to 10 conditions"),
                ));
            }
        },
        other => {
            return Err(shape(
                path,
                format!(
                    "unknown intrinsic function {other}; allowed: Ref, Condition, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::GetAZs, Fn::ImportValue, Fn::Base64, Fn::Cidr, Fn::FindInMap, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or"
                ),
            ));
        }
    })
}

fn opt_string(m: &Map, key: &str, path: &str) -> Result<Option<String>, ParseError> {
    m.get(key)
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(shape(&format!("{path}/{key}"), "expected a string")),
        })
        .transpose()
}

fn opt_int(m: &Map, key: &str, path: &str) -> Result<Option<i64>, ParseError> {
    m.get(key)
        .map(|v| match v {
            Value::Int(n) => Ok(*n),
            Value::String(s) => s
                .parse()
                .map_err(|_| shape(&format!("{path}/{key}"), "expected an integer")),
            _ => Err(shape(&format!("{path}/{key}"), "expected an integer")),
        })
        .transpose()
}

fn section<'a>(root: &'a Map, key: &str) -> Result<Option<&'a Map>, ParseError> {
    match root.get(key) {
        None => Ok(None),
        Some(Value::Map(m)) => Ok(Some(m)),
        Some(_) => Err(shape(&format!("/{key}"), "expected a mapping")),
    }
}

fn parse_section<T>(
    root: &Map,
    key: &str,
    f: impl Fn(&Value, &str) -> Result<T, ParseError>,
) -> Result<BTreeMap<String, T>, ParseError> {
    let mut out = BTreeMap::new();
    if let Some(m) = section(root, key)? {
        for (id, v) in m {
            out.insert(id.clone(), f(v, &format!("/{key}/{id}"))?);
        }
    }
    Ok(out)
}

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
];

/// Reads the typed sections from a template's root value.
pub fn template_from_value(root: &Value) -> Result<Template, ParseError> {
    let Value::Map(root) = root else {
        return Err(shape("/", "a template must be a mapping"));
    };
    if let Some(unknown) = root.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(shape(
            &format!("/{unknown}"),
            format!("unknown template section; allowed: {}", SECTIONS.join(", ")),
        ));
    }
    if section(root, "Resources")?.is_none() {
        return Err(shape("/Resources", "a template needs a Resources section"));
    }
    Ok(Template {
        description: opt_string(root, "Description", "")?,
        metadata: root.get("Metadata").cloned(),
        parameters: parse_section(root, "Parameters", parameter)?,
        mappings: parse_section(root, "Mappings", |v, _| Ok(v.clone()))?,
        conditions: parse_section(root, "Conditions", |v, _| Ok(v.clone()))?,
        resources: parse_section(root, "Resources", resource)?,
        outputs: parse_section(root, "Outputs", output)?,
    })
}

fn mapping<'a>(v: &'a Value, path: &str) -> Result<&'a Map, ParseError> {
    v.as_map().ok_or_else(|| shape(path, "expected a mapping"))
}

fn parameter(v: &Value, path: &str) -> Result<Parameter, ParseError> {
    let m = mapping(v, path)?;
    Ok(Parameter {
        kind: opt_string(m, "Type", path)?
            .ok_or_else(|| shape(path, "a parameter needs a Type"))?,
        description: opt_string(m, "Description", path)?,
        default: m.get("Default").cloned(),
        allowed_pattern: opt_string(m, "AllowedPattern", path)?,
        allowed_values: m
            .get("AllowedValues")
            .and_then(Value::as_list)
            .map(<[Value]>::to_vec)
            .unwrap_or_default(),
        min_length: opt_int(m, "MinLength", path)?,
        max_length: opt_int(m, "MaxLength", path)?,
        constraint_description: opt_string(m, "ConstraintDescription", path)?,
    })
}

fn resource(v: &Value, path: &str) -> Result<Resource, ParseError> {
    let m = mapping(v, path)?;
    let depends_on = match m.get("DependsOn") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::List(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| shape(&format!("{path}/DependsOn"), "expected logical ids"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(shape(&format!("{path}/DependsOn"), "expected logical ids")),
    };
    let properties = match m.get("Properties") {
        None => Map::new(),
        Some(Value::Map(p)) => p.clone(),
        Some(_) => return Err(shape(&format!("{path}/Properties"), "expected a mapping")),
    };
    let mut r = Resource::new(
        opt_string(m, "Type", path)?.ok_or_else(|| shape(path, "a resource needs a Type"))?,
        properties,
    );
    r.condition = opt_string(m, "Condition", path)?;
    r.depends_on = depends_on;
    r.depends_on.sort();
    r.deletion_policy = opt_string(m, "DeletionPolicy", path)?;
    r.update_replace_policy = opt_string(m, "UpdateReplacePolicy", path)?;
    r.metadata = m.get("Metadata").cloned();
    Ok(r)
}

fn output(v: &Value, path: &str) -> Result<Output, ParseError> {
    let m = mapping(v, path)?;
    Ok(Output {
        description: opt_string(m, "Description", path)?,
        value: m
            .get("Value")
            .cloned()
            .ok_or_else(|| shape(path, "an output needs a Value"))?,
        export: m.get("Export").and_then(|e| e.get("Name")).cloned(),
        condition: opt_string(m, "Condition", path)?,
    })
}
