//! What a failed call says: the service's own error (its code and message,
//! read from each protocol's error shape), or why no answer came.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{Protocol, xml};
use crate::error::DeployError;

/// An error answer from a service (any status but 2xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct ServiceError {
    pub status: u16,
    /// The error's code (`ThrottlingException`, `NoSuchHostedZone`); empty
    /// when the answer named none.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ServiceError {
    /// `Code: message`, or what there is of them.
    fn text(&self) -> String {
        match (self.code.is_empty(), self.message.is_empty()) {
            (false, false) => format!("{}: {}", self.code, self.message),
            (false, true) => self.code.clone(),
            (true, false) => self.message.clone(),
            (true, true) => format!("HTTP {}", self.status),
        }
    }
}

/// Why a call of [`super::Api`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The service answered with an error (after retries, for retryable
    /// ones).
    #[error("{0}")]
    Service(ServiceError),
    /// No answer: the connection failed or timed out (after retries).
    #[error("no answer from AWS: {message}")]
    Transport { message: String },
    /// The request could not be made: no credentials, a bad endpoint URL,
    /// a body that cannot be written.
    #[error("the request could not be sent: {message}")]
    Request { message: String },
    /// A 2xx answer apprun cannot read.
    #[error("unexpected answer: {message}")]
    Response { message: String },
}

impl ApiError {
    /// The service's error code, when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Service(e) if !e.code.is_empty() => Some(&e.code),
            _ => None,
        }
    }

    /// The service's error message, when it answered with one.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiError::Service(e) if !e.message.is_empty() => Some(&e.message),
            _ => None,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Service(e) => Some(e.status),
            _ => None,
        }
    }

    /// As a [`DeployError::Aws`] for `operation` (and `stack`): the
    /// service's `Code: message`; a server error (5xx) is named by its
    /// status, since it outlasted the retries.
    pub fn into_deploy(self, operation: &'static str, stack: Option<&str>) -> DeployError {
        let mut message = self.to_string();
        if let Some(status) = self.status().filter(|s| *s >= 500) {
            message = format!("the endpoint answered HTTP {status} ({message}) even after retries");
        }
        DeployError::Aws {
            operation,
            stack: stack.map(str::to_owned),
            message,
        }
    }

    /// From the orchestrator's error.
    pub(crate) fn from_sdk(err: SdkError<ServiceError, HttpResponse>) -> ApiError {
        let message = crate::error::error_message(&err);
        match err {
            SdkError::ServiceError(context) => ApiError::Service(context.into_err()),
            SdkError::TimeoutError(_) => ApiError::Transport {
                message: "timed out".to_owned(),
            },
            SdkError::DispatchFailure(_) => ApiError::Transport { message },
            SdkError::ResponseError(_) => ApiError::Response { message },
            _ => ApiError::Request { message },
        }
    }
}

/// Reads an error answer in the service's protocol.
pub(crate) fn parse_error(
    protocol: Protocol,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> ServiceError {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let text = String::from_utf8_lossy(body);
    let (code, message, body_request_id) = match protocol {
        Protocol::AwsJson { .. } | Protocol::RestJson => {
            let (code, message) = json_error(&text);
            // REST-JSON services name the error in a header (the body's
            // `__type` may be absent); it wins when present.
            let code = header("x-amzn-errortype")
                .map(|h| sanitize_code(&h))
                .filter(|c| !c.is_empty())
                .unwrap_or(code);
            (code, message, None)
        }
        Protocol::RestXml => xml_error(&text),
    };
    let message = if code.is_empty() && message.is_empty() {
        text.trim().chars().take(300).collect()
    } else {
        message
    };
    ServiceError {
        status,
        code,
        message,
        request_id: header("x-amzn-requestid")
            .or_else(|| header("x-amz-request-id"))
            .or(body_request_id),
    }
}

/// awsJson and REST-JSON: `{"__type": "…#Code", "message": "…"}` (some
/// services write `Message` or `code`).
fn json_error(text: &str) -> (String, String) {
    let Ok(serde_json::Value::Object(body)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return (String::new(), String::new());
    };
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| body.get(*n).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .to_owned()
    };
    (
        sanitize_code(&field(&["__type", "code", "Code"])),
        field(&["message", "Message", "errorMessage"]),
    )
}

/// The bare error code of a JSON error type: without the shape's namespace
/// (`com.amazon.coral.service#ThrottlingException`) or a trailing URL
/// (`ThrottlingException:http://internal.amazon.com/…`).
fn sanitize_code(raw: &str) -> String {
    let after_namespace = raw.rsplit('#').next().unwrap_or(raw);
    after_namespace
        .split(':')
        .next()
        .unwrap_or(after_namespace)
        .trim()
        .to_owned()
}

