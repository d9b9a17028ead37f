//! The script both stand-ins for AWS answer from (apprun-deploy's in-process
//! SDK HTTP client, `common/scripted.rs`, and apprun-cli's loopback endpoint,
//! `apprun-cli/tests/common/endpoint.rs`, which includes this file by path):
//! hand-written wire responses queued per action (the `X-Amz-Target`
//! operation of awsJson requests, the `Action` of awsQuery forms; the last
//! one repeats), and every request kept for the assertions.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Value, json};

/// Responses queued per action, and the requests seen: (action, body).
#[derive(Default)]
pub struct Script {
    queued: Mutex<HashMap<String, VecDeque<(u16, String)>>>,
    seen: Mutex<Vec<(String, String)>>,
}

/// What a request is answered with.
pub struct Answer {
    pub status: u16,
    /// The request's awsJson content type, or XML for awsQuery.
    pub content_type: String,
    pub body: String,
}

impl Script {
    /// Queues a response for `action` (`DescribeStacks <name>` answers
    /// DescribeStacks of that stack only).
    pub fn on(&self, action: &str, status: u16, body: impl Into<String>) -> &Self {
        self.queued
            .lock()
            .unwrap()
            .entry(action.to_owned())
            .or_default()
            .push_back((status, body.into()));
        self
    }

    /// The JSON bodies sent for `action`, in order.
    pub fn bodies(&self, action: &str) -> Vec<Value> {
        self.raw(action)
            .iter()
            .map(|b| serde_json::from_str(b).unwrap_or(Value::Null))
            .collect()
    }

    /// The raw request bodies of `action` (awsQuery forms, for CloudFormation).
    pub fn raw(&self, action: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The actions called, in order.
    pub fn actions(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// Records a request and answers it: `target` and `content_type` are
    /// the request's headers of those names.
    pub fn answer(&self, target: Option<&str>, content_type: Option<&str>, body: String) -> Answer {
        let content_type = match content_type {
            Some(t) if t.starts_with("application/x-amz-json") => t.to_owned(),
            _ => "text/xml".to_owned(),
        };
        // awsJson names the operation in X-Amz-Target
        // (`AmazonEC2ContainerServiceV20141113.RunTask`,
        // `Logs_20140328.GetLogEvents`); awsQuery (CloudFormation) in the form.
        let form = |key: &str| {
            body.split('&')
                .find_map(|kv| kv.strip_prefix(key))
                .map(str::to_owned)
        };
        let action = target
            .and_then(|t| t.rsplit('.').next())
            .map(str::to_owned)
            .or_else(|| form("Action="))
            .unwrap_or_default();
        // DescribeStacks answers per stack when scripted so
        // (`DescribeStacks <name>`), else as scripted for every stack.
        let stack = form("StackName=").map(|n| format!("{action} {n}"));
        self.seen.lock().unwrap().push((action.clone(), body));
        let mut queued = self.queued.lock().unwrap();
        let key = stack.filter(|k| queued.contains_key(k)).unwrap_or(action);
        let (status, body) = match queued.get_mut(&key) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap(),
            Some(q) if !q.is_empty() => q.front().cloned().unwrap(),
            _ => (
                400,
                json!({"__type": "UnexpectedCall", "message": key}).to_string(),
            ),
        };
        Answer {
            status,
            content_type,
            body,
        }
    }
}
