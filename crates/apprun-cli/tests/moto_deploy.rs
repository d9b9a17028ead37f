//! `apprun deploy`, `diff`, `status` and `destroy` against a real
//! CloudFormation endpoint: moto_server on loopback, started by each test.
//!
//! moto's known limits shape what is asserted here: it
//! has no App Runner (the service stack's create fails there with HTTP 500;
//! the first deploy here defers the service, having no image tag),
//! it does not really apply update change sets, and its stack deletion gives
//! up on a VPC whose dependents its CloudFormation emulation cannot remove.
//! What moto cannot show is covered by crates/apprun-deploy/tests/wire_responses.rs.

mod common;

use common::*;

const MOTO_STACKS: &str = "iam,repository,network,pipeline";

fn outcomes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap().to_owned(),
                s["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_redeploy_diff_status_destroy_on_moto() {
    let moto = Moto::start();
    let p = project();

    // 1. First deploy, no image tag: every stack but the service is created;
    //    the service is deferred (no image can exist yet; moto has no App
    //    Runner anyway: see first_deploy.rs for a deploy with a tag).
    let o = moto.apprun(
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}");
    let got = outcomes(&report);
    for stack in [
        "apprunner-nuxt3-iam",
        "apprunner-nuxt3-dev-network",
        "apprunner-nuxt3-dev-repository",
        "apprunner-nuxt3-dev-pipeline",
    ] {
        assert!(
            got.contains(&(stack.to_owned(), "created".to_owned())),
            "{stack} not created: {got:?}"
        );
    }
    assert!(
        got.contains(&(
            "apprunner-nuxt3-dev-service-web".to_owned(),
            "deferred".to_owned()
        )),
        "{got:?}"
    );
    let waves: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    let pos = |s: &str| waves.iter().position(|w| *w == s).unwrap();
    assert!(
        pos("apprunner-nuxt3-dev-pipeline") > pos("apprunner-nuxt3-dev-network"),
        "dependents come later: {waves:?}"
    );

    // 2. The resources are the reference's, read back through the SDK (ECR,
    //    CloudFormation) and the AWS CLI (EC2, IAM).
    let config = moto.sdk_config().await;
    let vpcs = moto.aws(&["ec2", "describe-vpcs"]);
    let vpc = vpcs["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["CidrBlock"] == "10.0.0.0/24")
        .expect("the reference VPC");
    let vpc_id = vpc["VpcId"].as_str().unwrap();
    let tags: Vec<(&str, &str)> = vpc["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Key"].as_str().unwrap(), t["Value"].as_str().unwrap()))
        .collect();
    assert!(
        tags.contains(&("SystemId", "apprunner-nuxt3")) && tags.contains(&("Env", "dev")),
        "{tags:?}"
    );
    let subnets = moto.aws(&[
        "ec2",
        "describe-subnets",
        "--filters",
        &format!("Name=vpc-id,Values={vpc_id}"),
    ]);
    let mut cidrs: Vec<(String, String)> = subnets["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["CidrBlock"].as_str().unwrap().to_owned(),
                s["AvailabilityZone"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        [
            ("10.0.0.0/27", "ap-northeast-1a"),
            ("10.0.0.128/26", "ap-northeast-1c"),
            ("10.0.0.192/28", "ap-northeast-1a"),
            ("10.0.0.208/28", "ap-northeast-1c"),
            ("10.0.0.32/27", "ap-northeast-1c"),
            ("10.0.0.64/26", "ap-northeast-1a"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let nats = moto.aws(&["ec2", "describe-nat-gateways"]);
    assert_eq!(
        nats["NatGateways"].as_array().unwrap().len(),
        2,
        "one NAT gateway per zone"
    );

    for (role, principal) in [
        (
            "apprunner-nuxt3-apprunner-access",
            "build.apprunner.amazonaws.com",
        ),
        (
            "apprunner-nuxt3-apprunner-instance",
            "tasks.apprunner.amazonaws.com",
        ),
        ("apprunner-nuxt3-pipeline", "codepipeline.amazonaws.com"),
    ] {
        let r = moto.aws(&["iam", "get-role", "--role-name", role]);
        // The CLI decodes the trust policy into JSON; the SDK gave its text.
        let trust = r["Role"]["AssumeRolePolicyDocument"].to_string();
        assert!(
            trust.contains(principal),
            "{role} trusts {principal}: {trust}"
        );
    }

    let repos = moto.aws(&[
        "ecr",
        "describe-repositories",
        "--repository-names",
        "apprunner-nuxt3-dev",
    ]);
    assert_eq!(
        repos["repositories"][0]["imageTagMutability"], "IMMUTABLE",
        "{repos}"
    );

    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let exports: Vec<String> = cfn
        .list_exports()
        .send()
        .await
        .unwrap()
        .exports()
        .iter()
        .map(|e| e.name().unwrap().to_owned())
        .collect();
    for e in [
        "apprunner-nuxt3-dev-VPC",
        "apprunner-nuxt3-dev-ProtectSubnetAZc",
        "apprunner-nuxt3-dev-PrivateSecurityGroup",
        "apprunner-nuxt3-PipelineRoleArn",
        "apprunner-nuxt3-dev-EcrRepositoryUri",
        "apprunner-nuxt3-dev-ArtifactBucketName",
    ] {
        assert!(exports.contains(&e.to_owned()), "{e} exported: {exports:?}");
    }

    // 3. Deploying again what moto holds makes no write at all.
    let o = moto.apprun(
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
    assert_eq!(o.status.code(), Some(0), "{report}");
    assert!(
        outcomes(&report).iter().all(|(_, o)| o == "unchanged"),
        "{report}"
    );
    assert_eq!(report["mutating_calls"], 0, "calls: {}", report["calls"]);
    assert!(report["api_calls"].as_u64().unwrap() >= 5);

    // 4. diff sees nothing to change; status shows what is there.
    let o = moto.apprun(
        p.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--stack",
            MOTO_STACKS,
            "--output",
            "json",
        ],
    );
    assert!(
        outcomes(&json(&o)).iter().all(|(_, o)| o == "unchanged"),
        "{}",
        stdout(&o)
    );
    assert_eq!(json(&o)["changes"], false);
    // `--exit-code`, like `git diff --exit-code`: 0 without changes...
    let o = moto.apprun(
        p.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--stack",
            MOTO_STACKS,
            "--exit-code",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // ...and 2 with changes pending (the service stack is not deployed).
    let o = moto.apprun(
        p.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--stack",
            "service-web",
            "--exit-code",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("apprunner-nuxt3-dev-service-web (create, "),
        "{}",
        stdout(&o)
    );
    let o = moto.apprun(p.path(), &["status", "--env", "dev", "--output", "json"]);
    let status = json(&o);
    let lines: Vec<(String, String)> = status["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert!(
        lines.contains(&(
            "apprunner-nuxt3-dev-network".into(),
            "CREATE_COMPLETE".into()
        )),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("apprunner-nuxt3-dev-service-web".into(), "-".into())),
        "{lines:?}"
    );

    // 5. destroy: dependents first, the CodeCommit repository retained.
    let o = moto.apprun(
        p.path(),
        &["destroy", "--env", "dev", "--yes", "--output", "json"],
    );
    let report = json(&o)["report"].clone();
    let deleted: Vec<&str> = report["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        deleted.first(),
        Some(&"apprunner-nuxt3-dev-pipeline"),
        "the pipeline imports from the others: {report}"
    );
    assert!(
        deleted.contains(&"apprunner-nuxt3-dev-repository")
            && deleted.contains(&"apprunner-nuxt3-iam"),
        "{report}"
    );
    assert!(
        report["retained"]
            .to_string()
            .contains("AWS::CodeCommit::Repository apprunner-nuxt3"),
        "{report}"
    );
    // Never deployed here (they wait for an image): the service's and the
    // shipped job's stacks.
    let absent = report["absent"].to_string();
    for stack in [
        "apprunner-nuxt3-dev-service-web",
        "apprunner-nuxt3-dev-job-daily-analysis",
    ] {
        assert!(absent.contains(stack), "{report}");
    }
    // moto cannot remove the VPC's dependents through its CloudFormation
    // emulation; on AWS the network stack is deleted like the others.
    if !deleted.contains(&"apprunner-nuxt3-dev-network") {
        let failed = report["failed"].to_string();
        assert!(
            failed.contains("apprunner-nuxt3-dev-network")
                && failed.contains("DependencyViolation"),
            "{report}"
        );
        assert_eq!(o.status.code(), Some(1));
    }
    let left: Vec<String> = cfn
        .describe_stacks()
        .send()
        .await
        .unwrap()
        .stacks()
        .iter()
        .map(|s| s.stack_name().unwrap().to_owned())
        .collect();
    assert!(
        !left.contains(&"apprunner-nuxt3-dev-pipeline".to_owned())
            && !left.contains(&"apprunner-nuxt3-iam".to_owned()),
        "{left:?}"
    );
}

#[test]
fn wrong_account_and_missing_yes_are_refused_before_any_write() {
    let moto = Moto::start();
    let p = project();
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    std::fs::write(
        p.path().join("apprun.toml"),
        text.replace("[env.dev]\n", "[env.dev]\naccount = \"999999999999\"\n"),
    )
    .unwrap();
    let o = moto.apprun(
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--image-tag", "abc1234"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("pinned to account 999999999999") && err.contains("for account 123456789012"),
        "{err}"
    );
    assert!(err.contains("0 of them writes"), "{err}");

    std::fs::write(p.path().join("apprun.toml"), &text).unwrap();
    let o = moto.apprun(p.path(), &["deploy", "--env", "dev", "--stack", "network"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("+   VPC") && err.contains("Pass --yes"),
        "the changes are shown, then the refusal: {err}"
    );
    let o = moto.apprun(p.path(), &["status", "--env", "dev", "--output", "json"]);
    assert!(
        json(&o)["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["deployed"] == false && s["status"].is_null()),
        "nothing was created"
    );
}
