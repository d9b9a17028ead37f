//! Amazon ECS task operations for jobs: RunTask, DescribeTasks, ListTasks.
//!
//! awsJson1_1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`),
//! camelCase members, timestamps as epoch seconds (JSON numbers with a
//! fraction). Only the members apprun sends or reads are declared; serde
//! ignores the rest of a response.

use serde::{Deserialize, Serialize};

use crate::api::{JsonOperation, Service, services};

/// RunTask: one Fargate task of a job's task definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTaskRequest {
    pub cluster: String,
    pub task_definition: String,
    /// Always `FARGATE` for apprun's jobs.
    pub launch_type: String,
    pub count: u32,
    /// Who started it, kept on the task (at most 128 characters): `apprun`.
    pub started_by: String,
    pub network_configuration: NetworkConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<TaskOverride>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    pub awsvpc_configuration: AwsVpcConfiguration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsVpcConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// `ENABLED` or `DISABLED`.
    pub assign_public_ip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskOverride {
    pub container_overrides: Vec<ContainerOverride>,
}

/// Replaces the container's command (the image's CMD; its ENTRYPOINT stays).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerOverride {
    pub name: String,
    pub command: Vec<String>,
}

/// RunTask's and DescribeTasks' answer: the tasks, and what could not be
/// started or found (`failures`, each with an ARN and a reason such as
/// `MISSING` or a capacity reason).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TasksResponse {
    pub tasks: Vec<Task>,
    pub failures: Vec<TaskFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskFailure {
    pub arn: Option<String>,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

/// One task, as DescribeTasks and RunTask describe it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    pub task_arn: String,
    pub cluster_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING,
    /// DEPROVISIONING, STOPPED.
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub started_by: Option<String>,
    pub group: Option<String>,
    pub stopped_reason: Option<String>,
    /// TaskFailedToStart, EssentialContainerExited, UserInitiated, ...
    pub stop_code: Option<String>,
    /// Epoch seconds.
    pub created_at: Option<f64>,
    pub started_at: Option<f64>,
    pub stopped_at: Option<f64>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub name: String,
    pub last_status: Option<String>,
    /// Set once the container has exited.
    pub exit_code: Option<i32>,
    /// Why it stopped when it did not exit by itself
    /// (`CannotPullContainerError: ...`).
    pub reason: Option<String>,
}

/// DescribeTasks of up to 100 tasks of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeTasksRequest {
    pub cluster: String,
    pub tasks: Vec<String>,
}

/// DescribeTasks takes at most this many tasks per call.
pub const DESCRIBE_TASKS_MAX: usize = 100;

/// ListTasks of one family in one desired status. (`startedBy` would have
/// to be the only filter, so apprun filters by family.)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksRequest {
    pub cluster: String,
    pub family: String,
    /// `RUNNING` (also PENDING tasks) or `STOPPED`.
    pub desired_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListTasksResponse {
    pub task_arns: Vec<String>,
    pub next_token: Option<String>,
}

impl JsonOperation for RunTaskRequest {
    const SERVICE: Service = services::ECS;
    const NAME: &'static str = "RunTask";
    type Output = TasksResponse;
}

impl JsonOperation for DescribeTasksRequest {
    const SERVICE: Service = services::ECS;
    const NAME: &'static str = "DescribeTasks";
    type Output = TasksResponse;
}

impl JsonOperation for ListTasksRequest {
    const SERVICE: Service = services::ECS;
    const NAME: &'static str = "ListTasks";
    type Output = ListTasksResponse;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn run_task_is_sent_in_the_wire_shape() {
        let request = RunTaskRequest {
            cluster: "c".into(),
            task_definition: "arn:td:1".into(),
            launch_type: "FARGATE".into(),
            count: 1,
            started_by: "apprun".into(),
            network_configuration: NetworkConfiguration {
                awsvpc_configuration: AwsVpcConfiguration {
                    subnets: vec!["subnet-1".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: "DISABLED".into(),
                },
            },
            overrides: None,
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "cluster": "c", "taskDefinition": "arn:td:1", "launchType": "FARGATE",
                "count": 1, "startedBy": "apprun",
                "networkConfiguration": {"awsvpcConfiguration": {
                    "subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}}
            })
        );
    }

    #[test]
    fn a_task_reads_with_missing_members() {
        let task: Task = serde_json::from_value(json!({
            "taskArn": "arn:aws:ecs:r:1:task/c/abc", "lastStatus": "STOPPED",
            "stoppedAt": 1764149400.5, "containers": [{"name": "job", "exitCode": 3}],
            "attachments": [], "unknownMember": true
        }))
        .unwrap();
        assert_eq!(task.containers[0].exit_code, Some(3));
        assert_eq!(task.stopped_at, Some(1_764_149_400.5));
        assert_eq!(task.started_at, None);
    }
}
