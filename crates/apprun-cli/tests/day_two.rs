//! `apprun logs` and `apprun approve` end to end: the built binary against a
//! local endpoint (`--endpoint-url`) that answers each AWS action with a
//! hand-written wire response, written from the AWS API references
//! (CloudWatch Logs FilterLogEvents; CodePipeline GetPipelineState,
//! GetPipelineExecution, PutApprovalResult; CloudFormation DescribeStacks,
//! GetTemplate, CreateChangeSet, DescribeChangeSet, DeleteChangeSet)
//! in AWS's wire format: awsJson1_1 bodies named by `X-Amz-Target` with the
//! `__type` error shape, awsQuery XML for CloudFormation. Not recorded.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::endpoint::Endpoint;
use common::*;
use serde_json::{Value, json};

const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";
const RUN: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// DescribeStacks of the dev service stack, with its ServiceArn output.
fn service_stack() -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>apprunner-nuxt3-dev-service-web</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/apprunner-nuxt3-dev-service-web/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Outputs><member><OutputKey>ServiceArn</OutputKey><OutputValue>{SERVICE_ARN}</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

fn event(stream: &str, ts: i64, id: &str, message: &str) -> Value {
    json!({"logStreamName": stream, "timestamp": ts, "message": message, "ingestionTime": ts + 100, "eventId": id})
}

fn page(events: Vec<Value>, next: Option<&str>) -> String {
    let mut body = json!({"events": events, "searchedLogStreams": []});
    if let Some(t) = next {
        body["nextToken"] = json!(t);
    }
    body.to_string()
}

/// GetPipelineState of the dev pipeline with the Approval action's latest
/// execution as given.
fn pipeline_state(approval: Value) -> String {
    json!({
        "pipelineName": "apprunner-nuxt3-dev",
        "pipelineVersion": 1,
        "stageStates": [
            {"stageName": "Source", "latestExecution": {"pipelineExecutionId": RUN, "status": "Succeeded"},
             "actionStates": [{"actionName": "Source", "latestExecution": {"status": "Succeeded"}}]},
            {"stageName": "Approval", "latestExecution": {"pipelineExecutionId": RUN, "status": "InProgress"},
             "actionStates": [{"actionName": "Approval", "latestExecution": approval}]}
        ]
    })
    .to_string()
}

fn waiting() -> Value {
    json!({"status": "InProgress", "lastStatusChange": 1764147860.0, "token": "0b4e8c9f-approval-token"})
}

fn execution() -> String {
    json!({"pipelineExecution": {"pipelineName": "apprunner-nuxt3-dev", "pipelineExecutionId": RUN, "status": "InProgress",
        "artifactRevisions": [{"name": "Source", "revisionId": "3f2a1bc9d8e7f6a5", "revisionSummary": "Fix the footer"}]}})
    .to_string()
}

