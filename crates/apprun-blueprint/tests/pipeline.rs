//! The pipeline's build and verify side: builds that need nothing the stock
//! CodeBuild image lacks, a source repository in every account that has a
//! pipeline, Verify inside the VPC for private envs, and buildspecs that fail
//! whenever a status cannot be read.
//!
//! The buildspec tests run the generated commands with bash, as CodeBuild
//! does (`shell: bash`, each command judged by its exit status), with the
//! AWS CLI, docker and curl replaced by stubs that print hand-written CLI
//! answers (App Runner and ECS Express cannot be served by moto).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use apprun_blueprint::{
    BUILD_IMAGE, BuildImage, EnvBlueprint, GapKind, StackKind, pipeline_prebuild_gaps, synthesize,
};
use apprun_config::{Config, SourceKind};
use apprun_template::{Template, Value, import};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(rel: &str) -> Config {
    Config::load(&workspace().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const CONFIGS: [&str; 3] = [
    "apprun.toml",
    "fixtures/shop-api.toml",
    "fixtures/express.toml",
];

fn template(bp: &EnvBlueprint, kind: StackKind) -> &Template {
    &bp.stack(&kind)
        .unwrap_or_else(|| panic!("no {kind:?} stack"))
        .template
}

fn prop<'a>(t: &'a Template, resource: &str, path: &str) -> Option<&'a Value> {
    let mut keys = path.split('.');
    let mut v = t.resources.get(resource)?.properties.get(keys.next()?)?;
    for k in keys {
        v = v.get(k)?;
    }
    Some(v)
}

/// The value of a CodeBuild project's environment variable.
fn env_var<'a>(t: &'a Template, project: &str, name: &str) -> Option<&'a Value> {
    prop(t, project, "Environment.EnvironmentVariables")?
        .as_list()?
        .iter()
        .find(|v| v.get("Name") == Some(&Value::from(name)))?
        .get("Value")
}

/// A fresh folder under the system's temporary folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "apprun-pipeline-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn executable(&self, rel: &str, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.write(rel, text);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Source repositories: one per account, created where a pipeline reads it.

/// For every env of every config: the repository its pipeline's Source
/// action and push rule name is created by a repository stack of an env in
/// the same account, and by exactly one (envs without `account` count as one
/// account).
#[test]
fn every_pipeline_source_is_created_in_its_own_account() {
    for file in CONFIGS {
        let cfg = config(file);
        let mut creators: BTreeMap<Option<String>, Vec<(String, String)>> = BTreeMap::new();
        let mut readers: Vec<(String, Option<String>, String)> = Vec::new();
        for env in cfg.envs.values() {
            let bp = synthesize(&cfg, &env.name).unwrap();
            let repo = template(&bp, StackKind::Repository);
            for r in repo.resources.values() {
                if r.kind == "AWS::CodeCommit::Repository" {
                    let name = r.properties["RepositoryName"].as_str().unwrap().to_owned();
                    assert_eq!(
                        (r.deletion_policy(), r.update_replace_policy()),
                        (Some("Retain"), Some("Retain")),
                        "{file} {}: the source outlives the stack",
                        env.name
                    );
                    creators
                        .entry(env.account.clone())
                        .or_default()
                        .push((env.name.clone(), name));
                }
            }
            let pipeline = template(&bp, StackKind::Pipeline);
            let stages = prop(pipeline, "Pipeline", "Stages")
                .unwrap()
                .as_list()
                .unwrap();
            let source = &stages[0].get("Actions").unwrap().as_list().unwrap()[0];
            if let Some(name) = source
                .get("Configuration")
                .and_then(|c| c.get("RepositoryName"))
            {
                let name = name.as_str().unwrap().to_owned();
                // The push rule watches the same repository of this account.
                let watched = prop(pipeline, "PipelineTrigger", "EventPattern.resources").unwrap();
                assert_eq!(
                    watched,
                    &Value::List(vec![apprun_template::sub(format!(
                        "arn:${{AWS::Partition}}:codecommit:${{AWS::Region}}:${{AWS::AccountId}}:{name}"
                    ))])
                );
                readers.push((env.name.clone(), env.account.clone(), name));
            }
        }
        if cfg.source.kind == SourceKind::GitHub {
            assert!(creators.is_empty() && readers.is_empty(), "{file}");
            continue;
        }
        assert!(!readers.is_empty(), "{file} has CodeCommit pipelines");
        for (env, account, name) in &readers {
            let made: Vec<&(String, String)> = creators
                .get(account)
                .map(|c| c.iter().filter(|(_, n)| n == name).collect())
                .unwrap_or_default();
            assert_eq!(
                made.len(),
                1,
                "{file} {env} (account {account:?}) reads {name}; created by {made:?}"
            );
        }
    }
    // The shipped config: prod is another account, so it creates its own.
    let cfg = config("apprun.toml");
    let created: Vec<&str> = ["dev", "stg", "prod"]
        .into_iter()
        .filter(|e| {
            template(&synthesize(&cfg, e).unwrap(), StackKind::Repository)
                .resources
                .contains_key("SourceRepository")
        })
        .collect();
    assert_eq!(created, ["dev", "prod"]);
}

