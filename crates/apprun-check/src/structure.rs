//! The template model's own checks (references, DependsOn, conditions,
//! cycles, duplicate exports) and address plans (subnets inside their VPC,
//! not overlapping).

use std::collections::BTreeMap;

use apprun_template::{Intrinsic, Note, Template, Value, validate_limited};
use ipnet::Ipv4Net;

use crate::finding::Finding;
use crate::sink::Findings;

/// The model's checks (the parser's notes are [`notes`]).
pub(crate) fn check(t: &Template, out: &mut Findings) {
    let (found, overflow) = validate_limited(t, crate::MAX_FINDINGS_PER_TEMPLATE);
    out.add_overflow(&overflow);
    for f in found {
        out.push(Finding::new(
            f.code,
            f.severity.into(),
            &f.logical_id,
            f.path,
            f.message,
        ));
    }
    subnets(t, out);
    cidr_blocks(t, out);
}

/// A literal `CidrBlock` of a VPC or subnet must be an IPv4 CIDR block
/// (`10.0.0.0/33` is not: the prefix length is 0 to 32).
fn cidr_blocks(t: &Template, out: &mut Findings) {
    for (id, r) in &t.resources {
        if !matches!(r.kind.as_str(), "AWS::EC2::VPC" | "AWS::EC2::Subnet") {
            continue;
        }
        let Some(text) = r.properties.get("CidrBlock").and_then(Value::as_str) else {
            continue;
        };
        if text.parse::<Ipv4Net>().is_err() {
            out.push(Finding::error(
                "E-PROP-PATTERN",
                id,
                format!("Resources/{id}/Properties/CidrBlock"),
                format!(
                    "`{text}` is not an IPv4 CIDR block: an address a.b.c.d and a prefix length from 0 to 32, e.g. 10.0.0.0/24"
                ),
            ));
        }
    }
}

/// The finding of something the parser could not read as written (the
/// rest was still read); its place is set by the caller.
pub(crate) fn note_finding(n: &Note) -> Finding {
    let mut parts = n.path.split('/');
    let logical_id = match (parts.next(), parts.next()) {
        (Some("Resources" | "Outputs" | "Parameters" | "Conditions" | "Rules"), Some(id)) => id,
        _ => "",
    };
    Finding::new(
        n.code,
        n.severity.into(),
        logical_id,
        n.path.as_str(),
        std::sync::Arc::clone(&n.message),
    )
}

fn literal_cidr(v: Option<&Value>) -> Option<Ipv4Net> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// Subnets whose VPC is a `Ref` to a VPC of the same template with a literal
/// CIDR must lie inside it and must not overlap each other.
fn subnets(t: &Template, out: &mut Findings) {
    let vpcs: BTreeMap<&str, Ipv4Net> = t
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::EC2::VPC")
        .filter_map(|(id, r)| literal_cidr(r.properties.get("CidrBlock")).map(|c| (id.as_str(), c)))
        .collect();
    let mut by_vpc: BTreeMap<&str, Vec<(&str, Ipv4Net)>> = BTreeMap::new();
    for (id, r) in t
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::EC2::Subnet")
    {
        let Some(cidr) = literal_cidr(r.properties.get("CidrBlock")) else {
            continue;
        };
        let Some(Value::Fn(f)) = r.properties.get("VpcId") else {
            continue;
        };
        let Intrinsic::Ref(vpc) = f.as_ref() else {
            continue;
        };
        let Some((vpc_id, vpc_cidr)) = vpcs.get_key_value(vpc.as_str()) else {
            continue;
        };
        if !vpc_cidr.contains(&cidr) {
            out.push(Finding::error(
                "E-SUBNET-OUTSIDE",
                id,
                format!("Resources/{id}/Properties/CidrBlock"),
                format!("{cidr} is not inside its VPC {vpc_id} ({vpc_cidr})"),
            ));
        }
        by_vpc.entry(vpc_id).or_default().push((id, cidr));
    }
    for list in by_vpc.values() {
        for (i, (a, ac)) in list.iter().enumerate() {
            for (b, bc) in &list[i + 1..] {
                if ac.contains(&bc.network()) || bc.contains(&ac.network()) {
                    out.push(Finding::error(
                        "E-SUBNET-OVERLAP",
                        b,
                        format!("Resources/{b}/Properties/CidrBlock"),
                        format!("{bc} overlaps subnet {a} ({ac})"),
                    ));
                }
            }
        }
    }
}
