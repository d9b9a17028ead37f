//! Deploy, redeploy and destroy through a fault-injecting proxy in front of
//! moto_server (tests/common/faults.rs): errors before the call reaches
//! moto (503, throttling, a reset connection), answers lost after moto
//! applied the call (reset, HTTP 500), and latency. Asserted: the run
//! converges, nothing is created twice, an unchanged redeploy sends no
//! write, and a call that failed is reported with the stack's real state
//! and the command that continues.

mod common;

use std::process::Output;
use std::time::Duration;

use common::faults::{Fault, FaultProxy, Rule, apprun_at};
use common::*;

const IAM: &str = "apprunner-nuxt3-iam";
const REPOSITORY: &str = "apprunner-nuxt3-dev-repository";
const NETWORK: &str = "apprunner-nuxt3-dev-network";
const PIPELINE: &str = "apprunner-nuxt3-dev-pipeline";
const MOTO_STACKS: &str = "iam,repository,network,pipeline";

fn run(proxy: &FaultProxy, dir: &std::path::Path, args: &[&str]) -> Output {
    apprun_at(&proxy.endpoint, dir, args)
        .output()
        .expect("apprun runs")
}

fn outcome(report: &serde_json::Value, stack: &str) -> String {
    report["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == stack)
        .and_then(|s| s["outcome"].as_str())
        .unwrap_or("missing")
        .to_owned()
}

/// The faults that fired, as `Action stack: fault`.
fn fired(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .log()
        .iter()
        .filter_map(|s| {
            let f = s.fault.as_ref()?;
            Some(format!(
                "{} {}: {f}",
                s.action,
                s.stack.as_deref().unwrap_or("-")
            ))
        })
        .collect()
}

/// VPCs moto holds with the reference CIDR, read directly (not through the proxy).
async fn reference_vpcs(moto: &Moto) -> usize {
    let vpcs = moto.aws(&["ec2", "describe-vpcs"]);
    vpcs["Vpcs"]
        .as_array()
        .expect("Vpcs")
        .iter()
        .filter(|v| v["CidrBlock"] == "10.0.0.0/24")
        .count()
}

/// Live stacks at moto, by name, read directly.
async fn live_stacks(moto: &Moto) -> Vec<String> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    let mut names: Vec<String> = cfn
        .describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .filter(|s| s.stack_status().map(|st| st.as_str()) != Some("DELETE_COMPLETE"))
        .map(|s| s.stack_name().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_redeploy_destroy_converge_through_faults() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();

    // 1. First deploy: every kind of fault once, before and after moto.
    proxy.script(vec![
        Rule::new("GetCallerIdentity", 1, Fault::Status(503)),
        Rule::new("DescribeStacks", 2, Fault::Throttle),
        Rule::new("CreateStack", 1, Fault::Reset).for_stack(IAM),
        Rule::new("CreateStack", 1, Fault::ServerErrorAfter).for_stack(NETWORK),
        Rule::new("CreateStack", 1, Fault::DropAfter).for_stack(REPOSITORY),
        Rule::new(
            "DescribeStackEvents",
            6,
            Fault::Delay(Duration::from_millis(150)),
        ),
    ]);
    let o = run(
        &proxy,
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    for stack in [IAM, REPOSITORY, NETWORK, PIPELINE] {
        assert_eq!(outcome(&report, stack), "created", "{stack}: {report}");
    }
    let faults = fired(&proxy);
    for want in [
        "GetCallerIdentity -: Status(503)",
        "DescribeStacks",
        "CreateStack apprunner-nuxt3-iam: Reset",
        "CreateStack apprunner-nuxt3-dev-network: ServerErrorAfter",
        "CreateStack apprunner-nuxt3-dev-repository: DropAfter",
    ] {
        assert!(
            faults.iter().any(|f| f.starts_with(want)),
            "{want} not injected: {faults:?}"
        );
    }
    // The lost answers were followed by reading the stack, not reported FAILED.
    let err = stderr(&o);
    assert!(
        err.contains("the call took effect"),
        "the engine read the real state after a lost answer: {err}"
    );
    // Nothing twice: one stack per name, one reference VPC.
    assert_eq!(
        live_stacks(&moto).await,
        [NETWORK, PIPELINE, REPOSITORY, IAM],
        "one live stack per name, sorted"
    );
    assert_eq!(
        reference_vpcs(&moto).await,
        1,
        "the network was created once"
    );

    // 2. Redeploy through throttling, a 500 on a read and latency: nothing
    //    changed, so not a single write reaches the endpoint.
    proxy.script(vec![
        Rule::new("DescribeStacks", 1, Fault::Throttle),
        Rule::new("GetTemplate", 1, Fault::Status(500)),
        Rule::new(
            "DescribeStacks",
            3,
            Fault::Delay(Duration::from_millis(200)),
        )
        .after(1),
    ]);
    proxy.clear_log();
    let o = run(
        &proxy,
        p.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--yes",
            "--stack",
            MOTO_STACKS,
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    for stack in [IAM, REPOSITORY, NETWORK, PIPELINE] {
        assert_eq!(outcome(&report, stack), "unchanged", "{stack}: {report}");
    }
    assert_eq!(
        proxy.writes(),
        Vec::<String>::new(),
        "writes on an unchanged redeploy"
    );
    assert_eq!(report["mutating_calls"], 0, "{}", report["calls"]);
    assert!(
        fired(&proxy).iter().any(|f| f.starts_with("GetTemplate")),
        "{:?}",
        fired(&proxy)
    );

    // 3. Destroy with the DeleteStack answer of the pipeline lost after moto
    //    applied it, and throttling: the pipeline, repository and IAM stacks
    //    go (moto cannot delete the VPC's dependents, see moto_deploy.rs).
    proxy.script(vec![
        Rule::new("DeleteStack", 1, Fault::ServerErrorAfter).for_stack(PIPELINE),
        Rule::new("DescribeStacks", 1, Fault::Throttle).after(2),
    ]);
    proxy.clear_log();
    let o = run(
        &proxy,
        p.path(),
        &["destroy", "--env", "dev", "--yes", "--output", "json"],
    );
    let doc = json(&o);
    let deleted = doc["report"]["deleted"].to_string();
    for stack in [PIPELINE, REPOSITORY, IAM] {
        assert!(deleted.contains(stack), "{stack} deleted: {doc}");
    }
    assert!(
        fired(&proxy)
            .iter()
            .any(|f| f.starts_with("DeleteStack apprunner-nuxt3-dev-pipeline")),
        "{:?}",
        fired(&proxy)
    );
    let left = live_stacks(&moto).await;
    for stack in [PIPELINE, REPOSITORY, IAM] {
        assert!(!left.contains(&stack.to_owned()), "{left:?}");
    }
    // A second destroy continues where the first stopped: the deleted
    // stacks are absent and are not deleted again.
    proxy.script(Vec::new());
    proxy.clear_log();
    let o = run(
        &proxy,
        p.path(),
        &["destroy", "--env", "dev", "--yes", "--output", "json"],
    );
    let doc = json(&o);
    let absent = doc["report"]["absent"].to_string();
    for stack in [PIPELINE, REPOSITORY, IAM] {
        assert!(absent.contains(stack), "{stack} absent: {doc}");
    }
    assert!(
        proxy
            .writes()
            .iter()
            .all(|w| !w.contains(PIPELINE) && !w.contains(IAM)),
        "{:?}",
        proxy.writes()
    );
}

#[test]
fn a_call_that_never_reached_aws_is_reported_with_the_real_state_and_the_next_command() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    // Every CreateStack of the network stack fails before it reaches moto,
    // through all of the SDK's retries.
    proxy.script(vec![
        Rule::new("CreateStack", 100, Fault::Status(500)).for_stack(NETWORK),
    ]);
    let o = run(
        &proxy,
        p.path(),
        &[
            "deploy", "--env", "dev", "--yes", "--stack", "network", "--output", "json",
        ],
    );
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(1), "{doc}");
    assert_eq!(doc["kind"], "failed", "{doc}");
    let error = doc["error"].as_str().unwrap();
    assert!(
        error.contains("CreateStack failed for apprunner-nuxt3-dev-network")
            && error.contains("did not take effect")
            && error.contains("`apprun deploy --env dev` again"),
        "the real state and the command that continues: {error}"
    );
    assert_eq!(outcome(&doc, NETWORK), "failed", "{doc}");
    assert!(
        proxy.log().iter().any(|s| s.action == "DescribeStacks"
            && s.stack.as_deref() == Some(NETWORK)
            && s.fault.is_none()),
        "the stack was read after the failure"
    );

    // Once the endpoint is healthy, the same command converges.
    proxy.script(Vec::new());
    let o = run(
        &proxy,
        p.path(),
        &[
            "deploy", "--env", "dev", "--yes", "--stack", "network", "--output", "json",
        ],
    );
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(0), "{doc}\n{}", stderr(&o));
    assert_eq!(outcome(&doc, NETWORK), "created", "{doc}");
}

