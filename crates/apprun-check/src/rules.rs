//! apprun's built-in policy rules: each has an id, a severity and a
//! one-line reason. They look at what matters for this architecture and
//! what cfn-lint does not judge: who may do what, what is reachable, what
//! is stored how.

use apprun_template::{Intrinsic, Map, Template, Value};

use crate::Context;
use crate::finding::{Finding, Severity};

/// (id, severity, what it catches)
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        "APR-IAM-001",
        Severity::Error,
        "iam:PassRole (or iam:*) allowed on every role (Resource \"*\"): lets the holder hand any role to any service",
    ),
    (
        "APR-IAM-002",
        Severity::Error,
        "a wildcard action (\"*\" or \"service:*\") allowed on every resource (Resource \"*\")",
    ),
    (
        "APR-IAM-003",
        Severity::Error,
        "an AWS managed AdministratorAccess, PowerUserAccess or *FullAccess policy attached to a role",
    ),
    (
        "APR-SG-001",
        Severity::Error,
        "security-group ingress from 0.0.0.0/0 or ::/0 on a port other than 80 or 443",
    ),
    (
        "APR-S3-001",
        Severity::Error,
        "S3 bucket without all four public-access blocks",
    ),
    (
        "APR-S3-002",
        Severity::Warning,
        "S3 bucket without a default encryption configuration",
    ),
    (
        "APR-ECR-001",
        Severity::Warning,
        "ECR repository without scan on push",
    ),
    (
        "APR-ECR-002",
        Severity::Warning,
        "ECR repository with mutable tags (a deployed tag can silently change)",
    ),
    (
        "APR-NET-001",
        Severity::Error,
        "App Runner or ECS Express service publicly reachable in an env listed in [policy] private_envs",
    ),
    (
        "APR-SECRET-001",
        Severity::Error,
        "a secret-looking name (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*) in plain environment variables",
    ),
    (
        "APR-PERM-001",
        Severity::Error,
        "an actor (CloudFormation with a role, CodePipeline, CodeBuild, EventBridge, App Runner, ECS) cannot make an IAM call it needs",
    ),
    (
        "APR-PERM-002",
        Severity::Warning,
        "cannot prove an actor may make a call: it depends on a value the templates do not determine",
    ),
    (
        "APR-PERM-003",
        Severity::Error,
        "a role does not trust the service principal of an actor that uses it",
    ),
    (
        "APR-NET-010",
        Severity::Error,
        "a compute placement (App Runner VPC connector, ECS Express tasks, CodeBuild in a VPC) has no network path on tcp 443 to what it must reach; the message names the hop that blocks it",
    ),
    (
        "APR-NET-011",
        Severity::Warning,
        "a network path cannot be proven: it depends on something the templates and the AWS docs leave open (ECS Express's public IP or own security groups, resources outside the checked set, network ACLs)",
    ),
    (
        "APR-BUILD-001",
        Severity::Warning,
        "a service's pipeline prebuild runs a program the CodeBuild image does not provide",
    ),
];

pub(crate) fn severity(id: &str) -> Severity {
    RULES
        .iter()
        .find(|(r, _, _)| *r == id)
        .map_or(Severity::Error, |(_, s, _)| *s)
}

fn push(out: &mut Vec<Finding>, id: &str, logical: &str, path: String, message: String) {
    out.push(Finding::new(id, severity(id), logical, path, message));
}

