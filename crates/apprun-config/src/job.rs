//! The validated form of `[jobs.NAME]`: a task run from a service's image on
//! a schedule or on an event.

use std::collections::BTreeMap;

use crate::runtime::Runtime;
use crate::size::{Cpu, Memory};

/// One job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub name: String,
    /// Whose image the task runs.
    pub image: JobImage,
    /// The container's command (argv): it replaces the image's `CMD`; the
    /// image's `ENTRYPOINT` stays.
    pub command: Vec<String>,
    /// A Fargate (cpu, memory) pair.
    pub cpu: Cpu,
    pub memory: Memory,
    /// How long one run may take, in seconds (see [`Job::timeout_seconds`]).
    pub timeout_seconds: u32,
    /// How often a failed start is retried (Scheduler and EventBridge
    /// `RetryPolicy.MaximumRetryAttempts`; for an SNS job, deliveries of
    /// the message to the pipe beyond the first).
    pub retries: u32,
    pub trigger: JobTrigger,
    /// The envs the job is deployed to; empty means every env.
    pub envs: Vec<String>,
    /// `env` and `secrets`, as a service's (validated for ECS, where jobs
    /// run).
    pub runtime: Runtime,
}

impl Job {
    /// Whether the job is deployed to `env`.
    pub fn runs_in(&self, env: &str) -> bool {
        self.envs.is_empty() || self.envs.iter().any(|e| e == env)
    }

    /// The plain variables of the job's container, in order: `ENV` and
    /// `SYSTEM_ID` as a service sees them, the job's own `env` (sorted),
    /// then `APPRUN_JOB` and `APPRUN_JOB_TIMEOUT`. The one source for the
    /// task definition and for `apprun job local` (the config layer refuses
    /// those names in `env`, so none repeats). Secrets are not among them.
    pub fn task_environment(&self, system_id: &str, env: &str) -> Vec<(String, String)> {
        let mut out = vec![
            ("ENV".to_string(), env.to_string()),
            ("SYSTEM_ID".to_string(), system_id.to_string()),
        ];
        out.extend(self.runtime.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.push(("APPRUN_JOB".into(), self.name.clone()));
        out.push((
            "APPRUN_JOB_TIMEOUT".into(),
            self.timeout_seconds.to_string(),
        ));
        out
    }

    /// The service whose image (the env's repository at the pinned tag) the
    /// job runs.
    pub fn service(&self) -> &str {
        match &self.image {
            JobImage::Service(s) => s,
        }
    }
}

/// Where a job's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobImage {
    /// The image of this service: its repository, at the tag the service
    /// runs (the pipeline deploys both with the same tag).
    Service(String),
}

/// What starts a job. Exactly one per job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobTrigger {
    /// An EventBridge Scheduler expression, `cron(...)` or `rate(...)`,
    /// evaluated in an IANA time zone.
    Schedule {
        expression: String,
        timezone: String,
    },
    /// An EventBridge event pattern on the default event bus.
    Event(EventPattern),
    /// Each message published to an SNS topic.
    Sns(SnsTopic),
}

/// An EventBridge event pattern, as written (keys sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern(pub BTreeMap<String, PatternValue>);

/// One value of an event pattern: JSON's shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternValue {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    List(Vec<PatternValue>),
    Object(BTreeMap<String, PatternValue>),
}

/// The topic of an SNS job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnsTopic {
    /// A topic that exists already, by ARN.
    Existing(String),
    /// A topic apprun creates in the job's stack and exports.
    Create,
}
