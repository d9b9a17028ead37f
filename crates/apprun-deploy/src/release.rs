//! Releasing an image: deploy the service stack at the new tag, then verify
//! what CloudFormation cannot tell: the backend's own record of the
//! deployment (App Runner's latest operation, the ECS Express deployment; a
//! stack update can succeed while App Runner rolled the deployment back,
//! apprunner-roadmap #209) and the health path at the service URL. On
//! failure the previous tag is deployed again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apprun_blueprint::outputs::{IMAGE_TAG, SERVICE_ARN, SERVICE_URL};
use apprun_blueprint::{EnvBlueprint, Stack, StackKind};
use apprun_config::Compute;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde::Serialize;
use tokio::sync::watch;

use crate::api::{ApiError, apprunner, ecr, ecs};
use crate::clients::Clients;
use crate::engine::{DeployOptions, DeployReport, deploy, describe_all};
use crate::error::DeployError;
use crate::events::{Event, Observer};
use crate::stack::{describe, needs_create};

/// What `apprun release` deploys and checks.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    pub deploy: DeployOptions,
    pub service: String,
    pub health_path: String,
    /// How long the backend's deployment and the health path may take.
    pub timeout: Duration,
}

#[derive(Debug, Default, Serialize)]
pub struct ReleaseReport {
    pub tag: String,
    pub previous_tag: Option<String>,
    pub service_url: Option<String>,
    pub operation: Option<String>,
    pub health: Option<u16>,
    pub rolled_back: bool,
    pub deploys: Vec<String>,
}

/// Logs in to the account's ECR registry: (registry host, `AWS:password`).
pub async fn ecr_login(clients: &Clients) -> Result<(String, String), DeployError> {
    let out = clients
        .api
        .call(&ecr::GetAuthorizationToken {})
        .await
        .map_err(|e| e.into_deploy("GetAuthorizationToken", None))?;
    let data = out
        .authorization_data
        .first()
        .ok_or_else(|| DeployError::Aws {
            operation: "GetAuthorizationToken",
            stack: None,
            message: "no authorization data returned".into(),
        })?;
    let token = data.authorization_token.as_deref().unwrap_or_default();
    let decoded = aws_smithy_types::base64::decode(token).map_err(|e| DeployError::Aws {
        operation: "GetAuthorizationToken",
        stack: None,
        message: format!("token is not base64: {e}"),
    })?;
    let creds = String::from_utf8(decoded).unwrap_or_default();
    let registry = data
        .proxy_endpoint
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_owned();
    Ok((registry, creds))
}

/// The outcome of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ok(u16),
    Bad(String),
}

/// A plain HTTP(S) client for requests outside the AWS SDK (health paths,
/// registry lookups): the same rustls stack, the system's roots, HTTP/1.
pub(crate) type PlainClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

/// Builds a [`PlainClient`]; fails only when the system has no TLS roots.
pub(crate) fn plain_client() -> Result<PlainClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// GETs `url` until it answers 200 or `timeout` passes.
pub async fn health_check(url: &str, timeout: Duration, poll: Duration) -> Health {
    let client = match plain_client() {
        Ok(c) => c,
        Err(e) => return Health::Bad(e),
    };
    let Ok(uri) = url.parse::<hyper::Uri>() else {
        return Health::Bad(format!("`{url}` is not a URL"));
    };
    let started = Instant::now();
    loop {
        let attempt = tokio::time::timeout(Duration::from_secs(10), client.get(uri.clone())).await;
        let last = match attempt {
            Ok(Ok(res)) => {
                let status = res.status().as_u16();
                let _ = res.into_body().collect().await;
                if status == 200 {
                    return Health::Ok(status);
                }
                format!("HTTP {status}")
            }
            Ok(Err(e)) => crate::error::error_message(&e),
            Err(_) => "timed out after 10 s".to_owned(),
        };
        if started.elapsed() >= timeout {
            return Health::Bad(format!("{url} answered {last}"));
        }
        tokio::time::sleep(poll).await;
    }
}

/// A failed call as verification reports it: the operation and the
/// service's own message.
fn failed_call(operation: &'static str) -> impl FnOnce(ApiError) -> String {
    move |e| format!("{operation}: {e}")
}

/// What verification waits for on each backend, as the progress note says it.
pub(crate) fn deployment_check(backend: Compute) -> &'static str {
    match backend {
        Compute::AppRunner => "App Runner's latest operation",
        Compute::EcsExpress => "the ECS Express deployment",
    }
}

/// Waits for the backend's own record of the deployment: App Runner
/// reports operations, ECS Express service deployments; either can fail and
/// roll back behind a stack update that succeeded.
async fn wait_for_deployment(
    clients: &Clients,
    backend: Compute,
    service_arn: &str,
    timeout: Duration,
) -> Result<String, String> {
    let poll = clients.tuning.poll;
    match backend {
        Compute::AppRunner => {
            poll_until(timeout, poll, || {
                apprunner_look(clients, service_arn, timeout)
            })
            .await
        }
        Compute::EcsExpress => {
            poll_until(timeout, poll, || ecs_look(clients, service_arn, timeout)).await
        }
    }
}

