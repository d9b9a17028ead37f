//! E-VALUE-SUBNET-ASSOCIATION: a subnet is associated with one route table;
//! a second unconditional association of the same subnet fails to create.

use apprun_template::Value;

use super::resources_of;
use crate::rules::{Scope, Sink};

pub(crate) fn subnet_associations(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let t = scope.template;
    let mut seen: Vec<(&Value, &str)> = Vec::new();
    for (id, p, base) in resources_of(t, "AWS::EC2::SubnetRouteTableAssociation") {
        // A conditional association may never exist alongside the other.
        if t.resources.get(id).is_some_and(|r| r.condition().is_some()) {
            continue;
        }
        let Some(subnet) = p.get("SubnetId") else {
            continue;
        };
        if let Value::Fn(f) = subnet
            && f.long_name() == "Fn::If"
        {
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == subnet) {
            out.push(
                id,
                format!("{base}/SubnetId"),
                format!("this subnet is already associated with a route table by {first}; a subnet has one route table association"),
            );
        } else {
            seen.push((subnet, id));
        }
    }
}
