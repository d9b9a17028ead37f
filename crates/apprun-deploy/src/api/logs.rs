//! Amazon CloudWatch Logs (awsJson1_1): the operations apprun calls, with
//! the fields it sends and reads.

use serde::{Deserialize, Serialize};

use super::{JsonOperation, Service, services};

/// `FilterLogEvents`: one page of a log group's events.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEvents {
    pub log_group_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_stream_names: Vec<String>,
    /// Milliseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsOutput {
    #[serde(default)]
    pub events: Vec<FilteredLogEvent>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    #[serde(default)]
    pub log_stream_name: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub event_id: Option<String>,
}

impl JsonOperation for FilterLogEvents {
    const SERVICE: Service = services::LOGS;
    const NAME: &'static str = "FilterLogEvents";
    type Output = FilterLogEventsOutput;
}
