//! E-VALUE-NESTED-STACK: the parameters a nested stack passes must be the
//! ones its template declares, and every one without a Default must be
//! passed. Only a TemplateURL naming a local file (relative to the
//! template, as `aws cloudformation package` reads it) can be checked.

use std::collections::BTreeMap;
use std::path::Path;

use apprun_template::{Intrinsic, Value, parse_template};

use super::resources_of;
use crate::rules::{Scope, Sink};

/// The child's parameters: name → has a default. None when the file cannot
/// be read or parsed (nothing is known, so nothing is reported).
fn child_parameters(parent_file: &str, url: &str) -> Option<BTreeMap<String, bool>> {
    if url.contains("://") || url.starts_with("s3.") || url.contains(".amazonaws.com") {
        return None;
    }
    let path = Path::new(parent_file).parent()?.join(url);
    let text = std::fs::read_to_string(path).ok()?;
    let child = parse_template(&text).ok()?;
    Some(
        child
            .parameters
            .into_iter()
            .map(|(name, p)| (name, p.default.is_some()))
            .collect(),
    )
}

pub(crate) fn parameters(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for kind in ["AWS::CloudFormation::Stack", "AWS::Serverless::Application"] {
        for (id, p, base) in resources_of(scope.template, kind) {
            let url = p.get("TemplateURL").or_else(|| p.get("Location"));
            let Some(url) = url.and_then(Value::as_str) else {
                continue;
            };
            let Some(child) = child_parameters(scope.file, url) else {
                continue;
            };
            let given = p
                .get("Parameters")
                .cloned()
                .unwrap_or(Value::Map(Default::default()));
            let mut problems = Vec::new();
            each_branch(&given, &format!("{base}/Parameters"), &mut |m, path| {
                compare(&child, m, path, url, &mut problems)
            });
            problems.sort();
            problems.dedup();
            for (path, message) in problems {
                out.push(id, path, message);
            }
        }
    }
}

/// Calls `f` with each literal mapping the value can be, through `Fn::If`.
fn each_branch(v: &Value, path: &str, f: &mut dyn FnMut(&apprun_template::Map, &str)) {
    match v {
        Value::Map(m) => f(m, path),
        Value::Fn(x) => {
            if let Intrinsic::If(a) = x.as_ref() {
                each_branch(&a.then, &format!("{path}/Fn::If/1"), f);
                each_branch(&a.otherwise, &format!("{path}/Fn::If/2"), f);
            }
        }
        _ => {}
    }
}

fn compare(
    child: &BTreeMap<String, bool>,
    given: &apprun_template::Map,
    path: &str,
    url: &str,
    out: &mut Vec<(String, String)>,
) {
    for name in given.keys().filter(|k| !child.contains_key(k.as_str())) {
        out.push((
            format!("{path}/{name}"),
            format!("parameter `{name}` is not declared by the nested template {url}"),
        ));
    }
    for (name, _) in child
        .iter()
        .filter(|(n, default)| !**default && !given.contains_key(*n))
    {
        out.push((
            path.to_owned(),
            format!("the nested template {url} requires parameter `{name}` (it has no Default)"),
        ));
    }
}