pub(crate) fn check(t: &Template, ctx: &Context, out: &mut Vec<Finding>) {
    for (id, r) in &t.resources {
        let p = &r.properties;
        let base = format!("Resources/{id}/Properties");
        match r.kind.as_str() {
            "AWS::IAM::Role"
            | "AWS::IAM::Policy"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::IAM::User"
            | "AWS::IAM::Group" => {
                iam(id, p, &base, out);
            }
            "AWS::EC2::SecurityGroup" => {
                if let Some(Value::List(rules)) = p.get("SecurityGroupIngress") {
                    for (i, rule) in rules.iter().enumerate() {
                        if let Value::Map(m) = rule {
                            ingress(id, m, &format!("{base}/SecurityGroupIngress/{i}"), out);
                        }
                    }
                }
            }
            "AWS::EC2::SecurityGroupIngress" => ingress(id, p, &base, out),
            "AWS::S3::Bucket" => bucket(id, p, &base, out),
            "AWS::ECR::Repository" => {
                let scan = p
                    .get("ImageScanningConfiguration")
                    .and_then(|c| c.get("ScanOnPush"));
                if !is_true(scan) {
                    push(out, "APR-ECR-001", id, format!("{base}/ImageScanningConfiguration"), "images are not scanned on push; set ImageScanningConfiguration.ScanOnPush: true".into());
                }
                // Missing means MUTABLE; an invalid value is the schema check's business.
                let mutability = p
                    .get("ImageTagMutability")
                    .and_then(Value::as_str)
                    .unwrap_or("MUTABLE");
                if matches!(mutability, "MUTABLE" | "MUTABLE_WITH_EXCLUSION") {
                    push(out, "APR-ECR-002", id, format!("{base}/ImageTagMutability"), "tags are mutable; set ImageTagMutability: IMMUTABLE so a deployed tag always means the same image".into());
                }
            }
            "AWS::AppRunner::Service" => {
                if let Some(env) = &ctx.private_env {
                    let public = p
                        .get("NetworkConfiguration")
                        .and_then(|n| n.get("IngressConfiguration"))
                        .and_then(|i| i.get("IsPubliclyAccessible"));
                    // App Runner services are public unless told otherwise.
                    if public.is_none() || is_true(public) {
                        push(
                            out,
                            "APR-NET-001",
                            id,
                            format!(
                                "{base}/NetworkConfiguration/IngressConfiguration/IsPubliclyAccessible"
                            ),
                            format!(
                                "the service is publicly reachable, but env `{env}` is listed in [policy] private_envs; set ingress = \"private\""
                            ),
                        );
                    }
                }
                let vars = p
                    .get("SourceConfiguration")
                    .and_then(|s| s.get("ImageRepository"))
                    .and_then(|i| i.get("ImageConfiguration"))
                    .and_then(|c| c.get("RuntimeEnvironmentVariables"));
                named_list(
                    id,
                    vars,
                    &format!(
                        "{base}/SourceConfiguration/ImageRepository/ImageConfiguration/RuntimeEnvironmentVariables"
                    ),
                    "Name",
                    out,
                );
            }
            "AWS::ECS::ExpressGatewayService" => {
                if let Some(env) = &ctx.private_env
                    && express_is_public(p)
                {
                    push(
                        out,
                        "APR-NET-001",
                        id,
                        format!("{base}/NetworkConfiguration"),
                        format!(
                            "the service's load balancer is in public subnets, but env `{env}` is listed in [policy] private_envs; set ingress = \"private\""
                        ),
                    );
                }
                let vars = p.get("PrimaryContainer").and_then(|c| c.get("Environment"));
                named_list(
                    id,
                    vars,
                    &format!("{base}/PrimaryContainer/Environment"),
                    "Name",
                    out,
                );
            }
            "AWS::ECS::TaskDefinition" => {
                if let Some(Value::List(containers)) = p.get("ContainerDefinitions") {
                    for (i, c) in containers.iter().enumerate() {
                        named_list(
                            id,
                            c.get("Environment"),
                            &format!("{base}/ContainerDefinitions/{i}/Environment"),
                            "Name",
                            out,
                        );
                    }
                }
            }
            "AWS::CodeBuild::Project" => {
                if let Some(Value::List(vars)) = p
                    .get("Environment")
                    .and_then(|e| e.get("EnvironmentVariables"))
                {
                    for (i, v) in vars.iter().enumerate() {
                        let plain = v
                            .get("Type")
                            .and_then(Value::as_str)
                            .is_none_or(|t| t == "PLAINTEXT");
                        if plain {
                            secret_name(
                                id,
                                v.get("Name"),
                                &format!("{base}/Environment/EnvironmentVariables/{i}/Name"),
                                out,
                            );
                        }
                    }
                }
            }
            "AWS::Lambda::Function" => {
                if let Some(Value::Map(vars)) =
                    p.get("Environment").and_then(|e| e.get("Variables"))
                {
                    for k in vars.keys() {
                        secret_name(
                            id,
                            Some(&Value::from(k.as_str())),
                            &format!("{base}/Environment/Variables/{k}"),
                            out,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// A CloudFormation boolean: `true` or the string "true" (any case).
pub(crate) fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
        || matches!(v, Some(Value::String(s)) if s.eq_ignore_ascii_case("true"))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::List(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn iam(id: &str, p: &Map, base: &str, out: &mut Vec<Finding>) {
    let mut documents: Vec<(String, &Value)> = Vec::new();
    if let Some(d) = p.get("PolicyDocument") {
        documents.push((format!("{base}/PolicyDocument"), d));
    }
    if let Some(Value::List(policies)) = p.get("Policies") {
        for (i, pol) in policies.iter().enumerate() {
            if let Some(d) = pol.get("PolicyDocument") {
                documents.push((format!("{base}/Policies/{i}/PolicyDocument"), d));
            }
        }
    }
    for (path, doc) in documents {
        let statements = match doc.get("Statement") {
            Some(Value::List(s)) => s.clone(),
            Some(one @ Value::Map(_)) => vec![one.clone()],
            _ => continue,
        };
        for (i, s) in statements.iter().enumerate() {
            if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let actions = strings(s.get("Action"));
            let everywhere = strings(s.get("Resource")).iter().any(|r| r == "*");
            if !everywhere {
                continue;
            }
            let spath = format!("{path}/Statement/{i}");
            if actions.iter().any(|a| {
                a.eq_ignore_ascii_case("iam:PassRole")
                    || a.eq_ignore_ascii_case("iam:*")
                    || a == "*"
            }) {
                push(out, "APR-IAM-001", id, spath.clone(), "iam:PassRole is allowed on Resource \"*\"; list the role ARNs and add an iam:PassedToService condition".into());
            }
            if let Some(a) = actions.iter().find(|a| *a == "*" || a.ends_with(":*")) {
                push(
                    out,
                    "APR-IAM-002",
                    id,
                    spath,
                    format!(
                        "`{a}` is allowed on Resource \"*\"; name the actions and the resources"
                    ),
                );
            }
        }
    }
    for (i, arn) in p
        .get("ManagedPolicyArns")
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = match arn {
            Value::String(s) => s.clone(),
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Sub { template, .. } => template.clone(),
                _ => continue,
            },
            _ => continue,
        };
        let name = text.rsplit('/').next().unwrap_or_default();
        let aws_managed = text.contains(":iam::aws:policy/");
        if aws_managed
            && (name == "AdministratorAccess"
                || name == "PowerUserAccess"
                || name.ends_with("FullAccess"))
        {
            push(
                out,
                "APR-IAM-003",
                id,
                format!("{base}/ManagedPolicyArns/{i}"),
                format!(
                    "AWS managed policy {name} grants far more than one role needs; write a policy with the actions it uses"
                ),
            );
        }
    }
}

fn ingress(id: &str, m: &Map, path: &str, out: &mut Vec<Finding>) {
    let world = ["CidrIp", "CidrIpv6"]
        .iter()
        .filter_map(|k| m.get(*k).and_then(Value::as_str))
        .find(|c| *c == "0.0.0.0/0" || *c == "::/0");
    let Some(world) = world else { return };
    let port = |k: &str| match m.get(k) {
        Some(Value::Int(n)) => Some(*n),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let protocol = m.get("IpProtocol").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    });
    let all_protocols = protocol.as_deref() == Some("-1");
    let (from, to) = (port("FromPort"), port("ToPort"));
    let web_only = !all_protocols && from == to && matches!(from, Some(80) | Some(443));
    if !web_only {
        let ports = match (from, to) {
            _ if all_protocols => "every port".to_owned(),
            (Some(a), Some(b)) if a == b => format!("port {a}"),
            (Some(a), Some(b)) => format!("ports {a}-{b}"),
            _ => "every port".to_owned(),
        };
        push(
            out,
            "APR-SG-001",
            id,
            path.to_owned(),
            format!("ingress from {world} on {ports}; only 80 and 443 may be open to the world"),
        );
    }
}

fn bucket(id: &str, p: &Map, base: &str, out: &mut Vec<Finding>) {
    let block = p.get("PublicAccessBlockConfiguration");
    let missing: Vec<&str> = [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ]
    .into_iter()
    .filter(|k| !is_true(block.and_then(|b| b.get(k))))
    .collect();
    if !missing.is_empty() {
        push(
            out,
            "APR-S3-001",
            id,
            format!("{base}/PublicAccessBlockConfiguration"),
            format!(
                "public access is not fully blocked: {} not true",
                missing.join(", ")
            ),
        );
    }
    if p.get("BucketEncryption").is_none() {
        push(
            out,
            "APR-S3-002",
            id,
            format!("{base}/BucketEncryption"),
            "no default encryption configured; set BucketEncryption (SSE-S3 or SSE-KMS)".into(),
        );
    }
}

/// ECS Express places its load balancer in the subnets it is given; public
/// subnets (named so by import or by id) mean a public service.
fn express_is_public(p: &Map) -> bool {
    let subnets = p.get("NetworkConfiguration").and_then(|n| n.get("Subnets"));
    let mut public = false;
    if let Some(v) = subnets {
        v.walk(&mut |x| {
            let text = match x {
                Value::String(s) => s.clone(),
                Value::Fn(f) => match f.as_ref() {
                    Intrinsic::ImportValue(Value::String(s)) | Intrinsic::Ref(s) => s.clone(),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            if text.contains("PublicSubnet") {
                public = true;
            }
        });
    }
    public
}

fn named_list(id: &str, list: Option<&Value>, path: &str, key: &str, out: &mut Vec<Finding>) {
    if let Some(Value::List(items)) = list {
        for (i, item) in items.iter().enumerate() {
            secret_name(id, item.get(key), &format!("{path}/{i}/{key}"), out);
        }
    }
}

fn secret_name(id: &str, name: Option<&Value>, path: &str, out: &mut Vec<Finding>) {
    let Some(name) = name.and_then(Value::as_str) else {
        return;
    };
    let upper = name.to_ascii_uppercase();
    if let Some(word) = ["PASSWORD", "SECRET", "TOKEN", "KEY"]
        .iter()
        .find(|w| upper.contains(*w))
    {
        push(
            out,
            "APR-SECRET-001",
            id,
            path.to_owned(),
            format!(
                "`{name}` looks like a secret ({word}) in a plain environment variable; pass it from Secrets Manager or SSM Parameter Store instead"
            ),
        );
    }
}
