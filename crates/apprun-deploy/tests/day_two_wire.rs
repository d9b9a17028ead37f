//! `logs`, the pipeline part of `status` and `approve` against hand-written
//! wire responses: bodies written from the AWS API references (CloudWatch
//! Logs FilterLogEvents; CodePipeline GetPipelineState,
//! ListPipelineExecutions, ListActionExecutions, GetPipelineExecution,
//! PutApprovalResult; CloudFormation DescribeStacks) in AWS's wire format
//! (awsJson1_1 bodies named by `X-Amz-Target`, the `__type` error shape;
//! awsQuery XML for CloudFormation), not recorded from AWS. The SDK talks to
//! an in-process HTTP client that answers from a script and keeps every
//! request for the assertions.

mod common;

use std::path::Path;
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_config::Config;
use apprun_deploy::{
    Clients, DeployError, FollowEnd, FollowTiming, LogEvent, LogQuery, LogSource, OpsClients,
};
use serde_json::{Value, json};

const PIPELINE: &str = "apprunner-nuxt3-dev";
const SERVICE_STACK: &str = "apprunner-nuxt3-dev-service-web";
const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";
const APP_GROUP: &str =
    "/aws/apprunner/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa/application";
const RUN: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const OLDER_RUN: &str = "16fd2706-8baf-433b-82eb-8c7fada847da";
const COMMIT: &str = "3f2a1bc9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3";

use common::scripted::Scripted as Fake;

/// The deploy and day-two clients on the script.
async fn clients(fake: &Fake) -> (Clients, OpsClients) {
    (fake.clients().await, fake.ops_clients().await)
}

fn blueprint() -> EnvBlueprint {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = Config::load(&root.join("apprun.toml")).expect("the shipped config loads");
    synthesize(&config, "dev").expect("dev synthesizes")
}

