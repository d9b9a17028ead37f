//! E-VALUE-MODULE: what CloudFormation refuses on a registry module
//! (`Org::Service::Thing::MODULE`): tags (a module tags the resources it
//! expands to itself) and the metadata key CloudFormation reserves for the
//! resources a module produces.

use crate::rules::{Scope, Sink};

pub(crate) fn modules(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let modules = scope
        .template
        .resources
        .iter()
        .filter(|(_, r)| r.kind.ends_with("::MODULE"));
    for (id, r) in modules {
        if r.properties.contains_key("Tags") {
            out.push(
                id,
                format!("Resources/{id}/Properties/Tags"),
                "a module takes no Tags; tag the resources inside the module".into(),
            );
        }
        if r.metadata()
            .and_then(|m| m.get("AWS::CloudFormation::Module"))
            .is_some()
        {
            out.push(
                id,
                format!("Resources/{id}/Metadata/AWS::CloudFormation::Module"),
                "the Metadata key AWS::CloudFormation::Module is reserved for what CloudFormation writes when it expands modules".into(),
            );
        }
    }
}