// ---------------------------------------------------------------------------
// Builds on the stock CodeBuild image.

#[test]
fn the_shipped_pipeline_builds_with_nothing_the_image_lacks() {
    let cfg = config("apprun.toml");
    assert!(
        pipeline_prebuild_gaps(&cfg, &workspace()).is_empty(),
        "{:?}",
        pipeline_prebuild_gaps(&cfg, &workspace())
    );
    let web = &cfg.services["web"];
    assert_eq!(web.pipeline_build(), ("Dockerfile.multistage", &[][..]));
    // The workstation keeps the offline FROM scratch path.
    assert_eq!(
        web.release_build(),
        ("Dockerfile", &["scripts/build-app.sh".to_owned()][..])
    );
    for env in ["dev", "stg", "prod"] {
        let bp = synthesize(&cfg, env).unwrap();
        let p = template(&bp, StackKind::Pipeline);
        assert_eq!(
            prop(p, "BuildProjectWeb", "Environment.Image"),
            Some(&Value::from(BUILD_IMAGE))
        );
        assert_eq!(
            env_var(p, "BuildProjectWeb", "DOCKERFILE"),
            Some(&Value::from("Dockerfile.multistage"))
        );
        assert_eq!(
            env_var(p, "BuildProjectWeb", "PREBUILD"),
            Some(&Value::from(""))
        );
    }
}

