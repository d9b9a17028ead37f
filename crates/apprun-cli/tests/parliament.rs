//! Every IAM policy apprun synthesizes (inline role policies,
//! AWS::IAM::Policy and AWS::IAM::ManagedPolicy documents; trust policies
//! excluded), for every env of the shipped config and the fixtures, through the pinned
//! `parliament` (requirements-test.txt): no resource mismatch, unknown
//! action, unknown prefix or similar finding, except for actions newer than
//! parliament's data, listed below with the reason.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// parliament findings that mean the policy is wrong.
const BAD: &[&str] = &[
    "RESOURCE_MISMATCH",
    "UNKNOWN_ACTION",
    "UNKNOWN_PREFIX",
    "UNKNOWN_PRINCIPAL",
    "UNKNOWN_OPERATOR",
    "UNKNOWN_CONDITION_FOR_ACTION",
    "MISMATCHED_TYPE",
    "MISMATCHED_TYPE_OPERATION_TO_NULL",
    "MALFORMED",
    "INVALID_ARN",
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
];

/// Actions parliament 1.6.4's data (2022) does not know, with the reason:
/// (action, why it is nevertheless right). apprun's own proof checks them
/// against the current Service Authorization Reference.
const NEWER_THAN_PARLIAMENT: &[(&str, &str)] = &[
    ("ecs:CreateExpressGatewayService", "ECS Express Mode, 2025"),
    ("ecs:UpdateExpressGatewayService", "ECS Express Mode, 2025"),
    ("ecs:DeleteExpressGatewayService", "ECS Express Mode, 2025"),
    (
        "ecs:DescribeExpressGatewayService",
        "ECS Express Mode, 2025",
    ),
    (
        "ecs:DescribeServiceDeployments",
        "ECS service deployments, 2024",
    ),
    (
        "ecs:ListServiceDeployments",
        "ECS service deployments, 2024",
    ),
    (
        "ecs:DescribeServiceRevisions",
        "ECS service revisions, 2024",
    ),
    (
        "codeconnections:UseConnection",
        "CodeConnections, the 2024 rename of CodeStar Connections",
    ),
    ("apprunner:AssociateWebAcl", "App Runner WAF support, 2023"),
    (
        "apprunner:DisassociateWebAcl",
        "App Runner WAF support, 2023",
    ),
    (
        "apprunner:DescribeWebAclForService",
        "App Runner WAF support, 2023",
    ),
    (
        "apprunner:ListAssociatedServicesForWebAcl",
        "App Runner WAF support, 2023",
    ),
    ("logs:PutBearerTokenAuthentication", "CloudWatch Logs, 2025"),
    (
        "logs:PutLogGroupDeletionProtection",
        "CloudWatch Logs, 2025",
    ),
    ("logs:PutIndexPolicy", "CloudWatch Logs field indexes, 2024"),
    (
        "logs:DeleteIndexPolicy",
        "CloudWatch Logs field indexes, 2024",
    ),
    (
        "logs:DescribeIndexPolicies",
        "CloudWatch Logs field indexes, 2024",
    ),
];

/// A plausible concrete value for every intrinsic, so that parliament sees
/// ARNs of the right shape.
fn concrete(v: &Value, region: &str) -> Value {
    let sub = |s: &str| -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after.find('}').unwrap_or(after.len());
            out.push_str(match &after[..end] {
                "AWS::Partition" => "aws",
                "AWS::Region" => region,
                "AWS::AccountId" => "123456789012",
                "AWS::URLSuffix" => "amazonaws.com",
                _ => "example",
            });
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out.push_str(rest);
        out
    };
    match v {
        Value::Object(o) if o.len() == 1 => {
            let (k, arg) = o.iter().next().unwrap();
            match k.as_str() {
                "Fn::Sub" => Value::String(sub(arg
                    .as_str()
                    .or_else(|| arg.get(0).and_then(Value::as_str))
                    .unwrap_or(""))),
                "Fn::Join" => {
                    let sep = arg.get(0).and_then(Value::as_str).unwrap_or("");
                    let items: Vec<String> = arg
                        .get(1)
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .map(|x| {
                                    concrete(x, region).as_str().unwrap_or("example").to_owned()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Value::String(items.join(sep))
                }
                "Fn::GetAtt" | "Fn::ImportValue" => {
                    Value::String("arn:aws:iam::123456789012:role/example".into())
                }
                "Ref" => Value::String("example".into()),
                _ => Value::Object(
                    o.iter()
                        .map(|(k, x)| (k.clone(), concrete(x, region)))
                        .collect(),
                ),
            }
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), concrete(x, region)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| concrete(x, region)).collect()),
        _ => v.clone(),
    }
}

