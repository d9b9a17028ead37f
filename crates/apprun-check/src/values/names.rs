//! Logical ids: CloudFormation accepts only alphanumeric ids of at most 255
//! characters, and one namespace for resources and parameters (`Ref`
//! could not tell them apart).

use crate::rules::{Scope, Sink};

fn valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub(crate) fn logical_ids(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    let sections: [(&str, Vec<&String>); 4] = [
        ("Parameters", t.parameters.keys().collect()),
        ("Mappings", t.mappings.keys().collect()),
        ("Resources", t.resources.keys().collect()),
        ("Outputs", t.outputs.keys().collect()),
    ];
    for (section, ids) in sections {
        for id in ids.into_iter().filter(|id| !valid(id)) {
            out.push(
                id,
                format!("{section}/{id}"),
                format!(
                    "`{id}` is not a valid logical id: use only letters A-Z, a-z and digits 0-9, at most 255 characters"
                ),
            );
        }
    }
}

pub(crate) fn clashes(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    for id in t
        .resources
        .keys()
        .filter(|id| t.parameters.contains_key(*id))
    {
        out.push(
            id,
            format!("Resources/{id}"),
            format!("`{id}` names both a parameter and a resource; logical ids must be unique across both"),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids() {
        assert!(super::valid("Bucket1"));
        assert!(!super::valid("my.Instance"));
        assert!(!super::valid("my_Instance"));
        assert!(!super::valid(&"a".repeat(256)));
    }
}
