//! Moving a service between App Runner and ECS Express Mode: the new
//! backend's stack is stood up beside the old one from the same image tag
//! and verified; the old one is removed only when asked.

use std::sync::Arc;
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, StackKind, outputs};
use serde::Serialize;
use tokio::sync::watch;

use crate::clients::Clients;
use crate::destroy::delete_one;
use crate::engine::{DeployOptions, deploy};
use crate::error::DeployError;
use crate::events::{Event, Observer};
use crate::release::{service_endpoint, service_stack, verify_service};
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
        let (tag, old_url) = settled_old_stack(clients, &opts.old_stack).await?;
        report.image_tag = tag.clone();
        report.old_url = old_url;
        let (new_stack, backend) = service_stack(target, &opts.service)?;
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
        verify_service(clients, backend, arn, url, &opts.health_path, opts.timeout)
            .await
            .map_err(|reason| DeployError::MigrateFailed {
                reason: format!(
                    "{new_stack} is not healthy, so {} stays as it is: {reason}",
                    opts.old_stack
                ),
            })?;
        if opts.remove_old {
            // The old service stack holds no bucket to empty.
            let resume = format!(
                "aws cloudformation delete-stack --stack-name {}",
                opts.old_stack
            );
            delete_one(
                clients,
                &opts.old_stack,
                None,
                &resume,
                &observer,
                &interrupt,
            )
            .await?;
            report.removed_old = true;
        }
        Ok(())
    }
    .await;
    (report, result)
}

/// The image tag and URL of the service stack a migration starts from,
/// which must exist and be settled.
async fn settled_old_stack(
    clients: &Clients,
    old_stack: &str,
) -> Result<(String, Option<String>), DeployError> {
    let old = describe(clients, old_stack)
        .await?
        .ok_or_else(|| DeployError::NotDeployed {
            stack: old_stack.to_owned(),
            advice: "there is nothing to migrate from; deploy the service first".into(),
        })?;
    if classify(&old.status) != StackState::Stable {
        return Err(DeployError::Blocked {
            stack: old_stack.to_owned(),
            status: old.status.as_str().to_owned(),
            advice: "migrate starts from a settled service stack; wait or fix it first".into(),
        });
    }
    let tag = old
        .parameters
        .get(outputs::IMAGE_TAG)
        .cloned()
        .ok_or_else(|| DeployError::NotApprunStack {
            stack: old_stack.to_owned(),
            missing: "ImageTag parameter".into(),
        })?;
    Ok((tag, old.outputs.get(outputs::SERVICE_URL).cloned()))
}
