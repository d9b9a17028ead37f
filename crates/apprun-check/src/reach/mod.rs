//! The reachability proof: for every compute placement in the checked
//! stacks (App Runner VPC connector, ECS Express tasks, CodeBuild in a VPC),
//! an egress path on tcp 443 to what it must reach, hop by hop: the
//! placement's security-group egress, the route out of its subnet (NAT
//! gateway to an internet gateway, or an internet gateway with a public IP),
//! and, for destinations inside the VPC (interface endpoints), the
//! destination's security-group ingress.
//!
//! A path that is blocked is an error (`APR-NET-010`) naming the hop; a path
//! that depends on something the templates and the AWS documentation leave
//! open is a warning (`APR-NET-011`) naming the unknown. Network ACLs, DNS
//! resolution and AWS-side networking are outside the proof (see README).

mod hops;
mod model;
mod placements;

use std::collections::BTreeMap;

use crate::finding::{Finding, Severity};
use crate::{Context, Input};
use hops::{Dest, Part, Reason, Verdict};
use model::{Model, Rid};
use placements::{Goal, Outside, Placement};

/// Error: a placement has no path to something it must reach.
pub(crate) const NO_PATH: &str = "APR-NET-010";
/// Warning: whether a path exists depends on something unknown.
pub(crate) const CANNOT_PROVE: &str = "APR-NET-011";

/// Adds a finding for every placement that cannot reach what it must.
pub(crate) fn check(inputs: &[Input<'_>], _ctx: &Context, found: &mut Vec<(usize, Finding)>) {
    let model = Model::new(inputs);
    let stacks: Vec<Option<&str>> = inputs.iter().map(|i| i.stack.as_deref()).collect();
    let (placements, outside) = placements::find(&model, &stacks);
    for p in &placements {
        prove(&model, p, found);
    }
    for o in &outside {
        found.push((o.at.t, outside_finding(o)));
    }
}

/// How a goal is reached from one subnet, and whether it is. Network ACLs
/// are not modelled: a subnet with one of its own proves nothing.
fn reach<'a>(m: &Model<'a>, p: &Placement<'a>, s: Rid<'a>, goal: &Goal<'a>) -> (String, Verdict) {
    let (how, verdict) = path(m, p, s, goal);
    match m.nacls.get(&s) {
        Some(acl) => (
            how,
            verdict.and(Verdict::Unknown(vec![Reason {
                part: Part::Subnets,
                text: format!(
                    "subnet {} has network ACL {acl}, which the proof does not evaluate",
                    s.id
                ),
            }])),
        ),
        None => (how, verdict),
    }
}

fn path<'a>(m: &Model<'a>, p: &Placement<'a>, s: Rid<'a>, goal: &Goal<'a>) -> (String, Verdict) {
    let internet = || {
        let v = m
            .internet_route(s, p.ip)
            .and(m.egress(&p.groups, p.hidden, &Dest::Internet));
        (format!("tcp {} to the internet", hops::PORT), v)
    };
    match goal {
        Goal::Aws { service, .. } => match m.endpoint_for(service, s) {
            Some(e) if e.kind == model::EndpointKind::Interface => (
                format!("tcp {} to interface endpoint {}", hops::PORT, e.rid.id),
                m.to_endpoint(e, s, &p.groups, p.hidden),
            ),
            Some(e) => (
                format!("tcp {} through gateway endpoint {}", hops::PORT, e.rid.id),
                m.egress(&p.groups, p.hidden, &Dest::Internet),
            ),
            None => internet(),
        },
        Goal::Url { .. } => internet(),
        Goal::Endpoint { endpoint, .. } => {
            let how = format!(
                "tcp {} to endpoint {}'s interfaces",
                hops::PORT,
                endpoint.id
            );
            let found = m.endpoints.iter().find(|e| e.rid == *endpoint);
            let verdict = match found {
                // App Runner answers a VPC ingress connection only through
                // an endpoint of its requests service.
                Some(e) if e.service.as_deref() != Some("apprunner.requests") => {
                    Verdict::No(vec![Reason {
                        part: Part::Subnets,
                        text: format!(
                            "endpoint {} is not an endpoint of com.amazonaws.<region>.apprunner.requests",
                            e.rid.id
                        ),
                    }])
                }
                Some(e) => m.to_endpoint(e, s, &p.groups, p.hidden),
                None => Verdict::Unknown(vec![Reason {
                    part: Part::Subnets,
                    text: format!("endpoint {} is not in the checked templates", endpoint.id),
                }]),
            };
            (how, verdict)
        }
        Goal::Balancer { subnets, .. } => {
            let names: Vec<&str> = subnets.iter().map(|x| x.id).collect();
            let how = format!(
                "tcp {} to the internal load balancer in subnets {}",
                hops::PORT,
                names.join(", ")
            );
            let mut v = Verdict::Unknown(vec![Reason {
                part: Part::SecurityGroups,
                text: placements::EXPRESS_ALB.to_owned(),
            }]);
            for sub in subnets {
                let dest = Dest::Inside {
                    net: m.subnets.get(sub).and_then(|x| x.cidr),
                    name: sub.id,
                    sgs: &[],
                };
                v = v.and(m.egress(&p.groups, p.hidden, &dest));
            }
            (how, v)
        }
        Goal::Blocked { why, .. } => (
            format!("tcp {}", hops::PORT),
            Verdict::No(vec![Reason {
                part: Part::Subnets,
                text: why.clone(),
            }]),
        ),
    }
}

