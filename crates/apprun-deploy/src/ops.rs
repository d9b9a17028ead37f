//! Day-two operations from the terminal (`logs`, the pipeline part of
//! `status`, `approve`): their SDK clients and their one error type.
//!
//! These are the operator's own calls (CloudWatch Logs, CodePipeline), not
//! the deploy engine's, so they have clients of their own, built the same
//! way as [`crate::Clients`] and recorded in the same kind of call log.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::calls::{CallLog, Recorder};
use crate::clients::{AwsOptions, Tuning};
use crate::error::error_message;

/// CloudWatch Logs and CodePipeline clients sharing one config and call log.
#[derive(Debug, Clone)]
pub struct OpsClients {
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub codepipeline: aws_sdk_codepipeline::Client,
    pub calls: CallLog,
    pub tuning: Tuning,
}

impl OpsClients {
    /// Credentials, region and endpoint resolved as [`crate::Clients::load`]
    /// resolves them (the default chain, `--profile`, `--endpoint-url`).
    pub async fn load(options: &AwsOptions, tuning: Tuning) -> OpsClients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(options.region.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(tuning.max_attempts)
                    .with_initial_backoff(tuning.initial_backoff),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        OpsClients::from_sdk_config(&loader.load().await, tuning)
    }

    /// Builds the clients from an existing SDK config (tests pass one whose
    /// HTTP client answers with hand-written wire responses).
    pub fn from_sdk_config(config: &SdkConfig, tuning: Tuning) -> OpsClients {
        let calls = CallLog::default();
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(config)
            .interceptor(Recorder(calls.clone()))
            .build();
        let codepipeline = aws_sdk_codepipeline::config::Builder::from(config)
            .interceptor(Recorder(calls.clone()))
            .build();
        OpsClients {
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            codepipeline: aws_sdk_codepipeline::Client::from_conf(codepipeline),
            calls,
            tuning,
        }
    }
}

/// Why `logs`, the pipeline part of `status` or `approve` stopped. Each
/// variant says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// `--service` names a service the env does not have.
    #[error("unknown service `{service}`; env `{env}` has: {}", known.join(", "))]
    UnknownService {
        service: String,
        env: String,
        known: Vec<String>,
    },
    /// The stack the logs' location comes from is not deployed.
    #[error("stack {stack} is not deployed, so there are no logs yet: {advice}")]
    NotDeployed { stack: String, advice: String },
    /// The env has no pipeline stack, or its pipeline does not exist.
    #[error(
        "pipeline {pipeline} does not exist; deploy the env's pipeline stack first (`apprun deploy --env {env}`)"
    )]
    NoPipeline { pipeline: String, env: String },
    /// `logs --build` before any build ran.
    #[error(
        "pipeline {pipeline} has not run a build{}",
        match service { Some(s) => format!(" of service `{s}`"), None => String::new() }
    )]
    NoBuild {
        pipeline: String,
        service: Option<String>,
    },
    /// `approve` when no manual approval waits for an answer.
    #[error(
        "no manual approval is pending in pipeline {pipeline}{}; nothing was answered. `apprun status --env {env}` shows where its runs are",
        match last.as_deref() { Some(l) => format!(" ({l})"), None => String::new() }
    )]
    NoPendingApproval {
        pipeline: String,
        env: String,
        /// The approval action's last state, when it ever ran.
        last: Option<String>,
    },
    /// The approval's token is no longer valid: answered meanwhile (in the
    /// console, by someone else) or expired (CodePipeline waits 7 days).
    #[error(
        "the approval in pipeline {pipeline} (stage {stage}) was already answered or has expired ({code}: {message}); nothing was changed. `apprun status --env {env}` shows the run's state"
    )]
    ApprovalExpired {
        pipeline: String,
        stage: String,
        env: String,
        code: String,
        message: String,
    },
    /// Any other AWS error, with the operation it answered.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
}

impl OpsError {
    /// Wraps an SDK error, naming the endpoint's HTTP status when its body
    /// is not AWS's wire format.
    pub(crate) fn aws<E>(
        operation: &'static str,
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> OpsError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let mut message = match (err.code(), err.message()) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (Some(code), None) => code.to_owned(),
            _ => error_message(err),
        };
        if let Some(code) = status.filter(|c| *c >= 500) {
            message = format!("the endpoint answered HTTP {code} ({message}) even after retries");
        }
        OpsError::Aws { operation, message }
    }
}

/// The AWS error code of an SDK error, when the service answered with one.
pub(crate) fn error_code<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> Option<&str> {
    err.code()
}

/// An SDK timestamp as RFC 3339 (`2026-11-26T09:30:00Z`).
pub(crate) fn rfc3339(t: &aws_smithy_types::DateTime) -> String {
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}
