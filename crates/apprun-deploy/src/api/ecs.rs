//! Amazon ECS (awsJson1_1): the operations apprun calls, with the fields it
//! sends and reads (names as in the ECS API reference).

use serde::{Deserialize, Serialize};

use super::{JsonOperation, Service, services};

/// `DescribeExpressGatewayService`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExpressGatewayService {
    pub service_arn: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExpressGatewayServiceOutput {
    #[serde(default)]
    pub service: Option<ExpressGatewayService>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressGatewayService {
    #[serde(default)]
    pub service_arn: Option<String>,
    #[serde(default)]
    pub status: Option<ExpressGatewayServiceStatus>,
    /// The ARN of the service deployment in progress or last completed.
    #[serde(default)]
    pub current_deployment: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressGatewayServiceStatus {
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    #[serde(default)]
    pub status_code: Option<String>,
    #[serde(default)]
    pub status_reason: Option<String>,
}

impl JsonOperation for DescribeExpressGatewayService {
    const SERVICE: Service = services::ECS;
    const NAME: &'static str = "DescribeExpressGatewayService";
    type Output = DescribeExpressGatewayServiceOutput;
}

/// `DescribeServiceDeployments`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeServiceDeployments {
    pub service_deployment_arns: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeServiceDeploymentsOutput {
    #[serde(default)]
    pub service_deployments: Vec<ServiceDeployment>,
}

/// One deployment; `status` is `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`,
/// `STOPPED`, `STOP_REQUESTED`, `ROLLBACK_REQUESTED`,
/// `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL` or `ROLLBACK_FAILED`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeployment {
    #[serde(default)]
    pub service_deployment_arn: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

impl JsonOperation for DescribeServiceDeployments {
    const SERVICE: Service = services::ECS;
    const NAME: &'static str = "DescribeServiceDeployments";
    type Output = DescribeServiceDeploymentsOutput;
}
