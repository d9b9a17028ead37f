//! The per-account IAM stack: App Runner's access and instance roles and the
//! pipeline role.
//!
//! The reference gives its pipeline role ten *FullAccess managed policies
//! and `iam:PassRole` on `*`. We keep one pipeline role (the reference's
//! topology) but grant only what the pipeline does, on resources named after
//! the system id.

use apprun_config::{Config, Ingress, Names, SourceKind};
use apprun_template::{Map, Output, Resource, Template, Value, get_att, map, r#ref, sub};

use crate::policy::{allow, document, trust, with_condition};
use crate::tags::account_tags;

pub(crate) const ACCESS_ROLE_EXPORT: &str = "AppRunnerAccessRoleArn";
pub(crate) const INSTANCE_ROLE_EXPORT: &str = "AppRunnerInstanceRoleArn";
pub(crate) const PIPELINE_ROLE_EXPORT: &str = "PipelineRoleArn";
pub(crate) const ECS_EXECUTION_ROLE_EXPORT: &str = "EcsExecutionRoleArn";
pub(crate) const ECS_INFRASTRUCTURE_ROLE_EXPORT: &str = "EcsInfrastructureRoleArn";
pub(crate) const ECS_TASK_ROLE_EXPORT: &str = "EcsTaskRoleArn";

/// DynamoDB item access the reference grants the running service. The
/// reference writes `dynamodb:Get*`; it is spelled out here because the
/// wildcard also matches `GetAbacStatus` and other actions that take no
/// table resource (so on a table ARN it grants less than it appears to).
const DYNAMODB_ACTIONS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeStream",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
];

pub(crate) fn template(config: &Config) -> Template {
    let id = &config.system.id;
    let mut t = Template {
        description: Some(format!(
            "{id}: IAM roles shared by every environment of this account (apprun)"
        )),
        ..Template::default()
    };
    add_app_runner_roles(&mut t, config);
    add_pipeline_role(&mut t, config);
    add_role_exports(&mut t, config);
    t
}

/// App Runner's access role (pulls the image) and instance role (the
/// running service's own permissions).
fn add_app_runner_roles(t: &mut Template, config: &Config) {
    let id = &config.system.id;
    let names = Names::new(id);
    t.resources.insert(
        "AppRunnerAccessRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.access_role(),
                "Description" => "App Runner pulls the service image from ECR with this role",
                "AssumeRolePolicyDocument" => trust(&["build.apprunner.amazonaws.com"]),
                "ManagedPolicyArns" => vec![sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSAppRunnerServicePolicyForECRAccess")],
                "Tags" => account_tags(id),
            },
        ),
    );

    t.resources.insert(
        "AppRunnerInstanceRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.instance_role(),
                "Description" => "The running service's own permissions",
                "AssumeRolePolicyDocument" => trust(&["tasks.apprunner.amazonaws.com"]),
                "Policies" => vec![system_tables_policy(id)],
                "Tags" => account_tags(id),
            },
        ),
    );
}

/// The pipeline's role, with its extra managed policies.
fn add_pipeline_role(t: &mut Template, config: &Config) {
    let id = &config.system.id;
    let names = Names::new(id);
    t.resources.insert(
        "PipelineRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.pipeline_role(),
                "Description" => "CodePipeline, CodeBuild and CloudFormation run the delivery pipeline with this role",
                "AssumeRolePolicyDocument" => trust(&[
                    "cloudformation.amazonaws.com",
                    "codebuild.amazonaws.com",
                    "codepipeline.amazonaws.com",
                ]),
                "Policies" => vec![map! {
                    "PolicyName" => "pipeline-least-privilege",
                    "PolicyDocument" => document(pipeline_statements(config)),
                }],
                "Tags" => account_tags(id),
            },
        ),
    );
    for p in pipeline_extra_policies(config) {
        t.resources.insert(
            p.logical.into(),
            Resource::new(
                "AWS::IAM::ManagedPolicy",
                map! {
                    "ManagedPolicyName" => p.name,
                    "Description" => p.description,
                    "PolicyDocument" => document(p.statements),
                    "Roles" => vec![r#ref("PipelineRole")],
                },
            ),
        );
    }
}

