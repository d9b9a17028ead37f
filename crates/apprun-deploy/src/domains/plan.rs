//! The read-only half of the domain step: what a run would write, found
//! with DescribeCustomDomains, GetHostedZone and ListResourceRecordSets
//! only. `apprun deploy` and `apprun release` show it and ask before the
//! write half runs; `apprun diff` prints it and stops there.

use std::collections::BTreeMap;

use apprun_blueprint::{EnvBlueprint, StackKind, outputs};
use apprun_config::{Compute, Config};
use serde::Serialize;

use super::{
    CustomDomain, DnsRecord, DomainApi, DomainTarget, RecordSet, ServiceDomains, bare,
    certificate_status, describe_set, matches, needs_records, records_for, zone_apex,
};
use crate::clients::Clients;
use crate::error::DeployError;

/// The App Runner service stack's output naming the custom domain apprun
/// associated (set when the env's service has `domain`). Read before a
/// deploy, it tells which associated domain is apprun's: App Runner custom
/// domains carry no tags.
pub const CUSTOM_DOMAIN_OUTPUT: &str = apprun_blueprint::outputs::CUSTOM_DOMAIN;

/// Per App Runner service in a run's scope, the domain apprun associated
/// before the run (the service stack's `CustomDomain` output as it was),
/// `None` when it had none or the stack is not deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorDomains {
    pub services: BTreeMap<String, Option<String>>,
}

/// Reads, before a deploy changes them, the `CustomDomain` output of every
/// App Runner service stack that `only` selects (stack names or file stems,
/// as `--stack`; empty: every stack): one DescribeStacks each.
pub async fn prior(
    clients: &Clients,
    bp: &EnvBlueprint,
    only: &[String],
) -> Result<PriorDomains, DeployError> {
    let mut out = PriorDomains::default();
    for stack in &bp.stacks {
        let StackKind::Service {
            name,
            backend: Compute::AppRunner,
        } = &stack.kind
        else {
            continue;
        };
        let selected = only.is_empty()
            || only
                .iter()
                .any(|w| *w == stack.name || *w == stack.kind.file_stem());
        if !selected {
            continue;
        }
        let managed = crate::stack::describe(clients, &stack.name)
            .await?
            .and_then(|d| d.outputs.get(CUSTOM_DOMAIN_OUTPUT).map(|v| bare(v)))
            .filter(|d| !d.is_empty());
        out.services.insert(name.clone(), managed);
    }
    Ok(out)
}

/// The targets of a run: every service of `prior` whose stack is deployed
/// (its `ServiceArn` output) and that has a domain, in the config or
/// associated by apprun before. A service with neither is skipped without
/// a call: a deployer that never used custom domains needs no App Runner
/// domain permission.
pub async fn targets(
    clients: &Clients,
    config: &Config,
    bp: &EnvBlueprint,
    prior: &PriorDomains,
) -> Result<Vec<DomainTarget>, DeployError> {
    let mut out = Vec::new();
    for (service, managed) in &prior.services {
        let domain = config
            .service_settings(&bp.env, service)
            .and_then(|s| s.domain.as_ref());
        if domain.is_none() && managed.is_none() {
            continue;
        }
        let Some(stack) = bp.stacks.iter().find(|s| {
            matches!(&s.kind, StackKind::Service { name, backend: Compute::AppRunner } if name == service)
        }) else {
            continue;
        };
        let Some(deployed) = crate::stack::describe(clients, &stack.name).await? else {
            continue;
        };
        let Some(arn) = deployed.outputs.get(outputs::SERVICE_ARN) else {
            continue;
        };
        out.push(DomainTarget {
            service: service.clone(),
            service_arn: arn.clone(),
            domain: domain.map(|d| d.name.clone()),
            hosted_zone: domain.and_then(|d| d.hosted_zone.clone()),
            managed: managed.clone(),
        });
    }
    Ok(out)
}

/// What would happen to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedAction {
    /// In the zone already, as wanted: no write.
    Unchanged,
    /// Missing from the zone: created.
    Create,
    /// In the zone with another value: replaced (UPSERT), shown with what
    /// it was before the question.
    Overwrite,
    /// No hosted zone: printed for the user to create.
    ToCreate,
}

/// A record with what would happen to it.
pub type PlannedRecord = super::RecordChange<PlannedAction>;

