//! The actors of a set of templates, derived from what the templates
//! declare (not listed per template): who acts with which role, under which
//! service principal, and which calls it makes.

use std::collections::BTreeMap;

use apprun_template::Value;

use super::buildspec;
use super::needs::{Call, Need, expand};
use super::runtime;
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
                "AWS::ECS::TaskDefinition" => task_definition(world, i, id, p, &mut out),
                "AWS::Scheduler::Schedule" => schedule(world, i, id, p, &mut out),
                "AWS::Pipes::Pipe" => pipe(world, i, id, p, &mut out),
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
    for b in &artifact_buckets(world, at, p) {
        artifact_store_needs(world, b, &name, &mut needs);
    }
    for (s, stage) in list(p.get("Stages")).iter().enumerate() {
        for (n, action) in list(stage.get("Actions")).iter().enumerate() {
            let action_name = action
                .get("Name")
                .map(|v| world.text(at, v))
                .unwrap_or_default();
            let step = PipelineAction {
                world,
                at,
                pipeline_id: id,
                path: format!("Resources/{id}/Properties/Stages/{s}/Actions/{n}"),
                why: format!("action {action_name} of pipeline {name}"),
                config: action.get("Configuration"),
            };
            let provider = action
                .get("ActionTypeId")
                .and_then(|t| t.get("Provider"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match provider {
                "CodeCommit" => step.codecommit(&mut needs),
                "CodeStarSourceConnection" => step.connection(&mut needs),
                "CodeBuild" => step.codebuild(&mut needs),
                "CloudFormation" => step.cloudformation(&mut a, &mut needs, out),
                _ => {}
            }
        }
    }
    a.needs = needs;
    out.push(a);
}

/// The user guide's minimum for the artifact store: bucket versioning, ACL
/// and location; object get, get version, put and put ACL.
fn artifact_store_needs(world: &World<'_>, bucket: &str, pipeline: &str, needs: &mut Vec<Need>) {
    let why = format!("the artifact store {bucket} of pipeline {pipeline}");
    let object = call(vec![s3_object(world, bucket)]);
    for action in [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:PutObjectAcl",
    ] {
        expand(world, action, &object, &why, needs, 0);
    }
    let whole = call(vec![s3_bucket(world, bucket)]);
    for action in [
        "s3:GetBucketVersioning",
        "s3:GetBucketAcl",
        "s3:GetBucketLocation",
    ] {
        expand(world, action, &whole, &why, needs, 0);
    }
}

/// One action of a pipeline's stage, and what CodePipeline's role needs to
/// run it, per provider.
struct PipelineAction<'a> {
    world: &'a World<'a>,
    at: usize,
    pipeline_id: &'a str,
    path: String,
    why: String,
    config: Option<&'a Value>,
}