/// DescribeStacks (awsQuery, CloudFormation API reference) for the service
/// stack, with its ServiceArn output.
fn service_stack_described() -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{SERVICE_STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{SERVICE_STACK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Parameters><member><ParameterKey>ImageTag</ParameterKey><ParameterValue>3f2a1bc</ParameterValue></member></Parameters><Outputs><member><OutputKey>ServiceArn</OutputKey><OutputValue>{SERVICE_ARN}</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

/// One FilterLogEvents event (CloudWatch Logs API reference: FilteredLogEvent).
fn event(stream: &str, ts: i64, id: &str, message: &str) -> Value {
    json!({"logStreamName": stream, "timestamp": ts, "message": message, "ingestionTime": ts + 200, "eventId": id})
}

fn page(events: Vec<Value>, next: Option<&str>) -> String {
    let mut body = json!({"events": events, "searchedLogStreams": []});
    if let Some(t) = next {
        body["nextToken"] = json!(t);
    }
    body.to_string()
}

/// GetPipelineState (CodePipeline API reference) for the shipped dev
/// pipeline: Source, Build, Approval, Deploy; `approval` is the Approval
/// action's latest execution.
fn pipeline_state(approval: Value) -> String {
    json!({
        "pipelineName": PIPELINE,
        "pipelineVersion": 1,
        "stageStates": [
            {"stageName": "Source",
             "latestExecution": {"pipelineExecutionId": RUN, "status": "Succeeded"},
             "actionStates": [{"actionName": "Source", "latestExecution": {"status": "Succeeded", "lastStatusChange": 1764147600.0}}]},
            {"stageName": "Build",
             "latestExecution": {"pipelineExecutionId": RUN, "status": "Succeeded"},
             "actionStates": [{"actionName": "Build-web", "latestExecution": {
                 "actionExecutionId": "b1", "status": "Succeeded", "lastStatusChange": 1764147850.0,
                 "externalExecutionId": "apprunner-nuxt3-dev-web-build:0fa3c7e2-1d3b-4a4e-9d55-6a7e1c3f2b10",
                 "externalExecutionUrl": "https://console.aws.amazon.com/codebuild/home"}}]},
            {"stageName": "Approval",
             "latestExecution": {"pipelineExecutionId": RUN, "status": "InProgress"},
             "actionStates": [{"actionName": "Approval", "latestExecution": approval}]},
            {"stageName": "Deploy",
             "latestExecution": {"pipelineExecutionId": OLDER_RUN, "status": "Succeeded"},
             "actionStates": [{"actionName": "Deploy-web"}, {"actionName": "Verify-web"}]}
        ],
        "created": 1763600000.0,
        "updated": 1763600000.0
    })
    .to_string()
}

fn pending() -> Value {
    json!({"actionExecutionId": "a1", "status": "InProgress", "lastStatusChange": 1764147860.0, "token": "0b4e8c9f-approval-token"})
}

// ---- logs

#[tokio::test]
async fn service_logs_follow_next_token_over_pages_and_merge_by_time() {
    let fake = Fake::default();
    fake.on("DescribeStacks", 200, service_stack_described());
    // Page 1 (with a token), an empty page that still searches on, page 3.
    fake.on(
        "FilterLogEvents",
        200,
        page(
            vec![
                event("instance/a", 1_000, "e2", "second"),
                event("instance/b", 500, "e1", "first\n"),
            ],
            Some("token-1"),
        ),
    )
    .on("FilterLogEvents", 200, page(vec![], Some("token-2")))
    .on(
        "FilterLogEvents",
        200,
        page(vec![event("instance/a", 750, "e3", "between")], None),
    );
    let (clients, ops) = clients(&fake).await;
    let bp = blueprint();
    let targets = apprun_deploy::log_targets(&clients, &ops, &bp, &LogSource::Service(None))
        .await
        .unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].group, APP_GROUP, "named after the service ARN");
    let query = LogQuery {
        start_ms: 100,
        filter: Some("ERROR".into()),
    };
    let (events, missing) = apprun_deploy::read_logs(&ops, &targets, &query)
        .await
        .unwrap();
    assert!(missing.is_empty());
    let messages: Vec<&str> = events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        ["first", "between", "second"],
        "by time, newline trimmed"
    );
    assert_eq!(events[0].stream, "instance/b");
    assert_eq!(events[0].time, "1970-01-01T00:00:00.500Z");
    let sent = fake.bodies("FilterLogEvents");
    assert_eq!(sent.len(), 3, "every page is read");
    assert_eq!(sent[0]["logGroupName"], APP_GROUP);
    assert_eq!(sent[0]["startTime"], 100);
    assert_eq!(sent[0]["filterPattern"], "ERROR");
    assert!(sent[0].get("nextToken").is_none());
    assert_eq!(sent[1]["nextToken"], "token-1");
    assert_eq!(sent[2]["nextToken"], "token-2");
}

#[tokio::test]
async fn a_log_group_that_does_not_exist_yet_has_no_events() {
    let fake = Fake::default();
    fake.on("DescribeStacks", 200, service_stack_described());
    // The CloudWatch Logs error shape for a missing group.
    fake.on(
        "FilterLogEvents",
        400,
        json!({"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."}).to_string(),
    );
    let (clients, ops) = clients(&fake).await;
    let targets =
        apprun_deploy::log_targets(&clients, &ops, &blueprint(), &LogSource::Service(None))
            .await
            .unwrap();
    let (events, missing) = apprun_deploy::read_logs(&ops, &targets, &LogQuery::default())
        .await
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(missing, [APP_GROUP]);
}

