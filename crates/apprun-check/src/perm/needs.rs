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
    let act = Acting {
        world,
        call,
        prefix,
        name,
        full: format!("{prefix}:{name}"),
        service: data::service(prefix),
    };
    let types = act.resource_types(a);
    let mut arns: Vec<String> = Vec::new();
    if types.is_empty() {
        arns.push("*".into());
    }
    let per_type: Vec<Vec<String>> = types.iter().map(|t| act.resources_of(t)).collect();
    let created = per_type.first().cloned().unwrap_or_default();
    arns.extend(per_type.into_iter().flatten());
    arns.sort();
    arns.dedup();
    act.push_needs(&arns, why, out);
    if depth == 0 {
        act.dependent_needs(a, &created, why, out, depth);
    }
    true
}

/// One action being expanded for one call.
struct Acting<'a> {
    world: &'a World<'a>,
    call: &'a Call,
    prefix: &'static str,
    name: &'static str,
    /// `prefix:Name`.
    full: String,
    service: Option<&'static data::Service>,
}

impl Acting<'_> {
    fn format_of(&self, resource_type: &str) -> Option<&'static String> {
        self.service.and_then(|s| s.resources.get(resource_type))
    }

    /// The resource types a request names: the required ones (with the
    /// optional ones the call names a resource of), or, with only
    /// optional types, the one the call's ARNs fit, else the one with the
    /// simplest ARN (a rule on the default event bus rather than on a
    /// custom one) when the call names anything at all.
    fn resource_types<'x>(&self, a: &'x data::Action) -> Vec<&'x str> {
        let mut required = a.required_types();
        if !required.is_empty() {
            // An optional type is in the request when the call names a
            // resource of it (App Runner's CreateService with an auto
            // scaling configuration is authorized on both).
            required.extend(
                a.resources
                    .iter()
                    .filter(|(t, req)| !req && self.fits(t))
                    .map(|(t, _)| t.as_str()),
            );
            return required;
        }
        let names = || a.resources.iter().map(|(t, _)| t.as_str());
        let fitting = names().find(|t| self.fits(t));
        let simplest = names().min_by_key(|t| {
            self.format_of(t)
                .map_or(usize::MAX, |f| f.matches("${").count())
        });
        match (fitting, simplest) {
            (Some(t), _) => vec![t],
            (None, Some(t)) if !self.call.vars.is_empty() || !self.call.arns.is_empty() => {
                vec![t]
            }
            _ => Vec::new(),
        }
    }

    /// Whether one of the call's ARNs is of this resource type.
    fn fits(&self, resource_type: &str) -> bool {
        self.format_of(resource_type)
            .is_some_and(|f| !candidates(f, &self.call.arns).is_empty())
    }

    /// The ARNs of one resource type the request names: the call's own that
    /// fit, the roles it passes, the service-linked roles it creates, or
    /// one built from the type's format.
    fn resources_of(&self, t: &str) -> Vec<String> {
        let (world, call) = (self.world, self.call);
        let Some(format) = self.format_of(t) else {
            return vec![UNKNOWN.to_string()];
        };
        let mut found = candidates(format, &call.arns);
        if self.full == "iam:PassRole"
            || (self.prefix == "iam"
                && t == "role"
                && !call.roles.is_empty()
                && self.name != "CreateServiceLinkedRole")
        {
            found = call.roles.iter().map(|r| world.arn(r, 0)).collect();
        }
        if self.name == "CreateServiceLinkedRole" && !call.linked_roles.is_empty() {
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
                        .and_then(|r| world.subject_part(r, self.prefix, t, v))
                })
            }));
        }
        found
    }

    /// One need per resource and condition context, with the resource's tags.
    fn push_needs(&self, arns: &[String], why: &str, out: &mut Vec<Need>) {
        let contexts = contexts(self.world, &self.full, self.call);
        for resource in arns {
            for context in &contexts {
                let mut context = context.clone();
                for (k, v) in self.call.tags.get(resource).into_iter().flatten() {
                    context.insert(
                        format!("aws:resourcetag/{k}").to_ascii_lowercase(),
                        vec![v.clone()],
                    );
                }
                out.push(Need {
                    action: self.full.clone(),
                    resource: resource.clone(),
                    context,
                    why: why.to_owned(),
                });
            }
        }
    }

    /// The action's dependent actions, one level deep: those of its own
    /// service, IAM's, and those of services the call involves.
    fn dependent_needs(
        &self,
        a: &data::Action,
        created: &[String],
        why: &str,
        out: &mut Vec<Need>,
        depth: usize,
    ) {
        for dep in &a.dependent {
            let dep_service = dep.split(':').next().unwrap_or_default();
            if dep_service != self.prefix
                && dep_service != "iam"
                && self
                    .call
                    .services
                    .as_ref()
                    .is_some_and(|s| !s.iter().any(|x| x == dep_service))
            {
                continue;
            }
            let mut sub = self.call.clone();
            sub.calling = vec![self.full.clone()];
            // Tagging on create tags the resource being created (the
            // action's first resource type), with the creating action named.
            if dep.ends_with(":CreateTags")
                || dep.ends_with(":TagResource")
                || dep.ends_with(":AddTags")
            {
                sub.arns = created.to_vec();
                sub.context.insert(
                    format!("{dep_service}:createaction").to_ascii_lowercase(),
                    vec![self.name.to_owned()],
                );
            }
            expand(
                self.world,
                dep,
                &sub,
                &format!("{why} (dependent action of {})", self.full),
                out,
                depth + 1,
            );
        }
    }
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
