//! fixtures/runtime.toml (issue 13: env vars, secrets, a custom domain, App
//! Runner auto scaling and tracing, ECS secrets with JSON keys) through the
//! real tools: every template of every env passes the pinned cfn-lint with
//! no finding, and `apprun check` finds nothing, the permission proof
//! included (the pipeline role can create the auto scaling and observability
//! configurations and pass each service's own role). The same for a
//! variant with prod in an account of its own and secrets in prod only:
//! each IAM stack holds its account's run roles, and dev's web runs with
//! the shared instance role.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const FIXTURE: &str = "fixtures/runtime.toml";

/// The fixture with `[env.prod]` in account 111111111111, and the secrets
/// of `[services.web.secrets]` and `[services.api.secrets]` (every env's)
/// left out: only prod's web reads a secret (and traces).
fn prod_apart(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join(FIXTURE)).unwrap();
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line == "[services.web.secrets]" || line == "[services.api.secrets]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
            if line == "[env.prod]" {
                out.push_str("account = \"111111111111\"\n");
            }
        }
    }
    let path = dir.join("apprun.toml");
    std::fs::write(&path, out).unwrap();
    path
}

/// Every template `apprun synth --all` writes for `config` passes cfn-lint.
fn lint_all(config: &Path) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let o = apprun(
        work.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "synth",
            "--all",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files = Vec::new();
    for env in ["dev", "prod"] {
        for f in std::fs::read_dir(out.join(env)).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "yaml") {
                files.push(f.display().to_string());
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 12, "{files:?}");
    let lint = std::process::Command::new(cfn_lint())
        .args(["--include-checks", "I", "--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && findings.trim().is_empty(),
        "{}: cfn-lint found problems:\n{findings}{}",
        config.display(),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// `apprun check` of every env of `config` finds nothing.
fn check_clean(config: &Path) {
    let work = tempfile::tempdir().unwrap();
    for env in ["dev", "prod"] {
        let o = apprun(
            work.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "check",
                "--env",
                env,
                "--output",
                "json",
            ],
        );
        let report = json(&o);
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        assert!(
            o.status.success() && findings.is_empty(),
            "{} {env}: {}\n{}",
            config.display(),
            serde_json::to_string_pretty(&findings).unwrap(),
            stderr(&o)
        );
    }
}

#[test]
fn every_template_passes_cfn_lint() {
    lint_all(&workspace().join(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    lint_all(&prod_apart(dir.path()));
}

#[test]
fn apprun_check_finds_nothing_the_permission_proof_included() {
    check_clean(&workspace().join(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    check_clean(&prod_apart(dir.path()));
}

#[test]
fn each_account_gets_the_run_roles_of_its_envs() {
    let dir = tempfile::tempdir().unwrap();
    let config = prod_apart(dir.path());
    let out = dir.path().join("out");
    let o = apprun(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "synth",
            "--all",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dev = std::fs::read_to_string(out.join("dev/iam.yaml")).unwrap();
    let prod = std::fs::read_to_string(out.join("prod/iam.yaml")).unwrap();
    assert!(
        !dev.contains("-run"),
        "dev's account has no env with secrets or tracing: no run role, no PassRole on one"
    );
    assert!(!dev.contains("runtime-demo/prod/session"));
    assert!(prod.contains("RoleName: runtime-demo-prod-web-run"));
    assert!(
        !prod.contains("runtime-demo-dev-"),
        "no dev role in prod's account"
    );
    let web = std::fs::read_to_string(out.join("dev/service-web.yaml")).unwrap();
    assert!(
        web.contains("AppRunnerInstanceRoleArn") && !web.contains("-run"),
        "dev's web runs with the shared instance role"
    );
}
