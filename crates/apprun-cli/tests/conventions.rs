//! The command line's conventions, end to end: each exit code of the table
//! produced by the kind of failure it names, broken pipes, one JSON
//! document on stdout whatever happens, flags, and the exact text of help,
//! plan, diagnostics and JSON shapes (insta snapshots).

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

/// `apprun` with a fixed help width and no colour, like common::apprun.
fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("apprun runs")
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apprun"));
    c.args(args)
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1");
    c
}

/// stdout parsed as exactly one JSON document (serde_json rejects trailing
/// text).
fn one_document(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// The one JSON document of stdout, pretty-printed for a snapshot.
fn pretty(o: &Output) -> String {
    serde_json::to_string_pretty(&one_document(o)).unwrap()
}

/// The shipped config with one edit.
fn project_with(from: &str, to: &str) -> tempfile::TempDir {
    let p = project();
    let path = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the shipped apprun.toml has {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    p
}

/// The shipped config whose service's `local` command is `command`.
fn project_with_local(command: &str) -> tempfile::TempDir {
    project_with(
        r#"local = ["target/x86_64-unknown-linux-gnu/release/hello-app"]"#,
        &format!("local = {command}"),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---- Exit codes: one test per code, produced by the kind the table names.

#[test]
fn exit_0_success() {
    let p = project();
    let o = run(p.path(), &["plan", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(one_document(&o)["env"], "dev");
}

#[test]
fn exit_1_an_operation_failed_check_errors() {
    let p = project();
    std::fs::write(
        p.path().join("broken.yaml"),
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing\n",
    )
    .unwrap();
    let o = run(p.path(), &["check", "--template", "broken.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("error[E-REF] broken.yaml:2: Topic"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn exit_1_an_operation_failed_the_local_service_exited() {
    let p = project_with_local(r#"["sh", "-c", "exit 3"]"#);
    let port = free_port().to_string();
    let o = run(
        p.path(),
        &["local", "--env", "dev", "--port", &port, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "failed");
    assert_eq!(
        doc["error"], "the service exited before it was healthy (exit status: 3)",
        "not a refusal: {doc}"
    );
}

#[test]
fn exit_2_usage_unknown_stack_and_value_enums() {
    let p = project();
    // --stack names a stack of the env; checked before any AWS call.
    let o = run(
        p.path(),
        &[
            "deploy", "--env", "dev", "--stack", "ecs-web", "--output", "json",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "usage");
    assert_eq!(
        doc["error"],
        "stack ecs-web is not part of env `dev`; --stack takes one of: network, repository, iam, job-daily-analysis, pipeline, service-web"
    );
    // Closed sets are clap value enums: wrong values are usage errors.
    for args in [
        &[
            "migrate",
            "--env",
            "dev",
            "--service",
            "web",
            "--to",
            "lambda",
        ][..],
        &["release", "--env", "dev", "--builder", "kaniko"][..],
        &["plan", "--env", "dev", "--output", "yaml"][..],
        &["synth", "--env", "dev", "--format", "toml"][..],
        &["plan", "--env", "dev", "--color", "sometimes"][..],
    ] {
        let o = run(p.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("[possible values: "),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn exit_2_usage_invalid_config() {
    let p = project_with("memory = \"2 GB\"", "memory = \"9 GB\"");
    let o = run(p.path(), &["plan", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "usage");
    assert_eq!(doc["diagnostics"][0]["key"], "env.dev.memory");
}

#[test]
fn exit_2_usage_unreadable_template() {
    let p = project();
    let o = run(
        p.path(),
        &["check", "--template", "missing.yaml", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // The report is still the one document: the unreadable file is an
    // E-PARSE finding (other files would be checked and reported beside it).
    let doc = one_document(&o);
    assert_eq!(doc["ok"], false, "{doc}");
    assert_eq!(doc["findings"][0]["rule"], "E-PARSE", "{doc}");
    assert_eq!(doc["findings"][0]["file"], "missing.yaml", "{doc}");
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot read: "),
        "{doc}"
    );
}

#[test]
fn exit_3_local_io_failure() {
    let p = project();
    std::fs::write(p.path().join("file"), "not a folder").unwrap();
    let o = run(
        p.path(),
        &["synth", "--env", "dev", "--out", "file/templates"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}

#[test]
fn exit_4_refused_a_dirty_working_tree() {
    let p = project();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(p.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "apprun.toml"]);
    git(&["commit", "-q", "-m", "config"]);
    std::fs::write(p.path().join("notes.txt"), "uncommitted\n").unwrap();
    git(&["add", "notes.txt"]);
    let o = run(p.path(), &["release", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "refused");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("uncommitted changes"),
        "{doc}"
    );
}

#[test]
fn exit_5_a_needed_tool_is_missing() {
    let p = project();
    let empty = tempfile::tempdir().unwrap();
    let o = command(
        p.path(),
        &[
            "release",
            "--env",
            "dev",
            "--image-tag",
            "abc1234",
            "--builder",
            "podman",
            "--output",
            "json",
        ],
    )
    .env("PATH", empty.path())
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(one_document(&o)["kind"], "tool");
}

#[test]
fn exit_6_a_job_failed() {
    let p = project_with_local(r#"["sh", "-c", "exit $1", "sh"]"#);
    let path = p.path().join("apprun.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n[jobs.exit-three]\ncommand = [\"3\"]\nschedule = \"rate(1 day)\"\n");
    std::fs::write(&path, text).unwrap();
    let o = run(
        p.path(),
        &[
            "job",
            "local",
            "--env",
            "dev",
            "exit-three",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "job-failed");
    assert_eq!(
        doc["run"]["exit_code"], 3,
        "the job's own code is in the document"
    );
    // The same job exiting 0 is a success.
    let o = run(
        p.path(),
        &["job", "local", "--env", "dev", "exit-three", "--", "0"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn exit_130_interrupted() {
    let p = project_with_local(r#"["sleep", "30"]"#);
    let port = free_port().to_string();
    let child = command(p.path(), &["local", "--env", "dev", "--port", &port])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The service never answers its health path; Ctrl-C ends the wait.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed().as_secs() < 20, "stopped promptly");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: interrupted before the service was healthy; it was stopped\n"
    );
}

// ---- Streams.

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    let p = project();
    let (reader, writer) = std::io::pipe().unwrap();
    // The reader is gone before apprun writes: every write gets EPIPE.
    drop(reader);
    let o = command(p.path(), &["plan", "--env", "dev"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "no panic, no message");
}

#[test]
fn json_mode_puts_one_document_on_stdout_even_for_errors() {
    // A check error stops deploy before any AWS call; its findings go into
    // the error document, not as text before it.
    let p = project_with(
        "[env.dev]\n",
        "[policy]\nprivate_envs = [\"dev\"]\n\n[env.dev]\n",
    );
    let o = run(p.path(), &["deploy", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = one_document(&o);
    assert_eq!(doc["kind"], "failed");
    assert_eq!(doc["exit_code"], 1);
    let first_error = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["severity"] == "error"))
        .map(|f| f["rule"].clone());
    assert_eq!(first_error, Some("APR-NET-001".into()), "{doc}");
    // In text mode stdout stays empty: findings and the error go to stderr.
    let o = run(p.path(), &["deploy", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("error[APR-NET-001]"), "{}", stderr(&o));
    // A command line clap rejects still gives one document.
    let p = project();
    let o = run(
        p.path(),
        &["plan", "--env", "dev", "--output", "json", "--bogus"],
    );
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("usage_error_json", pretty(&o));
}

#[test]
fn image_tag_is_one_flag_with_the_old_spelling_hidden() {
    let p = project();
    let help = stdout(&run(p.path(), &["release", "--help"]));
    assert!(
        help.contains("--image-tag <TAG>") && !help.contains("--tag"),
        "{help}"
    );
    // `--tag` still parses (the PATH has no builder, so it fails later, at 5).
    let empty = tempfile::tempdir().unwrap();
    let o = command(
        p.path(),
        &[
            "release",
            "--env",
            "dev",
            "--tag",
            "t1",
            "--builder",
            "buildah",
        ],
    )
    .env("PATH", empty.path())
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
}

#[test]
fn quiet_silences_progress_only() {
    let p = project();
    let o = run(p.path(), &["check", "--env", "dev"]);
    // iam, repository, network, the service, the job, the pipeline.
    assert!(stderr(&o).contains("checked 6 templates"), "{}", stderr(&o));
    let o = run(p.path(), &["-q", "check", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
}

#[test]
fn color_always_colours_diagnostics_and_never_does_not() {
    let p = project_with("memory = \"2 GB\"", "memory = \"9 GB\"");
    let o = run(p.path(), &["plan", "--env", "dev", "--color", "always"]);
    assert!(stderr(&o).contains('\u{1b}'), "{}", stderr(&o));
    let o = run(p.path(), &["plan", "--env", "dev", "--color", "never"]);
    assert!(!stderr(&o).contains('\u{1b}'));
    // auto: stderr is a pipe here, so no colour either.
    let o = command(p.path(), &["plan", "--env", "dev"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!stderr(&o).contains('\u{1b}'));
}

// ---- Exact output.

#[test]
fn help_of_every_command() {
    let p = project();
    for command in [
        "",
        "init",
        "synth",
        "plan",
        "check",
        "diagram",
        "deploy",
        "diff",
        "status",
        "destroy",
        "local",
        "release",
        "migrate",
        "logs",
        "approve",
        "job",
        "job run",
        "job list",
        "job local",
        "completions",
    ] {
        let args: Vec<&str> = command
            .split(' ')
            .chain(["--help"])
            .filter(|a| !a.is_empty())
            .collect();
        let o = run(p.path(), &args);
        assert_eq!(o.status.code(), Some(0));
        let name = if command.is_empty() {
            "apprun".to_owned()
        } else {
            command.replace(' ', "_")
        };
        insta::assert_snapshot!(format!("help_{name}"), stdout(&o));
    }
}

#[test]
fn plan_text_and_json() {
    let p = project();
    let o = run(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("plan_dev", stdout(&o));
    let o = run(p.path(), &["plan", "--env", "dev", "--output", "json"]);
    insta::assert_snapshot!("plan_dev_json", pretty(&o));
}

#[test]
fn config_error_diagnostic() {
    let p = project_with("memory = \"2 GB\"", "memory = \"9 GB\"");
    let o = run(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    insta::assert_snapshot!("config_error_text", stderr(&o));
    let o = run(p.path(), &["plan", "--env", "dev", "--output", "json"]);
    insta::assert_snapshot!("config_error_json", pretty(&o));
}

#[test]
fn check_failed_json_shape() {
    let p = project_with(
        "[env.dev]\n",
        "[policy]\nprivate_envs = [\"dev\"]\n\n[env.dev]\n",
    );
    let o = run(p.path(), &["deploy", "--env", "dev", "--output", "json"]);
    insta::assert_snapshot!("deploy_check_failed_json", pretty(&o));
    let o = run(p.path(), &["check", "--env", "dev", "--output", "json"]);
    insta::assert_snapshot!("check_json", pretty(&o));
}

#[test]
fn synth_json_shape() {
    let p = project();
    let o = run(
        p.path(),
        &["synth", "--env", "dev", "--out", "out", "--output", "json"],
    );
    insta::assert_snapshot!("synth_json", pretty(&o));
}

// ---- AWS options.

/// An endpoint that records each request's head and answers 400, so that
/// a command fails fast after showing how it signed its calls.
fn recording_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, heads)
}

/// The region of the first call `apprun status` signs, with `env` set.
fn signed_region(args: &[&str], env: &[(&str, &str)]) -> String {
    let p = project();
    let (url, heads) = recording_endpoint();
    let mut all = vec!["status", "--env", "dev", "--endpoint-url", url.as_str()];
    all.extend_from_slice(args);
    let mut c = command(p.path(), &all);
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", p.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            p.path().join("no-aws-credentials"),
        );
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let heads = heads.lock().unwrap();
    let head = heads.first().expect("apprun called the endpoint");
    // SigV4: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
    let credential = head
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or_else(|| panic!("a signed request: {head}"));
    credential.to_owned()
}

#[test]
fn region_comes_from_the_flag_then_aws_region_then_aws_default_region_then_the_config() {
    assert_eq!(signed_region(&[], &[]), "ap-northeast-1", "system.region");
    assert_eq!(
        signed_region(&[], &[("AWS_DEFAULT_REGION", "eu-west-2")]),
        "eu-west-2"
    );
    assert_eq!(
        signed_region(
            &[],
            &[
                ("AWS_DEFAULT_REGION", "eu-west-2"),
                ("AWS_REGION", "eu-west-3")
            ]
        ),
        "eu-west-3"
    );
    assert_eq!(
        signed_region(&["--region", "us-east-2"], &[("AWS_REGION", "eu-west-3")]),
        "us-east-2"
    );
}

#[test]
fn aws_options_are_only_on_commands_that_call_aws() {
    let p = project();
    for offline in ["synth", "plan", "check", "diagram", "job local"] {
        let words: Vec<&str> = offline.split(' ').collect();
        let help = stdout(&run(p.path(), &[words.as_slice(), &["--help"]].concat()));
        assert!(!help.contains("--region"), "{offline}: {help}");
        let o = run(
            p.path(),
            &[words.as_slice(), &["--env", "dev", "--region", "eu-west-1"]].concat(),
        );
        assert_eq!(o.status.code(), Some(2), "{offline} rejects --region");
    }
    for online in [
        "deploy", "diff", "status", "destroy", "release", "migrate", "logs", "approve", "local",
        "job run", "job list",
    ] {
        let words: Vec<&str> = online.split(' ').collect();
        let help = stdout(&run(p.path(), &[words.as_slice(), &["--help"]].concat()));
        assert!(
            help.contains("AWS options:\n      --profile <NAME>"),
            "{online}: {help}"
        );
    }
}
