//! Jobs from the terminal: run one now and follow it to its exit code with
//! its logs (`apprun job run`), and each job's last runs (`apprun job list`,
//! the jobs part of `apprun status`).
//!
//! Everything a run needs comes from the job stack's outputs (cluster, task
//! definition, container, log group, network), so a run always uses what
//! is deployed, never what apprun.toml says now. The AWS calls (ECS RunTask,
//! DescribeTasks, ListTasks; CloudWatch Logs GetLogEvents; SQS
//! GetQueueAttributes, typed in [`ecs_tasks`] and [`logs_events`]) go
//! through [`JobApi`], implemented over apprun's signed-request client.

use std::collections::BTreeMap;
use std::time::Duration;

use apprun_blueprint::outputs::job as job_outputs;
use apprun_blueprint::{EnvBlueprint, Stack, StackKind};
use serde::Serialize;
use tokio::sync::watch;

use self::ecs_tasks::{
    AwsVpcConfiguration, ContainerOverride, DESCRIBE_TASKS_MAX, DescribeTasksRequest,
    ListTasksRequest, ListTasksResponse, NetworkConfiguration, RunTaskRequest, Task, TaskOverride,
    TasksResponse,
};
use self::logs_events::{
    GetLogEventsRequest, GetLogEventsResponse, GetQueueAttributesRequest, MESSAGES_WAITING,
};
use crate::clients::Clients;
use crate::error::DeployError;
use crate::stack::describe;
use crate::wait::stopped;

pub mod ecs_tasks;
pub mod logs_events;

/// What a task started by `apprun job run` carries as `startedBy`.
pub const STARTED_BY: &str = "apprun";

/// How long ECS keeps a stopped task where ListTasks and DescribeTasks
/// find it: "at least one hour" (ListTasks reference). Older runs are only
/// in the job's log group.
pub const STOPPED_TASKS_KEPT: &str = "ECS keeps stopped tasks for about an hour";

/// The ECS, CloudWatch Logs and SQS calls of jobs. `get_log_events` answers
/// `None` when the stream does not exist (yet): a task's stream is created
/// when its container starts.
#[allow(async_fn_in_trait)]
pub(crate) trait JobApi {
    async fn run_task(&self, request: &RunTaskRequest) -> Result<TasksResponse, DeployError>;
    async fn describe_tasks(
        &self,
        request: &DescribeTasksRequest,
    ) -> Result<TasksResponse, DeployError>;
    async fn list_tasks(
        &self,
        request: &ListTasksRequest,
    ) -> Result<ListTasksResponse, DeployError>;
    async fn get_log_events(
        &self,
        request: &GetLogEventsRequest,
    ) -> Result<Option<GetLogEventsResponse>, DeployError>;
    /// ApproximateNumberOfMessages of a queue; `None` when it does not exist.
    async fn queue_depth(&self, queue_url: &str) -> Result<Option<u64>, DeployError>;
}

/// A deployed stack's outputs, by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outputs<'a> {
    pub stack: &'a str,
    pub outputs: &'a BTreeMap<String, String>,
}

impl Outputs<'_> {
    /// A non-empty output; missing, the stack was not written by this apprun.
    fn get(&self, key: &str) -> Result<String, DeployError> {
        self.outputs
            .get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| DeployError::NotApprunStack {
                stack: self.stack.to_owned(),
                missing: format!("output {key}"),
            })
    }
}

/// Where a job runs: its deployed stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobTarget {
    pub job: String,
    pub stack: String,
    pub cluster: String,
    pub task_definition: String,
    pub family: String,
    pub container: String,
    pub log_group: String,
    pub log_stream_prefix: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub dead_letter_queue: Option<String>,
    /// The alarm that fires while failed runs wait in the dead-letter queue.
    pub alarm: Option<String>,
}

