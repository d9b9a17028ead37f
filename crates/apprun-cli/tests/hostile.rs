//! Hostile and unlucky input (issue 16): deep nesting and huge files are
//! refused fast, files that are not files are not read, every file's
//! findings are reported, user values are shortened and their control
//! characters escaped, and `synth` never loses or deletes a folder.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Bound for one `check` run of the dev-profile binary the tests build (the
/// release binary is several times faster).
const FAST: Duration = Duration::from_secs(5);

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

fn timed(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let o = apprun(dir, args);
    (o, start.elapsed())
}

/// Runs apprun, killing it if it has not finished within `limit`.
fn apprun_within(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(args)
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("apprun {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn findings(o: &Output) -> Vec<serde_json::Value> {
    json(o)["findings"].as_array().cloned().unwrap_or_default()
}

const VALID: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";

#[test]
fn deep_nesting_is_refused_fast_at_its_line() {
    let p = project();
    // Indentation costs a byte a level: 1,000 levels are 500 KB.
    let block: String = (1..1_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let cases = [
        ("block-1k.yaml", format!("Resources:\n{block}")),
        (
            "flow-10k.yaml",
            format!("Resources: {}\n", "[".repeat(10_000)),
        ),
        ("seq-20k.yaml", format!("a: {}1\n", "- ".repeat(20_000))),
        ("brackets.yaml", "[".repeat(100 * 1024)),
        (
            "braces.yaml",
            format!("Resources: {}", "{a: ".repeat(100_000)),
        ),
        (
            "brackets-40k.yaml",
            format!("Resources: {}{}\n", "[".repeat(40_000), "]".repeat(40_000)),
        ),
    ];
    // Text that starts with `{` is read as JSON, whose reader stops at
    // 128 levels by itself.
    let f = write(p.path(), "braces.json", "{a: ".repeat(100_000));
    let (o, took) = timed(p.path(), &["--output", "json", "check", "--template", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(took < FAST, "took {took:?}");
    assert_eq!(findings(&o)[0]["line"], 1);
    for (name, text) in &cases {
        let f = write(p.path(), name, text);
        let (o, took) = timed(p.path(), &["--output", "json", "check", "--template", &f]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(took < FAST, "{name} took {took:?}");
        let fs = findings(&o);
        assert_eq!(fs.len(), 1, "{name}: {fs:?}");
        assert_eq!(fs[0]["rule"], "E-PARSE");
        assert!(fs[0]["line"].as_u64().is_some(), "{name}: {fs:?}");
        assert!(
            fs[0]["message"]
                .as_str()
                .unwrap()
                .contains("nested deeper than 100 levels"),
            "{name}: {fs:?}"
        );
    }
}

#[test]
fn templates_beyond_cloudformations_limit_are_refused_unread() {
    let p = project();
    let mut big = String::from("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n# ");
    big.push_str(&"x".repeat(1024 * 1024));
    let f = write(p.path(), "big.yaml", &big);
    let (o, took) = timed(p.path(), &["--output", "json", "check", "--template", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(took < FAST, "took {took:?}");
    let fs = findings(&o);
    assert_eq!(fs[0]["rule"], "E-PARSE");
    assert!(
        fs[0]["message"]
            .as_str()
            .unwrap()
            .contains("is larger than CloudFormation accepts (1048576 bytes"),
        "{fs:?}"
    );
    // --max-template-size raises the limit for check: the same file is read.
    let o = apprun_within(
        p.path(),
        &["check", "--max-template-size", "2000000", "--template", &f],
        FAST,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // ... and lowers it: a small file beyond a small limit is refused.
    let o = apprun_within(
        p.path(),
        &[
            "--output",
            "json",
            "check",
            "--max-template-size",
            "10",
            "--template",
            &f,
        ],
        FAST,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(findings(&o)[0]["rule"], "E-PARSE");
    // ... up to 1 GiB: beyond, a usage error (exit 2) naming the range.
    let o = apprun_within(
        p.path(),
        &[
            "check",
            "--max-template-size",
            "1073741825",
            "--template",
            &f,
        ],
        FAST,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("1..=1073741824"), "{}", stderr(&o));
}

#[test]
fn a_template_full_of_findings_reports_the_first_thousand_and_counts_the_rest() {
    // An unknown property every few bytes: each a finding. The report keeps
    // the first 1000 of the template and one finding counts the others by
    // rule; the exit code is what all of them would make it (1).
    let p = project();
    let mut text = String::from("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n");
    for i in 0..1500 {
        text.push_str(&format!("      X{i}: 1\n"));
    }
    let f = write(p.path(), "dense.yaml", &text);
    // (`timed` reads the output as it comes: it is larger than a pipe holds.)
    let (o, _) = timed(p.path(), &["--output", "json", "check", "--template", &f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let fs = findings(&o);
    assert_eq!(fs.len(), 1001, "1000 kept and the count of the rest");
    let limit: Vec<_> = fs
        .iter()
        .filter(|f| f["rule"] == "E-FINDINGS-LIMIT")
        .collect();
    assert_eq!(limit.len(), 1, "{:?}", &fs[..3]);
    let message = limit[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("500 more findings") && message.contains("E-PROP-UNKNOWN 500"),
        "{message}"
    );
    assert_eq!(limit[0]["file"], "dense.yaml");
    // The text report says the same on its first line for the file.
    let (o, _) = timed(p.path(), &["check", "--template", &f]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .next()
            .unwrap_or_default()
            .contains("E-FINDINGS-LIMIT"),
        "{out}"
    );
}

#[test]
fn files_that_are_not_files_are_refused_without_reading() {
    let p = project();
    let fifo = p.path().join("pipe.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo"
    );
    std::fs::create_dir(p.path().join("folder.yaml")).unwrap();
    for target in ["pipe.yaml", "/dev/zero", "folder.yaml"] {
        let o = apprun_within(
            p.path(),
            &["--output", "json", "check", "--template", target],
            FAST,
        );
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        let fs = findings(&o);
        assert_eq!(fs[0]["rule"], "E-PARSE", "{target}");
        assert!(
            fs[0]["message"]
                .as_str()
                .unwrap()
                .contains("not a regular file"),
            "{target}: {fs:?}"
        );
    }
    for config in ["pipe.yaml", "/dev/zero"] {
        let o = apprun_within(
            p.path(),
            &["--config", config, "plan", "--env", "dev"],
            FAST,
        );
        assert_eq!(o.status.code(), Some(2), "{config}: {}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }
}

#[test]
fn an_undecodable_template_does_not_hide_the_others() {
    let p = project();
    let bad = write(
        p.path(),
        "latin1.yaml",
        b"Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    # caf\xe9\n".as_slice(),
    );
    let flawed = write(
        p.path(),
        "flawed.yaml",
        "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n      SecurityGroupIngress:\n        - IpProtocol: tcp\n          FromPort: 22\n          ToPort: 22\n          CidrIp: 0.0.0.0/0\n",
    );
    let o = apprun(
        p.path(),
        &["--output", "json", "check", "--template", &bad, &flawed],
    );
    // Another error besides the unreadable file: 1.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let fs = findings(&o);
    let parse = fs.iter().find(|f| f["rule"] == "E-PARSE").expect("E-PARSE");
    assert_eq!(parse["file"], "latin1.yaml");
    assert_eq!(parse["line"], 4);
    assert!(
        parse["message"].as_str().unwrap().contains("0xE9"),
        "{parse}"
    );
    assert!(
        fs.iter()
            .any(|f| f["rule"] == "APR-SG-001" && f["file"] == "flawed.yaml"),
        "{fs:?}"
    );
    // Only unreadable input: 2, and the valid file is still checked.
    let ok = write(p.path(), "ok.yaml", VALID);
    let o = apprun(
        p.path(),
        &["--output", "json", "check", "--template", &bad, &ok],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(json(&o)["checked"], 2);
    // A missing file is a finding too, not the end of the run.
    let o = apprun(p.path(), &["check", "--template", "missing.yaml", &ok]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("error[E-PARSE] missing.yaml"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn parse_errors_carry_their_line() {
    let p = project();
    let f = write(p.path(), "broken.yaml", "Resources:\n  A:\n    Type: [x\n");
    let o = apprun(p.path(), &["--output", "json", "check", "--template", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        findings(&o)[0]["line"].as_u64().is_some(),
        "{:?}",
        findings(&o)
    );
    let f = write(
        p.path(),
        "broken.json",
        "{\n  \"Resources\": {\n    \"A\": [1,,]\n  }\n}\n",
    );
    let o = apprun(p.path(), &["--output", "json", "check", "--template", &f]);
    assert_eq!(findings(&o)[0]["line"], 3, "{:?}", findings(&o));
}

#[test]
fn value_errors_the_schema_type_cannot_see_are_reported() {
    let p = project();
    let cases = [
        (
            "cidr.yaml",
            "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/33\n",
            "E-PROP-PATTERN",
            "10.0.0.0/33",
        ),
        (
            "select.yaml",
            "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Select [-1, [a, b]]\n",
            "E-FN",
            "negative",
        ),
        (
            "select-past.yaml",
            "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Select [2, [a, b]]\n",
            "E-FN",
            "out of range",
        ),
        (
            "inf.yaml",
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: .inf\n",
            "E-PROP-TYPE",
            "infinity or NaN",
        ),
        (
            "nan.yaml",
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: .nan\n",
            "E-PROP-TYPE",
            "infinity or NaN",
        ),
        (
            "dup.json",
            "{\"Resources\": {\"Sg\": {\"Type\": \"AWS::SNS::Topic\"}, \"Sg\": {\"Type\": \"AWS::SNS::Topic\"}}}",
            "E-DUPLICATE-KEY",
            "",
        ),
    ];
    for (name, text, rule, words) in cases {
        let f = write(p.path(), name, text);
        let o = apprun(p.path(), &["--output", "json", "check", "--template", &f]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stdout(&o));
        let fs = findings(&o);
        assert!(
            fs.iter()
                .any(|f| f["rule"] == rule && f["message"].as_str().unwrap().contains(words)),
            "{name}: {fs:?}"
        );
    }
    // A UTF-8 byte order mark is no text: the template reads as without it.
    let f = write(p.path(), "bom.yaml", format!("\u{feff}{VALID}"));
    let o = apprun(p.path(), &["check", "--template", &f]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn a_huge_logical_id_is_shown_shortened() {
    let p = project();
    // YAML takes keys of up to 1,024 characters.
    let id = "L".repeat(1000);
    let f = write(
        p.path(),
        "long-id.yaml",
        format!(
            "Resources:\n  {id}:\n    Type: AWS::SNS::Topic\n    Properties:\n      Bogus: 1\n"
        ),
    );
    let (o, took) = timed(p.path(), &["check", "--template", &f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(took < FAST, "took {took:?}");
    let out = stdout(&o);
    assert!(!out.contains(&id), "{out}");
    assert!(out.contains("(1000 characters)"), "{out}");
}

#[test]
fn control_characters_are_escaped_in_text_output() {
    let p = project();
    let f = write(
        p.path(),
        "ctl.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      Bogus: \"\\e[2J\\u202Eevil\\0\"\n      \"Na\\e[31mme\\nX\": 1\n",
    );
    let o = apprun(p.path(), &["check", "--template", &f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}') && !out.contains('\0'),
        "{out:?}"
    );
    assert!(out.contains("Na\\x1b[31mme\\nX"), "{out}");
    // Every finding is one line.
    assert!(
        out.lines()
            .all(|l| l.starts_with("error[") || l.starts_with("warning[")),
        "{out}"
    );
    // The JSON report keeps the text (JSON escapes it).
    let o = apprun(p.path(), &["--output", "json", "check", "--template", &f]);
    assert!(stdout(&o).contains("Na\\u001b[31mme\\nX"), "{}", stdout(&o));
}

/// The shipped config with `system.id` replaced.
fn config_with_id(id: &str) -> String {
    let text = std::fs::read_to_string(workspace().join("apprun.toml")).unwrap();
    let start = text.find("\nid = ").expect("system id") + 1;
    let end = start + text[start..].find('\n').unwrap();
    format!("{}id = \"{id}\"{}", &text[..start], &text[end..])
}

#[test]
fn a_huge_config_value_costs_one_short_line() {
    let p = project();
    let id = "X".repeat(1024 * 1024 - 4096);
    write(p.path(), "apprun.toml", config_with_id(&id));
    let (o, took) = timed(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        &stderr(&o)[..2000.min(stderr(&o).len())]
    );
    assert!(took < FAST, "took {took:?}");
    let err = stderr(&o);
    assert!(err.len() < 20_000, "{} bytes of errors", err.len());
    assert!(
        err.contains(&format!("{}… ({} characters)", "X".repeat(60), id.len())),
        "{err}"
    );
    // JSON diagnostics are short too.
    let o = apprun(p.path(), &["--output", "json", "plan", "--env", "dev"]);
    assert!(o.stdout.len() < 20_000, "{} bytes", o.stdout.len());
    // Beyond 1 MiB the config is refused unread.
    write(
        p.path(),
        "apprun.toml",
        config_with_id(&"X".repeat(1024 * 1024)),
    );
    let o = apprun(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("larger than the limit of 1048576 bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_controls_are_escaped_and_undecodable_configs_located() {
    let p = project();
    // TOML spells ESC as an escape; U+202E may stand as it is.
    write(
        p.path(),
        "apprun.toml",
        config_with_id("a\\u001b[2Jb\u{202e}c"),
    );
    let o = apprun(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("a\\x1b[2Jb\\u{202e}c"), "{err}");

    let mut bytes = config_with_id("ok-id").into_bytes();
    let at = bytes.windows(4).position(|w| w == b"ok-i").unwrap();
    bytes[at] = 0xff;
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    write(p.path(), "apprun.toml", &bytes);
    let o = apprun(p.path(), &["--output", "json", "plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2));
    let d = &json(&o)["diagnostics"][0];
    assert_eq!(d["line"], line, "{d}");
    assert!(d["message"].as_str().unwrap().contains("0xFF"), "{d}");
}

#[test]
fn a_subnet_prefix_beyond_32_is_a_config_error() {
    let p = project();
    let text = std::fs::read_to_string(workspace().join("apprun.toml")).unwrap();
    let start = text.find("network = \"").expect("a network") + "network = \"".len();
    let end = start + text[start..].find('"').unwrap();
    write(
        p.path(),
        "apprun.toml",
        format!("{}10.0.0.0/33{}", &text[..start], &text[end..]),
    );
    let o = apprun(p.path(), &["--output", "json", "plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let d = json(&o)["diagnostics"].clone();
    assert!(d.to_string().contains("10.0.0.0/33"), "{d}");
}

#[test]
fn synth_replaces_its_folder_and_never_deletes_user_files() {
    let p = project();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = std::fs::read_to_string(p.path().join("out/apprun.manifest.json")).unwrap();
    // A leftover of a killed run (a pid that cannot be alive) is removed;
    // one of a live process is kept.
    let stale = p.path().join(format!(".out.apprun-tmp-{}", i32::MAX));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("iam.yaml"), "partial").unwrap();
    let live = p
        .path()
        .join(format!(".out.apprun-tmp-{}", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stale.exists(), "the stale temp folder is removed");
    assert!(live.exists(), "a live run's temp folder is kept");
    std::fs::remove_dir(&live).unwrap();
    assert_eq!(
        std::fs::read_to_string(p.path().join("out/apprun.manifest.json")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("apprun-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A file apprun did not write: refused, and the file stays.
    std::fs::write(p.path().join("out/notes.txt"), "mine").unwrap();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(p.path().join("out/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_killed_synth_leaves_the_old_or_the_new_folder_complete() {
    let p = project();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<String> = {
        let mut names: Vec<String> = std::fs::read_dir(p.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    for i in 0..30u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
            .args(["synth", "--env", "dev", "--out", "out"])
            .current_dir(p.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at varying instants of the run; every other time with
        // SIGINT (Ctrl-C), which must leave no temporary folder behind.
        std::thread::sleep(Duration::from_millis(2 * i));
        let sigint = i % 2 == 1;
        let own_temp = p.path().join(format!(".out.apprun-tmp-{}", child.id()));
        if sigint {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
        } else {
            let _ = child.kill();
        }
        let _ = child.wait();
        if sigint {
            assert!(
                !own_temp.exists(),
                "SIGINT at {} ms left its temporary folder",
                2 * i
            );
        }
        let mut names: Vec<String> = std::fs::read_dir(p.path().join("out"))
            .unwrap_or_else(|e| panic!("out/ is gone after a kill at {} ms: {e}", 2 * i))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, expected, "kill at {} ms", 2 * i);
    }
    // The next run removes whatever the killed ones left.
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let leftovers: Vec<_> = std::fs::read_dir(p.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("apprun-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn local_serves_on_loopback_only_and_ctrl_c_exits_130() {
    let p = project();
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    let start = text.find("\nlocal = ").expect("a local command") + 1;
    let end = start + text[start..].find('\n').unwrap();
    // A server that binds where it is told (`HOST`), as the shipped app does.
    let local = r#"local = ["sh", "-c", "echo \"$HOST\" > host.txt; exec python3 -m http.server --bind \"$HOST\" \"$PORT\""]"#;
    write(
        p.path(),
        "apprun.toml",
        format!("{}{local}{}", &text[..start], &text[end..]),
    );
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(["local", "--env", "dev", "--port", &port.to_string()])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "never served");
        assert!(child.try_wait().unwrap().is_none(), "apprun local exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(p.path().join("host.txt"))
            .unwrap()
            .trim(),
        "127.0.0.1"
    );
    // Let the health check pass, then Ctrl-C.
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped"), "{}", stderr(&o));
}

#[test]
fn local_whose_reader_goes_away_stops_the_service_and_ends_quietly() {
    // `apprun local | head -1`: the reader takes the URL line and closes the
    // pipe. apprun must stop the service it started (never leave it running
    // without its supervisor) and end with 0, as every command does on a
    // closed pipe.
    let p = project();
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    let start = text.find("\nlocal = ").expect("a local command") + 1;
    let end = start + text[start..].find('\n').unwrap();
    // A server that logs a line per request on stdout, so that apprun writes
    // to the closed pipe.
    let local = r#"local = ["sh", "-c", "exec python3 -u -c 'import http.server,sys,os\nclass H(http.server.SimpleHTTPRequestHandler):\n    def log_message(self, *a): print(\"request\", flush=True)\nhttp.server.HTTPServer((os.environ[\"HOST\"], int(os.environ[\"PORT\"])), H).serve_forever()'"]"#;
    write(
        p.path(),
        "apprun.toml",
        format!("{}{local}{}", &text[..start], &text[end..]),
    );
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(["local", "--env", "dev", "--port", &port.to_string()])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the URL line, then close the reading end, as `head -1` does.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut url).unwrap();
    assert_eq!(url.trim(), format!("http://127.0.0.1:{port}/"));
    drop(stdout);
    // Requests make the service log, and apprun write to the closed pipe.
    for _ in 0..5 {
        let _ = std::net::TcpStream::connect(("127.0.0.1", port))
            .and_then(|mut s| std::io::Write::write_all(&mut s, b"GET / HTTP/1.0\r\n\r\n"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "apprun local kept running after its reader went away"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
    // The service is gone too: its port no longer answers.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the service still answers after apprun ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