/// The pipeline's Dockerfile pulls only from ECR Public (no Docker Hub rate
/// limits) and ends in the same image as the workstation's FROM scratch one.
#[test]
fn the_pipeline_dockerfile_uses_ecr_public_and_makes_the_same_image() {
    let read = |f: &str| std::fs::read_to_string(workspace().join(f)).unwrap();
    let multistage = read("Dockerfile.multistage");
    let workstation = read("Dockerfile");
    let mut stages = Vec::new();
    for line in multistage.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"FROM") {
            let image = words[1];
            assert!(
                image == "scratch"
                    || image.starts_with("public.ecr.aws/")
                    || stages.contains(&image),
                "{image} is not from ECR Public"
            );
            if let Some(alias) = words.get(3) {
                stages.push(*alias);
            }
        }
    }
    assert!(multistage.contains("FROM public.ecr.aws/docker/library/rust:1.95"));
    let final_stage = |text: &str| -> Vec<String> {
        let from = text.rfind("FROM ").unwrap();
        text[from..]
            .lines()
            .filter(|l| {
                ["ENV", "EXPOSE", "USER", "ENTRYPOINT"]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(final_stage(&multistage), final_stage(&workstation));
    assert!(workstation.lines().any(|l| l == "FROM scratch"));
    assert!(multistage.contains("FROM scratch\n"));
    assert!(multistage.contains("+crt-static") && multistage.contains("-p hello-app"));
}

#[test]
fn the_image_data_names_its_image_and_source() {
    let data = include_str!("../data/codebuild-amazonlinux-x86_64-standard-5.0.programs");
    assert!(data.contains(BUILD_IMAGE));
    assert!(
        data.contains("aws-codebuild-docker-images") && data.contains("al/x86_64/standard/5.0")
    );
    let image = BuildImage::pipeline();
    for p in [
        "bash", "docker", "aws", "git", "make", "gcc", "node", "npm", "python3", "go", "java",
        "jq", "curl",
    ] {
        assert!(image.provides(p), "{p}");
    }
    for p in ["cargo", "rustc", "rustup", "bun", "deno"] {
        assert!(!image.provides(p), "{p}");
    }
}

/// A config whose service `web` has `prebuild` (TOML array text) for the
/// pipeline; the repository is `root`.
fn with_prebuild(prebuild: &str) -> Config {
    let text = std::fs::read_to_string(workspace().join("apprun.toml"))
        .unwrap()
        .replace(
            "dockerfile = \"Dockerfile.multistage\"",
            &format!("dockerfile = \"Dockerfile\"\nprebuild = {prebuild}"),
        );
    Config::parse(&text, "apprun.toml").unwrap()
}

#[test]
fn a_cargo_prebuild_in_the_pipeline_is_found_through_its_script() {
    // The shipped config before this change: the pipeline ran build-app.sh.
    let cfg = with_prebuild("[\"scripts/build-app.sh\"]");
    let gaps = pipeline_prebuild_gaps(&cfg, &workspace());
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap = &gaps[0];
    let script = std::fs::read_to_string(workspace().join("scripts/build-app.sh")).unwrap();
    let cargo_line = script
        .lines()
        .position(|l| l.contains("cargo build"))
        .unwrap()
        + 1;
    assert_eq!(
        (gap.service.as_str(), gap.program.as_str(), &gap.kind),
        ("web", "cargo", &GapKind::NotInImage)
    );
    assert_eq!(
        gap.run_by,
        Some(("scripts/build-app.sh".to_owned(), cargo_line))
    );
    let m = gap.to_string();
    assert!(
        m.contains("`cargo`") && m.contains(BUILD_IMAGE) && m.contains("[services.web.release]"),
        "{m}"
    );
}

#[test]
fn prebuild_programs_scripts_and_interpreters() {
    let repo = Scratch::new("repo");
    repo.write(
        "scripts/web.sh",
        "#!/bin/sh\nset -e\nnpm ci && npm run build\n./scripts/assets.sh\nbun build x.ts\n",
    );
    repo.write(
        "scripts/assets.sh",
        "#!/usr/bin/env bash\nfor f in *.png; do optipng \"$f\"; done\nzip -r a.zip dist\n",
    );
    repo.write(
        "scripts/gen.py",
        "#!/usr/bin/env python3\nimport subprocess\nsubprocess.run(['cargo'])\n",
    );
    repo.write("scripts/lua.sh", "#!/usr/bin/env lua\nprint(1)\n");
    type Found = (String, Option<(String, usize)>, GapKind);
    let gaps = |prebuild: &str| -> Vec<Found> {
        pipeline_prebuild_gaps(&with_prebuild(prebuild), &repo.0)
            .into_iter()
            .map(|g| (g.program, g.run_by, g.kind))
            .collect()
    };
    let at = |f: &str, l: usize| Some((f.to_owned(), l));
    // Nested scripts are followed; each missing program once, sorted.
    assert_eq!(
        gaps("[\"scripts/web.sh\"]"),
        [
            (
                "bun".to_owned(),
                at("scripts/web.sh", 5),
                GapKind::NotInImage
            ),
            (
                "optipng".to_owned(),
                at("scripts/assets.sh", 2),
                GapKind::NotInImage
            ),
        ]
    );
    // `bash FILE` and `env` are looked through; bare names are PATH lookups.
    assert_eq!(
        gaps("[\"env\", \"CI=1\", \"bash\", \"scripts/assets.sh\"]").len(),
        1
    );
    assert_eq!(
        gaps("[\"cargo\", \"build\"]"),
        [("cargo".to_owned(), None, GapKind::NotInImage)]
    );
    assert_eq!(
        gaps("[\"bash\", \"-c\", \"make && cargo build\"]"),
        [("cargo".to_owned(), None, GapKind::NotInImage)]
    );
    assert!(gaps("[\"make\", \"image\"]").is_empty());
    // Another interpreter is needed, its body is not read.
    assert!(gaps("[\"scripts/gen.py\"]").is_empty());
    assert_eq!(
        gaps("[\"scripts/lua.sh\"]"),
        [(
            "lua".to_owned(),
            at("scripts/lua.sh", 1),
            GapKind::NotInImage
        )]
    );
    // A script that is not in the repository.
    assert_eq!(
        gaps("[\"scripts/missing.sh\"]"),
        [(
            "scripts/missing.sh".to_owned(),
            None,
            GapKind::ScriptMissing
        )]
    );
}

// ---------------------------------------------------------------------------
// Verify inside the VPC for private envs.

#[test]
fn private_envs_verify_from_the_protect_tier() {
    for (file, env) in [
        ("fixtures/shop-api.toml", "prod"),
        ("fixtures/express.toml", "prod"),
    ] {
        let cfg = config(file);
        let id = cfg.system.id.clone();
        let bp = synthesize(&cfg, env).unwrap();
        let p = template(&bp, StackKind::Pipeline);
        let vpc = prop(p, "VerifyProjectWeb", "VpcConfig").unwrap_or_else(|| panic!("{file}"));
        assert_eq!(vpc.get("VpcId"), Some(&import(format!("{id}-{env}-VPC"))));
        assert_eq!(
            vpc.get("Subnets"),
            Some(&Value::List(vec![
                import(format!("{id}-{env}-ProtectSubnetAZa")),
                import(format!("{id}-{env}-ProtectSubnetAZb")),
            ]))
        );
        assert_eq!(
            vpc.get("SecurityGroupIds"),
            Some(&Value::List(vec![import(format!(
                "{id}-{env}-ProtectSecurityGroup"
            ))]))
        );
        // The network stack exports exactly what the project imports.
        let net = template(&bp, StackKind::Network);
        let exports: Vec<String> = net
            .export_names()
            .into_iter()
            .map(|(n, _)| n.to_owned())
            .collect();
        for name in [
            format!("{id}-{env}-VPC"),
            format!("{id}-{env}-ProtectSubnetAZa"),
            format!("{id}-{env}-ProtectSubnetAZb"),
            format!("{id}-{env}-ProtectSecurityGroup"),
        ] {
            assert!(exports.contains(&name), "{name}");
        }
        // The build itself needs the internet, not the VPC.
        assert!(prop(p, "BuildProjectWeb", "VpcConfig").is_none());
    }
    for (file, env, backend) in [
        ("apprun.toml", "dev", "apprunner"),
        ("apprun.toml", "prod", "apprunner"),
        ("fixtures/express.toml", "dev", "ecs-express"),
        ("fixtures/express.toml", "prod", "ecs-express"),
    ] {
        let cfg = config(file);
        let bp = synthesize(&cfg, env).unwrap();
        let p = template(&bp, StackKind::Pipeline);
        assert_eq!(
            env_var(p, "VerifyProjectWeb", "BACKEND"),
            Some(&Value::from(backend))
        );
        if cfg.envs[env].ingress == apprun_config::Ingress::Public {
            assert!(
                prop(p, "VerifyProjectWeb", "VpcConfig").is_none(),
                "{file} {env}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The buildspecs, run.

/// A stub `aws`: each call answers with the next line of the file named
/// after the call (the last line repeats). A line `!text` prints text on
/// stderr and exits 254, as the CLI does for a service error; any other line
/// is printed on stdout (an empty line: an empty answer).
const AWS_STUB: &str = r#"#!/usr/bin/env bash
echo "aws $*" >> "$STUB/calls"
key="$1-$2"
case "$*" in
  *"OutputKey=='"*) key="$key-$(printf '%s' "$*" | sed "s/.*OutputKey=='\([A-Za-z]*\)'.*/\1/")" ;;
  *currentDeployment*) key="$key-deployment" ;;
esac
if [ "$1 $2" = "s3 cp" ]; then printf 'staged\n' > "$4"; fi
file="$STUB/answers/$key"
[ -f "$file" ] || { echo "no answer for $key" >&2; exit 2; }
line="$(head -n 1 "$file")"
if [ "$(wc -l < "$file")" -gt 1 ]; then sed -i 1d "$file"; fi
case "$line" in
  '!'*) printf '%s\n' "${line#!}" >&2; exit 254 ;;
  *) printf '%s\n' "$line" ;;
esac
"#;

/// A stub `curl` for `--write-out '%{http_code}'`: prints the next code of
/// `answers/http`; `000` is a connection failure (exit 7).
const CURL_STUB: &str = r#"#!/usr/bin/env bash
echo "curl $*" >> "$STUB/calls"
file="$STUB/answers/http"
code="$(head -n 1 "$file")"
if [ "$(wc -l < "$file")" -gt 1 ]; then sed -i 1d "$file"; fi
printf '%s' "$code"
[ "$code" != 000 ] || exit 7
"#;

const DOCKER_STUB: &str = r#"#!/usr/bin/env bash
echo "docker $*" >> "$STUB/calls"
if [ "$1" = login ]; then cat >/dev/null; fi
"#;

const DENIED: &str = "!An error occurred (AccessDeniedException) when calling the operation: User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    calls: String,
}

/// Runs the commands of `phases` of `spec` in one bash process, in order,
/// stopping at the first command whose exit status is not 0 (CodeBuild's
/// rule), with `answers` for the stubs and `vars` as the project's
/// environment.
fn run_phases(
    spec: &str,
    phases: &[&str],
    answers: &[(&str, &[&str])],
    vars: &[(&str, &str)],
) -> Run {
    let doc: serde_norway::Value = serde_norway::from_str(spec).unwrap();
    assert_eq!(doc["env"]["shell"].as_str(), Some("bash"));
    let mut script = String::new();
    for phase in phases {
        for (i, c) in doc["phases"][*phase]["commands"]
            .as_sequence()
            .unwrap()
            .iter()
            .enumerate()
        {
            script.push_str(c.as_str().unwrap());
            script.push_str(&format!(
                "\nstatus=$?; if [ $status -ne 0 ]; then echo \"{phase} command {} failed\" >&2; exit $status; fi\n",
                i + 1
            ));
        }
    }
    let dir = Scratch::new("run");
    dir.executable("bin/aws", AWS_STUB);
    dir.executable("bin/curl", CURL_STUB);
    dir.executable("bin/docker", DOCKER_STUB);
    dir.executable("bin/sleep", "#!/bin/sh\nexit 0\n");
    dir.write("calls", "");
    for (name, lines) in answers {
        dir.write(
            &format!("answers/{name}"),
            &format!("{}\n", lines.join("\n")),
        );
    }
    dir.write("work/.keep", "");
    let path = format!(
        "{}:{}",
        dir.0.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.0.join("work"))
        .env("PATH", path)
        .env("STUB", &dir.0)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        calls: std::fs::read_to_string(dir.0.join("calls")).unwrap(),
    }
}

