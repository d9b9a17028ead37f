//! The generated CodeBuild buildspecs, run phase by phase as CodeBuild runs
//! them, with real tools.
//!
//! What is real: the buildspec text and the project's environment variables
//! are read from the pipeline template that the `apprun` binary synthesizes
//! (never a copy), so these tests run whatever the blueprint emits; the
//! commands run in bash under a local model of CodeBuild's buildspec 0.2
//! semantics (tests/codebuild/run-buildspec.py: phases, per-command exit
//! status, variables and directory carried across, POST_BUILD after a
//! failed BUILD with CODEBUILD_BUILD_SUCCEEDING=0, artifacts that must
//! exist); `aws` is the pinned AWS CLI (.venv) talking to moto_server;
//! `docker` is a shim (tests/codebuild/docker) that runs buildah, pushing to
//! docker-registry on loopback; the source is `git archive HEAD` of this
//! repository and CODEBUILD_RESOLVED_SOURCE_VERSION its commit.
//!
//! What is not: moto's ECR keeps image manifests but no layers, so the image
//! bytes live in docker-registry (REPOSITORY_URI points there, keeping the
//! repository name moto's ECR knows); moto has no App Runner and no ECS
//! Express Mode, so their answers (ListOperations,
//! DescribeExpressGatewayService, DescribeServiceDeployments) and IAM denials
//! (moto does not enforce IAM here) are hand-written wire responses
//! (tests/codebuild/wire, written from the API reference) served by a
//! loopback server that the AWS CLI reaches through its service-specific
//! endpoint variables (AWS_ENDPOINT_URL_APPRUNNER, _ECS, _ECR, and
//! _CLOUDFORMATION for a denied CreateChangeSet, every other CloudFormation
//! call being passed on to moto); a service stack cannot be created on moto
//! (no App Runner / ECS Express resources), so where a test needs one it
//! creates a stand-in stack of the same name from a template moto supports,
//! with the outputs the real template declares (ServiceUrl: a loopback HTTP
//! server answering the health path). Time is compressed: a `sleep` shim
//! divides the scripts' polling waits by 100 (same polls, same order).

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A build of ours may run at most this long (the projects allow 20-30
/// minutes; the sleep shim compresses the verify script's polling by 100).
const TIMEOUT_SECS: u64 = 150;

fn venv(tool: &str) -> PathBuf {
    let path = workspace().join(".venv/bin").join(tool);
    assert!(
        path.exists(),
        "{} not found: run scripts/test.sh, which installs the pinned test tools into .venv",
        path.display()
    );
    path
}

fn support() -> PathBuf {
    workspace().join("crates/apprun-cli/tests/codebuild")
}

fn wire(name: &str) -> String {
    std::fs::read_to_string(support().join("wire").join(name))
        .unwrap_or_else(|e| panic!("wire response {name}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

fn git(args: &[&str]) -> Vec<u8> {
    let o = Command::new("git")
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    o.stdout
}

// ---------------------------------------------------------------------------
// The synthesized templates

/// One CodeBuild project of the synthesized pipeline template.
#[derive(Debug)]
struct Project {
    name: String,
    buildspec: String,
    /// Name → value as the template has it (a string or an intrinsic).
    variables: Vec<(String, Value)>,
}

/// `apprun synth --env dev` of one config, in JSON (read by the test) and
/// YAML (what apprun stages for the pipeline).
struct Synth {
    _dir: tempfile::TempDir,
    json: PathBuf,
    yaml: PathBuf,
    manifest: Value,
}

impl Synth {
    fn new(config: &str) -> Synth {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(workspace().join(config), dir.path().join("apprun.toml")).unwrap();
        for (out, format) in [("json", "json"), ("yaml", "yaml")] {
            let o = apprun(
                dir.path(),
                &["synth", "--env", "dev", "--out", out, "--format", format],
            );
            assert_eq!(o.status.code(), Some(0), "synth: {}", text(&o));
        }
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("json/apprun.manifest.json")).unwrap(),
        )
        .unwrap();
        Synth {
            json: dir.path().join("json"),
            yaml: dir.path().join("yaml"),
            manifest,
            _dir: dir,
        }
    }

    fn region(&self) -> String {
        self.manifest["region"].as_str().unwrap().to_owned()
    }

    /// The file (without extension) of the stack with this name.
    fn stack_file(&self, stack: &str) -> String {
        let stacks = self.manifest["envs"][0]["stacks"].as_array().unwrap();
        let file = stacks
            .iter()
            .find(|s| s["name"] == stack)
            .unwrap_or_else(|| panic!("no stack {stack} in the manifest: {stacks:?}"))["file"]
            .as_str()
            .unwrap();
        file.trim_end_matches(".json").to_owned()
    }

    fn template(&self, stack: &str) -> Value {
        let file = self.json.join(format!("{}.json", self.stack_file(stack)));
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
    }

    fn yaml_template(&self, stack: &str) -> PathBuf {
        self.yaml.join(format!("{}.yaml", self.stack_file(stack)))
    }

    fn pipeline(&self) -> Value {
        let file = self.json.join("pipeline.json");
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
    }

    /// The build project (the Build stage's CodeBuild action) and the verify
    /// project (the Deploy stage's CodeBuild test action), found through
    /// the pipeline's actions rather than by logical id.
    fn projects(&self) -> (Project, Project) {
        let t = self.pipeline();
        let resources = t["Resources"].as_object().unwrap();
        let stages = resources["Pipeline"]["Properties"]["Stages"]
            .as_array()
            .unwrap();
        let project_of = |category: &str| -> Project {
            let action = stages
                .iter()
                .flat_map(|s| s["Actions"].as_array().unwrap())
                .find(|a| {
                    a["ActionTypeId"]["Category"] == category
                        && a["ActionTypeId"]["Provider"] == "CodeBuild"
                })
                .unwrap_or_else(|| panic!("no CodeBuild {category} action in the pipeline"));
            let logical = action["Configuration"]["ProjectName"]["Ref"]
                .as_str()
                .expect("ProjectName is a Ref to the project");
            let p = &resources[logical]["Properties"];
            assert_eq!(resources[logical]["Type"], "AWS::CodeBuild::Project");
            Project {
                name: p["Name"].as_str().unwrap().to_owned(),
                buildspec: p["Source"]["BuildSpec"]
                    .as_str()
                    .expect("BuildSpec is the buildspec text")
                    .to_owned(),
                variables: p["Environment"]["EnvironmentVariables"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| {
                        assert_eq!(v["Type"], "PLAINTEXT", "{v}");
                        (v["Name"].as_str().unwrap().to_owned(), v["Value"].clone())
                    })
                    .collect(),
            }
        };
        (project_of("Build"), project_of("Test"))
    }

    fn pipeline_name(&self) -> String {
        self.pipeline()["Resources"]["Pipeline"]["Properties"]["Name"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

// ---------------------------------------------------------------------------
// AWS: moto and the CLI

/// The pinned AWS CLI against moto (every service), with test credentials.
struct Aws {
    endpoint: String,
    region: String,
}

impl Aws {
    fn env(&self) -> BTreeMap<String, String> {
        BTreeMap::from(
            [
                ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_REGION", &self.region),
                ("AWS_DEFAULT_REGION", &self.region),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(venv("aws"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "aws {args:?}: {}", text(&o));
        stdout(&o)
    }

    fn exports(&self) -> BTreeMap<String, String> {
        let v: Value =
            serde_json::from_str(&self.ok(&["cloudformation", "list-exports", "--output", "json"]))
                .unwrap();
        v["Exports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["Name"].as_str().unwrap().to_owned(),
                    e["Value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// A stand-in for a service stack: moto cannot create App Runner or ECS
    /// Express resources, so the stack holds one SSM parameter (a resource
    /// moto creates) and declares every output the real service template
    /// declares, with the values given (the rest get a placeholder).
    fn stand_in(&self, stack: &str, real: &Value, outputs: &[(&str, &str)]) {
        let mut out = serde_json::Map::new();
        for key in real["Outputs"].as_object().unwrap().keys() {
            let value = outputs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| *v)
                .unwrap_or("stand-in");
            out.insert(key.clone(), json!({ "Value": value }));
        }
        for (k, _) in outputs {
            assert!(
                out.contains_key(*k),
                "the service template declares no output {k}: {}",
                real["Outputs"]
            );
        }
        let template = json!({
            "Parameters": { "ImageTag": { "Type": "String" } },
            "Resources": { "StandIn": { "Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("{stack}-stand-in"), "Type": "String", "Value": { "Ref": "ImageTag" } } } },
            "Outputs": out,
        });
        self.ok(&[
            "cloudformation",
            "create-stack",
            "--stack-name",
            stack,
            "--template-body",
            &template.to_string(),
            "--parameters",
            "ParameterKey=ImageTag,ParameterValue=0000000",
        ]);
        let status = self.ok(&[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            stack,
            "--query",
            "Stacks[0].StackStatus",
            "--output",
            "text",
        ]);
        assert_eq!(status.trim(), "CREATE_COMPLETE");
    }
}

/// The env's shared stacks (iam, repository, network: what the buildspecs
/// import), created on moto from the synthesized templates with the AWS CLI
/// in the manifest's wave order. Not `apprun deploy`: it runs `apprun
/// check` first, whose verdict on the templates is not what these tests are
/// about, and the exports are the same either way.
fn deploy_shared_stacks(aws: &Aws, synth: &Synth) {
    let mut stacks: Vec<(i64, String, String)> = synth.manifest["envs"][0]["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let file = s["file"].as_str().unwrap();
            ["iam.json", "repository.json", "network.json"].contains(&file)
        })
        .map(|s| {
            (
                s["wave"].as_i64().unwrap(),
                s["name"].as_str().unwrap().to_owned(),
                s["file"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    stacks.sort();
    assert_eq!(stacks.len(), 3, "{stacks:?}");
    for (_, name, file) in &stacks {
        let body = format!("file://{}", synth.json.join(file).display());
        aws.ok(&[
            "cloudformation",
            "create-stack",
            "--stack-name",
            name,
            "--template-body",
            &body,
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_NAMED_IAM",
        ]);
    }
    let statuses = aws.ok(&[
        "cloudformation",
        "describe-stacks",
        "--query",
        "Stacks[].[StackName,StackStatus]",
        "--output",
        "text",
    ]);
    for (_, name, _) in &stacks {
        assert!(
            statuses.contains(&format!("{name}\tCREATE_COMPLETE")),
            "{name}: {statuses}"
        );
    }
}

/// The project's variables with `Fn::ImportValue` resolved from moto's
/// exports, as CloudFormation resolves them when it creates the project.
fn resolve(project: &Project, exports: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    project
        .variables
        .iter()
        .map(|(name, value)| {
            let v = match value {
                Value::String(s) => s.clone(),
                Value::Object(o) if o.len() == 1 && o.contains_key("Fn::ImportValue") => {
                    let export = o["Fn::ImportValue"]
                        .as_str()
                        .expect("ImportValue of a literal export name");
                    exports
                        .get(export)
                        .unwrap_or_else(|| panic!("{name}: no export {export} in moto"))
                        .clone()
                }
                other => panic!("{name}: the test resolves literals and ImportValue, not {other}"),
            };
            (name.clone(), v)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Loopback HTTP servers: hand-written AWS answers and the service's URL

#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    target: String,
    body: String,
    /// The request line and headers as received.
    head: String,
}

/// What the loopback server does with a request.
enum Answer {
    /// Status and body (JSON, or XML when it starts with `<`).
    Reply(u16, String),
    /// Pass the request on to this endpoint (host:port) and relay its answer.
    Forward(String),
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// A minimal HTTP/1.1 server on a free loopback port (one request per
/// connection), recording every request; stopped when dropped.
struct Loopback {
    port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Loopback {
    fn start(handler: Box<Handler>) -> Loopback {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                let answer = handler(&request);
                seen2.lock().unwrap().push(request.clone());
                let _ = match answer {
                    Answer::Reply(status, body) => {
                        let kind = if body.starts_with('<') {
                            "text/xml"
                        } else {
                            "application/x-amz-json-1.1"
                        };
                        let reason = if status < 400 { "OK" } else { "Error" };
                        write!(
                            stream,
                            "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    Answer::Forward(to) => forward(&request, &to, &mut stream),
                };
            }
        });
        Loopback { port, seen, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    reader.read_line(&mut head).ok()?;
    let mut parts = head.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let (mut length, mut target) = (0usize, String::new());
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let line = header.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().ok()?,
                "x-amz-target" => target = v.trim().to_owned(),
                // One request per connection, also towards moto.
                "connection" => continue,
                _ => {}
            }
        }
        head.push_str(&header);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        target,
        body: String::from_utf8_lossy(&body).into_owned(),
        head,
    })
}

/// Sends `request` to `to` as received and relays the whole answer.
fn forward(request: &Request, to: &str, client: &mut std::net::TcpStream) -> std::io::Result<()> {
    let mut upstream = std::net::TcpStream::connect(to)?;
    write!(
        upstream,
        "{}Connection: close\r\n\r\n{}",
        request.head, request.body
    )?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    client.write_all(&answer)
}

/// Hand-written AWS answers by X-Amz-Target operation name (`AppRunner.
/// ListOperations` → "ListOperations"); an operation not listed is a test
/// error (HTTP 500 with a message saying so).
fn aws_answers(answers: &[(&'static str, &'static str)]) -> Loopback {
    let table: Vec<(String, u16, String)> = answers
        .iter()
        .map(|(op, file)| {
            let body = wire(file);
            let status = if body.contains("\"__type\"") {
                400
            } else {
                200
            };
            (op.to_string(), status, body)
        })
        .collect();
    Loopback::start(Box::new(move |r: &Request| {
        let op = r.target.rsplit('.').next().unwrap_or_default();
        let (status, body) = table
            .iter()
            .find(|(o, _, _)| o == op)
            .map(|(_, s, b)| (*s, b.clone()))
            .unwrap_or((
                500,
                format!(
                    "{{\"__type\":\"TestError\",\"message\":\"no hand-written answer for {}\"}}",
                    r.target
                ),
            ));
        Answer::Reply(status, body)
    }))
}

/// CloudFormation for the build: moto, except CreateChangeSet, which is
/// denied with a hand-written Query-protocol error (moto enforces no IAM).
fn cloudformation_denying_change_sets(moto: &Moto) -> Loopback {
    let moto = moto.endpoint.trim_start_matches("http://").to_owned();
    let denied =
        std::fs::read_to_string(support().join("wire/cloudformation.CreateChangeSet.denied.xml"))
            .unwrap();
    Loopback::start(Box::new(move |r: &Request| {
        if r.body.contains("Action=CreateChangeSet") {
            Answer::Reply(403, denied.clone())
        } else {
            Answer::Forward(moto.clone())
        }
    }))
}

// ---------------------------------------------------------------------------
// The runner

/// A finished local build: the runner's report.
struct Run(Value);

impl Run {
    fn status(&self) -> &str {
        self.0["status"].as_str().unwrap()
    }

    fn phase(&self, name: &str) -> &str {
        self.0["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["status"].as_str().unwrap())
            .unwrap_or("ABSENT")
    }

    /// The first command that failed: (phase, command text).
    fn failed_command(&self) -> Option<(String, String)> {
        self.0["phases"].as_array().unwrap().iter().find_map(|p| {
            p["commands"].as_array().unwrap().iter().find_map(|c| {
                (c["exit"].as_i64().is_some_and(|e| e != 0)).then(|| {
                    (
                        p["name"].as_str().unwrap().to_owned(),
                        c["command"].as_str().unwrap().to_owned(),
                    )
                })
            })
        })
    }

    fn log(&self) -> &str {
        self.0["log"].as_str().unwrap()
    }
}

/// Runs `buildspec` in `src` with exactly `env` (plus CODEBUILD_SRC_DIR),
/// the way CodeBuild would; see tests/codebuild/run-buildspec.py.
fn run_buildspec(buildspec: &str, src: &Path, env: &BTreeMap<String, String>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("buildspec.yml");
    std::fs::write(&spec, buildspec).unwrap();
    let env_file = dir.path().join("env.json");
    std::fs::write(&env_file, serde_json::to_string(env).unwrap()).unwrap();
    let report = dir.path().join("report.json");
    let o = Command::new(venv("python"))
        .arg(support().join("run-buildspec.py"))
        .args(["--buildspec", spec.to_str().unwrap()])
        .args(["--src", src.to_str().unwrap()])
        .args(["--env", env_file.to_str().unwrap()])
        .args(["--report", report.to_str().unwrap()])
        .args(["--timeout", &TIMEOUT_SECS.to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "the runner: {}", text(&o));
    Run(serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap())
}

/// Shims first on PATH (docker → buildah, a time-compressed sleep), then the
/// pinned AWS CLI, then the system.
fn shim_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for shim in ["docker", "sleep"] {
        let to = bin.join(shim);
        std::fs::copy(support().join(shim), &to).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        bin.display(),
        venv("aws").parent().unwrap().display()
    )
}

/// CodeBuild's own variables ("Environment variables in build
/// environments"), for build `number` of `project`.
fn codebuild_env(
    project: &str,
    number: u32,
    commit: &str,
    pipeline: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("CODEBUILD_BUILD_NUMBER".into(), number.to_string()),
        (
            "CODEBUILD_BUILD_ID".into(),
            format!("{project}:0b9a6f3e-52c4-4f1d-9a77-{number:012}"),
        ),
        (
            "CODEBUILD_RESOLVED_SOURCE_VERSION".into(),
            commit.to_owned(),
        ),
        (
            "CODEBUILD_INITIATOR".into(),
            format!("codepipeline/{pipeline}"),
        ),
    ])
}

/// The runner itself, on hand-made buildspecs: the CodeBuild semantics the
/// other tests rely on (see run-buildspec.py for the sources).
#[test]
fn runner_models_codebuild_phase_semantics() {
    let src = tempfile::tempdir().unwrap();
    let env = BTreeMap::from([
        ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ("FROM_PROJECT".to_owned(), "project".to_owned()),
    ]);
    let run = run_buildspec(
        r#"version: 0.2
env:
  shell: bash
  variables:
    FROM_PROJECT: buildspec-loses
phases:
  pre_build:
    commands:
      - PLAIN=one; export EXPORTED=two; mkdir -p sub && cd sub
      - echo "carried=$PLAIN,$EXPORTED,$(basename "$PWD"),$FROM_PROJECT,$CODEBUILD_BUILD_SUCCEEDING"
      - bash -c 'echo "child=${PLAIN:-unset},$EXPORTED"'
  build:
    commands:
      - |
        false
        echo "a block's status is its last command's"
      - |
        set -e
        false
        echo never
      - echo skipped after a failure
    finally:
      - echo finally runs
  post_build:
    commands:
      - echo "post=$CODEBUILD_BUILD_SUCCEEDING,$(basename "$PWD")"
artifacts:
  files:
    - missing.txt
"#,
        src.path(),
        &env,
    );
    let log = run.log();
    assert!(log.contains("carried=one,two,sub,project,1"), "{log}");
    assert!(log.contains("child=unset,two"), "{log}");
    assert!(
        log.contains("a block's status is its last command's"),
        "{log}"
    );
    // Output lines (the agent's lines echo the command text).
    assert!(
        !log.lines()
            .any(|l| l == "never" || l == "skipped after a failure"),
        "{log}"
    );
    assert!(log.contains("finally runs"), "{log}");
    assert!(
        log.contains("post=0,sub"),
        "POST_BUILD after a failed BUILD\n{log}"
    );
    assert_eq!(run.phase("PRE_BUILD"), "SUCCEEDED");
    assert_eq!(run.phase("BUILD"), "FAILED");
    assert_eq!(run.phase("POST_BUILD"), "SUCCEEDED");
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), "FAILED");
    assert_eq!(run.status(), "FAILED");
    assert_eq!(
        run.failed_command(),
        Some(("BUILD".to_owned(), "set -e\nfalse\necho never\n".to_owned()))
    );

    // A failed PRE_BUILD ends the build: no BUILD, no POST_BUILD, no upload.
    let run = run_buildspec(
        "version: 0.2\nenv:\n  shell: bash\nphases:\n  pre_build:\n    commands:\n      - exit 3\n  build:\n    commands:\n      - echo built\n  post_build:\n    commands:\n      - echo posted\n",
        src.path(),
        &env,
    );
    assert_eq!(run.status(), "FAILED");
    assert_eq!(run.phase("BUILD"), "SKIPPED");
    assert_eq!(run.phase("POST_BUILD"), "SKIPPED");
    assert_eq!(run.phase("UPLOAD_ARTIFACTS"), "SKIPPED");
    assert!(!run.log().lines().any(|l| l == "built" || l == "posted"));
}

// ---------------------------------------------------------------------------
// The build buildspec

/// Everything a build run needs: moto with the env's shared stacks, the
/// registry, the synthesized templates, the build project.
struct BuildBed {
    moto: Moto,
    registry: Registry,
    aws: Aws,
    synth: Synth,
    project: Project,
    /// The project's variables, resolved.
    vars: BTreeMap<String, String>,
    commit: String,
    work: tempfile::TempDir,
    path: String,
}

impl BuildBed {
    fn new(config: &str) -> BuildBed {
        let moto = Moto::start();
        let registry = Registry::start();
        let synth = Synth::new(config);
        let aws = Aws {
            endpoint: moto.endpoint.clone(),
            region: synth.region(),
        };
        deploy_shared_stacks(&aws, &synth);
        let (project, _) = synth.projects();
        let vars = resolve(&project, &aws.exports());
        for name in [
            "REPOSITORY_URI",
            "DOCKERFILE",
            "ARTIFACT_BUCKET",
            "TEMPLATE_PATH",
            "SERVICE_STACK",
        ] {
            assert!(
                vars.contains_key(name),
                "the build project sets {name}: {vars:?}"
            );
        }
        let commit = String::from_utf8(git(&["rev-parse", "HEAD"]))
            .unwrap()
            .trim()
            .to_owned();
        assert_eq!(commit.len(), 40);
        let work = tempfile::tempdir().unwrap();
        let path = shim_path(work.path());
        // The test's Dockerfile: the shipped config's pipeline may build a
        // multi-stage Dockerfile whose base images come from ECR Public,
        // which this machine cannot reach; this one needs no base image and
        // copies a file of the checkout, so it shows the build context.
        std::fs::write(
            work.path().join("test.Dockerfile"),
            "FROM scratch\nCOPY apprun.toml /apprun.toml\n",
        )
        .unwrap();
        BuildBed {
            moto,
            registry,
            aws,
            synth,
            project,
            vars,
            commit,
            work,
            path,
        }
    }

    fn tag(&self) -> &str {
        &self.commit[..7]
    }

    /// The repository's name: the path of the ECR URI, as in moto's ECR.
    fn repository(&self) -> String {
        let uri = &self.vars["REPOSITORY_URI"];
        uri.split_once('/').unwrap().1.to_owned()
    }

    fn service_stack(&self) -> String {
        self.vars["SERVICE_STACK"].clone()
    }

    /// What `apprun deploy` stages for the pipeline: the service stack's
    /// template at s3://ARTIFACT_BUCKET/TEMPLATE_PATH.
    fn stage_template(&self) {
        let template = self.synth.yaml_template(&self.service_stack());
        self.aws.ok(&[
            "s3",
            "cp",
            template.to_str().unwrap(),
            &format!(
                "s3://{}/{}",
                self.vars["ARTIFACT_BUCKET"], self.vars["TEMPLATE_PATH"]
            ),
        ]);
    }

    /// The environment of build `number`: CodeBuild's variables, the
    /// project's (REPOSITORY_URI moved to docker-registry, DOCKERFILE the
    /// test's), AWS pointed at moto, then `overrides`.
    fn env(&self, number: u32, overrides: &[(&str, String)]) -> BTreeMap<String, String> {
        let mut env = self.aws.env();
        env.insert("PATH".into(), self.path.clone());
        env.insert("HOME".into(), self.work.path().display().to_string());
        env.extend(codebuild_env(
            &self.project.name,
            number,
            &self.commit,
            &self.synth.pipeline_name(),
        ));
        env.extend(self.vars.clone());
        env.insert(
            "REPOSITORY_URI".into(),
            format!("{}/{}", self.registry.address, self.repository()),
        );
        env.insert(
            "DOCKERFILE".into(),
            self.work
                .path()
                .join("test.Dockerfile")
                .display()
                .to_string(),
        );
        // The shipped config's prebuild compiles the binary the shipped
        // Dockerfile copies; with the test's Dockerfile the test's prebuild
        // only leaves a mark, to show that (and where) it ran.
        if env.get("PREBUILD").is_some_and(|p| !p.is_empty()) {
            env.insert("PREBUILD".into(), "touch prebuild-ran".into());
        }
        env.insert(
            "APPRUN_TEST_BUILDAH_ROOT".into(),
            self.work.path().join("buildah").display().to_string(),
        );
        env.insert(
            "APPRUN_TEST_DOCKER_LOG".into(),
            self.docker_log().display().to_string(),
        );
        env.insert(
            "REGISTRY_AUTH_FILE".into(),
            self.work.path().join("auth.json").display().to_string(),
        );
        for (k, v) in overrides {
            env.insert((*k).to_owned(), v.clone());
        }
        env
    }

    fn docker_log(&self) -> PathBuf {
        self.work.path().join("docker.log")
    }

    fn docker_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.docker_log())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A fresh checkout (CodeBuild downloads the source for every build).
    fn checkout(&self) -> tempfile::TempDir {
        let src = tempfile::tempdir().unwrap();
        let archive = git(&["archive", "--format=tar", "HEAD"]);
        let mut tar = Command::new("tar")
            .args(["-x", "-C", src.path().to_str().unwrap()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        tar.stdin.take().unwrap().write_all(&archive).unwrap();
        assert!(tar.wait().unwrap().success());
        src
    }

    fn run(&self, number: u32, overrides: &[(&str, String)]) -> (Run, tempfile::TempDir) {
        let src = self.checkout();
        let run = run_buildspec(
            &self.project.buildspec,
            src.path(),
            &self.env(number, overrides),
        );
        (run, src)
    }

    fn registry_tags(&self) -> Value {
        serde_json::from_str(&self.registry.get(
            &format!("/v2/{}/tags/list", self.repository()),
            "application/json",
        ))
        .unwrap_or(Value::Null)
    }

    fn registry_manifest(&self) -> String {
        self.registry.get(
            &format!("/v2/{}/manifests/{}", self.repository(), self.tag()),
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )
    }
}

fn assert_run(run: &Run, status: &str) {
    assert_eq!(
        run.status(),
        status,
        "build {} (first failed command: {:?})\n{}",
        run.status(),
        run.failed_command(),
        run.log()
    );
}

/// The first build of a commit on an env whose service does not exist yet,
/// then a second build of the same commit once the service stack exists.
/// Real: the AWS CLI on moto (exports, S3, ECR's DescribeImages and
/// GetAuthorizationToken, CloudFormation change sets), buildah, the
/// registry. Not real: the image's bytes are in docker-registry (moto's ECR
/// stores no layers), so for the second build the test copies the pushed
/// manifest into moto's ECR with `aws ecr put-image`; the existing service
/// stack is a stand-in (moto cannot create App Runner resources), so the
/// change set moto computes adds the real template's resources.
fn build_twice(config: &str) {
    let bed = BuildBed::new(config);
    bed.stage_template();
    let stack = bed.service_stack();
    let tag = bed.tag().to_owned();

    // The template comes from where `apprun deploy` stages it (README:
    // s3://${id}-${env}-temporary/apprun/<service stack>.yaml).
    assert_eq!(bed.vars["TEMPLATE_PATH"], format!("apprun/{stack}.yaml"));
    assert!(
        bed.vars["ARTIFACT_BUCKET"].ends_with("-dev-temporary"),
        "{:?}",
        bed.vars
    );

    // 1. The service stack does not exist yet.
    let (run, src) = bed.run(1, &[]);
    // The test built its own Dockerfile; the one the pipeline builds must
    // at least be in the checkout.
    assert!(
        src.path().join(&bed.vars["DOCKERFILE"]).is_file(),
        "DOCKERFILE {} is not in the checkout",
        bed.vars["DOCKERFILE"]
    );
    assert_run(&run, "SUCCEEDED");
    for phase in ["PRE_BUILD", "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS"] {
        assert_eq!(run.phase(phase), "SUCCEEDED", "{phase}\n{}", run.log());
    }
    // Tagged with the commit's first 7 characters and pushed.
    assert_eq!(bed.registry_tags()["tags"], json!([tag]), "{}", run.log());
    let manifest: Value = serde_json::from_str(&bed.registry_manifest()).unwrap();
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        1,
        "{manifest}"
    );
    let calls = bed.docker_calls();
    let image = format!("{}/{}:{tag}", bed.registry.address, bed.repository());
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("login --username AWS --password-stdin 127.0.0.1:")),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("build ") && c.contains(&format!("--tag {image} "))),
        "{calls:?}"
    );
    assert!(calls.contains(&format!("push {image}")), "{calls:?}");
    // The staged template, copied; the parameters, with exactly that tag.
    assert_eq!(
        std::fs::read(src.path().join("service.yaml")).unwrap(),
        std::fs::read(bed.synth.yaml_template(&stack)).unwrap(),
        "service.yaml is the staged template"
    );
    let parameters: Value =
        serde_json::from_str(&std::fs::read_to_string(src.path().join("parameters.json")).unwrap())
            .unwrap();
    assert_eq!(parameters, json!({ "Parameters": { "ImageTag": tag } }));
    assert!(
        run.log().contains(&format!("{stack} does not exist yet"))
            && run.log().contains("deploy stage will create it"),
        "{}",
        run.log()
    );
    if bed.vars.get("PREBUILD").is_some_and(|p| !p.is_empty()) {
        assert!(
            src.path().join("prebuild-ran").exists(),
            "the prebuild runs in the checkout"
        );
    }

    // 2. Same commit, the tag now in ECR, the service stack exists.
    let pushed = bed.registry_manifest();
    bed.aws.ok(&[
        "ecr",
        "put-image",
        "--repository-name",
        &bed.repository(),
        "--image-tag",
        &tag,
        "--image-manifest",
        &pushed,
    ]);
    bed.aws.stand_in(
        &stack,
        &bed.synth.template(&stack),
        &[("ServiceArn", "arn:aws:stand-in")],
    );
    let calls_before = bed.docker_calls().len();
    let (run, src) = bed.run(2, &[]);
    assert_run(&run, "SUCCEEDED");
    let new_calls = &bed.docker_calls()[calls_before..];
    assert!(
        new_calls.iter().all(|c| c.starts_with("login ")),
        "the tag is pushed already: no build, no push: {new_calls:?}"
    );
    assert!(run.log().contains("already pushed"), "{}", run.log());
    // The change set is created, shown (moto: the real template's resources
    // are added to the stand-in stack) and deleted.
    let resources = bed.synth.template(&stack)["Resources"].clone();
    for (logical, r) in resources.as_object().unwrap() {
        let shown = run.log().lines().any(|l| {
            l.contains("Add")
                && l.contains(logical.as_str())
                && l.contains(r["Type"].as_str().unwrap())
        });
        assert!(shown, "change set row for {logical}:\n{}", run.log());
    }
    let sets = bed.aws.ok(&[
        "cloudformation",
        "list-change-sets",
        "--stack-name",
        &stack,
        "--query",
        "length(Summaries)",
    ]);
    assert_eq!(sets.trim(), "0", "the review change set is deleted");
    let parameters: Value =
        serde_json::from_str(&std::fs::read_to_string(src.path().join("parameters.json")).unwrap())
            .unwrap();
    assert_eq!(parameters, json!({ "Parameters": { "ImageTag": tag } }));
    drop(bed.moto);
}

#[test]
fn build_buildspec_app_runner_dev_first_and_second_build() {
    build_twice("apprun.toml");
}

#[test]
fn build_buildspec_ecs_express_dev_first_and_second_build() {
    build_twice("fixtures/express.toml");
}

/// Without the staged template the build must fail: POST_BUILD's `aws s3
/// cp` fails on moto (NoSuchKey), so no artifacts and a failed build,
/// although the image was pushed. Real: moto's S3 answer.
#[test]
fn build_buildspec_fails_without_the_staged_template() {
    let bed = BuildBed::new("apprun.toml");
    let (run, src) = bed.run(1, &[]);
    assert_run(&run, "FAILED");
    assert_eq!(run.phase("BUILD"), "SUCCEEDED", "{}", run.log());
    assert_eq!(run.phase("POST_BUILD"), "FAILED", "{}", run.log());
    let (phase, command) = run.failed_command().unwrap();
    assert_eq!(phase, "POST_BUILD");
    assert!(command.contains("s3 cp"), "failed at: {command}");
    assert!(!src.path().join("service.yaml").exists());
}

/// A failing step of the BUILD phase (the image build: the Dockerfile
/// copies a file the checkout lacks) fails the phase; POST_BUILD still runs
/// (CodeBuild's phase transitions) with CODEBUILD_BUILD_SUCCEEDING=0 and must
/// fail too, so nothing is handed to the deploy stage. Real: buildah's
/// failure, the registry staying empty.
#[test]
fn build_buildspec_fails_when_the_image_build_fails() {
    let bed = BuildBed::new("apprun.toml");
    bed.stage_template();
    let broken = bed.work.path().join("broken.Dockerfile");
    std::fs::write(&broken, "FROM scratch\nCOPY no-such-file /x\n").unwrap();
    let (run, src) = bed.run(1, &[("DOCKERFILE", broken.display().to_string())]);
    assert_run(&run, "FAILED");
    assert_eq!(run.phase("BUILD"), "FAILED", "{}", run.log());
    assert_eq!(
        run.phase("POST_BUILD"),
        "FAILED",
        "POST_BUILD runs and fails\n{}",
        run.log()
    );
    let (phase, command) = run.failed_command().unwrap();
    assert_eq!(phase, "BUILD");
    assert!(command.contains("docker build"), "failed at: {command}");
    assert!(
        !bed.docker_calls().iter().any(|c| c.starts_with("push ")),
        "no push is attempted after a failed image build: {:?}",
        bed.docker_calls()
    );
    assert_ne!(bed.registry_tags()["tags"], json!([bed.tag()]));
    assert!(
        !src.path().join("parameters.json").exists(),
        "no parameters for the deploy stage"
    );
}

/// `aws ecr describe-images` decides "already pushed". A denied call is not
/// "not pushed": the build must fail instead of building and pushing over
/// (or beside) an image it cannot see. moto does not enforce IAM, so ECR's
/// answers come from the loopback server: a hand-written AccessDenied for
/// DescribeImages, and a hand-written GetAuthorizationToken for the login.
#[test]
fn build_buildspec_fails_when_describe_images_is_denied() {
    let bed = BuildBed::new("apprun.toml");
    bed.stage_template();
    let ecr = aws_answers(&[
        ("DescribeImages", "ecr.DescribeImages.denied.json"),
        (
            "GetAuthorizationToken",
            "ecr.GetAuthorizationToken.token.json",
        ),
    ]);
    let (run, _src) = bed.run(1, &[("AWS_ENDPOINT_URL_ECR", ecr.url())]);
    let targets: Vec<String> = ecr.seen().iter().map(|r| r.target.clone()).collect();
    assert!(
        targets.iter().any(|t| t.ends_with(".DescribeImages")),
        "the CLI reached the test's ECR through AWS_ENDPOINT_URL_ECR: {targets:?}"
    );
    assert_run(&run, "FAILED");
    assert!(
        !bed.docker_calls().iter().any(|c| c.starts_with("push ")),
        "a denied DescribeImages must not lead to a push: {:?}\n{}",
        bed.docker_calls(),
        run.log()
    );
}

/// When the service stack exists, the approver reviews the change set the
/// build prints; a change set that cannot be created (here: the role may
/// not create change sets, a hand-written AccessDenied; every other
/// CloudFormation call goes to moto) must fail the build rather than let an
/// approval go ahead with nothing to review.
#[test]
fn build_buildspec_fails_when_the_change_set_cannot_be_created() {
    let bed = BuildBed::new("apprun.toml");
    bed.stage_template();
    let stack = bed.service_stack();
    bed.aws.stand_in(
        &stack,
        &bed.synth.template(&stack),
        &[("ServiceArn", "arn:aws:stand-in")],
    );
    let cloudformation = cloudformation_denying_change_sets(&bed.moto);
    let (run, _src) = bed.run(
        1,
        &[("AWS_ENDPOINT_URL_CLOUDFORMATION", cloudformation.url())],
    );
    assert!(
        cloudformation
            .seen()
            .iter()
            .any(|r| r.body.contains("Action=CreateChangeSet")),
        "the CLI reached the test's CloudFormation through AWS_ENDPOINT_URL_CLOUDFORMATION:\n{}",
        run.log()
    );
    assert!(
        run.log().contains("AccessDenied"),
        "the denial is shown:\n{}",
        run.log()
    );
    assert_run(&run, "FAILED");
    assert_eq!(run.phase("POST_BUILD"), "FAILED", "{}", run.log());
}

// ---------------------------------------------------------------------------
// The verify buildspec

/// Health path answers of the service's stand-in URL.
fn health_server(status: u16) -> Loopback {
    Loopback::start(Box::new(move |_r: &Request| {
        Answer::Reply(status, "ok".to_owned())
    }))
}

struct VerifyCase {
    config: &'static str,
    answers: &'static [(&'static str, &'static str)],
    health: u16,
}

/// Runs the verify project after a deploy: the service stack (a stand-in
/// with the real template's outputs: the ServiceArn the wire responses
/// name, the ServiceUrl of the loopback health server; plain HTTP, loopback
/// has no TLS) exists in moto; App Runner / ECS answer from hand-written
/// wire responses. CODEBUILD_SRC_DIR is the build action's output artifact
/// (the Verify action's input): service.yaml and parameters.json.
fn verify(case: &VerifyCase) -> (Run, Loopback, Loopback, String) {
    let moto = Moto::start();
    let synth = Synth::new(case.config);
    let aws = Aws {
        endpoint: moto.endpoint.clone(),
        region: synth.region(),
    };
    deploy_shared_stacks(&aws, &synth);
    let (build, project) = synth.projects();
    let vars = resolve(&project, &aws.exports());
    let stack = vars
        .get("SERVICE_STACK")
        .unwrap_or_else(|| panic!("the verify project sets SERVICE_STACK: {vars:?}"))
        .clone();
    let health_path = vars
        .get("HEALTH_PATH")
        .unwrap_or_else(|| panic!("the verify project sets HEALTH_PATH: {vars:?}"))
        .clone();
    let service_arn = if case.config.contains("express") {
        "arn:aws:ecs:us-east-1:123456789012:service/default/express-demo-dev-web"
    } else {
        "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa"
    };
    let health = health_server(case.health);
    let answers = aws_answers(case.answers);
    aws.stand_in(
        &stack,
        &synth.template(&stack),
        &[("ServiceArn", service_arn), ("ServiceUrl", &health.url())],
    );
    let work = tempfile::tempdir().unwrap();
    let artifact = work.path().join("artifact");
    std::fs::create_dir(&artifact).unwrap();
    std::fs::copy(synth.yaml_template(&stack), artifact.join("service.yaml")).unwrap();
    std::fs::write(
        artifact.join("parameters.json"),
        "{\"Parameters\":{\"ImageTag\":\"0000000\"}}\n",
    )
    .unwrap();
    let commit = String::from_utf8(git(&["rev-parse", "HEAD"]))
        .unwrap()
        .trim()
        .to_owned();
    let mut env = aws.env();
    env.insert("PATH".into(), shim_path(work.path()));
    env.insert("HOME".into(), work.path().display().to_string());
    env.extend(codebuild_env(
        &project.name,
        1,
        &commit,
        &synth.pipeline_name(),
    ));
    env.extend(vars);
    env.insert("AWS_ENDPOINT_URL_APPRUNNER".into(), answers.url());
    env.insert("AWS_ENDPOINT_URL_ECS".into(), answers.url());
    assert_ne!(build.name, project.name);
    let run = run_buildspec(&project.buildspec, &artifact, &env);
    drop(moto);
    (run, answers, health, health_path)
}

fn assert_asked_about_the_service(answers: &Loopback, arn: &str) {
    let seen = answers.seen();
    assert!(
        !seen.is_empty(),
        "the verify script asked the backend nothing"
    );
    for r in &seen {
        assert_eq!(r.method, "POST");
        assert!(
            r.body.contains(arn),
            "{} asked about {}, not {arn}",
            r.target,
            r.body
        );
    }
}

const APPRUNNER_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";

/// App Runner's latest operation SUCCEEDED and the health path answers 200:
/// verified.
#[test]
fn verify_buildspec_app_runner_succeeded_and_healthy_passes() {
    let (run, answers, health, path) = verify(&VerifyCase {
        config: "apprun.toml",
        answers: &[("ListOperations", "apprunner.ListOperations.succeeded.json")],
        health: 200,
    });
    assert_run(&run, "SUCCEEDED");
    assert_asked_about_the_service(&answers, APPRUNNER_ARN);
    assert!(
        answers
            .seen()
            .iter()
            .all(|r| r.target == "AppRunner.ListOperations")
    );
    assert!(
        health
            .seen()
            .iter()
            .any(|r| r.method == "GET" && r.path == path),
        "the health path {path} was requested: {:?}",
        health.seen()
    );
}

/// CloudFormation can report the update complete while App Runner rolled
/// the deployment back (apprunner-roadmap #209): ROLLBACK_SUCCEEDED fails.
#[test]
fn verify_buildspec_app_runner_rollback_fails() {
    let (run, _answers, _health, _path) = verify(&VerifyCase {
        config: "apprun.toml",
        answers: &[(
            "ListOperations",
            "apprunner.ListOperations.rollback-succeeded.json",
        )],
        health: 200,
    });
    assert_run(&run, "FAILED");
    assert!(
        run.log().contains("ROLLBACK_SUCCEEDED"),
        "says why:\n{}",
        run.log()
    );
}

/// A status that cannot be read is never success: an AccessDenied answer.
#[test]
fn verify_buildspec_app_runner_denied_fails() {
    let (run, answers, _health, _path) = verify(&VerifyCase {
        config: "apprun.toml",
        answers: &[("ListOperations", "apprunner.ListOperations.denied.json")],
        health: 200,
    });
    assert_run(&run, "FAILED");
    assert_asked_about_the_service(&answers, APPRUNNER_ARN);
}

/// ... nor an empty operation list.
#[test]
fn verify_buildspec_app_runner_empty_answer_fails() {
    let (run, _answers, _health, _path) = verify(&VerifyCase {
        config: "apprun.toml",
        answers: &[("ListOperations", "apprunner.ListOperations.empty.json")],
        health: 200,
    });
    assert_run(&run, "FAILED");
}

/// The deployment succeeded but the health path answers 500: fails (after
/// curl's retries, about a minute).
#[test]
fn verify_buildspec_app_runner_unhealthy_fails() {
    let (run, _answers, health, path) = verify(&VerifyCase {
        config: "apprun.toml",
        answers: &[("ListOperations", "apprunner.ListOperations.succeeded.json")],
        health: 500,
    });
    assert_run(&run, "FAILED");
    assert!(
        health.seen().iter().any(|r| r.path == path),
        "{:?}",
        health.seen()
    );
}

const ECS_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/default/express-demo-dev-web";

/// ECS Express: service ACTIVE, current deployment SUCCESSFUL, healthy:
/// verified.
#[test]
fn verify_buildspec_ecs_express_successful_passes() {
    let (run, answers, health, path) = verify(&VerifyCase {
        config: "fixtures/express.toml",
        answers: &[
            (
                "DescribeExpressGatewayService",
                "ecs.DescribeExpressGatewayService.active.json",
            ),
            (
                "DescribeServiceDeployments",
                "ecs.DescribeServiceDeployments.successful.json",
            ),
        ],
        health: 200,
    });
    assert_run(&run, "SUCCEEDED");
    let targets: Vec<String> = answers.seen().iter().map(|r| r.target.clone()).collect();
    assert!(
        targets
            .contains(&"AmazonEC2ContainerServiceV20141113.DescribeServiceDeployments".to_owned()),
        "{targets:?}"
    );
    assert!(
        health.seen().iter().any(|r| r.path == path),
        "{:?}",
        health.seen()
    );
    let first = &answers.seen()[0];
    assert!(first.body.contains(ECS_ARN), "{}", first.body);
}

/// ECS rolled the deployment back behind a complete stack update: fails.
#[test]
fn verify_buildspec_ecs_express_rollback_fails() {
    let (run, _answers, _health, _path) = verify(&VerifyCase {
        config: "fixtures/express.toml",
        answers: &[
            (
                "DescribeExpressGatewayService",
                "ecs.DescribeExpressGatewayService.active.json",
            ),
            (
                "DescribeServiceDeployments",
                "ecs.DescribeServiceDeployments.rollback-successful.json",
            ),
        ],
        health: 200,
    });
    assert_run(&run, "FAILED");
    assert!(
        run.log().contains("ROLLBACK_SUCCESSFUL"),
        "says why:\n{}",
        run.log()
    );
}

/// A denied DescribeExpressGatewayService is no verification: fails.
#[test]
fn verify_buildspec_ecs_express_denied_fails() {
    let (run, answers, _health, _path) = verify(&VerifyCase {
        config: "fixtures/express.toml",
        answers: &[(
            "DescribeExpressGatewayService",
            "ecs.DescribeExpressGatewayService.denied.json",
        )],
        health: 200,
    });
    assert!(
        !answers.seen().is_empty(),
        "the CLI reached the test's ECS endpoint"
    );
    assert_run(&run, "FAILED");
}