/// Every role's ARN, exported for the env stacks (the ECS roles, and the
/// roles themselves, only when a service uses ECS Express).
fn add_role_exports(t: &mut Template, config: &Config) {
    let names = Names::new(&config.system.id);
    let mut exported = vec![
        (
            "AppRunnerAccessRole",
            ACCESS_ROLE_EXPORT,
            "App Runner access (build) role",
        ),
        (
            "AppRunnerInstanceRole",
            INSTANCE_ROLE_EXPORT,
            "App Runner instance (service) role",
        ),
        ("PipelineRole", PIPELINE_ROLE_EXPORT, "Pipeline role"),
    ];
    if config.uses(apprun_config::Compute::EcsExpress) {
        ecs_roles(config, t);
        exported.extend([
            (
                "EcsExecutionRole",
                ECS_EXECUTION_ROLE_EXPORT,
                "ECS task execution role (pull from ECR, write logs)",
            ),
            (
                "EcsInfrastructureRole",
                ECS_INFRASTRUCTURE_ROLE_EXPORT,
                "ECS Express infrastructure role",
            ),
            (
                "EcsTaskRole",
                ECS_TASK_ROLE_EXPORT,
                "ECS task role (the service's own permissions)",
            ),
        ]);
    }
    for (logical, export, description) in exported {
        t.outputs.insert(
            format!("{logical}Arn"),
            Output::new(description, get_att(logical, "Arn"))
                .exported_as(names.account_export(export)),
        );
    }
}

/// The roles ECS Express Mode needs: the execution role pulls the image and
/// writes logs, the infrastructure role lets ECS create the load balancer
/// and scaling, the task role carries the same permissions as App Runner's
/// instance role.
fn ecs_roles(config: &Config, t: &mut Template) {
    let id = &config.system.id;
    let managed = |name: &str| {
        vec![sub(format!(
            "arn:${{AWS::Partition}}:iam::aws:policy/{name}"
        ))]
    };
    for (logical, name, service, description, policies) in [
        (
            "EcsExecutionRole",
            format!("{id}-ecs-execution"),
            "ecs-tasks.amazonaws.com",
            "ECS pulls the image and writes logs with this role",
            managed("service-role/AmazonECSTaskExecutionRolePolicy"),
        ),
        (
            "EcsInfrastructureRole",
            format!("{id}-ecs-infrastructure"),
            "ecs.amazonaws.com",
            "ECS Express Mode creates the load balancer and scaling with this role",
            managed("service-role/AmazonECSInfrastructureRoleforExpressGatewayServices"),
        ),
    ] {
        t.resources.insert(
            logical.into(),
            Resource::new(
                "AWS::IAM::Role",
                map! {
                    "RoleName" => name,
                    "Description" => description,
                    "AssumeRolePolicyDocument" => trust(&[service]),
                    "ManagedPolicyArns" => policies,
                    "Tags" => account_tags(id),
                },
            ),
        );
    }
    t.resources.insert(
        "EcsTaskRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => format!("{id}-ecs-task"),
                "Description" => "The running service's own permissions (as App Runner's instance role)",
                "AssumeRolePolicyDocument" => trust(&["ecs-tasks.amazonaws.com"]),
                "Policies" => vec![system_tables_policy(id)],
                "Tags" => account_tags(id),
            },
        ),
    );
}

/// DynamoDB item access on the system's tables (`${id}*`): what the
/// reference grants the running service, on either backend.
fn system_tables_policy(id: &str) -> Value {
    map! {
        "PolicyName" => "dynamodb-system-tables",
        "PolicyDocument" => document(vec![allow(
            "SystemTables",
            DYNAMODB_ACTIONS,
            vec![sub(format!("arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{id}*"))],
        )
        .into()]),
    }
    .into()
}

/// A `Sub` ARN in this partition: `arn(format!("s3:::{bucket}"))`.
fn arn(service_and_rest: String) -> Value {
    sub(format!("arn:${{AWS::Partition}}:{service_and_rest}"))
}

/// The region and account part of a regional ARN, as `Sub` variables.
const HERE: &str = "${AWS::Region}:${AWS::AccountId}";