fn verify(backend: &str, answers: &[(&str, &[&str])]) -> Run {
    run_phases(
        &apprun_blueprint::verify_buildspec(),
        &["build"],
        answers,
        &[
            ("SERVICE_STACK", "apprunner-nuxt3-dev-service-web"),
            ("HEALTH_PATH", "/healthz"),
            ("BACKEND", backend),
        ],
    )
}

const APPRUNNER_ARN: &str =
    "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/0123abcd";
const ECS_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/default/express-demo-dev-web";
const DEPLOYMENT_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/express-demo-dev-web/abc";

#[test]
fn verify_passes_only_after_a_successful_deployment_and_a_200() {
    let r = verify(
        "apprunner",
        &[
            (
                "cloudformation-describe-stacks-ServiceArn",
                &[APPRUNNER_ARN],
            ),
            (
                "cloudformation-describe-stacks-ServiceUrl",
                &["https://abc.awsapprunner.com"],
            ),
            ("apprunner-list-operations", &["IN_PROGRESS", "SUCCEEDED"]),
            ("http", &["000", "503", "200"]),
        ],
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("verified: the apprunner deployment succeeded"),
        "{}",
        r.stdout
    );
    assert_eq!(r.calls.matches("apprunner list-operations").count(), 2);
    assert!(r.calls.contains("curl") && r.calls.contains("https://abc.awsapprunner.com/healthz"));
    let r = verify(
        "ecs-express",
        &[
            ("cloudformation-describe-stacks-ServiceArn", &[ECS_ARN]),
            (
                "cloudformation-describe-stacks-ServiceUrl",
                &["https://web.ecs.us-east-1.on.aws"],
            ),
            ("ecs-describe-express-gateway-service", &["ACTIVE"]),
            (
                "ecs-describe-express-gateway-service-deployment",
                &[DEPLOYMENT_ARN],
            ),
            (
                "ecs-describe-service-deployments",
                &["PENDING", "IN_PROGRESS", "SUCCESSFUL"],
            ),
            ("http", &["200"]),
        ],
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.calls
            .contains(&format!("--service-deployment-arns {DEPLOYMENT_ARN}"))
    );
    assert!(
        r.stdout
            .contains("verified: the ecs-express deployment succeeded")
    );
}

