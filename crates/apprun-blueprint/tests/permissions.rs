//! What the synthesized stacks must allow and connect on a real account
//! (issue 9's defects), asserted on the templates of the shipped config and
//! the fixtures.
//!
//! The pipeline role's statements are evaluated here the way IAM matches
//! them (Allow statements only, `*`/`?` wildcards, actions case-insensitive,
//! StringEquals/StringLike/ArnLike conditions, a condition key missing from
//! the request never matches) against requests built from the ARN formats
//! of the Service Authorization Reference. Resources and roles are found by
//! their properties (role names, resource types), not by logical ids.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use apprun_blueprint::{EnvBlueprint, StackKind, security_group_rules, synthesize};
use apprun_config::{Config, Names};
use apprun_template::{Intrinsic, Template, Value};

const ACCOUNT: &str = "123456789012";
const CONFIGS: &[&str] = &[
    "apprun.toml",
    "fixtures/express.toml",
    "fixtures/shop-api.toml",
    "fixtures/runtime.toml",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(rel: &str) -> Config {
    Config::load(&root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn every_env() -> Vec<(Config, EnvBlueprint)> {
    CONFIGS
        .iter()
        .flat_map(|rel| {
            let c = config(rel);
            let envs: Vec<String> = c.envs.keys().cloned().collect();
            envs.into_iter()
                .map(|e| (c.clone(), synthesize(&c, &e).unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The pipeline role's policy of a synthesized env, with its region.
struct Role {
    statements: Vec<Value>,
    region: String,
}

/// The documents of the pipeline role: its inline policies, then the
/// managed policies of the IAM stack attached to it (`Roles: [!Ref role]`).
fn pipeline_documents<'a>(config: &Config, iam: &'a Template) -> (Vec<&'a Value>, Vec<&'a Value>) {
    let name = Names::new(&config.system.id).pipeline_role();
    let (logical, role) = iam
        .resources
        .iter()
        .find(|(_, r)| {
            r.kind == "AWS::IAM::Role"
                && r.properties.get("RoleName").and_then(Value::as_str) == Some(name.as_str())
        })
        .unwrap_or_else(|| panic!("no role {name}"));
    let inline = role.properties["Policies"]
        .as_list()
        .unwrap()
        .iter()
        .map(|p| p.get("PolicyDocument").unwrap())
        .collect();
    let managed = iam
        .resources
        .values()
        .filter(|r| r.kind == "AWS::IAM::ManagedPolicy")
        .filter(|r| {
            r.properties
                .get("Roles")
                .is_some_and(|roles| refs(roles).contains(logical))
        })
        .map(|r| &r.properties["PolicyDocument"])
        .collect();
    (inline, managed)
}

fn pipeline_role(config: &Config, bp: &EnvBlueprint) -> Role {
    let iam = &bp.stack(&StackKind::Iam).unwrap().template;
    let (inline, managed) = pipeline_documents(config, iam);
    let statements = inline
        .into_iter()
        .chain(managed)
        .flat_map(|d| {
            d.get("Statement")
                .and_then(Value::as_list)
                .unwrap()
                .to_vec()
        })
        .collect();
    Role {
        statements,
        region: config.system.region.clone(),
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn strings(v: &Value) -> Vec<&Value> {
    match v {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    }
}

impl Role {
    /// A resource pattern as a plain string, pseudo parameters filled in.
    fn concrete(&self, v: &Value) -> String {
        let raw = match v {
            Value::String(s) => s.to_string(),
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Sub { template, .. } => template.to_string(),
                other => panic!("unexpected resource {other:?}"),
            },
            other => panic!("unexpected resource {other:?}"),
        };
        raw.replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", &self.region)
            .replace("${AWS::AccountId}", ACCOUNT)
    }

    /// An ARN of this account and region: `self.arn("ecs", "cluster/default")`.
    fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{ACCOUNT}:{resource}", self.region)
    }

    fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/{name}")
    }

    fn condition_holds(&self, condition: Option<&Value>, context: &[(&str, &str)]) -> bool {
        let Some(Value::Map(ops)) = condition else {
            return condition.is_none();
        };
        ops.iter().all(|(op, keys)| {
            keys.as_map().unwrap().iter().all(|(key, wanted)| {
                let Some(actual) = context
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| *v)
                else {
                    return false;
                };
                strings(wanted).iter().any(|w| {
                    let w = self.concrete(w);
                    match op.as_str() {
                        "StringEquals" => w == actual,
                        "StringLike" | "ArnLike" => glob(&w, actual),
                        other => panic!("operator {other} not modelled"),
                    }
                })
            })
        })
    }

    /// The Sid of the first Allow statement that grants `action` on
    /// `resource` with the request's condition keys `context`.
    fn allowing(&self, action: &str, resource: &str, context: &[(&str, &str)]) -> Option<String> {
        self.statements.iter().find_map(|st| {
            let effect = st.get("Effect").and_then(Value::as_str);
            let acts = strings(st.get("Action").unwrap());
            let action_ok = acts
                .iter()
                .any(|a| glob(&a.as_str().unwrap().to_lowercase(), &action.to_lowercase()));
            let resource_ok = strings(st.get("Resource").unwrap())
                .iter()
                .any(|r| glob(&self.concrete(r), resource));
            (effect == Some("Allow")
                && action_ok
                && resource_ok
                && self.condition_holds(st.get("Condition"), context))
            .then(|| {
                st.get("Sid")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            })
        })
    }

    fn allows(&self, action: &str, resource: &str, context: &[(&str, &str)]) -> bool {
        self.allowing(action, resource, context).is_some()
    }

    fn assert_allows(&self, action: &str, resource: &str, context: &[(&str, &str)]) {
        assert!(
            self.allows(action, resource, context),
            "the pipeline role does not allow {action} on {resource} with {context:?}"
        );
    }

    /// Whether any Allow statement names the action at all.
    fn names_action(&self, action: &str) -> bool {
        self.statements.iter().any(|st| {
            strings(st.get("Action").unwrap())
                .iter()
                .any(|a| glob(&a.as_str().unwrap().to_lowercase(), &action.to_lowercase()))
        })
    }
}

fn shipped_dev() -> (Config, Role) {
    let c = config("apprun.toml");
    let bp = synthesize(&c, "dev").unwrap();
    let role = pipeline_role(&c, &bp);
    (c, role)
}

fn express(env: &str) -> (Config, EnvBlueprint, Role) {
    let c = config("fixtures/express.toml");
    let bp = synthesize(&c, env).unwrap();
    let role = pipeline_role(&c, &bp);
    (c, bp, role)
}

// Defect 1.
#[test]
fn app_runner_roles_may_be_passed_with_both_passed_to_service_values() {
    let (c, role) = shipped_dev();
    let names = Names::new(&c.system.id);
    for passed in [names.access_role(), names.instance_role()] {
        for service in ["apprunner.amazonaws.com", "bullet.amazonaws.com"] {
            role.assert_allows(
                "iam:PassRole",
                &role.role_arn(&passed),
                &[("iam:PassedToService", service)],
            );
        }
        assert!(
            !role.allows(
                "iam:PassRole",
                &role.role_arn(&passed),
                &[("iam:PassedToService", "lambda.amazonaws.com")]
            ),
            "{passed} may only be passed to App Runner"
        );
        assert!(
            !role.allows("iam:PassRole", &role.role_arn(&passed), &[]),
            "PassRole without PassedToService"
        );
    }
}

// Defect 5: iam:GetRole sat in statements conditioned on
// iam:PassedToService, a key GetRole never carries, so it was never allowed.
// No handler of the service and pipeline resource types and no buildspec
// command calls GetRole (the permission proof models both), so it is
// granted only where a handler reads a role: the ECS task definitions of
// jobs (their handlers read the task and execution roles), on the jobs'
// roles only, and never under that condition.
#[test]
fn get_role_is_never_granted_under_a_passed_to_service_condition() {
    for (c, bp) in every_env() {
        let role = pipeline_role(&c, &bp);
        for st in &role.statements {
            let names_get_role = strings(st.get("Action").unwrap())
                .iter()
                .any(|a| glob(&a.as_str().unwrap().to_lowercase(), "iam:getrole"));
            let conditioned = st
                .get("Condition")
                .and_then(Value::as_map)
                .is_some_and(|ops| {
                    ops.values()
                        .any(|keys| keys.get("iam:PassedToService").is_some())
                });
            assert!(
                !(names_get_role && conditioned),
                "{}: iam:GetRole under an iam:PassedToService condition is never allowed",
                c.system.id
            );
        }
        for st in &role.statements {
            let names_get_role = strings(st.get("Action").unwrap()).iter().any(|a| {
                a.as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case("iam:GetRole"))
            });
            if !names_get_role {
                continue;
            }
            assert!(
                !c.jobs.is_empty(),
                "{}: no need justifies iam:GetRole",
                c.system.id
            );
            for r in strings(st.get("Resource").unwrap()) {
                let text = match r {
                    Value::Fn(f) => match f.as_ref() {
                        Intrinsic::Sub { template, .. } => template.to_string(),
                        other => format!("{other:?}"),
                    },
                    other => other.as_str().unwrap_or_default().to_owned(),
                };
                assert!(
                    text.ends_with(&format!("role/{}-*-jobs-*", c.system.id)),
                    "iam:GetRole beyond the jobs' roles: {text}"
                );
            }
        }
    }
}

// Defect 2: every wafv2 and App Runner web ACL action on every resource
// type the Service Authorization Reference lists for it.
#[test]
fn web_acl_actions_are_granted_on_every_resource_type_they_need() {
    let c = config("fixtures/shop-api.toml");
    let bp = synthesize(&c, "prod").unwrap();
    let role = pipeline_role(&c, &bp);
    let acl = role.arn("wafv2", "regional/webacl/shop-api-prod-web/0a1b2c3d");
    let service = role.arn("apprunner", "service/shop-api-prod-web/8f7e6d5c");
    let table: &[(&str, &[&String])] = &[
        ("apprunner:AssociateWebAcl", &[&service, &acl]),
        ("apprunner:DisassociateWebAcl", &[&service]),
        ("apprunner:DescribeWebAclForService", &[&service]),
        ("wafv2:AssociateWebACL", &[&acl, &service]),
        ("wafv2:DisassociateWebACL", &[&service]),
        ("wafv2:GetWebACLForResource", &[&acl, &service]),
        ("wafv2:CreateWebACL", &[&acl]),
        ("wafv2:UpdateWebACL", &[&acl]),
        ("wafv2:DeleteWebACL", &[&acl]),
        ("wafv2:GetWebACL", &[&acl]),
        ("wafv2:TagResource", &[&acl]),
        ("wafv2:UntagResource", &[&acl]),
        ("wafv2:ListTagsForResource", &[&acl]),
    ];
    for (action, resources) in table {
        for r in *resources {
            role.assert_allows(action, r, &[]);
        }
    }
    // Dependent actions of wafv2:AssociateWebACL, on rule groups.
    let rule_group = role.arn("wafv2", "regional/rulegroup/shared/9e8d7c6b");
    for a in ["wafv2:GetPermissionPolicy", "wafv2:PutPermissionPolicy"] {
        role.assert_allows(a, &rule_group, &[]);
    }
    let foreign = role.arn("wafv2", "regional/webacl/someone-else/0a1b2c3d");
    assert!(!role.allows("apprunner:AssociateWebAcl", &foreign, &[]));
}

/// The schema file of a resource type, as vendored for `apprun check`.
fn schema(kind: &str) -> serde_json::Value {
    let file = format!("{}.json", kind.to_lowercase().replace("::", "-"));
    let path = root().join("crates/apprun-check/schemas").join(&file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Handler permissions the service stacks' resources never exercise, each
/// with the reason. Everything else a handler lists must be granted.
fn not_exercised(kind: &str, permission: &str) -> Option<&'static str> {
    let service = permission.split(':').next().unwrap();
    match kind {
        "AWS::WAFv2::WebACLAssociation" if !matches!(service, "apprunner" | "wafv2") => {
            Some("associating a web ACL with another kind of resource")
        }
        "AWS::WAFv2::WebACL" if permission == "payments:GetConnectedAccount" => Some(
            "paid marketplace rule groups; not an action of the Service Authorization Reference",
        ),
        "AWS::Logs::LogGroup"
            if matches!(
                permission,
                "firehose:TagDeliveryStream" | "s3:REST.PUT.OBJECT"
            ) =>
        {
            Some("deliveries to Firehose and S3, not configured; not actions on the log group")
        }
        _ => None,
    }
}

// Defects 3 and 4: CloudFormation acts with the pipeline role on every
// resource of the service stacks.
#[test]
fn every_handler_permission_of_the_service_stacks_is_granted() {
    let mut checked = BTreeSet::new();
    for (c, bp) in every_env() {
        let role = pipeline_role(&c, &bp);
        for stack in bp
            .stacks
            .iter()
            .filter(|s| matches!(s.kind, StackKind::Service { .. }))
        {
            for r in stack.template.resources.values() {
                let schema = schema(&r.kind);
                let mut needed: Vec<String> = Vec::new();
                for handler in ["create", "read", "update", "delete"] {
                    if let Some(perms) = schema["handlers"][handler]["permissions"].as_array() {
                        needed.extend(perms.iter().map(|p| p.as_str().unwrap().to_owned()));
                    }
                }
                if let Some(perms) = schema["tagging"]["permissions"].as_array() {
                    needed.extend(perms.iter().map(|p| p.as_str().unwrap().to_owned()));
                }
                for p in needed {
                    if not_exercised(&r.kind, &p).is_some() {
                        continue;
                    }
                    assert!(
                        role.names_action(&p),
                        "{}: {} needs {p}, which the pipeline role never grants",
                        stack.name,
                        r.kind
                    );
                    checked.insert(p);
                }
            }
        }
    }
    for p in [
        "ecs:CreateCluster",
        "ecs:ListServiceDeployments",
        "ecs:DescribeServiceRevisions",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "events:PutRule",
        "logs:PutRetentionPolicy",
        "wafv2:GetWebACL",
    ] {
        assert!(
            checked.contains(p),
            "{p} was not among the checked handlers"
        );
    }
}

// Defect 3, resource level.
#[test]
fn ecs_express_actions_are_granted_on_their_resources() {
    let (c, _, role) = express("dev");
    let svc = Names::new(&c.system.id).apprunner_service("dev", "web");
    let service = role.arn("ecs", &format!("service/default/{svc}"));
    let deployment = role.arn("ecs", &format!("service-deployment/default/{svc}/a1b2c3"));
    let revision = role.arn("ecs", &format!("service-revision/default/{svc}/4567"));
    let cluster = role.arn("ecs", "cluster/default");
    let task_def = role.arn("ecs", &format!("task-definition/{svc}:3"));
    let table: &[(&str, &[&String])] = &[
        ("ecs:CreateExpressGatewayService", &[&service]),
        ("ecs:UpdateExpressGatewayService", &[&service]),
        ("ecs:DeleteExpressGatewayService", &[&service]),
        ("ecs:DescribeExpressGatewayService", &[&service]),
        ("ecs:DescribeServices", &[&service]),
        ("ecs:ListServiceDeployments", &[&service]),
        ("ecs:DescribeServiceDeployments", &[&service, &deployment]),
        ("ecs:DescribeServiceRevisions", &[&service, &revision]),
        ("ecs:CreateCluster", &[&cluster]),
        ("ecs:RegisterTaskDefinition", &[&task_def]),
        ("ecs:TagResource", &[&service]),
        ("ecs:DescribeTaskDefinition", &[&"*".to_owned()]),
    ];
    for (action, resources) in table {
        for r in *resources {
            role.assert_allows(action, r, &[]);
        }
    }
    let other = role.arn("ecs", "service/default/someone-else-web");
    assert!(!role.allows("ecs:UpdateExpressGatewayService", &other, &[]));
    // Dependent action iam:PassRole, to the service each role is for.
    for (r, to) in [
        ("execution", "ecs-tasks.amazonaws.com"),
        ("task", "ecs-tasks.amazonaws.com"),
        ("infrastructure", "ecs.amazonaws.com"),
    ] {
        role.assert_allows(
            "iam:PassRole",
            &role.role_arn(&format!("{}-ecs-{r}", c.system.id)),
            &[("iam:PassedToService", to)],
        );
    }
    let log_group = role.arn("logs", "log-group:/apprun/express-demo/dev/web");
    for a in [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteLogGroup",
    ] {
        role.assert_allows(a, &log_group, &[]);
    }
}

// Defect 4, resource level: what App Runner's create handler does with
// the caller's permissions.
#[test]
fn app_runner_service_logs_and_rules_are_granted_on_their_names() {
    let (c, role) = shipped_dev();
    let svc = Names::new(&c.system.id).apprunner_service("dev", "web");
    let group = role.arn(
        "logs",
        &format!("log-group:/aws/apprunner/{svc}/0123abcd/application"),
    );
    let stream = format!("{group}:log-stream:instance/5678");
    for a in [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DescribeLogStreams",
    ] {
        role.assert_allows(a, &group, &[]);
    }
    for a in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        role.assert_allows(a, &stream, &[]);
    }
    let rule = role.arn("events", "rule/AWSAppRunnerManagedRuleForECREvent-0123abcd");
    for a in ["events:PutRule", "events:PutTargets"] {
        role.assert_allows(a, &rule, &[]);
    }
    assert!(!role.allows(
        "logs:CreateLogGroup",
        &role.arn(
            "logs",
            "log-group:/aws/apprunner/someone-else-web/1/application"
        ),
        &[]
    ));
    assert!(!role.allows("events:PutRule", &role.arn("events", "rule/MyRule"), &[]));
    role.assert_allows(
        "iam:CreateServiceLinkedRole",
        &role.role_arn("aws-service-role/apprunner.amazonaws.com/AWSServiceRoleForAppRunner"),
        &[("iam:AWSServiceName", "apprunner.amazonaws.com")],
    );
}

// The buildspecs' commands, each mapped to the calls it makes.
#[test]
fn buildspec_commands_are_allowed() {
    for rel in ["apprun.toml", "fixtures/express.toml"] {
        let c = config(rel);
        let env = c.envs.keys().next().unwrap().clone();
        let bp = synthesize(&c, &env).unwrap();
        let role = pipeline_role(&c, &bp);
        let names = Names::new(&c.system.id);
        let service = c.services.values().next().unwrap();
        let stack_name = names.service_stack(&env, &service.name, service.compute);
        let stack = role.arn("cloudformation", &format!("stack/{stack_name}/0a1b-2c3d"));
        let repo = role.arn(
            "ecr",
            &format!(
                "repository/{}",
                names.ecr_repository(&env, &service.name, true)
            ),
        );
        let staged = format!(
            "arn:aws:s3:::{}-{env}-temporary/apprun/{stack_name}.yaml",
            c.system.id
        );
        let svc = names.apprunner_service(&env, &service.name);
        let table: Vec<(&str, &[&str], String)> = vec![
            (
                "aws ecr get-login-password",
                &["ecr:GetAuthorizationToken"],
                "*".into(),
            ),
            (
                "aws ecr describe-images",
                &["ecr:DescribeImages"],
                repo.clone(),
            ),
            (
                "docker push",
                &[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ],
                repo,
            ),
            ("aws s3 cp", &["s3:GetObject"], staged),
            (
                "aws cloudformation describe-stacks",
                &["cloudformation:DescribeStacks"],
                stack.clone(),
            ),
            (
                "aws cloudformation describe-stacks (dependent action)",
                &["cloudformation:ListStacks"],
                "*".into(),
            ),
            (
                "aws cloudformation create/describe/wait/delete change set",
                &[
                    "cloudformation:CreateChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:DeleteChangeSet",
                ],
                stack,
            ),
            (
                "aws apprunner list-operations",
                &["apprunner:ListOperations"],
                role.arn("apprunner", &format!("service/{svc}/0123abcd")),
            ),
            (
                "aws ecs describe-express-gateway-service",
                &["ecs:DescribeExpressGatewayService"],
                role.arn("ecs", &format!("service/default/{svc}")),
            ),
            (
                "aws ecs describe-service-deployments",
                &["ecs:DescribeServiceDeployments"],
                role.arn("ecs", &format!("service/default/{svc}")),
            ),
            (
                "aws ecs describe-service-deployments",
                &["ecs:DescribeServiceDeployments"],
                role.arn("ecs", &format!("service-deployment/default/{svc}/a1b2")),
            ),
        ];
        for (command, actions, resource) in table {
            if actions[0].starts_with("ecs:")
                && service.compute != apprun_config::Compute::EcsExpress
            {
                continue;
            }
            for a in actions {
                assert!(
                    role.allows(a, &resource, &[]),
                    "{rel}: `{command}` needs {a} on {resource}"
                );
            }
        }
    }
}

// CodeBuild in a VPC (the Verify project of a private env).
#[test]
fn codebuild_in_a_vpc_may_manage_its_network_interfaces() {
    let c = config("fixtures/shop-api.toml");
    let bp = synthesize(&c, "prod").unwrap();
    let role = pipeline_role(&c, &bp);
    let eni = role.arn("ec2", "network-interface/eni-0123456789abcdef0");
    let subnet = role.arn("ec2", "subnet/subnet-0123456789abcdef0");
    let sg = role.arn("ec2", "security-group/sg-0123456789abcdef0");
    role.assert_allows("ec2:CreateNetworkInterface", &eni, &[]);
    role.assert_allows("ec2:DeleteNetworkInterface", &eni, &[]);
    for r in [&subnet, &sg] {
        role.assert_allows("ec2:CreateNetworkInterface", r, &[]);
    }
    assert!(
        !role.allows(
            "ec2:CreateNetworkInterface",
            "arn:aws:ec2:us-east-1:210987654321:subnet/subnet-0123456789abcdef0",
            &[]
        ),
        "interfaces only in this account and region"
    );
    role.assert_allows(
        "ec2:CreateNetworkInterfacePermission",
        &eni,
        &[("ec2:AuthorizedService", "codebuild.amazonaws.com")],
    );
    assert!(!role.allows(
        "ec2:CreateNetworkInterfacePermission",
        &eni,
        &[("ec2:AuthorizedService", "lambda.amazonaws.com")]
    ));
    for a in [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
    ] {
        role.assert_allows(a, "*", &[]);
    }
    // No env of the shipped config has private ingress: no VPC builds.
    let (_, shipped) = shipped_dev();
    assert!(!shipped.names_action("ec2:CreateNetworkInterface"));
}

/// Actions the Service Authorization Reference gives no resource types
/// (so `Resource: "*"` is their only form), as the pipeline role uses them.
const NO_RESOURCE_LEVEL: &[&str] = &[
    "apprunner:ListServices",
    "apprunner:ListVpcConnectors",
    "apprunner:ListVpcIngressConnections",
    "cloudformation:ListStacks",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "ecr:GetAuthorizationToken",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "logs:CreateLogDelivery",
    "logs:DeleteIndexPolicy",
    "logs:DeleteResourcePolicy",
    "logs:DescribeIndexPolicies",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:PutIndexPolicy",
    "logs:PutResourcePolicy",
];

#[test]
fn only_actions_without_resource_level_permissions_use_star() {
    for (c, bp) in every_env() {
        let role = pipeline_role(&c, &bp);
        for st in &role.statements {
            let actions: Vec<&str> = strings(st.get("Action").unwrap())
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            for a in &actions {
                assert!(!a.contains('*'), "wildcard action {a}");
            }
            let star = strings(st.get("Resource").unwrap())
                .iter()
                .any(|r| r.as_str() == Some("*"));
            if star {
                for a in &actions {
                    assert!(NO_RESOURCE_LEVEL.contains(a), "{a} on Resource *");
                }
            }
        }
    }
}

/// A template's resource by the export that names it (`!Ref` outputs).
fn exported<'a>(t: &'a Template, export: &str) -> (&'a str, &'a apprun_template::Resource) {
    let (_, output) = t
        .export_names()
        .into_iter()
        .find(|(n, _)| *n == export)
        .unwrap_or_else(|| panic!("no export {export}"));
    let Value::Fn(f) = &t.outputs[output].value else {
        panic!("{export} is not a Ref")
    };
    let Intrinsic::Ref(id) = f.as_ref() else {
        panic!("{export} is not a Ref")
    };
    (id.as_str(), &t.resources[id.as_str()])
}

fn imports(v: &Value) -> Vec<String> {
    strings(v)
        .iter()
        .map(|v| match v {
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::ImportValue(Value::String(n)) => n.to_string(),
                other => panic!("not an import: {other:?}"),
            },
            other => panic!("not an import: {other:?}"),
        })
        .collect()
}

fn refs(v: &Value) -> Vec<String> {
    strings(v)
        .iter()
        .filter_map(|v| match v {
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Ref(n) => Some(n.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn sub_text(v: &Value) -> String {
    match v {
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => template.to_string(),
            other => panic!("not a Sub: {other:?}"),
        },
        Value::String(s) => s.as_str().into(),
        other => panic!("not a Sub: {other:?}"),
    }
}

fn rule_allows_443(rule: &Value, cidr: &str) -> bool {
    let proto = rule.get("IpProtocol").and_then(Value::as_str);
    let from = rule.get("FromPort");
    let to = rule.get("ToPort");
    let port_ok = match (from, to) {
        (Some(Value::Int(f)), Some(Value::Int(t))) => *f <= 443 && 443 <= *t,
        _ => false,
    };
    let net: ipnet::Ipv4Net = rule
        .get("CidrIp")
        .and_then(Value::as_str)
        .unwrap()
        .parse()
        .unwrap();
    let dest: ipnet::Ipv4Net = cidr.parse().unwrap();
    matches!(proto, Some("tcp") | Some("-1")) && port_ok && net.contains(&dest)
}

// Defect 6: ECS tasks in the public tier reach ECR, S3 (image layers) and
// CloudWatch Logs without a public IP, through VPC endpoints.
#[test]
fn public_ecs_tasks_reach_ecr_and_logs_through_vpc_endpoints() {
    let (_, bp, _) = express("dev");
    let net = &bp.stack(&StackKind::Network).unwrap().template;
    let svc_stack = bp
        .stacks
        .iter()
        .find(|s| matches!(s.kind, StackKind::Service { .. }))
        .unwrap();
    let svc = svc_stack
        .template
        .resources
        .values()
        .find(|r| r.kind == "AWS::ECS::ExpressGatewayService")
        .unwrap();
    let netcfg = &svc.properties["NetworkConfiguration"];
    let subnets: Vec<&apprun_template::Resource> = imports(netcfg.get("Subnets").unwrap())
        .iter()
        .map(|n| exported(net, n).1)
        .collect();
    let groups: Vec<&apprun_template::Resource> = imports(netcfg.get("SecurityGroups").unwrap())
        .iter()
        .map(|n| exported(net, n).1)
        .collect();
    let subnet_ids: Vec<&str> = imports(netcfg.get("Subnets").unwrap())
        .iter()
        .map(|n| exported(net, n).0)
        .collect();
    let egress: Vec<&Value> = groups
        .iter()
        .flat_map(|g| {
            g.properties
                .get("SecurityGroupEgress")
                .and_then(Value::as_list)
                .unwrap_or(&[])
        })
        .collect();
    // The tasks' subnets route to the internet gateway only (no NAT).
    let tables: BTreeSet<String> = net
        .resources
        .values()
        .filter(|r| r.kind == "AWS::EC2::SubnetRouteTableAssociation")
        .filter(|r| {
            refs(&r.properties["SubnetId"])
                .iter()
                .any(|s| subnet_ids.contains(&s.as_str()))
        })
        .flat_map(|r| refs(&r.properties["RouteTableId"]))
        .collect();
    assert_eq!(tables.len(), 1, "the public subnets share one route table");
    for (service, kind) in [
        ("ecr.api", "Interface"),
        ("ecr.dkr", "Interface"),
        ("logs", "Interface"),
        ("s3", "Gateway"),
    ] {
        let ep = net
            .resources
            .values()
            .find(|r| {
                r.kind == "AWS::EC2::VPCEndpoint"
                    && sub_text(&r.properties["ServiceName"]).ends_with(&format!(".{service}"))
            })
            .unwrap_or_else(|| panic!("no {service} endpoint"));
        assert_eq!(
            ep.properties["VpcEndpointType"],
            Value::from(kind),
            "{service}"
        );
        match kind {
            "Gateway" => {
                let on: BTreeSet<String> =
                    refs(&ep.properties["RouteTableIds"]).into_iter().collect();
                assert!(
                    tables.is_subset(&on),
                    "{service}: not on the tasks' route table"
                );
                // The prefix list's addresses are S3's: only 0.0.0.0/0 covers them.
                assert!(
                    egress.iter().any(|r| rule_allows_443(r, "0.0.0.0/0")),
                    "{service}: no tcp 443 egress that covers the service's addresses"
                );
            }
            _ => {
                assert_eq!(
                    ep.properties["PrivateDnsEnabled"],
                    Value::Bool(true),
                    "{service}"
                );
                // Task groups allow tcp 443 to the endpoint's subnets, and the
                // endpoint's group admits tcp 443 from every task subnet.
                let ep_subnets: Vec<String> = refs(&ep.properties["SubnetIds"]);
                for s in &ep_subnets {
                    let cidr = net.resources[s.as_str()].properties["CidrBlock"]
                        .as_str()
                        .unwrap();
                    assert!(
                        egress.iter().any(|r| rule_allows_443(r, cidr)),
                        "{service}: the tasks may not send tcp 443 to {s}"
                    );
                }
                for g in refs(&ep.properties["SecurityGroupIds"]) {
                    let ingress = net.resources[g.as_str()].properties["SecurityGroupIngress"]
                        .as_list()
                        .unwrap();
                    for t in &subnets {
                        let cidr = t.properties["CidrBlock"].as_str().unwrap();
                        assert!(
                            ingress.iter().any(|r| rule_allows_443(r, cidr)),
                            "{service}: endpoint group {g} does not admit tcp 443 from {cidr}"
                        );
                    }
                }
            }
        }
    }
}

// Defect 6: the reference's rules stay the reference's, and App Runner
// networks and private ECS envs get nothing new.
#[test]
fn reference_rules_are_unchanged_and_only_public_ecs_envs_get_endpoints() {
    for (c, bp) in every_env() {
        let env = c.env(&bp.env).unwrap();
        let net = &bp.stack(&StackKind::Network).unwrap().template;
        let reference = security_group_rules(&env.subnets);
        for tier in ["Public", "Protect", "Private"] {
            let group = &net.resources[format!("{tier}SecurityGroup").as_str()];
            for (key, dir) in [
                ("SecurityGroupIngress", apprun_blueprint::Direction::Ingress),
                ("SecurityGroupEgress", apprun_blueprint::Direction::Egress),
            ] {
                let got = group
                    .properties
                    .get(key)
                    .and_then(Value::as_list)
                    .unwrap_or(&[])
                    .len();
                let want = reference
                    .iter()
                    .filter(|r| r.group == tier && r.direction == dir)
                    .count();
                assert_eq!(got, want, "{} {tier} {key}", bp.env);
            }
        }
        let public_ecs = env.ingress == apprun_config::Ingress::Public
            && c.services
                .values()
                .any(|s| s.compute == apprun_config::Compute::EcsExpress);
        let endpoints = net
            .resources
            .values()
            .filter(|r| r.kind == "AWS::EC2::VPCEndpoint")
            .filter(|r| {
                let name = sub_text(&r.properties["ServiceName"]);
                [".ecr.api", ".ecr.dkr", ".logs", ".s3", ".dynamodb"]
                    .iter()
                    .any(|s| name.ends_with(s))
            })
            .count();
        let groups = net
            .resources
            .values()
            .filter(|r| r.kind == "AWS::EC2::SecurityGroup")
            .count();
        assert_eq!(
            endpoints,
            if public_ecs { 5 } else { 0 },
            "{} {}",
            c.system.id,
            bp.env
        );
        assert_eq!(
            groups,
            if public_ecs { 4 } else { 3 },
            "{} {}",
            c.system.id,
            bp.env
        );
    }
}

// Defect 7: WAF on ECS Express is refused by the config layer, never
// dropped: the blueprint emits a web ACL only for App Runner services.
#[test]
fn waf_with_ecs_express_is_a_config_error() {
    let text = std::fs::read_to_string(root().join("fixtures/express.toml"))
        .unwrap()
        .replace("waf = false", "waf = true");
    let dir = std::env::temp_dir().join(format!("apprun-permissions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("apprun.toml");
    std::fs::write(&path, text).unwrap();
    let err = Config::load(&path).expect_err("waf = true with ecs-express must not load");
    let _ = std::fs::remove_dir_all(&dir);
    let apprun_config::LoadError::Invalid { errors, .. } = err else {
        panic!("not a validation error: {err}")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "env.prod.waf");
    assert!(errors[0].line > 0, "{errors:?}");
    for (c, bp) in every_env() {
        for stack in &bp.stacks {
            let has_acl = stack
                .template
                .resources
                .values()
                .any(|r| r.kind == "AWS::WAFv2::WebACL");
            let waf = c.env(&bp.env).unwrap().waf;
            if let StackKind::Service { name, .. } = &stack.kind {
                let apprunner =
                    c.services[name.as_str()].compute == apprun_config::Compute::AppRunner;
                assert_eq!(has_acl, waf && apprunner, "{}", stack.name);
            }
        }
    }
}

/// A policy document as IAM stores it (pseudo parameters resolved, no
/// whitespace), to measure it against IAM's size quotas.
fn rendered(v: &Value, region: &str) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| rendered(i, region))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k:?}:{}", rendered(v, region)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => format!(
                "{:?}",
                template
                    .replace("${AWS::Partition}", "aws-us-gov")
                    .replace("${AWS::Region}", region)
                    .replace("${AWS::AccountId}", ACCOUNT)
            ),
            other => panic!("unexpected {other:?} in a policy"),
        },
        other => panic!("unexpected {other:?} in a policy"),
    }
}

/// The config at `rel` with its system id (and the CodeCommit repository
/// named after it) replaced by the longest id it still accepts.
fn longest_id_variant(rel: &str, id: &str) -> Config {
    let original = std::fs::read_to_string(root().join(rel)).unwrap();
    let dir = std::env::temp_dir().join(format!("apprun-size-{}-{id}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("apprun.toml");
    let found = (id.len()..=64).rev().find_map(|n| {
        let long: String = "abcdefghijklmnopqrstuvwxyz"
            .chars()
            .cycle()
            .take(n)
            .collect();
        let text = original
            .replace(&format!("id = \"{id}\""), &format!("id = \"{long}\""))
            .replace(
                &format!("repository = \"{id}\""),
                &format!("repository = \"{long}\""),
            );
        std::fs::write(&path, text).unwrap();
        Config::load(&path).ok()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let c = found.unwrap_or_else(|| panic!("{rel}: no id accepted"));
    assert!(
        c.system.id.len() > id.len(),
        "{rel}: the variant has a longer id"
    );
    c
}

// IAM refuses a role whose inline policies exceed 10,240 characters in all,
// and a managed policy over 6,144: the pipeline role stays under both with
// the longest system id the config accepts.
#[test]
fn pipeline_policies_fit_iam_size_quotas_with_a_long_system_id() {
    for (rel, id) in [
        ("fixtures/express.toml", "express-demo"),
        ("fixtures/shop-api.toml", "shop-api"),
        ("apprun.toml", "apprunner-nuxt3"),
    ] {
        let c = longest_id_variant(rel, id);
        let env = c.envs.keys().next().unwrap().clone();
        let bp = synthesize(&c, &env).unwrap();
        let iam = &bp.stack(&StackKind::Iam).unwrap().template;
        let (inline, managed) = pipeline_documents(&c, iam);
        let region = "ap-southeast-5";
        let inline_size: usize = inline.iter().map(|d| rendered(d, region).len()).sum();
        assert!(
            inline_size <= 10_240,
            "{rel}: inline policies {inline_size} characters"
        );
        for d in managed {
            let size = rendered(d, region).len();
            assert!(
                size <= 6_144,
                "{rel}: a managed policy of {size} characters"
            );
        }
    }
}
