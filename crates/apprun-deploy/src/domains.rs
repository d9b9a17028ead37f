//! Custom domains of App Runner services: associated after the service
//! stack deployed (CloudFormation has no resource for them), their DNS
//! records created in the Route 53 hosted zone the config names (or printed
//! for the user to create), and their status reported.
//!
//! Two halves: [`plan`] only reads (DescribeCustomDomains, GetHostedZone,
//! ListResourceRecordSets) and says what would be written; the CLI shows
//! that plan and asks (unless `--yes`), then [`apply_until`] writes exactly
//! what the plan says. A run with nothing to change only reads.
//!
//! Which domains apprun removes: only the one it associated itself. App
//! Runner custom domains carry no tags, so the App Runner service stack
//! records the domain apprun associates in its `CustomDomain` output; read
//! before a deploy ([`prior`]), that output is the domain apprun may
//! disassociate once apprun.toml no longer names it. Any other associated
//! domain (added by hand, or by an apprun older than that output) is left
//! alone and reported as not managed by apprun. The DNS records of a
//! removed domain are left in place (the report says so).

pub(crate) mod apprunner;
mod plan;
pub(crate) mod route53;

pub use plan::{
    CUSTOM_DOMAIN_OUTPUT, DomainPlan, PlannedAction, PlannedRecord, PriorDomains,
    ServiceDomainPlan, prior, targets,
};

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::api::Api;
use crate::clients::Clients;
use crate::error::DeployError;

/// `EnableWWWSubdomain` of AssociateCustomDomain: App Runner's default is
/// true (it also associates `www.DOMAIN`); apprun asks for exactly the
/// domain the config names, so it sends false.
pub const ENABLE_WWW_SUBDOMAIN: bool = false;

/// TTL of the records apprun creates (validation CNAMEs and the domain's
/// CNAME; alias records have none).
pub const RECORD_TTL: u32 = 300;

/// How many times apprun looks for the certificate validation records after
/// associating a domain (App Runner lists them within seconds; one poll
/// every `Tuning::poll`, 3 s in production: about 2 minutes).
const VALIDATION_POLLS: u32 = 40;

/// The Route 53 hosted zone of App Runner's service domains per region,
/// the `HostedZoneId` of an alias record to a service's DNS target (AWS
/// General Reference, "AWS App Runner endpoints and quotas").
const APPRUNNER_ALIAS_ZONES: &[(&str, &str)] = &[
    ("ap-northeast-1", "Z08491812XW6IPYLR6CCA"),
    ("ap-south-1", "Z00855883LBHKTIC4ODF2"),
    ("ap-southeast-1", "Z09819469CZ3KQ8PWMCL"),
    ("ap-southeast-2", "Z03657752RA8799S0TI5I"),
    ("eu-central-1", "Z0334911C2FDI2Q9M4FZ"),
    ("eu-west-1", "Z087551914Z2PCAU0QHMW"),
    ("eu-west-2", "Z098228427VC6B3IX76ON"),
    ("eu-west-3", "Z087117439MBKHYM69QS6"),
    ("us-east-1", "Z01915732ZBZKC8D32TPT"),
    ("us-east-2", "Z0224347AD7KVHMLOX31"),
    ("us-west-2", "Z02243383FTQ64HJ5772Q"),
];

/// App Runner's alias hosted zone for `region`, if App Runner runs there.
pub fn apprunner_alias_zone(region: &str) -> Option<&'static str> {
    APPRUNNER_ALIAS_ZONES
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, z)| *z)
}

/// One App Runner service whose domain apprun reconciles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainTarget {
    /// The service's name in apprun.toml.
    pub service: String,
    /// The App Runner service's ARN (the service stack's `ServiceArn` output).
    pub service_arn: String,
    /// The env's `domain` for the service; `None`: none wanted.
    pub domain: Option<String>,
    /// The env's `hosted_zone` (a Route 53 zone id): records are created
    /// there; without it they are printed.
    pub hosted_zone: Option<String>,
    /// The domain apprun associated before this run (the service stack's
    /// `CustomDomain` output before the deploy): the only one it may
    /// disassociate.
    pub managed: Option<String>,
}

/// A custom domain as App Runner describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomDomain {
    pub domain: String,
    pub www: bool,
    /// App Runner's status in lower case: `creating`,
    /// `pending_certificate_dns_validation`, `binding_certificate`,
    /// `active`, `create_failed`, `deleting`, `delete_failed`.
    pub status: String,
    pub validation: Vec<ValidationRecord>,
}

/// A certificate validation record App Runner asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: String,
    /// `PENDING_VALIDATION`, `SUCCESS` or `FAILED`.
    pub status: String,
}