/// Every way a status can go unread fails, with a message saying which.
#[test]
fn verify_never_passes_on_an_unread_status() {
    let apprunner = |arn: &[&str], ops: &[&str], http: &[&str]| -> Run {
        verify(
            "apprunner",
            &[
                ("cloudformation-describe-stacks-ServiceArn", arn),
                (
                    "cloudformation-describe-stacks-ServiceUrl",
                    &["https://abc.awsapprunner.com"],
                ),
                ("apprunner-list-operations", ops),
                ("http", http),
            ],
        )
    };
    for (case, run, says) in [
        (
            "denied list",
            apprunner(&[APPRUNNER_ARN], &[DENIED], &["200"]),
            "no answer from: aws apprunner list-operations",
        ),
        (
            "empty list",
            apprunner(&[APPRUNNER_ARN], &[""], &["200"]),
            "empty answer from: aws apprunner list-operations",
        ),
        (
            "None list",
            apprunner(&[APPRUNNER_ARN], &["None"], &["200"]),
            "empty answer",
        ),
        (
            "rolled back",
            apprunner(
                &[APPRUNNER_ARN],
                &["IN_PROGRESS", "ROLLBACK_SUCCEEDED"],
                &["200"],
            ),
            "ended ROLLBACK_SUCCEEDED",
        ),
        (
            "never done",
            apprunner(&[APPRUNNER_ARN], &["IN_PROGRESS"], &["200"]),
            "still IN_PROGRESS",
        ),
        (
            "denied outputs",
            apprunner(&[DENIED], &["SUCCEEDED"], &["200"]),
            "no answer from: output ServiceArn",
        ),
        (
            "no output",
            apprunner(&["None"], &["SUCCEEDED"], &["200"]),
            "empty answer from: output ServiceArn",
        ),
        (
            "unhealthy",
            apprunner(&[APPRUNNER_ARN], &["SUCCEEDED"], &["404"]),
            "answered 404, not 200",
        ),
        (
            "unreachable",
            apprunner(&[APPRUNNER_ARN], &["SUCCEEDED"], &["000"]),
            "answered 000, not 200",
        ),
    ] {
        assert!(!run.ok, "{case}: passed\n{}", run.stdout);
        assert!(run.stderr.contains(says), "{case}: {}", run.stderr);
        assert!(!run.stdout.contains("verified"), "{case}");
    }
    let ecs = |service: &[&str], deployment: &[&str], status: &[&str]| -> Run {
        verify(
            "ecs-express",
            &[
                ("cloudformation-describe-stacks-ServiceArn", &[ECS_ARN]),
                (
                    "cloudformation-describe-stacks-ServiceUrl",
                    &["https://web.ecs.us-east-1.on.aws"],
                ),
                ("ecs-describe-express-gateway-service", service),
                (
                    "ecs-describe-express-gateway-service-deployment",
                    deployment,
                ),
                ("ecs-describe-service-deployments", status),
                ("http", &["200"]),
            ],
        )
    };
    for (case, run, says) in [
        // Issue 9's defect: a denied DescribeServiceDeployments passed.
        (
            "denied deployments",
            ecs(&["ACTIVE"], &[DEPLOYMENT_ARN], &[DENIED]),
            "no answer from: aws ecs describe-service-deployments",
        ),
        (
            "empty deployments",
            ecs(&["ACTIVE"], &[DEPLOYMENT_ARN], &[""]),
            "empty answer",
        ),
        (
            "no current deployment",
            ecs(&["ACTIVE"], &["None"], &["SUCCESSFUL"]),
            "empty answer from: aws ecs describe-express-gateway-service",
        ),
        (
            "draining",
            ecs(&["DRAINING"], &[DEPLOYMENT_ARN], &["SUCCESSFUL"]),
            "is DRAINING, not ACTIVE",
        ),
        (
            "denied service",
            ecs(&[DENIED], &[DEPLOYMENT_ARN], &["SUCCESSFUL"]),
            "no answer from: aws ecs describe-express-gateway-service",
        ),
        (
            "rolled back",
            ecs(&["ACTIVE"], &[DEPLOYMENT_ARN], &["ROLLBACK_SUCCESSFUL"]),
            "ended ROLLBACK_SUCCESSFUL",
        ),
    ] {
        assert!(!run.ok, "{case}: passed\n{}", run.stdout);
        assert!(run.stderr.contains(says), "{case}: {}", run.stderr);
        assert!(
            !run.calls.contains("curl"),
            "{case}: no health check after a failed deployment"
        );
    }
    let r = verify("lambda", &[]);
    assert!(
        !r.ok && r.stderr.contains("BACKEND is 'lambda'"),
        "{}",
        r.stderr
    );
}

