//! Compute placements (where network interfaces land: subnets and security
//! groups) and what each must reach.
//!
//! Sources for what is assumed about each service:
//! - App Runner, "Enabling VPC access for outgoing traffic"
//!   (apprunner/latest/dg/network-vpc.html): with a VPC connector the
//!   service's outbound traffic leaves through Hyperplane ENIs in the
//!   connector's subnets under its security groups. The image is pulled by
//!   App Runner itself, not through the connector, so only what the
//!   application calls is required here.
//! - CodeBuild, "Allow Amazon VPC access in your CodeBuild projects"
//!   (codebuild/latest/userguide/enabling-vpc-access-in-projects.html):
//!   builds in a VPC need "a private subnet with NAT translation"; their
//!   interfaces get no public IP.
//! - ECS Express Mode: the API's ExpressGatewayServiceNetworkConfiguration
//!   has only subnets and security groups (no assignPublicIp); "Resources
//!   created by Amazon ECS Express Mode services"
//!   (AmazonECS/latest/developerguide/express-service-work.html) lists
//!   "Security groups with minimal required ingress"; "Best practices for
//!   Amazon ECS Express Mode services" (express-service-best-practices.html)
//!   tells how to restrict the outbound rules of "the Express Mode Service
//!   Security Group", without stating them. Fargate tasks pull from ECR
//!   (api, dkr, and S3 for layers) and send logs to CloudWatch Logs over
//!   their own interface (AmazonECS vpc-endpoints.html). What the docs leave
//!   open is unknown here, never assumed.

use std::collections::BTreeSet;

use apprun_template::{Map, Value};

use super::hops::{Group, PublicIp};
use super::model::{Model, Rid, Target};

const APPRUNNER_IP: PublicIp =
    PublicIp::No("App Runner's VPC connector interfaces (Hyperplane ENIs) get none");
const CODEBUILD_IP: PublicIp = PublicIp::No(
    "CodeBuild's build interfaces get none (CodeBuild needs private subnets with NAT)",
);
const EXPRESS_IP: PublicIp = PublicIp::Unknown(
    "the ECS Express Mode docs do not say whether its tasks get one (its network configuration has no assignPublicIp; plain ECS services default to DISABLED)",
);
/// The group Express Mode adds to the service: its egress is not documented.
const EXPRESS_SG: &str = "the egress of the security group ECS Express Mode adds (documented only as having \"minimal required ingress\") is not documented";
/// The load balancer Express Mode creates carries a group of its own.
pub(crate) const EXPRESS_ALB: &str = "the load balancer's security group is created by ECS Express Mode, documented only as having \"minimal required ingress\", so whether it admits the caller is unknown";

/// Something a placement must reach on tcp 443.
pub(crate) enum Goal<'a> {
    /// An AWS API: its public endpoint, unless a VPC endpoint serves it.
    Aws { name: String, service: String },
    /// A public URL on the internet.
    Url { name: String },
    /// The network interfaces of an interface endpoint, by their own DNS
    /// name (an App Runner VPC ingress connection's domain).
    Endpoint { name: String, endpoint: Rid<'a> },
    /// The internal load balancer ECS Express Mode creates in these subnets.
    Balancer { name: String, subnets: Vec<Rid<'a>> },
    /// Nothing in a VPC can reach it; the text says why.
    Blocked { name: String, why: String },
}

impl Goal<'_> {
    pub(crate) fn name(&self) -> &str {
        match self {
            Goal::Aws { name, .. }
            | Goal::Url { name }
            | Goal::Endpoint { name, .. }
            | Goal::Balancer { name, .. }
            | Goal::Blocked { name, .. } => name,
        }
    }

    /// A goal that only something inside the VPC can reach.
    fn private(&self) -> bool {
        matches!(
            self,
            Goal::Endpoint { .. } | Goal::Balancer { .. } | Goal::Blocked { .. }
        )
    }
}

/// Network interfaces of one compute resource.
pub(crate) struct Placement<'a> {
    /// The resource findings attach to.
    pub at: Rid<'a>,
    pub subnets_path: String,
    pub groups_path: String,
    /// Who sends the traffic, as the message says it.
    pub who: String,
    pub subnets: Vec<Rid<'a>>,
    pub groups: Vec<Group<'a>>,
    /// A group the placement carries that no template describes.
    pub hidden: Option<&'static str>,
    pub ip: PublicIp,
    pub goals: Vec<Goal<'a>>,
}

/// A CodeBuild project outside any VPC that must reach a private URL.
pub(crate) struct Outside<'a> {
    pub at: Rid<'a>,
    pub goal: Goal<'a>,
}

