//! What the network stack holds for the env's jobs: the stack apprun
//! deploys with the user's credentials, never the pipeline. Everything of a
//! job that creates or changes IAM, or whose CloudFormation handlers list
//! `iam:PassRole` without naming a role (EventBridge rules targeting a
//! queue, SNS topics and subscriptions), lives here, so that the pipeline
//! role, which deploys the job stacks, needs no IAM write and no pass of
//! an unnamed role.
//!
//! Per env: the jobs cluster and the tasks' two roles. Per job: the role its
//! trigger starts the task with, the dead-letter queue (failed starts and
//! failed runs), the rule that sends failed runs there, and for an SNS
//! job its topic (`sns = "create"`), the queue the topic delivers to and
//! the subscription.

use apprun_config::{Config, Env, Job, JobTrigger, Names, SnsTopic, Tier};
use apprun_template::{Output, Resource, Template, Value, get_att, join, map, r#ref, sub};

use crate::ids::pascal;
use crate::job::{
    CLUSTER_EXPORT, EXECUTION_ROLE_EXPORT, TASK_ROLE_EXPORT, deleted_with_the_job, here, invoker,
    jobs_in, outputs, role_arn,
};
use crate::policy::{allow, document, with_condition};
use crate::tags::env_tags;

/// How long a failed start or run waits in the dead-letter queue (SQS's
/// maximum, 14 days).
const DEAD_LETTER_RETENTION_SECONDS: i64 = 1_209_600;
/// How long a message waits in an SNS job's queue (SQS's default, 4 days).
const INBOX_RETENTION_SECONDS: i64 = 345_600;

/// The job's exports (`${id}-${env}-Job<Name><what>`).
pub(crate) const INVOKE_ROLE: &str = "InvokeRoleArn";
pub(crate) const DEAD_LETTER_QUEUE: &str = "DeadLetterQueueArn";
pub(crate) const INBOX: &str = "InboxArn";
pub(crate) const TOPIC: &str = "TopicArn";

/// The logical name of one of the job's exports (before the env prefix).
pub(crate) fn export_name(job: &str, what: &str) -> String {
    format!("Job{}{what}", pascal(job))
}

pub(crate) use export_name as export;

/// What the network stack holds for the env's jobs (nothing without jobs,
/// so that configs without jobs synthesize as before): the cluster, the
/// tasks' roles and each job's invoke role, exported for the job stacks.
pub(crate) fn add_jobs_base(t: &mut Template, config: &Config, env: &Env) {
    let jobs = jobs_in(config, env);
    if jobs.is_empty() {
        return;
    }
    add_jobs_cluster(t, config, env);
    add_jobs_roles(t, config, env, &jobs);
    for job in &jobs {
        t.resources.insert(
            format!("Job{}InvokeRole", pascal(&job.name)),
            invoke_role(config, env, job),
        );
        add_queues(t, config, env, job);
    }
    add_task_network_outputs(t, env);
    add_env_exports(t, config, env);
    for job in &jobs {
        add_job_exports(t, config, env, job);
    }
}

fn add_jobs_cluster(t: &mut Template, config: &Config, env: &Env) {
    let id = &config.system.id;
    let e = &env.name;
    t.resources.insert(
        "JobsCluster".into(),
        Resource::new(
            "AWS::ECS::Cluster",
            map! {
                "ClusterName" => Names::new(id).jobs_cluster(e),
                "Tags" => env_tags(id, e),
            },
        ),
    );
}

/// The tasks' execution role and task role, shared by the env's jobs.
fn add_jobs_roles(t: &mut Template, config: &Config, env: &Env, jobs: &[&Job]) {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    t.resources.insert(
        "JobsExecutionRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.jobs_execution_role(e),
                "Description" => format!("ECS pulls the image and writes the logs of {e}'s jobs with this role"),
                "AssumeRolePolicyDocument" => trust("ecs-tasks.amazonaws.com"),
                "Policies" => [Some(execution_policy(config, env, jobs)), secrets_policy(jobs)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
                "Tags" => env_tags(id, e),
            },
        ),
    );
    t.resources.insert(
        "JobsTaskRole".into(),
        Resource::new(
            "AWS::IAM::Role",
            map! {
                "RoleName" => names.jobs_task_role(e),
                "Description" => format!("The own permissions of {e}'s jobs (as the service's instance role)"),
                "AssumeRolePolicyDocument" => trust("ecs-tasks.amazonaws.com"),
                "Policies" => vec![crate::iam::system_tables_policy(id)],
                "Tags" => env_tags(id, e),
            },
        ),
    );
}

