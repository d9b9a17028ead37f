//! Every synthesized template of every env passes the real cfn-lint with no
//! error and no warning, for the shipped config and for a second config that
//! uses what the reference does not (private ingress, WAF, GitHub, /16, two
//! services), for the ECS Express fixture and for the fixture of issue 13's
//! keys (env vars, secrets, scaling, tracing), in YAML and in JSON.
//!
//! Nothing is suppressed: cfn-lint runs with its default rules plus the
//! informational ones (`--include-checks I`), and the test fails on any
//! finding.

mod common;

use common::*;

fn lint_all(config: &str, format: &str) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let config_path = workspace().join(config);
    let o = apprun(
        work.path(),
        &[
            "--config",
            config_path.to_str().unwrap(),
            "synth",
            "--all",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files: Vec<String> = Vec::new();
    for env in std::fs::read_dir(&out).unwrap() {
        let env = env.unwrap().path();
        if env.is_dir() {
            for f in std::fs::read_dir(&env).unwrap() {
                files.push(f.unwrap().path().display().to_string());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let lint = std::process::Command::new(cfn_lint())
        .args(["--include-checks", "I", "--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && findings.trim().is_empty(),
        "cfn-lint found problems in {config} ({format}):\n{findings}{}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn shipped_config_yaml_passes_cfn_lint() {
    lint_all("apprun.toml", "yaml");
}

#[test]
fn second_config_yaml_passes_cfn_lint() {
    lint_all("fixtures/shop-api.toml", "yaml");
}

#[test]
fn ecs_express_config_passes_cfn_lint() {
    lint_all("fixtures/express.toml", "yaml");
}

/// Issue 13's keys on both backends: env vars, secrets (SSM, Secrets
/// Manager, JSON keys, a KMS key), auto scaling and observability
/// configurations, the per-service run roles.
#[test]
fn runtime_keys_config_passes_cfn_lint() {
    lint_all("fixtures/runtime.toml", "yaml");
    lint_all("fixtures/runtime.toml", "json");
}

#[test]
fn both_configs_json_pass_cfn_lint() {
    lint_all("apprun.toml", "json");
    lint_all("fixtures/shop-api.toml", "json");
}

/// apprun check misses no template in which cfn-lint finds a structural
/// error: both run over the broken-template corpus of apprun-check.
#[test]
fn apprun_check_flags_every_template_cfn_lint_rejects() {
    let corpus = workspace().join("crates/apprun-check/tests/corpus");
    // Templates only: the corpus may hold folders of other fixtures.
    let mut files: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    // One cfn-lint run over every file; parseable lines are file:line:col:line:col:code:message.
    let lint = std::process::Command::new(cfn_lint())
        .args(["--format", "parseable", "--"])
        .args(&files)
        .output()
        .unwrap();
    let lint_out = String::from_utf8_lossy(&lint.stdout).into_owned();
    let mut compared = 0;
    for file in &files {
        let lint_errors: Vec<&str> = lint_out
            .lines()
            .filter(|l| l.starts_with(&format!("{file}:")))
            .filter(|l| {
                l[file.len()..]
                    .split(':')
                    .nth(5)
                    .is_some_and(|code| code.starts_with('E'))
            })
            .collect();
        let ours = apprun(&corpus, &["check", "--template", file, "--output", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
        let our_errors = report["errors"].as_u64().unwrap();
        if !lint_errors.is_empty() {
            compared += 1;
            assert!(
                our_errors > 0,
                "cfn-lint rejects {file} but apprun check passes it:\n{}",
                lint_errors.join("\n")
            );
        }
    }
    assert!(
        compared >= 8,
        "cfn-lint found errors in only {compared} corpus files"
    );
}