/// What DescribeCustomDomains (all pages) or AssociateCustomDomain says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceDomains {
    /// The service's own domain, which custom domains point at.
    pub dns_target: String,
    pub domains: Vec<CustomDomain>,
}

/// A DNS record apprun wants: a CNAME, or a Route 53 alias A record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// Fully qualified, lower case, with the final dot.
    pub name: String,
    /// `CNAME`, `A` (a Route 53 alias) or, printed for another DNS
    /// provider, `ALIAS` (ALIAS/ANAME at the zone apex).
    #[serde(rename = "type")]
    pub record_type: String,
    /// The CNAME's target or the alias's DNS name, with the final dot.
    pub value: String,
    /// For a Route 53 alias: the target's hosted zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_zone: Option<String>,
}

/// A record set as Route 53 lists it (only what apprun compares).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordSet {
    pub name: String,
    pub record_type: String,
    pub ttl: Option<u32>,
    pub values: Vec<String>,
    /// Alias target: (hosted zone id, DNS name).
    pub alias: Option<(String, String)>,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordAction {
    /// It was in the zone already, as wanted.
    Unchanged,
    /// Created in the zone by this run.
    Created,
    /// It was in the zone with another value; replaced (UPSERT), as the
    /// reviewed plan said.
    Updated,
    /// It is in the zone with another value that the reviewed plan did not
    /// show (App Runner listed it after the question): left as it is.
    Kept,
    /// No hosted zone: the user creates it (printed).
    ToCreate,
}

/// A DNS record with what happens to it (`A`: planned, or done by the run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordChange<A> {
    #[serde(flatten)]
    pub record: DnsRecord,
    pub action: A,
    /// The value the zone holds (or held) instead, for an overwrite or
    /// update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<String>,
}

/// A record after the run.
pub type RecordOutcome = RecordChange<RecordAction>;

/// One service's domain after the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceDomainResult {
    pub service: String,
    pub domain: Option<String>,
    /// App Runner's status of the domain (see [`CustomDomain::status`]).
    pub status: Option<String>,
    /// The certificate's validation: `pending_validation`, `success` or
    /// `failed` (from its validation records).
    pub certificate: Option<String>,
    /// Whether this run associated the domain.
    pub associated: bool,
    /// Domains this run disassociated (apprun's, no longer in the config).
    pub disassociated: Vec<String>,
    /// Associated domains apprun did not associate: left alone.
    pub not_managed: Vec<String>,
    pub hosted_zone: Option<String>,
    pub records: Vec<RecordOutcome>,
    /// The Route 53 change this run submitted, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// What the user should do next, if anything.
    pub next: Vec<String>,
}

/// Every App Runner service's domain after a deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DomainReport {
    pub services: Vec<ServiceDomainResult>,
}

impl DomainReport {
    /// Whether the run wrote anything (associate, disassociate, records).
    pub fn wrote(&self) -> bool {
        self.services.iter().any(|s| {
            s.associated
                || !s.disassociated.is_empty()
                || s.records
                    .iter()
                    .any(|r| matches!(r.action, RecordAction::Created | RecordAction::Updated))
        })
    }

    /// The report as text lines for the terminal: per service its domain,
    /// status, the records (exactly, when the user must create them) and
    /// what to do next.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.services {
            for d in &s.disassociated {
                out.push(format!(
                    "{}: disassociated {d} (no longer in apprun.toml; its DNS records were left in place, delete them at your DNS provider)",
                    s.service
                ));
            }
            for d in &s.not_managed {
                out.push(format!(
                    "{}: {d} is not managed by apprun (associated outside apprun): left alone; disassociate it yourself if it should go",
                    s.service
                ));
            }
            let Some(domain) = &s.domain else { continue };
            out.push(format!(
                "{}: {domain} {}{}, certificate {}",
                s.service,
                s.status.as_deref().unwrap_or("unknown"),
                if s.associated {
                    " (associated now)"
                } else {
                    ""
                },
                s.certificate.as_deref().unwrap_or("unknown"),
            ));
            for r in &s.records {
                let what = match r.action {
                    RecordAction::Unchanged => "in place",
                    RecordAction::Created => "created",
                    RecordAction::Updated => "overwritten",
                    RecordAction::ToCreate => "create it",
                    RecordAction::Kept => "NOT changed (points elsewhere)",
                };
                let alias = r
                    .record
                    .alias_zone
                    .as_ref()
                    .map(|z| format!(" (alias, hosted zone {z})"))
                    .unwrap_or_default();
                out.push(format!(
                    "  {} {} {}{alias}: {what}{}",
                    r.record.name,
                    r.record.record_type,
                    r.record.value,
                    r.was
                        .as_ref()
                        .map(|w| format!(", was {w}"))
                        .unwrap_or_default()
                ));
            }
            for n in &s.next {
                out.push(format!("  next: {n}"));
            }
        }
        out
    }
}

