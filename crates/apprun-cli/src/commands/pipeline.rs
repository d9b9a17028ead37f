//! What `logs`, `approve` and the pipeline part of `status` share: the
//! operator's CloudWatch Logs and CodePipeline clients, and how their
//! errors become failures of the exit-code table.

use apprun_deploy::{AwsOptions, DeployError, OpsClients, OpsError, Tuning};
use serde_json::{Value, json};

use crate::cli::AwsArgs;
use crate::diagnostics::Failure;
use crate::shared::Session;

/// CloudWatch Logs and CodePipeline clients for the session's region, with
/// the same credentials, profile and endpoint as its other clients.
pub(crate) async fn ops_clients(s: &Session, aws: &AwsArgs) -> OpsClients {
    let options = AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region_or(&s.config.system.region),
        endpoint_url: aws.endpoint_url.clone(),
    };
    OpsClients::load(&options, Tuning::from_env()).await
}

/// The kind of each day-two failure: a name the command line got wrong is
/// usage (2); nothing to act on (no approval pending, nothing deployed
/// yet) is a refusal (4), as for the deploy commands; AWS errors, an
/// approval answered meanwhile or expired, fail (1).
pub(crate) fn ops_failure(e: OpsError) -> Failure {
    match e {
        OpsError::UnknownService { .. } => Failure::Usage(e.to_string()),
        OpsError::NoPendingApproval { .. }
        | OpsError::NotDeployed { .. }
        | OpsError::NoPipeline { .. }
        | OpsError::NoBuild { .. } => Failure::Refused(e.to_string()),
        OpsError::ApprovalExpired { .. } => Failure::deploy(DeployError::Aws {
            operation: "PutApprovalResult",
            stack: None,
            message: e.to_string(),
        }),
        OpsError::Aws { operation, message } => Failure::deploy(DeployError::Aws {
            operation,
            stack: None,
            message,
        }),
    }
}

/// The pipeline part of `apprun status`, as JSON (the document's
/// `pipeline` key) and as text (after the stacks' table).
pub(crate) struct PipelineSection {
    /// `null` when the env has no pipeline stack; `{"error": …}` when its
    /// runs could not be read.
    pub json: Value,
    pub text: String,
}

/// The env's pipeline, its last runs and the pending approval. Reading them
/// never fails `status`: the stacks' state is worth showing alone (an
/// operator may lack the CodePipeline permissions), so an error becomes
/// part of the section.
// Called by `status` in commands/aws.rs once it is wired there; until then
// nothing calls it.
pub(crate) async fn status_section(s: &Session, env: &str, aws: &AwsArgs) -> PipelineSection {
    let ops = ops_clients(s, aws).await;
    match apprun_deploy::pipeline_status(&ops, &s.bp).await {
        Ok(None) => PipelineSection {
            json: Value::Null,
            text: String::new(),
        },
        Ok(Some(p)) => PipelineSection {
            json: serde_json::to_value(&p).unwrap_or(Value::Null),
            text: format!("\n{}", crate::views::pipeline_text(env, &p)),
        },
        Err(e) => PipelineSection {
            text: format!("\npipeline: its runs could not be read: {e}\n"),
            json: json!({ "error": e.to_string() }),
        },
    }
}
