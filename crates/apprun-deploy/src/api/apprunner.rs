//! AWS App Runner (awsJson1_0, PascalCase members): the operations apprun
//! calls, with the fields it sends and reads.

use serde::{Deserialize, Serialize};

use super::{JsonOperation, Service, services};

/// `ListOperations` of a service, newest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOperations {
    pub service_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOperationsOutput {
    #[serde(default)]
    pub operation_summary_list: Vec<OperationSummary>,
}

/// One operation: `Type` (`CREATE_SERVICE`, `UPDATE_SERVICE`,
/// `START_DEPLOYMENT`, …) and `Status` (`PENDING`, `IN_PROGRESS`,
/// `SUCCEEDED`, `FAILED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCEEDED`,
/// `ROLLBACK_FAILED`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationSummary {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub r#type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

impl JsonOperation for ListOperations {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "ListOperations";
    type Output = ListOperationsOutput;
}