impl PipelineAction<'_> {
    fn conf(&self, key: &str) -> String {
        self.config
            .and_then(|c| c.get(key))
            .map(|v| self.world.text(self.at, v))
            .unwrap_or_default()
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        let w = self.world;
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            w.partition, w.region, w.account
        )
    }

    fn need_all(&self, ops: &[&str], arn: &str, needs: &mut Vec<Need>) {
        for op in ops {
            expand(
                self.world,
                op,
                &call(vec![arn.to_owned()]),
                &self.why,
                needs,
                0,
            );
        }
    }

    /// The CodePipeline User Guide's service-role policy for CodeCommit sources.
    fn codecommit(&self, needs: &mut Vec<Need>) {
        let arn = self.arn("codecommit", &self.conf("RepositoryName"));
        self.need_all(
            &[
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:UploadArchive",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:CancelUploadArchive",
            ],
            &arn,
            needs,
        );
    }

    /// A connection source: the action takes the connection's own service
    /// prefix (`codeconnections` or the older `codestar-connections`).
    fn connection(&self, needs: &mut Vec<Need>) {
        let conn = self.conf("ConnectionArn");
        let service = match conn.split(':').nth(2) {
            Some("codeconnections") => "codeconnections",
            _ => "codestar-connections",
        };
        self.need_all(&[&format!("{service}:UseConnection")], &conn, needs);
    }

    fn codebuild(&self, needs: &mut Vec<Need>) {
        let arn = self.arn(
            "codebuild",
            &format!("project/{}", self.conf("ProjectName")),
        );
        self.need_all(
            &["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
            &arn,
            needs,
        );
    }

    /// A CloudFormation deploy action: the stack calls of its action mode,
    /// passing the action's role, and CloudFormation itself as an actor
    /// with that role.
    fn cloudformation(&self, pipeline: &mut Actor, needs: &mut Vec<Need>, out: &mut Vec<Actor>) {
        let stack = self.conf("StackName");
        let arn = self.arn(
            "cloudformation",
            &format!("stack/{stack}/{}", super::eval::UNKNOWN),
        );
        let ops: &[&str] = match self.conf("ActionMode").as_str() {
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
        self.need_all(ops, &arn, needs);
        let Some(role) = self.config.and_then(|c| c.get("RoleArn")) else {
            return;
        };
        let mut c = call(Vec::new());
        c.roles.extend(self.world.role(self.at, role));
        c.calling = vec!["cloudformation:CreateStack".into()];
        if c.roles.is_empty() {
            pipeline.unproven.push(format!(
                "{} passes role {} to CloudFormation, which is not in the checked templates",
                self.why,
                super::eval::show(&self.world.text(self.at, role))
            ));
        } else {
            expand(self.world, "iam:PassRole", &c, &self.why, needs, 0);
        }
        out.push(cloudformation(
            self.world,
            self.at,
            role,
            &stack,
            &format!("{}/Configuration/RoleArn", self.path),
            self.pipeline_id,
        ));
    }
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
    for (rid, r) in &world.inputs[target].template.resources {
        let Some(schema) = schema::schema_of(&r.kind) else {
            a.unproven.push(format!(
                "{rid} ({}) has no vendored schema, so its handlers' permissions are not known",
                r.kind
            ));
            continue;
        };
        let resource = StackResource::read(world, target, rid, r);
        resource.handler_needs(world, &schema, stack, &mut a.needs);
    }
    a
}

/// What CloudFormation's handlers touch when they act on one resource: the
/// ARNs and roles its properties name, and what its service creates.
struct StackResource<'a> {
    rid: &'a str,
    rref: Rid,
    /// The resource's own service prefix (`apprunner`).
    own: String,
    arns: Vec<String>,
    roles: Vec<Rid>,
    /// Its property names run together, to spot networking properties.
    property_names: String,
    vars: BTreeMap<String, String>,
    kind: &'a str,
}

impl<'a> StackResource<'a> {
    fn read(
        world: &World<'_>,
        target: usize,
        rid: &'a str,
        r: &'a apprun_template::Resource,
    ) -> Self {
        let rref: Rid = (target, rid.to_owned());
        let mut arns = vec![world.arn(&rref, 0)];
        let mut roles = Vec::new();
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
        roles.sort();
        roles.dedup();
        arns.extend(created_name_arns(world, target, r));
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
        StackResource {
            rid,
            rref,
            own,
            arns,
            roles,
            property_names: r.properties.keys().map(|k| k.as_str()).collect(),
            vars,
            kind: &r.kind,
        }
    }

    /// The four handlers CloudFormation calls for a stack's resources, and
    /// the schema's `tagging.permissions` (what CloudFormation calls when
    /// the resource's tags change).
    fn handler_needs(
        &self,
        world: &World<'_>,
        schema: &serde_json::Value,
        stack: &str,
        needs: &mut Vec<Need>,
    ) {
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
            let why = if handler == "tagging" {
                format!(
                    "needed to change {}'s tags in stack {stack} (schema tagging permissions)",
                    self.rid
                )
            } else {
                format!(
                    "needed by {}'s {handler} handler in stack {stack}",
                    self.rid
                )
            };
            let c = self.call(&perms);
            for perm in &perms {
                let service = perm.split(':').next().unwrap_or_default();
                if self.unused(world, perm) {
                    continue;
                }
                if involved(service, &self.own, &self.arns, &self.property_names) {
                    expand(world, perm, &c, &why, needs, 0);
                }
            }
        }
    }

    /// Whether a handler permission serves only a property this resource
    /// does not set ([`ONLY_WITH`]).
    fn unused(&self, world: &World<'_>, perm: &str) -> bool {
        ONLY_WITH.iter().any(|(kind, p, property)| {
            *kind == self.kind
                && p.eq_ignore_ascii_case(perm)
                && world
                    .resource(&self.rref)
                    .is_some_and(|r| !r.properties.contains_key(*property))
        })
    }

    /// The call a handler's permissions make. The operations of the
    /// resource's own service are the ones that pass roles (App Runner's
    /// CreateService, not the events:PutTargets it also lists).
    fn call(&self, perms: &[String]) -> Call {
        let calling: Vec<String> = perms
            .iter()
            .filter(|x| x.split(':').next() == Some(self.own.as_str()))
            .cloned()
            .collect();
        let mut services: Vec<String> = self
            .arns
            .iter()
            .filter_map(|a| a.split(':').nth(2).map(str::to_owned))
            .collect();
        services.push(self.own.clone());
        Call {
            arns: self.arns.clone(),
            vars: self.vars.clone(),
            roles: self.roles.clone(),
            calling,
            linked_roles: super::data::service_linked_roles(self.kind),
            subject: Some(self.rref.clone()),
            services: Some(services),
            ..Call::default()
        }
    }
}

