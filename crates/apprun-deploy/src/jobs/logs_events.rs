//! CloudWatch Logs GetLogEvents (one stream, oldest first, page by page with
//! `nextForwardToken`) and SQS GetQueueAttributes (a job's dead-letter queue
//! depth), for jobs.
//!
//! Logs: awsJson1_1, `X-Amz-Target: Logs_20140328.GetLogEvents`, camelCase.
//! SQS: awsJson1_0, `X-Amz-Target: AmazonSQS.GetQueueAttributes`, PascalCase.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{JsonOperation, Protocol, Service, services};

/// Amazon SQS: awsJson1_0 since 2023 (the Query protocol before), at
/// `sqs.{region}.amazonaws.com`; the SDK's service id is `SQS`.
pub const SQS: Service = Service {
    id: "SQS",
    signing_name: "sqs",
    host_prefix: "sqs",
    global: None,
    protocol: Protocol::AwsJson {
        version: "1.0",
        target_prefix: "AmazonSQS",
    },
};

/// The queue attribute that counts the messages waiting.
pub const MESSAGES_WAITING: &str = "ApproximateNumberOfMessages";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    pub log_group_name: String,
    pub log_stream_name: String,
    /// Oldest first: the stream is read forward from its start.
    pub start_from_head: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A page of events. At the end of the stream `nextForwardToken` is the
/// token that was sent: that is how a reader knows it has everything.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetLogEventsResponse {
    pub events: Vec<OutputLogEvent>,
    pub next_forward_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OutputLogEvent {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetQueueAttributesRequest {
    pub queue_url: String,
    pub attribute_names: Vec<String>,
}

/// Attribute values are strings on the wire (`"ApproximateNumberOfMessages": "3"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetQueueAttributesResponse {
    pub attributes: BTreeMap<String, String>,
}

impl JsonOperation for GetLogEventsRequest {
    const SERVICE: Service = services::LOGS;
    const NAME: &'static str = "GetLogEvents";
    type Output = GetLogEventsResponse;
}

impl JsonOperation for GetQueueAttributesRequest {
    const SERVICE: Service = SQS;
    const NAME: &'static str = "GetQueueAttributes";
    type Output = GetQueueAttributesResponse;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_reads_and_the_request_is_camel_case() {
        let page: GetLogEventsResponse = serde_json::from_value(json!({
            "events": [{"timestamp": 1, "message": "tick", "ingestionTime": 2}],
            "nextForwardToken": "f/2", "nextBackwardToken": "b/1"
        }))
        .unwrap();
        assert_eq!(page.events[0].message, "tick");
        assert_eq!(page.next_forward_token.as_deref(), Some("f/2"));
        let request = GetLogEventsRequest {
            log_group_name: "g".into(),
            log_stream_name: "s".into(),
            start_from_head: true,
            next_token: None,
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true})
        );
    }

    #[test]
    fn queue_attributes_are_pascal_case() {
        let request = GetQueueAttributesRequest {
            queue_url: "https://sqs/q".into(),
            attribute_names: vec!["ApproximateNumberOfMessages".into()],
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"QueueUrl": "https://sqs/q", "AttributeNames": ["ApproximateNumberOfMessages"]})
        );
        let answer: GetQueueAttributesResponse =
            serde_json::from_value(json!({"Attributes": {"ApproximateNumberOfMessages": "3"}}))
                .unwrap();
        assert_eq!(answer.attributes["ApproximateNumberOfMessages"], "3");
    }
}
