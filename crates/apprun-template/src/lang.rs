//! The `AWS::LanguageExtensions` transform, applied before any check as
//! CloudFormation applies it before anything else: `Fn::ForEach::<Name>`
//! loops expanded, `Fn::Length`, `Fn::ToJsonString` and `Fn::FindInMap` with
//! a `DefaultValue` resolved where their arguments are literal (or parameter
//! defaults), and `Ref`s to parameters in `DeletionPolicy`/`UpdateReplacePolicy`.
//!
//! What only the deployment knows (a parameter without a default, a value
//! computed by another function) stays a function call: the checks treat it
//! as unknown, never as wrong. A loop over an unknown collection is expanded
//! once with a placeholder value so that its body is still checked.

use crate::parse::{FOR_EACH, MAX_DEPTH, Untyped, typed};
use crate::template::Note;
use crate::validate::Severity;
use crate::value::{Intrinsic, Map, Str, Value};

/// What resolution may read: parameter defaults and the mappings.
struct Scope {
    defaults: Map,
    list_params: Vec<String>,
    mappings: Map,
}

/// The value a loop identifier takes when the collection is unknown.
const PLACEHOLDER: &str = "Placeholder";

pub(crate) fn expand(root: &mut Map, notes: &mut Vec<Note>) {
    let mut scope = Scope {
        defaults: Map::new(),
        list_params: Vec::new(),
        mappings: Map::new(),
    };
    if let Some(Value::Map(params)) = root.get("Parameters") {
        for (name, p) in params {
            if let Some(d) = p.get("Default") {
                scope.defaults.insert(name.clone(), d.clone());
            }
            if p.get("Type")
                .and_then(Value::as_str)
                .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"))
            {
                scope.list_params.push(name.as_str().into());
            }
        }
    }
    if let Some(Value::Map(m)) = root.get("Mappings") {
        scope.mappings = m.clone();
    }
    for section in ["Conditions", "Resources", "Outputs"] {
        if let Some(v) = root.get_mut(section) {
            loops(v, &scope, notes, section, 0);
        }
    }
    for section in ["Conditions", "Resources", "Outputs"] {
        if let Some(v) = root.get_mut(section) {
            resolve(v, &scope, 0);
        }
    }
    if let Some(Value::Map(resources)) = root.get_mut("Resources") {
        for r in resources.values_mut() {
            let Value::Map(r) = r else { continue };
            for key in ["DeletionPolicy", "UpdateReplacePolicy"] {
                if let Some(v) = r.get_mut(key)
                    && let Value::Fn(f) = v
                    && let Intrinsic::Ref(p) = f.as_ref()
                    && let Some(Value::String(d)) = scope.defaults.get(p)
                {
                    *v = Value::String(d.clone());
                }
            }
        }
    }
}

/// Expands every `Fn::ForEach::<Name>` key inside `v`.
fn loops(v: &mut Value, scope: &Scope, notes: &mut Vec<Note>, path: &str, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Map(map) => {
            if map.keys().any(|k| k.starts_with(FOR_EACH)) {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    if k.starts_with(FOR_EACH) {
                        let at = format!("{path}/{k}");
                        for (key, value) in expand_loop(v, scope, notes, &at, depth) {
                            map.insert(key, value);
                        }
                    } else {
                        loops(&mut v, scope, notes, &format!("{path}/{k}"), depth + 1);
                        map.insert(k, v);
                    }
                }
            } else {
                for (k, v) in map.iter_mut() {
                    loops(v, scope, notes, &format!("{path}/{k}"), depth + 1);
                }
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                loops(item, scope, notes, &format!("{path}/{i}"), depth + 1);
            }
        }
        _ => {}
    }
}

/// One loop `[Identifier, Collection, {OutputKey: OutputValue}]` as the
/// entries it produces (themselves expanded).
fn expand_loop(
    v: Value,
    scope: &Scope,
    notes: &mut Vec<Note>,
    path: &str,
    depth: usize,
) -> Vec<(Str, Value)> {
    let bad = |notes: &mut Vec<Note>, message: &str| {
        notes.push(Note {
            severity: Severity::Error,
            code: "E-FN",
            path: path.into(),
            line: None,
            message: message.into(),
        });
        Vec::new()
    };
    let Value::List(parts) = v else {
        return bad(
            notes,
            "Fn::ForEach expects [identifier, collection, {key: value}]",
        );
    };
    let Ok([id, collection, Value::Map(body)]) = <[Value; 3]>::try_from(parts.into_vec()) else {
        return bad(
            notes,
            "Fn::ForEach expects [identifier, collection, {key: value}]",
        );
    };
    let Value::String(id) = id else {
        return bad(notes, "Fn::ForEach's identifier must be a string");
    };
    let items =
        collection_items(&collection, scope).unwrap_or_else(|| vec![PLACEHOLDER.to_owned()]);
    let mut out = Map::new();
    for item in &items {
        let mut produced = Map::new();
        for (k, v) in &body {
            produced.insert(
                replace_id(k, &id, item).into(),
                substitute(v.clone(), &id, item),
            );
        }
        let mut produced = Value::Map(produced);
        loops(&mut produced, scope, notes, path, depth + 1);
        if let Value::Map(m) = produced {
            out.extend(m);
        }
    }
    out.into_iter().collect()
}

