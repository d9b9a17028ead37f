//! AWS CodePipeline (awsJson1_1): the operations apprun calls, with the
//! fields it sends and reads. Times are seconds since the epoch.

use serde::{Deserialize, Serialize};

use super::{JsonOperation, Service, services};

/// `GetPipelineState`.
#[derive(Debug, Clone, Serialize)]
pub struct GetPipelineState {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineStateOutput {
    #[serde(default)]
    pub stage_states: Vec<StageState>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageState {
    #[serde(default)]
    pub stage_name: Option<String>,
    #[serde(default)]
    pub latest_execution: Option<StageExecution>,
    #[serde(default)]
    pub action_states: Vec<ActionState>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageExecution {
    #[serde(default)]
    pub pipeline_execution_id: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionState {
    #[serde(default)]
    pub action_name: Option<String>,
    #[serde(default)]
    pub latest_execution: Option<ActionExecution>,
}

/// An action's latest execution; `status` is `InProgress`, `Abandoned`,
/// `Succeeded` or `Failed`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionExecution {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub last_status_change: Option<f64>,
    /// The approval's token, while it waits.
    #[serde(default)]
    pub token: Option<String>,
    /// The build's id for a CodeBuild action (`project:uuid`).
    #[serde(default)]
    pub external_execution_id: Option<String>,
}

impl JsonOperation for GetPipelineState {
    const SERVICE: Service = services::CODE_PIPELINE;
    const NAME: &'static str = "GetPipelineState";
    type Output = GetPipelineStateOutput;
}

/// `ListPipelineExecutions`, newest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPipelineExecutions {
    pub pipeline_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPipelineExecutionsOutput {
    #[serde(default)]
    pub pipeline_execution_summaries: Vec<PipelineExecutionSummary>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineExecutionSummary {
    #[serde(default)]
    pub pipeline_execution_id: Option<String>,
    /// `Cancelled`, `InProgress`, `Stopped`, `Stopping`, `Succeeded`,
    /// `Superseded` or `Failed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_time: Option<f64>,
    #[serde(default)]
    pub last_update_time: Option<f64>,
    #[serde(default)]
    pub source_revisions: Vec<SourceRevision>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRevision {
    #[serde(default)]
    pub revision_id: Option<String>,
    #[serde(default)]
    pub revision_summary: Option<String>,
}

impl JsonOperation for ListPipelineExecutions {
    const SERVICE: Service = services::CODE_PIPELINE;
    const NAME: &'static str = "ListPipelineExecutions";
    type Output = ListPipelineExecutionsOutput;
}

/// `ListActionExecutions` of one run (one page).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActionExecutions {
    pub pipeline_name: String,
    pub filter: ActionExecutionFilter,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionExecutionFilter {
    pub pipeline_execution_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActionExecutionsOutput {
    #[serde(default)]
    pub action_execution_details: Vec<ActionExecutionDetail>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionExecutionDetail {
    #[serde(default)]
    pub stage_name: Option<String>,
    #[serde(default)]
    pub action_name: Option<String>,
    /// `InProgress`, `Abandoned`, `Succeeded` or `Failed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_time: Option<f64>,
    #[serde(default)]
    pub last_update_time: Option<f64>,
}

impl JsonOperation for ListActionExecutions {
    const SERVICE: Service = services::CODE_PIPELINE;
    const NAME: &'static str = "ListActionExecutions";
    type Output = ListActionExecutionsOutput;
}

/// `GetPipelineExecution`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineExecution {
    pub pipeline_name: String,
    pub pipeline_execution_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPipelineExecutionOutput {
    #[serde(default)]
    pub pipeline_execution: Option<PipelineExecution>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineExecution {
    #[serde(default)]
    pub artifact_revisions: Vec<ArtifactRevision>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactRevision {
    #[serde(default)]
    pub revision_id: Option<String>,
    #[serde(default)]
    pub revision_summary: Option<String>,
    #[serde(default)]
    pub revision_url: Option<String>,
}

impl JsonOperation for GetPipelineExecution {
    const SERVICE: Service = services::CODE_PIPELINE;
    const NAME: &'static str = "GetPipelineExecution";
    type Output = GetPipelineExecutionOutput;
}

/// `PutApprovalResult`: approves or rejects a waiting approval.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutApprovalResult {
    pub pipeline_name: String,
    pub stage_name: String,
    pub action_name: String,
    pub result: ApprovalResult,
    pub token: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalResult {
    pub summary: String,
    /// `Approved` or `Rejected`.
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutApprovalResultOutput {
    #[serde(default)]
    pub approved_at: Option<f64>,
}

impl JsonOperation for PutApprovalResult {
    const SERVICE: Service = services::CODE_PIPELINE;
    const NAME: &'static str = "PutApprovalResult";
    type Output = PutApprovalResultOutput;
}