/// REST-XML: `<ErrorResponse><Error><Code/><Message/></Error><RequestId/>`
/// (Route 53), `<Error><Code/><Message/><RequestId/></Error>` (S3), or a
/// shape named after the error itself (Route 53's `InvalidChangeBatch`,
/// whose messages are in `<Messages><Message/>`).
fn xml_error(text: &str) -> (String, String, Option<String>) {
    let Ok(root) = xml::parse(text) else {
        return (String::new(), String::new(), None);
    };
    let request_id = root
        .find("RequestId")
        .map(|r| r.text.clone())
        .filter(|t| !t.is_empty());
    let error = match root.name.as_str() {
        "ErrorResponse" => root.child("Error").unwrap_or(&root),
        _ => &root,
    };
    let code = match error.child("Code") {
        Some(code) => code.text.clone(),
        None if error.name != "Error" => error.name.clone(),
        None => String::new(),
    };
    let message = match error.child("Message") {
        Some(m) => m.text.clone(),
        None => error
            .find("Message")
            .map(|m| m.text.clone())
            .unwrap_or_default(),
    };
    (code, message, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Protocol = Protocol::AwsJson {
        version: "1.1",
        target_prefix: "X",
    };

    #[test]
    fn json_errors_are_read_from_the_type_and_message() {
        let e = parse_error(
            JSON,
            400,
            &[("x-amzn-requestid".into(), "r-1".into())],
            br#"{"__type":"com.amazonaws.ecr#RepositoryNotFoundException","message":"The repository does not exist"}"#,
        );
        assert_eq!(e.code, "RepositoryNotFoundException");
        assert_eq!(e.message, "The repository does not exist");
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            e.to_string(),
            "RepositoryNotFoundException: The repository does not exist"
        );
        let e = parse_error(
            JSON,
            400,
            &[],
            br#"{"__type":"ThrottlingException:http://internal.amazon.com/coral/","Message":"Rate exceeded"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ThrottlingException", "Rate exceeded")
        );
    }

    #[test]
    fn rest_json_errors_prefer_the_error_type_header() {
        let e = parse_error(
            Protocol::RestJson,
            404,
            &[(
                "x-amzn-errortype".into(),
                "ResourceNotFoundException:http://internal.amazon.com/".into(),
            )],
            br#"{"Message":"Schedule nightly does not exist."}"#,
        );
        assert_eq!(e.code, "ResourceNotFoundException");
        assert_eq!(e.message, "Schedule nightly does not exist.");
    }

    #[test]
    fn xml_errors_are_read_in_each_shape() {
        let route53 = br#"<?xml version="1.0"?>
<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: Z1</Message></Error><RequestId>5b2d1c1e</RequestId></ErrorResponse>"#;
        let e = parse_error(Protocol::RestXml, 404, &[], route53);
        assert_eq!(e.code, "NoSuchHostedZone");
        assert_eq!(e.message, "No hosted zone found with ID: Z1");
        assert_eq!(e.request_id.as_deref(), Some("5b2d1c1e"));

        let s3 = br#"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><RequestId>R2</RequestId></Error>"#;
        let e = parse_error(Protocol::RestXml, 404, &[], s3);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("NoSuchBucket", "The specified bucket does not exist")
        );

        let batch = br#"<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages><Message>Tried to create resource record set www.example.com. type CNAME, but it already exists</Message></Messages><RequestId>R3</RequestId></InvalidChangeBatch>"#;
        let e = parse_error(Protocol::RestXml, 400, &[], batch);
        assert_eq!(e.code, "InvalidChangeBatch");
        assert!(e.message.contains("already exists"), "{}", e.message);
    }

    #[test]
    fn an_answer_in_no_known_shape_keeps_its_text_and_status() {
        let e = parse_error(JSON, 502, &[], b"<html>Bad Gateway</html>");
        assert_eq!(e.code, "");
        assert_eq!(e.message, "<html>Bad Gateway</html>");
        let e = parse_error(Protocol::RestXml, 404, &[], b"");
        assert_eq!(e.to_string(), "HTTP 404");
        let err = ApiError::Service(e).into_deploy("GetChange", None);
        assert_eq!(err.to_string(), "GetChange failed: HTTP 404");
    }

    #[test]
    fn server_errors_say_they_outlasted_the_retries() {
        let e = parse_error(
            JSON,
            503,
            &[],
            br#"{"__type":"ServiceUnavailableException","message":"try later"}"#,
        );
        let err = ApiError::Service(e).into_deploy("DescribeImages", Some("s"));
        assert_eq!(
            err.to_string(),
            "DescribeImages failed for s: the endpoint answered HTTP 503 (ServiceUnavailableException: try later) even after retries"
        );
    }
}
