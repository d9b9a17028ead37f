//! Jobs: a service's image run as a Fargate task on a schedule, on an
//! EventBridge event or on each SNS message.
//!
//! Two places hold a job's resources:
//! - the network stack (deployed by apprun, never by the pipeline) holds
//!   what every job of the env shares, the cluster, the tasks' roles, and
//!   each job's invoke role: so the pipeline role, which CloudFormation uses
//!   for the job stacks, never creates or changes an IAM role;
//! - the job's own stack `${id}-${env}-job-${name}` holds its task
//!   definition (the env's repository at the `ImageTag` parameter, like the
//!   service), log group, trigger, dead-letter queue and alarm.
//!
//! Failures: a start the trigger cannot make (RunTask refused, no capacity)
//! is retried `retries` times and then sent to the dead-letter queue (the
//! schedule's or rule's `DeadLetterConfig`; for an SNS job, the redrive
//! policy of the queue the pipe reads). A run that starts and then fails (a
//! non-zero exit, a container that could not start) is reported by ECS as a
//! "ECS Task State Change" event; a rule sends those to the same queue. The
//! alarm watches that queue, so one alarm covers both.

use apprun_config::{
    Config, Env, EventPattern, Job, JobTrigger, Names, PatternValue, SnsTopic, Tier,
};
use apprun_template::{Map, Output, Resource, Template, Value, import, join, map, r#ref, sub};

use crate::network::subnet_imports;
use crate::service::{IMAGE_TAG_PARAMETER, image_tag_parameter};
use crate::tags::env_tags;

/// The name of the job's container in its task definition.
pub const CONTAINER: &str = "job";
/// The `awslogs-stream-prefix` of the job's container: its log streams are
/// `job/job/<task id>`.
pub const LOG_STREAM_PREFIX: &str = "job";
/// How long the job's logs are kept.
const LOG_RETENTION_DAYS: i64 = 30;
/// How long the trigger keeps trying to start a run (Scheduler and
/// EventBridge: `MaximumEventAgeInSeconds`, 60 to 86,400).
const MAX_EVENT_AGE_SECONDS: i64 = 3600;

/// The network stack's exports for jobs.
pub(crate) const CLUSTER_EXPORT: &str = "JobsCluster";
pub(crate) const TASK_ROLE_EXPORT: &str = "JobsTaskRoleArn";
pub(crate) const EXECUTION_ROLE_EXPORT: &str = "JobsExecutionRoleArn";

/// The outputs of a job stack (what `apprun job run/list` reads).
pub mod outputs {
    pub const CLUSTER_ARN: &str = "JobClusterArn";
    pub const TASK_DEFINITION_ARN: &str = "JobTaskDefinitionArn";
    pub const TASK_FAMILY: &str = "JobTaskFamily";
    pub const CONTAINER_NAME: &str = "JobContainerName";
    pub const LOG_GROUP: &str = "JobLogGroup";
    pub const LOG_STREAM_PREFIX: &str = "JobLogStreamPrefix";
    /// In the network stack (one value for every job of the env).
    pub const SUBNETS: &str = "JobSubnets";
    /// In the network stack (one value for every job of the env).
    pub const SECURITY_GROUP: &str = "JobSecurityGroup";
    pub const DEAD_LETTER_QUEUE_URL: &str = "JobDeadLetterQueueUrl";
    pub const SCHEDULE_NAME: &str = "JobScheduleName";
    pub const RULE_NAME: &str = "JobRuleName";
    pub const PIPE_NAME: &str = "JobPipeName";
    pub const TOPIC_ARN: &str = "JobTopicArn";
    pub const ALARM_NAME: &str = "JobAlarmName";
}

/// The jobs that run in `env`, in file order.
pub(crate) fn jobs_in<'a>(config: &'a Config, env: &Env) -> Vec<&'a Job> {
    config
        .jobs
        .values()
        .filter(|j| j.runs_in(&env.name))
        .collect()
}

