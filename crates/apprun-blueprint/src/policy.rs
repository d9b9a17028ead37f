//! IAM policy documents.

use apprun_template::{Map, Value, map};

/// The policy language version. Rendered quoted: an unquoted
/// `2012-10-17` is read as a date by YAML 1.1 readers.
const VERSION: &str = "2012-10-17";

/// A policy document from its statements.
pub(crate) fn document(statements: Vec<Value>) -> Value {
    map! { "Version" => VERSION, "Statement" => statements }.into()
}

/// An `Allow` statement.
pub(crate) fn allow(sid: &str, actions: &[&str], resources: Vec<Value>) -> Map {
    map! {
        "Sid" => sid,
        "Effect" => "Allow",
        "Action" => actions.iter().map(|a| Value::from(*a)).collect::<Vec<_>>(),
        "Resource" => resources,
    }
}

/// Adds a `Condition` block to a statement.
pub(crate) fn with_condition(
    mut statement: Map,
    operator: &str,
    key: &str,
    values: &[&str],
) -> Map {
    let values: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
    statement.insert(
        "Condition".into(),
        map! { operator => map! { key => values } }.into(),
    );
    statement
}

/// Adds a `Condition` block whose values may be intrinsics (e.g. `Sub`).
pub(crate) fn with_condition_values(
    mut statement: Map,
    operator: &str,
    key: &str,
    values: Vec<Value>,
) -> Map {
    statement.insert(
        "Condition".into(),
        map! { operator => map! { key => values } }.into(),
    );
    statement
}

/// A trust policy letting the given service principals assume a role.
pub(crate) fn trust(services: &[&str]) -> Value {
    let principals: Vec<Value> = services.iter().map(|s| Value::from(*s)).collect();
    document(vec![
        map! {
            "Effect" => "Allow",
            "Principal" => map! { "Service" => principals },
            "Action" => "sts:AssumeRole",
        }
        .into(),
    ])
}
