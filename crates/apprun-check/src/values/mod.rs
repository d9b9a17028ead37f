//! Value rules (`E-VALUE-*`): values CloudFormation or the service would
//! reject although the schema's types allow them. Declared in `rules::RULES`.

pub(crate) mod backup;
pub(crate) mod dynamodb;
pub(crate) mod elasticache;
pub(crate) mod formats;
pub(crate) mod iam;
pub(crate) mod lambda;
pub(crate) mod modules;
pub(crate) mod names;
pub(crate) mod nested;
pub(crate) mod network;
pub(crate) mod parameters;
pub(crate) mod rds;
pub(crate) mod refs;
pub(crate) mod unique;

use apprun_template::{Map, Template, Value};

/// (logical id, properties, `Resources/<id>/Properties`) of every resource
/// of one type.
pub(crate) fn resources_of<'a>(
    t: &'a Template,
    kind: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Map, String)> + 'a {
    t.resources
        .iter()
        .filter(move |(_, r)| r.kind == kind)
        .map(|(id, r)| {
            (
                id.as_str(),
                &r.properties,
                format!("Resources/{id}/Properties"),
            )
        })
}

/// Visits every value under `v` with its path, going into the arguments of
/// intrinsic functions (as `<path>/Fn::Name/...`) except the template
/// string of `Fn::Sub`, which is not a value.
pub(crate) fn walk_paths(v: &Value, path: &str, visit: &mut dyn FnMut(&Value, &str)) {
    visit(v, path);
    match v {
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_paths(item, &format!("{path}/{i}"), visit);
            }
        }
        Value::Map(map) => {
            for (k, item) in map {
                walk_paths(item, &format!("{path}/{k}"), visit);
            }
        }
        Value::Fn(f) => {
            let arg = f.argument();
            let at = format!("{path}/{}", f.long_name());
            match (f.as_ref(), &arg) {
                // The first item is the Sub template string: only the
                // variable map holds values.
                (apprun_template::Intrinsic::Sub { .. }, Value::List(items)) => {
                    if let Some(vars) = items.get(1) {
                        walk_paths(vars, &format!("{at}/1"), visit);
                    }
                }
                (apprun_template::Intrinsic::Sub { .. }, _) => {}
                _ => walk_paths(&arg, &at, visit),
            }
        }
        _ => {}
    }
}

/// A dynamic reference (`{{resolve:ssm:...}}`, `{{resolve:secretsmanager:...}}`):
/// CloudFormation replaces it at deploy time, so its text says nothing.
pub(crate) fn is_dynamic(s: &str) -> bool {
    s.contains("{{resolve:")
}

/// Each literal item of a value that may be one item or a list of them.
pub(crate) fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    }
}