/// Handler permissions that serve one property only: (type, permission,
/// property). The Pipes schema lists `iam:CreateServiceLinkedRole` in its
/// create and update handlers next to the CloudWatch Logs vended-log
/// delivery calls (`logs:CreateLogDelivery`...) and nowhere else (not in
/// delete, read or list): it is the log delivery's service-linked role
/// (AWSServiceRoleForLogDelivery, for a Firehose destination: the CloudWatch
/// Logs User Guide's "Enable logging from AWS services"), which a pipe
/// without `LogConfiguration` never sets up.
const ONLY_WITH: &[(&str, &str, &str)] = &[(
    "AWS::Pipes::Pipe",
    "iam:CreateServiceLinkedRole",
    "LogConfiguration",
)];

/// ARNs of what the service creates under documented names for a resource
/// (App Runner's log groups), filled from the resource's properties.
fn created_name_arns(
    world: &World<'_>,
    target: usize,
    r: &apprun_template::Resource,
) -> Vec<String> {
    let mut arns = Vec::new();
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
    arns
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
/// that run it, VPC access when it runs in a VPC, and what its buildspec runs.
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
    build_log_needs(world, &name, &mut a.needs);
    build_artifact_needs(world, &name, &mut a.needs);
    if let Some(vpc) = p.get("VpcConfig") {
        build_vpc_needs(world, at, &name, vpc, &mut a.needs);
    }
    let spec = p
        .get("Source")
        .and_then(|s| s.get("BuildSpec"))
        .and_then(Value::as_str);
    if let Some(spec) = spec {
        let env = build_environment(world, at, p);
        buildspec::needs(world, &name, spec, &env, &mut a);
    }
    out.push(a);
}

/// The project's log group and streams under CodeBuild's default name.
fn build_log_needs(world: &World<'_>, name: &str, needs: &mut Vec<Need>) {
    let log_group = format!(
        "arn:{}:logs:{}:{}:log-group:/aws/codebuild/{name}",
        world.partition, world.region, world.account
    );
    let stream = format!("{log_group}:log-stream:{}", super::eval::UNKNOWN);
    let why = format!("project {name}'s build logs");
    expand(
        world,
        "logs:CreateLogGroup",
        &call(vec![log_group]),
        &why,
        needs,
        0,
    );
    for op in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        expand(world, op, &call(vec![stream.clone()]), &why, needs, 0);
    }
}

/// The artifacts of every pipeline whose CodeBuild actions run this project.
fn build_artifact_needs(world: &World<'_>, name: &str, needs: &mut Vec<Need>) {
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
                let object = call(vec![s3_object(world, &b)]);
                for op in ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"] {
                    expand(world, op, &object, &why, needs, 0);
                }
            }
        }
    }
}

/// A project in a VPC: the CodeBuild User Guide's "Allow CodeBuild to access
/// AWS services required to create a VPC network interface".
fn build_vpc_needs(world: &World<'_>, at: usize, name: &str, vpc: &Value, needs: &mut Vec<Need>) {
    let why = format!("project {name} runs in a VPC");
    for op in [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:DeleteNetworkInterface",
    ] {
        expand(world, op, &call(Vec::new()), &why, needs, 0);
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
    expand(world, "ec2:CreateNetworkInterface", &c, &why, needs, 0);
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
            needs,
            0,
        );
    }
}

