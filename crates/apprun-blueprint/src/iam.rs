//! The per-account IAM stack: App Runner's access and instance roles and the
//! pipeline role.
//!
//! The reference gives its pipeline role ten *FullAccess managed policies
//! and `iam:PassRole` on `*`. We keep one pipeline role (the reference's
//! topology) but grant only what the pipeline does, on resources named after
//! the system id.

use apprun_config::{Config, Names, SourceKind};
use apprun_template::{Output, Resource, Template, Value, get_att, map, sub};

use crate::policy::{allow, document, trust, with_condition};
use crate::tags::account_tags;

pub(crate) const ACCESS_ROLE_EXPORT: &str = "AppRunnerAccessRoleArn";
pub(crate) const INSTANCE_ROLE_EXPORT: &str = "AppRunnerInstanceRoleArn";
pub(crate) const PIPELINE_ROLE_EXPORT: &str = "PipelineRoleArn";
pub(crate) const ECS_EXECUTION_ROLE_EXPORT: &str = "EcsExecutionRoleArn";
pub(crate) const ECS_INFRASTRUCTURE_ROLE_EXPORT: &str = "EcsInfrastructureRoleArn";
pub(crate) const ECS_TASK_ROLE_EXPORT: &str = "EcsTaskRoleArn";

/// DynamoDB item access the reference grants the running service.
const DYNAMODB_ACTIONS: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeStream",
    "dynamodb:DescribeTable",
    "dynamodb:Get*",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
];