impl JobTarget {
    /// Reads the target from the outputs of the job's stack and of the
    /// env's network stack (where the subnets and security group every job
    /// of the env shares are: outputs built from imports cannot be a job
    /// stack's). An output missing from both means a stack not written by
    /// this apprun.
    pub(crate) fn from_outputs(
        job: &str,
        job_stack: &Outputs<'_>,
        network_stack: &Outputs<'_>,
    ) -> Result<JobTarget, DeployError> {
        let get = |key: &str| job_stack.get(key);
        let shared = |key: &str| job_stack.get(key).or_else(|_| network_stack.get(key));
        let list = |text: String| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let task_definition = get(job_outputs::TASK_DEFINITION_ARN)?;
        let family = match get(job_outputs::TASK_FAMILY) {
            Ok(family) => family,
            Err(e) => family_of(&task_definition).ok_or(e)?,
        };
        Ok(JobTarget {
            job: job.to_owned(),
            stack: job_stack.stack.to_owned(),
            cluster: get(job_outputs::CLUSTER_ARN)?,
            task_definition,
            family,
            container: get(job_outputs::CONTAINER_NAME)?,
            log_group: get(job_outputs::LOG_GROUP)?,
            log_stream_prefix: get(job_outputs::LOG_STREAM_PREFIX)?,
            subnets: list(shared(job_outputs::SUBNETS)?),
            security_groups: list(shared(job_outputs::SECURITY_GROUP)?),
            dead_letter_queue: get(job_outputs::DEAD_LETTER_QUEUE_URL).ok(),
            alarm: get(job_outputs::ALARM_NAME).ok(),
        })
    }

    /// The awslogs stream of a task: `PREFIX/CONTAINER/TASK_ID`.
    pub fn log_stream(&self, task_arn: &str) -> String {
        format!(
            "{}/{}/{}",
            self.log_stream_prefix,
            self.container,
            task_id(task_arn)
        )
    }

    /// The AWS CLI command that stops a task of this job.
    pub fn stop_command(&self, task_arn: &str) -> String {
        format!(
            "aws ecs stop-task --cluster {} --task {}",
            self.cluster,
            task_id(task_arn)
        )
    }
}

/// `family` of `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`.
pub fn family_of(task_definition_arn: &str) -> Option<String> {
    let (_, rest) = task_definition_arn.split_once(":task-definition/")?;
    let family = rest.rsplit_once(':').map_or(rest, |(f, _)| f);
    (!family.is_empty()).then(|| family.to_owned())
}

/// The id of a task: the last part of its ARN
/// (`arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID`).
pub fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The jobs of the blueprint, in its order: (job, stack).
pub fn job_stacks(bp: &EnvBlueprint) -> Vec<(&str, &Stack)> {
    bp.stacks
        .iter()
        .filter_map(|s| match &s.kind {
            StackKind::Job { name, .. } => Some((name.as_str(), s)),
            _ => None,
        })
        .collect()
}

/// A job run, as DescribeTasks last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRun {
    pub job: String,
    pub task_arn: String,
    pub task_id: String,
    /// ECS's `lastStatus` (`PENDING`, `RUNNING`, `STOPPED`, ...).
    pub status: String,
    pub outcome: RunOutcome,
    /// The job container's exit code, once it exited.
    pub exit_code: Option<i32>,
    pub stopped_reason: Option<String>,
    pub stop_code: Option<String>,
    /// Why the container stopped when it did not exit by itself.
    pub container_reason: Option<String>,
    pub started_by: Option<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub stopped_at: Option<String>,
    /// Seconds from start (or creation) to stop.
    pub seconds: Option<u64>,
    pub log_group: String,
    pub log_stream: String,
}

/// How a run ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Not stopped yet.
    Running,
    /// The container exited with 0.
    Succeeded,
    /// The container exited with another code.
    Failed,
    /// The task stopped without the container exiting by itself (image
    /// pull, network, secrets, stopped before start): see the reasons.
    NotRun,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Running => "running",
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::NotRun => "not-run",
        }
    }
}

impl JobRun {
    /// The run of `task` for `target`'s job container.
    pub(crate) fn of(target: &JobTarget, task: &Task) -> JobRun {
        let container = task
            .containers
            .iter()
            .find(|c| c.name == target.container)
            .or_else(|| task.containers.first());
        let status = task.last_status.clone().unwrap_or_default();
        let exit_code = container.and_then(|c| c.exit_code);
        let outcome = match (status.as_str(), exit_code) {
            (s, _) if s != "STOPPED" => RunOutcome::Running,
            (_, Some(0)) => RunOutcome::Succeeded,
            (_, Some(_)) => RunOutcome::Failed,
            (_, None) => RunOutcome::NotRun,
        };
        let from = task.started_at.or(task.created_at);
        JobRun {
            job: target.job.clone(),
            task_id: task_id(&task.task_arn).to_owned(),
            task_arn: task.task_arn.clone(),
            status,
            outcome,
            exit_code,
            stopped_reason: task.stopped_reason.clone(),
            stop_code: task.stop_code.clone(),
            container_reason: container.and_then(|c| c.reason.clone()),
            started_by: task.started_by.clone(),
            created_at: task.created_at.map(rfc3339),
            started_at: task.started_at.map(rfc3339),
            stopped_at: task.stopped_at.map(rfc3339),
            seconds: from
                .zip(task.stopped_at)
                .map(|(a, b)| (b - a).max(0.0).round() as u64),
            log_group: target.log_group.clone(),
            log_stream: target.log_stream(&task.task_arn),
        }
    }

