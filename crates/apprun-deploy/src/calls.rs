//! Every AWS API call a run makes, recorded by an interceptor on the SDK's
//! orchestrator (SDK clients and apprun's own [`crate::api::Api`] alike): what the
//! tests use to prove that an unchanged redeploy writes nothing, and what the
//! benchmark counts.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One call: service and operation, e.g. `CloudFormation` / `DescribeStacks`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiCall {
    pub service: String,
    pub operation: String,
}

impl ApiCall {
    /// Whether the call can change anything in the account.
    pub fn is_mutating(&self) -> bool {
        const READ: &[&str] = &["Describe", "Get", "List", "Head", "Validate", "Estimate"];
        !READ.iter().any(|p| self.operation.starts_with(p))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<ApiCall>>>);

impl CallLog {
    pub fn calls(&self) -> Vec<ApiCall> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn mutating(&self) -> Vec<ApiCall> {
        self.calls()
            .into_iter()
            .filter(ApiCall::is_mutating)
            .collect()
    }

    fn push(&self, call: ApiCall) {
        if let Ok(mut v) = self.0.lock() {
            v.push(call);
        }
    }
}

/// Records each operation once, before it is serialized (retries of the
/// same call are not counted twice).
#[derive(Debug)]
pub(crate) struct Recorder(pub CallLog);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "apprun-call-recorder"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>() {
            self.0.push(ApiCall {
                service: meta.service().to_owned(),
                operation: meta.name().to_owned(),
            });
        }
        Ok(())
    }
}
