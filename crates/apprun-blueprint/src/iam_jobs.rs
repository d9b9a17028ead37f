//! What the pipeline role needs to deploy the job stacks: CloudFormation
//! uses it for `${id}-${env}-job-${name}` (the pipeline's deploy stage
//! passes it, and CloudFormation keeps using it for every later operation
//! on those stacks, from the pipeline or from apprun).
//!
//! A job stack holds a task definition, a log group, its trigger (a
//! Scheduler schedule, an EventBridge rule or an EventBridge pipe) and an
//! alarm; the grants are those resource types' create, read, update and
//! delete handler permissions and tagging permissions (their schemas'
//! `handlers.*.permissions`), each on the names the job stacks use
//! (`${id}-*-job-*`), for the triggers the config uses. No IAM write and
//! no queue or topic: those live in the network stack (job_base.rs), which
//! apprun deploys.

use apprun_config::{Config, JobTrigger};
use apprun_template::{Map, Value, sub};

use crate::policy::{allow, with_condition};

/// A regional ARN of this account: `here("ecs", "task-definition/x:*")`.
fn here(service: &str, resource: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
    ))
}

fn role(name: &str) -> Value {
    sub(format!(
        "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"
    ))
}

/// Which trigger kinds the config's jobs use: each needs its own grants.
#[derive(Clone, Copy)]
struct Triggers {
    schedules: bool,
    rules: bool,
    pipes: bool,
}

impl Triggers {
    fn of(config: &Config) -> Self {
        let uses = |f: fn(&JobTrigger) -> bool| config.jobs.values().any(|j| f(&j.trigger));
        Self {
            schedules: uses(|t| matches!(t, JobTrigger::Schedule { .. })),
            rules: uses(|t| matches!(t, JobTrigger::Event(_))),
            pipes: uses(|t| matches!(t, JobTrigger::Sns(_))),
        }
    }

    /// The services the invoke roles are passed to, one per trigger kind used.
    fn invokers(self) -> Vec<&'static str> {
        [
            (self.rules, "events.amazonaws.com"),
            (self.pipes, "pipes.amazonaws.com"),
            (self.schedules, "scheduler.amazonaws.com"),
        ]
        .into_iter()
        .filter_map(|(used, principal)| used.then_some(principal))
        .collect()
    }
}

/// The pipeline role's statements for the config's jobs; empty without jobs.
pub(crate) fn pipeline_statements(config: &Config) -> Vec<Map> {
    if config.jobs.is_empty() {
        return Vec::new();
    }
    let id = &config.system.id;
    // Every job resource is named `${id}-${env}-job-${job}...`.
    let named = format!("{id}-*-job-*");
    let triggers = Triggers::of(config);
    let mut statements = task_definition_statements(&named);
    statements.extend(log_group_statements(id));
    statements.push(alarm_statement(&named));
    statements.extend(role_statements(id, &named, triggers));
    statements.extend(trigger_statements(&named, triggers));
    statements
}

/// The task definitions' handlers, and the lookups without resource-level
/// permissions.
fn task_definition_statements(named: &str) -> Vec<Map> {
    vec![
        // Registering and tagging a task definition are authorized on the
        // ARN of the new revision, which the permission proof cannot name
        // before it exists: any revision of apprun's job families
        // (`${id}-${env}-job-${name}`). What such a task can do is bounded
        // by the roles this policy may pass, the jobs' own.
        allow(
            "JobTaskDefinitions",
            &[
                "ecs:ListTagsForResource",
                "ecs:RegisterTaskDefinition",
                "ecs:TagResource",
                "ecs:UntagResource",
            ],
            vec![here("ecs", &format!("task-definition/{named}:*"))],
        ),
        // No resource-level permissions.
        allow(
            "JobLookups",
            &[
                "ecs:DeregisterTaskDefinition",
                "ecs:DescribeTaskDefinition",
                "logs:DescribeIndexPolicies",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
            ],
            vec!["*".into()],
        ),
    ]
}