#[test]
fn a_lost_execute_change_set_answer_is_followed_not_reported_failed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    let o = run(&proxy, p.path(), &["deploy", "--env", "dev", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without manual approval the pipeline stack changes: an update
    // through a change set, whose ExecuteChangeSet answer is lost after
    // moto applied it.
    let config = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("approval = true", "approval = false", 1),
    )
    .unwrap();
    // The first attempt reaches moto and its answer is lost; the SDK's
    // retries never reach it: only reading the change set tells.
    proxy.script(vec![
        Rule::new("ExecuteChangeSet", 1, Fault::ServerErrorAfter),
        Rule::new("ExecuteChangeSet", 100, Fault::Status(500)),
    ]);
    proxy.clear_log();
    let o = run(
        &proxy,
        p.path(),
        &[
            "deploy", "--env", "dev", "--yes", "--stack", "pipeline", "--output", "json",
        ],
    );
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(0), "{doc}\n{}", stderr(&o));
    assert_eq!(outcome(&doc, PIPELINE), "updated", "{doc}");
    assert!(
        fired(&proxy)
            .iter()
            .any(|f| f.starts_with("ExecuteChangeSet apprunner-nuxt3-dev-pipeline")),
        "{:?}",
        fired(&proxy)
    );
    assert!(
        stderr(&o).contains("the call took effect"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        live_stacks_blocking(&moto)
            .iter()
            .filter(|s| *s == PIPELINE)
            .count(),
        1
    );
}

fn live_stacks_blocking(moto: &Moto) -> Vec<String> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(live_stacks(moto))
}
