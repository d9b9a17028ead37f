//! Jobs: the facts of the job stacks and of what the network and pipeline
//! stacks hold for them, asserted independently of logical ids (resources
//! are found by type and name, references followed), for a fixture with
//! one job of each trigger and for the shipped config; and the real
//! cfn-lint finds nothing in any of their templates.

use std::path::{Path, PathBuf};

use apprun_blueprint::{EnvBlueprint, Stack, StackKind, synthesize};
use apprun_config::Config;
use apprun_template::{Format, Intrinsic, Resource, Template, Value, import, join, r#ref};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jobs.toml");
    Config::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn shipped() -> Config {
    Config::load(&workspace().join("apprun.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn job_stack<'a>(bp: &'a EnvBlueprint, job: &str) -> &'a Stack {
    bp.job_stack(job)
        .unwrap_or_else(|| panic!("no stack for job {job} in {}", bp.env))
}

fn network(bp: &EnvBlueprint) -> &Template {
    &bp.stack(&StackKind::Network)
        .expect("network stack")
        .template
}

/// The one resource of `kind` (and its logical id).
fn one<'a>(t: &'a Template, kind: &str) -> (&'a str, &'a Resource) {
    let found: Vec<(&String, &Resource)> =
        t.resources.iter().filter(|(_, r)| r.kind == kind).collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind}: {:?}",
        found.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    (found[0].0.as_str(), found[0].1)
}

/// The resource of `kind` whose `name_property` is `name`.
fn named<'a>(
    t: &'a Template,
    kind: &str,
    name_property: &str,
    name: &str,
) -> (&'a str, &'a Resource) {
    t.resources
        .iter()
        .find(|(_, r)| {
            r.kind == kind && r.properties.get(name_property) == Some(&Value::from(name))
        })
        .map(|(id, r)| (id.as_str(), r))
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut v = v;
    for key in path.split('.') {
        v = match key.parse::<usize>() {
            Ok(i) => match v {
                Value::List(items) => &items[i],
                other => panic!("{path}: {other:?} is not a list"),
            },
            Err(_) => v.get(key).unwrap_or_else(|| panic!("no {path} in {v:?}")),
        };
    }
    v
}

fn prop<'a>(r: &'a Resource, path: &str) -> &'a Value {
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let v = r
        .properties
        .get(first)
        .unwrap_or_else(|| panic!("no {path} in {:?}", r.kind));
    if rest.is_empty() { v } else { at(v, rest) }
}

fn get_att_of(v: &Value) -> (&str, &str) {
    match v {
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::GetAtt {
                resource,
                attribute,
            } => (resource.as_str(), attribute.as_str()),
            other => panic!("not a GetAtt: {other:?}"),
        },
        other => panic!("not a GetAtt: {other:?}"),
    }
}

fn import_of(v: &Value) -> String {
    match v {
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::ImportValue(name) => match name {
                Value::String(s) => s.as_str().into(),
                other => panic!("import of {other:?}"),
            },
            other => panic!("not an import: {other:?}"),
        },
        other => panic!("not an import: {other:?}"),
    }
}

/// The network stack's output value exported as `name`.
fn export_value<'a>(net: &'a Template, name: &str) -> &'a Value {
    net.outputs
        .values()
        .find(|o| o.export.as_ref() == Some(&Value::from(name)))
        .map(|o| &o.value)
        .unwrap_or_else(|| panic!("nothing exports {name}"))
}

/// The protect subnets, as a job's task sees them: imports of the network
/// stack's protect subnet exports.
fn protect_subnets(id: &str, env: &str) -> Value {
    Value::List(
        ["a", "c"]
            .iter()
            .map(|z| import(format!("{id}-{env}-ProtectSubnetAZ{z}")))
            .collect(),
    )
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.to_string(),
                other => format!("{other:?}"),
            })
            .collect(),
        Value::String(s) => vec![s.to_string()],
        other => vec![format!("{other:?}")],
    }
}