/// A regional ARN in this account: `regional("ecs", "cluster/default")`.
fn regional(service: &str, resource: &str) -> Value {
    arn(format!("{service}:{HERE}:{resource}"))
}

/// A role of this account by name.
fn role(name: &str) -> Value {
    arn(format!("iam::${{AWS::AccountId}}:role/{name}"))
}

/// The `iam:PassedToService` values App Runner's CreateService and
/// UpdateService are authorized with. The Service Authorization Reference's
/// operations table for App Runner names `bullet.amazonaws.com`; AWS's
/// AWSAppRunnerFullAccess managed policy uses `apprunner.amazonaws.com`, and
/// a deploy log shows UpdateService denied with only the latter. Both.
pub(crate) const APPRUNNER_PASSED_TO: &[&str] =
    &["apprunner.amazonaws.com", "bullet.amazonaws.com"];

/// The cluster ECS Express services land in: the resource type's `Cluster`
/// property defaults to `default` (schema aws-ecs-expressgatewayservice.json)
/// and apprun does not set it. It is create-only, so setting it now would
/// replace every existing service.
const ECS_CLUSTER: &str = "default";

/// What the pipeline role does, each on the narrowest resources the ARN
/// formats allow. The role is used by CodePipeline, by every CodeBuild
/// project (build and verify) and by CloudFormation for the service stacks
/// (the Deploy action passes it, and CloudFormation keeps using it for every
/// later operation on those stacks, from the pipeline or from apprun).
fn pipeline_statements(config: &Config) -> Vec<Value> {
    let mut s = artifact_statements(&config.system.id);
    s.extend(source_statements(config));
    s.extend(build_statements(&config.system.id));
    s.extend(apprunner_statements(config));
    s.extend(waf_statements(&config.system.id));
    s.into_iter().map(Value::Map).collect()
}

/// The pipeline role's grants for what only some configs use, each in a
/// customer managed policy attached to the role: IAM caps a role's inline
/// policies at 10,240 characters in all, which the ECS Express grants would
/// exceed with a long system id, while each managed policy has 6,144 of its
/// own.
fn pipeline_extra_policies(config: &Config) -> Vec<ExtraPolicy> {
    let id = &config.system.id;
    let mut extra = Vec::new();
    if config.uses(apprun_config::Compute::EcsExpress) {
        extra.push(ExtraPolicy::new(
            "PipelineEcsExpressPolicy",
            format!("{id}-pipeline-ecs-express"),
            "What the pipeline role needs to deploy and verify ECS Express services",
            ecs_express_statements(id),
        ));
    }
    if config.envs.values().any(|e| e.ingress == Ingress::Private) {
        extra.push(ExtraPolicy::new(
            "PipelineVpcBuildsPolicy",
            format!("{id}-pipeline-vpc-builds"),
            "What CodeBuild needs to run the pipeline's projects in the VPC",
            codebuild_vpc_statements(),
        ));
    }
    extra
}

/// A managed policy attached to the pipeline role.
struct ExtraPolicy {
    logical: &'static str,
    name: String,
    description: String,
    statements: Vec<Value>,
}

impl ExtraPolicy {
    fn new(logical: &'static str, name: String, description: &str, statements: Vec<Map>) -> Self {
        ExtraPolicy {
            logical,
            name,
            description: description.to_owned(),
            statements: statements.into_iter().map(Value::Map).collect(),
        }
    }
}

/// Pipeline artifacts and staged templates in the env buckets
/// (`${id}-${env}-temporary`): CodePipeline's artifact store, CodeBuild's
/// input and output, `aws s3 cp` of the staged service template.
fn artifact_statements(id: &str) -> Vec<Map> {
    vec![
        allow(
            "ArtifactObjects",
            &[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:PutObjectAcl",
            ],
            vec![arn(format!("s3:::{id}-*-temporary/*"))],
        ),
        allow(
            "ArtifactBuckets",
            &[
                "s3:GetBucketAcl",
                "s3:GetBucketLocation",
                "s3:GetBucketVersioning",
            ],
            vec![arn(format!("s3:::{id}-*-temporary"))],
        ),
    ]
}

