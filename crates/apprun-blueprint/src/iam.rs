//! The per-account IAM stack: App Runner's access and instance roles and the
//! pipeline role.
//!
//! The reference gives its pipeline role ten *FullAccess managed policies
//! and `iam:PassRole` on `*`. We keep one pipeline role (the reference's
//! topology) but grant only what the pipeline does, on resources named after
//! the system id.

use std::collections::{BTreeMap, BTreeSet};

use apprun_config::{
    Compute, Config, Env, Ingress, Names, SecretRef, SecretStore, SourceKind, runtime_names,
};
use apprun_template::{Map, Output, Resource, Template, Value, get_att, map, r#ref, sub};

use crate::ids::pascal;
use crate::policy::{allow, document, trust, with_condition, with_condition_values};
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

/// The IAM stack as deployed with `env`: the roles shared by every env,
/// and the own roles of the envs in `env`'s account only (the stack has
/// one name in every account; another account's roles would be created
/// here, and deploying that account's envs would rewrite this one's).
pub(crate) fn template(config: &Config, env: &Env) -> Template {
    let id = &config.system.id;
    let mut t = Template {
        description: Some(format!(
            "{id}: IAM roles shared by every environment of this account (apprun)"
        )),
        ..Template::default()
    };
    add_app_runner_roles(&mut t, config);
    add_service_roles(&mut t, config, env);
    add_pipeline_role(&mut t, config, env);
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

/// A service in an env of `env`'s account that runs with a role of its own
/// (see `Config::runs_with_own_role`): (env, service, compute, role name),
/// envs in file order, services in env order.
fn own_roles(config: &Config, env: &Env) -> Vec<(String, String, Compute, String)> {
    let id = &config.system.id;
    let mut out = Vec::new();
    for e in config.envs_of_account(&env.name) {
        for service in e.services.keys() {
            let compute = config.services.get(service).map(|svc| svc.compute);
            if let (true, Some(compute)) = (config.runs_with_own_role(&e.name, service), compute) {
                let name = runtime_names::service_role(id, &e.name, service);
                out.push((e.name.clone(), service.clone(), compute, name));
            }
        }
    }
    out
}

/// The names of the own roles of services on `compute` in `env`'s
/// account, for `iam:PassRole`.
fn own_role_names(config: &Config, env: &Env, compute: Compute) -> Vec<String> {
    own_roles(config, env)
        .into_iter()
        .filter(|(_, _, c, _)| *c == compute)
        .map(|(_, _, _, name)| name)
        .collect()
}

/// One role per env and service that runs with its own (it reads secrets
/// or writes traces in an env of this account), granted exactly that
/// service's secrets in that env on top of what the shared role it
/// replaces has (App Runner: the instance role's table access; ECS: the
/// execution role's image pull and logs); an env without secrets or traces
/// gets no grant of its own. Here rather than in the service stack: this
/// stack is deployed by apprun only, so the pipeline role, which deploys
/// the service stacks, needs no IAM write. Roles are shared by the envs of
/// an account, so one role for all would let dev read prod's secrets.
fn add_service_roles(t: &mut Template, config: &Config, env: &Env) {
    let id = &config.system.id;
    for (env, service, compute, name) in own_roles(config, env) {
        let Some(settings) = config.service_settings(&env, &service) else {
            continue;
        };
        let mut statements = secret_read_statements(&settings.runtime.secrets);
        if settings.tracing {
            statements.extend(xray_statements());
        }
        // IAM refuses a policy without statements.
        let own: Option<Value> = (!statements.is_empty()).then(|| {
            map! {
                "PolicyName" => "secrets-and-traces",
                "PolicyDocument" => document(statements.into_iter().map(Value::Map).collect()),
            }
            .into()
        });
        let mut props = match compute {
            Compute::AppRunner => map! {
                "RoleName" => name.as_str(),
                "Description" => format!("Service {service} in env {env}: the instance role's permissions and its own secrets"),
                "AssumeRolePolicyDocument" => trust(&["tasks.apprunner.amazonaws.com"]),
                "Policies" => [Some(system_tables_policy(id)), own].into_iter().flatten().collect::<Vec<Value>>(),
            },
            Compute::EcsExpress => {
                let mut m = map! {
                    "RoleName" => name.as_str(),
                    "Description" => format!("Service {service} in env {env}: the ECS execution role's permissions and its own secrets"),
                    "AssumeRolePolicyDocument" => trust(&["ecs-tasks.amazonaws.com"]),
                    "ManagedPolicyArns" => vec![sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")],
                };
                if let Some(own) = own {
                    m.insert("Policies".into(), vec![own].into());
                }
                m
            }
        };
        props.insert("Tags".into(), account_tags(id));
        t.resources.insert(
            format!("RunRole{}{}", pascal(&env), pascal(&service)),
            Resource::new("AWS::IAM::Role", props),
        );
    }
}

/// Read access to exactly these secrets: `ssm:GetParameters` on each
/// parameter, `secretsmanager:GetSecretValue` on each secret (a name or a
/// partial ARN matches the secret's ARN with the 6 characters Secrets
/// Manager appends), and `kms:Decrypt` on each named customer managed key
/// only through the service that stores the value (`kms:ViaService`).
pub(crate) fn secret_read_statements(secrets: &BTreeMap<String, SecretRef>) -> Vec<Map> {
    let mut parameters = BTreeSet::new();
    let mut secret_arns = BTreeSet::new();
    // KMS key -> the services that decrypt with it, as `kms:ViaService` values.
    let mut keys: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in secrets.values() {
        let arn = secret_arn_pattern(s);
        match s.store {
            SecretStore::Ssm => parameters.insert(arn),
            SecretStore::SecretsManager => secret_arns.insert(arn),
        };
        if let Some(key) = &s.kms_key {
            let region = s.arn_region().unwrap_or("${AWS::Region}");
            keys.entry(key)
                .or_default()
                .insert(format!("{}.{region}.${{AWS::URLSuffix}}", s.store.as_str()));
        }
    }
    let as_values =
        |set: BTreeSet<String>| -> Vec<Value> { set.into_iter().map(text_or_sub).collect() };
    let mut out = Vec::new();
    if !parameters.is_empty() {
        out.push(allow(
            "ReadParameters",
            &["ssm:GetParameters"],
            as_values(parameters),
        ));
    }
    if !secret_arns.is_empty() {
        out.push(allow(
            "ReadSecrets",
            &["secretsmanager:GetSecretValue"],
            as_values(secret_arns),
        ));
    }
    // Keys decrypted through the same services share a statement.
    let mut by_via: BTreeMap<BTreeSet<String>, Vec<Value>> = BTreeMap::new();
    for (key, via) in keys {
        by_via.entry(via).or_default().push(Value::from(key));
    }
    for (i, (via, keys)) in by_via.into_iter().enumerate() {
        let sid = if i == 0 {
            "DecryptSecrets".to_owned()
        } else {
            format!("DecryptSecrets{}", i + 1)
        };
        out.push(with_condition_values(
            allow(&sid, &["kms:Decrypt"], keys),
            "StringEquals",
            "kms:ViaService",
            via.into_iter().map(text_or_sub).collect(),
        ));
    }
    out
}

/// The IAM resource a secret is read as: its ARN, or this account's and
/// region's ARN for a name; Secrets Manager names and partial ARNs end in
/// `-??????` (the random suffix).
fn secret_arn_pattern(s: &SecretRef) -> String {
    let here = "arn:${AWS::Partition}";
    match (s.store, s.is_arn()) {
        (SecretStore::Ssm, true) => s.id.clone(),
        (SecretStore::Ssm, false) => format!(
            "{here}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}",
            s.id.trim_start_matches('/')
        ),
        (SecretStore::SecretsManager, true) if s.is_complete_secret_arn() => s.id.clone(),
        (SecretStore::SecretsManager, true) => format!("{}-??????", s.id),
        (SecretStore::SecretsManager, false) => format!(
            "{here}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{}-??????",
            s.id
        ),
    }
}

/// A literal string, or a `Sub` when it names pseudo parameters.
fn text_or_sub(s: String) -> Value {
    if s.contains("${") {
        sub(s)
    } else {
        Value::from(s)
    }
}

/// What App Runner's tracing needs from the instance role: the X-Ray write
/// actions of the AWSXRayDaemonWriteAccess managed policy (App Runner's
/// OpenTelemetry collector sends the traces with the instance role). They
/// take no resources.
fn xray_statements() -> Vec<Map> {
    vec![allow(
        "WriteTraces",
        &[
            "xray:GetSamplingRules",
            "xray:GetSamplingStatisticSummaries",
            "xray:GetSamplingTargets",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ],
        vec!["*".into()],
    )]
}

/// The pipeline's role, with its extra managed policies.
fn add_pipeline_role(t: &mut Template, config: &Config, env: &Env) {
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
                    "PolicyDocument" => document(pipeline_statements(config, env)),
                }],
                "Tags" => account_tags(id),
            },
        ),
    );
    for p in pipeline_extra_policies(config, env) {
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
pub(crate) fn system_tables_policy(id: &str) -> Value {
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
/// What the `AWS::Logs::LogGroup` handlers list that the Service
/// Authorization Reference scopes to a log group: granted on apprun's log
/// groups (a service's, a job's) to the role that deploys them.
pub(crate) const LOG_GROUP_HANDLER_ACTIONS: &[&str] = &[
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
];

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
fn pipeline_statements(config: &Config, env: &Env) -> Vec<Value> {
    let mut s = artifact_statements(&config.system.id);
    s.extend(source_statements(config));
    s.extend(build_statements(&config.system.id, !config.jobs.is_empty()));
    s.extend(apprunner_statements(config, env));
    s.extend(waf_statements(&config.system.id));
    s.into_iter().map(Value::Map).collect()
}

/// The pipeline role's grants for what only some configs use, each in a
/// customer managed policy attached to the role: IAM caps a role's inline
/// policies at 10,240 characters in all, which the ECS Express grants would
/// exceed with a long system id, while each managed policy has 6,144 of its
/// own.
fn pipeline_extra_policies(config: &Config, env: &Env) -> Vec<ExtraPolicy> {
    let id = &config.system.id;
    let mut extra = Vec::new();
    if config.uses(apprun_config::Compute::EcsExpress) {
        extra.push(ExtraPolicy::new(
            "PipelineEcsExpressPolicy",
            format!("{id}-pipeline-ecs-express"),
            "What the pipeline role needs to deploy and verify ECS Express services",
            ecs_express_statements(id, &own_role_names(config, env, Compute::EcsExpress)),
        ));
    }
    if uses_app_runner_configurations(config) {
        extra.push(ExtraPolicy::new(
            "PipelineAppRunnerConfigurationsPolicy",
            format!("{id}-pipeline-apprunner-configurations"),
            "What the pipeline role needs to manage App Runner auto scaling and observability configurations",
            app_runner_configuration_statements(id),
        ));
    }
    let jobs = crate::iam_jobs::pipeline_statements(config);
    if !jobs.is_empty() {
        extra.push(ExtraPolicy::new(
            "PipelineJobsPolicy",
            format!("{id}-pipeline-jobs"),
            "What the pipeline role needs to deploy the job stacks",
            jobs,
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
/// `with_jobs`: the pipeline's deploy stage also creates and updates the
/// job stacks (`${id}-${env}-job-${name}`).
fn build_statements(id: &str, with_jobs: bool) -> Vec<Map> {
    let mut stacks = vec![
        regional("cloudformation", &format!("stack/{id}-*-service-*/*")),
        regional("cloudformation", &format!("stack/{id}-*-ecs-*/*")),
    ];
    if with_jobs {
        stacks.push(regional("cloudformation", &format!("stack/{id}-*-job-*/*")));
    }
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
            stacks,
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
fn apprunner_statements(config: &Config, env: &Env) -> Vec<Map> {
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
        {
            let mut resources = vec![
                own("service"),
                own("vpcconnector"),
                own("vpcingressconnection"),
            ];
            // CreateService and UpdateService are also authorized on the
            // auto scaling and observability configurations they name.
            if uses_app_runner_configurations(config) {
                resources.extend(app_runner_configurations(id));
            }
            resources
        },
    )];
    statements.extend(apprunner_side_statements(config, env));
    statements
}

/// Whether any App Runner service has an auto scaling or observability
/// configuration in some env. Like the ECS Express grants, these are given
/// only to configs that use them: a config that drops the keys has
/// CloudFormation delete the configurations in its cleanup phase, which
/// then fails without failing the update and leaves the (free)
/// configuration revision behind.
fn uses_app_runner_configurations(config: &Config) -> bool {
    config.envs.values().any(|e| {
        e.services.iter().any(|(name, s)| {
            config
                .services
                .get(name)
                .is_some_and(|svc| svc.compute == Compute::AppRunner)
                && (s.app_runner_scaling.is_some() || s.tracing)
        })
    })
}

/// The ARN patterns of this system's App Runner configurations.
fn app_runner_configurations(id: &str) -> Vec<Value> {
    ["autoscalingconfiguration", "observabilityconfiguration"]
        .iter()
        .map(|kind| regional("apprunner", &format!("{kind}/{id}-*")))
        .collect()
}

/// The handlers of AWS::AppRunner::AutoScalingConfiguration and
/// ::ObservabilityConfiguration (their schemas' `handlers.*.permissions`
/// and `tagging.permissions`), on configurations named `${id}-…`.
fn app_runner_configuration_statements(id: &str) -> Vec<Map> {
    vec![allow(
        "AppRunnerConfigurations",
        &[
            "apprunner:CreateAutoScalingConfiguration",
            "apprunner:CreateObservabilityConfiguration",
            "apprunner:DeleteAutoScalingConfiguration",
            "apprunner:DeleteObservabilityConfiguration",
            "apprunner:DescribeAutoScalingConfiguration",
            "apprunner:DescribeObservabilityConfiguration",
        ],
        app_runner_configurations(id),
    )]
}

/// App Runner, continued: what the Service's handlers have App Runner do
/// with the caller's permissions (log groups, EventBridge rules, EC2
/// lookups), passing the pipeline role, and the service-linked roles.
fn apprunner_side_statements(config: &Config, env: &Env) -> Vec<Map> {
    let id = &config.system.id;
    let names = Names::new(id);
    let mut app_runner_roles = vec![role(&names.access_role()), role(&names.instance_role())];
    // The instance roles of services with secrets or tracing, in this
    // account.
    app_runner_roles.extend(
        own_role_names(config, env, Compute::AppRunner)
            .iter()
            .map(|r| role(r)),
    );
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
            allow("PassAppRunnerRoles", &["iam:PassRole"], app_runner_roles),
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
fn ecs_express_statements(id: &str, own_roles: &[String]) -> Vec<Map> {
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
    statements.extend(ecs_log_and_role_statements(id, own_roles));
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
fn ecs_log_and_role_statements(id: &str, own_roles: &[String]) -> Vec<Map> {
    let ecs_role = |suffix: &str| role(&format!("{id}-ecs-{suffix}"));
    let mut passed = vec![
        ecs_role("execution"),
        ecs_role("infrastructure"),
        ecs_role("task"),
    ];
    // The execution roles of services with secrets (see `add_service_roles`).
    passed.extend(own_roles.iter().map(|r| role(r)));
    vec![
        // The service's log group `/apprun/${id}/${env}/${service}`: every
        // permission the LogGroup handlers list that the reference scopes to a
        // log group.
        allow(
            "EcsServiceLogs",
            LOG_GROUP_HANDLER_ACTIONS,
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
            allow("PassEcsRoles", &["iam:PassRole"], passed),
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