/// The App Runner and Route 53 operations the flow needs. Errors are
/// [`DeployError::Aws`] naming the operation and AWS's code and message.
pub(crate) trait DomainApi {
    /// DescribeCustomDomains, every page.
    fn describe_custom_domains(
        &self,
        service_arn: &str,
    ) -> impl Future<Output = Result<ServiceDomains, DeployError>>;
    /// AssociateCustomDomain; the answer holds the new domain only.
    fn associate_custom_domain(
        &self,
        service_arn: &str,
        domain: &str,
        www: bool,
    ) -> impl Future<Output = Result<ServiceDomains, DeployError>>;
    fn disassociate_custom_domain(
        &self,
        service_arn: &str,
        domain: &str,
    ) -> impl Future<Output = Result<(), DeployError>>;
    /// GetHostedZone: the zone's name, and whether it is private.
    fn hosted_zone(&self, zone: &str) -> impl Future<Output = Result<(String, bool), DeployError>>;
    /// ListResourceRecordSets from (`name`, `record_type`), one item: the
    /// record set of exactly that name and type, if the zone has it.
    fn find_record(
        &self,
        zone: &str,
        name: &str,
        record_type: &str,
    ) -> impl Future<Output = Result<Option<RecordSet>, DeployError>>;
    /// ChangeResourceRecordSets with one UPSERT per record; the change id.
    fn upsert_records(
        &self,
        zone: &str,
        records: &[DnsRecord],
        comment: &str,
    ) -> impl Future<Output = Result<String, DeployError>>;
}

/// The operations over apprun's AWS client.
pub(crate) struct Live<'a>(pub &'a Api);

impl DomainApi for Live<'_> {
    async fn describe_custom_domains(
        &self,
        service_arn: &str,
    ) -> Result<ServiceDomains, DeployError> {
        const OP: &str = "DescribeCustomDomains";
        let mut out = ServiceDomains::default();
        let mut next_token = None;
        loop {
            let page = self
                .0
                .call(&apprunner::DescribeCustomDomainsRequest {
                    service_arn: service_arn.to_owned(),
                    next_token: next_token.take(),
                    max_results: Some(5),
                })
                .await
                .map_err(|e| e.into_deploy(OP, None))?;
            if out.dns_target.is_empty() {
                out.dns_target = page.dns_target;
            }
            out.domains
                .extend(page.custom_domains.into_iter().map(custom_domain));
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(t) => next_token = Some(t),
                None => return Ok(out),
            }
        }
    }

    async fn associate_custom_domain(
        &self,
        service_arn: &str,
        domain: &str,
        www: bool,
    ) -> Result<ServiceDomains, DeployError> {
        let answer = self
            .0
            .call(&apprunner::AssociateCustomDomainRequest {
                service_arn: service_arn.to_owned(),
                domain_name: domain.to_owned(),
                enable_www_subdomain: www,
            })
            .await
            .map_err(|e| e.into_deploy("AssociateCustomDomain", None))?;
        Ok(ServiceDomains {
            dns_target: answer.dns_target,
            domains: answer
                .custom_domain
                .into_iter()
                .map(custom_domain)
                .collect(),
        })
    }

    async fn disassociate_custom_domain(
        &self,
        service_arn: &str,
        domain: &str,
    ) -> Result<(), DeployError> {
        self.0
            .call(&apprunner::DisassociateCustomDomainRequest {
                service_arn: service_arn.to_owned(),
                domain_name: domain.to_owned(),
            })
            .await
            .map_err(|e| e.into_deploy("DisassociateCustomDomain", None))?;
        Ok(())
    }

    async fn hosted_zone(&self, zone: &str) -> Result<(String, bool), DeployError> {
        let z = route53::get_hosted_zone(self.0, zone)
            .await
            .map_err(|e| e.into_deploy("GetHostedZone", None))?;
        Ok((z.name, z.private))
    }

    async fn find_record(
        &self,
        zone: &str,
        name: &str,
        record_type: &str,
    ) -> Result<Option<RecordSet>, DeployError> {
        let page =
            route53::list_resource_record_sets(self.0, zone, Some(name), Some(record_type), 1)
                .await
                .map_err(|e| e.into_deploy("ListResourceRecordSets", None))?;
        // The page starts at (name, type), or at the next record set when
        // the zone has none of that name and type.
        Ok(page
            .record_sets
            .into_iter()
            .find(|s| {
                fqdn(&s.name) == fqdn(name) && s.record_type.eq_ignore_ascii_case(record_type)
            })
            .map(|s| RecordSet {
                name: s.name,
                record_type: s.record_type,
                ttl: s.ttl,
                values: s.values,
                alias: s.alias.map(|a| (a.hosted_zone_id, a.dns_name)),
            }))
    }

    async fn upsert_records(
        &self,
        zone: &str,
        records: &[DnsRecord],
        comment: &str,
    ) -> Result<String, DeployError> {
        let changes: Vec<route53::Change> = records
            .iter()
            .map(|r| route53::Change {
                action: "UPSERT",
                record_set: route53::ResourceRecordSet {
                    name: r.name.clone(),
                    record_type: r.record_type.clone(),
                    ttl: r.alias_zone.is_none().then_some(RECORD_TTL),
                    values: if r.alias_zone.is_none() {
                        vec![r.value.clone()]
                    } else {
                        Vec::new()
                    },
                    alias: r.alias_zone.as_ref().map(|z| route53::AliasTarget {
                        hosted_zone_id: z.clone(),
                        dns_name: r.value.clone(),
                        evaluate_target_health: false,
                    }),
                },
            })
            .collect();
        let info = route53::change_resource_record_sets(self.0, zone, comment, &changes)
            .await
            .map_err(|e| e.into_deploy("ChangeResourceRecordSets", None))?;
        Ok(info.id)
    }
}

