//! apprun's policy rules (`APR-*`): who may do what, what is reachable,
//! what is stored how. Their metadata is declared in `rules::RULES`.

use apprun_template::{Intrinsic, Map, Value};

use crate::finding::Severity;
use crate::rules::{Scope, Sink, is_true};

/// The properties of every resource of the given types, with their base path.
fn of_types<'a>(
    scope: &'a Scope<'_>,
    types: &'a [&str],
) -> impl Iterator<Item = (&'a str, &'a Map, String)> + 'a {
    scope
        .template
        .resources
        .iter()
        .filter(move |(_, r)| types.contains(&r.kind.as_str()))
        .map(|(id, r)| {
            (
                id.as_str(),
                &r.properties,
                format!("Resources/{id}/Properties"),
            )
        })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.as_str().into()],
        Some(Value::List(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

const IAM_TYPES: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];

/// Allow statements on `Resource: "*"` of every IAM policy document:
/// (logical id, statement path, actions).
fn allow_everywhere(scope: &Scope<'_>) -> Vec<(String, String, Vec<String>)> {
    let mut found = Vec::new();
    for (id, p, base) in of_types(scope, IAM_TYPES) {
        let mut documents: Vec<(String, &Value)> = Vec::new();
        if let Some(d) = p.get("PolicyDocument") {
            documents.push((format!("{base}/PolicyDocument"), d));
        }
        for (i, pol) in p
            .get("Policies")
            .and_then(Value::as_list)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(d) = pol.get("PolicyDocument") {
                documents.push((format!("{base}/Policies/{i}/PolicyDocument"), d));
            }
        }
        for (path, doc) in documents {
            let statements = match doc.get("Statement") {
                Some(Value::List(s)) => s.iter().collect(),
                Some(one @ Value::Map(_)) => vec![one],
                _ => continue,
            };
            for (i, s) in statements.into_iter().enumerate() {
                let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
                if allow && strings(s.get("Resource")).iter().any(|r| r == "*") {
                    let actions = strings(s.get("Action"));
                    found.push((id.to_owned(), format!("{path}/Statement/{i}"), actions));
                }
            }
        }
    }
    found
}

pub(crate) fn iam_pass_role(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, path, actions) in allow_everywhere(scope) {
        if actions.iter().any(|a| {
            a.eq_ignore_ascii_case("iam:PassRole") || a.eq_ignore_ascii_case("iam:*") || a == "*"
        }) {
            out.push(&id, path, "iam:PassRole is allowed on Resource \"*\"; list the role ARNs and add an iam:PassedToService condition".into());
        }
    }
}

pub(crate) fn iam_wildcard(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, path, actions) in allow_everywhere(scope) {
        if let Some(a) = actions.iter().find(|a| *a == "*" || a.ends_with(":*")) {
            out.push(
                &id,
                path,
                format!("`{a}` is allowed on Resource \"*\"; name the actions and the resources"),
            );
        }
    }
}

pub(crate) fn iam_managed(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, IAM_TYPES) {
        let arns = p.get("ManagedPolicyArns").and_then(Value::as_list);
        for (i, arn) in arns.into_iter().flatten().enumerate() {
            let text = match arn {
                Value::String(s) => s.as_str(),
                Value::Fn(f) => match f.as_ref() {
                    Intrinsic::Sub { template, .. } => template.as_str(),
                    _ => continue,
                },
                _ => continue,
            };
            let name = text.rsplit('/').next().unwrap_or_default();
            let broad = name == "AdministratorAccess"
                || name == "PowerUserAccess"
                || name.ends_with("FullAccess");
            if text.contains(":iam::aws:policy/") && broad {
                out.push(
                    id,
                    format!("{base}/ManagedPolicyArns/{i}"),
                    format!(
                        "AWS managed policy {name} grants far more than one role needs; write a policy with the actions it uses"
                    ),
                );
            }
        }
    }
}

