//! The `apprun` binary end to end: synth, plan, check, errors and exit codes.

mod common;

use common::*;
use std::path::Path;

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn synth_writes_every_stack_of_an_env() {
    let p = project();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "d"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        files_in(&p.path().join("d")),
        [
            "apprun.manifest.json",
            "iam.yaml",
            "job-daily-analysis.yaml",
            "network.yaml",
            "pipeline.yaml",
            "repository.yaml",
            "service-web.yaml"
        ]
    );
    assert!(
        stderr(&o).contains("wrote 6 templates for dev"),
        "progress goes to stderr"
    );
    assert!(
        stdout(&o).contains("d/network.yaml"),
        "results go to stdout"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.path().join("d/apprun.manifest.json")).unwrap())
            .unwrap();
    let waves: Vec<(String, u64)> = manifest["envs"][0]["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["wave"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(waves[0], ("apprunner-nuxt3-dev-network".into(), 1));
    assert!(
        waves.contains(&("apprunner-nuxt3-dev-service-web".into(), 2)),
        "{waves:?}"
    );
    // The shipped scheduled job deploys in the services' wave.
    assert!(
        waves.contains(&("apprunner-nuxt3-dev-job-daily-analysis".into(), 2)),
        "{waves:?}"
    );
}

#[test]
fn synth_is_byte_for_byte_deterministic_and_replaces_its_own_output() {
    let p = project();
    let run = |out: &str| {
        let o = apprun(p.path(), &["synth", "--all", "--out", out]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    run("a");
    run("b");
    let a = files_in(&p.path().join("a"));
    // 6 templates and a manifest per env (the job is one of them).
    assert_eq!(a.len(), 19, "{a:?}");
    assert!(a.contains(&"dev/job-daily-analysis.yaml".to_owned()));
    assert!(a.contains(&"prod/service-web.yaml".to_owned()));
    for f in &a {
        assert_eq!(
            std::fs::read(p.path().join("a").join(f)).unwrap(),
            std::fs::read(p.path().join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // A file apprun did not write is never deleted: replacing the folder is
    // refused (exit 2), naming the file, and the file stays.
    std::fs::write(p.path().join("a/dev/stale.yaml"), "x").unwrap();
    let o = apprun(p.path(), &["synth", "--all", "--out", "a"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("stale.yaml"), "{}", stderr(&o));
    assert!(p.path().join("a/dev/stale.yaml").exists());
    std::fs::remove_file(p.path().join("a/dev/stale.yaml")).unwrap();
    run("a");
    let leftovers: Vec<_> = std::fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("apprun-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left behind: {leftovers:?}"
    );
}

#[test]
fn synth_json_format() {
    let p = project();
    let o = apprun(
        p.path(),
        &[
            "synth", "--env", "stg", "--format", "json", "--out", "j", "--output", "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let result: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(result["ok"], true);
    assert_eq!(result["files"].as_array().unwrap().len(), 7);
    let net: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.path().join("j/network.json")).unwrap()).unwrap();
    assert_eq!(
        net["Resources"]["VPC"]["Properties"]["CidrBlock"],
        "10.0.1.0/24"
    );
    assert_eq!(
        net["Resources"]["PublicRoute"]["Properties"]["GatewayId"]["Ref"],
        "InternetGateway"
    );
}

#[test]
fn synth_refuses_a_folder_it_did_not_write() {
    let p = project();
    std::fs::create_dir(p.path().join("src")).unwrap();
    std::fs::write(p.path().join("src/main.rs"), "fn main() {}").unwrap();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "src"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was not written by apprun synth"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join("src/main.rs")).unwrap(),
        "fn main() {}"
    );
}

#[test]
fn bad_config_names_file_line_key_and_writes_nothing() {
    let p = project();
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    std::fs::write(
        p.path().join("apprun.toml"),
        text.replace("memory = \"2 GB\"", "memory = \"9 GB\""),
    )
    .unwrap();
    let o = apprun(p.path(), &["synth", "--all", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let line = text
        .lines()
        .position(|l| l.contains("memory = \"2 GB\""))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("apprun.toml:{line}:")), "{err}");
    assert!(
        err.contains("env.dev.memory")
            && err.contains("1 vCPU / 9 GB is not a size App Runner offers"),
        "{err}"
    );
    assert!(
        err.contains("memory = \"9 GB\""),
        "the diagnostic shows the source line:\n{err}"
    );
    assert!(!p.path().join("out").exists(), "nothing is written");
    let o = apprun(p.path(), &["plan", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["diagnostics"][0]["line"], line);
    assert_eq!(json["diagnostics"][0]["key"], "env.dev.memory");
}

#[test]
fn unknown_env_and_missing_config() {
    let p = project();
    let o = apprun(p.path(), &["plan", "--env", "qa"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown environment `qa`") && stderr(&o).contains("dev, stg, prod"),
        "{}",
        stderr(&o)
    );
    let empty = tempfile::tempdir().unwrap();
    let o = apprun(empty.path(), &["plan", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no apprun.toml"), "{}", stderr(&o));
    let o = apprun(
        empty.path(),
        &[
            "--config",
            &p.path().join("apprun.toml").display().to_string(),
            "plan",
            "--env",
            "dev",
        ],
    );
    assert!(
        o.status.success(),
        "--config finds the file: {}",
        stderr(&o)
    );
}

/// The plan's text is snapshotted exactly in conventions.rs; here, the
/// facts of its JSON for prod.
#[test]
fn plan_json_counts_stacks_subnets_and_rules() {
    let p = project();
    let o = apprun(p.path(), &["plan", "--env", "prod", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["stacks"].as_array().unwrap().len(), 6);
    assert_eq!(json["subnets"].as_array().unwrap().len(), 6);
    assert_eq!(json["security_group_rules"].as_array().unwrap().len(), 38);
    assert_eq!(json["services"][0]["cpu"], "2 vCPU");
}

#[test]
fn check_passes_the_shipped_config_and_fails_broken_templates() {
    let p = project();
    let o = apprun(p.path(), &["check", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("checked 6 templates: 0 errors"));
    std::fs::write(
        p.path().join("broken.yaml"),
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing\n",
    )
    .unwrap();
    std::fs::write(p.path().join("garbage.yaml"), "Resources: [\n").unwrap();
    let o = apprun(
        p.path(),
        &[
            "check",
            "--template",
            "broken.yaml",
            "garbage.yaml",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [("broken.yaml", "E-REF"), ("garbage.yaml", "E-PARSE")]
    );
}

/// Help texts are snapshotted exactly in conventions.rs.
#[test]
fn a_missing_required_flag_is_a_usage_error() {
    let p = project();
    let o = apprun(p.path(), &["synth"]);
    assert_eq!(o.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn migrate_refuses_what_it_cannot_do_before_touching_aws() {
    let p = project();
    let o = apprun(
        p.path(),
        &[
            "migrate",
            "--env",
            "dev",
            "--service",
            "web",
            "--to",
            "apprunner",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("already runs on apprunner"),
        "{}",
        stderr(&o)
    );
    let o = apprun(
        p.path(),
        &[
            "migrate",
            "--env",
            "dev",
            "--service",
            "api",
            "--to",
            "ecs-express",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown service `api`; apprun.toml defines: web"),
        "{}",
        stderr(&o)
    );
    let o = apprun(
        p.path(),
        &[
            "migrate",
            "--env",
            "dev",
            "--service",
            "web",
            "--to",
            "lambda",
        ],
    );
    assert!(
        stderr(&o).contains("[possible values: apprunner, ecs-express]"),
        "{}",
        stderr(&o)
    );
    // Back to App Runner only with a size App Runner offers.
    let express = std::fs::read_to_string(workspace().join("fixtures/express.toml")).unwrap();
    std::fs::write(p.path().join("apprun.toml"), express).unwrap();
    let o = apprun(
        p.path(),
        &[
            "migrate",
            "--env",
            "prod",
            "--service",
            "web",
            "--to",
            "apprunner",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("2 vCPU / 8 GB is not a size apprunner offers"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn diagram_to_stdout_and_to_a_file() {
    let p = project();
    let svg = apprun(p.path(), &["diagram", "--env", "dev"]);
    assert!(svg.status.success(), "{}", stderr(&svg));
    let text = String::from_utf8(svg.stdout.clone()).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
    assert!(
        text.contains("10.0.0.64/26"),
        "a subnet CIDR of the dev env"
    );
    // --out writes the same bytes, whole, and nothing else in the folder.
    let o = apprun(
        p.path(),
        &["diagram", "--env", "dev", "--out", "docs/dev.svg"],
    );
    assert_eq!(o.status.code(), Some(3), "no docs folder: {}", stderr(&o));
    assert!(stderr(&o).contains("docs/dev.svg"), "{}", stderr(&o));
    std::fs::create_dir(p.path().join("docs")).unwrap();
    let o = apprun(
        p.path(),
        &["diagram", "--env", "dev", "--out", "docs/dev.svg"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(p.path().join("docs/dev.svg")).unwrap(),
        svg.stdout
    );
    assert_eq!(std::fs::read_dir(p.path().join("docs")).unwrap().count(), 1);
    let mermaid = apprun(
        p.path(),
        &["diagram", "--env", "dev", "--format", "mermaid"],
    );
    assert!(
        String::from_utf8_lossy(&mermaid.stdout).starts_with("flowchart"),
        "{}",
        String::from_utf8_lossy(&mermaid.stdout)
    );
    let o = apprun(p.path(), &["diagram", "--env", "nope"]);
    assert_eq!(o.status.code(), Some(2), "unknown env: {}", stderr(&o));
}
