//! The actors of a set of templates, derived from what the templates
//! declare (not listed per template): who acts with which role, under which
//! service principal, and which calls it makes.

use std::collections::BTreeMap;

use apprun_template::Value;

use super::buildspec;
use super::needs::{Call, Need, expand};
use super::world::{Rid, World, list};
use crate::schema;

/// One principal acting with a role of the checked set.
#[derive(Debug)]
pub(crate) struct Actor {
    /// The role it acts with, when the checked set has it.
    pub role: Option<Rid>,
    /// What the role value resolved to (for messages when not found).
    pub role_text: String,
    /// The service principal that assumes the role.
    pub principal: String,
    /// `CodePipeline (pipeline apprunner-nuxt3-dev)`.
    pub who: String,
    /// Where the actor names its role: (input, logical id, property path).
    pub site: (usize, String, String),
    pub needs: Vec<Need>,
    /// Things it does that the proof cannot judge (buildspec commands
    /// without a mapping...).
    pub unproven: Vec<String>,
}

/// Every actor of the checked set, in template order.
pub(crate) fn actors(world: &World<'_>) -> Vec<Actor> {
    let mut out = Vec::new();
    for (i, input) in world.inputs.iter().enumerate() {
        for (id, r) in &input.template.resources {
            let p = &r.properties;
            match r.kind.as_str() {
                "AWS::CodePipeline::Pipeline" => {
                    pipeline(world, i, id, p, &mut out);
                }
                "AWS::CodeBuild::Project" => codebuild(world, i, id, p, &mut out),
                "AWS::Events::Rule" => events(world, i, id, p, &mut out),
                "AWS::AppRunner::Service" => apprunner(world, i, id, p, &mut out),
                "AWS::ECS::ExpressGatewayService" => ecs(world, i, id, p, &mut out),
                _ => {}
            }
        }
    }
    out
}

fn actor(
    world: &World<'_>,
    at: usize,
    role: &Value,
    principal: &str,
    who: String,
    site: (String, String),
) -> Actor {
    Actor {
        role: world.role(at, role),
        role_text: world.text(at, role),
        principal: principal.to_owned(),
        who,
        site: (at, site.0, site.1),
        needs: Vec::new(),
        unproven: Vec::new(),
    }
}

fn call(arns: Vec<String>) -> Call {
    Call {
        arns,
        ..Call::default()
    }
}

fn s3_object(world: &World<'_>, bucket: &str) -> String {
    format!(
        "arn:{}:s3:::{bucket}/{}",
        world.partition,
        super::eval::UNKNOWN
    )
}

fn s3_bucket(world: &World<'_>, bucket: &str) -> String {
    format!("arn:{}:s3:::{bucket}", world.partition)
}

/// The artifact buckets of a pipeline (ArtifactStore or ArtifactStores).
fn artifact_buckets(world: &World<'_>, at: usize, p: &apprun_template::Map) -> Vec<String> {
    let mut stores: Vec<&Value> = p.get("ArtifactStore").into_iter().collect();
    for s in list(p.get("ArtifactStores")) {
        stores.extend(s.get("ArtifactStore"));
    }
    stores
        .iter()
        .filter_map(|s| s.get("Location"))
        .map(|l| world.text(at, l))
        .collect()
}

