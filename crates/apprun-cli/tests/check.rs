//! `apprun check` from the command line: text with lines, JSON, SARIF that
//! GitHub code scanning accepts, the config's policy, and deploy's refusal.

mod common;

use common::*;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_owned()
}

const FLAWED: &str = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n      SecurityGroupIngress:\n        - IpProtocol: tcp\n          FromPort: 22\n          ToPort: 22\n          CidrIp: 0.0.0.0/0\n";

#[test]
fn text_output_names_file_line_resource_and_path() {
    let p = project();
    let f = write(p.path(), "flawed.yaml", FLAWED);
    let o = apprun(p.path(), &["check", "--template", &f]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("error[APR-SG-001] flawed.yaml:9: Sg Resources/Sg/Properties/SecurityGroupIngress/0: ingress from 0.0.0.0/0 on port 22"), "{out}");
    assert!(
        out.contains("warning[APR-ECR-002] flawed.yaml:2: Repo"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("checked 1 templates: 1 errors, 2 warnings"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sarif_output_has_the_shape_github_code_scanning_ingests() {
    let p = project();
    let f = write(p.path(), "flawed.yaml", FLAWED);
    let o = apprun(p.path(), &["check", "--template", &f, "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let sarif = json(&o);
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "flawed.yaml"
    );
    std::fs::write(p.path().join("out.sarif"), &o.stdout).unwrap();
    let schema = workspace().join("crates/apprun-cli/tests/sarif-code-scanning.schema.json");
    let python = workspace().join(".venv/bin/python");
    let validate = std::process::Command::new(python)
        .args([
            "-c",
            "import json,sys,jsonschema; jsonschema.Draft7Validator(json.load(open(sys.argv[1])), format_checker=jsonschema.FormatChecker()).validate(json.load(open(sys.argv[2]))); print('valid')",
            schema.to_str().unwrap(),
            p.path().join("out.sarif").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    // The validator itself rejects a broken log (the test can fail).
    std::fs::write(p.path().join("bad.sarif"), r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"R","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"f"},"region":{"startLine":0}}}]}]}]}"#).unwrap();
    let bad = std::process::Command::new(workspace().join(".venv/bin/python"))
        .args(["-c", "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))", schema.to_str().unwrap(), p.path().join("bad.sarif").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "startLine 0 must be rejected");
}

#[test]
fn private_envs_and_silences_from_the_config() {
    let p = project();
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    std::fs::write(
        p.path().join("apprun.toml"),
        format!("{text}\n[policy]\nprivate_envs = [\"prod\"]\n"),
    )
    .unwrap();
    let o = apprun(p.path(), &["check", "--env", "prod", "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    let f = &report["findings"][0];
    assert_eq!(
        (
            f["rule"].as_str(),
            f["logical_id"].as_str(),
            f["file"].as_str()
        ),
        (
            Some("APR-NET-001"),
            Some("Service"),
            Some("prod/service-web.yaml")
        )
    );
    assert!(f["line"].as_u64().is_some());
    let o = apprun(p.path(), &["check", "--env", "dev"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "dev is not private: {}",
        stdout(&o)
    );

    // deploy runs the same check first: nothing is deployed, no endpoint needed.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(["deploy", "--env", "prod", "--yes", "--image-tag", "abc1234"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("found 1 errors; nothing was deployed"),
        "{}",
        stderr(&o)
    );

    std::fs::write(
        p.path().join("apprun.toml"),
        format!("{text}\n[policy]\nprivate_envs = [\"prod\"]\n\n[[policy.allow]]\nrule = \"APR-NET-001\"\nresource = \"Service\"\nreason = \"public until the VPN is ready (ticket 42)\"\n"),
    )
    .unwrap();
    let o = apprun(p.path(), &["check", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("[silenced: public until the VPN is ready (ticket 42)]"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("0 errors, 0 warnings, 1 silenced"));
}

#[test]
fn guard_rules_from_the_config_or_the_command_line() {
    let p = project();
    std::fs::create_dir(p.path().join("policy")).unwrap();
    write(
        &p.path().join("policy"),
        "tags.guard",
        "let vpcs = Resources.*[ Type == 'AWS::EC2::VPC' ]\nrule vpc_has_owner_tag when %vpcs !empty {\n  %vpcs.Properties.Tags[*].Key == 'Owner'\n  <<every VPC names its owner>>\n}\n",
    );
    let o = apprun(
        p.path(),
        &[
            "check", "--env", "dev", "--rules", "policy", "--output", "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"GUARD-vpc_has_owner_tag"), "{report}");
    let text = std::fs::read_to_string(p.path().join("apprun.toml")).unwrap();
    std::fs::write(
        p.path().join("apprun.toml"),
        format!("{text}\n[policy]\nrules = \"policy/\"\n"),
    )
    .unwrap();
    let o = apprun(p.path(), &["check", "--env", "dev"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "[policy] rules is used by default"
    );
    assert!(
        stdout(&o).contains("every VPC names its owner"),
        "{}",
        stdout(&o)
    );
    let o = apprun(p.path(), &["check", "--env", "dev", "--rules", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the rules folder nowhere"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ecs_express_services_are_covered_by_the_policy_rules() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(workspace().join("fixtures/express.toml")).unwrap();
    std::fs::write(
        dir.path().join("apprun.toml"),
        text.replace(
            "private_envs = [\"prod\"]",
            "private_envs = [\"dev\", \"prod\"]",
        ),
    )
    .unwrap();
    let o = apprun(dir.path(), &["check", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let f = &json(&o)["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["logical_id"].as_str()),
        (Some("APR-NET-001"), Some("Service"))
    );
    assert!(f["message"].as_str().unwrap().contains("public subnets"));
    let o = apprun(dir.path(), &["check", "--env", "prod"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "private ingress keeps prod in the protect subnets: {}",
        stdout(&o)
    );
}

/// `check --template` on an `apprun synth` folder names each file's stack
/// from the folder's manifest, so the permission proof follows the pipeline
/// into the service stack as it does with `--env`: the synthesized dev env
/// is clean, and weakening the pipeline role in iam.yaml (dropping the
/// Verify action's App Runner ListOperations) is an error naming the action.
#[test]
fn template_mode_on_a_synth_folder_proves_permissions_and_catches_a_weakened_role() {
    let p = project();
    let o = apprun(p.path(), &["synth", "--env", "dev", "--out", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = ["iam", "network", "pipeline", "repository", "service-web"]
        .map(|f| format!("out/{f}.yaml"));
    let args = |files: &[String]| {
        let mut a = vec!["check".to_owned(), "--template".to_owned()];
        a.extend(files.iter().cloned());
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        apprun(p.path(), &a)
    };
    let o = run(args(&files));
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("0 errors"), "{}", stderr(&o));

    let iam = p.path().join("out/iam.yaml");
    let text = std::fs::read_to_string(&iam).unwrap();
    let weakened: String = text
        .lines()
        .filter(|l| !l.contains("apprunner:ListOperations"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(weakened, text, "the role grants apprunner:ListOperations");
    std::fs::write(&iam, weakened).unwrap();
    let o = run(args(&files));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("error[APR-PERM-001] out/iam.yaml")
                && l.contains("cannot apprunner:ListOperations")
                && l.contains("project apprunner-nuxt3-dev-web-verify")),
        "{out}"
    );
}