fn custom_domain(d: apprunner::CustomDomain) -> CustomDomain {
    CustomDomain {
        domain: d.domain_name,
        www: d.enable_www_subdomain,
        status: d.status.to_ascii_lowercase(),
        validation: d
            .certificate_validation_records
            .into_iter()
            .map(|v| ValidationRecord {
                name: v.name,
                record_type: v.record_type,
                value: v.value,
                status: v.status,
            })
            .collect(),
    }
}

/// Reads what a run would write for every target (in the order given):
/// see [`DomainPlan`]. Nothing is written.
pub async fn plan(clients: &Clients, targets: &[DomainTarget]) -> Result<DomainPlan, DeployError> {
    plan::plan_all(&Live(&clients.api), &clients.region, targets).await
}

/// Plans and writes at once, every planned write approved (what `--yes`
/// does): see the module's documentation.
pub async fn reconcile(
    clients: &Clients,
    targets: &[DomainTarget],
) -> Result<DomainReport, DeployError> {
    // A stop signal that never comes.
    let (_never, stop) = watch::channel(false);
    reconcile_until(clients, targets, stop).await
}

/// [`reconcile`], stopping when `interrupt` turns true (see [`apply_until`]).
pub async fn reconcile_until(
    clients: &Clients,
    targets: &[DomainTarget],
    interrupt: watch::Receiver<bool>,
) -> Result<DomainReport, DeployError> {
    let planned = plan(clients, targets).await?;
    apply_until(clients, targets, &planned, interrupt).await
}

/// Writes what `planned` (from [`plan`] over the same targets, shown to
/// the user) says, and nothing it does not: a record found pointing
/// elsewhere that the plan did not show is left as it is and reported.
/// Stops when `interrupt` turns true (SIGINT/SIGTERM): no write is sent
/// after it, a wait ends at once, and the error
/// ([`DeployError::Interrupted`]) says what was sent for the service.
pub async fn apply_until(
    clients: &Clients,
    targets: &[DomainTarget],
    planned: &DomainPlan,
    interrupt: watch::Receiver<bool>,
) -> Result<DomainReport, DeployError> {
    let api = Live(&clients.api);
    let stop = Stop(interrupt);
    let mut report = DomainReport::default();
    for t in targets {
        let Some(p) = planned.services.iter().find(|p| p.service == t.service) else {
            continue;
        };
        let one = apply_one(&api, &clients.region, clients.tuning.poll, &stop, t, p).await?;
        report.services.push(one);
    }
    Ok(report)
}

/// The stop signal: checked before every write and raced against waits.
struct Stop(watch::Receiver<bool>);

impl Stop {
    fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Sleeps `poll`, or less when the signal arrives.
    async fn sleep(&self, poll: Duration) {
        let mut rx = self.0.clone();
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = rx.wait_for(|stopped| *stopped) => {}
        }
    }

    /// `Ok` unless the signal arrived; then the interruption, with what
    /// this run sent for the service so far.
    fn check(&self, result: &ServiceDomainResult) -> Result<(), DeployError> {
        if !self.requested() {
            return Ok(());
        }
        let mut sent: Vec<String> = result
            .disassociated
            .iter()
            .map(|d| format!("sent DisassociateCustomDomain for {d}"))
            .collect();
        if result.associated {
            let domain = result.domain.as_deref().unwrap_or_default();
            sent.push(format!("sent AssociateCustomDomain for {domain}"));
        }
        if sent.is_empty() {
            sent.push("nothing sent".to_owned());
        }
        let state = format!(
            "{}; its DNS records not changed; `apprun deploy` again finishes it",
            sent.join(", ")
        );
        Err(DeployError::Interrupted {
            states: vec![(
                format!("custom domain of service {}", result.service),
                state,
            )],
        })
    }
}

