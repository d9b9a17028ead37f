//! `apprun job run` and `apprun job list` (crate side) against hand-written
//! wire responses: bodies written from the AWS API references (ECS
//! RunTask, DescribeTasks, ListTasks; CloudWatch Logs GetLogEvents; SQS
//! GetQueueAttributes; CloudFormation DescribeStacks) in AWS's wire format
//! (awsJson1_1 / awsJson1_0 bodies named by `X-Amz-Target`, the `__type`
//! error shape; awsQuery XML for CloudFormation), not recorded from AWS.
//! Each script says which real behaviour it stands for. apprun's client
//! talks to an in-process HTTP client that answers from the script and
//! keeps every request for the assertions.

mod common;

use std::path::Path;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_config::Config;
use apprun_deploy::{Clients, DeployError, JobEvent, RunEnd, RunOutcome};
use serde_json::{Value, json};

const JOB: &str = "nightly";
const STACK: &str = "apprunner-nuxt3-dev-job-nightly";
const NETWORK: &str = "apprunner-nuxt3-dev-network";
const CLUSTER: &str = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/apprunner-nuxt3-dev-jobs";
const TASK_DEF: &str =
    "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/apprunner-nuxt3-dev-job-nightly:4";
const TASK_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const GROUP: &str = "/apprun/apprunner-nuxt3-dev/job/nightly";
const QUEUE: &str =
    "https://sqs.ap-northeast-1.amazonaws.com/123456789012/apprunner-nuxt3-dev-job-nightly-dlq";

fn task_arn(id: &str) -> String {
    format!("arn:aws:ecs:ap-northeast-1:123456789012:task/apprunner-nuxt3-dev-jobs/{id}")
}

use common::scripted::Scripted as Fake;

/// The shipped config with one scheduled job of its own (and no other).
fn blueprint() -> EnvBlueprint {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("apprun.toml");
    let mut text = without_jobs(&std::fs::read_to_string(&file).expect("the shipped config reads"));
    text.push_str(
        "\n[jobs.nightly]\ncommand = [\"job\", \"tick\"]\nschedule = \"cron(0 9 * * ? *)\"\ntimezone = \"Asia/Tokyo\"\n",
    );
    let config = Config::parse(&text, file).expect("the config with a job loads");
    synthesize(&config, "dev").expect("dev synthesizes")
}