pub(crate) fn find<'a>(
    m: &Model<'a>,
    stacks: &[Option<&'a str>],
) -> (Vec<Placement<'a>>, Vec<Outside<'a>>) {
    let tests = test_projects(m);
    let mut placements = Vec::new();
    let mut outside = Vec::new();
    for (t, tpl) in m.templates.iter().enumerate() {
        for (id, r) in &tpl.resources {
            let at = Rid { t, id };
            let p = &r.properties;
            match r.kind.as_str() {
                "AWS::AppRunner::Service" => placements.extend(apprunner(m, at, p)),
                "AWS::ECS::ExpressGatewayService" => placements.extend(express(m, at, p)),
                "AWS::CodeBuild::Project" => {
                    let verify = if tests.contains(&at) {
                        verify_goal(m, stacks, p)
                    } else {
                        None
                    };
                    match p.get("VpcConfig").and_then(Value::as_map) {
                        Some(vpc) => placements.extend(codebuild(m, at, p, vpc, verify)),
                        None => {
                            if let Some(goal) = verify.filter(Goal::private) {
                                outside.push(Outside { at, goal });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    (placements, outside)
}

fn apprunner<'a>(m: &Model<'a>, at: Rid<'a>, p: &'a Map) -> Option<Placement<'a>> {
    let egress = p
        .get("NetworkConfiguration")
        .and_then(|n| n.get("EgressConfiguration"))?;
    if egress.get("EgressType").and_then(Value::as_str) != Some("VPC") {
        return None;
    }
    let connector = m.rid_of(at.t, egress.get("VpcConnectorArn"))?;
    if m.kind_of(connector) != Some("AWS::AppRunner::VpcConnector") {
        return None;
    }
    let cp = m.props(connector)?;
    let subnets = subnets(m, connector.t, cp.get("Subnets"));
    if subnets.is_empty() {
        return None;
    }
    let role = p
        .get("InstanceConfiguration")
        .and_then(|i| i.get("InstanceRoleArn"));
    let base = format!("Resources/{}/Properties", connector.id);
    Some(Placement {
        at: connector,
        subnets_path: format!("{base}/Subnets"),
        groups_path: format!("{base}/SecurityGroups"),
        who: format!("App Runner service {}'s outbound traffic", at.id),
        subnets,
        groups: groups(m, connector.t, cp.get("SecurityGroups")),
        hidden: None,
        ip: APPRUNNER_IP,
        goals: role_goals(m, at.t, role, "the AWS APIs its instance role is for"),
    })
}

fn express<'a>(m: &Model<'a>, at: Rid<'a>, p: &'a Map) -> Option<Placement<'a>> {
    // Without a network configuration the service lands in the default VPC,
    // which no template describes.
    let net = p.get("NetworkConfiguration")?;
    let subnets = subnets(m, at.t, net.get("Subnets"));
    if subnets.is_empty() {
        return None;
    }
    let mut goals = vec![
        aws("ECR API", "ecr.api"),
        aws("ECR registry", "ecr.dkr"),
        aws("S3 (image layers)", "s3"),
        aws("CloudWatch Logs", "logs"),
    ];
    add_unique(&mut goals, role_goals(m, at.t, p.get("TaskRoleArn"), ""));
    let base = format!("Resources/{}/Properties/NetworkConfiguration", at.id);
    Some(Placement {
        at,
        subnets_path: format!("{base}/Subnets"),
        groups_path: format!("{base}/SecurityGroups"),
        who: "ECS tasks".into(),
        subnets,
        groups: groups(m, at.t, net.get("SecurityGroups")),
        hidden: Some(EXPRESS_SG),
        ip: EXPRESS_IP,
        goals,
    })
}

fn codebuild<'a>(
    m: &Model<'a>,
    at: Rid<'a>,
    p: &'a Map,
    vpc: &'a Map,
    verify: Option<Goal<'a>>,
) -> Option<Placement<'a>> {
    let subnets = subnets(m, at.t, vpc.get("Subnets"));
    if subnets.is_empty() {
        return None;
    }
    // Every build uploads its logs and, with a CodePipeline or S3 source,
    // reads its input from S3; the rest comes from what its role allows.
    let mut goals = vec![aws("CloudWatch Logs", "logs"), aws("S3", "s3")];
    add_unique(
        &mut goals,
        role_goals(
            m,
            at.t,
            p.get("ServiceRole"),
            "the AWS APIs its role is for",
        ),
    );
    goals.extend(verify);
    let base = format!("Resources/{}/Properties/VpcConfig", at.id);
    Some(Placement {
        at,
        subnets_path: format!("{base}/Subnets"),
        groups_path: format!("{base}/SecurityGroupIds"),
        who: "CodeBuild builds".into(),
        subnets,
        groups: groups(m, at.t, vpc.get("SecurityGroupIds")),
        hidden: None,
        ip: CODEBUILD_IP,
        goals,
    })
}

fn aws<'a>(name: &str, service: &str) -> Goal<'a> {
    Goal::Aws {
        name: name.into(),
        service: service.into(),
    }
}

fn add_unique<'a>(goals: &mut Vec<Goal<'a>>, more: Vec<Goal<'a>>) {
    for g in more {
        let dup = goals.iter().any(|x| match (x, &g) {
            (Goal::Aws { service: a, .. }, Goal::Aws { service: b, .. }) => a == b,
            (a, b) => a.name() == b.name(),
        });
        if !dup {
            goals.push(g);
        }
    }
}

