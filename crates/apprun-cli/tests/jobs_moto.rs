//! The shipped config's job (`daily-analysis`, every day at 09:00 Tokyo
//! time) deployed to moto_server on loopback: the network stack's jobs
//! cluster, roles and dead-letter queue, the job stack at a pinned image
//! tag, an unchanged redeploy that writes nothing, and destroy removing the
//! job stack before what it imports from.
//!
//! What moto 5.2.5's CloudFormation does with a job stack (found by this
//! test, asserted as such): it creates the ECS task definition (dropping
//! `Cpu`, `NetworkMode` and `RequiresCompatibilities`) and the log group,
//! and completes the stack without creating the EventBridge Scheduler
//! schedule or the CloudWatch alarm (both asserted below as not created).
//! Their properties are asserted on the template instead
//! (crates/apprun-blueprint/tests/jobs.rs). The event and SNS jobs are
//! deployed to moto by tests/jobs_moto_events.rs.

mod common;

use common::*;

const JOB_STACK: &str = "apprunner-nuxt3-dev-job-daily-analysis";
const INFRASTRUCTURE: &str = "iam,repository,network,pipeline";

/// A Docker image manifest (schema 2) as a registry stores it.
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:3f2a1bc0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":1048576,"digest":"sha256:9c0ffee0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3"}]}"#;

fn outcomes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["stacks"]
        .as_array()
        .unwrap_or_else(|| panic!("no stacks in {report}"))
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap().to_owned(),
                s["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn outcome(report: &serde_json::Value, stack: &str) -> String {
    outcomes(report)
        .into_iter()
        .find(|(s, _)| s == stack)
        .map(|(_, o)| o)
        .unwrap_or_else(|| panic!("{stack} not in the report: {report}"))
}

