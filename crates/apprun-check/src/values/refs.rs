//! References written where CloudFormation does not resolve them:
//! `${Name}` outside `Fn::Sub`, and `Fn::ImportValue` given something that
//! is not a name or used where imports are not allowed.

use apprun_template::{Intrinsic, Template, Value};

use super::walk_paths;
use crate::rules::{Scope, Sink};

/// (logical id, path, value) of everything a template evaluates: resource
/// properties and output values.
///
/// Yielded one at a time, each path made as it is reached: a template of
/// thousands of resources is not listed (nor its paths formatted) at once.
fn evaluated(t: &Template) -> impl Iterator<Item = (&str, String, &Value)> {
    let properties = t.resources.iter().flat_map(|(id, r)| {
        r.properties
            .iter()
            .map(move |(k, v)| (id.as_str(), format!("Resources/{id}/Properties/{k}"), v))
    });
    let outputs = t
        .outputs
        .iter()
        .map(|(id, o)| (id.as_str(), format!("Outputs/{id}/Value"), &o.value));
    properties.chain(outputs)
}

/// Whether `${name}` would mean something inside `Fn::Sub`: a parameter, a
/// resource (or its attribute), or a pseudo parameter.
fn is_reference(t: &Template, name: &str) -> bool {
    let head = name.split('.').next().unwrap_or(name);
    name.starts_with("AWS::") || t.parameters.contains_key(name) || t.resources.contains_key(head)
}

/// The `${...}` variables of a plain string (`${!x}` is a literal), as
/// Fn::Sub reads them: letters, digits, `_`, `:` and `.`.
fn variables(s: &str) -> impl Iterator<Item = &str> {
    s.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.'))
        })
}

pub(crate) fn sub_needed(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    for (id, path, value) in evaluated(t) {
        // Step Functions replaces `${name}` from DefinitionSubstitutions
        // itself; a nested stack's TemplateBody is the child's own text.
        let resource = t.resources.get(id);
        let substituted = resource
            .and_then(|r| r.properties.get("DefinitionSubstitutions"))
            .and_then(Value::as_map);
        if path.ends_with("/TemplateBody") {
            continue;
        }
        walk_paths(value, &path, &mut |v, at| {
            let Value::String(s) = v else { return };
            let names = variables(s)
                .filter(|n| is_reference(t, n))
                .filter(|n| substituted.is_none_or(|m| !m.contains_key(*n)));
            for name in names {
                out.push(
                    id,
                    at.to_owned(),
                    format!(
                        "`${{{name}}}` is only replaced inside Fn::Sub; write !Sub for this string"
                    ),
                );
            }
        });
    }
}

/// What `Fn::ImportValue` accepts: a name, or a function that yields one
/// without depending on a resource.
fn importable(t: &Template, arg: &Value) -> Result<(), String> {
    match arg {
        Value::String(_) => Ok(()),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::ImportValue(_) => Err("another Fn::ImportValue".into()),
            Intrinsic::GetAtt { resource, .. } => Err(format!("Fn::GetAtt of {resource}")),
            Intrinsic::Ref(name) if t.resources.contains_key(name.as_str()) => {
                Err(format!("a Ref to the resource {name}"))
            }
            _ => Ok(()),
        },
        Value::List(_) => Err("a list".into()),
        Value::Map(_) => Err("a mapping".into()),
        other => Err(format!("{other:?}")),
    }
}

pub(crate) fn import_value(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    for (id, path, value) in evaluated(t) {
        walk_paths(value, &path, &mut |v, at| {
            let Some(Intrinsic::ImportValue(arg)) = v.as_fn() else {
                return;
            };
            if let Err(what) = importable(t, arg) {
                out.push(
                    id,
                    at.to_owned(),
                    format!(
                        "Fn::ImportValue takes an export name (a string, or Sub/Join/Select/Split/FindInMap/If/Ref of a parameter), not {what}"
                    ),
                );
            }
        });
    }
    for (name, condition) in &t.conditions {
        walk_paths(condition, &format!("Conditions/{name}"), &mut |v, at| {
            if let Some(Intrinsic::ImportValue(_)) = v.as_fn() {
                out.push(
                    name,
                    at.to_owned(),
                    "Fn::ImportValue cannot be used in Conditions; pass the value as a parameter"
                        .into(),
                );
            }
        });
    }
}

/// Whether a property takes a role (its name or ARN).
fn names_a_role(key: &str) -> bool {
    key.ends_with("Role") || key.ends_with("RoleArn")
}

/// E-VALUE-ROLE-PATH: `Ref` of a role gives its name; a service that takes
/// a name builds the ARN without the role's path, so a role with a Path
/// other than `/` must be given by `Fn::GetAtt Role.Arn`.
pub(crate) fn role_path(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    for (id, r) in &t.resources {
        for (key, v) in r.properties.iter().filter(|(k, _)| names_a_role(k)) {
            let Some(Intrinsic::Ref(role)) = v.as_fn() else {
                continue;
            };
            let path = t
                .resources
                .get(role.as_str())
                .filter(|r| r.kind == "AWS::IAM::Role")
                .and_then(|r| r.properties.get("Path"))
                .and_then(Value::as_str);
            if let Some(path) = path.filter(|p| *p != "/") {
                out.push(
                    id,
                    format!("Resources/{id}/Properties/{key}"),
                    format!("role {role} has Path {path}: Ref gives its name, which resolves without the path; use !GetAtt {role}.Arn"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn variables() {
        let v: Vec<&str> = super::variables("a${X}b${!Lit}${AWS::Region}${a b}${").collect();
        assert_eq!(v, ["X", "AWS::Region"]);
    }
}