/// `text` without its `[jobs.*]` tables, so that the test's job is the only one.
fn without_jobs(text: &str) -> String {
    let mut out = String::new();
    let mut in_job = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_job = line.starts_with("[jobs.");
        }
        if !in_job {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// DescribeStacks (awsQuery, CloudFormation API reference) of the job
/// stack with the outputs apprun's job template declares.
fn job_stack_described() -> String {
    let outputs = [
        ("JobClusterArn", CLUSTER),
        ("JobTaskDefinitionArn", TASK_DEF),
        ("JobTaskFamily", "apprunner-nuxt3-dev-job-nightly"),
        ("JobContainerName", "job"),
        ("JobLogGroup", GROUP),
        ("JobLogStreamPrefix", "job"),
        ("JobDeadLetterQueueUrl", QUEUE),
        ("JobAlarmName", "apprunner-nuxt3-dev-job-nightly-failed"),
    ]
    .iter()
    .map(|(k, v)| {
        format!("<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>")
    })
    .collect::<String>();
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/1</StackId><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Parameters><member><ParameterKey>ImageTag</ParameterKey><ParameterValue>3f2a1bc</ParameterValue></member></Parameters><Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

/// DescribeStacks of the env's network stack: the subnets and security
/// group every job of the env runs in are its outputs.
fn network_stack_described() -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{NETWORK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{NETWORK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T07:50:00Z</CreationTime><Outputs><member><OutputKey>JobSubnets</OutputKey><OutputValue>subnet-0protecta,subnet-0protectc</OutputValue></member><member><OutputKey>JobSecurityGroup</OutputKey><OutputValue>sg-0protect</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

/// The job stack and the network stack, deployed.
fn script_stacks(fake: &Fake) {
    fake.on("DescribeStacks", 200, job_stack_described());
    fake.on(
        &format!("DescribeStacks {NETWORK}"),
        200,
        network_stack_described(),
    );
}

/// CloudFormation's answer for a stack that does not exist (a 400
/// ValidationError in the awsQuery error shape).
fn no_such_stack() -> String {
    format!(
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id {STACK} does not exist</Message></Error><RequestId>2</RequestId></ErrorResponse>"#
    )
}

/// A Fargate task as RunTask and DescribeTasks describe it (ECS API
/// reference, Task), in `status`, with the job container's exit code and
/// reason when given.
fn task(id: &str, status: &str, exit_code: Option<i32>, reason: Option<&str>) -> Value {
    let stopped = status == "STOPPED";
    let mut container = json!({
        "containerArn": format!("arn:aws:ecs:ap-northeast-1:123456789012:container/apprunner-nuxt3-dev-jobs/{id}/5d2c"),
        "taskArn": task_arn(id),
        "name": "job",
        "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/apprunner-nuxt3-dev:3f2a1bc",
        "lastStatus": if stopped { "STOPPED" } else if status == "RUNNING" { "RUNNING" } else { "PENDING" },
        "networkInterfaces": [{"attachmentId": "e1", "privateIpv4Address": "10.0.0.140"}],
        "cpu": "0"
    });
    if let Some(code) = exit_code {
        container["exitCode"] = json!(code);
    }
    if let Some(r) = reason {
        container["reason"] = json!(r);
    }
    let mut task = json!({
        "taskArn": task_arn(id),
        "clusterArn": CLUSTER,
        "taskDefinitionArn": TASK_DEF,
        "lastStatus": status,
        "desiredStatus": if stopped { "STOPPED" } else { "RUNNING" },
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "startedBy": "apprun",
        "group": "family:apprunner-nuxt3-dev-job-nightly",
        "cpu": "256",
        "memory": "512",
        "createdAt": 1764147600.113,
        "containers": [container],
        "attachments": [{"id": "e1", "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": []}],
        "version": 3
    });
    if matches!(status, "RUNNING" | "STOPPED") && reason.is_none() {
        task["startedAt"] = json!(1764147631.402);
    }
    if stopped {
        task["stoppedAt"] = json!(1764147645.871);
        task["stoppingAt"] = json!(1764147644.0);
        if reason.is_none() {
            // Real behaviour: a task whose essential container exited.
            task["stopCode"] = json!("EssentialContainerExited");
            task["stoppedReason"] = json!("Essential container in task exited");
        }
    }
    task
}

fn described(tasks: Vec<Value>) -> String {
    json!({"tasks": tasks, "failures": []}).to_string()
}

/// GetLogEvents (CloudWatch Logs API reference): a page and its forward
/// token; at the end of the stream the token sent comes back.
fn page(messages: &[&str], first_ts: i64, forward: &str) -> String {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"timestamp": first_ts + i as i64, "message": m, "ingestionTime": first_ts + 500}))
        .collect();
    json!({"events": events, "nextForwardToken": forward, "nextBackwardToken": "b/00000000000000000000000000000000000000000000000000000000"}).to_string()
}

fn logs_error(code: &str, message: &str) -> String {
    json!({"__type": code, "message": message}).to_string()
}

/// A run that goes PROVISIONING → PENDING → RUNNING → STOPPED, whose stream
/// does not exist until the container starts.
fn script_a_run(fake: &Fake, exit_code: i32) {
    script_stacks(fake);
    fake.on(
        "RunTask",
        200,
        described(vec![task(TASK_ID, "PROVISIONING", None, None)]),
    );
    for status in ["PROVISIONING", "PENDING", "RUNNING", "RUNNING"] {
        fake.on(
            "DescribeTasks",
            200,
            described(vec![task(TASK_ID, status, None, None)]),
        );
    }
    fake.on(
        "DescribeTasks",
        200,
        described(vec![task(TASK_ID, "STOPPED", Some(exit_code), None)]),
    );
    // Real behaviour: the awslogs driver creates the stream as the
    // container starts; until then GetLogEvents answers
    // ResourceNotFoundException. Then pages until the token comes back.
    let f1 = "f/37947386215064829766931577004536427837216573394757632000";
    let f2 = "f/37947386215064829766931577004536427837216573394757632002";
    fake.on(
        "GetLogEvents",
        400,
        logs_error(
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        ),
    )
    .on(
        "GetLogEvents",
        200,
        page(
            &["{\"level\":\"info\",\"msg\":\"tick\"}", "report: 12 rows"],
            1_764_147_632_000,
            f1,
        ),
    )
    .on("GetLogEvents", 200, page(&[], 0, f1))
    .on(
        "GetLogEvents",
        200,
        page(&["done\n"], 1_764_147_644_000, f2),
    )
    .on("GetLogEvents", 200, page(&[], 0, f2));
}

async fn follow(
    clients: &Clients,
    target: &apprun_deploy::JobTarget,
    arn: &str,
) -> (RunEnd, Vec<String>) {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut seen = Vec::new();
    let end = apprun_deploy::follow_job(clients, target, arn, None, rx, |e| {
        seen.push(match e {
            JobEvent::Status(s) => format!("[{s}]"),
            JobEvent::Log(l) => l.message,
            JobEvent::Overdue(limit) => format!("[overdue {}s]", limit.as_secs()),
        })
    })
    .await
    .expect("following succeeds");
    (end, seen)
}

#[tokio::test]
async fn a_run_starts_on_fargate_and_is_followed_to_exit_code_0_with_its_logs() {
    let fake = Fake::default();
    script_a_run(&fake, 0);
    let clients = fake.clients().await;
    let bp = blueprint();
    let target = apprun_deploy::job_target(&clients, &bp, JOB).await.unwrap();
    let started = apprun_deploy::start_job(&clients, &target, None)
        .await
        .unwrap();
    assert_eq!(started.task_id, TASK_ID);
    assert_eq!(started.outcome, RunOutcome::Running);
    let (end, seen) = follow(&clients, &target, &started.task_arn).await;
    let RunEnd::Stopped(run) = end else {
        panic!("the task stopped")
    };
    assert_eq!(
        (run.outcome, run.exit_code),
        (RunOutcome::Succeeded, Some(0))
    );
    assert_eq!(run.seconds, Some(14), "from startedAt to stoppedAt");
    assert_eq!(run.log_stream, format!("job/job/{TASK_ID}"));
    assert_eq!(
        seen,
        [
            "[PROVISIONING]",
            "[PENDING]",
            "[RUNNING]",
            "{\"level\":\"info\",\"msg\":\"tick\"}",
            "report: 12 rows",
            "done",
            "[STOPPED]"
        ]
    );

    // What went out: one Fargate task of the deployed task definition, in
    // the job's subnets and group, no public IP, started by apprun, with
    // the job's own command (no override).
    let run_task = &fake.bodies("RunTask")[0];
    assert_eq!(
        run_task,
        &json!({
            "cluster": CLUSTER,
            "taskDefinition": TASK_DEF,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": "apprun",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": ["subnet-0protecta", "subnet-0protectc"],
                "securityGroups": ["sg-0protect"],
                "assignPublicIp": "DISABLED"
            }}
        })
    );
    let log_reads = fake.bodies("GetLogEvents");
    assert_eq!(log_reads[0]["logGroupName"], GROUP);
    assert_eq!(log_reads[0]["logStreamName"], format!("job/job/{TASK_ID}"));
    assert_eq!(log_reads[0]["startFromHead"], true);
    let tokens: Vec<&Value> = log_reads.iter().map(|b| &b["nextToken"]).collect();
    assert!(
        tokens[1].is_null(),
        "read from the head once the stream exists"
    );
    assert!(
        tokens[2..]
            .iter()
            .all(|t| t.as_str().is_some_and(|t| t.starts_with("f/"))),
        "then forward with nextForwardToken: {tokens:?}"
    );

    // Recorded as the SDK would name them; RunTask is the one write.
    let writes: Vec<String> = clients
        .calls
        .mutating()
        .iter()
        .map(|c| format!("{} {}", c.service, c.operation))
        .collect();
    assert_eq!(writes, ["ECS RunTask"]);
}