#[tokio::test]
async fn follow_prints_only_what_arrives_on_later_polls() {
    let fake = Fake::default();
    fake.on("DescribeStacks", 200, service_stack_described());
    let now = 1_764_147_600_000i64;
    // The first read; poll 1 sees it again (the late-arrival window) plus a
    // new event; poll 2 nothing new; poll 3 one more.
    fake.on(
        "FilterLogEvents",
        200,
        page(vec![event("instance/a", now, "e1", "booted")], None),
    )
    .on(
        "FilterLogEvents",
        200,
        page(
            vec![
                event("instance/a", now, "e1", "booted"),
                event("instance/a", now + 2_000, "e2", "GET / 200"),
            ],
            None,
        ),
    )
    .on(
        "FilterLogEvents",
        200,
        page(
            vec![event("instance/a", now + 2_000, "e2", "GET / 200")],
            None,
        ),
    )
    .on(
        "FilterLogEvents",
        200,
        page(
            vec![event("instance/b", now + 9_000, "e3", "GET /health 200")],
            None,
        ),
    );
    let (clients, ops) = clients(&fake).await;
    let targets =
        apprun_deploy::log_targets(&clients, &ops, &blueprint(), &LogSource::Service(None))
            .await
            .unwrap();
    let query = LogQuery {
        start_ms: now - 3_600_000,
        filter: None,
    };
    let (first, _) = apprun_deploy::read_logs(&ops, &targets, &query)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut printed: Vec<LogEvent> = Vec::new();
    let timing = FollowTiming {
        first: Duration::from_millis(1),
        longest: Duration::from_millis(4),
        max_polls: Some(3),
    };
    let end = apprun_deploy::follow_logs(&ops, &targets, &query, &first, timing, rx, |e| {
        printed.push(e.clone())
    })
    .await
    .unwrap();
    assert_eq!(end, FollowEnd::Polls);
    let messages: Vec<&str> = printed.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["GET / 200", "GET /health 200"], "nothing twice");
    let sent = fake.bodies("FilterLogEvents");
    assert_eq!(sent.len(), 4);
    // Polls read again from 30 s before the newest event seen.
    assert_eq!(sent[1]["startTime"], now - 30_000);
    assert_eq!(sent[3]["startTime"], now + 2_000 - 30_000);
}

#[tokio::test]
async fn follow_stops_on_the_interrupt() {
    let fake = Fake::default();
    fake.on("FilterLogEvents", 200, page(vec![], None));
    let (_, ops) = clients(&fake).await;
    let targets = vec![apprun_deploy::LogTarget {
        group: "/apprun/apprunner-nuxt3/dev/web".into(),
        streams: vec![],
        what: "service web".into(),
    }];
    let (tx, rx) = tokio::sync::watch::channel(false);
    let timing = FollowTiming {
        first: Duration::from_millis(5),
        longest: Duration::from_millis(20),
        max_polls: None,
    };
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        tx.send(true).unwrap();
        tx
    });
    let end = tokio::time::timeout(
        Duration::from_secs(10),
        apprun_deploy::follow_logs(
            &ops,
            &targets,
            &LogQuery::default(),
            &[],
            timing,
            rx,
            |_| {},
        ),
    )
    .await
    .expect("follow ends on the interrupt")
    .unwrap();
    assert_eq!(end, FollowEnd::Interrupted);
    drop(stopper.await);
    assert!(
        !fake.bodies("FilterLogEvents").is_empty(),
        "it polled meanwhile"
    );
}

#[tokio::test]
async fn build_logs_come_from_the_last_build_of_the_pipeline() {
    let fake = Fake::default();
    fake.on("GetPipelineState", 200, pipeline_state(pending()));
    fake.on(
        "FilterLogEvents",
        200,
        page(
            vec![event(
                "0fa3c7e2-1d3b-4a4e-9d55-6a7e1c3f2b10",
                5,
                "b1",
                "[Container] Phase complete: BUILD State: SUCCEEDED",
            )],
            None,
        ),
    );
    let (clients, ops) = clients(&fake).await;
    let targets = apprun_deploy::log_targets(&clients, &ops, &blueprint(), &LogSource::Build(None))
        .await
        .unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(
        targets[0].group,
        "/aws/codebuild/apprunner-nuxt3-dev-web-build"
    );
    assert_eq!(targets[0].streams, ["0fa3c7e2-1d3b-4a4e-9d55-6a7e1c3f2b10"]);
    let (events, _) = apprun_deploy::read_logs(&ops, &targets, &LogQuery::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let sent = fake.bodies("FilterLogEvents");
    assert_eq!(
        sent[0]["logStreamNames"],
        json!(["0fa3c7e2-1d3b-4a4e-9d55-6a7e1c3f2b10"])
    );
    assert_eq!(fake.bodies("GetPipelineState")[0]["name"], PIPELINE);
    // A service the env does not have is named as such, before any call.
    let err = apprun_deploy::log_targets(
        &clients,
        &ops,
        &blueprint(),
        &LogSource::Build(Some("api".into())),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DeployError::ServiceNotInEnv { .. }), "{err}");
}

// ---- approve

