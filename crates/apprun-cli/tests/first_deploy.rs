//! The first deploy of an env, against moto_server on loopback: without an
//! image tag everything but the service is stood up (and apprun says how the
//! service will come), the pipeline's templates are staged before the
//! pipeline stack is created, and a tag that is not in the env's ECR
//! repository is refused before any write.
//!
//! moto has no App Runner: a service stack's create fails there (HTTP 500),
//! which is asserted as such. moto creates the pipeline stack but skips the
//! CodePipeline/CodeBuild resources inside it, so no pipeline run starts.

mod common;

use common::*;

const SERVICE: &str = "apprunner-nuxt3-dev-service-web";
const JOB: &str = "apprunner-nuxt3-dev-job-daily-analysis";
const REPOSITORY: &str = "apprunner-nuxt3-dev";
const BUCKET: &str = "apprunner-nuxt3-dev-temporary";

fn outcome(report: &serde_json::Value, stack: &str) -> String {
    report["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == stack)
        .map(|s| s["outcome"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{stack} not in the report: {report}"))
}

/// The calls apprun logged, as "Service:Operation", in order.
fn api_calls(report: &serde_json::Value) -> Vec<String> {
    report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["service"].as_str().unwrap(),
                c["operation"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_deploy_without_a_tag_then_with_one_that_must_exist() {
    let moto = Moto::start();
    let p = project();

    // 1. No tag on a fresh account: everything but the service, exit 0.
    let o = moto.apprun(
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    for stack in [
        "apprunner-nuxt3-iam",
        "apprunner-nuxt3-dev-repository",
        "apprunner-nuxt3-dev-network",
        "apprunner-nuxt3-dev-pipeline",
    ] {
        assert_eq!(outcome(&report, stack), "created", "{report}");
    }
    assert_eq!(outcome(&report, SERVICE), "deferred", "{report}");
    // The shipped scheduled job runs the service's image: its stack waits
    // for the image too, and is named as a job.
    let deferred = report["deferred"].as_array().unwrap();
    let entry = |stack: &str| deferred.iter().find(|d| d["stack"] == stack).cloned();
    let job = entry(JOB).unwrap_or_else(|| panic!("{report}"));
    assert!(
        job["how"]
            .as_str()
            .unwrap()
            .starts_with("job `daily-analysis`"),
        "{job}"
    );
    assert_eq!(outcome(&report, JOB), "deferred", "{report}");
    let service = entry(SERVICE).unwrap_or_else(|| panic!("{report}"));
    let how = service["how"].as_str().unwrap();
    assert!(
        how.contains("the pipeline apprunner-nuxt3-dev creates it on its first run")
            && how.contains("waits for manual approval")
            && how.contains("`apprun release --env dev`"),
        "{how}"
    );

    // The service's and the job's templates were staged before the pipeline
    // stack's create: the iam, repository and network stacks come first
    // (wave 1), then the uploads, then exactly one CreateStack (the pipeline;
    // the service and the job are deferred).
    let calls = api_calls(&report);
    let put = calls
        .iter()
        .position(|c| c == "S3:PutObject")
        .unwrap_or_else(|| panic!("no upload: {calls:?}"));
    let creates_before = calls[..put]
        .iter()
        .filter(|c| *c == "CloudFormation:CreateStack")
        .count();
    let creates_after = calls[put..]
        .iter()
        .filter(|c| *c == "CloudFormation:CreateStack")
        .count();
    assert_eq!((creates_before, creates_after), (3, 1), "{calls:?}");
    assert_eq!(
        calls.iter().filter(|c| *c == "S3:PutObject").count(),
        2,
        "the service's and the job's templates, each staged once: {calls:?}"
    );

    // The staged object is the service stack's synthesized template.
    let out = tempfile::tempdir().unwrap();
    let o = moto.apprun(
        p.path(),
        &[
            "synth",
            "--env",
            "dev",
            "--out",
            out.path().join("t").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let synthesized = std::fs::read(out.path().join("t/service-web.yaml")).unwrap();
    let staged_file = out.path().join("staged.yaml");
    moto.aws(&[
        "s3api",
        "get-object",
        "--bucket",
        BUCKET,
        "--key",
        &format!("apprun/{SERVICE}.yaml"),
        staged_file.to_str().unwrap(),
    ]);
    let staged = std::fs::read(&staged_file).expect("the staged template exists");
    assert_eq!(staged, synthesized);

    // 2. The same deploy again, as text: nothing written, the service still
    //    deferred and how it will come on stderr.
    let o = moto.apprun(p.path(), &["deploy", "--env", "dev", "--yes"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains(SERVICE) && out.contains("deferred"), "{out}");
    assert!(
        err.contains(&format!("{SERVICE}: service `web` is not deployed yet"))
            && err.contains("apprun release --env dev"),
        "{err}"
    );
    assert!(err.contains(" 0 of them writes"), "{err}");

    // 3. A tag that is not in the repository: refused before any write.
    let o = moto.apprun(
        p.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--yes",
            "--image-tag",
            "abc1234",
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(4), "{report}");
    assert_eq!(report["mutating_calls"], 0, "{}", report["calls"]);
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("image tag abc1234 is not in repository apprunner-nuxt3-dev")
            && error.contains("apprun release --env dev")
            && error.contains("nothing was deployed"),
        "{error}"
    );
    assert!(api_calls(&report).contains(&"ECR:DescribeImages".to_owned()));

    // 4. Once the tag is pushed, the same deploy passes the check and goes on
    //    to the service stack, whose create moto cannot do (no App Runner).
    moto.aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        REPOSITORY,
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
            "--image-tag",
            "abc1234",
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(1), "{report}");
    assert_eq!(outcome(&report, SERVICE), "failed", "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("CreateStack failed for apprunner-nuxt3-dev-service-web")
            && error.contains("HTTP 500"),
        "moto has no App Runner: {error}"
    );
    let calls = api_calls(&report);
    let check = calls
        .iter()
        .position(|c| c == "ECR:DescribeImages")
        .unwrap();
    let first_write = calls
        .iter()
        .position(|c| c == "CloudFormation:CreateStack")
        .unwrap();
    assert!(
        check < first_write,
        "the tag is checked before the first write: {calls:?}"
    );
}

/// A Docker image manifest (schema 2) as a registry stores it.
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"sha256:3f2a1bc0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":1048576,"digest":"sha256:9c0ffee0d7e6a4c3b5f8e9d0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3"}]}"#;