async fn apply_one(
    api: &impl DomainApi,
    region: &str,
    poll: Duration,
    stop: &Stop,
    target: &DomainTarget,
    planned: &ServiceDomainPlan,
) -> Result<ServiceDomainResult, DeployError> {
    let mut result = ServiceDomainResult {
        service: target.service.clone(),
        domain: planned.domain.clone(),
        status: None,
        certificate: None,
        associated: false,
        disassociated: Vec::new(),
        not_managed: planned.not_managed.clone(),
        hosted_zone: target.hosted_zone.clone(),
        records: Vec::new(),
        change_id: None,
        next: Vec::new(),
    };
    if let Some(old) = &planned.disassociate {
        stop.check(&result)?;
        api.disassociate_custom_domain(&target.service_arn, old)
            .await?;
        result.disassociated.push(old.clone());
    }
    let Some(domain) = planned.domain.clone() else {
        return Ok(result);
    };
    let (mut cd, dns_target) = match (planned.associate, planned.found()) {
        (false, Some(found)) => (found.clone(), planned.current.dns_target.clone()),
        _ => {
            stop.check(&result)?;
            let associated = associate(api, target, &domain, &planned.current.dns_target).await?;
            result.associated = true;
            associated
        }
    };
    if needs_records(&cd) {
        cd = wait_for_validation(api, stop, &target.service_arn, &domain, poll, cd).await?;
    }
    result.status = Some(cd.status.to_ascii_lowercase());
    result.certificate = certificate_status(&cd.validation);
    if dns_target.is_empty() {
        // The records need the target; without it (a service still being
        // created) the next deploy creates them.
        result.next.push(format!(
            "App Runner has not given service `{}` its DNS target yet; run `apprun deploy` again to create the records",
            target.service
        ));
        return Ok(result);
    }
    let route53 = target.hosted_zone.is_some();
    let wanted_records = records_for(&domain, &dns_target, &cd, planned.apex, route53, region)?;
    match &target.hosted_zone {
        Some(zone) => {
            apply_records(api, stop, zone, wanted_records, planned, &mut result).await?;
        }
        None => print_records(
            &domain,
            &dns_target,
            planned.apex,
            wanted_records,
            &mut result,
        ),
    }
    next_for_status(&domain, &cd, &mut result);
    Ok(result)
}

/// AssociateCustomDomain: the new domain, and the DNS target (the one
/// already known, else the answer's).
async fn associate(
    api: &impl DomainApi,
    target: &DomainTarget,
    domain: &str,
    dns_target: &str,
) -> Result<(CustomDomain, String), DeployError> {
    let answer = api
        .associate_custom_domain(&target.service_arn, domain, ENABLE_WWW_SUBDOMAIN)
        .await
        .map_err(|e| with_advice(e, &associate_advice(domain)))?;
    let dns_target = if dns_target.is_empty() {
        answer.dns_target
    } else {
        dns_target.to_owned()
    };
    let cd = answer.domains.into_iter().next().ok_or_else(|| {
        DeployError::Internal(format!(
            "AssociateCustomDomain for {domain} answered without the domain"
        ))
    })?;
    Ok((cd, dns_target))
}

/// Whether `domain` is the apex of hosted zone `zone` (GetHostedZone);
/// refuses a private zone (the certificate is validated through public DNS)
/// and a domain outside the zone.
pub(crate) async fn zone_apex(
    api: &impl DomainApi,
    zone: &str,
    domain: &str,
    service: &str,
) -> Result<bool, DeployError> {
    let (zone_name, private) = api.hosted_zone(zone).await?;
    let zone_name = bare(&zone_name);
    let refuse = |message: String| DeployError::Aws {
        operation: "GetHostedZone",
        stack: None,
        message,
    };
    if private {
        return Err(refuse(format!(
            "hosted zone {zone} ({zone_name}) of service `{service}` is private, and the certificate of {domain} is validated through public DNS; set `hosted_zone` to the public zone of {domain}"
        )));
    }
    if domain != zone_name && !domain.ends_with(&format!(".{zone_name}")) {
        return Err(refuse(format!(
            "domain {domain} of service `{service}` is not in hosted zone {zone} ({zone_name}); set `hosted_zone` to the zone of {domain}, or remove it to create the records yourself"
        )));
    }
    Ok(domain == zone_name)
}