/// Where `apprun job run` starts a task: as the triggers do (not
/// exported: the job stacks import the subnets and group themselves).
fn add_task_network_outputs(t: &mut Template, env: &Env) {
    let protect: Vec<Value> = env
        .subnets
        .tier(Tier::Protect)
        .map(|s| r#ref(s.logical_id()))
        .collect();
    t.outputs.insert(
        outputs::SUBNETS.into(),
        Output::new("Subnets the env's jobs run in", join(",", protect)),
    );
    t.outputs.insert(
        outputs::SECURITY_GROUP.into(),
        Output::new(
            "Security group of the env's job tasks",
            r#ref("ProtectSecurityGroup"),
        ),
    );
}

/// Adds an output exported as `${id}-${env}-<logical>`.
fn add_export(
    t: &mut Template,
    config: &Config,
    env: &Env,
    logical: &str,
    value: Value,
    description: &str,
) {
    let export_as = Names::new(&config.system.id).env_export(&env.name, logical);
    t.outputs.insert(
        logical.to_owned(),
        Output::new(description, value).exported_as(export_as),
    );
}

/// The exports of the env's cluster and the tasks' roles.
fn add_env_exports(t: &mut Template, config: &Config, env: &Env) {
    add_export(
        t,
        config,
        env,
        CLUSTER_EXPORT,
        get_att("JobsCluster", "Arn"),
        "ECS cluster of the env's jobs",
    );
    add_export(
        t,
        config,
        env,
        TASK_ROLE_EXPORT,
        get_att("JobsTaskRole", "Arn"),
        "Task role of the env's jobs",
    );
    add_export(
        t,
        config,
        env,
        EXECUTION_ROLE_EXPORT,
        get_att("JobsExecutionRole", "Arn"),
        "Task execution role of the env's jobs",
    );
}

/// The exports of one job's invoke role, queues and topic.
fn add_job_exports(t: &mut Template, config: &Config, env: &Env, job: &Job) {
    let p = pascal(&job.name);
    let mut export = |what: &str, value: Value, description: String| {
        add_export(
            t,
            config,
            env,
            &export_name(&job.name, what),
            value,
            &description,
        );
    };
    export(
        INVOKE_ROLE,
        get_att(format!("Job{p}InvokeRole"), "Arn"),
        format!("Role that starts job {}", job.name),
    );
    export(
        DEAD_LETTER_QUEUE,
        get_att(format!("Job{p}DeadLetterQueue"), "Arn"),
        format!("Dead-letter queue of job {}", job.name),
    );
    if let JobTrigger::Sns(topic) = &job.trigger {
        export(
            INBOX,
            get_att(format!("Job{p}Inbox"), "Arn"),
            format!("Queue of job {}'s SNS messages", job.name),
        );
        if *topic == SnsTopic::Create {
            export(
                TOPIC,
                r#ref(format!("Job{p}Topic")),
                format!("SNS topic whose messages start job {}", job.name),
            );
        }
    }
}

/// What ECS does with the execution role when a job's task starts, on the
/// env's own resources only (instead of the AWS-managed
/// `AmazonECSTaskExecutionRolePolicy`, which allows every repository and
/// log group): pull the image from the repositories of the services whose
/// image the env's jobs run, and write the jobs' log streams.
/// `ecr:GetAuthorizationToken` has no resource type: `*` is its only form.
fn execution_policy(config: &Config, env: &Env, jobs: &[&Job]) -> Value {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let repositories: std::collections::BTreeSet<String> = jobs
        .iter()
        .map(|j| names.ecr_repository(e, j.service(), config.is_primary(j.service())))
        .collect();
    let statements = vec![
        allow("EcrLogin", &["ecr:GetAuthorizationToken"], vec!["*".into()]).into(),
        allow(
            "PullJobImages",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            repositories
                .iter()
                .map(|r| here("ecr", &format!("repository/{r}")))
                .collect(),
        )
        .into(),
        allow(
            "WriteJobLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![here(
                "logs",
                &format!("log-group:{}:*", names.job_log_group(e, "*")),
            )],
        )
        .into(),
    ];
    map! {
        "PolicyName" => "job-execution",
        "PolicyDocument" => document(statements),
    }
    .into()
}

/// Read access to the secrets of the env's jobs, for the execution role
/// they share (ECS reads a task's secrets with it when the task starts;
/// each container receives only its own job's). None without secrets.
fn secrets_policy(jobs: &[&Job]) -> Option<Value> {
    let all: std::collections::BTreeMap<String, apprun_config::SecretRef> = jobs
        .iter()
        .flat_map(|j| {
            j.runtime
                .secrets
                .iter()
                .map(move |(var, s)| (format!("{}/{var}", j.name), s.clone()))
        })
        .collect();
    if all.is_empty() {
        return None;
    }
    let statements = crate::iam::secret_read_statements(&all)
        .into_iter()
        .map(Value::Map)
        .collect();
    Some(
        map! {
            "PolicyName" => "job-secrets",
            "PolicyDocument" => document(statements),
        }
        .into(),
    )
}

