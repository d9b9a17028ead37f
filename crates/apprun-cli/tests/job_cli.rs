//! `apprun job run`, `job list` and `job local` end to end: the built binary
//! against a local endpoint (`--endpoint-url`) that answers each AWS action
//! with a hand-written wire response, written from the AWS API references
//! (ECS RunTask, DescribeTasks, ListTasks; CloudWatch Logs GetLogEvents;
//! SQS GetQueueAttributes; CloudFormation DescribeStacks) in AWS's wire
//! format: awsJson bodies named by `X-Amz-Target` with the `__type` error
//! shape, awsQuery XML for CloudFormation. Not recorded. Exit codes and
//! what reaches stdout and stderr are asserted.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::endpoint::Endpoint;
use common::*;
use serde_json::{Value, json};

const STACK: &str = "apprunner-nuxt3-dev-job-nightly";
const NETWORK: &str = "apprunner-nuxt3-dev-network";
const CLUSTER: &str = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/apprunner-nuxt3-dev-jobs";
const TASK_DEF: &str =
    "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/apprunner-nuxt3-dev-job-nightly:4";
const TASK_ID: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const GROUP: &str = "/apprun/apprunner-nuxt3-dev/job/nightly";
const QUEUE: &str =
    "https://sqs.ap-northeast-1.amazonaws.com/123456789012/apprunner-nuxt3-dev-job-nightly-dlq";
const JOB: &str = "\n[jobs.nightly]\ncommand = [\"job\", \"nightly\", \"0\"]\nschedule = \"cron(0 9 * * ? *)\"\ntimezone = \"Asia/Tokyo\"\n";

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

/// The shipped config with job `nightly` (a schedule) as its only job.
fn project_with_job() -> tempfile::TempDir {
    let p = project();
    let path = p.path().join("apprun.toml");
    let mut text = without_jobs(&std::fs::read_to_string(&path).unwrap());
    text.push_str(JOB);
    std::fs::write(&path, text).unwrap();
    p
}

fn task_arn(id: &str) -> String {
    format!("arn:aws:ecs:ap-northeast-1:123456789012:task/apprunner-nuxt3-dev-jobs/{id}")
}