/// One look at a backend's deployment.
enum Look {
    /// It ended well: the status to report.
    Done(String),
    /// It ended badly: why.
    Failed(String),
    /// It goes on: what to say if the time runs out now.
    Going(String),
}

/// Looks at a deployment (`look`) every `poll` until it ends or `timeout`
/// has passed.
async fn poll_until<F, Fut>(
    timeout: Duration,
    poll: Duration,
    mut look: F,
) -> Result<String, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Look, String>>,
{
    let started = Instant::now();
    loop {
        match look().await? {
            Look::Done(status) => return Ok(status),
            Look::Failed(why) => return Err(why),
            Look::Going(late) => {
                if started.elapsed() >= timeout {
                    return Err(late);
                }
                tokio::time::sleep(poll).await;
            }
        }
    }
}

/// App Runner's latest operation on the service.
async fn apprunner_look(
    clients: &Clients,
    service_arn: &str,
    timeout: Duration,
) -> Result<Look, String> {
    let request = apprunner::ListOperations {
        service_arn: service_arn.to_owned(),
        max_results: Some(1),
    };
    let out = clients
        .api
        .call(&request)
        .await
        .map_err(failed_call("ListOperations"))?;
    // App Runner lists operations newest first.
    let Some(op) = out.operation_summary_list.first() else {
        return Ok(Look::Done("NONE".to_owned()));
    };
    let status = op.status.as_deref();
    Ok(match status {
        Some("SUCCEEDED") => Look::Done("SUCCEEDED".to_owned()),
        Some(s @ ("FAILED" | "ROLLBACK_SUCCEEDED" | "ROLLBACK_FAILED")) => Look::Failed(format!(
            "App Runner's {} operation ended {s} although CloudFormation reported success",
            op.r#type.as_deref().unwrap_or("latest")
        )),
        _ => Look::Going(format!(
            "App Runner's latest operation is still {:?} after {:?}",
            status, timeout
        )),
    })
}

/// Waits for the backend's deployment of the service, then checks the
/// health path. Returns (deployment status, health status).
pub async fn verify_service(
    clients: &Clients,
    backend: Compute,
    service_arn: &str,
    url: &str,
    health_path: &str,
    timeout: Duration,
) -> Result<(String, u16), String> {
    let started = Instant::now();
    let status = wait_for_deployment(clients, backend, service_arn, timeout).await?;
    let target = format!("{}{}", url.trim_end_matches('/'), health_path);
    let left = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_secs(1));
    match health_check(&target, left, clients.tuning.poll).await {
        Health::Ok(code) => Ok((status, code)),
        Health::Bad(reason) => Err(format!("the health check failed: {reason}")),
    }
}

/// The ECS Express service's current deployment.
async fn ecs_look(clients: &Clients, service_arn: &str, timeout: Duration) -> Result<Look, String> {
    let Some(deployment) = ecs_current_deployment(clients, service_arn).await? else {
        return Ok(Look::Done("ACTIVE".to_owned()));
    };
    let status = ecs_deployment_status(clients, &deployment).await?;
    Ok(match status.as_deref() {
        Some("SUCCESSFUL") => Look::Done("SUCCESSFUL".to_owned()),
        Some(s @ ("ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED" | "STOPPED")) => Look::Failed(format!(
            "the ECS deployment ended {s} although CloudFormation reported success"
        )),
        other => Look::Going(format!(
            "the ECS deployment is still {other:?} after {timeout:?}"
        )),
    })
}

/// The ECS Express service's current deployment, if one is running; an
/// error when the service is draining or inactive.
async fn ecs_current_deployment(
    clients: &Clients,
    service_arn: &str,
) -> Result<Option<String>, String> {
    let request = ecs::DescribeExpressGatewayService {
        service_arn: service_arn.to_owned(),
    };
    let out = clients
        .api
        .call(&request)
        .await
        .map_err(failed_call("DescribeExpressGatewayService"))?;
    let service = out.service;
    let code = service
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.status_code.as_deref());
    if let Some(code @ ("DRAINING" | "INACTIVE")) = code {
        return Err(format!("the ECS Express service is {code}"));
    }
    Ok(service.and_then(|s| s.current_deployment))
}

/// The status of one ECS service deployment (`SUCCESSFUL`, `IN_PROGRESS`, …).
async fn ecs_deployment_status(
    clients: &Clients,
    deployment: &str,
) -> Result<Option<String>, String> {
    let request = ecs::DescribeServiceDeployments {
        service_deployment_arns: vec![deployment.to_owned()],
    };
    let deployments = clients
        .api
        .call(&request)
        .await
        .map_err(failed_call("DescribeServiceDeployments"))?;
    Ok(deployments
        .service_deployments
        .into_iter()
        .next()
        .and_then(|d| d.status))
}

