//! Jobs from the command line: the shipped config (one scheduled job) and a
//! fixture with a schedule job, an EventBridge-pattern job and two SNS jobs
//! synthesize every env, pass the real cfn-lint with no finding and
//! `apprun check` with no error (schemas, policy rules, the permission
//! proof of the pipeline role that deploys the job stacks, reachability);
//! and a bad job in apprun.toml is reported at its file, line and key.

mod common;

use common::*;

const FIXTURE: &str = "crates/apprun-blueprint/tests/fixtures/jobs.toml";

fn project_with(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(workspace().join(config), dir.path().join("apprun.toml")).unwrap();
    dir
}

/// `envs`: each env with the number of stacks it has, its job stacks
/// among them.
fn check_every_env(config: &str, envs: &[(&str, u64)]) {
    let p = project_with(config);
    for (env, stacks) in envs {
        let o = apprun(p.path(), &["check", "--env", env, "--output", "json"]);
        let report = json(&o);
        let errors: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{report}"))
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{config} {env}: {errors:#?}");
        assert_eq!(o.status.code(), Some(0), "{config} {env}: {}", stderr(&o));
        // Every stack was checked, the job stacks with the others.
        assert_eq!(report["checked"], *stacks, "{config} {env}: {report}");
    }
}

#[test]
fn shipped_config_with_its_job_passes_check() {
    // iam, repository, network, service-web, pipeline, job-daily-analysis.
    check_every_env("apprun.toml", &[("dev", 6), ("stg", 6), ("prod", 6)]);
}

#[test]
fn fixture_with_every_trigger_passes_check() {
    // iam, repository, network, two services, pipeline and the jobs: three
    // in dev, four in prod (ingest runs in prod only).
    check_every_env(FIXTURE, &[("dev", 9), ("prod", 10)]);
}

#[test]
fn fixture_with_every_trigger_passes_cfn_lint() {
    let p = project_with(FIXTURE);
    let o = apprun(p.path(), &["synth", "--all", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files = Vec::new();
    for env in ["dev", "prod"] {
        for f in std::fs::read_dir(p.path().join("out").join(env)).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    let jobs: Vec<&String> = files.iter().filter(|f| f.contains("/job-")).collect();
    // dev: nightly, notify, mirror; prod: the same and ingest.
    assert_eq!(jobs.len(), 7, "{files:?}");
    let lint = std::process::Command::new(cfn_lint())
        .args(["--include-checks", "I", "--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && findings.trim().is_empty(),
        "cfn-lint:\n{findings}{}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn a_bad_schedule_is_reported_at_its_line_and_key() {
    let p = project_with("apprun.toml");
    let path = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad = text.replacen(
        "schedule = \"cron(0 9 * * ? *)\"",
        "schedule = \"cron(0 9 * * * *)\"",
        1,
    );
    assert_ne!(bad, text, "the shipped config has the schedule");
    std::fs::write(&path, &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("schedule = "))
        .unwrap()
        + 1;
    let o = apprun(p.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("apprun.toml:{line}:"))
            && err.contains("jobs.daily-analysis.schedule")
            && err.contains("one of them must be `?`"),
        "{err}"
    );
}