/// The subnets of the set a list names; those outside it are left out.
fn subnets<'a>(m: &Model<'a>, t: usize, v: Option<&'a Value>) -> Vec<Rid<'a>> {
    v.and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| m.resolve(t, x).rid())
        .filter(|r| m.subnets.contains_key(r))
        .collect()
}

fn groups<'a>(m: &Model<'a>, t: usize, v: Option<&'a Value>) -> Vec<Group<'a>> {
    v.and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|x| match m.resolve(t, x) {
            Target::Res(r) | Target::Att(r) => Group::Known(r),
            _ => Group::Unseen(super::model::describe(x).to_owned()),
        })
        .collect()
}

/// The AWS APIs a role's policies allow calls to, one goal per service. A
/// role outside the set, or with managed policies, adds one goal for the
/// AWS public endpoints, named `fallback` (when not empty). No role, no goal.
fn role_goals<'a>(
    m: &Model<'a>,
    t: usize,
    role: Option<&'a Value>,
    fallback: &str,
) -> Vec<Goal<'a>> {
    let Some(role) = role else {
        return Vec::new();
    };
    let mut services = BTreeSet::new();
    let mut opaque = true;
    if let Some(r) = m
        .resolve(t, role)
        .rid()
        .filter(|r| m.kind_of(*r) == Some("AWS::IAM::Role"))
    {
        opaque = false;
        if let Some(p) = m.props(r) {
            for pol in p
                .get("Policies")
                .and_then(Value::as_list)
                .unwrap_or_default()
            {
                actions(pol.get("PolicyDocument"), &mut services);
            }
            opaque |= !p
                .get("ManagedPolicyArns")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .is_empty();
        }
        for (pid, res) in &m.templates[r.t].resources {
            let attaches = matches!(
                res.kind.as_str(),
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy"
            ) && res
                .properties
                .get("Roles")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .any(|v| m.resolve(r.t, v).rid() == Some(r));
            if attaches && pid.as_str() != r.id {
                actions(res.properties.get("PolicyDocument"), &mut services);
            }
        }
    }
    let mut goals: Vec<Goal<'a>> = services
        .into_iter()
        .map(|prefix| {
            let (name, service) = api(&prefix);
            Goal::Aws { name, service }
        })
        .collect();
    if opaque && !fallback.is_empty() {
        goals.push(Goal::Url {
            name: fallback.to_owned(),
        });
    }
    goals
}

/// Service prefixes of the actions a policy document allows.
fn actions(doc: Option<&Value>, out: &mut BTreeSet<String>) {
    let statements = match doc.and_then(|d| d.get("Statement")) {
        Some(Value::List(s)) => s.iter().collect::<Vec<_>>(),
        Some(one @ Value::Map(_)) => vec![one],
        _ => return,
    };
    for s in statements {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let list = match s.get("Action") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for a in list {
            if let Some((prefix, _)) = a.split_once(':') {
                out.insert(prefix.to_ascii_lowercase());
            }
        }
    }
}

/// The display name and VPC endpoint service of an IAM service prefix.
fn api(prefix: &str) -> (String, String) {
    let (name, service) = match prefix {
        "dynamodb" => ("DynamoDB", "dynamodb"),
        "s3" => ("S3", "s3"),
        "logs" => ("CloudWatch Logs", "logs"),
        "ecr" => ("ECR API", "ecr.api"),
        "cloudwatch" => ("CloudWatch", "monitoring"),
        "sts" => ("STS", "sts"),
        "ssm" => ("Systems Manager", "ssm"),
        "secretsmanager" => ("Secrets Manager", "secretsmanager"),
        "kms" => ("KMS", "kms"),
        "sqs" => ("SQS", "sqs"),
        "sns" => ("SNS", "sns"),
        "cloudformation" => ("CloudFormation", "cloudformation"),
        "apprunner" => ("App Runner API", "apprunner"),
        "ecs" => ("ECS API", "ecs"),
        "codebuild" => ("CodeBuild", "codebuild"),
        "codepipeline" => ("CodePipeline", "codepipeline"),
        "codecommit" => ("CodeCommit", "codecommit"),
        "iam" => ("IAM", "iam"),
        other => return (format!("the {other} API"), other.to_owned()),
    };
    (name.to_owned(), service.to_owned())
}

