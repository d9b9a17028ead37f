//! What a value refers to: the edges of a template's dependency graph.

use std::collections::BTreeSet;

use crate::value::{Intrinsic, Value};

/// Names a value refers to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct References {
    /// `Ref` targets and plain `${Name}` in `Fn::Sub`.
    pub refs: BTreeSet<String>,
    /// `Fn::GetAtt` targets and `${Name.Attr}` in `Fn::Sub`, as (resource, attribute).
    pub get_atts: BTreeSet<(String, String)>,
    /// Conditions named by `Fn::If` and `Condition`.
    pub conditions: BTreeSet<String>,
}

impl References {
    /// Collects every reference inside `value`.
    pub fn of(value: &Value) -> Self {
        let mut refs = References::default();
        value.walk(&mut |v| {
            if let Value::Fn(f) = v {
                refs.add(f);
            }
        });
        refs
    }

    fn add(&mut self, f: &Intrinsic) {
        match f {
            Intrinsic::Ref(name) => {
                self.refs.insert(name.to_string());
            }
            Intrinsic::GetAtt {
                resource,
                attribute,
            } => {
                self.get_atts
                    .insert((resource.to_string(), attribute.to_string()));
            }
            Intrinsic::Sub { template, vars } => {
                for var in sub_variables(template) {
                    if vars.as_ref().is_some_and(|v| v.contains_key(var)) {
                        continue;
                    }
                    match var.split_once('.') {
                        Some((r, a)) if !r.starts_with("AWS::") => {
                            self.get_atts.insert((r.to_owned(), a.to_owned()));
                        }
                        _ => {
                            self.refs.insert(var.to_owned());
                        }
                    }
                }
            }
            Intrinsic::If(a) => {
                self.conditions.insert(a.condition.to_string());
            }
            Intrinsic::Condition(condition) => {
                self.conditions.insert(condition.to_string());
            }
            _ => {}
        }
    }

    /// Logical ids of resources this value depends on (refs and GetAtts).
    pub fn resource_ids(&self) -> BTreeSet<&str> {
        self.refs
            .iter()
            .map(String::as_str)
            .chain(self.get_atts.iter().map(|(r, _)| r.as_str()))
            .filter(|n| !n.starts_with("AWS::"))
            .collect()
    }
}

/// The `${...}` variables of a `Fn::Sub` template; `${!Literal}` is skipped.
pub fn sub_variables(template: &str) -> Vec<&str> {
    let mut vars = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = after[..end].trim();
        if !var.starts_with('!') {
            vars.push(var);
        }
        rest = &after[end + 1..];
    }
    vars
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
        assert_eq!(sub_variables("${A}-${!B}-${C.Arn}"), vec!["A", "C.Arn"]);
        let r = References::of(&sub("arn:${AWS::Partition}:x:${Bucket}/${Role.Arn}"));
        assert!(r.refs.contains("Bucket") && r.refs.contains("AWS::Partition"));
        assert!(r.get_atts.contains(&("Role".into(), "Arn".into())));
        assert_eq!(
            r.resource_ids().into_iter().collect::<Vec<_>>(),
            vec!["Bucket", "Role"]
        );
    }
}
