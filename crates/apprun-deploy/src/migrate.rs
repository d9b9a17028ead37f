//! Moving a service between App Runner and ECS Express Mode: the new
//! backend's stack is stood up beside the old one from the same image tag
//! and verified; the old one is removed only when asked.

use std::sync::Arc;
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, StackKind};
use serde::Serialize;
use tokio::sync::watch;

use crate::clients::Clients;
use crate::destroy::delete_one;
use crate::engine::{DeployOptions, deploy};
use crate::error::DeployError;
use crate::events::{Event, Observer};
use crate::release::{service_endpoint, verify_service};
use crate::stack::{StackState, classify, describe};

#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// Deploy options of the env (account, bucket); `only`/`image_tag` are set here.
    pub deploy: DeployOptions,
    pub service: String,
    /// The service stack on the current backend.
    pub old_stack: String,
    pub health_path: String,
    pub timeout: Duration,
    pub remove_old: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct MigrateReport {
    pub image_tag: String,
    pub old_stack: String,
    pub old_url: Option<String>,
    pub new_stack: String,
    pub new_url: Option<String>,
    pub removed_old: bool,
}

/// `target` is the blueprint of the config with the service switched to the
/// new backend.
pub async fn migrate(
    clients: &Clients,
    target: &EnvBlueprint,
    opts: &MigrateOptions,
    observer: Arc<dyn Observer>,
    interrupt: watch::Receiver<bool>,
) -> (MigrateReport, Result<(), DeployError>) {
    let mut report = MigrateReport {
        old_stack: opts.old_stack.clone(),
        ..Default::default()
    };
    let result = async {
        let old =
            describe(clients, &opts.old_stack)
                .await?
                .ok_or_else(|| DeployError::Blocked {
                    stack: opts.old_stack.clone(),
                    status: "NOT_DEPLOYED".into(),
                    advice: "there is nothing to migrate from; deploy the service first".into(),
                })?;
        if classify(&old.status) != StackState::Stable {
            return Err(DeployError::Blocked {
                stack: opts.old_stack.clone(),
                status: old.status.clone(),
                advice: "migrate starts from a settled service stack; wait or fix it first".into(),
            });
        }
        let tag = old
            .parameters
            .get("ImageTag")
            .cloned()
            .ok_or_else(|| DeployError::Blocked {
                stack: opts.old_stack.clone(),
                status: old.status.clone(),
                advice: "the stack has no ImageTag parameter; it was not deployed by apprun".into(),
            })?;
        report.image_tag = tag.clone();
        report.old_url = old.outputs.get("ServiceUrl").cloned();
        let new_stack = target
            .stack(&StackKind::Service(opts.service.clone()))
            .map(|s| s.name.clone())
            .ok_or_else(|| DeployError::Blocked {
                stack: opts.service.clone(),
                status: "unknown service".into(),
                advice: "name a service of apprun.toml".into(),
            })?;
        report.new_stack = new_stack.clone();
        let iam = target
            .stack(&StackKind::Iam)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        observer.event(Event::Note(format!(
            "standing up {new_stack} beside {} at image {tag}",
            opts.old_stack
        )));
        let deploy_opts = DeployOptions {
            only: vec![iam, new_stack.clone()],
            image_tag: Some(tag.clone()),
            yes: true,
            ..opts.deploy.clone()
        };
        if let Some(e) = deploy(
            clients,
            target,
            &deploy_opts,
            observer.clone(),
            interrupt.clone(),
        )
        .await
        .error
        {
            return Err(e);
        }
        let (arn, url) = service_endpoint(clients, &new_stack).await?;
        let (arn, url) = (&arn, &url);
        report.new_url = Some(url.clone());
        verify_service(clients, arn, url, &opts.health_path, opts.timeout)
            .await
            .map_err(|reason| DeployError::MigrateFailed {
                reason: format!(
                    "{new_stack} is not healthy, so {} stays as it is: {reason}",
                    opts.old_stack
                ),
            })?;
        if opts.remove_old {
            // The old service stack holds no bucket to empty.
            delete_one(clients, &opts.old_stack, None, &observer, &interrupt).await?;
            report.removed_old = true;
        }
        Ok(())
    }
    .await;
    (report, result)
}