/// The statements of the role's inline policies, flattened.
fn statements(role: &Resource) -> Vec<Value> {
    match prop(role, "Policies") {
        Value::List(ps) => ps
            .iter()
            .flat_map(|p| match at(p, "PolicyDocument.Statement") {
                Value::List(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn trusted(role: &Resource) -> Vec<String> {
    strings(at(
        prop(role, "AssumeRolePolicyDocument"),
        "Statement.0.Principal.Service",
    ))
}

/// The job's task definition: its logical id, and that it runs the image
/// of `repository_export` at the `ImageTag` parameter.
fn task_definition<'a>(t: &'a Template, repository_export: &str) -> (&'a str, &'a Resource) {
    let (id, td) = one(t, "AWS::ECS::TaskDefinition");
    assert!(
        t.parameters
            .contains_key(apprun_blueprint::outputs::IMAGE_TAG)
    );
    assert_eq!(
        prop(td, "ContainerDefinitions.0.Image"),
        &join(
            ":",
            vec![
                import(repository_export),
                r#ref(apprun_blueprint::outputs::IMAGE_TAG)
            ]
        ),
        "the env's repository at the pinned tag"
    );
    assert_eq!(
        prop(td, "RequiresCompatibilities"),
        &Value::list(vec!["FARGATE".into()])
    );
    assert_eq!(prop(td, "NetworkMode"), &Value::from("awsvpc"));
    (id, td)
}

/// Checks the invoke role the trigger names: exported by the network
/// stack, trusting `principal`, running only the job's family, passing
/// only the jobs' roles to ECS tasks.
fn check_invoke_role(bp: &EnvBlueprint, role_arn: &Value, principal: &str, family: &str) {
    let net = network(bp);
    let (role_id, _) = get_att_of(export_value(net, &import_of(role_arn)));
    let role = &net.resources[role_id];
    assert_eq!(role.kind, "AWS::IAM::Role");
    assert_eq!(trusted(role), [principal]);
    let st = statements(role);
    let run: Vec<&Value> = st
        .iter()
        .filter(|s| strings(at(s, "Action")) == ["ecs:RunTask"])
        .collect();
    assert_eq!(run.len(), 1, "{st:?}");
    let resource = format!("{:?}", at(run[0], "Resource"));
    assert!(
        resource.contains(&format!("task-definition/{family}:*")),
        "{resource}"
    );
    let pass: Vec<&Value> = st
        .iter()
        .filter(|s| strings(at(s, "Action")) == ["iam:PassRole"])
        .collect();
    assert_eq!(pass.len(), 1);
    assert_eq!(
        strings(at(pass[0], "Condition.StringEquals.iam:PassedToService")),
        ["ecs-tasks.amazonaws.com"]
    );
    let passed = format!("{:?}", at(pass[0], "Resource"));
    assert!(
        passed.contains("-jobs-task") && passed.contains("-jobs-execution"),
        "{passed}"
    );
}

/// The dead-letter queue the trigger names: exported by the network stack,
/// with that name; the job stack's alarm watches it.
fn check_dead_letter(bp: &EnvBlueprint, t: &Template, arn: &Value, queue_name: &str) {
    let net = network(bp);
    let (queue, _) = get_att_of(export_value(net, &import_of(arn)));
    assert_eq!(
        prop(&net.resources[queue], "QueueName"),
        &Value::from(queue_name)
    );
    let (_, alarm) = one(t, "AWS::CloudWatch::Alarm");
    assert_eq!(
        prop(alarm, "MetricName"),
        &Value::from("ApproximateNumberOfMessagesVisible")
    );
    assert_eq!(prop(alarm, "Dimensions.0.Value"), &Value::from(queue_name));
}

#[test]
fn schedule_job_facts() {
    let config = fixture();
    let bp = synthesize(&config, "dev").unwrap();
    let stack = job_stack(&bp, "nightly");
    assert_eq!(stack.name, "jobsys-dev-job-nightly");
    let t = &stack.template;
    let (td_id, td) = task_definition(t, "jobsys-dev-EcrRepositoryUri");
    assert_eq!(
        (prop(td, "Cpu"), prop(td, "Memory")),
        (&Value::from("512"), &Value::from("1024"))
    );
    assert_eq!(
        strings(prop(td, "ContainerDefinitions.0.Command")),
        ["job", "tick"]
    );
    assert_eq!(prop(td, "Family"), &Value::from("jobsys-dev-job-nightly"));
    // ENV, SYSTEM_ID, the job's variables, then apprun's job variables.
    let names: Vec<String> = match prop(td, "ContainerDefinitions.0.Environment") {
        Value::List(vars) => vars
            .iter()
            .map(|v| strings(at(v, "Name"))[0].clone())
            .collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        names,
        [
            "ENV",
            "SYSTEM_ID",
            "REPORT_PREFIX",
            "APPRUN_JOB",
            "APPRUN_JOB_TIMEOUT"
        ]
    );
    // The secret comes from SSM, read by the jobs' execution role.
    let secret = prop(td, "ContainerDefinitions.0.Secrets.0");
    assert_eq!(at(secret, "Name"), &Value::from("DB_PASSWORD"));
    let from = format!("{:?}", at(secret, "ValueFrom"));
    assert!(from.contains(":parameter/jobsys/db-password"), "{from}");
    let execution = import_of(prop(td, "ExecutionRoleArn"));
    let (role_id, _) = get_att_of(export_value(network(&bp), &execution));
    let grants = statements(&network(&bp).resources[role_id]);
    assert!(
        grants
            .iter()
            .any(|g| strings(at(g, "Action")) == ["ssm:GetParameters"]
                && format!("{:?}", at(g, "Resource")).contains(":parameter/jobsys/db-password")),
        "{grants:?}"
    );
    let (_, schedule) = one(t, "AWS::Scheduler::Schedule");
    assert_eq!(
        prop(schedule, "ScheduleExpression"),
        &Value::from("cron(30 2 ? * MON-FRI *)")
    );
    assert_eq!(
        prop(schedule, "ScheduleExpressionTimezone"),
        &Value::from("Europe/Paris")
    );
    assert_eq!(
        prop(schedule, "FlexibleTimeWindow.Mode"),
        &Value::from("OFF")
    );
    assert_eq!(
        prop(schedule, "Target.EcsParameters.TaskDefinitionArn"),
        &r#ref(td_id)
    );
    assert_eq!(
        prop(schedule, "Target.EcsParameters.LaunchType"),
        &Value::from("FARGATE")
    );
    let net = prop(
        schedule,
        "Target.EcsParameters.NetworkConfiguration.AwsvpcConfiguration",
    );
    assert_eq!(at(net, "Subnets"), &protect_subnets("jobsys", "dev"));
    assert_eq!(
        at(net, "SecurityGroups"),
        &Value::list(vec![import("jobsys-dev-ProtectSecurityGroup")])
    );
    assert_eq!(at(net, "AssignPublicIp"), &Value::from("DISABLED"));
    assert_eq!(
        prop(schedule, "Target.RetryPolicy.MaximumRetryAttempts"),
        &Value::Int(3)
    );
    check_dead_letter(
        &bp,
        t,
        prop(schedule, "Target.DeadLetterConfig.Arn"),
        "jobsys-dev-job-nightly-dlq",
    );
    // The cluster is the env's jobs cluster.
    let cluster = import_of(prop(schedule, "Target.Arn"));
    let (cluster_id, _) = get_att_of(export_value(network(&bp), &cluster));
    assert_eq!(
        prop(&network(&bp).resources[cluster_id], "ClusterName"),
        &Value::from("jobsys-dev-jobs")
    );
    check_invoke_role(
        &bp,
        prop(schedule, "Target.RoleArn"),
        "scheduler.amazonaws.com",
        "jobsys-dev-job-nightly",
    );
    // The schedule's role sends its dead letters itself (Scheduler uses the
    // target's role for the DLQ).
    let role_arn = prop(schedule, "Target.RoleArn");
    let (role_id, _) = get_att_of(export_value(network(&bp), &import_of(role_arn)));
    let st = statements(&network(&bp).resources[role_id]);
    assert!(
        st.iter()
            .any(|s| strings(at(s, "Action")) == ["sqs:SendMessage"])
    );
}

#[test]
fn event_job_facts_and_envs() {
    let config = fixture();
    let dev = synthesize(&config, "dev").unwrap();
    assert!(
        dev.job_stack("ingest").is_none(),
        "ingest runs in prod only"
    );
    let bp = synthesize(&config, "prod").unwrap();
    let t = &job_stack(&bp, "ingest").template;
    // Its service's repository (not the primary's).
    let (td_id, _) = task_definition(t, "jobsys-prod-api-EcrRepositoryUri");
    let (_, rule) = named(t, "AWS::Events::Rule", "Name", "jobsys-prod-job-ingest");
    assert_eq!(
        strings(at(prop(rule, "EventPattern"), "source")),
        ["aws.s3"]
    );
    assert_eq!(
        strings(at(prop(rule, "EventPattern"), "detail-type")),
        ["Object Created"]
    );
    assert_eq!(
        strings(at(prop(rule, "EventPattern"), "detail.bucket.name")),
        ["jobsys-uploads"]
    );
    let target = prop(rule, "Targets.0");
    assert_eq!(at(target, "EcsParameters.TaskDefinitionArn"), &r#ref(td_id));
    assert_eq!(
        at(
            target,
            "EcsParameters.NetworkConfiguration.AwsVpcConfiguration.Subnets"
        ),
        &protect_subnets("jobsys", "prod")
    );
    assert_eq!(
        at(target, "RetryPolicy.MaximumRetryAttempts"),
        &Value::Int(2)
    );
    check_dead_letter(
        &bp,
        t,
        at(target, "DeadLetterConfig.Arn"),
        "jobsys-prod-job-ingest-dlq",
    );
    check_invoke_role(
        &bp,
        at(target, "RoleArn"),
        "events.amazonaws.com",
        "jobsys-prod-job-ingest",
    );
    // The event reaches the run: the target's input is the RunTask
    // overrides document, adding APPRUN_EVENT (the whole event, which
    // EventBridge writes unescaped as a JSON value) to the job's container.
    let template = match at(target, "InputTransformer.InputTemplate") {
        Value::String(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(template.matches("<aws.events.event.json>").count(), 1);
    let sample = r#"{"source":"aws.s3","detail":{"bucket":{"name":"jobsys-uploads"}}}"#;
    let overrides: serde_json::Value =
        serde_json::from_str(&template.replace("<aws.events.event.json>", sample))
            .unwrap_or_else(|e| panic!("{template}: {e}"));
    let container = prop(
        one(t, "AWS::ECS::TaskDefinition").1,
        "ContainerDefinitions.0.Name",
    );
    assert_eq!(
        Value::from(overrides["containerOverrides"][0]["name"].as_str().unwrap()),
        *container,
        "the override names the task's container"
    );
    assert_eq!(
        overrides["containerOverrides"][0]["environment"],
        serde_json::json!([{ "name": "APPRUN_EVENT", "value": serde_json::from_str::<serde_json::Value>(sample).unwrap() }])
    );
    assert_eq!(overrides.as_object().unwrap().len(), 1, "{overrides}");
}

#[test]
fn sns_job_facts() {
    let config = fixture();
    let bp = synthesize(&config, "dev").unwrap();
    let net = network(&bp);
    for (job, topic_created) in [("notify", true), ("mirror", false)] {
        let t = &job_stack(&bp, job).template;
        let (td_id, _) = task_definition(t, "jobsys-dev-EcrRepositoryUri");
        // The pipe reads the job's queue, which the network stack holds
        // with the topic's subscription.
        let (_, pipe) = one(t, "AWS::Pipes::Pipe");
        let (inbox_id, _) = get_att_of(export_value(net, &import_of(prop(pipe, "Source"))));
        let inbox = &net.resources[inbox_id];
        assert_eq!(
            prop(inbox, "QueueName"),
            &Value::from(format!("jobsys-dev-job-{job}-inbox"))
        );
        let subscription = net
            .resources
            .values()
            .find(|r| {
                r.kind == "AWS::SNS::Subscription"
                    && r.properties.get("Endpoint").map(get_att_of) == Some((inbox_id, "Arn"))
            })
            .expect("a subscription of the job's queue");
        assert_eq!(prop(subscription, "Protocol"), &Value::from("sqs"));
        // The queue holds the message itself (not SNS's envelope): the pipe
        // gives its body to the run as APPRUN_EVENT (a dynamic path).
        assert_eq!(prop(subscription, "RawMessageDelivery"), &Value::Bool(true));
        let container = prop(
            one(t, "AWS::ECS::TaskDefinition").1,
            "ContainerDefinitions.0.Name",
        );
        let overrides = prop(
            pipe,
            "TargetParameters.EcsTaskParameters.Overrides.ContainerOverrides",
        );
        assert_eq!(strings(overrides).len(), 1);
        assert_eq!(at(overrides, "0.Name"), container);
        assert_eq!(
            at(overrides, "0.Environment"),
            &Value::list(vec![
                apprun_template::map! { "Name" => "APPRUN_EVENT", "Value" => "$.body" }.into()
            ])
        );
        if topic_created {
            let (topic_id, topic) =
                named(net, "AWS::SNS::Topic", "TopicName", "jobsys-dev-job-notify");
            assert_eq!(
                prop(topic, "TopicName"),
                &Value::from("jobsys-dev-job-notify")
            );
            assert_eq!(prop(subscription, "TopicArn"), &r#ref(topic_id));
            assert_eq!(
                export_value(net, "jobsys-dev-JobNotifyTopicArn"),
                &r#ref(topic_id),
                "the created topic is exported"
            );
            assert_eq!(prop(inbox, "RedrivePolicy.maxReceiveCount"), &Value::Int(5));
            assert!(
                !subscription.properties.contains_key("Region"),
                "a created topic is in the stack's region"
            );
        } else {
            assert_eq!(
                prop(subscription, "TopicArn"),
                &Value::from("arn:aws:sns:us-east-1:111122223333:orders")
            );
            // The topic's region (not the system's eu-west-1), from its ARN.
            assert_eq!(prop(subscription, "Region"), &Value::from("us-east-1"));
        }
        assert_eq!(
            prop(pipe, "TargetParameters.EcsTaskParameters.TaskDefinitionArn"),
            &r#ref(td_id)
        );
        assert_eq!(
            prop(
                pipe,
                "TargetParameters.EcsTaskParameters.NetworkConfiguration.AwsvpcConfiguration.Subnets"
            ),
            &protect_subnets("jobsys", "dev")
        );
        // Messages the pipe cannot start a task for move to the dead-letter queue.
        let (dlq, _) = get_att_of(prop(inbox, "RedrivePolicy.deadLetterTargetArn"));
        assert_eq!(
            prop(&net.resources[dlq], "QueueName"),
            &Value::from(format!("jobsys-dev-job-{job}-dlq"))
        );
        check_invoke_role(
            &bp,
            prop(pipe, "RoleArn"),
            "pipes.amazonaws.com",
            &format!("jobsys-dev-job-{job}"),
        );
    }
    // Only the topic apprun creates is in the stack.
    let topics = net
        .resources
        .values()
        .filter(|r| r.kind == "AWS::SNS::Topic")
        .count();
    assert_eq!(topics, 1);
}

#[test]
fn the_jobs_execution_role_reaches_only_the_envs_images_and_job_logs() {
    let bp = synthesize(&fixture(), "prod").unwrap();
    let net = network(&bp);
    let (_, role) = named(
        net,
        "AWS::IAM::Role",
        "RoleName",
        "jobsys-prod-jobs-execution",
    );
    assert!(
        !role.properties.contains_key("ManagedPolicyArns"),
        "no AWS-managed policy (it allows every repository and log group)"
    );
    let st = statements(role);
    let resources_of = |action: &str| -> Vec<String> {
        let found: Vec<&Value> = st
            .iter()
            .filter(|s| strings(at(s, "Action")).iter().any(|a| a == action))
            .collect();
        assert_eq!(found.len(), 1, "{action}: {st:?}");
        strings(at(found[0], "Resource"))
    };
    assert_eq!(resources_of("ecr:GetAuthorizationToken"), ["*"]);
    // prod runs jobs of both services: both repositories, nothing else.
    for action in [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ] {
        let r = resources_of(action);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains(":repository/jobsys-prod\""), "{r:?}");
        assert!(r[1].contains(":repository/jobsys-prod-api\""), "{r:?}");
    }
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        let r = resources_of(action);
        assert_eq!(r.len(), 1);
        assert!(
            r[0].contains(":log-group:/apprun/jobsys/prod/job-*:*\""),
            "{r:?}"
        );
    }
    // dev runs only the primary's image.
    let dev = synthesize(&fixture(), "dev").unwrap();
    let (_, role) = named(
        network(&dev),
        "AWS::IAM::Role",
        "RoleName",
        "jobsys-dev-jobs-execution",
    );
    let pulls: Vec<String> = statements(role)
        .iter()
        .filter(|s| {
            strings(at(s, "Action"))
                .iter()
                .any(|a| a == "ecr:BatchGetImage")
        })
        .flat_map(|s| strings(at(s, "Resource")))
        .collect();
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].contains(":repository/jobsys-dev\""), "{pulls:?}");
}

#[test]
fn the_pipeline_registers_only_apprun_job_task_definitions() {
    // The shipped config: App Runner only, so no ECS Express grant (which
    // names no family) is in the IAM stack, only the jobs'.
    let config = shipped();
    let bp = synthesize(&config, "prod").unwrap();
    let text = format!("{:?}", bp.stack(&StackKind::Iam).unwrap().template);
    assert!(
        text.contains(&format!("task-definition/{}-*-job-*:*", config.system.id)),
        "the jobs' families"
    );
    assert!(!text.contains("task-definition/*"), "no other family");
}

#[test]
fn failed_runs_reach_the_dead_letter_queue() {
    let bp = synthesize(&fixture(), "dev").unwrap();
    let net = network(&bp);
    let (rule_id, rule) = named(
        net,
        "AWS::Events::Rule",
        "Name",
        "jobsys-dev-job-nightly-failed",
    );
    let pattern = prop(rule, "EventPattern");
    assert_eq!(
        strings(at(pattern, "detail-type")),
        ["ECS Task State Change"]
    );
    assert_eq!(strings(at(pattern, "detail.lastStatus")), ["STOPPED"]);
    let prefix = format!("{:?}", at(pattern, "detail.taskDefinitionArn"));
    assert!(
        prefix.contains("task-definition/jobsys-dev-job-nightly:"),
        "{prefix}"
    );
    let (queue, _) = named(
        net,
        "AWS::SQS::Queue",
        "QueueName",
        "jobsys-dev-job-nightly-dlq",
    );
    assert_eq!(get_att_of(prop(rule, "Targets.0.Arn")), (queue, "Arn"));
    // The queue lets exactly that rule send.
    let policy = net
        .resources
        .values()
        .find(|r| {
            r.kind == "AWS::SQS::QueuePolicy"
                && prop(r, "Queues") == &Value::list(vec![r#ref(queue)])
        })
        .expect("the queue's policy");
    let st = at(prop(policy, "PolicyDocument"), "Statement.0");
    assert_eq!(
        strings(at(st, "Principal.Service")),
        ["events.amazonaws.com"]
    );
    assert_eq!(
        at(st, "Condition.ArnEquals.aws:SourceArn"),
        &Value::list(vec![apprun_template::get_att(rule_id, "Arn")])
    );
}

#[test]
fn the_pipeline_deploys_every_job_with_the_builds_tag() {
    let bp = synthesize(&fixture(), "prod").unwrap();
    let t = &bp.stack(&StackKind::Pipeline).unwrap().template;
    let (_, pipeline) = one(t, "AWS::CodePipeline::Pipeline");
    let stages = match prop(pipeline, "Stages") {
        Value::List(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let deploy = stages
        .iter()
        .find(|s| at(s, "Name") == &Value::from("Deploy"))
        .unwrap();
    let actions = match at(deploy, "Actions") {
        Value::List(a) => a.clone(),
        other => panic!("{other:?}"),
    };
    let mut job_stacks: Vec<String> = actions
        .iter()
        .filter(|a| at(a, "ActionTypeId.Provider") == &Value::from("CloudFormation"))
        .filter(|a| format!("{:?}", at(a, "Configuration.StackName")).contains("-job-"))
        .map(|a| {
            assert_eq!(
                at(a, "Configuration.ActionMode"),
                &Value::from("CREATE_UPDATE")
            );
            let input =
                strings(&Value::list(vec![at(a, "InputArtifacts.0.Name").clone()]))[0].clone();
            assert_eq!(
                at(a, "Configuration.TemplateConfiguration"),
                &Value::from(format!("{input}::parameters.json"))
            );
            strings(at(a, "Configuration.StackName"))[0].clone()
        })
        .collect();
    job_stacks.sort();
    assert_eq!(
        job_stacks,
        [
            "jobsys-prod-job-ingest",
            "jobsys-prod-job-mirror",
            "jobsys-prod-job-nightly",
            "jobsys-prod-job-notify"
        ]
    );
    // The project that gathers their templates lists them.
    let (_, project) = named(
        t,
        "AWS::CodeBuild::Project",
        "Name",
        "jobsys-prod-job-templates",
    );
    let vars = format!("{:?}", prop(project, "Environment.EnvironmentVariables"));
    for s in &job_stacks {
        assert!(vars.contains(s.as_str()), "{vars}");
    }
}

#[test]
fn without_jobs_nothing_changes() {
    let mut config = shipped();
    config.jobs.clear();
    let bp = synthesize(&config, "dev").unwrap();
    assert!(
        bp.stacks
            .iter()
            .all(|s| !matches!(s.kind, StackKind::Job { .. }))
    );
    let net = network(&bp);
    assert!(
        net.resources
            .values()
            .all(|r| r.kind != "AWS::ECS::Cluster")
    );
    let pipeline = &bp.stack(&StackKind::Pipeline).unwrap().template;
    assert!(
        !pipeline
            .resources
            .values()
            .any(|r| format!("{:?}", r.properties).contains("job-templates"))
    );
}

#[test]
fn the_shipped_config_runs_the_reference_authors_job() {
    let bp = synthesize(&shipped(), "prod").unwrap();
    let t = &job_stack(&bp, "daily-analysis").template;
    let (_, schedule) = one(t, "AWS::Scheduler::Schedule");
    assert_eq!(
        prop(schedule, "ScheduleExpression"),
        &Value::from("cron(0 9 * * ? *)")
    );
    assert_eq!(
        prop(schedule, "ScheduleExpressionTimezone"),
        &Value::from("Asia/Tokyo")
    );
    let (_, td) = task_definition(t, "apprunner-nuxt3-prod-EcrRepositoryUri");
    assert_eq!(
        strings(prop(td, "ContainerDefinitions.0.Command")),
        ["job", "tick"]
    );
    // The job stack deploys after what it imports.
    let deps = &bp.dependencies[&job_stack(&bp, "daily-analysis").name];
    assert!(
        deps.contains(&"apprunner-nuxt3-prod-network".to_owned()),
        "{deps:?}"
    );
    assert!(
        deps.contains(&"apprunner-nuxt3-prod-repository".to_owned()),
        "{deps:?}"
    );
}

#[test]
fn cfn_lint_finds_nothing_in_job_templates() {
    let work = tempfile_dir("lint");
    let mut files = Vec::new();
    for config in [fixture(), shipped()] {
        for env in config.envs.keys() {
            let bp = synthesize(&config, env).unwrap();
            bp.ensure_valid().unwrap();
            for s in bp.stacks.iter().filter(|s| {
                matches!(
                    s.kind,
                    StackKind::Job { .. } | StackKind::Network | StackKind::Pipeline
                )
            }) {
                let path = work.join(format!("{}.yaml", s.name));
                std::fs::write(&path, s.template.render(Format::Yaml)).unwrap();
                files.push(path.display().to_string());
            }
        }
    }
    assert!(files.len() >= 12, "{files:?}");
    let cfn_lint = workspace().join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is installed in .venv (scripts/test.sh)"
    );
    let lint = std::process::Command::new(cfn_lint)
        .args(["--include-checks", "I", "--format", "parseable", "--"])
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    let findings = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && findings.trim().is_empty(),
        "cfn-lint:\n{findings}{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// A fresh folder under the target dir (the crate has no tempfile).
fn tempfile_dir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("jobs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The job-templates buildspec is valid YAML and its commands do what the
/// deploy actions need, run by bash with an `aws` stand-in that records
/// each call and answers `s3 cp` by writing the destination file: every
/// listed stack's template next to the build's parameters.json; no
/// parameters.json, or a template that cannot be copied, fails the build.
#[test]
fn the_job_templates_buildspec_copies_every_staged_template() {
    let spec = apprun_blueprint::jobs_buildspec();
    let doc: serde_norway::Value = serde_norway::from_str(&spec).unwrap();
    assert_eq!(doc["version"].as_f64(), Some(0.2));
    let files: Vec<&str> = doc["artifacts"]["files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files, ["*.yaml", "parameters.json"]);
    let script: String = doc["phases"]["build"]["commands"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| format!("{}\n", c.as_str().unwrap()))
        .collect();

    let run = |with_parameters: bool, fail_copy: bool| {
        let dir = tempfile_dir(&format!("buildspec-{with_parameters}-{fail_copy}"));
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let shim = dir.join("bin/aws");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/bash\necho \"$*\" >> calls.log\n{}\nprintf 'template of %s\\n' \"$3\" > \"$4\"\n",
                if fail_copy { "exit 1" } else { "" }
            ),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&shim)
            .status()
            .unwrap();
        if with_parameters {
            std::fs::write(
                dir.join("parameters.json"),
                "{\"Parameters\":{\"ImageTag\":\"abc1234\"}}\n",
            )
            .unwrap();
        }
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&dir)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", dir.join("bin").display()),
            )
            .env("ARTIFACT_BUCKET", "sys-dev-temporary")
            .env(
                "TEMPLATES_PREFIX",
                apprun_blueprint::PIPELINE_TEMPLATES_PREFIX,
            )
            .env("JOB_STACKS", "sys-dev-job-a sys-dev-job-b")
            .output()
            .unwrap();
        (dir, out)
    };
    let (dir, out) = run(true, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert_eq!(
        calls,
        "s3 cp s3://sys-dev-temporary/apprun/sys-dev-job-a.yaml sys-dev-job-a.yaml\n\
         s3 cp s3://sys-dev-temporary/apprun/sys-dev-job-b.yaml sys-dev-job-b.yaml\n"
    );
    for s in ["sys-dev-job-a", "sys-dev-job-b"] {
        assert!(dir.join(format!("{s}.yaml")).exists(), "{s}");
    }
    let (_, out) = run(false, false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no parameters.json"));
    let (dir, out) = run(true, true);
    assert!(!out.status.success());
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert_eq!(calls.lines().count(), 1, "stops at the first failed copy");
}
