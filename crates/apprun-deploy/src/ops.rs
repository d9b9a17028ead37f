//! Day-two operations from the terminal (`logs`, the pipeline part of
//! `status`, `approve`): their AWS client. Their errors are
//! [`crate::DeployError`]s, as every error of this crate.
//!
//! These are the operator's own calls (CloudWatch Logs, CodePipeline), not
//! the deploy engine's, so they have a client of their own, built the same
//! way as [`crate::Clients`] and recorded in the same kind of call log.

use aws_config::SdkConfig;

use crate::api::Api;
use crate::calls::CallLog;
use crate::clients::Tuning;

/// The client of the day-two operations (CloudWatch Logs, CodePipeline) and
/// its call log.
#[derive(Debug, Clone)]
pub struct OpsClients {
    pub api: Api,
    pub calls: CallLog,
    pub tuning: Tuning,
}

impl OpsClients {
    /// Builds the client from an existing SDK config (tests pass one whose
    /// HTTP client answers with hand-written wire responses).
    pub fn from_sdk_config(config: &SdkConfig, tuning: Tuning) -> OpsClients {
        let calls = CallLog::default();
        OpsClients {
            api: Api::new(config, calls.clone(), tuning),
            calls,
            tuning,
        }
    }
}