/// DescribeStacks (awsQuery) of the job stack with its outputs.
fn job_stack() -> String {
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
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

/// DescribeStacks of the env's network stack, whose outputs hold the
/// subnets and security group of every job of the env.
fn network_stack() -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{NETWORK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{NETWORK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T07:50:00Z</CreationTime><Outputs><member><OutputKey>JobSubnets</OutputKey><OutputValue>subnet-0protecta,subnet-0protectc</OutputValue></member><member><OutputKey>JobSecurityGroup</OutputKey><OutputValue>sg-0protect</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

/// The job stack and the network stack, deployed.
fn script_stacks(e: &Endpoint) {
    e.on("DescribeStacks", 200, job_stack());
    e.on(&format!("DescribeStacks {NETWORK}"), 200, network_stack());
}

/// A Fargate task as DescribeTasks describes it (ECS API reference, Task).
fn task(id: &str, status: &str, exit_code: Option<i32>) -> Value {
    let mut container = json!({"name": "job", "lastStatus": status, "taskArn": task_arn(id)});
    if let Some(code) = exit_code {
        container["exitCode"] = json!(code);
    }
    let mut t = json!({
        "taskArn": task_arn(id), "clusterArn": CLUSTER, "taskDefinitionArn": TASK_DEF,
        "lastStatus": status, "desiredStatus": if status == "STOPPED" { "STOPPED" } else { "RUNNING" },
        "launchType": "FARGATE", "startedBy": "apprun", "createdAt": 1764147600.0,
        "containers": [container]
    });
    if matches!(status, "RUNNING" | "STOPPED") {
        t["startedAt"] = json!(1764147630.0);
    }
    if status == "STOPPED" {
        t["stoppedAt"] = json!(1764147642.0);
        t["stopCode"] = json!("EssentialContainerExited");
        t["stoppedReason"] = json!("Essential container in task exited");
    }
    t
}

fn tasks(list: Vec<Value>) -> String {
    json!({"tasks": list, "failures": []}).to_string()
}

fn log_page(messages: &[&str], forward: &str) -> String {
    let events: Vec<Value> = messages
        .iter()
        .map(|m| json!({"timestamp": 1764147631000i64, "message": m, "ingestionTime": 1764147631500i64}))
        .collect();
    json!({"events": events, "nextForwardToken": forward, "nextBackwardToken": "b/0"}).to_string()
}

/// PENDING → RUNNING → STOPPED with `exit_code`, two log lines.
fn script_run(e: &Endpoint, exit_code: i32) {
    script_stacks(e);
    e.on(
        "RunTask",
        200,
        tasks(vec![task(TASK_ID, "PROVISIONING", None)]),
    );
    e.on(
        "DescribeTasks",
        200,
        tasks(vec![task(TASK_ID, "PENDING", None)]),
    )
    .on(
        "DescribeTasks",
        200,
        tasks(vec![task(TASK_ID, "RUNNING", None)]),
    )
    .on(
        "DescribeTasks",
        200,
        tasks(vec![task(TASK_ID, "STOPPED", Some(exit_code))]),
    );
    e.on(
        "GetLogEvents",
        200,
        log_page(&["tick 2026-11-26T09:00:31Z", "report: 12 rows"], "f/2"),
    )
    .on("GetLogEvents", 200, log_page(&[], "f/2"));
}

fn doc(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}\n{}", stdout(o), stderr(o)))
}

// ---- job run

#[test]
fn a_run_prints_its_log_lines_and_exits_0_when_the_job_does() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_run(&e, 0);
    let o = e.run(p.path(), &["job", "run", "--env", "dev", "nightly"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "tick 2026-11-26T09:00:31Z\nreport: 12 rows\n",
        "stdout is the job's output"
    );
    let err = stderr(&o);
    for line in [
        format!(
            "job nightly: started task {TASK_ID} on {CLUSTER} (logs: {GROUP} job/job/{TASK_ID})"
        ),
        "job nightly: task pending".to_owned(),
        "job nightly: task running".to_owned(),
        "job nightly: task stopped".to_owned(),
        "job nightly: succeeded (exit code 0) after 12 s".to_owned(),
    ] {
        assert!(err.contains(&line), "{line:?} in:\n{err}");
    }
    let run_task = &e.bodies("RunTask")[0];
    assert_eq!(run_task["startedBy"], "apprun");
    assert_eq!(run_task["taskDefinition"], TASK_DEF);
    assert!(run_task.get("overrides").is_none(), "the job's own command");
    assert_eq!(
        e.actions().iter().filter(|a| *a == "RunTask").count(),
        1,
        "one task started"
    );
}

#[test]
fn a_job_that_exits_non_zero_exits_6_with_its_code_in_the_document() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_run(&e, 3);
    let o = e.run(
        p.path(),
        &["job", "run", "--env", "dev", "nightly", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["ok"], false);
    assert_eq!(d["kind"], "job-failed");
    assert_eq!(d["exit_code"], 6);
    assert_eq!(d["run"]["exit_code"], 3);
    assert_eq!(d["run"]["outcome"], "failed");
    assert_eq!(d["run"]["task_id"], TASK_ID);
    assert_eq!(
        d["error"],
        format!(
            "job nightly failed: its container exited with code 3 after 12 s (Essential container in task exited); its log: {GROUP} job/job/{TASK_ID}"
        )
    );
    // JSON mode: the log lines go to stderr, stdout is the one document.
    assert!(stderr(&o).contains("report: 12 rows"), "{}", stderr(&o));
}

#[test]
fn a_task_that_never_ran_its_command_exits_1_with_the_reason() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_stacks(&e);
    e.on(
        "RunTask",
        200,
        tasks(vec![task(TASK_ID, "PROVISIONING", None)]),
    );
    // Real behaviour: an image tag missing from ECR stops the task with
    // TaskFailedToStart and a container reason, no exit code.
    let mut stopped = task(TASK_ID, "STOPPED", None);
    stopped["stopCode"] = json!("TaskFailedToStart");
    stopped["stoppedReason"] = json!(
        "CannotPullContainerError: pull image manifest has been retried 7 time(s): not found"
    );
    stopped.as_object_mut().unwrap().remove("startedAt");
    e.on("DescribeTasks", 200, tasks(vec![stopped]));
    e.on(
        "GetLogEvents",
        400,
        json!({"__type": "ResourceNotFoundException", "message": "The specified log stream does not exist."}).to_string(),
    );
    let o = e.run(p.path(), &["job", "run", "--env", "dev", "nightly"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "error: RunTask failed for {STACK}: task {TASK_ID} of job nightly stopped before its command ran: CannotPullContainerError: pull image manifest has been retried 7 time(s): not found"
        )),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn arguments_after_the_double_dash_replace_the_command() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_run(&e, 0);
    // Everything after `--` is the job's (so --endpoint-url goes before it).
    let o = e
        .command(p.path(), &["job", "run", "--env", "dev", "nightly"])
        .args(["--", "job", "tick", "--day", "2026-11-25"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        e.bodies("RunTask")[0]["overrides"],
        json!({"containerOverrides": [{"name": "job", "command": ["job", "tick", "--day", "2026-11-25"]}]})
    );
}

#[test]
fn an_error_while_following_says_the_task_may_still_run() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_stacks(&e);
    e.on(
        "RunTask",
        200,
        tasks(vec![task(TASK_ID, "PROVISIONING", None)]),
    );
    // Real behaviour: credentials allowed to RunTask but not DescribeTasks.
    e.on(
        "DescribeTasks",
        400,
        json!({"__type": "AccessDeniedException", "message": "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:DescribeTasks"}).to_string(),
    );
    let o = e.run(
        p.path(),
        &["job", "run", "--env", "dev", "nightly", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let d = doc(&o);
    assert!(
        d["error"].as_str().unwrap().starts_with(
            "DescribeTasks failed for apprunner-nuxt3-dev-job-nightly: AccessDeniedException: "
        ),
        "{d}"
    );
    assert_eq!(
        d["next"],
        format!(
            "task {TASK_ID} of job nightly was started and may still be running: `apprun job list --env dev` shows it; stop it with `aws ecs stop-task --cluster {CLUSTER} --task {TASK_ID}`"
        )
    );
    assert_eq!(d["run"]["task_id"], TASK_ID);
}

#[test]
fn detach_starts_the_task_and_returns() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_run(&e, 0);
    let o = e.run(
        p.path(),
        &["job", "run", "--env", "dev", "nightly", "--detach"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}\n", task_arn(TASK_ID)));
    assert!(
        stderr(&o).contains(&format!(
            "aws ecs stop-task --cluster {CLUSTER} --task {TASK_ID}"
        )),
        "{}",
        stderr(&o)
    );
    assert!(e.bodies("DescribeTasks").is_empty(), "not followed");
}

#[test]
fn a_job_not_deployed_is_refused_and_an_unknown_one_is_a_usage_error() {
    let p = project_with_job();
    let e = Endpoint::start();
    e.on(
        "DescribeStacks",
        400,
        format!(r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id {STACK} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>"#),
    );
    let o = e.run(
        p.path(),
        &["job", "run", "--env", "dev", "nightly", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        doc(&o)["error"],
        format!(
            "stack {STACK} is not deployed: job `nightly` cannot run before its stack exists; deploy it first (`apprun deploy --env dev`)"
        )
    );
    assert!(e.bodies("RunTask").is_empty());
    let o = e.run(p.path(), &["job", "run", "--env", "dev", "weekly"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: unknown job `weekly`; apprun.toml defines: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ctrl_c_stops_following_and_names_the_task_that_keeps_running() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_stacks(&e);
    e.on(
        "RunTask",
        200,
        tasks(vec![task(TASK_ID, "PROVISIONING", None)]),
    );
    e.on(
        "DescribeTasks",
        200,
        tasks(vec![task(TASK_ID, "RUNNING", None)]),
    );
    e.on("GetLogEvents", 200, log_page(&[], "f/1"));
    let child = e
        .command(p.path(), &["job", "run", "--env", "dev", "nightly"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while e.bodies("DescribeTasks").len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "it follows the task"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "error: interrupted: stopped following job nightly; its task {TASK_ID} keeps running on {CLUSTER}. Stop it with `aws ecs stop-task --cluster {CLUSTER} --task {TASK_ID}`"
        )),
        "{err}"
    );
    assert!(
        !e.actions().iter().any(|a| a == "StopTask"),
        "the task is left running"
    );
}

// ---- job list

fn script_list(e: &Endpoint) {
    script_stacks(e);
    e.on("ListTasks", 200, json!({"taskArns": []}).to_string())
        .on(
            "ListTasks",
            200,
            json!({"taskArns": [task_arn("b2"), task_arn("a1")]}).to_string(),
        );
    let mut failed = task("a1", "STOPPED", Some(2));
    failed["createdAt"] = json!(1764144000.0);
    failed["startedAt"] = json!(1764144030.0);
    failed["stoppedAt"] = json!(1764144095.0);
    failed["startedBy"] = json!("events-rule/apprunner-nuxt3-dev-job-n");
    e.on(
        "DescribeTasks",
        200,
        tasks(vec![failed, task("b2", "STOPPED", Some(0))]),
    );
    e.on(
        "GetQueueAttributes",
        200,
        json!({"Attributes": {"ApproximateNumberOfMessages": "1"}}).to_string(),
    );
}

#[test]
fn list_shows_the_trigger_the_last_runs_and_the_failures_waiting() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_list(&e);
    let o = e.run(p.path(), &["job", "list", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "nightly  (stack {STACK}: UPDATE_COMPLETE)
  trigger       schedule cron(0 9 * * ? *) in Asia/Tokyo
  log group     {GROUP}
  failures      1 waiting in the dead-letter queue (failed starts and failed runs, kept 14 days; alarm apprunner-nuxt3-dev-job-nightly-failed fires while any wait)
  2025-11-26T09:00:00Z  succeeded (exit 0)  12 s  by apprun  task b2
  2025-11-26T08:00:00Z  failed (exit 2)  65 s  by events-rule/apprunner-nuxt3-dev-job-n  task a1
"
        )),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\nECS keeps stopped tasks for about an hour: older runs are in each job's log group.\n"
        ),
        "{out}"
    );

    let e = Endpoint::start();
    script_list(&e);
    let o = e.run(
        p.path(),
        &["job", "list", "--env", "dev", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = doc(&o);
    let job = d["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "nightly")
        .expect("listed");
    assert_eq!(
        job["trigger"],
        json!({"kind": "schedule", "expression": "cron(0 9 * * ? *)", "timezone": "Asia/Tokyo"})
    );
    assert_eq!(job["dead_letters"], 1);
    assert_eq!(job["runs"][0]["outcome"], "succeeded");
    assert_eq!(job["runs"][1]["exit_code"], 2);
    assert_eq!(d["note"], "ECS keeps stopped tasks for about an hour");
}

// ---- job local

/// The shipped config whose service's `local` command prints the job's
/// variables and arguments and exits with its first argument; the job has
/// its own variable and a secret.
fn project_with_local_job() -> tempfile::TempDir {
    let p = project_with_job();
    let path = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = r#"local = ["target/x86_64-unknown-linux-gnu/release/hello-app"]"#;
    assert!(text.contains(from));
    let to = r#"local = ["sh", "-c", "echo \"$ENV $SYSTEM_ID $APPRUN_JOB $APPRUN_JOB_TIMEOUT prefix=$REPORT_PREFIX secret=${DB_PASSWORD:-unset} port=${PORT:-none} args=$*\"; exit $3", "sh"]"#;
    let mut text = text.replacen(from, to, 1);
    // `[jobs.nightly]` is the file's last table: these lines are its.
    assert!(text.trim_end().ends_with(JOB.trim_end()));
    text.push_str("env = { REPORT_PREFIX = \"daily/\" }\n");
    text.push_str("secrets = { DB_PASSWORD = \"ssm:/apprunner-nuxt3/db-password\" }\n");
    std::fs::write(&path, text).unwrap();
    p
}

const SECRETS_UNSET: &str =
    "secrets not read (a local job run does not read them): DB_PASSWORD left unset\n";

#[test]
fn local_runs_the_job_command_after_the_service_program_with_its_variables() {
    let p = project_with_local_job();
    let o = apprun(p.path(), &["job", "local", "--env", "dev", "nightly"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "dev apprunner-nuxt3 nightly 3600 prefix=daily/ secret=unset port=none args=job nightly 0\n",
        "the task's variables, the job's own `env` among them"
    );
    assert!(stderr(&o).starts_with(SECRETS_UNSET), "{}", stderr(&o));
    let o = apprun(
        p.path(),
        &[
            "job", "local", "--env", "stg", "nightly", "--output", "json", "--", "job", "tick", "4",
        ],
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["kind"], "job-failed");
    assert_eq!(d["exit_code"], 6);
    assert_eq!(d["run"]["exit_code"], 4);
    assert_eq!(d["error"], "job nightly failed: it exited with code 4");
    assert_eq!(
        stderr(&o),
        format!(
            "{SECRETS_UNSET}stg apprunner-nuxt3 nightly 3600 prefix=daily/ secret=unset port=none args=job tick 4\n"
        ),
        "JSON mode: the job's output on stderr"
    );
}

// ---- status

#[test]
fn status_shows_each_job_with_its_trigger_and_last_run() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_list(&e);
    let o = e.run(p.path(), &["status", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = doc(&o);
    let jobs = d["jobs"].as_array().expect("a jobs section");
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["job"], "nightly");
    assert_eq!(jobs[0]["trigger"]["expression"], "cron(0 9 * * ? *)");
    assert_eq!(jobs[0]["runs"][0]["outcome"], "succeeded");

    let e = Endpoint::start();
    script_list(&e);
    let o = e.run(p.path(), &["status", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "\nJOB              TRIGGER                                      LAST RUN\nnightly          schedule cron(0 9 * * ? *) in Asia/Tokyo     2025-11-26T09:00:00Z  succeeded (exit 0)  12 s  by apprun  task b2\n"
        ),
        "{out}"
    );
}

// ---- logs --job

#[test]
fn logs_of_a_job_read_its_log_group_with_a_stream_per_run() {
    let p = project_with_job();
    let e = Endpoint::start();
    script_stacks(&e);
    // FilterLogEvents (CloudWatch Logs API reference) over the job's group:
    // two runs, one stream each.
    e.on(
        "FilterLogEvents",
        200,
        json!({"events": [
            {"logStreamName": "job/job/a1", "timestamp": 1000, "message": "tick 1", "ingestionTime": 1100, "eventId": "e1"},
            {"logStreamName": "job/job/b2", "timestamp": 2000, "message": "tick 2", "ingestionTime": 2100, "eventId": "e2"}
        ], "searchedLogStreams": []})
        .to_string(),
    );
    let o = e.run(p.path(), &["logs", "--env", "dev", "--job", "nightly"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "1970-01-01T00:00:01.000Z  job/job/a1  tick 1\n1970-01-01T00:00:02.000Z  job/job/b2  tick 2\n"
    );
    let read = &e.bodies("FilterLogEvents")[0];
    assert_eq!(read["logGroupName"], GROUP);
    assert!(read.get("logStreamNames").is_none(), "every run's stream");
    // --job names a job, not a service.
    let o = e.run(
        p.path(),
        &[
            "logs",
            "--env",
            "dev",
            "--job",
            "nightly",
            "--service",
            "web",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn local_ctrl_c_stops_the_job_as_ecs_would_and_exits_130() {
    let p = project_with_job();
    let path = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        r#"local = ["target/x86_64-unknown-linux-gnu/release/hello-app"]"#,
        r#"local = ["sleep"]"#,
        1,
    );
    std::fs::write(&path, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(["job", "local", "--env", "dev", "nightly", "--", "30"])
        .current_dir(p.path())
        .env_remove("APPRUN_CONFIG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(child.try_wait().unwrap().is_none(), "the job runs");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped promptly"
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(stderr(&o), "error: interrupted: job nightly was stopped\n");
}
