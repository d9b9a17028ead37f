//! What `apprun status` shows per service besides its stack: its custom
//! domains (App Runner's status and the certificate's validation) and its
//! scaling bounds (App Runner: the auto scaling configuration the service
//! runs with, as App Runner describes it; ECS Express: the config's task
//! bounds, which its stack deploys).

use apprun_blueprint::{EnvBlueprint, StackKind, outputs};
use apprun_config::{Compute, Config};
use serde::Serialize;

use crate::clients::Clients;
use crate::domains::apprunner as ad;
use crate::domains::{CUSTOM_DOMAIN_OUTPUT, CustomDomain, DomainApi, Live, bare};
use crate::error::DeployError;

/// One service's domains and scaling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    pub service: String,
    /// `apprunner` or `ecs-express`.
    pub backend: String,
    /// Whether the service stack is deployed (nothing else is read when not).
    pub deployed: bool,
    /// The service's custom domains: the config's first, then any other
    /// associated one (the next deploy disassociates the one apprun
    /// associated; it leaves the others alone).
    pub domains: Vec<DomainStatus>,
    pub scaling: Option<ScalingBounds>,
    /// Why the domains or the scaling could not be read (the rest of
    /// `status` is shown all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainStatus {
    pub name: String,
    /// App Runner's status in lower case (`pending_certificate_dns_validation`,
    /// `active`, ...), or `not_associated` for the config's domain before
    /// the deploy that associates it.
    pub status: String,
    /// `pending_validation`, `success` or `failed`; `None` before App
    /// Runner lists the validation records.
    pub certificate: Option<String>,
    /// Whether apprun.toml names it for this env.
    pub in_config: bool,
    /// Whether apprun manages it: named by apprun.toml, or associated by
    /// apprun (the service stack's `CustomDomain` output). A domain apprun
    /// does not manage is never disassociated by it.
    pub managed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingBounds {
    pub min: u32,
    pub max: u32,
    /// `instances` (App Runner) or `tasks` (ECS Express).
    pub unit: &'static str,
    /// App Runner: concurrent requests per instance before it adds one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// ECS Express: the metric and target it scales on (`cpu 70`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// `deployed` (read from AWS) or `config`.
    pub source: &'static str,
}

/// Per service of the env (in the blueprint's order), its domains and
/// scaling.
pub async fn service_status(
    clients: &Clients,
    config: &Config,
    bp: &EnvBlueprint,
) -> Result<Vec<ServiceStatus>, DeployError> {
    let api = Live(&clients.api);
    let mut out = Vec::new();
    for stack in &bp.stacks {
        let StackKind::Service { name, backend } = &stack.kind else {
            continue;
        };
        let settings = config.service_settings(&bp.env, name);
        let wanted = settings
            .and_then(|s| s.domain.as_ref())
            .map(|d| bare(&d.name));
        let deployed = crate::stack::describe(clients, &stack.name).await?;
        let arn = deployed
            .as_ref()
            .and_then(|d| d.outputs.get(outputs::SERVICE_ARN).cloned());
        let associated_by_apprun = deployed
            .as_ref()
            .and_then(|d| d.outputs.get(CUSTOM_DOMAIN_OUTPUT))
            .map(|d| bare(d));
        let mut status = ServiceStatus {
            service: name.clone(),
            backend: backend.as_str().to_owned(),
            deployed: deployed.is_some(),
            domains: Vec::new(),
            scaling: None,
            error: None,
        };
        match (backend, arn) {
            (Compute::AppRunner, Some(arn)) => {
                let read = async {
                    let found = api.describe_custom_domains(&arn).await?;
                    let scaling = apprunner_scaling(clients, &arn).await?;
                    Ok::<_, DeployError>((found, scaling))
                };
                match read.await {
                    Ok((found, scaling)) => {
                        status.domains = domain_lines(
                            wanted.as_deref(),
                            associated_by_apprun.as_deref(),
                            &found.domains,
                        );
                        status.scaling = scaling;
                    }
                    Err(e) => status.error = Some(e.to_string()),
                }
            }
            (Compute::EcsExpress, Some(_)) => {
                status.scaling = settings.map(|s| ScalingBounds {
                    min: s.scaling.min_tasks,
                    max: s.scaling.max_tasks,
                    unit: "tasks",
                    max_concurrency: None,
                    metric: Some(format!("{} {}", s.scaling.on.metric(), s.scaling.target)),
                    source: "config",
                });
            }
            (_, None) => {}
        }
        out.push(status);
    }
    Ok(out)
}

/// The config's domain first (`not_associated` when App Runner does not
/// have it), then the other associated domains by name; `apprun_s` is the
/// domain apprun associated (the stack's `CustomDomain` output).
fn domain_lines(
    wanted: Option<&str>,
    apprun_s: Option<&str>,
    found: &[CustomDomain],
) -> Vec<DomainStatus> {
    let line = |d: &CustomDomain, in_config: bool| DomainStatus {
        name: bare(&d.domain),
        status: d.status.to_ascii_lowercase(),
        certificate: crate::domains::certificate_status(&d.validation),
        in_config,
        managed: in_config || apprun_s == Some(bare(&d.domain).as_str()),
    };
    let mut out = Vec::new();
    if let Some(w) = wanted {
        out.push(match found.iter().find(|d| bare(&d.domain) == w) {
            Some(d) => line(d, true),
            None => DomainStatus {
                name: w.to_owned(),
                status: "not_associated".into(),
                certificate: None,
                in_config: true,
                managed: true,
            },
        });
    }
    let mut others: Vec<DomainStatus> = found
        .iter()
        .filter(|d| Some(bare(&d.domain).as_str()) != wanted)
        .map(|d| line(d, false))
        .collect();
    others.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(others);
    out
}