#[tokio::test]
async fn no_pending_approval_is_refused_with_the_last_answer() {
    let fake = Fake::default();
    fake.on(
        "GetPipelineState",
        200,
        pipeline_state(
            json!({"status": "Succeeded", "lastStatusChange": 1764147860.0, "summary": "ok"}),
        ),
    );
    let (_, ops) = clients(&fake).await;
    let err = apprun_deploy::pending_approval(&ops, &blueprint())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeployError::NoPendingApproval { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no manual approval is pending in pipeline apprunner-nuxt3-dev (its approval last ended Succeeded at 2025-11-26T09:04:20Z); nothing was answered. `apprun status --env dev` shows where its runs are"
    );
    assert!(!fake.actions().contains(&"PutApprovalResult".to_owned()));
}

/// GetPipelineExecution (CodePipeline API reference) of the waiting run.
fn execution() -> String {
    json!({"pipelineExecution": {
        "pipelineName": PIPELINE, "pipelineVersion": 1, "pipelineExecutionId": RUN,
        "status": "InProgress",
        "artifactRevisions": [{"name": "Source", "revisionId": COMMIT,
            "revisionSummary": "Fix the footer\n\nThe footer overlapped the cookie banner.",
            "revisionUrl": "https://ap-northeast-1.console.aws.amazon.com/codesuite/codecommit/repositories/apprunner-nuxt3/commit/3f2a1bc",
            "created": 1764147000.0}]
    }})
    .to_string()
}

#[tokio::test]
async fn pending_approval_shows_the_release_and_answers_with_the_token() {
    let fake = Fake::default();
    fake.on("GetPipelineState", 200, pipeline_state(pending()));
    fake.on("GetPipelineExecution", 200, execution());
    fake.on(
        "PutApprovalResult",
        200,
        json!({"approvedAt": 1764148000.0}).to_string(),
    );
    let (_, ops) = clients(&fake).await;
    let (p, summary) = apprun_deploy::pending_approval(&ops, &blueprint())
        .await
        .unwrap();
    assert_eq!(
        (p.stage.as_str(), p.action.as_str()),
        ("Approval", "Approval")
    );
    assert_eq!(p.execution_id.as_deref(), Some(RUN));
    assert_eq!(summary.commit.as_deref(), Some(COMMIT));
    assert_eq!(summary.message.as_deref(), Some("Fix the footer"));
    assert_eq!(summary.image_tag.as_deref(), Some("3f2a1bc"));
    apprun_deploy::answer_approval(&ops, &p, "dev", false, "breaks checkout")
        .await
        .unwrap();
    let put = &fake.bodies("PutApprovalResult")[0];
    assert_eq!(put["pipelineName"], PIPELINE);
    assert_eq!(put["stageName"], "Approval");
    assert_eq!(put["actionName"], "Approval");
    assert_eq!(put["token"], "0b4e8c9f-approval-token");
    assert_eq!(
        put["result"],
        json!({"summary": "breaks checkout", "status": "Rejected"})
    );
    assert_eq!(
        fake.bodies("GetPipelineExecution")[0]["pipelineExecutionId"],
        RUN
    );
}

#[tokio::test]
async fn an_expired_token_is_reported_as_such() {
    for code in [
        "InvalidApprovalTokenException",
        "ApprovalAlreadyCompletedException",
    ] {
        let fake = Fake::default();
        fake.on("GetPipelineState", 200, pipeline_state(pending()));
        fake.on("GetPipelineExecution", 200, execution());
        // CodePipeline's awsJson1_1 error shape.
        fake.on(
            "PutApprovalResult",
            400,
            json!({"__type": code, "message": "The approval request already received a response or has expired."}).to_string(),
        );
        let (_, ops) = clients(&fake).await;
        let (p, _) = apprun_deploy::pending_approval(&ops, &blueprint())
            .await
            .unwrap();
        let err = apprun_deploy::answer_approval(&ops, &p, "dev", true, "ok")
            .await
            .unwrap_err();
        match &err {
            DeployError::ApprovalExpired { code: c, .. } => assert_eq!(c, code),
            other => panic!("{code}: {other:?}"),
        }
        assert!(
            err.to_string().starts_with(
                "the approval in pipeline apprunner-nuxt3-dev (stage Approval) was already answered or has expired"
            ),
            "{err}"
        );
    }
}

