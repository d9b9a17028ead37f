//! E-VALUE-IAM-POLICY: the structure IAM requires of a policy document
//! (IAM JSON policy element reference). Values computed by intrinsic
//! functions are not judged.

use std::sync::OnceLock;

use apprun_template::{Map, Value};
use regex::Regex;

use super::{is_dynamic, one_or_many, resources_of};
use crate::rules::{Scope, Sink};

/// Identity policies name no principal; resource policies must.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Identity,
    Resource,
}

/// (type, path of the document under Properties, kind); `*` is a list index.
const DOCUMENTS: &[(&str, &str, Kind)] = &[
    ("AWS::IAM::Policy", "PolicyDocument", Kind::Identity),
    ("AWS::IAM::ManagedPolicy", "PolicyDocument", Kind::Identity),
    (
        "AWS::IAM::Role",
        "Policies/*/PolicyDocument",
        Kind::Identity,
    ),
    (
        "AWS::IAM::User",
        "Policies/*/PolicyDocument",
        Kind::Identity,
    ),
    (
        "AWS::IAM::Group",
        "Policies/*/PolicyDocument",
        Kind::Identity,
    ),
    ("AWS::S3::BucketPolicy", "PolicyDocument", Kind::Resource),
    ("AWS::SQS::QueuePolicy", "PolicyDocument", Kind::Resource),
    ("AWS::SNS::TopicPolicy", "PolicyDocument", Kind::Resource),
    (
        "AWS::ECR::Repository",
        "RepositoryPolicyText",
        Kind::Resource,
    ),
    ("AWS::KMS::Key", "KeyPolicy", Kind::Resource),
];

const DOCUMENT_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

pub(crate) fn documents(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (kind, at, policy) in DOCUMENTS {
        for (id, p, base) in resources_of(scope.template, kind) {
            for (path, doc) in find(p, at, &base) {
                let mut problems = Vec::new();
                document(doc, &path, *policy, &mut problems);
                for (path, message) in problems {
                    out.push(id, path, message);
                }
            }
        }
    }
}

/// The values at `at` (keys separated by `/`, `*` for every list item).
fn find<'a>(p: &'a Map, at: &str, base: &str) -> Vec<(String, &'a Value)> {
    let mut found: Vec<(String, &Value)> = Vec::new();
    let mut keys = at.split('/');
    let Some(first) = keys.next() else {
        return found;
    };
    if let Some(v) = p.get(first) {
        found.push((format!("{base}/{first}"), v));
    }
    for key in keys {
        found = found
            .into_iter()
            .flat_map(|(path, v)| match (key, v) {
                ("*", Value::List(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{path}/{i}"), x))
                    .collect::<Vec<_>>(),
                (k, v) => v
                    .get(k)
                    .map(|x| (format!("{path}/{k}"), x))
                    .into_iter()
                    .collect(),
            })
            .collect();
    }
    found
}

type Problems = Vec<(String, String)>;

fn document(doc: &Value, path: &str, kind: Kind, out: &mut Problems) {
    let Value::Map(m) = doc else {
        if matches!(doc, Value::List(_)) {
            out.push((
                path.into(),
                "a policy document is a mapping (Version, Statement), not a list".into(),
            ));
        }
        return;
    };
    for k in m.keys().filter(|k| !DOCUMENT_KEYS.contains(&k.as_str())) {
        out.push((
            format!("{path}/{k}"),
            format!("`{k}` is not a policy document element; allowed: Version, Id, Statement"),
        ));
    }
    if let Some(Value::String(v)) = m.get("Version")
        && v != "2012-10-17"
        && v != "2008-10-17"
    {
        out.push((
            format!("{path}/Version"),
            format!("Version `{v}` is not 2012-10-17 (or 2008-10-17)"),
        ));
    }
    match m.get("Statement") {
        None => out.push((path.into(), "a policy document needs a Statement".into())),
        Some(Value::List(items)) => {
            for (i, s) in items.iter().enumerate() {
                statement(s, &format!("{path}/Statement/{i}"), kind, out);
            }
        }
        Some(s @ Value::Map(_)) => statement(s, &format!("{path}/Statement"), kind, out),
        Some(Value::Fn(_)) => {}
        Some(_) => out.push((
            format!("{path}/Statement"),
            "Statement is a statement or a list of them".into(),
        )),
    }
}

fn statement(s: &Value, path: &str, kind: Kind, out: &mut Problems) {
    let Value::Map(m) = s else {
        if !matches!(s, Value::Fn(_)) {
            out.push((
                path.into(),
                "a statement is a mapping (Effect, Action, Resource, ...)".into(),
            ));
        }
        return;
    };
    for k in m.keys().filter(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        out.push((
            format!("{path}/{k}"),
            format!(
                "`{k}` is not a statement element; allowed: {}",
                STATEMENT_KEYS.join(", ")
            ),
        ));
    }
    match m.get("Effect") {
        None => out.push((
            path.into(),
            "a statement needs an Effect (Allow or Deny)".into(),
        )),
        Some(Value::String(e)) if e != "Allow" && e != "Deny" => out.push((
            format!("{path}/Effect"),
            format!("Effect `{e}` is not Allow or Deny"),
        )),
        _ => {}
    }
    exactly_one(m, path, ["Action", "NotAction"], out);
    let principal = m.contains_key("Principal") || m.contains_key("NotPrincipal");
    match kind {
        Kind::Identity => {
            exactly_one(m, path, ["Resource", "NotResource"], out);
            if principal {
                out.push((path.into(), "an identity-based policy names no Principal; the principal is whoever holds the policy".into()));
            }
        }
        Kind::Resource => exactly_one(m, path, ["Principal", "NotPrincipal"], out),
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = m.get(key) {
            strings(v, &format!("{path}/{key}"), key.ends_with("Resource"), out);
        }
    }
}

fn exactly_one(m: &Map, path: &str, keys: [&str; 2], out: &mut Problems) {
    let n = keys.iter().filter(|k| m.contains_key(**k)).count();
    if n != 1 {
        out.push((
            path.into(),
            format!(
                "a statement needs exactly one of {} and {}",
                keys[0], keys[1]
            ),
        ));
    }
}

fn arn() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(arn:(aws[A-Za-z\-]*|\*):[^:]+:[^:]*(:(\d{12}|\*|aws)?:.+|)|\*)$").ok()
    })
    .as_ref()
}

/// Actions and resources are strings (or lists of them); resources are
/// ARNs or `*`.
fn strings(v: &Value, path: &str, resource: bool, out: &mut Problems) {
    if matches!(v, Value::Map(_)) {
        out.push((
            path.into(),
            "expected a string or a list of strings, not a mapping".into(),
        ));
        return;
    }
    for (i, item) in one_or_many(v).into_iter().enumerate() {
        let at = if matches!(v, Value::List(_)) {
            format!("{path}/{i}")
        } else {
            path.into()
        };
        match item {
            Value::Map(_) | Value::List(_) => {
                out.push((at, "expected a string, not a mapping or list".into()))
            }
            Value::String(s)
                if resource && !is_dynamic(s) && arn().is_some_and(|re| !re.is_match(s)) =>
            {
                out.push((
                    at,
                    format!(
                        "`{s}` is not an ARN (arn:partition:service:region:account:resource) or *"
                    ),
                ))
            }
            _ => {}
        }
    }
}