pub(crate) fn template(config: &Config) -> Template {
    let id = &config.system.id;
    let names = Names::new(id);
    let mut t = Template {
        description: Some(format!(
            "{id}: IAM roles shared by every environment of this account (apprun)"
        )),
        ..Template::default()
    };

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
    if config
        .services
        .values()
        .any(|s| s.compute == apprun_config::Compute::EcsExpress)
    {
        ecs_roles(config, &mut t);
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
    t
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

fn arn(service_and_rest: String) -> Value {
    sub(format!("arn:${{AWS::Partition}}:{service_and_rest}"))
}

/// What the pipeline actually does, each on the narrowest resources.
fn pipeline_statements(config: &Config) -> Vec<Value> {
    let id = &config.system.id;
    let names = Names::new(id);
    let here = "${AWS::Region}:${AWS::AccountId}";
    let mut s = vec![
        allow(
            "ArtifactObjects",
            &["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            vec![arn(format!("s3:::{id}-*-temporary/*"))],
        ),
        allow(
            "ArtifactBuckets",
            &[
                "s3:GetBucketLocation",
                "s3:GetBucketVersioning",
                "s3:ListBucket",
            ],
            vec![arn(format!("s3:::{id}-*-temporary"))],
        ),
    ];
    match config.source.kind {
        SourceKind::CodeCommit => s.push(allow(
            "SourceRepository",
            &[
                "codecommit:CancelUploadArchive",
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:UploadArchive",
            ],
            vec![arn(format!(
                "codecommit:{here}:{}",
                config.source.repository
            ))],
        )),
        SourceKind::GitHub => {
            // The same connection answers to both service prefixes (CodeStar
            // Connections was renamed CodeConnections); each action names its own.
            let arn = config.source.connection.clone().unwrap_or_default();
            let legacy = arn.replacen(":codeconnections:", ":codestar-connections:", 1);
            let current = arn.replacen(":codestar-connections:", ":codeconnections:", 1);
            s.push(allow(
                "SourceConnection",
                &["codeconnections:UseConnection"],
                vec![Value::from(current)],
            ));
            s.push(allow(
                "SourceConnectionLegacyName",
                &["codestar-connections:UseConnection"],
                vec![Value::from(legacy)],
            ));
        }
    }
    s.extend([
        allow(
            "Builds",
            &["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
            vec![arn(format!("codebuild:{here}:project/{id}-*"))],
        ),
        allow(
            "BuildLogs",
            &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            vec![
                arn(format!("logs:{here}:log-group:/aws/codebuild/{id}-*")),
                arn(format!("logs:{here}:log-group:/aws/codebuild/{id}-*:log-stream:*")),
            ],
        ),
        // GetAuthorizationToken has no resource-level permissions.
        allow("RegistryLogin", &["ecr:GetAuthorizationToken"], vec!["*".into()]),
        allow(
            "ImagePush",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:DescribeImages",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            vec![arn(format!("ecr:{here}:repository/{id}-*"))],
        ),
        allow(
            "ServiceStacks",
            &[
                "cloudformation:CreateChangeSet",
                "cloudformation:CreateStack",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResources",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:UpdateStack",
            ],
            vec![
                arn(format!("cloudformation:{here}:stack/{id}-*-service-*/*")),
                arn(format!("cloudformation:{here}:stack/{id}-*-ecs-*/*")),
            ],
        ),
        allow(
            "AppRunnerResources",
            &[
                "apprunner:AssociateWebAcl",
                "apprunner:CreateService",
                "apprunner:CreateVpcConnector",
                "apprunner:CreateVpcIngressConnection",
                "apprunner:DeleteService",
                "apprunner:DeleteVpcConnector",
                "apprunner:DeleteVpcIngressConnection",
                "apprunner:DescribeService",
                "apprunner:DescribeVpcConnector",
                "apprunner:DescribeVpcIngressConnection",
                "apprunner:DescribeWebAclForService",
                "apprunner:DisassociateWebAcl",
                "apprunner:ListOperations",
                "apprunner:ListTagsForResource",
                "apprunner:TagResource",
                "apprunner:UntagResource",
                "apprunner:UpdateService",
                "apprunner:UpdateVpcIngressConnection",
            ],
            vec![arn(format!("apprunner:{here}:*/{id}-*"))],
        ),
        // Listing and EC2 lookups have no resource-level permissions.
        allow(
            "Lookups",
            &[
                "apprunner:ListServices",
                "apprunner:ListVpcConnectors",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeVpcs",
            ],
            vec!["*".into()],
        ),
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
                "wafv2:UpdateWebACL",
            ],
            vec![
                arn(format!("wafv2:{here}:regional/webacl/{id}-*/*")),
                arn(format!("wafv2:{here}:regional/managedruleset/*/*")),
                arn(format!("apprunner:{here}:service/{id}-*")),
            ],
        ),
        with_condition(
            allow(
                "PassServiceRoles",
                &["iam:GetRole", "iam:PassRole"],
                vec![
                    arn(format!("iam::${{AWS::AccountId}}:role/{}", names.access_role())),
                    arn(format!("iam::${{AWS::AccountId}}:role/{}", names.instance_role())),
                ],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["apprunner.amazonaws.com"],
        ),
        with_condition(
            allow(
                "PassPipelineRole",
                &["iam:PassRole"],
                vec![arn(format!("iam::${{AWS::AccountId}}:role/{}", names.pipeline_role()))],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["cloudformation.amazonaws.com", "codebuild.amazonaws.com"],
        ),
        with_condition(
            allow(
                "AppRunnerServiceLinkedRoles",
                &["iam:CreateServiceLinkedRole"],
                vec![
                    arn("iam::${AWS::AccountId}:role/aws-service-role/apprunner.amazonaws.com/AWSServiceRoleForAppRunner".into()),
                    arn("iam::${AWS::AccountId}:role/aws-service-role/networking.apprunner.amazonaws.com/AWSServiceRoleForAppRunnerNetworking".into()),
                ],
            ),
            "StringLike",
            "iam:AWSServiceName",
            &["apprunner.amazonaws.com", "networking.apprunner.amazonaws.com"],
        ),
    ]);
    if config
        .services
        .values()
        .any(|svc| svc.compute == apprun_config::Compute::EcsExpress)
    {
        s.extend([
            allow(
                "EcsExpressServices",
                &[
                    "ecs:CreateExpressGatewayService",
                    "ecs:DeleteExpressGatewayService",
                    "ecs:DescribeExpressGatewayService",
                    "ecs:DescribeServices",
                    "ecs:ListTagsForResource",
                    "ecs:TagResource",
                    "ecs:UntagResource",
                    "ecs:UpdateExpressGatewayService",
                ],
                vec![arn(format!("ecs:{here}:service/*/{id}-*"))],
            ),
            allow(
                "EcsDeployments",
                &["ecs:DescribeServiceDeployments"],
                vec![arn(format!("ecs:{here}:service-deployment/*/{id}-*/*"))],
            ),
            allow(
                "EcsServiceLogs",
                &[
                    "logs:CreateLogGroup",
                    "logs:DeleteLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:TagResource",
                ],
                vec![arn(format!("logs:{here}:log-group:/apprun/{id}/*"))],
            ),
            with_condition(
                allow(
                    "PassEcsRoles",
                    &["iam:GetRole", "iam:PassRole"],
                    vec![
                        arn(format!("iam::${{AWS::AccountId}}:role/{id}-ecs-execution")),
                        arn(format!(
                            "iam::${{AWS::AccountId}}:role/{id}-ecs-infrastructure"
                        )),
                        arn(format!("iam::${{AWS::AccountId}}:role/{id}-ecs-task")),
                    ],
                ),
                "StringEquals",
                "iam:PassedToService",
                &["ecs.amazonaws.com", "ecs-tasks.amazonaws.com"],
            ),
        ]);
    }
    s.into_iter().map(Value::Map).collect()
}
