//! The only crate of apprun that talks to AWS.
//!
//! It deploys an environment's stacks wave by wave (stacks of a wave in
//! parallel), skips stacks whose template and parameters are already
//! deployed without a single write, shows change sets before executing
//! them, waits with live progress, and explains every state it cannot
//! resolve by itself. It also diffs, shows status and destroys.

pub mod api;
mod approval;
mod calls;
mod changes;
mod clients;
mod destroy;
mod domain_status;
mod domains;
mod engine;
mod error;
mod events;
mod identity;
mod images;
mod jobs;
mod local_secrets;
mod logs;
mod migrate;
mod ops;
mod pipeline_runs;
mod release;
mod stack;
mod status;
mod wait;

pub use approval::{ApprovalSummary, PendingApproval, answer_approval, pending_approval};
pub use calls::{ApiCall, CallLog};
pub use changes::{Change, ChangeAction, Replacement};
pub use clients::{AwsOptions, Clients, Tuning};
pub use destroy::{DestroyReport, destroy};
pub use domain_status::{
    DomainStatus, ScalingBounds, ServiceStatus, service_status, service_status_lines,
};
pub use domains::{
    DnsRecord, DomainPlan, DomainReport, DomainTarget, PlannedAction, PlannedRecord, PriorDomains,
    RecordAction, RecordOutcome, ServiceDomainPlan, ServiceDomainResult,
    apply_until as apply_domains_until, plan as plan_domains, prior as prior_domains,
    reconcile as reconcile_domains, reconcile_until as reconcile_domains_until,
    targets as domain_targets,
};
pub use engine::{DeployOptions, DeployReport, Outcome, StackResult, check_only, deploy, diff};
pub use error::DeployError;
pub use events::{Event, Observer, Review, ReviewKind};
pub use identity::verify_account;
pub use images::ImageSource;
pub use jobs::{
    JobEvent, JobListing, JobLogLine, JobRun, JobTarget, RunEnd, RunOutcome, STARTED_BY,
    STOPPED_TASKS_KEPT, family_of, follow_job, job_listing, job_stacks, job_target, start_job,
    task_id,
};
pub use local_secrets::{ResolvedSecret, SecretValue, describe_source, resolve_secrets};
pub use logs::{
    FollowEnd, FollowTiming, LogEvent, LogQuery, LogSource, LogTarget, apprunner_log_group,
    follow_logs, log_targets, read_logs,
};
pub use migrate::{MigrateOptions, MigrateReport, migrate};
pub use ops::OpsClients;
pub use pipeline_runs::{
    PipelineRun, PipelineStatus, RUNS_SHOWN, StageRun, image_tag, pipeline_name, pipeline_status,
};
pub use release::{
    Health, ReleaseOptions, ReleaseReport, ecr_login, health_check, missing_infrastructure,
    release, verify_service,
};
pub use stack::{Deployed, StackState, classify};
pub use status::{StackStatusLine, status};