/// Without a hosted zone: the records for the user to create, and how.
fn print_records(
    domain: &str,
    dns_target: &str,
    apex: bool,
    records: Vec<DnsRecord>,
    result: &mut ServiceDomainResult,
) {
    result.records = records
        .into_iter()
        .map(|record| RecordOutcome {
            record,
            action: RecordAction::ToCreate,
            was: None,
        })
        .collect();
    result.next.push(format!(
        "create these records at your DNS provider (no `hosted_zone` for service `{}`); App Runner validates the certificate once they resolve",
        result.service
    ));
    if !apex {
        result.next.push(format!(
            "if {domain} is the apex of its zone (where a CNAME is not allowed), create an ALIAS/ANAME record to {dns_target} instead of the CNAME, or give `hosted_zone` and apprun creates a Route 53 alias"
        ));
    }
}

/// Whether the certificate validation records are still to come.
pub(crate) fn needs_records(cd: &CustomDomain) -> bool {
    cd.validation.is_empty() || cd.status.eq_ignore_ascii_case("creating")
}

/// Polls DescribeCustomDomains until App Runner lists the domain's
/// validation records, at most [`VALIDATION_POLLS`] times; the last answer
/// otherwise (the report then says to run deploy again).
async fn wait_for_validation(
    api: &impl DomainApi,
    stop: &Stop,
    service_arn: &str,
    domain: &str,
    poll: Duration,
    mut cd: CustomDomain,
) -> Result<CustomDomain, DeployError> {
    for _ in 0..VALIDATION_POLLS {
        if !needs_records(&cd) || stop.requested() {
            break;
        }
        stop.sleep(poll).await;
        let now = api.describe_custom_domains(service_arn).await?;
        if let Some(d) = now.domains.into_iter().find(|d| bare(&d.domain) == domain) {
            cd = d;
        }
    }
    Ok(cd)
}

/// The records a domain needs: App Runner's validation CNAMEs, and the
/// domain's own record (a CNAME to the DNS target; at a zone apex a Route
/// 53 alias A record, or an ALIAS/ANAME printed for another provider).
pub(crate) fn records_for(
    domain: &str,
    dns_target: &str,
    cd: &CustomDomain,
    apex: bool,
    route53: bool,
    region: &str,
) -> Result<Vec<DnsRecord>, DeployError> {
    let mut records: Vec<DnsRecord> = cd
        .validation
        .iter()
        .map(|v| DnsRecord {
            name: fqdn(&v.name),
            record_type: v.record_type.to_ascii_uppercase(),
            value: fqdn(&v.value),
            alias_zone: None,
        })
        .collect();
    let own = match (apex, route53) {
        (false, _) => DnsRecord {
            name: fqdn(domain),
            record_type: "CNAME".into(),
            value: fqdn(dns_target),
            alias_zone: None,
        },
        (true, true) => {
            let zone = apprunner_alias_zone(region).ok_or_else(|| DeployError::Aws {
                operation: "ChangeResourceRecordSets",
                stack: None,
                message: format!(
                    "{domain} is the apex of its hosted zone, which needs an alias record to App Runner's hosted zone in {region}, and apprun does not know that zone's id; create an alias A record {domain} -> {dns_target} yourself, or use a subdomain (a CNAME)"
                ),
            })?;
            DnsRecord {
                name: fqdn(domain),
                record_type: "A".into(),
                value: fqdn(dns_target),
                alias_zone: Some(zone.to_owned()),
            }
        }
        (true, false) => DnsRecord {
            name: fqdn(domain),
            record_type: "ALIAS".into(),
            value: fqdn(dns_target),
            alias_zone: None,
        },
    };
    records.push(own);
    // A domain associated with `www.` too (by hand: apprun asks for none)
    // needs that name pointed at the service as well.
    if cd.www {
        records.push(DnsRecord {
            name: fqdn(&format!("www.{domain}")),
            record_type: "CNAME".into(),
            value: fqdn(dns_target),
            alias_zone: None,
        });
    }
    records.sort_by(|a, b| (&a.name, &a.record_type).cmp(&(&b.name, &b.record_type)));
    records.dedup();
    Ok(records)
}