/// The variables a build sees: CodeBuild's own, and the project's plain
/// ones (parameter-store and secrets values are unknown to the proof).
fn build_environment(
    world: &World<'_>,
    at: usize,
    p: &apprun_template::Map,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("AWS_REGION".into(), world.region.clone());
    env.insert("AWS_DEFAULT_REGION".into(), world.region.clone());
    env.insert("AWS_ACCOUNT_ID".into(), world.account.clone());
    for v in list(
        p.get("Environment")
            .and_then(|e| e.get("EnvironmentVariables")),
    ) {
        let (Some(n), Some(val)) = (v.get("Name").and_then(Value::as_str), v.get("Value")) else {
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
    env
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
            Some("ecs") if t.get("EcsParameters").is_some() => {
                if let Some(ecs) = t.get("EcsParameters") {
                    run_task_needs(world, at, ecs, &arn, &why, &mut a);
                }
            }
            _ => a.unproven.push(format!(
                "{why}: apprun does not know what this target needs"
            )),
        }
        out.push(a);
    }
}

/// What starting a task definition on a cluster takes, for the services that
/// start ECS tasks with a role of their own (an EventBridge rule's or a
/// schedule's target, a pipe): `ecs:RunTask` on the task definition with
/// `ecs:cluster` the target cluster, and `iam:PassRole` of the task
/// definition's task and execution roles to `ecs-tasks.amazonaws.com`. The
/// ECS Developer Guide's "Amazon ECS EventBridge IAM Role" (the
/// AmazonEC2ContainerServiceEventsRole policy and its PassRole note), the
/// EventBridge Scheduler User Guide's "Set up the execution role" (ECS
/// RunTask target) and the EventBridge User Guide's "eb-pipes-permissions"
/// (enrichment and target permissions) list the same two calls.
fn run_task_needs(
    world: &World<'_>,
    at: usize,
    ecs: &Value,
    cluster: &str,
    why: &str,
    a: &mut Actor,
) {
    let Some(task_definition) = ecs.get("TaskDefinitionArn") else {
        a.unproven
            .push(format!("{why}: the target names no task definition"));
        return;
    };
    // Tagging the started task is one more call (ecs:TagResource with
    // ecs:CreateAction RunTask, as AmazonEC2ContainerServiceEventsRole
    // grants), which the proof does not derive: said, not passed over.
    if let Some(tags) = ["Tags", "PropagateTags", "EnableECSManagedTags"]
        .into_iter()
        .find(|k| ecs.get(k).is_some_and(|v| world.text(at, v) != "false"))
    {
        a.unproven.push(format!(
            "{why}: the target's {tags} tags the task it starts, which apprun does not model"
        ));
    }
    let arn = world.text(at, task_definition);
    let mut context = BTreeMap::new();
    context.insert("ecs:cluster".to_owned(), vec![cluster.to_owned()]);
    // Depth 1: the dependent iam:PassRole is asked below, with the roles
    // the task definition really passes (none when it names none).
    expand(
        world,
        "ecs:RunTask",
        &Call {
            arns: vec![arn],
            context,
            services: Some(vec!["ecs".to_owned()]),
            ..Call::default()
        },
        why,
        &mut a.needs,
        1,
    );
    let Some(rid) = world.target(at, task_definition) else {
        a.unproven.push(format!(
            "{why}: task definition {} is not among the checked templates, so the roles it passes are not known",
            super::eval::show(&world.text(at, task_definition))
        ));
        return;
    };
    let roles = task_definition_roles(world, &rid, why, a);
    if roles.is_empty() {
        return;
    }
    expand(
        world,
        "iam:PassRole",
        &Call {
            roles,
            calling: vec!["ecs:RunTask".to_owned()],
            ..Call::default()
        },
        &format!("{why} (dependent action of ecs:RunTask)"),
        &mut a.needs,
        1,
    );
}