/// One service's planned domain writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceDomainPlan {
    pub service: String,
    /// The config's domain.
    pub domain: Option<String>,
    pub hosted_zone: Option<String>,
    /// AssociateCustomDomain for `domain`.
    pub associate: bool,
    /// DisassociateCustomDomain for the domain apprun associated before and
    /// the config no longer names.
    pub disassociate: Option<String>,
    /// Associated domains apprun did not associate: left alone.
    pub not_managed: Vec<String>,
    /// App Runner's status of `domain` now (`None`: not associated yet).
    pub status: Option<String>,
    pub certificate: Option<String>,
    /// The records known now, with what would happen to each.
    pub records: Vec<PlannedRecord>,
    /// Whether App Runner has yet to list the certificate validation
    /// records (a domain to associate, or one still being created): they
    /// are created in the zone (or printed) once listed.
    pub validation_records_pending: bool,
    /// What DescribeCustomDomains said, for the write half.
    #[serde(skip)]
    pub(crate) current: ServiceDomains,
    /// Whether `domain` is the apex of its zone.
    #[serde(skip)]
    pub(crate) apex: bool,
}

impl ServiceDomainPlan {
    /// Whether the plan writes anything for this service.
    pub fn writes(&self) -> bool {
        self.associate
            || self.disassociate.is_some()
            || (self.hosted_zone.is_some() && self.validation_records_pending)
            || self
                .records
                .iter()
                .any(|r| matches!(r.action, PlannedAction::Create | PlannedAction::Overwrite))
    }

    /// The configured domain as App Runner has it now.
    pub(crate) fn found(&self) -> Option<&CustomDomain> {
        let domain = self.domain.as_deref()?;
        self.current
            .domains
            .iter()
            .find(|d| bare(&d.domain) == domain)
    }

    /// The planned state of `record`, when it was read with the same value.
    pub(crate) fn planned(&self, record: &DnsRecord) -> Option<&PlannedRecord> {
        self.records.iter().find(|p| p.record == *record)
    }
}

/// Every service's planned domain writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DomainPlan {
    pub services: Vec<ServiceDomainPlan>,
}

impl DomainPlan {
    /// Whether anything would be written (then the run asks first).
    pub fn writes(&self) -> bool {
        self.services.iter().any(ServiceDomainPlan::writes)
    }

    /// The plan as text lines: per service what would be associated,
    /// disassociated, created or overwritten (with what is there now), and
    /// the domains left alone.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.services {
            let name = &s.service;
            if let Some(d) = &s.disassociate {
                out.push(format!(
                    "{name}: disassociate {d} (apprun associated it; apprun.toml no longer names it; its DNS records stay)"
                ));
            }
            for d in &s.not_managed {
                out.push(format!(
                    "{name}: {d} is not managed by apprun (not associated by apprun): left alone"
                ));
            }
            let Some(domain) = &s.domain else { continue };
            let zone = s
                .hosted_zone
                .as_deref()
                .map(|z| format!("hosted zone {z}"))
                .unwrap_or_else(|| "no hosted zone: records printed".to_owned());
            if s.associate {
                out.push(format!("{name}: associate {domain} ({zone})"));
            } else {
                out.push(format!(
                    "{name}: {domain} {} ({zone}), certificate {}",
                    s.status.as_deref().unwrap_or("unknown"),
                    s.certificate.as_deref().unwrap_or("unknown")
                ));
            }
            for r in &s.records {
                let what = match r.action {
                    PlannedAction::Unchanged => "in place".to_owned(),
                    PlannedAction::Create => "create".to_owned(),
                    PlannedAction::Overwrite => format!(
                        "OVERWRITE (now {})",
                        r.was.as_deref().unwrap_or("another value")
                    ),
                    PlannedAction::ToCreate => "to create at your DNS provider".to_owned(),
                };
                let alias = r
                    .record
                    .alias_zone
                    .as_ref()
                    .map(|z| format!(" (alias, hosted zone {z})"))
                    .unwrap_or_default();
                out.push(format!(
                    "  {} {} {}{alias}: {what}",
                    r.record.name, r.record.record_type, r.record.value
                ));
            }
            if s.validation_records_pending {
                out.push(format!(
                    "  certificate validation records: {} once App Runner lists them",
                    if s.hosted_zone.is_some() {
                        "created in the zone"
                    } else {
                        "printed"
                    }
                ));
            }
        }
        out
    }
}