const REPOSITORY_URI: &str =
    "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/apprunner-nuxt3-dev";

fn build(answers: &[(&str, &[&str])], prebuild: &str) -> Run {
    run_phases(
        &apprun_blueprint::buildspec(),
        &["pre_build", "build"],
        answers,
        &[
            (
                "CODEBUILD_RESOLVED_SOURCE_VERSION",
                "3f2a1bc9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3",
            ),
            ("AWS_REGION", "ap-northeast-1"),
            ("REPOSITORY_URI", REPOSITORY_URI),
            ("DOCKERFILE", "Dockerfile.multistage"),
            ("PREBUILD", prebuild),
        ],
    )
}

#[test]
fn build_tells_not_pushed_from_cannot_read() {
    let login: (&str, &[&str]) = ("ecr-get-login-password", &["token"]);
    let not_found = "!An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageDigest:'null', imageTag:'3f2a1bc'} does not exist within the repository with name 'apprunner-nuxt3-dev' in the registry with id '123456789012'";
    let r = build(&[login, ("ecr-describe-images", &[not_found])], "");
    assert!(r.ok, "{}", r.stderr);
    assert!(r.calls.contains(&format!(
        "docker build --file Dockerfile.multistage --tag {REPOSITORY_URI}:3f2a1bc ."
    )));
    assert!(
        r.calls
            .contains(&format!("docker push {REPOSITORY_URI}:3f2a1bc"))
    );
    let r = build(&[login, ("ecr-describe-images", &["{}"])], "");
    assert!(r.ok && r.stdout.contains("already pushed"), "{}", r.stderr);
    assert!(!r.calls.contains("docker build") && !r.calls.contains("docker push"));
    // Access denied is not "not pushed": the build stops.
    let r = build(&[login, ("ecr-describe-images", &[DENIED])], "");
    assert!(
        !r.ok && r.stderr.contains("cannot tell whether"),
        "{}",
        r.stderr
    );
    assert!(!r.calls.contains("docker push"));
    // No token: the login fails even though docker would take an empty one.
    let r = build(&[("ecr-get-login-password", &[DENIED])], "");
    assert!(
        !r.ok && r.stderr.contains("AccessDeniedException"),
        "{}",
        r.stderr
    );
    assert!(r.calls.contains("docker login") && !r.calls.contains("describe-images"));
    // A failing prebuild fails the phase.
    let r = build(&[login, ("ecr-describe-images", &[not_found])], "false");
    assert!(!r.ok, "{}", r.stdout);
    assert!(!r.calls.contains("describe-images") && !r.calls.contains("docker build"));
}