/// A trust policy for one service principal, from this account only (the
/// confused-deputy guard the Scheduler, EventBridge and Pipes guides show).
fn trust(service: &str) -> Value {
    let mut statement = map! {
        "Effect" => "Allow",
        "Principal" => map! { "Service" => vec![service] },
        "Action" => "sts:AssumeRole",
    };
    if service != "ecs-tasks.amazonaws.com" {
        statement.insert(
            "Condition".into(),
            map! { "StringEquals" => map! { "aws:SourceAccount" => sub("${AWS::AccountId}") } }
                .into(),
        );
    }
    document(vec![statement.into()])
}

/// The role a job's trigger starts its task with: RunTask of exactly the
/// job's task definition family in the jobs cluster, passing exactly the
/// jobs' task and execution roles to ECS tasks; the schedule also sends
/// to the dead-letter queue with it, and an SNS job's pipe reads its queue.
fn invoke_role(config: &Config, env: &Env, job: &Job) -> Resource {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let family = names.job_family(e, &job.name);
    let mut run = allow(
        "RunJobTask",
        &["ecs:RunTask"],
        vec![here("ecs", &format!("task-definition/{family}:*"))],
    );
    // Only in the jobs cluster; its ARN needs `Sub`, which `with_condition`
    // (plain strings) does not take.
    run.insert(
        "Condition".into(),
        map! { "ArnEquals" => map! { "ecs:cluster" => here("ecs", &format!("cluster/{}", names.jobs_cluster(e))) } }
            .into(),
    );
    let mut statements: Vec<Value> = vec![
        run.into(),
        with_condition(
            allow(
                "PassJobRoles",
                &["iam:PassRole"],
                vec![
                    role_arn(&names.jobs_task_role(e)),
                    role_arn(&names.jobs_execution_role(e)),
                ],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["ecs-tasks.amazonaws.com"],
        )
        .into(),
    ];
    match &job.trigger {
        JobTrigger::Schedule { .. } => statements.push(
            allow(
                "DeadLetters",
                &["sqs:SendMessage"],
                vec![here("sqs", &names.job_dead_letter_queue(e, &job.name))],
            )
            .into(),
        ),
        JobTrigger::Sns(_) => statements.push(
            allow(
                "ReadInbox",
                &[
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                vec![here("sqs", &names.job_inbox_queue(e, &job.name))],
            )
            .into(),
        ),
        JobTrigger::Event(_) => {}
    }
    Resource::new(
        "AWS::IAM::Role",
        map! {
            "RoleName" => names.job_invoke_role(e, &job.name),
            "Description" => format!("Starts job {} of {e}", job.name),
            "AssumeRolePolicyDocument" => trust(invoker(job)),
            "Policies" => vec![map! {
                "PolicyName" => "run-job",
                "PolicyDocument" => document(statements),
            }],
            "Tags" => env_tags(id, e),
        },
    )
}

/// The job's dead-letter queue, the rule that sends its failed runs there,
/// and, for an SNS job, the topic's queue and subscription.
fn add_queues(t: &mut Template, config: &Config, env: &Env, job: &Job) {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let p = pascal(&job.name);
    let dlq = format!("Job{p}DeadLetterQueue");
    t.resources.insert(
        dlq.clone(),
        deleted_with_the_job(Resource::new(
            "AWS::SQS::Queue",
            map! {
                "QueueName" => names.job_dead_letter_queue(e, &job.name),
                "MessageRetentionPeriod" => DEAD_LETTER_RETENTION_SECONDS,
                "SqsManagedSseEnabled" => true,
                "Tags" => env_tags(id, e),
            },
        )),
    );
    let rule = format!("Job{p}FailedRuns");
    t.resources
        .insert(rule.clone(), failed_runs_rule(config, env, job, &dlq));
    // EventBridge sends with the queue's permission: the failed-runs rule,
    // and an event job's trigger rule (its dead letters). A schedule sends
    // with its role instead (Scheduler's DLQ uses the target's role).
    let mut senders = vec![get_att(&rule, "Arn")];
    if matches!(job.trigger, JobTrigger::Event(_)) {
        senders.push(here(
            "events",
            &format!("rule/{}", names.job_trigger(e, &job.name)),
        ));
    }
    t.resources.insert(
        format!("Job{p}DeadLetterQueuePolicy"),
        queue_policy(&dlq, "events.amazonaws.com", senders),
    );
    if let JobTrigger::Sns(topic) = &job.trigger {
        add_inbox(t, config, env, job, topic, &dlq);
    }
}

/// Runs that start and then fail: ECS sends an "ECS Task State Change"
/// event when a task stops; this rule matches the job's tasks that stopped
/// with a non-zero exit code or could not start, and sends them to the
/// dead-letter queue.
fn failed_runs_rule(config: &Config, env: &Env, job: &Job, dlq: &str) -> Resource {
    let names = Names::new(&config.system.id);
    let e = &env.name;
    let family = names.job_family(e, &job.name);
    Resource::new(
        "AWS::Events::Rule",
        map! {
            "Name" => names.job_failed_runs_rule(e, &job.name),
            "Description" => format!("Failed runs of job {} of {e} go to its dead-letter queue", job.name),
            "State" => "ENABLED",
            "EventPattern" => map! {
                "source" => vec!["aws.ecs"],
                "detail-type" => vec!["ECS Task State Change"],
                "detail" => map! {
                    "clusterArn" => vec![get_att("JobsCluster", "Arn")],
                    "taskDefinitionArn" => vec![Value::from(map! {
                        "prefix" => here("ecs", &format!("task-definition/{family}:")),
                    })],
                    "lastStatus" => vec!["STOPPED"],
                    "$or" => vec![
                        Value::from(map! { "containers" => map! { "exitCode" => vec![Value::from(map! { "anything-but" => 0i64 })] } }),
                        Value::from(map! { "stopCode" => vec!["TaskFailedToStart"] }),
                    ],
                },
            },
            "Targets" => vec![map! {
                "Id" => "dead-letter-queue",
                "Arn" => get_att(dlq, "Arn"),
            }],
        },
    )
}

/// A queue policy letting `service` send to `queue` from `sources` only.
fn queue_policy(queue: &str, service: &str, sources: Vec<Value>) -> Resource {
    Resource::new(
        "AWS::SQS::QueuePolicy",
        map! {
            "Queues" => vec![r#ref(queue)],
            "PolicyDocument" => document(vec![map! {
                "Sid" => "Deliveries",
                "Effect" => "Allow",
                "Principal" => map! { "Service" => service },
                "Action" => "sqs:SendMessage",
                "Resource" => get_att(queue, "Arn"),
                "Condition" => map! { "ArnEquals" => map! { "aws:SourceArn" => sources } },
            }.into()]),
        },
    )
}

/// An SNS job's topic (when apprun creates it), the queue it delivers raw
/// messages to (the pipe in the job stack reads it; a message the pipe
/// cannot start a task for is received again, `retries` more times, then
/// moved to the dead-letter queue) and the subscription.
fn add_inbox(t: &mut Template, config: &Config, env: &Env, job: &Job, topic: &SnsTopic, dlq: &str) {
    let id = &config.system.id;
    let e = &env.name;
    let names = Names::new(id);
    let p = pascal(&job.name);
    let topic_arn = match topic {
        SnsTopic::Create => {
            t.resources.insert(
                format!("Job{p}Topic"),
                Resource::new(
                    "AWS::SNS::Topic",
                    map! {
                        "TopicName" => names.job_trigger(e, &job.name),
                        "Tags" => env_tags(id, e),
                    },
                ),
            );
            r#ref(format!("Job{p}Topic"))
        }
        SnsTopic::Existing(arn) => Value::from(arn.as_str()),
    };
    let inbox = format!("Job{p}Inbox");
    t.resources.insert(
        inbox.clone(),
        deleted_with_the_job(Resource::new(
            "AWS::SQS::Queue",
            map! {
                "QueueName" => names.job_inbox_queue(e, &job.name),
                // SQS's default, stated: a message waits that long for the pipe.
                "MessageRetentionPeriod" => INBOX_RETENTION_SECONDS,
                "SqsManagedSseEnabled" => true,
                "RedrivePolicy" => map! {
                    "deadLetterTargetArn" => get_att(dlq, "Arn"),
                    "maxReceiveCount" => i64::from(job.retries) + 1,
                },
                "Tags" => env_tags(id, e),
            },
        )),
    );
    t.resources.insert(
        format!("Job{p}InboxPolicy"),
        queue_policy(&inbox, "sns.amazonaws.com", vec![topic_arn.clone()]),
    );
    let mut subscription = map! {
        "TopicArn" => topic_arn,
        "Protocol" => "sqs",
        "Endpoint" => get_att(&inbox, "Arn"),
        "RawMessageDelivery" => true,
    };
    if let SnsTopic::Existing(arn) = topic
        && let Some(region) = arn.split(':').nth(3)
    {
        // The topic's own region, from its ARN: CloudFormation subscribes
        // in the stack's region unless told, and SNS delivers to a queue in
        // another region. Stated even when it is the stack's, so that the
        // template is right whichever region it is deployed to.
        subscription.insert("Region".into(), region.into());
    }
    t.resources.insert(
        format!("Job{p}Subscription"),
        Resource::new("AWS::SNS::Subscription", subscription),
    );
}