/// The service principal a job's trigger starts its task as.
pub(crate) fn invoker(job: &Job) -> &'static str {
    match job.trigger {
        JobTrigger::Schedule { .. } => "scheduler.amazonaws.com",
        JobTrigger::Event(_) => "events.amazonaws.com",
        JobTrigger::Sns(_) => "pipes.amazonaws.com",
    }
}

/// A regional ARN of this account, as a `Sub`.
pub(crate) fn here(service: &str, resource: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
    ))
}

pub(crate) fn role_arn(name: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"
    ))
}

/// A stateful resource whose data goes with the job when it is removed:
/// stated, not defaulted.
pub(crate) fn deleted_with_the_job(mut r: Resource) -> Resource {
    r.attributes_mut().deletion_policy = Some("Delete".into());
    r.attributes_mut().update_replace_policy = Some("Delete".into());
    r
}

/// The stack of one job.
pub(crate) fn template(config: &Config, env: &Env, job: &Job) -> Template {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let mut t = Template {
        description: Some(format!(
            "{id} {e}: job {} ({}) (apprun)",
            job.name,
            describe_trigger(job)
        )),
        ..Template::default()
    };
    t.parameters
        .insert(IMAGE_TAG_PARAMETER.into(), image_tag_parameter());
    t.resources.insert(
        "LogGroup".into(),
        deleted_with_the_job(Resource::new(
            "AWS::Logs::LogGroup",
            map! {
                "LogGroupName" => names.job_log_group(e, &job.name),
                "RetentionInDays" => LOG_RETENTION_DAYS,
                "Tags" => env_tags(id, e),
            },
        )),
    );
    t.resources
        .insert("TaskDefinition".into(), task_definition(config, env, job));
    match &job.trigger {
        JobTrigger::Schedule {
            expression,
            timezone,
        } => add_schedule(&mut t, config, env, job, expression, timezone),
        JobTrigger::Event(pattern) => add_event_rule(&mut t, config, env, job, pattern),
        JobTrigger::Sns(_) => add_pipe(&mut t, config, env, job),
    }
    add_alarm(&mut t, config, env, job);

    add_outputs(&mut t, config, env, job);
    t
}

fn describe_trigger(job: &Job) -> String {
    match &job.trigger {
        JobTrigger::Schedule {
            expression,
            timezone,
        } => format!("{expression} in {timezone}"),
        JobTrigger::Event(_) => "on an EventBridge event".into(),
        JobTrigger::Sns(SnsTopic::Create) => "on each message of its SNS topic".into(),
        JobTrigger::Sns(SnsTopic::Existing(_)) => "on each message of an SNS topic".into(),
    }
}

/// The task: the service's image at the pinned tag, the job's command,
/// `ENV`/`SYSTEM_ID` as the service sees them and the job's own variables.
fn task_definition(config: &Config, env: &Env, job: &Job) -> Resource {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let service = job.service();
    let primary = config.is_primary(service);
    let image = join(
        ":",
        vec![
            import(names.ecr_export(e, service, primary, "EcrRepositoryUri")),
            r#ref(IMAGE_TAG_PARAMETER),
        ],
    );
    // The same list `apprun job local` sets.
    let environment: Vec<Value> = job
        .task_environment(id, e)
        .into_iter()
        .map(|(k, v)| map! { "Name" => k, "Value" => v }.into())
        .collect();
    let mut container = map! {
        "Name" => CONTAINER,
        "Image" => image,
        "Essential" => true,
        "Command" => job.command.iter().map(Value::from).collect::<Vec<_>>(),
        "Environment" => environment,
        "LogConfiguration" => map! {
            "LogDriver" => "awslogs",
            "Options" => map! {
                "awslogs-group" => r#ref("LogGroup"),
                "awslogs-region" => sub("${AWS::Region}"),
                "awslogs-stream-prefix" => LOG_STREAM_PREFIX,
            },
        },
    };
    if !job.runtime.secrets.is_empty() {
        // ECS reads them with the execution role when the task starts.
        container.insert(
            "Secrets".into(),
            Value::list(crate::service::container_secrets(&job.runtime.secrets)),
        );
    }
    Resource::new(
        "AWS::ECS::TaskDefinition",
        map! {
            "Family" => names.job_family(e, &job.name),
            "Cpu" => job.cpu.0.to_string(),
            "Memory" => job.memory.0.to_string(),
            "NetworkMode" => "awsvpc",
            "RequiresCompatibilities" => vec!["FARGATE"],
            "RuntimePlatform" => map! { "OperatingSystemFamily" => "LINUX", "CpuArchitecture" => "X86_64" },
            "ExecutionRoleArn" => import(names.env_export(e, EXECUTION_ROLE_EXPORT)),
            "TaskRoleArn" => import(names.env_export(e, TASK_ROLE_EXPORT)),
            "ContainerDefinitions" => vec![container],
            "Tags" => env_tags(id, e),
        },
    )
}