/// The CodeBuild projects a pipeline runs as Test actions (apprun's Verify
/// actions): they must reach the service they verify.
fn test_projects<'a>(m: &Model<'a>) -> BTreeSet<Rid<'a>> {
    let mut out = BTreeSet::new();
    for (t, tpl) in m.templates.iter().enumerate() {
        for r in tpl.resources.values() {
            if r.kind != "AWS::CodePipeline::Pipeline" {
                continue;
            }
            let stages = r.properties.get("Stages").and_then(Value::as_list);
            for stage in stages.unwrap_or_default() {
                let actions = stage.get("Actions").and_then(Value::as_list);
                for a in actions.unwrap_or_default() {
                    let kind = a.get("ActionTypeId");
                    let field = |k: &str| kind.and_then(|x| x.get(k)).and_then(Value::as_str);
                    if field("Category") != Some("Test") || field("Provider") != Some("CodeBuild") {
                        continue;
                    }
                    let project = a.get("Configuration").and_then(|c| c.get("ProjectName"));
                    out.extend(m.rid_of(t, project));
                }
            }
        }
    }
    out
}

/// What a Verify project must reach: the URL of the service in the stack its
/// `SERVICE_STACK` variable names, when that stack is in the checked set.
fn verify_goal<'a>(m: &Model<'a>, stacks: &[Option<&'a str>], p: &'a Map) -> Option<Goal<'a>> {
    let vars = p
        .get("Environment")
        .and_then(|e| e.get("EnvironmentVariables"))
        .and_then(Value::as_list)?;
    let stack = vars
        .iter()
        .find(|v| v.get("Name").and_then(Value::as_str) == Some("SERVICE_STACK"))
        .and_then(|v| v.get("Value"))
        .and_then(Value::as_str)?;
    let t = stacks.iter().position(|s| *s == Some(stack))?;
    let tpl = m.templates[t];
    let (id, svc) = tpl.resources.iter().find(|(_, r)| {
        matches!(
            r.kind.as_str(),
            "AWS::AppRunner::Service" | "AWS::ECS::ExpressGatewayService"
        )
    })?;
    let service = Rid { t, id };
    if svc.kind == "AWS::AppRunner::Service" {
        return apprunner_url(m, service, &svc.properties);
    }
    let net = svc.properties.get("NetworkConfiguration")?;
    let subnets = subnets(m, t, net.get("Subnets"));
    if subnets.is_empty() {
        return None;
    }
    // The docs do not say which scheme Express Mode gives its load balancer;
    // a balancer in subnets that route to an internet gateway can only be
    // internet-facing, one in subnets that do not can only be internal.
    let public = subnets.iter().all(|s| routes_to_igw(m, *s));
    let name = format!("the service URL of {}", service.id);
    Some(if public {
        Goal::Url { name }
    } else {
        Goal::Balancer { name, subnets }
    })
}

fn apprunner_url<'a>(m: &Model<'a>, service: Rid<'a>, p: &'a Map) -> Option<Goal<'a>> {
    let name = format!("the service URL of {}", service.id);
    let public = p
        .get("NetworkConfiguration")
        .and_then(|n| n.get("IngressConfiguration"))
        .and_then(|i| i.get("IsPubliclyAccessible"));
    // App Runner services are public unless told otherwise.
    if public.is_none() || crate::rules::is_true(public) {
        return Some(Goal::Url { name });
    }
    let tpl = m.templates[service.t];
    let connection = tpl.resources.values().find(|r| {
        r.kind == "AWS::AppRunner::VpcIngressConnection"
            && m.rid_of(service.t, r.properties.get("ServiceArn")) == Some(service)
    });
    let endpoint = connection
        .and_then(|c| c.properties.get("IngressVpcConfiguration"))
        .and_then(|i| i.get("VpcEndpointId"))
        .and_then(|v| m.resolve(service.t, v).rid());
    match (connection, endpoint) {
        (None, _) => Some(Goal::Blocked {
            name,
            why: format!(
                "service {} is private and has no VPC ingress connection, so nothing can reach it",
                service.id
            ),
        }),
        (Some(_), Some(endpoint)) if m.endpoints.iter().any(|e| e.rid == endpoint) => {
            Some(Goal::Endpoint {
                name: format!("{name} (through endpoint {})", endpoint.id),
                endpoint,
            })
        }
        // The connection's endpoint is outside the checked templates.
        (Some(_), _) => None,
    }
}

fn routes_to_igw(m: &Model<'_>, s: Rid<'_>) -> bool {
    m.route_table(s)
        .and_then(|t| m.route(t, "0.0.0.0/0"))
        .is_some_and(|r| match r.hop {
            super::model::Hop::Gateway(g) => {
                g.rid().and_then(|g| m.kind_of(g)) == Some("AWS::EC2::InternetGateway")
            }
            _ => false,
        })
}