pub(crate) fn sg_open(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::EC2::SecurityGroup"]) {
        let rules = p.get("SecurityGroupIngress").and_then(Value::as_list);
        for (i, rule) in rules.into_iter().flatten().enumerate() {
            if let Value::Map(m) = rule {
                ingress(id, m, &format!("{base}/SecurityGroupIngress/{i}"), out);
            }
        }
    }
    for (id, p, base) in of_types(scope, &["AWS::EC2::SecurityGroupIngress"]) {
        ingress(id, p, &base, out);
    }
}

fn ingress(id: &str, m: &Map, path: &str, out: &mut Sink<'_>) {
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
    let all_protocols = match m.get("IpProtocol") {
        Some(Value::String(s)) => s == "-1",
        Some(Value::Int(n)) => *n == -1,
        _ => false,
    };
    let (from, to) = (port("FromPort"), port("ToPort"));
    if !all_protocols && from == to && matches!(from, Some(80) | Some(443)) {
        return;
    }
    let ports = match (from, to) {
        _ if all_protocols => "every port".to_owned(),
        (Some(a), Some(b)) if a == b => format!("port {a}"),
        (Some(a), Some(b)) => format!("ports {a}-{b}"),
        _ => "every port".to_owned(),
    };
    out.push(
        id,
        path.to_owned(),
        format!("ingress from {world} on {ports}; only 80 and 443 may be open to the world"),
    );
}

const PUBLIC_ACCESS_BLOCKS: [&str; 4] = [
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
];

/// APR-S3-001. Without a PublicAccessBlockConfiguration a new bucket gets
/// S3's default (all four blocks on, since April 2023), so that is only a
/// warning; a configuration leaves each block it does not set off.
pub(crate) fn s3_public(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::S3::Bucket"]) {
        let path = format!("{base}/PublicAccessBlockConfiguration");
        let Some(block) = p.get("PublicAccessBlockConfiguration") else {
            out.push_as(
                Severity::Warning,
                id,
                path,
                "no PublicAccessBlockConfiguration: the bucket relies on S3's default for new buckets (all four public-access blocks on since April 2023); set the four blocks to true to say so".into(),
            );
            continue;
        };
        if matches!(block, Value::Fn(_)) {
            continue;
        }
        let off: Vec<&str> = PUBLIC_ACCESS_BLOCKS
            .into_iter()
            .filter(|k| !matches!(block.get(k), Some(Value::Fn(_))) && !is_true(block.get(k)))
            .collect();
        if !off.is_empty() {
            out.push(
                id,
                path,
                format!(
                    "public access is not fully blocked: {} not true (a block the configuration does not set is off)",
                    off.join(", ")
                ),
            );
        }
    }
}

pub(crate) fn s3_encryption(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::S3::Bucket"]) {
        if p.get("BucketEncryption").is_none() {
            out.push(
                id,
                format!("{base}/BucketEncryption"),
                "no default encryption configured; set BucketEncryption (SSE-S3 or SSE-KMS)".into(),
            );
        }
    }
}

pub(crate) fn ecr_scan(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::ECR::Repository"]) {
        let scan = p
            .get("ImageScanningConfiguration")
            .and_then(|c| c.get("ScanOnPush"));
        if !is_true(scan) {
            out.push(
                id,
                format!("{base}/ImageScanningConfiguration"),
                "images are not scanned on push; set ImageScanningConfiguration.ScanOnPush: true"
                    .into(),
            );
        }
    }
}

pub(crate) fn ecr_mutable(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::ECR::Repository"]) {
        // Missing means MUTABLE; an invalid value is the schema check's business.
        let mutability = p
            .get("ImageTagMutability")
            .and_then(Value::as_str)
            .unwrap_or("MUTABLE");
        if matches!(mutability, "MUTABLE" | "MUTABLE_WITH_EXCLUSION") {
            out.push(id, format!("{base}/ImageTagMutability"), "tags are mutable; set ImageTagMutability: IMMUTABLE so a deployed tag always means the same image".into());
        }
    }
}