    /// Why the task stopped, as one sentence: the task's reason and the
    /// container's, when they say something.
    pub fn why_stopped(&self) -> String {
        let parts: Vec<&str> = [
            self.stopped_reason.as_deref(),
            self.container_reason.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
        if parts.is_empty() {
            self.stop_code
                .clone()
                .unwrap_or_else(|| "no reason given".to_owned())
        } else {
            parts.join("; ")
        }
    }
}

/// Epoch seconds as RFC 3339 in UTC, whole seconds.
fn rfc3339(seconds: f64) -> String {
    crate::api::time::rfc3339(seconds.floor())
}

/// RunTask of one Fargate task of the job, in its subnets and security
/// group without a public IP (the protect subnets reach out through NAT),
/// with the container's command replaced by `args` when given.
pub(crate) fn run_task_request(target: &JobTarget, args: Option<&[String]>) -> RunTaskRequest {
    RunTaskRequest {
        cluster: target.cluster.clone(),
        task_definition: target.task_definition.clone(),
        launch_type: "FARGATE".to_owned(),
        count: 1,
        started_by: STARTED_BY.to_owned(),
        network_configuration: NetworkConfiguration {
            awsvpc_configuration: AwsVpcConfiguration {
                subnets: target.subnets.clone(),
                security_groups: target.security_groups.clone(),
                assign_public_ip: "DISABLED".to_owned(),
            },
        },
        overrides: args.map(|command| TaskOverride {
            container_overrides: vec![ContainerOverride {
                name: target.container.clone(),
                command: command.to_vec(),
            }],
        }),
    }
}

/// Starts one run; its task as RunTask returned it. RunTask answers
/// `failures` instead of a task when ECS could not place it.
pub(crate) async fn start_with(
    api: &impl JobApi,
    target: &JobTarget,
    args: Option<&[String]>,
) -> Result<Task, DeployError> {
    let answer = api.run_task(&run_task_request(target, args)).await?;
    match answer.tasks.into_iter().next() {
        Some(task) => Ok(task),
        None => Err(DeployError::Aws {
            operation: "RunTask",
            stack: Some(target.stack.clone()),
            message: format!(
                "ECS started no task: {}",
                failures_text(&answer.failures, "no reason given")
            ),
        }),
    }
}

fn failures_text(failures: &[ecs_tasks::TaskFailure], none: &str) -> String {
    if failures.is_empty() {
        return none.to_owned();
    }
    failures
        .iter()
        .map(|f| {
            let mut text = f.reason.clone().unwrap_or_else(|| "unknown".to_owned());
            if let Some(detail) = f.detail.as_deref().filter(|d| !d.is_empty()) {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(arn) = f.arn.as_deref() {
                text.push_str(&format!(" [{arn}]"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobLogLine {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

/// What following reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// The task's `lastStatus` changed.
    Status(String),
    Log(JobLogLine),
    /// The run has been going for longer than the job's timeout (told
    /// once): ECS has no task timeout, so nothing stops it by itself.
    Overdue(Duration),
}

/// How often a run is polled, and when to tell that it runs too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FollowTiming {
    pub poll: Duration,
    /// The job's timeout, from the start of following.
    pub overdue_after: Option<Duration>,
}

/// How following ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// The task stopped; every log line was read.
    Stopped(Box<JobRun>),
    /// Ctrl-C: the task keeps running at AWS.
    Interrupted,
}

/// A task is polled until STOPPED; its log stream is read once the task is
/// running (the stream exists from the container's start).
const LOGGED_STATUSES: &[&str] = &[
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
];

/// A poll reads at most this many pages of the stream (each up to 1 MB);
/// the rest comes at the next poll.
const PAGES_PER_POLL: usize = 100;

/// Follows `task_arn` to STOPPED, polling every `poll`, sending status
/// changes and log lines to `sink`; stops following (the task goes on) when
/// `interrupt` turns true.
pub(crate) async fn follow_with(
    api: &impl JobApi,
    target: &JobTarget,
    task_arn: &str,
    timing: FollowTiming,
    interrupt: watch::Receiver<bool>,
    mut sink: impl FnMut(JobEvent),
) -> Result<RunEnd, DeployError> {
    let stream = target.log_stream(task_arn);
    let mut token: Option<String> = None;
    let mut last_status = String::new();
    let since = std::time::Instant::now();
    let mut overdue = timing.overdue_after;
    loop {
        if *interrupt.borrow() {
            return Ok(RunEnd::Interrupted);
        }
        let task = tokio::select! {
            biased;
            () = stopped(&interrupt) => return Ok(RunEnd::Interrupted),
            r = describe_one(api, target, task_arn) => r?,
        };
        let status = task.last_status.clone().unwrap_or_default();
        let done = status == "STOPPED";
        // A new status is told before the lines it brings; STOPPED after
        // the last lines, so that it ends the output.
        if status != last_status && !done {
            sink(JobEvent::Status(status.clone()));
        }
        if LOGGED_STATUSES.contains(&status.as_str()) {
            tokio::select! {
                biased;
                () = stopped(&interrupt) => return Ok(RunEnd::Interrupted),
                r = read_new_lines(api, target, &stream, &mut token, &mut sink) => r?,
            }
        }
        if done {
            if status != last_status {
                sink(JobEvent::Status(status));
            }
            return Ok(RunEnd::Stopped(Box::new(JobRun::of(target, &task))));
        }
        last_status = status;
        if let Some(limit) = overdue.filter(|l| since.elapsed() > *l) {
            sink(JobEvent::Overdue(limit));
            overdue = None;
        }
        tokio::select! {
            _ = tokio::time::sleep(timing.poll) => {}
            () = stopped(&interrupt) => return Ok(RunEnd::Interrupted),
        }
    }
}

/// DescribeTasks of one task; a task ECS no longer knows is an error.
async fn describe_one(
    api: &impl JobApi,
    target: &JobTarget,
    task_arn: &str,
) -> Result<Task, DeployError> {
    let answer = api
        .describe_tasks(&DescribeTasksRequest {
            cluster: target.cluster.clone(),
            tasks: vec![task_arn.to_owned()],
        })
        .await?;
    answer
        .tasks
        .into_iter()
        .find(|t| t.task_arn == task_arn)
        .ok_or_else(|| DeployError::Aws {
            operation: "DescribeTasks",
            stack: Some(target.stack.clone()),
            message: format!(
                "task {} is not in cluster {}: {}",
                task_id(task_arn),
                target.cluster,
                failures_text(&answer.failures, "not found")
            ),
        })
}

/// Reads the stream from `token` to its current end, sending each line.
/// The end is where GetLogEvents returns the token it was sent.
async fn read_new_lines(
    api: &impl JobApi,
    target: &JobTarget,
    stream: &str,
    token: &mut Option<String>,
    sink: &mut impl FnMut(JobEvent),
) -> Result<(), DeployError> {
    for _ in 0..PAGES_PER_POLL {
        let request = GetLogEventsRequest {
            log_group_name: target.log_group.clone(),
            log_stream_name: stream.to_owned(),
            start_from_head: true,
            next_token: token.clone(),
        };
        let Some(page) = api.get_log_events(&request).await? else {
            return Ok(());
        };
        for e in page.events {
            sink(JobEvent::Log(JobLogLine {
                timestamp: e.timestamp,
                message: e.message.trim_end_matches(['\r', '\n']).to_owned(),
            }));
        }
        let at_end = page.next_forward_token.is_none() || page.next_forward_token == *token;
        if page.next_forward_token.is_some() {
            *token = page.next_forward_token;
        }
        if at_end {
            return Ok(());
        }
    }
    Ok(())
}

/// The runs ECS still knows of the job (running ones, and those stopped
/// within about an hour), newest first.
pub(crate) async fn recent_runs_with(
    api: &impl JobApi,
    target: &JobTarget,
) -> Result<Vec<JobRun>, DeployError> {
    let mut arns = Vec::new();
    for desired in ["RUNNING", "STOPPED"] {
        arns.extend(list_all(api, target, desired).await?);
    }
    arns.sort();
    arns.dedup();
    let mut runs = Vec::new();
    for chunk in arns.chunks(DESCRIBE_TASKS_MAX) {
        let answer = api
            .describe_tasks(&DescribeTasksRequest {
                cluster: target.cluster.clone(),
                tasks: chunk.to_vec(),
            })
            .await?;
        // A task listed a moment ago may be gone now (`failures`: MISSING).
        runs.extend(answer.tasks.iter().map(|t| JobRun::of(target, t)));
    }
    runs.sort_by(|a, b| (&b.created_at, &b.task_id).cmp(&(&a.created_at, &a.task_id)));
    Ok(runs)
}

/// Every page of ListTasks of the job's family in one desired status.
async fn list_all(
    api: &impl JobApi,
    target: &JobTarget,
    desired_status: &str,
) -> Result<Vec<String>, DeployError> {
    let mut arns = Vec::new();
    let mut next_token = None;
    loop {
        let page = api
            .list_tasks(&ListTasksRequest {
                cluster: target.cluster.clone(),
                family: target.family.clone(),
                desired_status: desired_status.to_owned(),
                next_token: next_token.take(),
            })
            .await?;
        arns.extend(page.task_arns);
        match page.next_token {
            Some(t) if !t.is_empty() => next_token = Some(t),
            _ => return Ok(arns),
        }
    }
}

/// One job of the env as `apprun job list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobListing {
    pub job: String,
    pub stack: String,
    pub deployed: bool,
    /// CloudFormation's status of the job stack.
    pub stack_status: Option<String>,
    pub log_group: Option<String>,
    /// Runs ECS still knows of, newest first.
    pub runs: Vec<JobRun>,
    pub dead_letter_queue: Option<String>,
    /// Failures waiting in the dead-letter queue (kept 14 days): triggered
    /// starts that failed after their retries, and runs that stopped with
    /// a non-zero exit code or failed to start; `None` when the queue does
    /// not exist.
    pub dead_letters: Option<u64>,
    pub alarm: Option<String>,
}

/// [`JobApi`] over apprun's AWS client; errors name the job's stack.
struct Live<'a> {
    api: &'a crate::api::Api,
    stack: &'a str,
}

impl JobApi for Live<'_> {
    async fn run_task(&self, request: &RunTaskRequest) -> Result<TasksResponse, DeployError> {
        self.api
            .call(request)
            .await
            .map_err(|e| e.into_deploy("RunTask", Some(self.stack)))
    }

    async fn describe_tasks(
        &self,
        request: &DescribeTasksRequest,
    ) -> Result<TasksResponse, DeployError> {
        self.api
            .call(request)
            .await
            .map_err(|e| e.into_deploy("DescribeTasks", Some(self.stack)))
    }

    async fn list_tasks(
        &self,
        request: &ListTasksRequest,
    ) -> Result<ListTasksResponse, DeployError> {
        self.api
            .call(request)
            .await
            .map_err(|e| e.into_deploy("ListTasks", Some(self.stack)))
    }

    async fn get_log_events(
        &self,
        request: &GetLogEventsRequest,
    ) -> Result<Option<GetLogEventsResponse>, DeployError> {
        match self.api.call(request).await {
            Ok(page) => Ok(Some(page)),
            // The stream is created when the container starts.
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e.into_deploy("GetLogEvents", Some(self.stack))),
        }
    }

    async fn queue_depth(&self, queue_url: &str) -> Result<Option<u64>, DeployError> {
        let request = GetQueueAttributesRequest {
            queue_url: queue_url.to_owned(),
            attribute_names: vec![MESSAGES_WAITING.to_owned()],
        };
        match self.api.call(&request).await {
            Ok(answer) => Ok(answer
                .attributes
                .get(MESSAGES_WAITING)
                .and_then(|n| n.parse().ok())),
            // SQS names a missing queue `QueueDoesNotExist` in its JSON
            // protocol (`AWS.SimpleQueueService.NonExistentQueue` in Query).
            Err(e)
                if matches!(
                    e.code(),
                    Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue")
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into_deploy("GetQueueAttributes", Some(self.stack))),
        }
    }
}

/// Where job `job` of the env runs, from its deployed stack. A job stack
/// that does not exist yet cannot run: [`DeployError::NotDeployed`].
pub async fn job_target(
    clients: &Clients,
    bp: &EnvBlueprint,
    job: &str,
) -> Result<JobTarget, DeployError> {
    let stack = bp
        .job_stack(job)
        .ok_or_else(|| DeployError::Internal(format!("env `{}` has no job `{job}`", bp.env)))?;
    let deployed = describe(clients, &stack.name)
        .await?
        .ok_or_else(|| DeployError::NotDeployed {
            stack: stack.name.clone(),
            advice: format!(
                "job `{job}` cannot run before its stack exists; deploy it first (`apprun deploy --env {}`)",
                bp.env
            ),
        })?;
    let (network, network_outputs) = network_outputs(clients, bp).await?;
    JobTarget::from_outputs(
        job,
        &Outputs {
            stack: &stack.name,
            outputs: &deployed.outputs,
        },
        &Outputs {
            stack: &network,
            outputs: &network_outputs,
        },
    )
}

/// The env's network stack's name and outputs (none when it is not
/// deployed: a job stack cannot exist without it, but a reader can race a
/// destroy).
async fn network_outputs(
    clients: &Clients,
    bp: &EnvBlueprint,
) -> Result<(String, BTreeMap<String, String>), DeployError> {
    let name = bp
        .stack(&StackKind::Network)
        .map(|s| s.name.clone())
        .ok_or_else(|| DeployError::Internal(format!("env `{}` has no network stack", bp.env)))?;
    let outputs = describe(clients, &name)
        .await?
        .map(|d| d.outputs)
        .unwrap_or_default();
    Ok((name, outputs))
}

/// Starts one run of the job now (RunTask, `startedBy: apprun`), with its
/// command replaced by `args` when given.
pub async fn start_job(
    clients: &Clients,
    target: &JobTarget,
    args: Option<&[String]>,
) -> Result<JobRun, DeployError> {
    let api = Live {
        api: &clients.api,
        stack: &target.stack,
    };
    let task = start_with(&api, target, args).await?;
    Ok(JobRun::of(target, &task))
}

/// Follows a run to STOPPED with its log lines (see [`follow_with`]),
/// polling at the tuning's interval; tells once when it has run longer
/// than `timeout` (the job's).
pub async fn follow_job(
    clients: &Clients,
    target: &JobTarget,
    task_arn: &str,
    timeout: Option<Duration>,
    interrupt: watch::Receiver<bool>,
    sink: impl FnMut(JobEvent),
) -> Result<RunEnd, DeployError> {
    let api = Live {
        api: &clients.api,
        stack: &target.stack,
    };
    let timing = FollowTiming {
        poll: clients.tuning.poll,
        overdue_after: timeout,
    };
    follow_with(&api, target, task_arn, timing, interrupt, sink).await
}

/// Every job of the env: its stack, the runs ECS still knows of, and its
/// dead-letter queue's depth.
pub async fn job_listing(
    clients: &Clients,
    bp: &EnvBlueprint,
) -> Result<Vec<JobListing>, DeployError> {
    let mut found = Vec::new();
    for (job, stack) in job_stacks(bp) {
        found.push((job, stack, describe(clients, &stack.name).await?));
    }
    // The network stack's outputs are read once for every job of the env,
    // and only when a job is deployed.
    let network = if found.iter().any(|(_, _, d)| d.is_some()) {
        network_outputs(clients, bp).await?
    } else {
        (String::new(), BTreeMap::new())
    };
    let mut listings = Vec::new();
    for (job, stack, deployed) in found {
        let mut listing = JobListing {
            job: job.to_owned(),
            stack: stack.name.clone(),
            deployed: deployed.is_some(),
            stack_status: deployed.as_ref().map(|d| d.status.as_str().to_owned()),
            log_group: None,
            runs: Vec::new(),
            dead_letter_queue: None,
            dead_letters: None,
            alarm: None,
        };
        if let Some(d) = deployed {
            let target = JobTarget::from_outputs(
                job,
                &Outputs {
                    stack: &stack.name,
                    outputs: &d.outputs,
                },
                &Outputs {
                    stack: &network.0,
                    outputs: &network.1,
                },
            )?;
            fill_listing(clients, &target, &mut listing).await?;
        }
        listings.push(listing);
    }
    Ok(listings)
}

/// The runs, dead letters, log group and alarm of a deployed job.
async fn fill_listing(
    clients: &Clients,
    target: &JobTarget,
    listing: &mut JobListing,
) -> Result<(), DeployError> {
    let api = Live {
        api: &clients.api,
        stack: &target.stack,
    };
    listing.runs = recent_runs_with(&api, target).await?;
    if let Some(queue) = &target.dead_letter_queue {
        listing.dead_letters = api.queue_depth(queue).await?;
    }
    listing.log_group = Some(target.log_group.clone());
    listing.dead_letter_queue = target.dead_letter_queue.clone();
    listing.alarm = target.alarm.clone();
    Ok(())
}

#[cfg(test)]
mod tests;
