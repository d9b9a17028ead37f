//! `apprun approve`: the pipeline's pending manual approval (GetPipelineState
//! gives its token), what it would release (GetPipelineExecution: the source
//! revision, hence the image tag), and the answer (PutApprovalResult).

use apprun_blueprint::EnvBlueprint;
use serde::Serialize;

use crate::api::codepipeline::{self as cp, GetPipelineStateOutput};
use crate::api::time::rfc3339;
use crate::error::DeployError;
use crate::ops::OpsClients;
use crate::pipeline_runs::{first_line, image_tag, pipeline_name, pipeline_state};

/// A manual approval waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingApproval {
    pub pipeline: String,
    pub stage: String,
    pub action: String,
    /// The run waiting at the approval.
    pub execution_id: Option<String>,
    /// Since when it waits.
    pub since: Option<String>,
    /// The token PutApprovalResult needs (not shown to people).
    #[serde(skip)]
    pub token: String,
}

/// What the pending approval would release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApprovalSummary {
    pub commit: Option<String>,
    pub message: Option<String>,
    pub image_tag: Option<String>,
    /// Where the commit is (CodeCommit or the connection's provider).
    pub revision_url: Option<String>,
}

/// The approval action that runs and holds a token, first in stage order.
pub(crate) fn find_pending(
    state: &GetPipelineStateOutput,
    pipeline: &str,
) -> Option<PendingApproval> {
    state.stage_states.iter().find_map(|stage| {
        stage.action_states.iter().find_map(|action| {
            let run = action.latest_execution.as_ref()?;
            if run.status.as_deref() != Some("InProgress") {
                return None;
            }
            let token = run.token.as_deref()?;
            Some(PendingApproval {
                pipeline: pipeline.to_owned(),
                stage: stage.stage_name.clone().unwrap_or_default(),
                action: action.action_name.clone().unwrap_or_default(),
                execution_id: stage
                    .latest_execution
                    .as_ref()
                    .map(|e| e.pipeline_execution_id.clone()),
                since: run.last_status_change.map(rfc3339),
                token: token.to_owned(),
            })
        })
    })
}

/// The last state of the pipeline's approval action, for the message when
/// none is pending (`last answered Approved at …`).
fn last_approval_state(state: &GetPipelineStateOutput) -> Option<String> {
    state
        .stage_states
        .iter()
        .flat_map(|s| &s.action_states)
        .filter(|a| a.action_name.as_deref() == Some("Approval"))
        .find_map(|a| {
            let run = a.latest_execution.as_ref()?;
            let status = run.status.as_deref()?;
            Some(match run.last_status_change {
                Some(t) => format!("its approval last ended {status} at {}", rfc3339(t)),
                None => format!("its approval last ended {status}"),
            })
        })
}

/// The env's pending approval and what it would release. No pipeline, or
/// nothing pending, is an error that says so.
pub async fn pending_approval(
    ops: &OpsClients,
    bp: &EnvBlueprint,
) -> Result<(PendingApproval, ApprovalSummary), DeployError> {
    let pipeline = pipeline_name(bp).ok_or_else(|| DeployError::NoPipeline {
        pipeline: format!("of env `{}`", bp.env),
        env: bp.env.clone(),
    })?;
    let state = pipeline_state(ops, &pipeline, &bp.env).await?;
    let Some(pending) = find_pending(&state, &pipeline) else {
        return Err(DeployError::NoPendingApproval {
            pipeline,
            env: bp.env.clone(),
            last: last_approval_state(&state),
        });
    };
    let summary = match &pending.execution_id {
        Some(id) => summary_of(ops, &pipeline, id).await?,
        None => ApprovalSummary::default(),
    };
    Ok((pending, summary))
}

/// The run's source revision: commit, subject line, and the tag its build
/// pushed.
async fn summary_of(
    ops: &OpsClients,
    pipeline: &str,
    execution: &str,
) -> Result<ApprovalSummary, DeployError> {
    let request = cp::GetPipelineExecution {
        pipeline_name: pipeline.to_owned(),
        pipeline_execution_id: execution.to_owned(),
    };
    let out = ops
        .api
        .call(&request)
        .await
        .map_err(|e| e.into_deploy("GetPipelineExecution", None))?;
    let Some(revision) = out
        .pipeline_execution
        .and_then(|e| e.artifact_revisions.into_iter().next())
    else {
        return Ok(ApprovalSummary::default());
    };
    Ok(ApprovalSummary {
        image_tag: revision.revision_id.as_deref().map(image_tag),
        message: revision.revision_summary.as_deref().map(first_line),
        commit: revision.revision_id,
        revision_url: revision.revision_url,
    })
}

/// Approves or rejects. A token that is no longer valid (answered
/// meanwhile, or expired) is [`DeployError::ApprovalExpired`].
pub async fn answer_approval(
    ops: &OpsClients,
    pending: &PendingApproval,
    env: &str,
    approve: bool,
    comment: &str,
) -> Result<(), DeployError> {
    let request = cp::PutApprovalResult {
        pipeline_name: pending.pipeline.clone(),
        stage_name: pending.stage.clone(),
        action_name: pending.action.clone(),
        result: cp::ApprovalResult {
            summary: comment.to_owned(),
            status: if approve { "Approved" } else { "Rejected" }.to_owned(),
        },
        token: pending.token.clone(),
    };
    match ops.api.call(&request).await {
        Ok(_) => Ok(()),
        Err(e) => match e.code() {
            Some(
                code @ ("InvalidApprovalTokenException" | "ApprovalAlreadyCompletedException"),
            ) => Err(DeployError::ApprovalExpired {
                pipeline: pending.pipeline.clone(),
                stage: pending.stage.clone(),
                env: env.to_owned(),
                code: code.to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
            }),
            _ => Err(e.into_deploy("PutApprovalResult", None)),
        },
    }
}