/// The bounds of the auto scaling configuration the service runs with.
async fn apprunner_scaling(
    clients: &Clients,
    service_arn: &str,
) -> Result<Option<ScalingBounds>, DeployError> {
    let service = clients
        .api
        .call(&ad::DescribeServiceRequest {
            service_arn: service_arn.to_owned(),
        })
        .await
        .map_err(|e| e.into_deploy("DescribeService", None))?;
    let Some(summary) = service
        .service
        .auto_scaling_configuration_summary
        .filter(|s| !s.auto_scaling_configuration_arn.is_empty())
    else {
        return Ok(None);
    };
    let described = clients
        .api
        .call(&ad::DescribeAutoScalingConfigurationRequest {
            auto_scaling_configuration_arn: summary.auto_scaling_configuration_arn,
        })
        .await
        .map_err(|e| e.into_deploy("DescribeAutoScalingConfiguration", None))?;
    let c = described.auto_scaling_configuration;
    Ok(Some(ScalingBounds {
        min: c.min_size,
        max: c.max_size,
        unit: "instances",
        max_concurrency: Some(c.max_concurrency),
        metric: None,
        source: "deployed",
    }))
}

/// Text lines for `apprun status`: one per service, then one per domain.
pub fn service_status_lines(services: &[ServiceStatus]) -> Vec<String> {
    let mut out = Vec::new();
    for s in services {
        if !s.deployed {
            continue;
        }
        let scaling = match &s.scaling {
            Some(b) => {
                let mut text = format!("{}-{} {}", b.min, b.max, b.unit);
                if let Some(c) = b.max_concurrency {
                    text.push_str(&format!(", {c} concurrent requests per instance"));
                }
                if let Some(m) = &b.metric {
                    text.push_str(&format!(", on {m}"));
                }
                text
            }
            None => "-".to_owned(),
        };
        out.push(format!(
            "service {} ({}): scaling {scaling}",
            s.service, s.backend
        ));
        if let Some(e) = &s.error {
            out.push(format!("  domains and scaling not read: {e}"));
        }
        for d in &s.domains {
            let certificate = d
                .certificate
                .as_deref()
                .map(|c| format!(", certificate {c}"))
                .unwrap_or_default();
            let note = match (d.in_config, d.managed) {
                (true, _) => "",
                (false, true) => {
                    " (associated by apprun, no longer in apprun.toml: the next deploy disassociates it)"
                }
                (false, false) => " (not managed by apprun: deploys leave it alone)",
            };
            out.push(format!(
                "  domain {} {}{certificate}{note}",
                d.name, d.status
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::ValidationRecord;

    fn domain(name: &str, status: &str, record: &str) -> CustomDomain {
        CustomDomain {
            domain: name.into(),
            www: false,
            status: status.into(),
            validation: vec![ValidationRecord {
                name: format!("_x.{name}."),
                record_type: "CNAME".into(),
                value: "_y.acm-validations.aws.".into(),
                status: record.into(),
            }],
        }
    }

    #[test]
    fn the_config_domain_comes_first_and_others_are_flagged() {
        let found = [
            domain("zz.example.com", "active", "SUCCESS"),
            domain(
                "app.example.com",
                "pending_certificate_dns_validation",
                "PENDING_VALIDATION",
            ),
        ];
        let lines = domain_lines(Some("app.example.com"), None, &found);
        assert_eq!(lines[0].name, "app.example.com");
        assert_eq!(lines[0].certificate.as_deref(), Some("pending_validation"));
        assert!(lines[0].in_config && lines[0].managed);
        assert_eq!(lines[1].name, "zz.example.com");
        assert!(!lines[1].in_config);
        // Not associated by apprun: not managed, left alone by deploys.
        assert!(!lines[1].managed);
        // The domain apprun associated (the stack's output) is managed.
        let lines = domain_lines(Some("app.example.com"), Some("zz.example.com"), &found);
        assert!(!lines[1].in_config && lines[1].managed);
        let missing = domain_lines(Some("new.example.com"), None, &[]);
        assert_eq!(missing[0].status, "not_associated");
    }

    #[test]
    fn lines_show_scaling_and_domain_status() {
        let s = ServiceStatus {
            service: "web".into(),
            backend: "apprunner".into(),
            deployed: true,
            domains: domain_lines(
                Some("app.example.com"),
                None,
                &[domain("app.example.com", "active", "SUCCESS")],
            ),
            scaling: Some(ScalingBounds {
                min: 1,
                max: 10,
                unit: "instances",
                max_concurrency: Some(100),
                metric: None,
                source: "deployed",
            }),
            error: None,
        };
        assert_eq!(
            service_status_lines(&[s]),
            vec![
                "service web (apprunner): scaling 1-10 instances, 100 concurrent requests per instance",
                "  domain app.example.com active, certificate success",
            ]
        );
    }
}