#[test]
fn the_job_stack_deploys_redeploys_without_writes_and_is_destroyed() {
    let moto = Moto::start();
    let p = project();

    // 1. The infrastructure: the network stack holds the jobs' cluster and roles.
    let o = moto.apprun(
        p.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--yes",
            "--stack",
            INFRASTRUCTURE,
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    assert_eq!(outcome(&report, "apprunner-nuxt3-dev-network"), "created");
    let clusters = moto.aws(&[
        "ecs",
        "describe-clusters",
        "--clusters",
        "apprunner-nuxt3-dev-jobs",
    ]);
    assert_eq!(
        clusters["clusters"][0]["clusterName"], "apprunner-nuxt3-dev-jobs",
        "{clusters}"
    );
    for (role, principal) in [
        (
            "apprunner-nuxt3-dev-job-daily-analysis",
            "scheduler.amazonaws.com",
        ),
        ("apprunner-nuxt3-dev-jobs-task", "ecs-tasks.amazonaws.com"),
        (
            "apprunner-nuxt3-dev-jobs-execution",
            "ecs-tasks.amazonaws.com",
        ),
    ] {
        let r = moto.aws(&["iam", "get-role", "--role-name", role]);
        let trust = r["Role"]["AssumeRolePolicyDocument"].to_string();
        assert!(
            trust.contains(principal),
            "{role} trusts {principal}: {trust}"
        );
    }

    // 2. The job stack at a tag that is in the env's repository.
    moto.aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        "apprunner-nuxt3-dev",
        "--image-tag",
        "abc1234",
        "--image-manifest",
        MANIFEST,
        "--image-manifest-media-type",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]);
    let o = moto.apprun(
        p.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--yes",
            "--stack",
            "job-daily-analysis",
            "--image-tag",
            "abc1234",
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    assert_eq!(outcome(&report, JOB_STACK), "created", "{report}");
    let stack = moto.aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        JOB_STACK,
    ]);
    let parameters = stack["Stacks"][0]["Parameters"].to_string();
    assert!(
        parameters.contains("\"ImageTag\"") && parameters.contains("abc1234"),
        "{parameters}"
    );
    // The task definition runs the repository's image at that tag.
    let td = moto.aws(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        JOB_STACK,
    ]);
    let container = &td["taskDefinition"]["containerDefinitions"][0];
    let image = container["image"].as_str().unwrap();
    assert!(
        image.ends_with("/apprunner-nuxt3-dev:abc1234"),
        "the env's repository at the pinned tag: {image}"
    );
    assert_eq!(container["command"], serde_json::json!(["job", "tick"]));
    // What moto's CloudFormation keeps of the task definition: family,
    // memory, environment and log configuration. It drops `Cpu`,
    // `NetworkMode` and `RequiresCompatibilities` (it answers bridge and
    // EC2), asserted here so that a moto that keeps them is noticed; the
    // template's values are asserted in crates/apprun-blueprint/tests/jobs.rs.
    let td = &td["taskDefinition"];
    assert_eq!(td["family"], JOB_STACK, "{td}");
    assert_eq!(td["memory"], "512", "{td}");
    assert_eq!(
        (td["networkMode"].as_str(), td["cpu"].as_str()),
        (Some("bridge"), None),
        "moto's CloudFormation drops NetworkMode and Cpu: {td}"
    );
    let env: Vec<&str> = container["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        env,
        ["ENV", "SYSTEM_ID", "APPRUN_JOB", "APPRUN_JOB_TIMEOUT"]
    );
    let logs = &container["logConfiguration"]["options"];
    assert_eq!(
        (&logs["awslogs-group"], &logs["awslogs-stream-prefix"]),
        (
            &serde_json::json!("/apprun/apprunner-nuxt3/dev/job-daily-analysis"),
            &serde_json::json!("job")
        )
    );
    let queues = moto.aws(&["sqs", "list-queues"]);
    assert!(
        queues
            .to_string()
            .contains("apprunner-nuxt3-dev-job-daily-analysis-dlq"),
        "{queues}"
    );
    let groups = moto.aws(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        "/apprun/apprunner-nuxt3/dev/job-daily-analysis",
    ]);
    assert_eq!(groups["logGroups"][0]["retentionInDays"], 30, "{groups}");
    // What moto cannot create: the Scheduler schedule.
    let resources = moto.aws(&[
        "cloudformation",
        "list-stack-resources",
        "--stack-name",
        JOB_STACK,
    ]);
    let types: Vec<String> = resources["StackResourceSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ResourceType"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        types.contains(&"AWS::ECS::TaskDefinition".to_owned()),
        "{types:?}"
    );
    assert!(
        !types.contains(&"AWS::Scheduler::Schedule".to_owned()),
        "moto 5.2.5 does not create schedules from CloudFormation; if it does now, assert the schedule: {types:?}"
    );
    let alarms = moto.aws(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        &format!("{JOB_STACK}-failed"),
    ]);
    assert_eq!(
        alarms["MetricAlarms"],
        serde_json::json!([]),
        "moto 5.2.5 does not create CloudWatch alarms from CloudFormation; if it does now, assert the alarm"
    );

    // 3. Deploying the same again writes nothing (the job keeps its tag).
    let all = format!("{INFRASTRUCTURE},job-daily-analysis");
    let o = moto.apprun(
        p.path(),
        &[
            "deploy", "--env", "dev", "--yes", "--stack", &all, "--output", "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    assert!(
        outcomes(&report).iter().all(|(_, o)| o == "unchanged"),
        "{report}"
    );
    assert_eq!(report["mutating_calls"], 0, "{}", report["calls"]);

    // 4. destroy removes the job stack before what it imports from.
    let o = moto.apprun(
        p.path(),
        &["destroy", "--env", "dev", "--yes", "--output", "json"],
    );
    let report = json(&o)["report"].clone();
    let deleted: Vec<&str> = report["deleted"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let pos = |s: &str| deleted.iter().position(|d| *d == s);
    let job = pos(JOB_STACK).unwrap_or_else(|| panic!("the job stack is deleted: {report}"));
    let network = pos("apprunner-nuxt3-dev-network").expect("network deleted");
    assert!(job < network, "dependents first: {deleted:?}");
    let repository = pos("apprunner-nuxt3-dev-repository").expect("repository deleted");
    assert!(job < repository, "dependents first: {deleted:?}");
    let gone = moto.aws(&["cloudformation", "list-stacks"]);
    let live: Vec<&str> = gone["StackSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["StackStatus"] != "DELETE_COMPLETE")
        .map(|s| s["StackName"].as_str().unwrap())
        .collect();
    assert!(!live.contains(&JOB_STACK), "{live:?}");
}