/// The task's network: the protect subnets and group, as the service's VPC
/// connector; no public IP (the protect tier reaches ECR, Logs and the
/// internet through the NAT gateways). `field` is `AwsvpcConfiguration`
/// (Scheduler, Pipes) or `AwsVpcConfiguration` (EventBridge rules).
fn network_configuration(config: &Config, env: &Env, field: &str) -> Value {
    let names = Names::new(&config.system.id);
    map! {
        field => map! {
            "Subnets" => subnet_imports(&names, env, Tier::Protect),
            "SecurityGroups" => vec![import(names.env_export(&env.name, "ProtectSecurityGroup"))],
            "AssignPublicIp" => "DISABLED",
        },
    }
    .into()
}

fn cluster(config: &Config, env: &Env) -> Value {
    import(Names::new(&config.system.id).env_export(&env.name, CLUSTER_EXPORT))
}

fn invoke_role_import(config: &Config, env: &Env, job: &Job) -> Value {
    base_import(config, env, job, crate::job_base::INVOKE_ROLE)
}

/// One of the job's resources in the network stack, by its export.
fn base_import(config: &Config, env: &Env, job: &Job, what: &str) -> Value {
    import(
        Names::new(&config.system.id)
            .env_export(&env.name, &crate::job_base::export(&job.name, what)),
    )
}

fn retry_policy(job: &Job) -> Value {
    map! {
        "MaximumRetryAttempts" => i64::from(job.retries),
        "MaximumEventAgeInSeconds" => MAX_EVENT_AGE_SECONDS,
    }
    .into()
}

/// An EventBridge Scheduler schedule (not a scheduled EventBridge rule: only
/// Scheduler evaluates cron in a time zone).
fn add_schedule(
    t: &mut Template,
    config: &Config,
    env: &Env,
    job: &Job,
    expression: &str,
    timezone: &str,
) {
    let names = Names::new(&config.system.id);
    t.resources.insert(
        "Trigger".into(),
        Resource::new(
            "AWS::Scheduler::Schedule",
            map! {
                "Name" => names.job_trigger(&env.name, &job.name),
                // Scheduler's own default, stated: the schedule's ARN names
                // its group (`schedule/default/NAME`).
                "GroupName" => "default",
                "Description" => format!("Runs job {} of {}", job.name, env.name),
                "ScheduleExpression" => expression,
                "ScheduleExpressionTimezone" => timezone,
                "FlexibleTimeWindow" => map! { "Mode" => "OFF" },
                "State" => "ENABLED",
                "Target" => map! {
                    "Arn" => cluster(config, env),
                    "RoleArn" => invoke_role_import(config, env, job),
                    "EcsParameters" => map! {
                        "TaskDefinitionArn" => r#ref("TaskDefinition"),
                        "TaskCount" => 1i64,
                        "LaunchType" => "FARGATE",
                        "NetworkConfiguration" => network_configuration(config, env, "AwsvpcConfiguration"),
                    },
                    "RetryPolicy" => retry_policy(job),
                    "DeadLetterConfig" => map! { "Arn" => base_import(config, env, job, crate::job_base::DEAD_LETTER_QUEUE) },
                },
            },
        ),
    );
}

