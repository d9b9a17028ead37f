//! The only crate of apprun that talks to AWS.
//!
//! It deploys an environment's stacks wave by wave (stacks of a wave in
//! parallel), skips stacks whose template and parameters are already
//! deployed without a single write, shows change sets before executing
//! them, waits with live progress, and explains every state it cannot
//! resolve by itself. It also diffs, shows status and destroys.

mod approval;
mod calls;
mod changes;
mod clients;
mod destroy;
mod engine;
mod error;
mod events;
mod identity;
mod images;
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
pub use engine::{DeployOptions, DeployReport, Outcome, StackResult, check_only, deploy, diff};
pub use error::DeployError;
pub use events::{Event, Observer, Review, ReviewKind};
pub use identity::verify_account;
pub use images::ImageSource;
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
