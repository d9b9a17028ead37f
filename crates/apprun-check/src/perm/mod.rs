//! The permission proof: every call an actor of the checked stacks makes
//! (CloudFormation with a stack role, CodePipeline, CodeBuild, EventBridge,
//! App Runner and ECS roles) is evaluated against the policies that actor
//! holds, as IAM evaluates them, from AWS's own reference data.
//!
//! Rules: `APR-PERM-001` (an actor cannot make a call it needs),
//! `APR-PERM-002` (cannot prove: a value the templates do not determine),
//! `APR-PERM-003` (a role does not trust the actor's service principal).

mod actors;
mod buildspec;
mod data;
mod eval;
mod needs;
mod world;

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::Finding;
use crate::{Context, Input};
use eval::{Request, Verdict, evaluate, show};
use world::World;

/// Adds a finding for every call an actor needs and its policies do not allow.
pub(crate) fn check(inputs: &[Input<'_>], ctx: &Context, found: &mut Vec<(usize, Finding)>) {
    let world = World::new(inputs, ctx);
    let mut seen: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    // Several actors share a role: resolve its policies and trust once.
    let mut roles: BTreeMap<world::Rid, RoleView> = BTreeMap::new();
    for actor in actors::actors(&world) {
        let (at, site_id, site_path) = &actor.site;
        let Some(role) = &actor.role else {
            // A role outside the checked set: nothing to evaluate. Templates
            // given one by one may use roles deployed elsewhere; an env's
            // stacks hold all of theirs, so there it is worth saying.
            if !ctx.closed_world {
                continue;
            }
            push(
                found,
                *at,
                "APR-PERM-002",
                site_id,
                site_path.clone(),
                format!(
                    "{}: cannot prove its permissions: role {} is not in the checked templates",
                    actor.who,
                    show(&actor.role_text)
                ),
            );
            continue;
        };
        let (rat, rid) = (role.0, role.1.as_str());
        let role_path = format!("Resources/{rid}");
        let view = roles.entry(role.clone()).or_insert_with(|| {
            let (statements, missing) = world.role_policies(role);
            RoleView {
                statements,
                missing,
                trusted: world.trusted_services(role),
            }
        });
        let (statements, missing, trusted) = (&view.statements, &view.missing, &view.trusted);
        if !trusted.iter().any(|t| t == &actor.principal) {
            push(
                found,
                rat,
                "APR-PERM-003",
                rid,
                format!("{role_path}/Properties/AssumeRolePolicyDocument"),
                format!(
                    "{}: role {rid} does not trust {}, so the service cannot assume it (it trusts: {})",
                    actor.who,
                    actor.principal,
                    if trusted.is_empty() {
                        "no service".to_owned()
                    } else {
                        trusted.join(", ")
                    }
                ),
            );
        }
        for m in missing {
            push(
                found,
                rat,
                "APR-PERM-002",
                rid,
                format!("{role_path}/Properties/ManagedPolicyArns"),
                format!(
                    "{}: cannot prove what managed policy {m} allows: apprun does not vendor it",
                    actor.who
                ),
            );
        }
        for u in &actor.unproven {
            push(
                found,
                rat,
                "APR-PERM-002",
                rid,
                role_path.clone(),
                format!("{}: cannot prove: {u}", actor.who),
            );
        }
        for need in &actor.needs {
            let key = (
                format!("{rat}/{rid}/{}", actor.who),
                need.action.clone(),
                need.resource.clone(),
                format!("{:?}", need.context),
            );
            if !seen.insert(key) {
                continue;
            }
            let req = Request {
                action: need.action.clone(),
                resource: need.resource.clone(),
                context: need.context.clone(),
            };
            let with = need
                .context
                .iter()
                .map(|(k, v)| format!(" with {k}={}", v.join(",")))
                .collect::<String>();
            let subject = format!(
                "{}: {} {} on {}{with}",
                actor.who,
                "{}",
                need.action,
                show(&need.resource)
            );
            let cannot = subject.replacen("{}", "cannot", 1);
            let finding = match evaluate(statements, &req) {
                Verdict::Allowed => None,
                Verdict::Denied(label) => Some((
                    "APR-PERM-001",
                    format!("{cannot}: {}; explicitly denied by {label}", need.why),
                )),
                Verdict::NotAllowed(closest) => Some((
                    "APR-PERM-001",
                    format!(
                        "{cannot}: {}; closest statement: {}",
                        need.why,
                        closest.unwrap_or_else(|| "none grants the action".into())
                    ),
                )),
                Verdict::Unknown(label, key) => Some((
                    "APR-PERM-002",
                    format!(
                        "{}: {}; {label} decides on {key}, whose value the templates do not determine",
                        subject.replacen("{}", "cannot prove it may", 1),
                        need.why
                    ),
                )),
            };
            if let Some((rule, message)) = finding {
                push(found, rat, rule, rid, role_path.clone(), message);
            }
        }
    }
}

/// What the proof reads of a role: its statements, the managed policies it
/// cannot read, and the service principals it trusts.
struct RoleView {
    statements: Vec<eval::Statement>,
    missing: Vec<String>,
    trusted: Vec<String>,
}

fn push(
    found: &mut Vec<(usize, Finding)>,
    at: usize,
    rule: &str,
    logical_id: &str,
    path: String,
    message: String,
) {
    let severity = crate::rules::severity(rule);
    found.push((at, Finding::new(rule, severity, logical_id, path, message)));
}