/// CodePipeline's role, and CloudFormation acting with each deploy
/// action's role. What each action needs is the CodePipeline User Guide's
/// "Manage the CodePipeline service role" page and the action reference
/// pages' "Service role policy permissions" sections.
fn pipeline(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    out: &mut Vec<Actor>,
) {
    let name = p
        .get("Name")
        .map(|n| world.text(at, n))
        .unwrap_or_else(|| id.to_owned());
    let buckets = artifact_buckets(world, at, p);
    let Some(role) = p.get("RoleArn") else {
        return;
    };
    let mut a = actor(
        world,
        at,
        role,
        "codepipeline.amazonaws.com",
        format!("CodePipeline (pipeline {name})"),
        (id.to_owned(), format!("Resources/{id}/Properties/RoleArn")),
    );
    let mut needs = Vec::new();
    // The user guide's minimum for the artifact store: bucket versioning,
    // ACL and location; object get, get version, put and put ACL.
    for b in &buckets {
        let why = format!("the artifact store {b} of pipeline {name}");
        for action in [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:PutObjectAcl",
        ] {
            expand(
                world,
                action,
                &call(vec![s3_object(world, b)]),
                &why,
                &mut needs,
                0,
            );
        }
        for action in [
            "s3:GetBucketVersioning",
            "s3:GetBucketAcl",
            "s3:GetBucketLocation",
        ] {
            expand(
                world,
                action,
                &call(vec![s3_bucket(world, b)]),
                &why,
                &mut needs,
                0,
            );
        }
    }
    for (s, stage) in list(p.get("Stages")).iter().enumerate() {
        for (n, action) in list(stage.get("Actions")).iter().enumerate() {
            let path = format!("Resources/{id}/Properties/Stages/{s}/Actions/{n}");
            let action_name = action
                .get("Name")
                .map(|v| world.text(at, v))
                .unwrap_or_default();
            let why = format!("action {action_name} of pipeline {name}");
            let config = action.get("Configuration");
            let conf = |k: &str| config.and_then(|c| c.get(k)).map(|v| world.text(at, v));
            let type_id = action.get("ActionTypeId");
            let provider = type_id
                .and_then(|t| t.get("Provider"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match provider {
                "CodeCommit" => {
                    let repo = conf("RepositoryName").unwrap_or_default();
                    let arn = format!(
                        "arn:{}:codecommit:{}:{}:{repo}",
                        world.partition, world.region, world.account
                    );
                    // The CodePipeline User Guide's service-role policy for
                    // CodeCommit sources.
                    for op in [
                        "codecommit:GetBranch",
                        "codecommit:GetCommit",
                        "codecommit:GetRepository",
                        "codecommit:UploadArchive",
                        "codecommit:GetUploadArchiveStatus",
                        "codecommit:CancelUploadArchive",
                    ] {
                        expand(world, op, &call(vec![arn.clone()]), &why, &mut needs, 0);
                    }
                }
                "CodeStarSourceConnection" => {
                    let conn = conf("ConnectionArn").unwrap_or_default();
                    // The action takes the connection's own service prefix.
                    let service = conn.split(':').nth(2).unwrap_or("codestar-connections");
                    let service = if service == "codeconnections" {
                        "codeconnections"
                    } else {
                        "codestar-connections"
                    };
                    expand(
                        world,
                        &format!("{service}:UseConnection"),
                        &call(vec![conn.clone()]),
                        &why,
                        &mut needs,
                        0,
                    );
                }
                "CodeBuild" => {
                    let project = conf("ProjectName").unwrap_or_default();
                    let arn = format!(
                        "arn:{}:codebuild:{}:{}:project/{project}",
                        world.partition, world.region, world.account
                    );
                    for op in ["codebuild:StartBuild", "codebuild:BatchGetBuilds"] {
                        expand(world, op, &call(vec![arn.clone()]), &why, &mut needs, 0);
                    }
                }
                "CloudFormation" => {
                    let stack = conf("StackName").unwrap_or_default();
                    let arn = format!(
                        "arn:{}:cloudformation:{}:{}:stack/{stack}/{}",
                        world.partition,
                        world.region,
                        world.account,
                        super::eval::UNKNOWN
                    );
                    let mode = conf("ActionMode").unwrap_or_default();
                    let ops: &[&str] = match mode.as_str() {
                        "CREATE_UPDATE" | "REPLACE_ON_FAILURE" => &[
                            "cloudformation:DescribeStacks",
                            "cloudformation:CreateStack",
                            "cloudformation:UpdateStack",
                        ],
                        "DELETE_ONLY" => &[
                            "cloudformation:DescribeStacks",
                            "cloudformation:DeleteStack",
                        ],
                        "CHANGE_SET_REPLACE" => &[
                            "cloudformation:DescribeStacks",
                            "cloudformation:DescribeChangeSet",
                            "cloudformation:CreateChangeSet",
                            "cloudformation:DeleteChangeSet",
                        ],
                        "CHANGE_SET_EXECUTE" => &[
                            "cloudformation:DescribeStacks",
                            "cloudformation:DescribeChangeSet",
                            "cloudformation:ExecuteChangeSet",
                        ],
                        _ => &["cloudformation:DescribeStacks"],
                    };
                    for op in ops {
                        expand(world, op, &call(vec![arn.clone()]), &why, &mut needs, 0);
                    }
                    if let Some(role) = config.and_then(|c| c.get("RoleArn")) {
                        let mut c = call(Vec::new());
                        c.roles.extend(world.role(at, role));
                        c.calling = vec!["cloudformation:CreateStack".into()];
                        if c.roles.is_empty() {
                            a.unproven.push(format!(
                                "{why} passes role {} to CloudFormation, which is not in the checked templates",
                                super::eval::show(&world.text(at, role))
                            ));
                        } else {
                            expand(world, "iam:PassRole", &c, &why, &mut needs, 0);
                        }
                        out.push(cloudformation(
                            world,
                            at,
                            role,
                            &stack,
                            &format!("{path}/Configuration/RoleArn"),
                            id,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    a.needs = needs;
    out.push(a);
}

/// CloudFormation acting with a role on one stack: every create, read,
/// update and delete handler permission of every resource of that stack
/// (CloudFormation calls the read handler after a create or update to
/// return the resource's attributes; the list handler only serves
/// resource listing and import, which a deploy does not do).
fn cloudformation(
    world: &World<'_>,
    at: usize,
    role: &Value,
    stack: &str,
    path: &str,
    id: &str,
) -> Actor {
    let mut a = actor(
        world,
        at,
        role,
        "cloudformation.amazonaws.com",
        format!("CloudFormation (deploying {stack})"),
        (id.to_owned(), path.to_owned()),
    );
    let Some(target) = world.stack_named(stack) else {
        a.unproven.push(format!(
            "stack {stack} is not among the checked templates, so what CloudFormation does there is not known"
        ));
        return a;
    };
    let t = world.inputs[target].template;
    for (rid, r) in &t.resources {
        let Some(schema) = schema::schema_of(&r.kind) else {
            a.unproven.push(format!(
                "{rid} ({}) has no vendored schema, so its handlers' permissions are not known",
                r.kind
            ));
            continue;
        };
        let rref: Rid = (target, rid.clone());
        let mut arns = vec![world.arn(&rref, 0)];
        let mut roles = Vec::new();
        let mut text_of_props = String::new();
        for v in r.properties.values() {
            v.walk(&mut |x| {
                if matches!(x, Value::String(_) | Value::Fn(_)) {
                    let s = world.text(target, x);
                    if s.starts_with("arn:") {
                        arns.push(s);
                    }
                    if let Some(role) = world.role(target, x) {
                        roles.push(role);
                    }
                }
            });
        }
        for k in r.properties.keys() {
            text_of_props.push_str(k);
        }
        roles.sort();
        roles.dedup();
        // What the service creates under documented names (App Runner's log groups).
        for (typ, names) in super::data::created_names(&r.kind) {
            let Some((service, rtype)) = typ.split_once(':') else {
                continue;
            };
            let Some(format) = super::data::service(service).and_then(|s| s.resources.get(rtype))
            else {
                continue;
            };
            for pattern in names {
                let name = pattern
                    .split("${")
                    .enumerate()
                    .map(|(n, part)| match (n, part.split_once('}')) {
                        (0, _) | (_, None) => part.to_owned(),
                        (_, Some((prop, rest))) => {
                            let v = r
                                .properties
                                .get(prop)
                                .map(|v| world.text(target, v))
                                .unwrap_or_else(|| super::eval::UNKNOWN.to_string());
                            format!("{v}{rest}")
                        }
                    })
                    .collect::<String>()
                    .replace('*', &super::eval::UNKNOWN.to_string());
                arns.push(world.fill(format, |var| {
                    (var.ends_with("GroupName") || var == "Name" || var == "RuleName")
                        .then(|| name.clone())
                }));
            }
        }
        let own = World::sar_type(&r.kind)
            .map(|(s, _)| s.to_owned())
            .unwrap_or_else(|| {
                r.kind
                    .split("::")
                    .nth(1)
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            });
        let mut vars = BTreeMap::new();
        if let Some(name) = world.name(&rref, 0) {
            vars.insert("Name".to_owned(), name);
        }
        // The four handlers CloudFormation calls for a stack's resources,
        // and the schema's `tagging.permissions` (what CloudFormation calls
        // when the resource's tags change).
        for handler in ["create", "read", "update", "delete", "tagging"] {
            let section = if handler == "tagging" {
                schema.get("tagging")
            } else {
                schema.get("handlers").and_then(|h| h.get(handler))
            };
            let perms: Vec<String> = section
                .and_then(|h| h.get("permissions"))
                .and_then(|p| p.as_array())
                .map(|p| {
                    p.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for perm in &perms {
                let service = perm.split(':').next().unwrap_or_default();
                if !involved(service, &own, &arns, &text_of_props) {
                    continue;
                }
                // The operations of the resource's own service are the ones
                // that pass roles (App Runner's CreateService, not the
                // events:PutTargets it also lists).
                let calling: Vec<String> = perms
                    .iter()
                    .filter(|x| x.split(':').next() == Some(own.as_str()))
                    .cloned()
                    .collect();
                let mut services: Vec<String> = arns
                    .iter()
                    .filter_map(|a| a.split(':').nth(2).map(str::to_owned))
                    .collect();
                services.push(own.clone());
                let c = Call {
                    arns: arns.clone(),
                    vars: vars.clone(),
                    roles: roles.clone(),
                    calling,
                    linked_roles: super::data::service_linked_roles(&r.kind),
                    subject: Some(rref.clone()),
                    services: Some(services),
                    ..Call::default()
                };
                let why = if handler == "tagging" {
                    format!(
                        "needed to change {rid}'s tags in stack {stack} (schema tagging permissions)"
                    )
                } else {
                    format!("needed by {rid}'s {handler} handler in stack {stack}")
                };
                expand(world, perm, &c, &why, &mut a.needs, 0);
            }
        }
    }
    a
}

/// Whether a handler permission of `service` applies to this resource: the
/// resource's own service and the services every handler uses on its own
/// behalf (IAM, logs, events, metrics) always; another service only when
/// the resource refers to it (an ARN of it, or EC2 networking properties).
/// Handler lists are the union over every shape of the resource (a web ACL
/// association lists the calls for every resource type it can protect).
fn involved(service: &str, own: &str, arns: &[String], props: &str) -> bool {
    if service == own || matches!(service, "iam" | "logs" | "events" | "cloudwatch") {
        return true;
    }
    if arns.iter().any(|a| a.split(':').nth(2) == Some(service)) {
        return true;
    }
    service == "ec2"
        && ["Subnet", "SecurityGroup", "Vpc"]
            .iter()
            .any(|k| props.contains(k))
}

/// A CodeBuild project's role: its logs, the artifacts of the pipelines
/// that run it, VPC access when it runs in a VPC (CodeBuild User Guide,
/// "Allow CodeBuild to access AWS services required to create a VPC network
/// interface"), and what its buildspec runs.
fn codebuild(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    out: &mut Vec<Actor>,
) {
    let Some(role) = p.get("ServiceRole") else {
        return;
    };
    let name = p
        .get("Name")
        .map(|n| world.text(at, n))
        .unwrap_or_else(|| id.to_owned());
    let mut a = actor(
        world,
        at,
        role,
        "codebuild.amazonaws.com",
        format!("CodeBuild (project {name})"),
        (
            id.to_owned(),
            format!("Resources/{id}/Properties/ServiceRole"),
        ),
    );
    let log_group = format!(
        "arn:{}:logs:{}:{}:log-group:/aws/codebuild/{name}",
        world.partition, world.region, world.account
    );
    let stream = format!("{log_group}:log-stream:{}", super::eval::UNKNOWN);
    let why = format!("project {name}'s build logs");
    expand(
        world,
        "logs:CreateLogGroup",
        &call(vec![log_group.clone()]),
        &why,
        &mut a.needs,
        0,
    );
    for op in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        expand(
            world,
            op,
            &call(vec![stream.clone()]),
            &why,
            &mut a.needs,
            0,
        );
    }
    // Pipelines whose CodeBuild actions run this project.
    for (i, input) in world.inputs.iter().enumerate() {
        for r in input.template.resources.values() {
            if r.kind != "AWS::CodePipeline::Pipeline" {
                continue;
            }
            let runs_it = list(r.properties.get("Stages")).iter().any(|s| {
                list(s.get("Actions")).iter().any(|act| {
                    act.get("Configuration")
                        .and_then(|c| c.get("ProjectName"))
                        .is_some_and(|v| world.text(i, v) == name)
                })
            });
            if !runs_it {
                continue;
            }
            for b in artifact_buckets(world, i, &r.properties) {
                let why = format!("the pipeline artifacts in {b} project {name} reads and writes");
                for op in ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"] {
                    expand(
                        world,
                        op,
                        &call(vec![s3_object(world, &b)]),
                        &why,
                        &mut a.needs,
                        0,
                    );
                }
            }
        }
    }
    if let Some(vpc) = p.get("VpcConfig") {
        let why = format!("project {name} runs in a VPC");
        for op in [
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeVpcs",
            "ec2:DeleteNetworkInterface",
        ] {
            expand(world, op, &call(Vec::new()), &why, &mut a.needs, 0);
        }
        let mut c = call(Vec::new());
        let mut subnets = Vec::new();
        for s in list(vpc.get("Subnets")) {
            let arn = format!(
                "arn:{}:ec2:{}:{}:subnet/{}",
                world.partition,
                world.region,
                world.account,
                world.text(at, s)
            );
            // The subnet's tags, when the checked set declares it.
            if let Some(rid) = world.target(at, s) {
                c.tags.insert(arn.clone(), world.tags(&rid));
            }
            subnets.push(arn);
        }
        subnets.sort();
        subnets.dedup();
        c.arns = subnets.clone();
        expand(
            world,
            "ec2:CreateNetworkInterface",
            &c,
            &why,
            &mut a.needs,
            0,
        );
        c.context.insert(
            "ec2:authorizedservice".into(),
            vec!["codebuild.amazonaws.com".into()],
        );
        for subnet in subnets {
            let mut c = c.clone();
            c.arns.clear();
            c.context.insert("ec2:subnet".into(), vec![subnet]);
            expand(
                world,
                "ec2:CreateNetworkInterfacePermission",
                &c,
                &why,
                &mut a.needs,
                0,
            );
        }
    }
    let spec = p
        .get("Source")
        .and_then(|s| s.get("BuildSpec"))
        .and_then(Value::as_str);
    if let Some(spec) = spec {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        env.insert("AWS_REGION".into(), world.region.clone());
        env.insert("AWS_DEFAULT_REGION".into(), world.region.clone());
        env.insert("AWS_ACCOUNT_ID".into(), world.account.clone());
        for v in list(
            p.get("Environment")
                .and_then(|e| e.get("EnvironmentVariables")),
        ) {
            let (Some(n), Some(val)) = (v.get("Name").and_then(Value::as_str), v.get("Value"))
            else {
                continue;
            };
            let plain = v
                .get("Type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "PLAINTEXT");
            let value = if plain {
                world.text(at, val)
            } else {
                super::eval::UNKNOWN.to_string()
            };
            env.insert(n.to_owned(), value);
        }
        buildspec::needs(world, &name, spec, &env, &mut a);
    }
    out.push(a);
}

/// An EventBridge rule's targets that act with a role.
fn events(world: &World<'_>, at: usize, id: &str, p: &apprun_template::Map, out: &mut Vec<Actor>) {
    for (n, t) in list(p.get("Targets")).iter().enumerate() {
        let Some(role) = t.get("RoleArn") else {
            continue;
        };
        let arn = t.get("Arn").map(|v| world.text(at, v)).unwrap_or_default();
        let mut a = actor(
            world,
            at,
            role,
            "events.amazonaws.com",
            format!("EventBridge (rule {id}, target {n})"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/Targets/{n}/RoleArn"),
            ),
        );
        let why = format!("rule {id} starts {}", super::eval::show(&arn));
        match arn.split(':').nth(2) {
            Some("codepipeline") => {
                expand(
                    world,
                    "codepipeline:StartPipelineExecution",
                    &call(vec![arn.clone()]),
                    &why,
                    &mut a.needs,
                    0,
                );
            }
            Some("codebuild") => {
                expand(
                    world,
                    "codebuild:StartBuild",
                    &call(vec![arn.clone()]),
                    &why,
                    &mut a.needs,
                    0,
                );
            }
            _ => a.unproven.push(format!(
                "{why}: apprun does not know what this target needs"
            )),
        }
        out.push(a);
    }
}

/// The ECR repository ARN of an image URI in a private ECR registry.
pub(crate) fn ecr_repository(world: &World<'_>, image: &str) -> Option<String> {
    let (host, rest) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let repo = rest
        .split('@')
        .next()
        .unwrap_or(rest)
        .rsplit_once(':')
        .map_or(rest, |(r, _)| r);
    Some(format!(
        "arn:{}:ecr:{region}:{account}:repository/{repo}",
        world.partition
    ))
}

fn ecr_pull(world: &World<'_>, image: &str, why: &str, a: &mut Actor) {
    expand(
        world,
        "ecr:GetAuthorizationToken",
        &call(Vec::new()),
        why,
        &mut a.needs,
        0,
    );
    match ecr_repository(world, image) {
        Some(repo) => {
            for op in [
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
            ] {
                expand(world, op, &call(vec![repo.clone()]), why, &mut a.needs, 0);
            }
        }
        None => a.unproven.push(format!(
            "{why}: image {} is not recognizably in a private ECR registry",
            super::eval::show(image)
        )),
    }
}

/// App Runner's access role pulls the service's image from ECR; the
/// instance role is assumed by the running service.
fn apprunner(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    out: &mut Vec<Actor>,
) {
    let source = p.get("SourceConfiguration");
    let image_repo = source.and_then(|s| s.get("ImageRepository"));
    let is_ecr = image_repo
        .and_then(|i| i.get("ImageRepositoryType"))
        .and_then(Value::as_str)
        == Some("ECR");
    if let Some(role) = source
        .and_then(|s| s.get("AuthenticationConfiguration"))
        .and_then(|a| a.get("AccessRoleArn"))
    {
        let mut a = actor(
            world,
            at,
            role,
            "build.apprunner.amazonaws.com",
            format!("App Runner (service {id}, access role)"),
            (
                id.to_owned(),
                format!(
                    "Resources/{id}/Properties/SourceConfiguration/AuthenticationConfiguration/AccessRoleArn"
                ),
            ),
        );
        if is_ecr && let Some(image) = image_repo.and_then(|i| i.get("ImageIdentifier")) {
            let image = world.text(at, image);
            ecr_pull(
                world,
                &image,
                &format!("service {id} pulls its image"),
                &mut a,
            );
            if let Some(repo) = ecr_repository(world, &image) {
                expand(
                    world,
                    "ecr:DescribeImages",
                    &call(vec![repo]),
                    &format!("service {id} pulls its image"),
                    &mut a.needs,
                    0,
                );
            }
        }
        out.push(a);
    }
    if let Some(role) = p
        .get("InstanceConfiguration")
        .and_then(|i| i.get("InstanceRoleArn"))
    {
        out.push(actor(
            world,
            at,
            role,
            "tasks.apprunner.amazonaws.com",
            format!("App Runner (service {id}, instance role)"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/InstanceConfiguration/InstanceRoleArn"),
            ),
        ));
    }
}

/// ECS Express: the execution role pulls the image and writes the logs;
/// the infrastructure role is ECS's; the task role the running tasks'.
fn ecs(world: &World<'_>, at: usize, id: &str, p: &apprun_template::Map, out: &mut Vec<Actor>) {
    let container = p.get("PrimaryContainer");
    if let Some(role) = p.get("ExecutionRoleArn") {
        let mut a = actor(
            world,
            at,
            role,
            "ecs-tasks.amazonaws.com",
            format!("ECS (service {id}, execution role)"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/ExecutionRoleArn"),
            ),
        );
        if let Some(image) = container.and_then(|c| c.get("Image")) {
            let image = world.text(at, image);
            ecr_pull(
                world,
                &image,
                &format!("service {id}'s tasks pull their image"),
                &mut a,
            );
        }
        if let Some(group) = container
            .and_then(|c| c.get("AwsLogsConfiguration"))
            .and_then(|l| l.get("LogGroup"))
        {
            let group = world.text(at, group);
            let stream = format!(
                "arn:{}:logs:{}:{}:log-group:{group}:log-stream:{}",
                world.partition,
                world.region,
                world.account,
                super::eval::UNKNOWN
            );
            for op in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                expand(
                    world,
                    op,
                    &call(vec![stream.clone()]),
                    &format!("service {id}'s tasks write their logs"),
                    &mut a.needs,
                    0,
                );
            }
        }
        out.push(a);
    }
    for (prop, principal, what) in [
        (
            "InfrastructureRoleArn",
            "ecs.amazonaws.com",
            "infrastructure role",
        ),
        ("TaskRoleArn", "ecs-tasks.amazonaws.com", "task role"),
    ] {
        if let Some(role) = p.get(prop) {
            out.push(actor(
                world,
                at,
                role,
                principal,
                format!("ECS (service {id}, {what})"),
                (id.to_owned(), format!("Resources/{id}/Properties/{prop}")),
            ));
        }
    }
}
