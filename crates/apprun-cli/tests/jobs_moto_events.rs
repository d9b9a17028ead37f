//! The event-driven jobs of the jobs fixture (crates/apprun-blueprint/
//! tests/fixtures/jobs.toml) deployed to moto_server on loopback, prod env:
//! `ingest` (an EventBridge pattern, running the second service's image)
//! and `notify` (an SNS topic apprun creates). Asserted on what moto holds
//! after the deploy, read back through the pinned AWS CLI: the rule's ECS
//! target with the input that hands the event to the run, the topic, its
//! subscription and the inbox queue's redrive to the dead-letter queue; the
//! EventBridge pipe and the alarms, each as moto 5.2.5 creates them or not;
//! then destroy removing the job stacks before the stacks they import from.
//!
//! The copy of the fixture deployed here differs in two ways, both for
//! moto: the system's region is the one the test's AWS CLI reads
//! (ap-northeast-1), and job `mirror` is left out: it subscribes an
//! existing topic of another account (111122223333), which moto's one
//! account cannot hold. Its template facts (the topic's region on the
//! subscription) are asserted in crates/apprun-blueprint/tests/jobs.rs.

mod common;

use common::*;
use serde_json::Value;

const FIXTURE: &str = "crates/apprun-blueprint/tests/fixtures/jobs.toml";
const INGEST: &str = "jobsys-prod-job-ingest";
const NOTIFY: &str = "jobsys-prod-job-notify";
const NETWORK: &str = "jobsys-prod-network";

/// A Docker image manifest (schema 2) as a registry stores it.
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:3f2a1bc0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":1048576,"digest":"sha256:9c0ffee0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3"}]}"#;

/// The fixture without job `mirror`, in the region the AWS CLI reads.
fn project() -> tempfile::TempDir {
    let text = std::fs::read_to_string(workspace().join(FIXTURE)).unwrap();
    let start = text
        .find("[jobs.mirror]")
        .expect("job mirror in the fixture");
    let end = start + text[start..].find("\n[env.").expect("a table after mirror") + 1;
    let text = format!("{}{}", &text[..start], &text[end..]);
    let from = "region = \"eu-west-1\"";
    assert!(text.contains(from));
    let text = text.replacen(from, "region = \"ap-northeast-1\"", 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("apprun.toml"), text).unwrap();
    dir
}

fn outcome(report: &Value, stack: &str) -> String {
    report["stacks"]
        .as_array()
        .unwrap_or_else(|| panic!("no stacks in {report}"))
        .iter()
        .find(|s| s["stack"] == stack)
        .and_then(|s| s["outcome"].as_str())
        .unwrap_or_else(|| panic!("{stack} not in the report: {report}"))
        .to_owned()
}

fn deploy(moto: &Moto, dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["deploy", "--env", "prod", "--yes", "--output", "json"];
    args.extend_from_slice(extra);
    let o = moto.apprun(dir, &args);
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    report
}

/// The resource types of a stack, as moto lists them.
fn resource_types(moto: &Moto, stack: &str) -> Vec<String> {
    let r = moto.aws(&[
        "cloudformation",
        "list-stack-resources",
        "--stack-name",
        stack,
    ]);
    let mut types: Vec<String> = r["StackResourceSummaries"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|r| r["ResourceType"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    types
}

fn queue_attributes(moto: &Moto, name: &str) -> Value {
    let url = moto.aws(&["sqs", "get-queue-url", "--queue-name", name]);
    let url = url["QueueUrl"].as_str().unwrap().to_owned();
    moto.aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        &url,
        "--attribute-names",
        "All",
    ])["Attributes"]
        .clone()
}