// ---- status

/// ListActionExecutions (CodePipeline API reference) of one run: one
/// action per page, so that the stage view needs every page.
fn actions_pages(fake: &Fake) {
    let action = |stage: &str, name: &str, status: &str, start: f64, end: f64| {
        json!({"pipelineExecutionId": RUN, "actionExecutionId": format!("{name}-x"), "pipelineVersion": 1,
               "stageName": stage, "actionName": name, "startTime": start, "lastUpdateTime": end, "status": status})
    };
    fake.on(
        "ListActionExecutions",
        200,
        json!({"actionExecutionDetails": [action("Source", "Source", "Succeeded", 1764147600.0, 1764147603.0)], "nextToken": "p2"}).to_string(),
    )
    .on(
        "ListActionExecutions",
        200,
        json!({"actionExecutionDetails": [action("Build", "Build-web", "Succeeded", 1764147603.0, 1764147853.0)], "nextToken": "p3"}).to_string(),
    )
    .on(
        "ListActionExecutions",
        200,
        json!({"actionExecutionDetails": [action("Approval", "Approval", "InProgress", 1764147860.0, 1764147860.0)]}).to_string(),
    );
}

#[tokio::test]
async fn status_shows_the_last_runs_with_commit_tag_and_stages() {
    let fake = Fake::default();
    fake.on("GetPipelineState", 200, pipeline_state(pending()));
    fake.on(
        "ListPipelineExecutions",
        200,
        json!({"pipelineExecutionSummaries": [
            {"pipelineExecutionId": RUN, "status": "InProgress", "startTime": 1764147600.0, "lastUpdateTime": 1764147860.0,
             "sourceRevisions": [{"actionName": "Source", "revisionId": COMMIT, "revisionSummary": "Fix the footer"}],
             "trigger": {"triggerType": "CloudWatchEvent"}}
        ]})
        .to_string(),
    );
    actions_pages(&fake);
    let (_, ops) = clients(&fake).await;
    let status = apprun_deploy::pipeline_status(&ops, &blueprint())
        .await
        .unwrap()
        .expect("dev has a pipeline");
    assert!(status.exists);
    assert_eq!(status.pipeline, PIPELINE);
    assert_eq!(
        status.pending_approval.as_ref().map(|p| p.stage.as_str()),
        Some("Approval")
    );
    assert_eq!(status.runs.len(), 1);
    let run = &status.runs[0];
    assert_eq!(run.status, "InProgress");
    assert_eq!(run.image_tag.as_deref(), Some("3f2a1bc"));
    assert_eq!(run.started.as_deref(), Some("2025-11-26T09:00:00Z"));
    let stages: Vec<(&str, Option<&str>, Option<f64>)> = run
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.status.as_deref(), s.seconds))
        .collect();
    assert_eq!(
        stages,
        [
            ("Source", Some("Succeeded"), Some(3.0)),
            ("Build", Some("Succeeded"), Some(250.0)),
            ("Approval", Some("InProgress"), Some(0.0)),
            ("Deploy", None, None),
        ]
    );
    let list = &fake.bodies("ListPipelineExecutions")[0];
    assert_eq!(list["maxResults"], 5);
    let pages = fake.bodies("ListActionExecutions");
    assert_eq!(pages.len(), 3, "every page of the run's actions");
    assert_eq!(pages[0]["filter"], json!({"pipelineExecutionId": RUN}));
    assert_eq!(pages[2]["nextToken"], "p3");
    // The token is never part of what status shows.
    assert!(
        !serde_json::to_string(&status)
            .unwrap()
            .contains("approval-token")
    );
}

#[tokio::test]
async fn status_of_a_pipeline_not_deployed_yet() {
    let fake = Fake::default();
    fake.on(
        "GetPipelineState",
        400,
        json!({"__type": "PipelineNotFoundException", "message": "Account '123456789012' does not have a pipeline with name 'apprunner-nuxt3-dev'"}).to_string(),
    );
    let (_, ops) = clients(&fake).await;
    let status = apprun_deploy::pipeline_status(&ops, &blueprint())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.exists);
    assert!(status.runs.is_empty());
    assert_eq!(fake.actions(), ["GetPipelineState"]);
}
