//! What a value refers to: the edges of a template's dependency graph.

use std::collections::BTreeSet;

use crate::value::{Intrinsic, Map, Value};

/// Names a value refers to, borrowed from it (a `Fn::Sub` string can name
/// a variable every six bytes: copied, the names took fifteen times the
/// string's size).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct References<'a> {
    /// `Ref` targets and plain `${Name}` in `Fn::Sub`.
    pub refs: BTreeSet<&'a str>,
    /// `Fn::GetAtt` targets and `${Name.Attr}` in `Fn::Sub`, as (resource, attribute).
    pub get_atts: BTreeSet<(&'a str, &'a str)>,
    /// Conditions named by `Fn::If` and `Condition`.
    pub conditions: BTreeSet<&'a str>,
}

impl<'a> References<'a> {
    /// Collects every reference inside `value`.
    pub fn of(value: &'a Value) -> Self {
        Self::of_all([value])
    }

    /// Collects every reference inside the values of `map` (a resource's
    /// properties, without making them a value first).
    pub fn of_map(map: &'a Map) -> Self {
        Self::of_all(map.values())
    }

    /// Collects every reference inside each of `values`.
    pub fn of_all(values: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut refs = References::default();
        for value in values {
            value.walk(&mut |v| {
                if let Value::Fn(f) = v {
                    refs.add(f);
                }
            });
        }
        refs
    }

    fn add(&mut self, f: &'a Intrinsic) {
        match f {
            Intrinsic::Ref(name) => {
                self.refs.insert(name);
            }
            Intrinsic::GetAtt {
                resource,
                attribute,
            } => {
                self.get_atts.insert((resource, attribute));
            }
            Intrinsic::Sub { template, vars } => {
                for var in sub_variables(template) {
                    if vars.as_ref().is_some_and(|v| v.contains_key(var)) {
                        continue;
                    }
                    match var.split_once('.') {
                        Some((r, a)) if !r.starts_with("AWS::") => {
                            self.get_atts.insert((r, a));
                        }
                        _ => {
                            self.refs.insert(var);
                        }
                    }
                }
            }
            Intrinsic::If(a) => {
                self.conditions.insert(&a.condition);
            }
            Intrinsic::Condition(condition) => {
                self.conditions.insert(condition);
            }
            _ => {}
        }
    }

    /// Logical ids of resources this value depends on (refs and GetAtts).
    pub fn resource_ids(&self) -> BTreeSet<&'a str> {
        self.refs
            .iter()
            .copied()
            .chain(self.get_atts.iter().map(|&(r, _)| r))
            .filter(|n| !n.starts_with("AWS::"))
            .collect()
    }
}

/// The `${...}` variables of a `Fn::Sub` template; `${!Literal}` is skipped.
/// An iterator, not a list: a template string can name a variable every
/// six bytes.
pub fn sub_variables(template: &str) -> impl Iterator<Item = &str> {
    let mut rest = template;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("${")?;
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let var = after[..end].trim();
            rest = &after[end + 1..];
            if !var.starts_with('!') {
                return Some(var);
            }
        }
    })
}

/// Pseudo parameters that `Ref` and `Fn::Sub` accept without a declaration.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::*;

    #[test]
    fn sub_variables_skip_literals_and_local_vars() {
        assert_eq!(
            sub_variables("${A}-${!B}-${C.Arn}").collect::<Vec<_>>(),
            ["A", "C.Arn"]
        );
        let v = sub("arn:${AWS::Partition}:x:${Bucket}/${Role.Arn}");
        let r = References::of(&v);
        assert!(r.refs.contains("Bucket") && r.refs.contains("AWS::Partition"));
        assert!(r.get_atts.contains(&("Role", "Arn")));
        assert_eq!(
            r.resource_ids().into_iter().collect::<Vec<_>>(),
            vec!["Bucket", "Role"]
        );
    }
}