/// UPSERTs, in one change, the wanted records that are missing or that the
/// reviewed plan showed overwriting. A record the plan did not read (App
/// Runner listed it after the question) is read now: missing, it is
/// created (associating the domain, which the plan showed, means creating
/// its validation records); pointing elsewhere, it is left as it is and the
/// report says to run the deploy again to review it.
async fn apply_records(
    api: &impl DomainApi,
    stop: &Stop,
    zone: &str,
    wanted: Vec<DnsRecord>,
    planned: &ServiceDomainPlan,
    result: &mut ServiceDomainResult,
) -> Result<(), DeployError> {
    let mut changes = Vec::new();
    for record in wanted {
        let (state, was) = match planned.planned(&record) {
            Some(p) => (p.action, p.was.clone()),
            None => plan::state_of(
                api.find_record(zone, &record.name, &record.record_type)
                    .await?,
                &record,
            ),
        };
        let action = match (state, planned.planned(&record).is_some()) {
            (PlannedAction::Unchanged, _) => RecordAction::Unchanged,
            (PlannedAction::Create | PlannedAction::ToCreate, _) => RecordAction::Created,
            (PlannedAction::Overwrite, true) => RecordAction::Updated,
            (PlannedAction::Overwrite, false) => {
                result.next.push(format!(
                    "{} {} points elsewhere ({}) and was not in the reviewed plan, so it was not changed; run `apprun deploy` again to review overwriting it",
                    record.name,
                    record.record_type,
                    was.as_deref().unwrap_or("another value")
                ));
                RecordAction::Kept
            }
        };
        if matches!(action, RecordAction::Created | RecordAction::Updated) {
            changes.push(record.clone());
        }
        result.records.push(RecordOutcome {
            record,
            action,
            was,
        });
    }
    if changes.is_empty() {
        return Ok(());
    }
    stop.check(result)?;
    let comment = format!("apprun: custom domain of service {}", result.service);
    let id = api
        .upsert_records(zone, &changes, &comment)
        .await
        .map_err(|e| with_advice(e, &change_advice(zone)))?;
    result.change_id = Some(id);
    Ok(())
}

/// Whether a record set in the zone already says what apprun wants.
pub(crate) fn matches(set: &RecordSet, want: &DnsRecord) -> bool {
    match &want.alias_zone {
        Some(zone) => set
            .alias
            .as_ref()
            .is_some_and(|(z, name)| z.eq_ignore_ascii_case(zone) && fqdn(name) == want.value),
        None => {
            set.alias.is_none()
                && set.values.len() == 1
                && set.values.iter().all(|v| fqdn(v) == want.value)
        }
    }
}