pub(crate) fn net_public(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let Some(env) = &scope.ctx.private_env else {
        return;
    };
    for (id, p, base) in of_types(scope, &["AWS::AppRunner::Service"]) {
        let public = p
            .get("NetworkConfiguration")
            .and_then(|n| n.get("IngressConfiguration"))
            .and_then(|i| i.get("IsPubliclyAccessible"));
        // App Runner services are public unless told otherwise.
        if public.is_none() || is_true(public) {
            out.push(
                id,
                format!("{base}/NetworkConfiguration/IngressConfiguration/IsPubliclyAccessible"),
                format!(
                    "the service is publicly reachable, but env `{env}` is listed in [policy] private_envs; set ingress = \"private\""
                ),
            );
        }
    }
    for (id, p, base) in of_types(scope, &["AWS::ECS::ExpressGatewayService"]) {
        if express_is_public(p) {
            out.push(
                id,
                format!("{base}/NetworkConfiguration"),
                format!(
                    "the service's load balancer is in public subnets, but env `{env}` is listed in [policy] private_envs; set ingress = \"private\""
                ),
            );
        }
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
                Value::String(s) => s.as_str(),
                Value::Fn(f) => match f.as_ref() {
                    Intrinsic::ImportValue(Value::String(s)) => s.as_str(),
                    Intrinsic::Ref(s) => s.as_str(),
                    _ => "",
                },
                _ => "",
            };
            public |= text.contains("PublicSubnet");
        });
    }
    public
}

/// APR-SECRET-001 over every place a service takes plain environment variables.
pub(crate) fn secrets(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in of_types(scope, &["AWS::AppRunner::Service"]) {
        let at =
            "SourceConfiguration/ImageRepository/ImageConfiguration/RuntimeEnvironmentVariables";
        let vars = p
            .get("SourceConfiguration")
            .and_then(|s| s.get("ImageRepository"))
            .and_then(|i| i.get("ImageConfiguration"))
            .and_then(|c| c.get("RuntimeEnvironmentVariables"));
        named_list(id, vars, &format!("{base}/{at}"), out);
    }
    for (id, p, base) in of_types(scope, &["AWS::ECS::ExpressGatewayService"]) {
        let vars = p.get("PrimaryContainer").and_then(|c| c.get("Environment"));
        named_list(
            id,
            vars,
            &format!("{base}/PrimaryContainer/Environment"),
            out,
        );
    }
    for (id, p, base) in of_types(scope, &["AWS::ECS::TaskDefinition"]) {
        let containers = p.get("ContainerDefinitions").and_then(Value::as_list);
        for (i, c) in containers.into_iter().flatten().enumerate() {
            let path = format!("{base}/ContainerDefinitions/{i}/Environment");
            named_list(id, c.get("Environment"), &path, out);
        }
    }
    for (id, p, base) in of_types(scope, &["AWS::CodeBuild::Project"]) {
        let vars = p
            .get("Environment")
            .and_then(|e| e.get("EnvironmentVariables"))
            .and_then(Value::as_list);
        for (i, v) in vars.into_iter().flatten().enumerate() {
            let plain = v
                .get("Type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "PLAINTEXT");
            if plain {
                let path = format!("{base}/Environment/EnvironmentVariables/{i}/Name");
                secret_name(id, v.get("Name").and_then(Value::as_str), &path, out);
            }
        }
    }
    for (id, p, base) in of_types(scope, &["AWS::Lambda::Function"]) {
        if let Some(Value::Map(vars)) = p.get("Environment").and_then(|e| e.get("Variables")) {
            for k in vars.keys() {
                let path = format!("{base}/Environment/Variables/{k}");
                secret_name(id, Some(k), &path, out);
            }
        }
    }
}

fn named_list(id: &str, list: Option<&Value>, path: &str, out: &mut Sink<'_>) {
    for (i, item) in list
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = item.get("Name").and_then(Value::as_str);
        secret_name(id, name, &format!("{path}/{i}/Name"), out);
    }
}

fn secret_name(id: &str, name: Option<&str>, path: &str, out: &mut Sink<'_>) {
    let Some(name) = name else {
        return;
    };
    if let Some(word) = apprun_config::secret_word(name) {
        out.push(
            id,
            path.to_owned(),
            format!(
                "`{name}` looks like a secret ({word}) in a plain environment variable; pass it from Secrets Manager or SSM Parameter Store instead"
            ),
        );
    }
}