#[tokio::test]
async fn arguments_replace_the_job_command_in_a_container_override() {
    let fake = Fake::default();
    script_a_run(&fake, 0);
    let clients = fake.clients().await;
    let target = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap();
    let args = vec![
        "job".to_owned(),
        "tick".to_owned(),
        "--day".to_owned(),
        "2026-11-25".to_owned(),
    ];
    apprun_deploy::start_job(&clients, &target, Some(&args))
        .await
        .unwrap();
    assert_eq!(
        fake.bodies("RunTask")[0]["overrides"],
        json!({"containerOverrides": [{"name": "job", "command": ["job", "tick", "--day", "2026-11-25"]}]})
    );
}

#[tokio::test]
async fn a_non_zero_exit_is_a_failed_run_with_its_code_and_reason() {
    let fake = Fake::default();
    script_a_run(&fake, 3);
    let clients = fake.clients().await;
    let target = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap();
    let started = apprun_deploy::start_job(&clients, &target, None)
        .await
        .unwrap();
    let (end, _) = follow(&clients, &target, &started.task_arn).await;
    let RunEnd::Stopped(run) = end else {
        panic!("the task stopped")
    };
    assert_eq!((run.outcome, run.exit_code), (RunOutcome::Failed, Some(3)));
    assert_eq!(run.why_stopped(), "Essential container in task exited");
    assert_eq!(run.stop_code.as_deref(), Some("EssentialContainerExited"));
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_stops_the_task_without_an_exit_code() {
    let fake = Fake::default();
    script_stacks(&fake);
    fake.on(
        "RunTask",
        200,
        described(vec![task(TASK_ID, "PROVISIONING", None, None)]),
    );
    // Real behaviour (ECS "stopped tasks errors"): the task stops with
    // stopCode TaskFailedToStart, the container has a reason and no exit
    // code, and no stream was ever created.
    let pull = "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/apprunner-nuxt3-dev:3f2a1bc: not found";
    let mut stopped = task(TASK_ID, "STOPPED", None, Some(pull));
    stopped["stopCode"] = json!("TaskFailedToStart");
    stopped["stoppedReason"] = json!("Task failed to start");
    fake.on(
        "DescribeTasks",
        200,
        described(vec![task(TASK_ID, "PENDING", None, None)]),
    )
    .on("DescribeTasks", 200, described(vec![stopped]));
    fake.on(
        "GetLogEvents",
        400,
        logs_error(
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        ),
    );
    let clients = fake.clients().await;
    let target = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap();
    let started = apprun_deploy::start_job(&clients, &target, None)
        .await
        .unwrap();
    let (end, seen) = follow(&clients, &target, &started.task_arn).await;
    let RunEnd::Stopped(run) = end else {
        panic!("the task stopped")
    };
    assert_eq!(run.outcome, RunOutcome::NotRun);
    assert_eq!(run.exit_code, None);
    assert_eq!(run.why_stopped(), format!("Task failed to start; {pull}"));
    assert_eq!(seen, ["[PENDING]", "[STOPPED]"]);
}

#[tokio::test]
async fn run_task_failures_are_an_error_naming_them() {
    let fake = Fake::default();
    script_stacks(&fake);
    // Real behaviour: RunTask answers 200 with no task and a `failures`
    // entry when ECS cannot start one.
    fake.on(
        "RunTask",
        200,
        json!({"tasks": [], "failures": [{"arn": CLUSTER, "reason": "MISSING", "detail": "The referenced cluster was inactive."}]}).to_string(),
    );
    let clients = fake.clients().await;
    let target = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap();
    let err = apprun_deploy::start_job(&clients, &target, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "RunTask failed for {STACK}: ECS started no task: MISSING (The referenced cluster was inactive.) [{CLUSTER}]"
        )
    );
}

