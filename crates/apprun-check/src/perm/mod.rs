//! The permission proof: every call an actor of the checked stacks makes
//! (CloudFormation with a stack role, CodePipeline, CodeBuild, EventBridge
//! rules, EventBridge Scheduler schedules and pipes starting ECS tasks, App
//! Runner and ECS roles, running services and task definitions reading
//! their secrets and writing traces) is evaluated against the policies that actor holds, as
//! IAM evaluates them, from AWS's own reference data.
//!
//! Rules: `APR-PERM-001` (an actor cannot make a call it needs),
//! `APR-PERM-002` (cannot prove: a value the templates do not determine),
//! `APR-PERM-003` (a role does not trust the actor's service principal).

mod actors;
mod buildspec;
mod data;
mod eval;
mod needs;
mod runtime;
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
        let Some(role) = &actor.role else {
            report_role_outside(&actor, ctx, found);
            continue;
        };
        let view = roles.entry(role.clone()).or_insert_with(|| {
            let (statements, missing) = world.role_policies(role);
            RoleView {
                statements,
                missing,
                trusted: world.trusted_services(role),
            }
        });
        let at = RoleAt {
            input: role.0,
            id: role.1.as_str(),
            path: format!("Resources/{}", role.1),
        };
        report_role_gaps(&actor, view, &at, found);
        for need in &actor.needs {
            let key = (
                format!("{}/{}/{}", at.input, at.id, actor.who),
                need.action.clone(),
                need.resource.clone(),
                format!("{:?}", need.context),
            );
            if seen.insert(key) {
                report_need(&actor, need, &view.statements, &at, found);
            }
        }
    }
}

/// Where an actor's role is declared: findings about its policies point there.
struct RoleAt<'a> {
    input: usize,
    id: &'a str,
    path: String,
}

/// An actor whose role is not among the checked templates. Templates given
/// one by one may use roles deployed elsewhere; an env's stacks hold all of
/// theirs, so only there is it worth saying.
fn report_role_outside(actor: &actors::Actor, ctx: &Context, found: &mut Vec<(usize, Finding)>) {
    if !ctx.closed_world {
        return;
    }
    let (at, site_id, site_path) = &actor.site;
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
}

/// What stands between an actor and its role before any single call: a
/// trust policy without its principal, managed policies apprun cannot read,
/// and things the actor does that the proof cannot judge.
fn report_role_gaps(
    actor: &actors::Actor,
    view: &RoleView,
    at: &RoleAt<'_>,
    found: &mut Vec<(usize, Finding)>,
) {
    if !view.trusted.iter().any(|t| t == &actor.principal) {
        let trusts = if view.trusted.is_empty() {
            "no service".to_owned()
        } else {
            view.trusted.join(", ")
        };
        push(
            found,
            at.input,
            "APR-PERM-003",
            at.id,
            format!("{}/Properties/AssumeRolePolicyDocument", at.path),
            format!(
                "{}: role {} does not trust {}, so the service cannot assume it (it trusts: {trusts})",
                actor.who, at.id, actor.principal,
            ),
        );
    }
    for m in &view.missing {
        push(
            found,
            at.input,
            "APR-PERM-002",
            at.id,
            format!("{}/Properties/ManagedPolicyArns", at.path),
            format!(
                "{}: cannot prove what managed policy {m} allows: apprun does not vendor it",
                actor.who
            ),
        );
    }
    for u in &actor.unproven {
        push(
            found,
            at.input,
            "APR-PERM-002",
            at.id,
            at.path.clone(),
            format!("{}: cannot prove: {u}", actor.who),
        );
    }
}

/// Evaluates one call the actor needs against its role's statements, as IAM
/// would, and reports a call that is denied, not allowed or undecidable.
fn report_need(
    actor: &actors::Actor,
    need: &needs::Need,
    statements: &[eval::Statement],
    at: &RoleAt<'_>,
    found: &mut Vec<(usize, Finding)>,
) {
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
    let call = format!("{} on {}{with}", need.action, show(&need.resource));
    let (rule, message) = match evaluate(statements, &req) {
        Verdict::Allowed => return,
        Verdict::Denied(label) => (
            "APR-PERM-001",
            format!(
                "{}: cannot {call}: {}; explicitly denied by {label}",
                actor.who, need.why
            ),
        ),
        Verdict::NotAllowed(closest) => (
            "APR-PERM-001",
            format!(
                "{}: cannot {call}: {}; closest statement: {}",
                actor.who,
                need.why,
                closest.unwrap_or_else(|| "none grants the action".into())
            ),
        ),
        Verdict::Unknown(label, key) => (
            "APR-PERM-002",
            format!(
                "{}: cannot prove it may {call}: {}; {label} decides on {key}, whose value the templates do not determine",
                actor.who, need.why
            ),
        ),
    };
    push(found, at.input, rule, at.id, at.path.clone(), message);
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