/// An EventBridge rule on the default bus with the job's task as target.
fn add_event_rule(t: &mut Template, config: &Config, env: &Env, job: &Job, pattern: &EventPattern) {
    let names = Names::new(&config.system.id);
    t.resources.insert(
        "Trigger".into(),
        Resource::new(
            "AWS::Events::Rule",
            map! {
                "Name" => names.job_trigger(&env.name, &job.name),
                "Description" => format!("Runs job {} of {} on matching events", job.name, env.name),
                "State" => "ENABLED",
                "EventPattern" => pattern_value(&PatternValue::Object(pattern.0.clone())),
                "Targets" => vec![map! {
                    "Id" => CONTAINER,
                    "Arn" => cluster(config, env),
                    "RoleArn" => invoke_role_import(config, env, job),
                    "EcsParameters" => map! {
                        "TaskDefinitionArn" => r#ref("TaskDefinition"),
                        "TaskCount" => 1i64,
                        "LaunchType" => "FARGATE",
                        "NetworkConfiguration" => network_configuration(config, env, "AwsVpcConfiguration"),
                    },
                    // EventBridge passes a rule's input to an ECS target as
                    // the RunTask overrides: the event reaches the job as
                    // `APPRUN_EVENT` (the predefined variable is the whole
                    // event, unescaped, so it stands as a JSON value).
                    "InputTransformer" => map! {
                        "InputTemplate" => event_input_template(),
                    },
                    "RetryPolicy" => retry_policy(job),
                    "DeadLetterConfig" => map! { "Arn" => base_import(config, env, job, crate::job_base::DEAD_LETTER_QUEUE) },
                }],
            },
        ),
    );
}

/// The variable a triggered run finds its event (EventBridge) or message
/// (SNS) in.
pub const EVENT_VARIABLE: &str = "APPRUN_EVENT";

/// The rule target's input template: a RunTask `overrides` document that
/// adds `APPRUN_EVENT` to the job's container, holding the whole event.
pub fn event_input_template() -> String {
    format!(
        r#"{{"containerOverrides":[{{"name":"{CONTAINER}","environment":[{{"name":"{EVENT_VARIABLE}","value":<aws.events.event.json>}}]}}]}}"#
    )
}

fn pattern_value(v: &PatternValue) -> Value {
    match v {
        PatternValue::String(s) => Value::String(s.as_str().into()),
        PatternValue::Integer(i) => Value::Int(*i),
        PatternValue::Float(f) => Value::Float(*f),
        PatternValue::Bool(b) => Value::Bool(*b),
        PatternValue::List(items) => Value::List(items.iter().map(pattern_value).collect()),
        PatternValue::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.as_str().into(), pattern_value(v));
            }
            Value::Map(out)
        }
    }
}

/// SNS cannot start an ECS task itself: the topic delivers to a queue (in
/// the network stack, see job_base.rs) and an EventBridge pipe reads it and
/// runs the task for each message (EventBridge Pipes: SQS source, ECS task
/// target).
fn add_pipe(t: &mut Template, config: &Config, env: &Env, job: &Job) {
    let e = &env.name;
    let names = Names::new(&config.system.id);
    t.resources.insert(
        "Trigger".into(),
        Resource::new(
            "AWS::Pipes::Pipe",
            map! {
                "Name" => names.job_trigger(e, &job.name),
                "Description" => format!("Runs job {} of {e} for each message", job.name),
                "DesiredState" => "RUNNING",
                "RoleArn" => invoke_role_import(config, env, job),
                "Source" => base_import(config, env, job, crate::job_base::INBOX),
                "SourceParameters" => map! {
                    "SqsQueueParameters" => map! { "BatchSize" => 1i64 },
                },
                "Target" => cluster(config, env),
                "TargetParameters" => map! {
                    "EcsTaskParameters" => map! {
                        "TaskDefinitionArn" => r#ref("TaskDefinition"),
                        "TaskCount" => 1i64,
                        "LaunchType" => "FARGATE",
                        "NetworkConfiguration" => network_configuration(config, env, "AwsvpcConfiguration"),
                        // A dynamic path parameter: Pipes puts each SQS
                        // message's body (the SNS message itself, delivered
                        // raw) into the run's `APPRUN_EVENT`.
                        "Overrides" => map! {
                            "ContainerOverrides" => vec![map! {
                                "Name" => CONTAINER,
                                "Environment" => vec![map! { "Name" => EVENT_VARIABLE, "Value" => "$.body" }],
                            }],
                        },
                    },
                },
                "Tags" => map! { "SystemId" => config.system.id.as_str(), "Env" => e.as_str() },
            },
        ),
    );
}