/// The task and execution roles task definition `rid` passes (sorted, no
/// repeats); one not among the checked templates is said unproven.
fn task_definition_roles(world: &World<'_>, rid: &Rid, why: &str, a: &mut Actor) -> Vec<Rid> {
    let Some(td) = world.resource(rid) else {
        return Vec::new();
    };
    let mut roles = Vec::new();
    for prop in ["TaskRoleArn", "ExecutionRoleArn"] {
        let Some(v) = td.properties.get(prop) else {
            continue;
        };
        match world.role(rid.0, v) {
            Some(role) => roles.push(role),
            None => a.unproven.push(format!(
                "{why}: the {prop} {} of task definition {} is not among the checked templates",
                super::eval::show(&world.text(rid.0, v)),
                rid.1
            )),
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// An EventBridge Scheduler schedule's role (`Target.RoleArn`): it starts
/// the target and sends failed invocations to the dead-letter queue with
/// that same role (the Scheduler User Guide's "Configuring a schedule's
/// dead-letter queue": the execution role needs `sqs:SendMessage` on it).
fn schedule(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    out: &mut Vec<Actor>,
) {
    let Some(target) = p.get("Target") else {
        return;
    };
    let Some(role) = target.get("RoleArn") else {
        return;
    };
    let mut a = actor(
        world,
        at,
        role,
        "scheduler.amazonaws.com",
        format!("EventBridge Scheduler (schedule {id})"),
        (
            id.to_owned(),
            format!("Resources/{id}/Properties/Target/RoleArn"),
        ),
    );
    let arn = target
        .get("Arn")
        .map(|v| world.text(at, v))
        .unwrap_or_default();
    let why = format!("schedule {id} starts {}", super::eval::show(&arn));
    match (arn.split(':').nth(2), target.get("EcsParameters")) {
        (Some("ecs"), Some(ecs)) => run_task_needs(world, at, ecs, &arn, &why, &mut a),
        _ => a.unproven.push(format!(
            "{why}: apprun does not know what this target needs"
        )),
    }
    if let Some(dlq) = target.get("DeadLetterConfig").and_then(|d| d.get("Arn")) {
        expand(
            world,
            "sqs:SendMessage",
            &call(vec![world.text(at, dlq)]),
            &format!("schedule {id} sends failed invocations to its dead-letter queue"),
            &mut a.needs,
            0,
        );
    }
    out.push(a);
}

/// The SQS reads of a pipe with a queue as source: the EventBridge User
/// Guide's "Event source permissions for Amazon EventBridge Pipes" (Amazon
/// SQS execution role permissions).
const PIPE_SQS_SOURCE: &[&str] = &[
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
];

/// An EventBridge pipe's role (`RoleArn`): it reads the source and starts
/// the target. Sources other than SQS and targets other than ECS are not
/// modelled (said as such).
fn pipe(world: &World<'_>, at: usize, id: &str, p: &apprun_template::Map, out: &mut Vec<Actor>) {
    let Some(role) = p.get("RoleArn") else {
        return;
    };
    let mut a = actor(
        world,
        at,
        role,
        "pipes.amazonaws.com",
        format!("EventBridge Pipes (pipe {id})"),
        (id.to_owned(), format!("Resources/{id}/Properties/RoleArn")),
    );
    let source = p
        .get("Source")
        .map(|v| world.text(at, v))
        .unwrap_or_default();
    let why = format!("pipe {id} reads {}", super::eval::show(&source));
    if source.split(':').nth(2) == Some("sqs") {
        for action in PIPE_SQS_SOURCE {
            expand(
                world,
                action,
                &call(vec![source.clone()]),
                &why,
                &mut a.needs,
                0,
            );
        }
    } else {
        a.unproven.push(format!(
            "{why}: apprun does not know what this source needs"
        ));
    }
    let target = p
        .get("Target")
        .map(|v| world.text(at, v))
        .unwrap_or_default();
    let why = format!("pipe {id} starts {}", super::eval::show(&target));
    let ecs = p
        .get("TargetParameters")
        .and_then(|t| t.get("EcsTaskParameters"));
    match (target.split(':').nth(2), ecs) {
        (Some("ecs"), Some(ecs)) => run_task_needs(world, at, ecs, &target, &why, &mut a),
        _ => a.unproven.push(format!(
            "{why}: apprun does not know what this target needs"
        )),
    }
    if p.get("LogConfiguration").is_some() {
        a.unproven.push(format!(
            "pipe {id} has a log configuration: what its role needs for it is not modelled"
        ));
    }
    out.push(a);
}

/// A task definition's execution role pulls the image, writes the awslogs
/// logs and reads the containers' secrets before they start (ECS Developer
/// Guide: "Amazon ECS task execution IAM role"); its task role is what the
/// running containers act with.
fn task_definition(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    out: &mut Vec<Actor>,
) {
    let containers = list(p.get("ContainerDefinitions"));
    if let Some(role) = p.get("ExecutionRoleArn") {
        let mut a = actor(
            world,
            at,
            role,
            "ecs-tasks.amazonaws.com",
            format!("ECS (task definition {id}, execution role)"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/ExecutionRoleArn"),
            ),
        );
        for c in &containers {
            let name = c.get("Name").map(|n| world.text(at, n)).unwrap_or_default();
            if let Some(image) = c.get("Image") {
                let image = world.text(at, image);
                if ecr_repository(world, &image).is_some() {
                    ecr_pull(
                        world,
                        &image,
                        &format!("task definition {id}'s container {name} pulls its image"),
                        &mut a,
                    );
                }
            }
            awslogs_needs(world, at, id, &name, c, &mut a);
            runtime::secret_needs(
                world,
                at,
                &list(c.get("Secrets")),
                "ValueFrom",
                &format!("task definition {id}'s container {name}"),
                &mut a,
            );
        }
        out.push(a);
    }
    if let Some(role) = p.get("TaskRoleArn") {
        out.push(actor(
            world,
            at,
            role,
            "ecs-tasks.amazonaws.com",
            format!("ECS (task definition {id}, task role)"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/TaskRoleArn"),
            ),
        ));
    }
}

/// The log writes of a container with the awslogs driver, into its
/// `awslogs-group`.
fn awslogs_needs(
    world: &World<'_>,
    at: usize,
    id: &str,
    name: &str,
    container: &Value,
    a: &mut Actor,
) {
    let Some(log) = container.get("LogConfiguration") else {
        return;
    };
    if log.get("LogDriver").map(|d| world.text(at, d)).as_deref() != Some("awslogs") {
        return;
    }
    let Some(group) = log.get("Options").and_then(|o| o.get("awslogs-group")) else {
        return;
    };
    log_stream_needs(
        world,
        &world.text(at, group),
        &format!("task definition {id}'s container {name} writes its logs"),
        a,
    );
}

/// The awslogs driver's calls: it creates a stream in `group` and writes
/// to it (the stream's name is not known before it runs).
fn log_stream_needs(world: &World<'_>, group: &str, why: &str, a: &mut Actor) {
    let stream = format!(
        "arn:{}:logs:{}:{}:log-group:{group}:log-stream:{}",
        world.partition,
        world.region,
        world.account,
        super::eval::UNKNOWN
    );
    for op in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        expand(world, op, &call(vec![stream.clone()]), why, &mut a.needs, 0);
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
            apprunner_pull(world, &world.text(at, image), id, &mut a);
        }
        out.push(a);
    }
    if let Some(role) = p
        .get("InstanceConfiguration")
        .and_then(|i| i.get("InstanceRoleArn"))
    {
        let mut a = actor(
            world,
            at,
            role,
            "tasks.apprunner.amazonaws.com",
            format!("App Runner (service {id}, instance role)"),
            (
                id.to_owned(),
                format!("Resources/{id}/Properties/InstanceConfiguration/InstanceRoleArn"),
            ),
        );
        // The running service reads its secrets with the instance role,
        // whether it runs an image or code.
        let configurations = [
            image_repo.and_then(|i| i.get("ImageConfiguration")),
            source
                .and_then(|s| s.get("CodeRepository"))
                .and_then(|c| c.get("CodeConfiguration"))
                .and_then(|c| c.get("CodeConfigurationValues")),
        ];
        for c in configurations.into_iter().flatten() {
            runtime::secret_needs(
                world,
                at,
                &list(c.get("RuntimeEnvironmentSecrets")),
                "Value",
                &format!("service {id}'s"),
                &mut a,
            );
        }
        runtime::trace_needs(world, at, id, p, &mut a);
        out.push(a);
    }
}

/// What App Runner's access role does to pull the service's ECR image.
fn apprunner_pull(world: &World<'_>, image: &str, id: &str, a: &mut Actor) {
    let why = format!("service {id} pulls its image");
    ecr_pull(world, image, &why, a);
    if let Some(repo) = ecr_repository(world, image) {
        expand(
            world,
            "ecr:DescribeImages",
            &call(vec![repo]),
            &why,
            &mut a.needs,
            0,
        );
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
            log_stream_needs(
                world,
                &world.text(at, group),
                &format!("service {id}'s tasks write their logs"),
                &mut a,
            );
        }
        // ECS reads the container's secrets with the execution role
        // before the container starts.
        if let Some(c) = container {
            runtime::secret_needs(
                world,
                at,
                &list(c.get("Secrets")),
                "ValueFrom",
                &format!("service {id}'s container"),
                &mut a,
            );
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
