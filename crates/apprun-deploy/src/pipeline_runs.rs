//! The pipeline part of `apprun status`: an env's last pipeline runs, each
//! with its commit, the image tag its build pushed, and each stage's state
//! and time (CodePipeline GetPipelineState for the stages' order and the
//! pending approval, ListPipelineExecutions for the runs,
//! ListActionExecutions for each run's stages).

use apprun_blueprint::{EnvBlueprint, StackKind};
use serde::Serialize;

use crate::api::codepipeline::{self as cp, GetPipelineStateOutput};
use crate::api::time::rfc3339;
use crate::approval::{PendingApproval, find_pending};
use crate::error::DeployError;
use crate::ops::OpsClients;

/// How many runs `status` shows per env.
pub const RUNS_SHOWN: i32 = 5;

/// The pipeline's name, from the env's synthesized pipeline stack.
pub fn pipeline_name(bp: &EnvBlueprint) -> Option<String> {
    let stack = bp.stack(&StackKind::Pipeline)?;
    stack
        .template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::CodePipeline::Pipeline")
        .find_map(|r| r.properties.get("Name").and_then(|v| v.as_str()))
        .map(str::to_owned)
}

/// GetPipelineState; a pipeline that does not exist is [`DeployError::NoPipeline`].
pub(crate) async fn pipeline_state(
    ops: &OpsClients,
    pipeline: &str,
    env: &str,
) -> Result<GetPipelineStateOutput, DeployError> {
    let request = cp::GetPipelineState {
        name: pipeline.to_owned(),
    };
    ops.api.call(&request).await.map_err(|e| {
        if e.code() == Some("PipelineNotFoundException") {
            DeployError::NoPipeline {
                pipeline: pipeline.to_owned(),
                env: env.to_owned(),
            }
        } else {
            e.into_deploy("GetPipelineState", None)
        }
    })
}

/// An env's pipeline and its last runs, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineStatus {
    pub pipeline: String,
    /// Whether the pipeline exists (its stack is deployed).
    pub exists: bool,
    pub runs: Vec<PipelineRun>,
    /// The manual approval waiting for `apprun approve`, if any.
    pub pending_approval: Option<PendingApproval>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PipelineRun {
    pub execution_id: String,
    /// CodePipeline's status: InProgress, Succeeded, Failed, Stopped, …
    pub status: String,
    pub started: Option<String>,
    pub updated: Option<String>,
    /// The source revision (commit id) and its message.
    pub commit: Option<String>,
    pub message: Option<String>,
    /// The tag the build pushed: the commit's first 7 characters.
    pub image_tag: Option<String>,
    pub stages: Vec<StageRun>,
}

/// One stage of a run; `status` is `None` when the run never reached it.
#[derive(Debug, Clone, Serialize)]
pub struct StageRun {
    pub name: String,
    pub status: Option<String>,
    pub started: Option<String>,
    pub updated: Option<String>,
    pub seconds: Option<f64>,
}

/// The env's pipeline, its last [`RUNS_SHOWN`] runs and the pending
/// approval; `None` when the env has no pipeline stack.
pub async fn pipeline_status(
    ops: &OpsClients,
    bp: &EnvBlueprint,
) -> Result<Option<PipelineStatus>, DeployError> {
    let Some(pipeline) = pipeline_name(bp) else {
        return Ok(None);
    };
    let state = match pipeline_state(ops, &pipeline, &bp.env).await {
        Ok(state) => state,
        Err(DeployError::NoPipeline { .. }) => {
            return Ok(Some(PipelineStatus {
                pipeline,
                exists: false,
                runs: Vec::new(),
                pending_approval: None,
            }));
        }
        Err(e) => return Err(e),
    };
    let stage_order: Vec<String> = state
        .stage_states
        .iter()
        .filter_map(|s| s.stage_name.clone())
        .collect();
    let request = cp::ListPipelineExecutions {
        pipeline_name: pipeline.clone(),
        max_results: Some(RUNS_SHOWN),
    };
    let summaries = ops
        .api
        .call(&request)
        .await
        .map_err(|e| e.into_deploy("ListPipelineExecutions", None))?;
    let mut runs = Vec::new();
    for s in &summaries.pipeline_execution_summaries {
        let Some(id) = s.pipeline_execution_id.as_deref() else {
            continue;
        };
        let (commit, message) = s
            .source_revisions
            .first()
            .map(|r| {
                (
                    r.revision_id.clone(),
                    r.revision_summary.as_deref().map(first_line),
                )
            })
            .unwrap_or_default();
        runs.push(PipelineRun {
            execution_id: id.to_owned(),
            status: s.status.clone().unwrap_or_default(),
            started: s.start_time.map(rfc3339),
            updated: s.last_update_time.map(rfc3339),
            image_tag: commit.as_deref().map(image_tag),
            commit,
            message,
            stages: stages_of(ops, &pipeline, id, &stage_order).await?,
        });
    }
    Ok(Some(PipelineStatus {
        pending_approval: find_pending(&state, &pipeline),
        pipeline,
        exists: true,
        runs,
    }))
}

