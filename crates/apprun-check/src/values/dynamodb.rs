//! E-VALUE-DYNAMODB-KEYS: DynamoDB rejects a table whose attribute
//! definitions name an attribute no key schema uses, or whose key schemas
//! use an attribute not defined.

use std::collections::BTreeSet;

use apprun_template::{Map, Value};

use super::resources_of;
use crate::rules::{Scope, Sink};

pub(crate) fn keys(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for kind in ["AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"] {
        for (id, p, base) in resources_of(scope.template, kind) {
            let Some(defined) = defined(p) else { continue };
            let Some(used) = used(p) else { continue };
            if defined == used {
                continue;
            }
            let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
            out.push(
                id,
                format!("{base}/AttributeDefinitions"),
                format!(
                    "AttributeDefinitions ({}) must name exactly the attributes the key schemas of the table and its indexes use ({})",
                    list(&defined),
                    list(&used)
                ),
            );
        }
    }
}

/// The names in a list of maps' `AttributeName`, or None when any part is
/// computed (an intrinsic function).
fn names<'a>(list: &'a Value, into: &mut BTreeSet<&'a str>) -> Option<()> {
    for item in list.as_list()? {
        into.insert(item.get("AttributeName")?.as_str()?);
    }
    Some(())
}

fn defined(p: &Map) -> Option<BTreeSet<&str>> {
    let mut set = BTreeSet::new();
    names(p.get("AttributeDefinitions")?, &mut set)?;
    Some(set)
}

fn used(p: &Map) -> Option<BTreeSet<&str>> {
    let mut set = BTreeSet::new();
    names(p.get("KeySchema")?, &mut set)?;
    for indexes in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        if let Some(list) = p.get(indexes) {
            for index in list.as_list()? {
                names(index.get("KeySchema")?, &mut set)?;
            }
        }
    }
    Some(set)
}
