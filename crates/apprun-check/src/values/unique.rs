//! E-VALUE-LIST-DUPLICATE: a list the resource schema declares
//! `uniqueItems` holds the same item twice (CloudFormation rejects it, or
//! the service does). Where the schemas of every type declare it is
//! vendored in `data/unique-items.tsv`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use apprun_template::{Intrinsic, Value};

use crate::rules::{Scope, Sink};

/// Type → property paths (segments; `*` for every list item).
fn paths() -> &'static BTreeMap<&'static str, Vec<Vec<&'static str>>> {
    static DATA: OnceLock<BTreeMap<&'static str, Vec<Vec<&'static str>>>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut map: BTreeMap<&str, Vec<Vec<&str>>> = BTreeMap::new();
        for line in include_str!("data/unique-items.tsv").lines() {
            if let Some((kind, path)) = line.split_once('\t') {
                map.entry(kind).or_default().push(path.split('/').collect());
            }
        }
        map
    })
}

pub(crate) fn items(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, r) in &scope.template.resources {
        let Some(paths) = paths().get(r.kind.as_str()) else {
            continue;
        };
        for path in paths {
            let Some((first, rest)) = path.split_first() else {
                continue;
            };
            if let Some(v) = r.properties.get(*first) {
                let at = format!("Resources/{id}/Properties/{first}");
                visit(v, rest, &at, &mut |path, message| {
                    out.push(id, path, message)
                });
            }
        }
    }
}

/// Follows `rest` from `v`, through both branches of `Fn::If`, and checks
/// the lists at its end.
fn visit(v: &Value, rest: &[&str], path: &str, report: &mut dyn FnMut(String, String)) {
    if let Value::Fn(f) = v {
        if let Intrinsic::If(a) = f.as_ref() {
            visit(&a.then, rest, &format!("{path}/Fn::If/1"), report);
            visit(&a.otherwise, rest, &format!("{path}/Fn::If/2"), report);
        }
        return;
    }
    match (rest.split_first(), v) {
        (None, Value::List(items)) => duplicates(items, path, report),
        (Some((&"*", tail)), Value::List(items)) => {
            for (i, x) in items.iter().enumerate() {
                visit(x, tail, &format!("{path}/{i}"), report);
            }
        }
        (Some((key, tail)), Value::Map(m)) => {
            if let Some(x) = m.get(*key) {
                visit(x, tail, &format!("{path}/{key}"), report);
            }
        }
        _ => {}
    }
}

fn duplicates(items: &[Value], path: &str, report: &mut dyn FnMut(String, String)) {
    for (i, x) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().position(|y| y == x) {
            let shown = match x {
                Value::String(s) => format!("`{s}`"),
                _ => "the same value".to_owned(),
            };
            report(
                format!("{path}/{i}"),
                format!(
                    "item {i} repeats item {first} ({shown}); this list's items must be unique"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data() {
        let paths = super::paths();
        assert!(paths.len() > 100, "the vendored data parses");
        assert!(paths["AWS::IAM::Group"].contains(&vec!["ManagedPolicyArns"]));
    }
}