/// The tag the pipeline's build gives an image: the commit's first 7
/// characters (what `apprun release` uses too).
pub fn image_tag(commit: &str) -> String {
    commit.chars().take(7).collect()
}

/// A commit message's subject line.
pub(crate) fn first_line(text: &str) -> String {
    // CodeCommit's revision summary is JSON for some sources
    // (`{"ProviderType":"GitHub","CommitMessage":"…"}`); plain text otherwise.
    let text = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("CommitMessage")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned());
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Each stage of one run, in the pipeline's order, from its actions'
/// executions (every page of ListActionExecutions).
async fn stages_of(
    ops: &OpsClients,
    pipeline: &str,
    execution: &str,
    order: &[String],
) -> Result<Vec<StageRun>, DeployError> {
    let mut details = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = cp::ListActionExecutions {
            pipeline_name: pipeline.to_owned(),
            filter: cp::ActionExecutionFilter {
                pipeline_execution_id: execution.to_owned(),
            },
            next_token: token.take(),
        };
        let page = ops
            .api
            .call(&request)
            .await
            .map_err(|e| e.into_deploy("ListActionExecutions", None))?;
        details.extend(page.action_execution_details);
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    Ok(order
        .iter()
        .map(|stage| {
            let actions: Vec<_> = details
                .iter()
                .filter(|d| d.stage_name.as_deref() == Some(stage.as_str()))
                .collect();
            let started = actions
                .iter()
                .filter_map(|a| a.start_time)
                .min_by(f64::total_cmp);
            let updated = actions
                .iter()
                .filter_map(|a| a.last_update_time)
                .max_by(f64::total_cmp);
            StageRun {
                name: stage.clone(),
                status: stage_status(actions.iter().filter_map(|a| a.status.as_deref())),
                started: started.map(rfc3339),
                updated: updated.map(rfc3339),
                seconds: match (started, updated) {
                    (Some(s), Some(u)) => Some(u - s),
                    _ => None,
                },
            }
        })
        .collect())
}

/// A stage's state from its actions': failed if one failed, running while
/// one runs, abandoned if one was, succeeded when all did.
fn stage_status<'a>(statuses: impl Iterator<Item = &'a str>) -> Option<String> {
    let rank = |s: &str| match s {
        "Failed" => 0,
        "InProgress" => 1,
        "Abandoned" => 2,
        "Succeeded" => 3,
        _ => 4,
    };
    statuses.min_by_key(|s| rank(s)).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tag_is_the_short_commit() {
        assert_eq!(image_tag("3f2a1bc9d8e7f6a5"), "3f2a1bc");
        assert_eq!(image_tag("abc"), "abc");
    }

    #[test]
    fn commit_message_subject_from_text_or_json() {
        assert_eq!(first_line("Fix the footer\n\nlong body"), "Fix the footer");
        assert_eq!(
            first_line(r#"{"ProviderType":"GitHub","CommitMessage":"Add search\nbody"}"#),
            "Add search"
        );
    }

    #[test]
    fn a_stage_fails_when_one_action_failed() {
        assert_eq!(
            stage_status(["Succeeded", "Failed"].into_iter()).as_deref(),
            Some("Failed")
        );
        assert_eq!(
            stage_status(["Succeeded", "InProgress"].into_iter()).as_deref(),
            Some("InProgress")
        );
        assert_eq!(
            stage_status(["Succeeded", "Succeeded"].into_iter()).as_deref(),
            Some("Succeeded")
        );
        assert_eq!(stage_status([].into_iter()), None);
    }
}