fn doc(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// ---- logs

#[test]
fn logs_read_every_page_and_print_json_lines_by_time() {
    let p = project();
    let e = Endpoint::start();
    e.on("DescribeStacks", 200, service_stack());
    e.on(
        "FilterLogEvents",
        200,
        page(
            vec![event("instance/a", 2_000, "e2", "GET / 200")],
            Some("next-1"),
        ),
    )
    .on(
        "FilterLogEvents",
        200,
        page(
            vec![event(
                "instance/b",
                1_000,
                "e1",
                r#"{"level":"info","msg":"listening on 3000"}"#,
            )],
            None,
        ),
    );
    let o = e.run(
        p.path(),
        &["logs", "--env", "dev", "--since", "2h", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&o));
    assert_eq!(
        lines[0],
        json!({"timestamp": 1000, "time": "1970-01-01T00:00:01.000Z",
               "group": "/aws/apprunner/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa/application",
               "stream": "instance/b", "message": r#"{"level":"info","msg":"listening on 3000"}"#}),
        "raw message, one event a line"
    );
    assert_eq!(lines[1]["message"], "GET / 200");
    let calls = e.bodies("FilterLogEvents");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1]["nextToken"], "next-1");
    let since = calls[0]["startTime"].as_i64().unwrap();
    let two_hours = 2 * 3600 * 1000;
    assert!(
        (now_ms() - two_hours - since).abs() < 60_000,
        "--since 2h: {since}"
    );
    // Text: time, stream, message.
    let e = Endpoint::start();
    e.on("DescribeStacks", 200, service_stack());
    e.on(
        "FilterLogEvents",
        200,
        page(
            vec![
                event("instance/a", 2_000, "e2", "GET / 200"),
                event(
                    "instance/b",
                    1_000,
                    "e1",
                    r#"{"level":"info","msg":"listening on 3000"}"#,
                ),
            ],
            None,
        ),
    );
    let o = e.run(p.path(), &["logs", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "1970-01-01T00:00:01.000Z  instance/b  {\"level\":\"info\",\"msg\":\"listening on 3000\"}\n1970-01-01T00:00:02.000Z  instance/a  GET / 200\n",
        "a pipe gets JSON messages as they are"
    );
}

#[test]
fn logs_of_a_service_not_deployed_are_refused() {
    let p = project();
    let e = Endpoint::start();
    // CloudFormation's awsQuery error for a stack that does not exist.
    e.on(
        "DescribeStacks",
        400,
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id apprunner-nuxt3-dev-service-web does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>"#,
    );
    let o = e.run(p.path(), &["logs", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        doc(&o)["error"],
        "stack apprunner-nuxt3-dev-service-web is not deployed: there are no logs yet; release the service first (`apprun release --env dev --service web`)"
    );
    assert!(e.bodies("FilterLogEvents").is_empty());
    // An unknown service is a usage error.
    let o = e.run(p.path(), &["logs", "--env", "dev", "--service", "api"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: unknown service `api`; env `dev` has: web\n"
    );
}

#[test]
fn logs_since_takes_an_age() {
    let p = project();
    let o = apprun(p.path(), &["logs", "--env", "dev", "--since", "5x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a number followed by s, m, h or d"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn logs_follow_prints_new_events_until_ctrl_c() {
    let p = project();
    let e = Endpoint::start();
    let now = now_ms();
    e.on("DescribeStacks", 200, service_stack());
    e.on(
        "FilterLogEvents",
        200,
        page(vec![event("instance/a", now - 5_000, "e1", "booted")], None),
    )
    .on(
        "FilterLogEvents",
        200,
        page(vec![event("instance/a", now - 5_000, "e1", "booted")], None),
    )
    .on(
        "FilterLogEvents",
        200,
        page(
            vec![
                event("instance/a", now - 5_000, "e1", "booted"),
                event("instance/a", now - 1_000, "e2", "GET /health 200"),
            ],
            None,
        ),
    );
    let mut child = e
        .command(
            p.path(),
            &["logs", "--env", "dev", "--follow", "--output", "json"],
        )
        .env("APPRUN_POLL_MS", "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            lines.push(line);
        }
        lines
    });
    // Wait for the event that only a later poll brings, then Ctrl-C.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("the new event arrives while following");
        if line.contains("GET /health 200") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let lines = reader.join().unwrap();
    assert_eq!(exit.code(), Some(130), "Ctrl-C ends following with 130");
    // JSON lines, then the error document (pretty-printed): a stream of
    // JSON values, as `jq` reads it.
    let text = lines.join("\n");
    let messages: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("{e}: {text}")))
        .collect();
    let events: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(events, ["booted", "GET /health 200"], "each event once");
    let last = serde_json::to_string(&messages).unwrap();
    assert!(last.contains("\"kind\":\"interrupted\""), "{last}");
    assert!(e.bodies("FilterLogEvents").len() >= 3);
}

// ---- approve

#[test]
fn approve_refuses_when_no_approval_is_pending() {
    let p = project();
    let e = Endpoint::start();
    e.on(
        "GetPipelineState",
        200,
        pipeline_state(json!({"status": "Succeeded", "lastStatusChange": 1764147860.0})),
    );
    let o = e.run(
        p.path(),
        &["approve", "--env", "dev", "--yes", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["kind"], "refused");
    assert_eq!(
        d["error"],
        "no manual approval is pending in pipeline apprunner-nuxt3-dev (its approval last ended Succeeded at 2025-11-26T09:04:20Z); nothing was answered. `apprun status --env dev` shows where its runs are"
    );
    assert!(e.bodies("PutApprovalResult").is_empty());
}

#[test]
fn approve_reports_an_expired_token() {
    let p = project();
    let e = Endpoint::start();
    e.on("GetPipelineState", 200, pipeline_state(waiting()));
    e.on("GetPipelineExecution", 200, execution());
    e.on(
        "PutApprovalResult",
        400,
        json!({"__type": "InvalidApprovalTokenException", "message": "The approval request already received a response or has expired."}).to_string(),
    );
    let o = e.run(p.path(), &["approve", "--env", "dev", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("pipeline apprunner-nuxt3-dev waits at Approval/Approval"),
        "summary first: {err}"
    );
    assert!(err.contains("  image    3f2a1bc\n"), "{err}");
    assert!(
        err.contains("error: the approval in pipeline apprunner-nuxt3-dev (stage Approval) was already answered or has expired (InvalidApprovalTokenException: The approval request already received a response or has expired.); nothing was changed"),
        "{err}"
    );
    assert_eq!(
        e.bodies("PutApprovalResult")[0]["token"],
        "0b4e8c9f-approval-token"
    );
}

#[test]
fn approve_asks_and_refuses_without_a_terminal() {
    let p = project();
    let e = Endpoint::start();
    e.on("GetPipelineState", 200, pipeline_state(waiting()));
    e.on("GetPipelineExecution", 200, execution());
    let o = e.run(p.path(), &["approve", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(
        doc(&o)["error"],
        "not asking: stdin is not a terminal. Pass --yes to go ahead."
    );
    assert!(e.bodies("PutApprovalResult").is_empty(), "nothing answered");
}

#[test]
fn approve_and_reject_with_yes() {
    let p = project();
    let e = Endpoint::start();
    e.on("GetPipelineState", 200, pipeline_state(waiting()));
    e.on("GetPipelineExecution", 200, execution());
    e.on(
        "PutApprovalResult",
        200,
        json!({"approvedAt": 1764148000.0}).to_string(),
    );
    let o = e.run(
        p.path(),
        &["approve", "--env", "dev", "--yes", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["answer"], "approved");
    assert_eq!(d["release"]["image_tag"], "3f2a1bc");
    assert_eq!(d["approval"]["stage"], "Approval");
    assert!(
        d["approval"].get("token").is_none(),
        "the token stays private"
    );
    let o = e.run(
        p.path(),
        &[
            "approve",
            "--env",
            "dev",
            "--yes",
            "--reject",
            "--comment",
            "breaks checkout",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "rejected: the run of apprunner-nuxt3-dev stops before its deploy stage\n"
    );
    let puts = e.bodies("PutApprovalResult");
    assert_eq!(
        puts[0]["result"],
        json!({"summary": "approved with apprun", "status": "Approved"})
    );
    assert_eq!(
        puts[1]["result"],
        json!({"summary": "breaks checkout", "status": "Rejected"})
    );
}

/// An awsQuery answer of CloudFormation with `inner` as its result.
fn cfn_ok(action: &str, inner: &str) -> String {
    format!(
        r#"<{action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></{action}Response>"#
    )
}

const CHANGE_SET: &str =
    "arn:aws:cloudformation:ap-northeast-1:123456789012:changeSet/apprun-x/1a2b";

/// The CloudFormation calls of the read-only diff of the service stack at
/// the run's tag: the deployed template differs, so an update change set is
/// created, read (CREATE_COMPLETE, one modified resource) and deleted.
fn script_change_set(e: &Endpoint) {
    e.on("DescribeStacks", 200, service_stack());
    e.on(
        "GetTemplate",
        200,
        cfn_ok(
            "GetTemplate",
            "<TemplateBody>Description: the template of the last deploy</TemplateBody>",
        ),
    );
    e.on(
        "CreateChangeSet",
        200,
        cfn_ok(
            "CreateChangeSet",
            &format!("<Id>{CHANGE_SET}</Id><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/apprunner-nuxt3-dev-service-web/1</StackId>"),
        ),
    );
    e.on(
        "DescribeChangeSet",
        200,
        cfn_ok(
            "DescribeChangeSet",
            &format!("<ChangeSetName>apprun-x</ChangeSetName><ChangeSetId>{CHANGE_SET}</ChangeSetId><StackName>apprunner-nuxt3-dev-service-web</StackName><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Service</LogicalResourceId><ResourceType>AWS::AppRunner::Service</ResourceType><Replacement>False</Replacement></ResourceChange></member></Changes>"),
        ),
    );
    e.on(
        "DeleteChangeSet",
        200,
        r#"<DeleteChangeSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DeleteChangeSetResult/><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></DeleteChangeSetResponse>"#,
    );
}

#[test]
fn approve_shows_the_change_set_of_the_deploy_stage_first() {
    let p = project();
    let e = Endpoint::start();
    e.on("GetPipelineState", 200, pipeline_state(waiting()));
    e.on("GetPipelineExecution", 200, execution());
    e.on(
        "PutApprovalResult",
        200,
        json!({"approvedAt": 1764148000.0}).to_string(),
    );
    script_change_set(&e);
    let o = e.run(p.path(), &["approve", "--env", "dev", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "pipeline apprunner-nuxt3-dev waits at Approval/Approval since 2025-11-26T09:04:20Z\n  run      7c9e6679-7425-40de-944b-e07fc1f90ae7\n  commit   3f2a1bc9d8e7f6a5\n  message  Fix the footer\n  image    3f2a1bc\nchanges of the deploy stage (service stacks at image 3f2a1bc):\napprunner-nuxt3-dev-service-web (update, 1 change)\n  ~   Service                                  AWS::AppRunner::Service\n"
    );
    // The change set is created at the run's tag, read, and deleted: never
    // executed; the approval is answered after it.
    let created = e.raw("CreateChangeSet");
    assert_eq!(created.len(), 1);
    assert!(
        created[0].contains("StackName=apprunner-nuxt3-dev-service-web"),
        "{}",
        created[0]
    );
    assert!(
        created[0].contains("ParameterValue=3f2a1bc"),
        "{}",
        created[0]
    );
    assert!(
        created[0].contains("ChangeSetType=UPDATE"),
        "{}",
        created[0]
    );
    assert_eq!(e.raw("DeleteChangeSet").len(), 1);
    assert!(e.raw("ExecuteChangeSet").is_empty());
    assert_eq!(e.bodies("PutApprovalResult").len(), 1);
    // JSON mode: the same changes under "changes".
    let o = e.run(
        p.path(),
        &["approve", "--env", "dev", "--yes", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["changes"]["pending"], true);
    assert_eq!(
        d["changes"]["stacks"][0]["stack"],
        "apprunner-nuxt3-dev-service-web"
    );
    assert_eq!(d["changes"]["stacks"][0]["outcome"], "changes");
    let changes = &d["changes"]["stacks"][0]["changes"];
    assert_eq!(changes.as_array().map(Vec::len), Some(1), "{changes}");
    assert_eq!(changes[0]["logical_id"], "Service");
    assert_eq!(changes[0]["resource_type"], "AWS::AppRunner::Service");
}

#[test]
fn approve_asks_without_the_change_set_when_it_cannot_be_computed() {
    let p = project();
    let e = Endpoint::start();
    e.on("GetPipelineState", 200, pipeline_state(waiting()));
    e.on("GetPipelineExecution", 200, execution());
    e.on(
        "PutApprovalResult",
        200,
        json!({"approvedAt": 1764148000.0}).to_string(),
    );
    // An operator allowed to approve but not to read CloudFormation.
    e.on(
        "DescribeStacks",
        403,
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudformation:DescribeStacks</Message></Error><RequestId>4</RequestId></ErrorResponse>"#,
    );
    let o = e.run(p.path(), &["approve", "--env", "dev", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // One line says why, and the question (here --yes) still stands.
    let err = stderr(&o);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("changes: could not be computed (DescribeStacks failed for apprunner-nuxt3-dev-service-web: ")
            && last.contains("not authorized to perform: cloudformation:DescribeStacks")
            && last.ends_with("); the question stands without them"),
        "{err}"
    );
    assert!(
        err.contains("  image    3f2a1bc\nchanges: could not"),
        "{err}"
    );
    assert_eq!(e.bodies("PutApprovalResult").len(), 1, "still answered");
    // Without a terminal and without --yes: refused, the changes' error in
    // the JSON error document.
    let o = e.run(p.path(), &["approve", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let d = doc(&o);
    assert_eq!(d["kind"], "refused");
    let error = d["changes"]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("DescribeStacks failed for apprunner-nuxt3-dev-service-web: "),
        "{d}"
    );
    assert!(
        e.raw("CreateChangeSet").is_empty(),
        "nothing past the failed read"
    );
}

// ---- help

#[test]
fn help_of_logs_and_approve() {
    let p = project();
    for command in ["logs", "approve"] {
        let o = Command::new(env!("CARGO_BIN_EXE_apprun"))
            .args([command, "--help"])
            .current_dir(p.path())
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stdout(&o).contains("AWS options:\n      --profile <NAME>"),
            "{command}"
        );
        insta::assert_snapshot!(format!("help_{command}"), stdout(&o));
    }
}
