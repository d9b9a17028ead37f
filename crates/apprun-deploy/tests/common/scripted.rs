//! A scripted AWS for the wire-response tests: responses queued per action
//! (the `X-Amz-Target` operation of awsJson requests, the `Action` of
//! awsQuery forms; the last one repeats), every request kept for the
//! assertions, and SDK clients whose HTTP client is the script.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_deploy::{Clients, OpsClients, Tuning};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// Polls and backs off every millisecond, one attempt.
const TUNING: Tuning = Tuning {
    poll: Duration::from_millis(1),
    initial_backoff: Duration::from_millis(1),
    max_attempts: 1,
};

/// Responses queued per action: (HTTP status, body).
pub type Script = HashMap<String, VecDeque<(u16, String)>>;

/// Responses queued per action (the last one repeats), and the requests
/// seen: (action, body).
#[derive(Clone, Default)]
pub struct Scripted {
    script: Arc<Mutex<Script>>,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl super::Answers for Scripted {
    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        Scripted::answer(self, request)
    }
}

impl Scripted {
    pub fn on(&self, action: &str, status: u16, body: impl Into<String>) -> &Self {
        self.script
            .lock()
            .unwrap()
            .entry(action.to_owned())
            .or_default()
            .push_back((status, body.into()));
        self
    }

    /// The JSON bodies sent for `action`, in order.
    pub fn bodies(&self, action: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
            .collect()
    }

    /// The actions called, in order.
    pub fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(a, _)| a.clone())
            .collect()
    }

    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let body = std::str::from_utf8(req.body().bytes().unwrap_or_default())
            .unwrap_or_default()
            .to_owned();
        // awsJson names the operation in X-Amz-Target
        // (`AmazonEC2ContainerServiceV20141113.RunTask`,
        // `Logs_20140328.GetLogEvents`, `AmazonSQS.GetQueueAttributes`);
        // awsQuery (CloudFormation) in the form body.
        let json_target = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .map(str::to_owned);
        let content_type = match req.headers().get("content-type") {
            Some(t) if t.starts_with("application/x-amz-json") => t.to_owned(),
            _ => "text/xml".to_owned(),
        };
        let action = json_target
            .or_else(|| {
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        self.requests
            .lock()
            .unwrap()
            .push((action.clone(), body.clone()));
        // DescribeStacks answers per stack when scripted so
        // (`DescribeStacks <name>`), else as scripted for every stack.
        let stack = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("StackName="))
            .map(|n| format!("{action} {n}"));
        let (status, text) = {
            let mut script = self.script.lock().unwrap();
            let key = stack.filter(|k| script.contains_key(k)).unwrap_or(action);
            match script.get_mut(&key) {
                Some(q) if q.len() > 1 => q.pop_front().unwrap(),
                Some(q) if !q.is_empty() => q.front().cloned().unwrap(),
                _ => (
                    400,
                    json!({"__type": "UnexpectedCall", "message": key}).to_string(),
                ),
            }
        };
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
        response.headers_mut().insert("content-type", content_type);
        response
    }

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