/// The Source action: CodeCommit (CodePipeline user guide, service role
/// policy) or a CodeConnections connection.
fn source_statements(config: &Config) -> Vec<Map> {
    match config.source.kind {
        SourceKind::CodeCommit => vec![allow(
            "SourceRepository",
            &[
                "codecommit:CancelUploadArchive",
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:UploadArchive",
            ],
            vec![regional("codecommit", &config.source.repository)],
        )],
        SourceKind::GitHub => {
            // The same connection answers to both service prefixes (CodeStar
            // Connections was renamed CodeConnections); each action names its own.
            let arn = config.source.connection.clone().unwrap_or_default();
            let legacy = arn.replacen(":codeconnections:", ":codestar-connections:", 1);
            let current = arn.replacen(":codestar-connections:", ":codeconnections:", 1);
            vec![
                allow(
                    "SourceConnection",
                    &["codeconnections:UseConnection"],
                    vec![Value::from(current)],
                ),
                allow(
                    "SourceConnectionLegacyName",
                    &["codestar-connections:UseConnection"],
                    vec![Value::from(legacy)],
                ),
            ]
        }
    }
}

/// The Build and Verify actions: CodePipeline starts the projects; the
/// projects write their logs and run the buildspecs' commands: `aws ecr
/// get-login-password` (GetAuthorizationToken), `aws ecr describe-images`,
/// `docker push`, `aws cloudformation describe-stacks` and the review change
/// set (create, `wait change-set-create-complete` = DescribeChangeSet,
/// describe, delete). CodePipeline's CloudFormation action creates and
/// updates the service stacks.
fn build_statements(id: &str) -> Vec<Map> {
    vec![
        allow(
            "Builds",
            &["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
            vec![regional("codebuild", &format!("project/{id}-*"))],
        ),
        allow(
            "BuildLogs",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            vec![regional(
                "logs",
                &format!("log-group:/aws/codebuild/{id}-*"),
            )],
        ),
        // GetAuthorizationToken has no resource-level permissions.
        allow(
            "RegistryLogin",
            &["ecr:GetAuthorizationToken"],
            vec!["*".into()],
        ),
        allow(
            "ImagePush",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:CompleteLayerUpload",
                "ecr:DescribeImages",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            vec![regional("ecr", &format!("repository/{id}-*"))],
        ),
        allow(
            "ServiceStacks",
            &[
                "cloudformation:CreateChangeSet",
                "cloudformation:CreateStack",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStacks",
                "cloudformation:UpdateStack",
            ],
            vec![
                regional("cloudformation", &format!("stack/{id}-*-service-*/*")),
                regional("cloudformation", &format!("stack/{id}-*-ecs-*/*")),
            ],
        ),
        // The reference lists ListStacks as a dependent action of
        // DescribeStacks; it has no resource-level permissions.
        allow(
            "StackListing",
            &["cloudformation:ListStacks"],
            vec!["*".into()],
        ),
    ]
}

/// App Runner: the create/update/delete handlers of AWS::AppRunner::Service,
/// ::VpcConnector and ::VpcIngressConnection (their schemas'
/// `handlers.*.permissions`), and the Verify action's ListOperations.
///
/// Granted whatever the config's compute: a stack this role once deployed is
/// updated and deleted with it after the config stops using App Runner, and
/// the IAM stack deploys before the service stacks do.
fn apprunner_statements(config: &Config) -> Vec<Map> {
    let id = &config.system.id;
    let own = |kind: &str| regional("apprunner", &format!("{kind}/{id}-*"));
    let mut statements = vec![allow(
        "AppRunnerResources",
        &[
            "apprunner:CreateService",
            "apprunner:CreateVpcConnector",
            "apprunner:CreateVpcIngressConnection",
            "apprunner:DeleteService",
            "apprunner:DeleteVpcConnector",
            "apprunner:DeleteVpcIngressConnection",
            "apprunner:DescribeService",
            "apprunner:DescribeVpcConnector",
            "apprunner:DescribeVpcIngressConnection",
            "apprunner:ListOperations",
            "apprunner:ListTagsForResource",
            "apprunner:TagResource",
            "apprunner:UntagResource",
            "apprunner:UpdateService",
            "apprunner:UpdateVpcIngressConnection",
        ],
        vec![
            own("service"),
            own("vpcconnector"),
            own("vpcingressconnection"),
        ],
    )];
    statements.extend(apprunner_side_statements(config));
    statements
}

/// App Runner, continued: what the Service's handlers have App Runner do
/// with the caller's permissions (log groups, EventBridge rules, EC2
/// lookups), passing the pipeline role, and the service-linked roles.
fn apprunner_side_statements(config: &Config) -> Vec<Map> {
    let id = &config.system.id;
    let names = Names::new(id);
    let mut statements = vec![
        // The Service's create handler has App Runner create the service's
        // log groups (and their streams: IAM's `*` also spans the
        // `:log-stream:` part of a stream's ARN) `/aws/apprunner/<service name>/<service id>/...` with the
        // caller's permissions (the names AWS's AppRunnerServiceRolePolicy
        // scopes the same actions to); service names start with `${id}-`.
        allow(
            "AppRunnerServiceLogs",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:PutRetentionPolicy",
            ],
            vec![regional(
                "logs",
                &format!("log-group:/aws/apprunner/{id}-*"),
            )],
        ),
        // ... and its EventBridge rules. App Runner names them itself; the
        // narrowest pattern AWS documents is the prefix its service-linked
        // role policy (AppRunnerServiceRolePolicy) is scoped to.
        allow(
            "AppRunnerManagedRules",
            &["events:PutRule", "events:PutTargets"],
            vec![regional("events", "rule/AWSAppRunnerManagedRule*")],
        ),
        // Listing and EC2 lookups (VpcConnector and VpcIngressConnection
        // handlers) have no resource-level permissions.
        allow(
            "Lookups",
            &[
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeVpcs",
            ],
            vec!["*".into()],
        ),
        with_condition(
            allow(
                "PassAppRunnerRoles",
                &["iam:PassRole"],
                vec![role(&names.access_role()), role(&names.instance_role())],
            ),
            "StringEquals",
            "iam:PassedToService",
            APPRUNNER_PASSED_TO,
        ),
        with_condition(
            allow(
                "PassPipelineRole",
                &["iam:PassRole"],
                vec![role(&names.pipeline_role())],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["cloudformation.amazonaws.com"],
        ),
    ];
    statements.extend(apprunner_service_linked_roles());
    statements
}

/// App Runner's service-linked roles, which the Service and VpcConnector
/// create handlers create on first use.
fn apprunner_service_linked_roles() -> Vec<Map> {
    vec![
        // The Service and VpcConnector create handlers create App Runner's
        // service-linked roles on first use.
        with_condition(
            allow(
                "AppRunnerServiceLinkedRoles",
                &["iam:CreateServiceLinkedRole"],
                vec![
                    role("aws-service-role/apprunner.amazonaws.com/AWSServiceRoleForAppRunner"),
                    role(
                        "aws-service-role/networking.apprunner.amazonaws.com/AWSServiceRoleForAppRunnerNetworking",
                    ),
                ],
            ),
            "StringEquals",
            "iam:AWSServiceName",
            &[
                "apprunner.amazonaws.com",
                "networking.apprunner.amazonaws.com",
            ],
        ),
    ]
}

/// WAF: the handlers of AWS::WAFv2::WebACL and ::WebACLAssociation for a
/// web ACL associated with an App Runner service. Each action is granted on
/// every resource type the Service Authorization Reference lists for it:
/// wafv2:AssociateWebACL and GetWebACLForResource on the web ACL and the
/// service, wafv2:DisassociateWebACL on the service, and App Runner's
/// AssociateWebAcl on the service and the web ACL. (The reference lists only
/// the service for DisassociateWebAcl and DescribeWebAclForService; they
/// are granted on both too, which widens nothing.) Like App Runner, granted
/// whatever the config says today, so a web ACL can always be removed.
fn waf_statements(id: &str) -> Vec<Map> {
    let web_acls = regional("wafv2", &format!("regional/webacl/{id}-*/*"));
    let services = regional("apprunner", &format!("service/{id}-*"));
    vec![
        allow(
            "WebAcls",
            &[
                "wafv2:AssociateWebACL",
                "wafv2:CreateWebACL",
                "wafv2:DeleteWebACL",
                "wafv2:DisassociateWebACL",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:ListTagsForResource",
                "wafv2:TagResource",
                "wafv2:UntagResource",
                "wafv2:UpdateWebACL",
            ],
            vec![
                web_acls.clone(),
                regional("wafv2", "regional/managedruleset/*/*"),
                services.clone(),
            ],
        ),
        allow(
            "AppRunnerWebAcls",
            &[
                "apprunner:AssociateWebAcl",
                "apprunner:DescribeWebAclForService",
                "apprunner:DisassociateWebAcl",
            ],
            vec![services, web_acls],
        ),
        // Dependent actions of wafv2:AssociateWebACL (and in the
        // WebACLAssociation handlers), on the rule group resource type. The
        // web ACL uses AWS managed rule groups only, whose names and scope
        // the template does not know: any rule group of this account.
        allow(
            "WebAclRuleGroupPolicies",
            &["wafv2:GetPermissionPolicy", "wafv2:PutPermissionPolicy"],
            vec![regional("wafv2", "*/rulegroup/*/*")],
        ),
    ]
}

/// ECS Express: the handlers of AWS::ECS::ExpressGatewayService and
/// AWS::Logs::LogGroup (schemas aws-ecs-expressgatewayservice.json and
/// aws-logs-loggroup.json), the dependent actions the Service Authorization
/// Reference lists for Create/UpdateExpressGatewayService
/// (ecs:RegisterTaskDefinition, iam:PassRole), and the Verify action's
/// describe calls.
fn ecs_express_statements(id: &str) -> Vec<Map> {
    let c = ECS_CLUSTER;
    let services = regional("ecs", &format!("service/{c}/{id}-*"));
    let mut statements = vec![
        allow(
            "EcsExpressServices",
            &[
                "ecs:CreateExpressGatewayService",
                "ecs:DeleteExpressGatewayService",
                "ecs:DescribeExpressGatewayService",
                "ecs:DescribeServices",
                "ecs:ListServiceDeployments",
                "ecs:UpdateExpressGatewayService",
            ],
            vec![services.clone()],
        ),
        // DescribeServiceDeployments and DescribeServiceRevisions need their
        // own resource type as well as the service (in one statement, as
        // parliament checks them).
        allow(
            "EcsDeploymentsAndRevisions",
            &[
                "ecs:DescribeServiceDeployments",
                "ecs:DescribeServiceRevisions",
            ],
            vec![
                services.clone(),
                regional("ecs", &format!("service-deployment/{c}/{id}-*")),
                regional("ecs", &format!("service-revision/{c}/{id}-*")),
            ],
        ),
        // The create handler creates the cluster when it does not exist yet.
        allow(
            "EcsCluster",
            &["ecs:CreateCluster"],
            vec![regional("ecs", &format!("cluster/{c}"))],
        ),
        // Express registers the service's task definitions under family
        // names it chooses and does not document; `task-definition/*` is the
        // narrowest pattern that is sure to match. What they can run is
        // bounded by PassRole, which only reaches this system's ECS roles.
        allow(
            "EcsTaskDefinitions",
            &["ecs:RegisterTaskDefinition"],
            vec![regional("ecs", "task-definition/*")],
        ),
        // The resource schema's tagging permissions.
        allow(
            "EcsTagging",
            &[
                "ecs:ListTagsForResource",
                "ecs:TagResource",
                "ecs:UntagResource",
            ],
            vec![services],
        ),
        // Express creates the cluster and the task definitions with the
        // service's tags; tagging on create is authorized as ecs:TagResource
        // on the new resource (ecs:CreateAction).
        allow(
            "EcsTagOnCreate",
            &["ecs:TagResource"],
            vec![
                regional("ecs", &format!("cluster/{c}")),
                regional("ecs", "task-definition/*"),
            ],
        ),
    ];
    statements.extend(ecs_unscoped_statements());
    statements.extend(ecs_log_and_role_statements(id));
    statements
}

/// ECS Express actions without resource-level permissions.
fn ecs_unscoped_statements() -> Vec<Map> {
    vec![
        // No resource-level permissions: DescribeTaskDefinition (the update
        // handler) and the LogGroup handlers' lookups.
        allow(
            "EcsLookups",
            &[
                "ecs:DescribeTaskDefinition",
                "logs:DescribeIndexPolicies",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
            ],
            vec!["*".into()],
        ),
    ]
}

/// ECS Express, continued: the service's log group, passing the ECS roles,
/// and ECS's service-linked role.
fn ecs_log_and_role_statements(id: &str) -> Vec<Map> {
    let ecs_role = |suffix: &str| role(&format!("{id}-ecs-{suffix}"));
    vec![
        // The service's log group `/apprun/${id}/${env}/${service}`: every
        // permission the LogGroup handlers list that the reference scopes to a
        // log group.
        allow(
            "EcsServiceLogs",
            &[
                "logs:AssociateKmsKey",
                "logs:CreateLogGroup",
                "logs:DeleteDataProtectionPolicy",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey",
                "logs:GetDataProtectionPolicy",
                "logs:ListTagsForResource",
                "logs:PutBearerTokenAuthentication",
                "logs:PutDataProtectionPolicy",
                "logs:PutLogGroupDeletionProtection",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
            ],
            vec![regional("logs", &format!("log-group:/apprun/{id}/*"))],
        ),
        // The rest of the LogGroup handlers' list: the reference gives these
        // no resource types, so `*` is their only form. apprun sets none of
        // the properties that use them (deliveries, resource and index
        // policies); the handlers list them all the same.
        allow(
            "LogGroupAccountSettings",
            &[
                "logs:CreateLogDelivery",
                "logs:DeleteIndexPolicy",
                "logs:DeleteResourcePolicy",
                "logs:PutIndexPolicy",
                "logs:PutResourcePolicy",
            ],
            vec!["*".into()],
        ),
        with_condition(
            allow(
                "PassEcsRoles",
                &["iam:PassRole"],
                vec![
                    ecs_role("execution"),
                    ecs_role("infrastructure"),
                    ecs_role("task"),
                ],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["ecs-tasks.amazonaws.com", "ecs.amazonaws.com"],
        ),
        // ECS creates its service-linked role with the caller's permissions
        // the first time a cluster is created in the account.
        with_condition(
            allow(
                "EcsServiceLinkedRole",
                &["iam:CreateServiceLinkedRole"],
                vec![role(
                    "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
                )],
            ),
            "StringEquals",
            "iam:AWSServiceName",
            &["ecs.amazonaws.com"],
        ),
    ]
}

/// CodeBuild projects in a VPC (the Verify project of an env with private
/// ingress): the CodeBuild user guide's VPC policy, with ARNs of this
/// account and region instead of `*` where the actions take resources.
/// CreateNetworkInterface needs the interface, the subnet and the security
/// group in one statement; the guide's `ec2:Subnet` condition on
/// CreateNetworkInterfacePermission is left out because the per-account IAM
/// stack cannot know the env's subnet ids (`ec2:AuthorizedService` stays).
fn codebuild_vpc_statements() -> Vec<Map> {
    let interfaces = regional("ec2", "network-interface/*");
    vec![
        // No resource-level permissions. (The guide's DescribeSubnets,
        // DescribeSecurityGroups and DescribeVpcs come from the role's
        // `Lookups` statement, which every config has.)
        allow(
            "CodeBuildVpcLookups",
            &["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces"],
            vec!["*".into()],
        ),
        allow(
            "CodeBuildVpcInterfaces",
            &["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            vec![
                interfaces.clone(),
                regional("ec2", "subnet/*"),
                regional("ec2", "security-group/*"),
            ],
        ),
        // CreateTags is a dependent action of CreateNetworkInterface.
        with_condition(
            allow(
                "CodeBuildVpcInterfaceTags",
                &["ec2:CreateTags"],
                vec![interfaces.clone()],
            ),
            "StringEquals",
            "ec2:CreateAction",
            &["CreateNetworkInterface"],
        ),
        with_condition(
            allow(
                "CodeBuildVpcInterfacePermission",
                &["ec2:CreateNetworkInterfacePermission"],
                vec![interfaces],
            ),
            "StringEquals",
            "ec2:AuthorizedService",
            &["codebuild.amazonaws.com"],
        ),
    ]
}