/// Plans every target (in the order given), reading only.
pub(crate) async fn plan_all(
    api: &impl DomainApi,
    region: &str,
    targets: &[DomainTarget],
) -> Result<DomainPlan, DeployError> {
    let mut plan = DomainPlan::default();
    for t in targets {
        plan.services.push(plan_one(api, region, t).await?);
    }
    Ok(plan)
}

/// One service: its domains now, what changes, and the state of each
/// record that can be known before any write.
async fn plan_one(
    api: &impl DomainApi,
    region: &str,
    target: &DomainTarget,
) -> Result<ServiceDomainPlan, DeployError> {
    let wanted = target.domain.as_deref().map(bare);
    let current = api.describe_custom_domains(&target.service_arn).await?;
    let (disassociate, not_managed) = split_live(&current, wanted.as_deref(), target);
    let mut plan = ServiceDomainPlan {
        service: target.service.clone(),
        domain: wanted.clone(),
        hosted_zone: target.hosted_zone.clone(),
        associate: false,
        disassociate,
        not_managed,
        status: None,
        certificate: None,
        records: Vec::new(),
        validation_records_pending: false,
        current,
        apex: false,
    };
    let Some(domain) = wanted else {
        return Ok(plan);
    };
    // The zone is checked before anything is written: a private zone or
    // one that does not hold the domain refuses the run here.
    plan.apex = match &target.hosted_zone {
        Some(zone) => zone_apex(api, zone, &domain, &target.service).await?,
        // Without the zone, a name of two labels is a registered domain,
        // hence an apex; a longer one is taken for a subdomain (the report
        // notes the exception).
        None => domain.split('.').count() <= 2,
    };
    let found = plan.found().cloned();
    plan.associate = found.is_none();
    let cd = found.unwrap_or_else(|| CustomDomain {
        domain: domain.clone(),
        www: super::ENABLE_WWW_SUBDOMAIN,
        status: "creating".into(),
        validation: Vec::new(),
    });
    if !plan.associate {
        plan.status = Some(cd.status.to_ascii_lowercase());
        plan.certificate = certificate_status(&cd.validation);
    }
    plan.validation_records_pending = needs_records(&cd);
    let dns_target = plan.current.dns_target.clone();
    if dns_target.is_empty() {
        return Ok(plan);
    }
    let route53 = target.hosted_zone.is_some();
    let records = records_for(&domain, &dns_target, &cd, plan.apex, route53, region)?;
    plan.records = planned_records(api, target.hosted_zone.as_deref(), records).await?;
    Ok(plan)
}

/// Splits the service's live domains (not being deleted) into the one
/// apprun associated before and the config no longer names (to
/// disassociate) and the ones apprun did not associate (sorted).
fn split_live(
    current: &ServiceDomains,
    wanted: Option<&str>,
    target: &DomainTarget,
) -> (Option<String>, Vec<String>) {
    let managed = target.managed.as_deref().map(bare);
    let live: Vec<String> = current
        .domains
        .iter()
        .filter(|d| !d.status.eq_ignore_ascii_case("deleting"))
        .map(|d| bare(&d.domain))
        .collect();
    let disassociate = managed
        .filter(|m| Some(m.as_str()) != wanted)
        .filter(|m| live.contains(m));
    let mut not_managed: Vec<String> = live
        .iter()
        .filter(|d| Some(d.as_str()) != wanted && Some(*d) != disassociate.as_ref())
        .cloned()
        .collect();
    not_managed.sort();
    (disassociate, not_managed)
}

/// Each record with what would happen to it: looked up in the zone, or
/// printed for the user when there is no zone.
async fn planned_records(
    api: &impl DomainApi,
    hosted_zone: Option<&str>,
    records: Vec<DnsRecord>,
) -> Result<Vec<PlannedRecord>, DeployError> {
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let (action, was) = match hosted_zone {
            None => (PlannedAction::ToCreate, None),
            Some(zone) => state_of(
                api.find_record(zone, &record.name, &record.record_type)
                    .await?,
                &record,
            ),
        };
        out.push(PlannedRecord {
            record,
            action,
            was,
        });
    }
    Ok(out)
}

/// What a record in the zone means for the one apprun wants.
pub(crate) fn state_of(
    existing: Option<RecordSet>,
    want: &DnsRecord,
) -> (PlannedAction, Option<String>) {
    match existing {
        None => (PlannedAction::Create, None),
        Some(set) if matches(&set, want) => (PlannedAction::Unchanged, None),
        Some(set) => (PlannedAction::Overwrite, Some(describe_set(&set))),
    }
}