/// The env's stacks other than the services that are not deployed yet (or
/// whose first create failed), in deploy order: what `apprun release` must
/// stand up before it can push to the env's repository.
pub async fn missing_infrastructure(
    clients: &Clients,
    bp: &EnvBlueprint,
) -> Result<Vec<String>, DeployError> {
    let infrastructure: Vec<&Stack> = bp
        .stacks
        .iter()
        .filter(|s| !matches!(s.kind, StackKind::Service { .. }))
        .collect();
    let deployed = describe_all(clients, &infrastructure).await?;
    Ok(infrastructure
        .iter()
        .filter(|s| needs_create(deployed.get(&s.name).and_then(Option::as_ref)))
        .map(|s| s.name.clone())
        .collect())
}

/// The name of the service's stack and the backend it runs on.
pub(crate) fn service_stack(
    bp: &EnvBlueprint,
    service: &str,
) -> Result<(String, Compute), DeployError> {
    match bp.service_stack(service) {
        Some(Stack {
            name,
            kind: StackKind::Service { backend, .. },
            ..
        }) => Ok((name.clone(), *backend)),
        _ => Err(DeployError::UnknownService {
            service: service.to_owned(),
        }),
    }
}

/// The service stack's `ServiceArn` and `ServiceUrl` outputs.
pub(crate) async fn service_endpoint(
    clients: &Clients,
    stack: &str,
) -> Result<(String, String), DeployError> {
    let outputs = describe(clients, stack)
        .await?
        .map(|d| d.outputs)
        .unwrap_or_default();
    match (outputs.get(SERVICE_ARN), outputs.get(SERVICE_URL)) {
        (Some(arn), Some(url)) => Ok((arn.clone(), url.clone())),
        _ => Err(DeployError::NotApprunStack {
            stack: stack.to_owned(),
            missing: "ServiceArn and ServiceUrl outputs".into(),
        }),
    }
}

/// Deploys only the service stack, at `tag`, without asking.
async fn deploy_tag(
    clients: &Clients,
    bp: &EnvBlueprint,
    base: &DeployOptions,
    stack: &str,
    tag: &str,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), DeployError> {
    let opts = DeployOptions {
        only: vec![stack.to_owned()],
        yes: true,
        image_tag: Some(tag.to_owned()),
        ..base.clone()
    };
    let report: DeployReport =
        deploy(clients, bp, &opts, observer.clone(), interrupt.clone()).await;
    match report.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Deploys the service stack at `opts.deploy.image_tag`, verifies it, and
/// deploys the previous tag again when verification fails.
pub async fn release(
    clients: &Clients,
    bp: &EnvBlueprint,
    opts: &ReleaseOptions,
    observer: Arc<dyn Observer>,
    interrupt: watch::Receiver<bool>,
) -> (ReleaseReport, Result<(), DeployError>) {
    let mut report = ReleaseReport {
        tag: opts.deploy.image_tag.clone().unwrap_or_default(),
        ..Default::default()
    };
    let result = async {
        let (stack, backend) = service_stack(bp, &opts.service)?;
        report.previous_tag = describe(clients, &stack)
            .await?
            .and_then(|d| d.parameters.get(IMAGE_TAG).cloned());
        report.deploys.push(report.tag.clone());
        deploy_tag(
            clients,
            bp,
            &opts.deploy,
            &stack,
            &report.tag,
            &observer,
            &interrupt,
        )
        .await?;

        let (arn, url) = service_endpoint(clients, &stack).await?;
        let (arn, url) = (&arn, &url);
        report.service_url = Some(url.clone());
        observer.event(Event::Note(format!(
            "verifying {} and {url}{}",
            deployment_check(backend),
            opts.health_path
        )));
        match verify_service(clients, backend, arn, url, &opts.health_path, opts.timeout).await {
            Ok((operation, health)) => {
                report.operation = Some(operation);
                report.health = Some(health);
                Ok(())
            }
            Err(reason) => {
                let previous = report.previous_tag.clone().filter(|p| *p != report.tag);
                if let Some(prev) = &previous {
                    observer.event(Event::Note(format!(
                        "verification failed ({reason}); deploying {prev} again"
                    )));
                    report.deploys.push(prev.clone());
                    deploy_tag(
                        clients,
                        bp,
                        &opts.deploy,
                        &stack,
                        prev,
                        &observer,
                        &interrupt,
                    )
                    .await?;
                    report.rolled_back = true;
                }
                Err(DeployError::ReleaseFailed {
                    tag: report.tag.clone(),
                    reason,
                    rolled_back_to: previous,
                })
            }
        }
    }
    .await;
    (report, result)
}