/// A record set's value(s) as the report shows the old state.
pub(crate) fn describe_set(set: &RecordSet) -> String {
    match &set.alias {
        Some((zone, name)) => format!("alias {} (hosted zone {zone})", fqdn(name)),
        None => set
            .values
            .iter()
            .map(|v| fqdn(v))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The certificate's validation state from its records.
pub(crate) fn certificate_status(records: &[ValidationRecord]) -> Option<String> {
    if records.is_empty() {
        return None;
    }
    let is = |s: &str| records.iter().any(|r| r.status.eq_ignore_ascii_case(s));
    let state = if is("FAILED") {
        "failed"
    } else if records
        .iter()
        .all(|r| r.status.eq_ignore_ascii_case("SUCCESS"))
    {
        "success"
    } else {
        "pending_validation"
    };
    Some(state.to_owned())
}

/// What to do after the run, from App Runner's status.
fn next_for_status(domain: &str, cd: &CustomDomain, result: &mut ServiceDomainResult) {
    let status = cd.status.to_ascii_lowercase();
    let advice = match status.as_str() {
        "active" => return,
        "creating" if cd.validation.is_empty() => format!(
            "App Runner is still preparing {domain} and has not listed its validation records; run `apprun deploy` again in a minute to create them"
        ),
        "pending_certificate_dns_validation" | "binding_certificate" | "creating" => format!(
            "App Runner validates the certificate of {domain} once the records resolve (minutes, up to 48 hours at some DNS providers); `apprun status` shows when it is active"
        ),
        "create_failed" => format!(
            "App Runner could not set up {domain} (a validation record that never resolved, or a CAA record that does not allow amazon.com); fix DNS, then remove `domain`, deploy, add it back and deploy again"
        ),
        other => {
            format!("App Runner reports {domain} as {other}; `apprun status` shows when it changes")
        }
    };
    result.next.push(advice);
}

/// An AWS error with what to do appended to its message.
fn with_advice(err: DeployError, advice: &str) -> DeployError {
    append_to_aws_message(err, "; ", advice)
}

/// An AWS error with `text` appended to its message after `separator`;
/// any other error as it is.
pub(crate) fn append_to_aws_message(err: DeployError, separator: &str, text: &str) -> DeployError {
    match err {
        DeployError::Aws {
            operation,
            stack,
            message,
        } => DeployError::Aws {
            operation,
            stack,
            message: format!("{message}{separator}{text}"),
        },
        other => other,
    }
}

fn associate_advice(domain: &str) -> String {
    format!(
        "nothing was associated. If {domain} is associated with another App Runner service (App Runner allows one), disassociate it there (console, or `aws apprunner disassociate-custom-domain`) and deploy again; App Runner allows at most 5 custom domains per service"
    )
}

fn change_advice(zone: &str) -> String {
    format!(
        "no record was changed in hosted zone {zone}. A CNAME cannot share its name with another record: delete the conflicting record (or point it at the service yourself) and deploy again"
    )
}

/// A domain name as apprun compares it: lower case, without the final dot,
/// Route 53's `\052` escape read as `*`.
pub(crate) fn bare(name: &str) -> String {
    unescape(name.trim())
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// A fully qualified name: [`bare`] plus the final dot.
pub(crate) fn fqdn(name: &str) -> String {
    format!("{}.", bare(name))
}

/// Route 53 lists characters outside letters, digits, `-` and `_` as
/// `\ddd` (octal): `*.example.com` comes back as `\052.example.com.`.
fn unescape(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let code = bytes[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            if let Some(c) = char::from_u32(code) {
                out.push(c);
                i += 4;
                continue;
            }
        }
        out.push(char::from(bytes[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_final_dot_or_escapes() {
        assert_eq!(bare("App.Example.COM."), "app.example.com");
        assert_eq!(fqdn("app.example.com"), "app.example.com.");
        assert_eq!(bare("\\052.example.com."), "*.example.com");
    }

    #[test]
    fn every_alias_zone_is_a_route53_zone_id() {
        for (region, zone) in APPRUNNER_ALIAS_ZONES {
            assert!(
                zone.starts_with('Z') && zone.len() >= 14,
                "{region}: {zone}"
            );
        }
        assert_eq!(
            apprunner_alias_zone("eu-west-1"),
            Some("Z087551914Z2PCAU0QHMW")
        );
        assert_eq!(apprunner_alias_zone("sa-east-1"), None);
    }

    #[test]
    fn certificate_status_follows_its_records() {
        let rec = |s: &str| ValidationRecord {
            name: "_a.example.com.".into(),
            record_type: "CNAME".into(),
            value: "_b.acm-validations.aws.".into(),
            status: s.into(),
        };
        assert_eq!(certificate_status(&[]), None);
        assert_eq!(
            certificate_status(&[rec("SUCCESS"), rec("PENDING_VALIDATION")]).as_deref(),
            Some("pending_validation")
        );
        assert_eq!(
            certificate_status(&[rec("SUCCESS"), rec("SUCCESS")]).as_deref(),
            Some("success")
        );
        assert_eq!(
            certificate_status(&[rec("FAILED"), rec("SUCCESS")]).as_deref(),
            Some("failed")
        );
    }

    #[test]
    fn records_cover_validation_the_domain_and_www_when_associated() {
        let cd = CustomDomain {
            domain: "example.com".into(),
            www: true,
            status: "pending_certificate_dns_validation".into(),
            validation: vec![ValidationRecord {
                name: "_A.example.com".into(),
                record_type: "cname".into(),
                value: "_b.acm-validations.aws".into(),
                status: "PENDING_VALIDATION".into(),
            }],
        };
        let target = "abc.eu-west-1.awsapprunner.com";
        let shown = |r: &[DnsRecord]| {
            r.iter()
                .map(|r| {
                    format!(
                        "{} {} {} {:?}",
                        r.name, r.record_type, r.value, r.alias_zone
                    )
                })
                .collect::<Vec<_>>()
        };
        // The apex in Route 53: an alias to App Runner's zone of the region.
        let r = records_for("example.com", target, &cd, true, true, "eu-west-1").unwrap();
        assert_eq!(
            shown(&r),
            [
                "_a.example.com. CNAME _b.acm-validations.aws. None",
                "example.com. A abc.eu-west-1.awsapprunner.com. Some(\"Z087551914Z2PCAU0QHMW\")",
                "www.example.com. CNAME abc.eu-west-1.awsapprunner.com. None",
            ]
        );
        // Printed for another DNS provider: ALIAS/ANAME at the apex.
        let r = records_for("example.com", target, &cd, true, false, "eu-west-1").unwrap();
        assert_eq!(
            shown(&r)[1],
            "example.com. ALIAS abc.eu-west-1.awsapprunner.com. None"
        );
        // A region apprun knows no App Runner zone of: an error saying what to do.
        let err = records_for("example.com", target, &cd, true, true, "xx-east-9").unwrap_err();
        assert!(
            err.to_string().contains("create an alias A record"),
            "{err}"
        );
    }

    #[test]
    fn a_cname_with_another_value_or_an_alias_does_not_match() {
        let want = DnsRecord {
            name: "app.example.com.".into(),
            record_type: "CNAME".into(),
            value: "abc.eu-west-1.awsapprunner.com.".into(),
            alias_zone: None,
        };
        let set = |v: &str| RecordSet {
            name: "app.example.com.".into(),
            record_type: "CNAME".into(),
            ttl: Some(60),
            values: vec![v.into()],
            alias: None,
        };
        assert!(matches(&set("ABC.eu-west-1.awsapprunner.com"), &want));
        assert!(!matches(&set("old.example.net."), &want));
    }
}