/// (label, document) of every identity policy of a template.
fn documents(file: &Path, region: &str) -> Vec<(String, Value)> {
    let t: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut out = Vec::new();
    let Some(resources) = t.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let props = r.get("Properties");
        match r.get("Type").and_then(Value::as_str) {
            Some("AWS::IAM::Role") => {
                for p in props
                    .and_then(|p| p.get("Policies"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(doc) = p.get("PolicyDocument") {
                        out.push((format!("{} {id}", file.display()), concrete(doc, region)));
                    }
                }
            }
            Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => {
                if let Some(doc) = props.and_then(|p| p.get("PolicyDocument")) {
                    out.push((format!("{} {id}", file.display()), concrete(doc, region)));
                }
            }
            _ => {}
        }
    }
    out
}

fn parliament() -> std::path::PathBuf {
    let path = common::workspace().join(".venv/bin/parliament");
    assert!(
        path.exists(),
        "parliament not found at {}: run scripts/test.sh, which installs the pinned version into .venv",
        path.display()
    );
    path
}

#[test]
fn parliament_finds_nothing_wrong_in_any_synthesized_policy() {
    let parliament = parliament();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut exempted: BTreeSet<&str> = BTreeSet::new();
    for (rel, region) in [
        ("apprun.toml", "ap-northeast-1"),
        ("fixtures/express.toml", "us-east-1"),
        ("fixtures/shop-api.toml", "eu-west-1"),
        ("fixtures/runtime.toml", "eu-west-1"),
    ] {
        let config = common::workspace().join(rel);
        let out = dir.path().join(rel.replace('/', "-"));
        let o = Command::new(env!("CARGO_BIN_EXE_apprun"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "synth",
                "--all",
                "--format",
                "json",
                "--out",
                out.to_str().unwrap(),
            ])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{rel}: {}", common::stderr(&o));
        for env in std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
        {
            for file in std::fs::read_dir(env.path())
                .unwrap()
                .filter_map(|e| e.ok())
            {
                if file.path().extension().is_none_or(|x| x != "json")
                    || file.file_name() == "apprun.manifest.json"
                {
                    continue;
                }
                for (label, doc) in documents(&file.path(), region) {
                    checked += 1;
                    let o = Command::new(&parliament)
                        .args(["--string", &doc.to_string(), "--json"])
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    for line in String::from_utf8_lossy(&o.stdout).lines() {
                        let f: Value =
                            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
                        let issue = f.get("issue").and_then(Value::as_str).unwrap_or_default();
                        if !BAD.contains(&issue) {
                            continue;
                        }
                        let at = f
                            .get("location")
                            .and_then(|l| l.get("string"))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if issue == "UNKNOWN_ACTION"
                            && let Some((a, _)) = NEWER_THAN_PARLIAMENT
                                .iter()
                                .find(|(a, _)| a.eq_ignore_ascii_case(at))
                        {
                            exempted.insert(a);
                            continue;
                        }
                        problems.push(format!(
                            "{label}: {issue}: {}",
                            f.get("detail").map(Value::to_string).unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 16, "only {checked} policies found");
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} parliament findings:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