#[test]
fn event_and_sns_jobs_deploy_with_their_triggers_and_are_destroyed() {
    let moto = Moto::start();
    let p = project();

    // 1. What the job stacks import: the network stack holds the jobs'
    //    cluster, roles, queues, the created topic and its subscription.
    let report = deploy(&moto, p.path(), &["--stack", "iam,repository,network"]);
    assert_eq!(outcome(&report, NETWORK), "created", "{report}");
    for repository in ["jobsys-prod", "jobsys-prod-api"] {
        moto.aws(&[
            "ecr",
            "put-image",
            "--repository-name",
            repository,
            "--image-tag",
            "abc1234",
            "--image-manifest",
            MANIFEST,
            "--image-manifest-media-type",
            "application/vnd.docker.distribution.manifest.v2+json",
        ]);
    }

    // The SNS job's topic delivers raw messages to its inbox queue, whose
    // redrive sends a message the pipe failed on 5 times (retries = 4) to
    // the dead-letter queue.
    let topics = moto.aws(&["sns", "list-topics"]);
    let topic = topics["Topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["TopicArn"].as_str())
        .find(|a| a.ends_with(&format!(":{NOTIFY}")))
        .unwrap_or_else(|| panic!("the created topic: {topics}"))
        .to_owned();
    // The created topic is exported for publishers.
    let exports = moto.aws(&["cloudformation", "list-exports"]);
    let exported = exports["Exports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Name"] == "jobsys-prod-JobNotifyTopicArn")
        .unwrap_or_else(|| panic!("the topic's export: {exports}"));
    assert_eq!(exported["Value"], topic.as_str(), "{exported}");
    let inbox = queue_attributes(&moto, &format!("{NOTIFY}-inbox"));
    // moto 5.2.5's CloudFormation does not create `AWS::SNS::Subscription`
    // (nor `AWS::SQS::QueuePolicy`): it completes the stack and lists them
    // with no logical id. Asserted so that a moto that creates it is
    // noticed (then assert it: protocol sqs to the inbox, raw delivery);
    // the template's subscription is asserted in
    // crates/apprun-blueprint/tests/jobs.rs.
    let subscriptions = moto.aws(&["sns", "list-subscriptions"]);
    assert_eq!(
        subscriptions["Subscriptions"],
        serde_json::json!([]),
        "moto 5.2.5 does not subscribe from CloudFormation; if it does now, assert the subscription"
    );
    let placeholders = resource_types(&moto, NETWORK)
        .iter()
        .filter(|t| t.is_empty())
        .count();
    assert_eq!(
        placeholders, 5,
        "not created: the 3 dead-letter queue policies, the inbox's policy and the subscription"
    );
    let redrive: Value = serde_json::from_str(
        inbox["RedrivePolicy"]
            .as_str()
            .unwrap_or_else(|| panic!("{inbox}")),
    )
    .unwrap();
    let dlq = queue_attributes(&moto, &format!("{NOTIFY}-dlq"));
    assert_eq!(redrive["deadLetterTargetArn"], dlq["QueueArn"], "{redrive}");
    assert_eq!(redrive["maxReceiveCount"].to_string(), "5", "{redrive}");

    // 2. The job stacks at a tag in their services' repositories.
    let report = deploy(
        &moto,
        p.path(),
        &["--stack", "job-ingest,job-notify", "--image-tag", "abc1234"],
    );
    assert_eq!(outcome(&report, INGEST), "created", "{report}");
    assert_eq!(outcome(&report, NOTIFY), "created", "{report}");

    // The rule runs the ingest task in the jobs cluster, handing it the
    // event as APPRUN_EVENT through the RunTask overrides.
    let targets = moto.aws(&["events", "list-targets-by-rule", "--rule", INGEST]);
    let targets = targets["Targets"].as_array().unwrap().clone();
    assert_eq!(targets.len(), 1, "{targets:?}");
    let target = &targets[0];
    assert!(
        target["Arn"]
            .as_str()
            .unwrap()
            .ends_with(":cluster/jobsys-prod-jobs"),
        "{target}"
    );
    let td = target["EcsParameters"]["TaskDefinitionArn"]
        .as_str()
        .unwrap();
    assert!(
        td.contains(&format!(":task-definition/{INGEST}:")),
        "{target}"
    );
    assert_eq!(target["EcsParameters"]["LaunchType"], "FARGATE", "{target}");
    assert!(
        target["RoleArn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":role/{INGEST}")),
        "{target}"
    );
    let template = target["InputTransformer"]["InputTemplate"]
        .as_str()
        .unwrap_or_else(|| panic!("an input transformer: {target}"));
    assert!(
        template.contains(r#"{"name":"APPRUN_EVENT","value":<aws.events.event.json>}"#),
        "{template}"
    );
    assert_eq!(target["RetryPolicy"]["MaximumRetryAttempts"], 2, "{target}");
    assert!(
        target["DeadLetterConfig"]["Arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{INGEST}-dlq")),
        "{target}"
    );

    // What moto 5.2.5's CloudFormation creates of the SNS job's stack: the
    // task definition and log group, not the pipe and not the alarm (of
    // either job). Asserted so that a moto that creates them
    // is noticed; their properties are asserted on the template.
    let notify = resource_types(&moto, NOTIFY);
    assert!(
        notify.contains(&"AWS::ECS::TaskDefinition".to_owned()),
        "{notify:?}"
    );
    assert!(
        !notify.contains(&"AWS::Pipes::Pipe".to_owned()),
        "moto 5.2.5 does not create pipes from CloudFormation; if it does now, assert the pipe: {notify:?}"
    );
    let alarms = moto.aws(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        &format!("{INGEST}-failed"),
        &format!("{NOTIFY}-failed"),
    ]);
    let alarms: Vec<&str> = alarms["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AlarmName"].as_str().unwrap())
        .collect();
    assert_eq!(
        alarms,
        Vec::<&str>::new(),
        "moto 5.2.5 does not create CloudWatch alarms from CloudFormation; if it does now, assert them"
    );

    // 3. destroy removes the job stacks before the network and repository
    //    stacks they import from.
    let o = moto.apprun(
        p.path(),
        &["destroy", "--env", "prod", "--yes", "--output", "json"],
    );
    let report = json(&o)["report"].clone();
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    let deleted: Vec<&str> = report["deleted"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let pos = |s: &str| {
        deleted
            .iter()
            .position(|d| *d == s)
            .unwrap_or_else(|| panic!("{s} is deleted: {deleted:?}"))
    };
    for job in [INGEST, NOTIFY] {
        assert!(pos(job) < pos(NETWORK), "dependents first: {deleted:?}");
        assert!(
            pos(job) < pos("jobsys-prod-repository"),
            "dependents first: {deleted:?}"
        );
    }
    let stacks = moto.aws(&["cloudformation", "list-stacks"]);
    let live: Vec<&str> = stacks["StackSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["StackStatus"] != "DELETE_COMPLETE")
        .map(|s| s["StackName"].as_str().unwrap())
        .collect();
    assert!(live.is_empty(), "{live:?}");
}
