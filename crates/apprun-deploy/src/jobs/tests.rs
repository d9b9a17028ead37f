//! The run/follow/list logic against a scripted [`JobApi`] (no HTTP: the
//! wire format is tested in tests/jobs_wire.rs).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use super::ecs_tasks::{Container, TaskFailure};
use super::logs_events::OutputLogEvent;
use super::*;

const TASK: &str =
    "arn:aws:ecs:ap-northeast-1:123456789012:task/jobs/0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn outputs() -> BTreeMap<String, String> {
    [
        (job_outputs::CLUSTER_ARN, "arn:aws:ecs:ap-northeast-1:123456789012:cluster/jobs"),
        (
            job_outputs::TASK_DEFINITION_ARN,
            "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/apprunner-nuxt3-dev-job-tick:3",
        ),
        (job_outputs::CONTAINER_NAME, "job"),
        (job_outputs::LOG_GROUP, "/apprun/apprunner-nuxt3-dev/jobs/tick"),
        (job_outputs::LOG_STREAM_PREFIX, "tick"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The network stack's outputs for every job of the env.
fn network() -> BTreeMap<String, String> {
    [
        (job_outputs::SUBNETS, "subnet-0a, subnet-0c"),
        (job_outputs::SECURITY_GROUP, "sg-0p"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn target_of(
    job: &BTreeMap<String, String>,
    net: &BTreeMap<String, String>,
) -> Result<JobTarget, DeployError> {
    JobTarget::from_outputs(
        "tick",
        &Outputs {
            stack: "apprunner-nuxt3-dev-job-tick",
            outputs: job,
        },
        &Outputs {
            stack: "apprunner-nuxt3-dev-network",
            outputs: net,
        },
    )
}

fn target() -> JobTarget {
    target_of(&outputs(), &network()).unwrap()
}

fn task(status: &str, exit_code: Option<i32>) -> Task {
    Task {
        task_arn: TASK.into(),
        last_status: Some(status.into()),
        created_at: Some(1_764_147_600.25),
        started_at: Some(1_764_147_610.0),
        stopped_at: (status == "STOPPED").then_some(1_764_147_622.0),
        started_by: Some(STARTED_BY.into()),
        containers: vec![Container {
            name: "job".into(),
            exit_code,
            ..Container::default()
        }],
        ..Task::default()
    }
}

fn page(messages: &[&str], token: &str) -> GetLogEventsResponse {
    GetLogEventsResponse {
        events: messages
            .iter()
            .enumerate()
            .map(|(i, m)| OutputLogEvent {
                timestamp: 1_764_147_611_000 + i as i64,
                message: format!("{m}\n"),
            })
            .collect(),
        next_forward_token: Some(token.into()),
    }
}

/// DescribeTasks answers in order (the last repeats); log pages by the
/// token sent; every request kept.
#[derive(Default)]
struct Script {
    tasks: RefCell<VecDeque<TasksResponse>>,
    pages: BTreeMap<Option<String>, GetLogEventsResponse>,
    stream_exists: bool,
    list: BTreeMap<(String, Option<String>), ListTasksResponse>,
    run: Option<TasksResponse>,
    sent: RefCell<Vec<String>>,
}

impl Script {
    fn log(&self, what: String) {
        self.sent.borrow_mut().push(what);
    }
}

impl JobApi for Script {
    async fn run_task(&self, request: &RunTaskRequest) -> Result<TasksResponse, DeployError> {
        self.log(format!(
            "RunTask {}",
            serde_json::to_string(request).unwrap()
        ));
        Ok(self.run.clone().unwrap_or_default())
    }

    async fn describe_tasks(
        &self,
        request: &DescribeTasksRequest,
    ) -> Result<TasksResponse, DeployError> {
        self.log(format!("DescribeTasks {}", request.tasks.len()));
        let mut tasks = self.tasks.borrow_mut();
        Ok(if tasks.len() > 1 {
            tasks.pop_front().unwrap()
        } else {
            tasks.front().cloned().unwrap_or_default()
        })
    }

    async fn list_tasks(
        &self,
        request: &ListTasksRequest,
    ) -> Result<ListTasksResponse, DeployError> {
        self.log(format!(
            "ListTasks {} {} {:?}",
            request.family, request.desired_status, request.next_token
        ));
        Ok(self
            .list
            .get(&(request.desired_status.clone(), request.next_token.clone()))
            .cloned()
            .unwrap_or_default())
    }

    async fn get_log_events(
        &self,
        request: &GetLogEventsRequest,
    ) -> Result<Option<GetLogEventsResponse>, DeployError> {
        self.log(format!(
            "GetLogEvents {} {:?}",
            request.log_stream_name, request.next_token
        ));
        if !self.stream_exists {
            return Ok(None);
        }
        Ok(Some(
            self.pages
                .get(&request.next_token)
                .cloned()
                .unwrap_or_else(|| GetLogEventsResponse {
                    events: Vec::new(),
                    next_forward_token: request.next_token.clone(),
                }),
        ))
    }

    async fn queue_depth(&self, _queue_url: &str) -> Result<Option<u64>, DeployError> {
        Ok(Some(0))
    }
}

fn described(tasks: Vec<Task>) -> TasksResponse {
    TasksResponse {
        tasks,
        failures: Vec::new(),
    }
}

fn timing(overdue_after: Option<Duration>) -> FollowTiming {
    FollowTiming {
        poll: Duration::from_millis(1),
        overdue_after,
    }
}

async fn follow(script: &Script) -> (Result<RunEnd, DeployError>, Vec<JobEvent>) {
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    let end = follow_with(script, &target(), TASK, timing(None), rx, |e| {
        events.push(e)
    })
    .await;
    (end, events)
}

#[test]
fn the_target_comes_from_the_outputs() {
    let t = target();
    assert_eq!(t.family, "apprunner-nuxt3-dev-job-tick", "from the ARN");
    assert_eq!(t.subnets, ["subnet-0a", "subnet-0c"]);
    assert_eq!(
        t.log_stream(TASK),
        "tick/job/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    );
    assert_eq!(
        t.stop_command(TASK),
        "aws ecs stop-task --cluster arn:aws:ecs:ap-northeast-1:123456789012:cluster/jobs --task 0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    );
    let mut partial = outputs();
    partial.remove(job_outputs::LOG_GROUP);
    let err = target_of(&partial, &network()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack apprunner-nuxt3-dev-job-tick has no output JobLogGroup; it was not deployed by apprun synth"
    );
    // The subnets are the network stack's (a job stack's own would win).
    let err = target_of(&outputs(), &BTreeMap::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack apprunner-nuxt3-dev-network has no output JobSubnets; it was not deployed by apprun synth"
    );
    let mut own = outputs();
    own.insert(job_outputs::SUBNETS.to_owned(), "subnet-own".to_owned());
    assert_eq!(target_of(&own, &network()).unwrap().subnets, ["subnet-own"]);
}

#[test]
fn family_and_task_id_from_arns() {
    assert_eq!(
        family_of("arn:aws:ecs:r:1:task-definition/fam-ily:12").as_deref(),
        Some("fam-ily")
    );
    assert_eq!(family_of("arn:aws:ecs:r:1:task/c/x"), None);
    assert_eq!(task_id("arn:aws:ecs:r:1:task/c/abc"), "abc");
    assert_eq!(task_id("abc"), "abc");
}

#[test]
fn run_task_overrides_the_command_only_when_given() {
    let t = target();
    let plain = run_task_request(&t, None);
    assert_eq!(plain.overrides, None);
    assert_eq!(plain.started_by, "apprun");
    assert_eq!(plain.launch_type, "FARGATE");
    assert_eq!(
        plain
            .network_configuration
            .awsvpc_configuration
            .assign_public_ip,
        "DISABLED"
    );
    let args = vec!["job".to_owned(), "tick".to_owned(), "--dry-run".to_owned()];
    let with = run_task_request(&t, Some(&args));
    let o = &with.overrides.unwrap().container_overrides[0];
    assert_eq!((o.name.as_str(), o.command.clone()), ("job", args));
}

#[tokio::test]
async fn a_run_that_ecs_cannot_place_names_the_failures() {
    let script = Script {
        run: Some(TasksResponse {
            tasks: Vec::new(),
            failures: vec![TaskFailure {
                arn: None,
                reason: Some("MISSING".into()),
                detail: Some("cluster not found".into()),
            }],
        }),
        ..Script::default()
    };
    let err = start_with(&script, &target(), None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "RunTask failed for apprunner-nuxt3-dev-job-tick: ECS started no task: MISSING (cluster not found)"
    );
}

#[tokio::test]
async fn following_reads_statuses_and_every_log_line_to_the_exit_code() {
    let script = Script {
        tasks: RefCell::new(
            [
                task("PROVISIONING", None),
                task("PENDING", None),
                task("RUNNING", None),
                task("RUNNING", None),
                task("STOPPED", Some(0)),
            ]
            .into_iter()
            .map(|t| described(vec![t]))
            .collect(),
        ),
        pages: [
            (None, page(&["start"], "f/1")),
            (Some("f/1".to_owned()), page(&["middle"], "f/2")),
            (Some("f/2".to_owned()), page(&[], "f/3")),
            (Some("f/3".to_owned()), page(&["end"], "f/4")),
        ]
        .into_iter()
        .collect(),
        stream_exists: true,
        ..Script::default()
    };
    let (end, events) = follow(&script).await;
    let RunEnd::Stopped(run) = end.unwrap() else {
        panic!("stopped")
    };
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.seconds, Some(12));
    assert_eq!(run.started_at.as_deref(), Some("2025-11-26T09:00:10Z"));
    let seen: Vec<String> = events
        .iter()
        .map(|e| match e {
            JobEvent::Status(s) => format!("[{s}]"),
            JobEvent::Log(l) => l.message.clone(),
            JobEvent::Overdue(_) => "[overdue]".to_owned(),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "[PROVISIONING]",
            "[PENDING]",
            "[RUNNING]",
            "start",
            "middle",
            "end",
            "[STOPPED]"
        ],
        "statuses as they change, each line once, trailing newlines dropped"
    );
    let sent = script.sent.borrow();
    let logs: Vec<&String> = sent
        .iter()
        .filter(|s| s.starts_with("GetLogEvents"))
        .collect();
    assert!(
        !sent[..2].iter().any(|s| s.starts_with("GetLogEvents")),
        "no log read before RUNNING: {sent:?}"
    );
    assert_eq!(
        logs.first().map(|s| s.as_str()),
        Some("GetLogEvents tick/job/0f1e2d3c4b5a69788796a5b4c3d2e1f0 None")
    );
}

#[tokio::test]
async fn a_task_that_never_ran_has_no_exit_code_and_says_why() {
    let mut stopped = task("STOPPED", None);
    stopped.started_at = None;
    stopped.stopped_reason = Some("Task failed to start".into());
    stopped.stop_code = Some("TaskFailedToStart".into());
    stopped.containers[0].reason = Some(
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
            .into(),
    );
    let script = Script {
        tasks: RefCell::new(
            [
                described(vec![task("PENDING", None)]),
                described(vec![stopped]),
            ]
            .into(),
        ),
        ..Script::default()
    };
    let (end, events) = follow(&script).await;
    let RunEnd::Stopped(run) = end.unwrap() else {
        panic!("stopped")
    };
    assert_eq!(run.outcome, RunOutcome::NotRun);
    assert_eq!(run.exit_code, None);
    assert_eq!(
        run.why_stopped(),
        "Task failed to start; CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    );
    assert_eq!(run.seconds, Some(22), "from creation when it never started");
    assert_eq!(
        events,
        [
            JobEvent::Status("PENDING".into()),
            JobEvent::Status("STOPPED".into())
        ]
    );
    // The stream never existed: the read at STOPPED found none, no error.
    assert_eq!(
        script
            .sent
            .borrow()
            .iter()
            .filter(|s| s.starts_with("GetLogEvents"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_non_zero_exit_is_a_failed_run() {
    let script = Script {
        tasks: RefCell::new([described(vec![task("STOPPED", Some(3))])].into()),
        ..Script::default()
    };
    let (end, _) = follow(&script).await;
    let RunEnd::Stopped(run) = end.unwrap() else {
        panic!("stopped")
    };
    assert_eq!((run.outcome, run.exit_code), (RunOutcome::Failed, Some(3)));
}

#[tokio::test]
async fn a_task_ecs_no_longer_knows_is_an_error() {
    let script = Script {
        tasks: RefCell::new(
            [TasksResponse {
                tasks: Vec::new(),
                failures: vec![TaskFailure {
                    arn: Some(TASK.into()),
                    reason: Some("MISSING".into()),
                    detail: None,
                }],
            }]
            .into(),
        ),
        ..Script::default()
    };
    let err = follow(&script).await.0.unwrap_err();
    assert!(
        err.to_string()
            .contains("task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 is not in cluster")
            && err.to_string().contains("MISSING"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stop_request_ends_following_and_leaves_the_task() {
    let script = Script {
        tasks: RefCell::new([described(vec![task("RUNNING", None)])].into()),
        ..Script::default()
    };
    let (tx, rx) = watch::channel(false);
    let mut statuses = 0;
    let end = follow_with(&script, &target(), TASK, timing(None), rx, |e| {
        if matches!(e, JobEvent::Status(_)) {
            statuses += 1;
            tx.send_replace(true);
        }
    })
    .await
    .unwrap();
    assert_eq!(end, RunEnd::Interrupted);
    assert_eq!(statuses, 1);
    assert!(
        !script
            .sent
            .borrow()
            .iter()
            .any(|s| s.starts_with("RunTask")),
        "following never writes"
    );
}

#[tokio::test]
async fn recent_runs_are_every_page_of_both_statuses_newest_first() {
    let arn = |id: &str| format!("arn:aws:ecs:ap-northeast-1:123456789012:task/jobs/{id}");
    let mut older = task("STOPPED", Some(1));
    older.task_arn = arn("aaa");
    older.created_at = Some(1_764_140_000.0);
    let mut newer = task("STOPPED", Some(0));
    newer.task_arn = arn("bbb");
    let mut running = task("RUNNING", None);
    running.task_arn = arn("ccc");
    running.created_at = Some(1_764_150_000.0);
    let list = |arns: Vec<String>, next: Option<&str>| ListTasksResponse {
        task_arns: arns,
        next_token: next.map(str::to_owned),
    };
    let script = Script {
        tasks: RefCell::new([described(vec![older, running, newer])].into()),
        list: [
            (("RUNNING".to_owned(), None), list(vec![arn("ccc")], None)),
            (
                ("STOPPED".to_owned(), None),
                list(vec![arn("aaa")], Some("p2")),
            ),
            (
                ("STOPPED".to_owned(), Some("p2".to_owned())),
                list(vec![arn("bbb")], None),
            ),
        ]
        .into_iter()
        .collect(),
        ..Script::default()
    };
    let runs = recent_runs_with(&script, &target()).await.unwrap();
    let order: Vec<(&str, RunOutcome)> = runs
        .iter()
        .map(|r| (r.task_id.as_str(), r.outcome))
        .collect();
    assert_eq!(
        order,
        [
            ("ccc", RunOutcome::Running),
            ("bbb", RunOutcome::Succeeded),
            ("aaa", RunOutcome::Failed)
        ]
    );
    assert_eq!(
        *script.sent.borrow(),
        [
            "ListTasks apprunner-nuxt3-dev-job-tick RUNNING None",
            "ListTasks apprunner-nuxt3-dev-job-tick STOPPED None",
            "ListTasks apprunner-nuxt3-dev-job-tick STOPPED Some(\"p2\")",
            "DescribeTasks 3",
        ]
    );
}

#[tokio::test]
async fn a_run_longer_than_the_timeout_is_told_once() {
    let script = Script {
        tasks: RefCell::new(
            [
                task("RUNNING", None),
                task("RUNNING", None),
                task("RUNNING", None),
                task("STOPPED", Some(0)),
            ]
            .into_iter()
            .map(|t| described(vec![t]))
            .collect(),
        ),
        ..Script::default()
    };
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    let end = follow_with(
        &script,
        &target(),
        TASK,
        timing(Some(Duration::ZERO)),
        rx,
        |e| events.push(e),
    )
    .await
    .unwrap();
    assert!(matches!(end, RunEnd::Stopped(_)));
    assert_eq!(
        events,
        [
            JobEvent::Status("RUNNING".into()),
            JobEvent::Overdue(Duration::ZERO),
            JobEvent::Status("STOPPED".into()),
        ]
    );
}