/// The alarm on failed runs: the job's dead-letter queue (network stack)
/// holds failed starts and failed runs; the alarm fires when it holds
/// anything.
fn add_alarm(t: &mut Template, config: &Config, env: &Env, job: &Job) {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let queue = names.job_dead_letter_queue(e, &job.name);
    t.resources.insert(
        "FailedRunsAlarm".into(),
        Resource::new(
            "AWS::CloudWatch::Alarm",
            map! {
                "AlarmName" => names.job_alarm(e, &job.name),
                "AlarmDescription" => format!("Job {} of {e} failed to start or failed: see its dead-letter queue {queue}", job.name),
                "Namespace" => "AWS/SQS",
                "MetricName" => "ApproximateNumberOfMessagesVisible",
                "Dimensions" => vec![map! { "Name" => "QueueName", "Value" => queue.as_str() }],
                "Statistic" => "Maximum",
                "Period" => 300i64,
                "EvaluationPeriods" => 1i64,
                "Threshold" => 0i64,
                "ComparisonOperator" => "GreaterThanThreshold",
                "TreatMissingData" => "notBreaching",
                "Tags" => env_tags(id, e),
            },
        ),
    );
}

fn add_outputs(t: &mut Template, config: &Config, env: &Env, job: &Job) {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let mut out = |key: &str, description: &str, value: Value| {
        t.outputs
            .insert(key.to_owned(), Output::new(description, value));
    };
    // cfn-lint (W6001) refuses outputs made of imports: the cluster's ARN
    // is spelled from its name; the subnets and group are the network
    // stack's outputs `JobSubnets` and `JobSecurityGroup`.
    out(
        outputs::CLUSTER_ARN,
        "ECS cluster the job runs in",
        here("ecs", &format!("cluster/{}", names.jobs_cluster(e))),
    );
    out(
        outputs::TASK_DEFINITION_ARN,
        "Task definition (at the deployed image tag)",
        r#ref("TaskDefinition"),
    );
    out(
        outputs::TASK_FAMILY,
        "Task definition family",
        names.job_family(e, &job.name).into(),
    );
    out(
        outputs::CONTAINER_NAME,
        "The job's container",
        CONTAINER.into(),
    );
    out(outputs::LOG_GROUP, "The job's log group", r#ref("LogGroup"));
    out(
        outputs::LOG_STREAM_PREFIX,
        "Log stream prefix: streams are PREFIX/CONTAINER/TASK_ID",
        LOG_STREAM_PREFIX.into(),
    );
    out(
        outputs::DEAD_LETTER_QUEUE_URL,
        "Dead-letter queue: failed starts and failed runs",
        sub(format!(
            "https://sqs.${{AWS::Region}}.${{AWS::URLSuffix}}/${{AWS::AccountId}}/{}",
            names.job_dead_letter_queue(e, &job.name)
        )),
    );
    out(
        outputs::ALARM_NAME,
        "Alarm on failed runs",
        r#ref("FailedRunsAlarm"),
    );
    match &job.trigger {
        JobTrigger::Schedule { .. } => out(
            outputs::SCHEDULE_NAME,
            "Scheduler schedule",
            r#ref("Trigger"),
        ),
        JobTrigger::Event(_) => out(outputs::RULE_NAME, "EventBridge rule", r#ref("Trigger")),
        JobTrigger::Sns(topic) => {
            out(outputs::PIPE_NAME, "EventBridge pipe", r#ref("Trigger"));
            // Spelled, not imported (cfn-lint W6001); a created topic is
            // exported by the network stack.
            let arn = match topic {
                SnsTopic::Create => here("sns", &names.job_trigger(e, &job.name)),
                SnsTopic::Existing(arn) => arn.as_str().into(),
            };
            out(
                outputs::TOPIC_ARN,
                "SNS topic whose messages start the job",
                arn,
            );
        }
    }
}