/// What one group of subnets shares: the same verdict for the same goals.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    severity: Severity,
    how: String,
    reasons: Vec<Reason>,
    goals: Vec<String>,
}

fn prove<'a>(m: &Model<'a>, p: &Placement<'a>, out: &mut Vec<(usize, Finding)>) {
    let mut groups: BTreeMap<Key, Vec<&str>> = BTreeMap::new();
    for s in &p.subnets {
        // Per subnet: the goals that fail the same way.
        let mut failing: BTreeMap<(Severity, String, Vec<Reason>), Vec<String>> = BTreeMap::new();
        for goal in &p.goals {
            let (how, verdict) = reach(m, p, *s, goal);
            let (severity, reasons) = match verdict {
                Verdict::Yes => continue,
                Verdict::No(r) => (Severity::Error, r),
                Verdict::Unknown(r) => (Severity::Warning, r),
            };
            let names = failing.entry((severity, how, reasons)).or_default();
            if !names.iter().any(|n| n == goal.name()) {
                names.push(goal.name().to_owned());
            }
        }
        for ((severity, how, reasons), goals) in failing {
            let key = Key {
                severity,
                how,
                reasons,
                goals,
            };
            groups.entry(key).or_default().push(s.id);
        }
    }
    for (key, subnets) in groups {
        let where_ = match subnets.as_slice() {
            [one] => format!("subnet {one}"),
            many => format!("subnets {}", many.join(", ")),
        };
        let why: Vec<&str> = key.reasons.iter().map(|r| r.text.as_str()).collect();
        let goals = key.goals.join(", ");
        let (rule, message) = match key.severity {
            Severity::Error => (
                NO_PATH,
                format!(
                    "{} in {where_} cannot reach {goals} ({}): {}",
                    p.who,
                    key.how,
                    why.join("; ")
                ),
            ),
            Severity::Warning => (
                CANNOT_PROVE,
                format!(
                    "cannot prove that {} in {where_} reach {goals} ({}): {}",
                    p.who,
                    key.how,
                    why.join("; ")
                ),
            ),
        };
        let path = match key.reasons.first().map(|r| r.part) {
            Some(Part::SecurityGroups) => p.groups_path.clone(),
            _ => p.subnets_path.clone(),
        };
        let f = Finding::new(rule, key.severity, p.at.id, path, message);
        out.push((p.at.t, f));
    }
}

fn outside_finding(o: &Outside<'_>) -> Finding {
    let why = match &o.goal {
        Goal::Blocked { why, .. } => why.clone(),
        _ => "it resolves only inside the service's VPC; give the project a VpcConfig with subnets and security groups that reach it".into(),
    };
    Finding::new(
        NO_PATH,
        Severity::Error,
        o.at.id,
        format!("Resources/{}/Properties", o.at.id),
        format!(
            "CodeBuild builds run outside any VPC (no VpcConfig) and cannot reach {}: {why}",
            o.goal.name()
        ),
    )
}
