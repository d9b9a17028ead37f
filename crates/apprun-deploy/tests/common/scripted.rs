//! A scripted AWS for the wire-response tests: responses queued per action
//! (the `X-Amz-Target` operation of awsJson requests, the `Action` of
//! awsQuery forms; the last one repeats), every request kept for the
//! assertions, and SDK clients whose HTTP client is the script.

use std::sync::Arc;
use std::time::Duration;

use apprun_deploy::{Clients, OpsClients, Tuning};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// Polls and backs off every millisecond, one attempt.
const TUNING: Tuning = Tuning {
    poll: Duration::from_millis(1),
    initial_backoff: Duration::from_millis(1),
    max_attempts: 1,
};

#[path = "../support/script.rs"]
mod script;
pub use script::Script;

/// The script, shared by the clients made from it and the test.
#[derive(Clone, Default)]
pub struct Scripted(Arc<Script>);

impl std::ops::Deref for Scripted {
    type Target = Script;

    fn deref(&self) -> &Script {
        &self.0
    }
}

impl super::Answers for Scripted {
    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let header = |name| req.headers().get(name);
        let body = std::str::from_utf8(req.body().bytes().unwrap_or_default())
            .unwrap_or_default()
            .to_owned();
        let a = self
            .0
            .answer(header("x-amz-target"), header("content-type"), body);
        let mut response = HttpResponse::new(
            StatusCode::try_from(a.status).unwrap(),
            SdkBody::from(a.body),
        );
        response
            .headers_mut()
            .insert("content-type", a.content_type);
        response
    }
}

impl Scripted {
    /// An SDK config whose HTTP client is this script (no retries, test
    /// credentials, ap-northeast-1).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(super::http_client(self.clone()))
            .region(aws_config::Region::new("ap-northeast-1"))
            .test_credentials()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await
    }

    /// The deploy clients on this script, polling every millisecond.
    pub async fn clients(&self) -> Clients {
        Clients::from_sdk_config(&self.sdk_config().await, TUNING)
    }

    /// The day-two clients (logs, pipeline) on this script.
    pub async fn ops_clients(&self) -> OpsClients {
        OpsClients::from_sdk_config(&self.sdk_config().await, TUNING)
    }
}
