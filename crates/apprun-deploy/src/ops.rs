//! Day-two operations from the terminal (`logs`, the pipeline part of
//! `status`, `approve`): their SDK clients. Their errors are
//! [`crate::DeployError`]s, as every error of this crate.
//!
//! These are the operator's own calls (CloudWatch Logs, CodePipeline), not
//! the deploy engine's, so they have clients of their own, built the same
//! way as [`crate::Clients`] and recorded in the same kind of call log.

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::calls::{CallLog, Recorder};
use crate::clients::Tuning;

/// CloudWatch Logs and CodePipeline clients sharing one config and call log.
#[derive(Debug, Clone)]
pub struct OpsClients {
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub codepipeline: aws_sdk_codepipeline::Client,
    pub calls: CallLog,
    pub tuning: Tuning,
}

impl OpsClients {
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