/// The strings a loop runs over, when known before deployment.
fn collection_items(v: &Value, scope: &Scope) -> Option<Vec<String>> {
    let list = match v {
        Value::List(items) => items.to_vec(),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Ref(p) if scope.list_params.iter().any(|l| l == p) => {
                match scope.defaults.get(p)? {
                    Value::String(s) => s
                        .split(',')
                        .map(|x| Value::String(x.trim().into()))
                        .collect(),
                    Value::List(items) => items.to_vec(),
                    _ => return None,
                }
            }
            Intrinsic::FindInMap(a) => lookup(scope, &a.map, &a.top, &a.second)?
                .as_list()?
                .to_vec(),
            _ => return None,
        },
        _ => return None,
    };
    list.iter()
        .map(|i| match i {
            Value::String(s) => Some(s.to_string()),
            Value::Int(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        })
        .collect()
}

fn lookup<'s>(scope: &'s Scope, map: &Value, top: &Value, second: &Value) -> Option<&'s Value> {
    scope
        .mappings
        .get(map.as_str()?)?
        .get(top.as_str()?)?
        .get(second.as_str()?)
}

/// `${Identifier}` becomes the item; `&{Identifier}` the item with
/// everything but letters and digits removed (for logical ids).
fn replace_id(s: &str, id: &str, item: &str) -> String {
    if !s.contains('{') {
        return s.to_owned();
    }
    let alnum: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    s.replace(&format!("${{{id}}}"), item)
        .replace(&format!("&{{{id}}}"), &alnum)
}

/// The loop body for one item: `Ref` to the identifier becomes the item,
/// and the identifier is replaced in keys, `Fn::Sub` strings and the names
/// functions carry (`Fn::If` conditions, `Fn::GetAtt` targets).
fn substitute(v: Value, id: &str, item: &str) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (replace_id(&k, id, item), substitute(v, id, item)))
                .collect(),
        ),
        Value::List(items) => {
            Value::List(items.into_iter().map(|i| substitute(i, id, item)).collect())
        }
        Value::Fn(mut f) => {
            match f.as_mut() {
                Intrinsic::Ref(name) if name == id => return Value::String(item.into()),
                Intrinsic::Sub { template, .. } => {
                    *template = replace_id(template, id, item).into()
                }
                Intrinsic::GetAtt {
                    resource,
                    attribute,
                } => {
                    *resource = replace_id(resource, id, item).into();
                    *attribute = replace_id(attribute, id, item).into();
                }
                Intrinsic::If(a) => a.condition = replace_id(&a.condition, id, item).into(),
                Intrinsic::Condition(condition) => {
                    *condition = replace_id(condition, id, item).into()
                }
                Intrinsic::Other { .. } => {
                    let (name, arg) = f.into_parts();
                    return rebuild(&name, substitute(arg, id, item));
                }
                _ => {}
            }
            for arg in f.args_mut() {
                let taken = std::mem::replace(arg, Value::Null);
                *arg = substitute(taken, id, item);
            }
            Value::Fn(f)
        }
        other => other,
    }
}

/// A function call the model keeps untyped, typed again when its argument
/// now has the documented shape (a loop item filled it in).
fn rebuild(name: &str, arg: Value) -> Value {
    match typed(name, arg, true) {
        Ok(f) => Value::Fn(Box::new(f)),
        Err(Untyped::Kept(arg) | Untyped::Bad(_, arg)) => Value::Fn(Box::new(Intrinsic::Other {
            name: name.into(),
            arg,
        })),
    }
}

/// Resolves the transform's functions bottom-up where their arguments are
/// known; one pass, each node visited once.
fn resolve(v: &mut Value, scope: &Scope, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Map(m) => m.values_mut().for_each(|v| resolve(v, scope, depth + 1)),
        Value::List(items) => items.iter_mut().for_each(|v| resolve(v, scope, depth + 1)),
        Value::Fn(f) => {
            for arg in f.args_mut() {
                resolve(arg, scope, depth + 1);
            }
            let Intrinsic::Other { name, arg } = f.as_mut() else {
                return;
            };
            let resolved = match (name.as_str(), &*arg) {
                ("Fn::Length", arg) => length(arg, scope).map(Value::Int),
                ("Fn::ToJsonString", arg) if !has_function(arg) => Some(Value::String(
                    crate::json::to_json_value(arg).to_string().into(),
                )),
                ("Fn::FindInMap", Value::List(items)) if items.len() == 4 => {
                    let literal = items[..3].iter().all(|i| i.as_str().is_some());
                    match lookup(scope, &items[0], &items[1], &items[2]) {
                        Some(found) => Some(found.clone()),
                        None if literal => items[3].get("DefaultValue").cloned(),
                        None => None,
                    }
                }
                _ => None,
            };
            if let Some(r) = resolved {
                *v = r;
            }
        }
        _ => {}
    }
}

fn has_function(v: &Value) -> bool {
    let mut found = false;
    v.walk(&mut |v| found |= matches!(v, Value::Fn(_)));
    found
}

fn length(arg: &Value, scope: &Scope) -> Option<i64> {
    match arg {
        Value::List(items) => i64::try_from(items.len()).ok(),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Ref(p) if scope.list_params.iter().any(|l| l == p) => {
                match scope.defaults.get(p)? {
                    Value::String(s) => i64::try_from(s.split(',').count()).ok(),
                    Value::List(items) => i64::try_from(items.len()).ok(),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_replaced_in_keys_refs_and_subs() {
        assert_eq!(replace_id("Topic${Name}", "Name", "a-b"), "Topica-b");
        assert_eq!(replace_id("Topic&{Name}", "Name", "a-b"), "Topicab");
        let v = substitute(
            Value::Fn(Box::new(Intrinsic::Ref("Name".into()))),
            "Name",
            "x",
        );
        assert_eq!(v, Value::String("x".into()));
    }
}