#[test]
fn prebuild_words_reach_bash_unchanged() {
    let cfg = with_prebuild("[\"printf\", \"%s|\", \"a b\", \"it's\", \"$HOME\"]");
    let bp = synthesize(&cfg, "dev").unwrap();
    let p = template(&bp, StackKind::Pipeline);
    let line = env_var(p, "BuildProjectWeb", "PREBUILD")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let out = Command::new("bash").arg("-c").arg(&line).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|it's|$HOME|");
}

#[test]
fn the_review_change_set_tells_a_new_stack_from_an_unreadable_one() {
    let post = |stack: &[&str]| -> Run {
        run_phases(
            &apprun_blueprint::buildspec(),
            &["post_build"],
            &[("cloudformation-describe-stacks", stack), ("s3-cp", &[""])],
            &[
                ("CODEBUILD_BUILD_SUCCEEDING", "1"),
                ("CODEBUILD_BUILD_NUMBER", "7"),
                ("IMAGE_TAG", "3f2a1bc"),
                ("ARTIFACT_BUCKET", "apprunner-nuxt3-dev-temporary"),
                (
                    "TEMPLATE_PATH",
                    "apprun/apprunner-nuxt3-dev-service-web.yaml",
                ),
                ("SERVICE_STACK", "apprunner-nuxt3-dev-service-web"),
            ],
        )
    };
    let r = post(&[
        "!An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id apprunner-nuxt3-dev-service-web does not exist",
    ]);
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("does not exist yet: the deploy stage will create it")
    );
    let r = post(&[DENIED]);
    assert!(
        !r.ok
            && r.stderr
                .contains("cannot read apprunner-nuxt3-dev-service-web"),
        "{}",
        r.stderr
    );
    assert!(!r.calls.contains("create-change-set"));
}
