//! From an action and what is known about the call, the requests IAM
//! authorizes: one per resource type the reference says the action needs
//! (ARNs from the call's own ARNs where one fits the type's format, else
//! built from the format with unknown parts), plus the action's dependent
//! actions and, for `iam:PassRole`, one request per `iam:PassedToService`
//! value the calling service uses.

use std::collections::BTreeMap;

use super::data;
use super::eval::{UNKNOWN, resource_matches};
use super::world::{Rid, World};

/// One call an actor must be allowed to make, and why.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
    pub why: String,
}

/// What is known about a call besides its action.
#[derive(Debug, Default, Clone)]
pub(crate) struct Call {
    /// ARNs the call involves (resolved; may hold unknown parts).
    pub arns: Vec<String>,
    /// Values of ARN format variables (`RepositoryName` → `web`).
    pub vars: BTreeMap<String, String>,
    /// Roles the call may pass (for `iam:PassRole`).
    pub roles: Vec<Rid>,
    /// The actions of the same operation (for PassedToService).
    pub calling: Vec<String>,
    /// Service-linked roles the operation creates (`service/name`).
    pub linked_roles: Vec<String>,
    /// Known condition key values, lowercased keys.
    pub context: BTreeMap<String, Vec<String>>,
    /// The resource the call is about (a handler's resource): fills the
    /// ARN format variables its properties determine.
    pub subject: Option<Rid>,
    /// The services the call involves; dependent actions of other services
    /// are for other shapes of the call and not needed. None: all.
    pub services: Option<Vec<String>>,
    /// Tags of the resources the call is on, by ARN (for `aws:ResourceTag/*`).
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// The needs of one action in a call. Actions the reference does not know
/// (not IAM actions, e.g. `s3:REST.PUT.OBJECT` in some handler lists) are
/// returned in `unknown`.
pub(crate) fn expand(
    world: &World<'_>,
    action: &str,
    call: &Call,
    why: &str,
    out: &mut Vec<Need>,
    depth: usize,
) -> bool {
    let Some((prefix, name, a)) = data::action(action) else {
        return false;
    };
    let full = format!("{prefix}:{name}");
    let service = data::service(prefix);
    let required = a.required_types();
    let types: Vec<&str> = if !required.is_empty() {
        required
    } else {
        // Only optional types: the one the call's ARNs fit, else the first.
        let fitting: Vec<&str> = a
            .resources
            .iter()
            .map(|(t, _)| t.as_str())
            .filter(|t| {
                service
                    .and_then(|s| s.resources.get(*t))
                    .is_some_and(|f| !candidates(f, &call.arns).is_empty())
            })
            .collect();
        // Without a fitting ARN: the type with the simplest ARN (a rule on
        // the default event bus rather than on a custom one).
        let simplest = a.resources.iter().map(|(t, _)| t.as_str()).min_by_key(|t| {
            service
                .and_then(|s| s.resources.get(*t))
                .map_or(usize::MAX, |f| f.matches("${").count())
        });
        match (fitting.first(), simplest) {
            (Some(t), _) => vec![*t],
            (None, Some(t)) if !call.vars.is_empty() || !call.arns.is_empty() => vec![t],
            _ => Vec::new(),
        }
    };
    let mut arns: Vec<String> = Vec::new();
    if types.is_empty() {
        arns.push("*".into());
    }
    let mut per_type: Vec<Vec<String>> = Vec::new();
    for t in &types {
        let Some(format) = service.and_then(|s| s.resources.get(*t)) else {
            per_type.push(vec![UNKNOWN.to_string()]);
            continue;
        };
        let mut found = candidates(format, &call.arns);
        if full == "iam:PassRole"
            || (prefix == "iam"
                && *t == "role"
                && !call.roles.is_empty()
                && name != "CreateServiceLinkedRole")
        {
            found = call.roles.iter().map(|r| world.arn(r, 0)).collect();
        }
        if name == "CreateServiceLinkedRole" && !call.linked_roles.is_empty() {
            found = call
                .linked_roles
                .iter()
                .map(|l| {
                    format!(
                        "arn:{}:iam::{}:role/aws-service-role/{l}",
                        world.partition, world.account
                    )
                })
                .collect();
        }
        if found.is_empty() {
            found.push(world.fill(format, |v| {
                call.vars.get(v).cloned().or_else(|| {
                    call.subject
                        .as_ref()
                        .and_then(|r| world.subject_part(r, prefix, t, v))
                })
            }));
        }
        per_type.push(found);
    }
    let created = per_type.first().cloned().unwrap_or_default();
    for group in per_type {
        arns.extend(group);
    }
    arns.sort();
    arns.dedup();
    let contexts = contexts(world, &full, call);
    for resource in &arns {
        for context in &contexts {
            let mut context = context.clone();
            for (k, v) in call.tags.get(resource).into_iter().flatten() {
                context.insert(
                    format!("aws:resourcetag/{k}").to_ascii_lowercase(),
                    vec![v.clone()],
                );
            }
            out.push(Need {
                action: full.clone(),
                resource: resource.clone(),
                context,
                why: why.to_owned(),
            });
        }
    }
    if depth == 0 {
        for dep in &a.dependent {
            let dep_service = dep.split(':').next().unwrap_or_default();
            if dep_service != prefix
                && dep_service != "iam"
                && call
                    .services
                    .as_ref()
                    .is_some_and(|s| !s.iter().any(|x| x == dep_service))
            {
                continue;
            }
            let mut sub = call.clone();
            sub.calling = vec![full.clone()];
            // Tagging on create tags the resource being created (the
            // action's first resource type), with the creating action named.
            if dep.ends_with(":CreateTags")
                || dep.ends_with(":TagResource")
                || dep.ends_with(":AddTags")
            {
                sub.arns = created.clone();
                sub.context.insert(
                    format!("{dep_service}:createaction").to_ascii_lowercase(),
                    vec![name.to_owned()],
                );
            }
            expand(
                world,
                dep,
                &sub,
                &format!("{why} (dependent action of {full})"),
                out,
                depth + 1,
            );
        }
    }
    true
}

/// The call's ARNs that fit an ARN format (same number of `:`-separated
/// parts, variables as wildcards).
fn candidates(format: &str, arns: &[String]) -> Vec<String> {
    // Every variable a wildcard: an ARN of another account or region fits too.
    let pattern = format
        .split("${")
        .enumerate()
        .map(|(i, p)| match (i, p.split_once('}')) {
            (0, _) | (_, None) => p.to_owned(),
            (_, Some((_, rest))) => format!("*{rest}"),
        })
        .collect::<String>();
    let colons = format.matches(':').count();
    arns.iter()
        .filter(|a| a.matches(':').count() == colons && resource_matches(&pattern, a))
        .cloned()
        .collect()
}

/// One condition context per value of a multi-valued requirement
/// (`iam:PassedToService` must allow every value the service uses).
fn contexts(world: &World<'_>, action: &str, call: &Call) -> Vec<BTreeMap<String, Vec<String>>> {
    let base = call.context.clone();
    if action == "iam:PassRole" {
        let values = passed_to_service(world, call);
        if values.is_empty() {
            return vec![base];
        }
        return values
            .into_iter()
            .map(|v| {
                let mut c = base.clone();
                c.insert("iam:passedtoservice".into(), vec![v]);
                c
            })
            .collect();
    }
    if action == "iam:CreateServiceLinkedRole" && !call.linked_roles.is_empty() {
        return call
            .linked_roles
            .iter()
            .map(|l| {
                let mut c = base.clone();
                let service = l.split('/').next().unwrap_or_default().to_owned();
                c.insert("iam:awsservicename".into(), vec![service]);
                c
            })
            .collect();
    }
    vec![base]
}

/// The `iam:PassedToService` values of a pass: the table's values for the
/// calling actions, else the principals of the calling service the passed
/// roles trust, else `<service>.amazonaws.com`.
fn passed_to_service(world: &World<'_>, call: &Call) -> Vec<String> {
    let mut out: Vec<String> = call
        .calling
        .iter()
        .filter_map(|a| data::passed_to_service(a))
        .flatten()
        .collect();
    if out.is_empty() {
        let services: Vec<&str> = call
            .calling
            .iter()
            .filter_map(|a| a.split(':').next())
            .filter(|s| *s != "iam")
            .collect();
        for role in &call.roles {
            for principal in world.trusted_services(role) {
                let head = principal.trim_end_matches(".amazonaws.com");
                if services.iter().any(|s| {
                    head == *s
                        || head.starts_with(&format!("{s}-"))
                        || head.ends_with(&format!(".{s}"))
                }) {
                    out.push(principal);
                }
            }
        }
        if out.is_empty() {
            out.extend(services.iter().map(|s| format!("{s}.amazonaws.com")));
        }
    }
    out.sort();
    out.dedup();
    out
}