#[tokio::test]
async fn an_aws_error_on_run_task_is_reported_with_its_code() {
    let fake = Fake::default();
    script_stacks(&fake);
    fake.on(
        "RunTask",
        400,
        json!({"__type": "AccessDeniedException", "message": "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:RunTask"}).to_string(),
    );
    let clients = fake.clients().await;
    let target = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap();
    let err = apprun_deploy::start_job(&clients, &target, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            DeployError::Aws {
                operation: "RunTask",
                ..
            }
        ) && err.to_string().contains("AccessDeniedException: User: "),
        "{err}"
    );
}

#[tokio::test]
async fn a_job_whose_stack_is_not_deployed_cannot_run() {
    let fake = Fake::default();
    fake.on("DescribeStacks", 400, no_such_stack());
    let clients = fake.clients().await;
    let err = apprun_deploy::job_target(&clients, &blueprint(), JOB)
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::NotDeployed { .. }), "{err:?}");
    assert!(err.to_string().contains("apprun deploy --env dev"), "{err}");
    assert!(fake.bodies("RunTask").is_empty(), "nothing was started");
}

#[tokio::test]
async fn the_listing_has_the_runs_ecs_still_knows_and_the_dead_letters() {
    let fake = Fake::default();
    script_stacks(&fake);
    // ListTasks of the family: RUNNING (one page), then STOPPED (two pages).
    fake.on(
        "ListTasks",
        200,
        json!({"taskArns": [task_arn("c3")]}).to_string(),
    )
    .on(
        "ListTasks",
        200,
        json!({"taskArns": [task_arn("a1")], "nextToken": "eyJ0b2tlbiI6IDJ9"}).to_string(),
    )
    .on(
        "ListTasks",
        200,
        json!({"taskArns": [task_arn("b2")]}).to_string(),
    );
    let mut older = task("a1", "STOPPED", Some(1), None);
    older["createdAt"] = json!(1764144000.0);
    older["startedBy"] = json!("events-rule/apprunner-nuxt3-dev-job-n");
    let mut running = task("c3", "RUNNING", None, None);
    running["createdAt"] = json!(1764148000.0);
    fake.on(
        "DescribeTasks",
        200,
        described(vec![older, task("b2", "STOPPED", Some(0), None), running]),
    );
    fake.on(
        "GetQueueAttributes",
        200,
        json!({"Attributes": {"ApproximateNumberOfMessages": "2"}}).to_string(),
    );
    let clients = fake.clients().await;
    let listings = apprun_deploy::job_listing(&clients, &blueprint())
        .await
        .unwrap();
    let nightly = listings
        .iter()
        .find(|l| l.job == JOB)
        .expect("the job is listed");
    assert!(nightly.deployed);
    assert_eq!(nightly.stack_status.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(nightly.dead_letters, Some(2));
    assert_eq!(
        nightly.alarm.as_deref(),
        Some("apprunner-nuxt3-dev-job-nightly-failed")
    );
    assert_eq!(nightly.log_group.as_deref(), Some(GROUP));
    let runs: Vec<(&str, RunOutcome, Option<i32>)> = nightly
        .runs
        .iter()
        .map(|r| (r.task_id.as_str(), r.outcome, r.exit_code))
        .collect();
    assert_eq!(
        runs,
        [
            ("c3", RunOutcome::Running, None),
            ("b2", RunOutcome::Succeeded, Some(0)),
            ("a1", RunOutcome::Failed, Some(1)),
        ],
        "newest first"
    );
    assert_eq!(
        nightly.runs[2].started_by.as_deref(),
        Some("events-rule/apprunner-nuxt3-dev-job-n")
    );
    let lists = fake.bodies("ListTasks");
    let family = "apprunner-nuxt3-dev-job-nightly";
    assert_eq!(
        lists,
        [
            json!({"cluster": CLUSTER, "family": family, "desiredStatus": "RUNNING"}),
            json!({"cluster": CLUSTER, "family": family, "desiredStatus": "STOPPED"}),
            json!({"cluster": CLUSTER, "family": family, "desiredStatus": "STOPPED", "nextToken": "eyJ0b2tlbiI6IDJ9"}),
        ]
    );
    assert_eq!(
        fake.bodies("GetQueueAttributes"),
        [json!({"QueueUrl": QUEUE, "AttributeNames": ["ApproximateNumberOfMessages"]})]
    );
    assert!(
        clients.calls.mutating().is_empty(),
        "listing writes nothing"
    );
}

#[tokio::test]
async fn a_job_not_deployed_is_listed_as_such_without_reading_ecs() {
    let fake = Fake::default();
    fake.on("DescribeStacks", 400, no_such_stack());
    let clients = fake.clients().await;
    let listings = apprun_deploy::job_listing(&clients, &blueprint())
        .await
        .unwrap();
    assert_eq!(listings.len(), 1);
    assert!(!listings[0].deployed);
    assert_eq!(listings[0].stack, STACK);
    assert!(listings[0].runs.is_empty());
    assert_eq!(
        clients
            .calls
            .calls()
            .iter()
            .map(|c| c.operation.as_str())
            .collect::<Vec<_>>(),
        ["DescribeStacks"],
        "no network stack, no ECS, no SQS read for a job that does not exist"
    );
}