/// The LogGroup handlers: account-wide settings and the jobs' log groups.
fn log_group_statements(id: &str) -> Vec<Map> {
    vec![
        // The rest of the LogGroup handlers' list: the reference gives these
        // no resource types, so `*` is their only form (apprun sets none of
        // the properties that use them).
        allow(
            "JobLogGroupAccountSettings",
            &[
                "logs:CreateLogDelivery",
                "logs:DeleteIndexPolicy",
                "logs:DeleteResourcePolicy",
                "logs:PutIndexPolicy",
                "logs:PutResourcePolicy",
            ],
            vec!["*".into()],
        ),
        allow(
            "JobLogs",
            crate::iam::LOG_GROUP_HANDLER_ACTIONS,
            vec![here("logs", &format!("log-group:/apprun/{id}/*/job-*"))],
        ),
    ]
}

/// The Alarm handlers on the jobs' alarms.
fn alarm_statement(named: &str) -> Map {
    allow(
        "JobAlarms",
        &[
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ],
        vec![here("cloudwatch", &format!("alarm:{named}"))],
    )
}

/// Reading and passing the roles the job stacks name (the network stack
/// creates them).
fn role_statements(id: &str, named: &str, triggers: Triggers) -> Vec<Map> {
    vec![
        // The tasks' roles the task definitions name: read (the handlers'
        // iam:GetRole)...
        allow(
            "JobRoleLookups",
            &["iam:GetRole"],
            vec![role(&format!("{id}-*-jobs-*"))],
        ),
        // ... and passed: the tasks' roles to ECS tasks (task definitions),
        with_condition(
            allow(
                "PassJobTaskRoles",
                &["iam:PassRole"],
                vec![role(&format!("{id}-*-jobs-*"))],
            ),
            "StringEquals",
            "iam:PassedToService",
            &["ecs-tasks.amazonaws.com"],
        ),
        // ... the invoke roles to the triggers that start the tasks.
        with_condition(
            allow("PassJobInvokeRoles", &["iam:PassRole"], vec![role(named)]),
            "StringEquals",
            "iam:PassedToService",
            &triggers.invokers(),
        ),
    ]
}

/// The handlers of the trigger kinds the jobs use.
fn trigger_statements(named: &str, triggers: Triggers) -> Vec<Map> {
    let mut statements = Vec::new();
    if triggers.schedules {
        statements.push(schedule_statement(named));
    }
    if triggers.rules {
        statements.push(rule_statement(named));
    }
    if triggers.pipes {
        statements.extend(pipe_statements(named));
    }
    statements
}

fn schedule_statement(named: &str) -> Map {
    allow(
        "JobSchedules",
        &[
            "scheduler:CreateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
        ],
        vec![here("scheduler", &format!("schedule/default/{named}"))],
    )
}

fn rule_statement(named: &str) -> Map {
    allow(
        "JobRules",
        &[
            "events:DeleteRule",
            "events:DescribeRule",
            "events:ListTagsForResource",
            "events:ListTargetsByRule",
            "events:PutRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:TagResource",
            "events:UntagResource",
        ],
        vec![here("events", &format!("rule/{named}"))],
    )
}

fn pipe_statements(named: &str) -> Vec<Map> {
    vec![
        allow(
            "JobPipes",
            &[
                "pipes:CreatePipe",
                "pipes:DeletePipe",
                "pipes:DescribePipe",
                "pipes:ListTagsForResource",
                "pipes:TagResource",
                "pipes:UntagResource",
                "pipes:UpdatePipe",
            ],
            vec![here("pipes", &format!("pipe/{named}"))],
        ),
        // The rest of the Pipe handlers' list, for a pipe's log
        // configuration (apprun sets none): log deliveries have no resource
        // types.
        allow(
            "JobPipeLogDeliveries",
            &[
                "logs:DeleteLogDelivery",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:UpdateLogDelivery",
            ],
            vec!["*".into()],
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_jobs_no_statements() {
        let mut config =
            apprun_config::Config::parse(include_str!("../../../apprun.toml"), "apprun.toml")
                .expect("shipped config");
        assert!(!super::pipeline_statements(&config).is_empty());
        config.jobs.clear();
        assert!(super::pipeline_statements(&config).is_empty());
    }
}
