//! apprun's own AWS client, for the services it calls a handful of
//! operations of (ECR, ECS, App Runner, CloudWatch Logs, CodePipeline, and
//! whatever a module adds): a typed request goes out as the service's wire
//! protocol (awsJson1_0/1_1, REST-XML, REST-JSON), signed with SigV4, and
//! comes back typed. It replaces the SDK's generated service crates, whose
//! compilation was most of a clean build, for a few hundred lines.
//!
//! What it shares with the SDK clients of the same command (it is built from
//! the same [`SdkConfig`]): the credentials provider and identity cache
//! (credentials are resolved once per command), the region, the endpoint
//! settings (`--endpoint-url`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>`, a profile's `endpoint_url`), the HTTP client
//! (tests answer with hand-written wire responses), the retry settings, the
//! timeouts and the call log. Requests run on the SDK's own orchestrator
//! (`aws-smithy-runtime`), so retries follow the SDK's standard strategy
//! exactly (exponential backoff with jitter from the tuning's initial
//! backoff, a retry quota, throttling and transient errors, HTTP 500, 502,
//! 503 and 504, timeouts and I/O errors).

mod endpoint;
mod error;
mod retry;
mod sign;

pub mod apprunner;
pub mod codepipeline;
pub mod ecr;
pub mod ecs;
pub mod logs;
pub mod s3;
pub mod time;
pub mod xml;

use std::fmt;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_types::body::SdkBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::calls::{CallLog, Recorder};
use crate::clients::Tuning;

pub use endpoint::{GlobalEndpoint, default_endpoint, resolve_endpoint};
pub use error::{ApiError, ServiceError};

/// How a service's requests and responses are written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson1_0 or awsJson1_1: `POST /`, the operation named in
    /// `X-Amz-Target: {target_prefix}.{Operation}`, a JSON body of type
    /// `application/x-amz-json-{version}`, errors as `{"__type", "message"}`.
    AwsJson {
        version: &'static str,
        target_prefix: &'static str,
    },
    /// REST-XML (Route 53, S3): method, path and query name the operation,
    /// XML bodies, errors as `<Error><Code>…</Code><Message>…</Message>`.
    RestXml,
    /// REST-JSON (EventBridge Scheduler, …): like REST-XML with JSON bodies;
    /// the error's type is in `X-Amzn-ErrorType` or the body's `__type`.
    RestJson,
}

/// One AWS service as the client needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The SDK's service id: the name the call log records (the SDK's
    /// `Metadata` service name, `CloudWatch Logs`), and what
    /// `AWS_ENDPOINT_URL_<SERVICE>` is derived from (upper case, spaces as
    /// `_`: `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`).
    pub id: &'static str,
    /// The SigV4 signing name (`logs`, `ecr`, `route53`).
    pub signing_name: &'static str,
    /// The host's first labels: `{host_prefix}.{region}.amazonaws.com`
    /// (`api.ecr` for ECR).
    pub host_prefix: &'static str,
    /// Services with one endpoint per partition (Route 53).
    pub global: Option<&'static GlobalEndpoint>,
    pub protocol: Protocol,
}

/// The services apprun calls, with their wire details from the AWS API
/// references (service ids as the SDK names them).
pub mod services {
    use super::{GlobalEndpoint, Protocol, Service};

    pub const ECS: Service = Service {
        id: "ECS",
        signing_name: "ecs",
        host_prefix: "ecs",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "AmazonEC2ContainerServiceV20141113",
        },
    };
    pub const ECR: Service = Service {
        id: "ECR",
        signing_name: "ecr",
        host_prefix: "api.ecr",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "AmazonEC2ContainerRegistry_V20150921",
        },
    };
    pub const APP_RUNNER: Service = Service {
        id: "AppRunner",
        signing_name: "apprunner",
        host_prefix: "apprunner",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.0",
            target_prefix: "AppRunner",
        },
    };
    pub const LOGS: Service = Service {
        id: "CloudWatch Logs",
        signing_name: "logs",
        host_prefix: "logs",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "Logs_20140328",
        },
    };
    pub const CODE_PIPELINE: Service = Service {
        id: "CodePipeline",
        signing_name: "codepipeline",
        host_prefix: "codepipeline",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "CodePipeline_20150709",
        },
    };
    pub const SSM: Service = Service {
        id: "SSM",
        signing_name: "ssm",
        host_prefix: "ssm",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "AmazonSSM",
        },
    };
    pub const SECRETS_MANAGER: Service = Service {
        id: "Secrets Manager",
        signing_name: "secretsmanager",
        host_prefix: "secretsmanager",
        global: None,
        protocol: Protocol::AwsJson {
            version: "1.1",
            target_prefix: "secretsmanager",
        },
    };
    /// S3: REST-XML; apprun addresses buckets itself (see [`super::s3`]).
    pub const S3: Service = Service {
        id: "S3",
        signing_name: "s3",
        host_prefix: "s3",
        global: None,
        protocol: Protocol::RestXml,
    };
    pub const SCHEDULER: Service = Service {
        id: "Scheduler",
        signing_name: "scheduler",
        host_prefix: "scheduler",
        global: None,
        protocol: Protocol::RestJson,
    };
    /// Route 53's one endpoint per partition, signed for that partition's
    /// home region.
    pub const ROUTE_53_ENDPOINTS: GlobalEndpoint = GlobalEndpoint {
        aws: ("route53.amazonaws.com", "us-east-1"),
        china: ("route53.amazonaws.com.cn", "cn-northwest-1"),
        gov: ("route53.us-gov.amazonaws.com", "us-gov-west-1"),
    };
    pub const ROUTE_53: Service = Service {
        id: "Route 53",
        signing_name: "route53",
        host_prefix: "route53",
        global: Some(&ROUTE_53_ENDPOINTS),
        protocol: Protocol::RestXml,
    };
}

/// An awsJson operation: the request type names its service and operation
/// and the type its answer is read into (`api.call(&request)`).
pub trait JsonOperation: Serialize + Sync {
    const SERVICE: Service;
    /// The operation's name as in the API reference (`DescribeImages`).
    const NAME: &'static str;
    type Output: DeserializeOwned;
}

/// A REST request (REST-XML, REST-JSON): method, path (each segment already
/// encoded with [`encode_segment`]), query and body.
#[derive(Debug, Clone)]
pub struct RestRequest {
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl RestRequest {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        RestRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path)
    }

    /// Adds a query parameter (encoded when sent).
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// An XML body (REST-XML), with its content type.
    pub fn xml_body(mut self, document: &xml::Element) -> Self {
        self.body = document.to_document().into_bytes();
        self.header("content-type", "application/xml")
    }

    /// A JSON body (REST-JSON), with its content type.
    pub fn json_body<T: Serialize>(mut self, body: &T) -> Result<Self, ApiError> {
        self.body = serde_json::to_vec(body).map_err(|e| ApiError::Request {
            message: e.to_string(),
        })?;
        Ok(self.header("content-type", "application/json"))
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct RestResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as an XML element tree (REST-XML).
    pub fn xml(&self) -> Result<xml::Element, ApiError> {
        let text = std::str::from_utf8(&self.body).map_err(|e| ApiError::Response {
            message: format!("the answer is not UTF-8: {e}"),
        })?;
        xml::parse(text).map_err(|e| ApiError::Response {
            message: e.to_string(),
        })
    }

    /// The body read as JSON into `T` (REST-JSON; an empty body is `{}`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| ApiError::Response {
            message: format!("unexpected answer: {e}"),
        })
    }
}

/// Percent-encodes one path segment or query value: everything but the
/// unreserved characters (RFC 3986), as SigV4's canonical form wants.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// apprun's AWS client. Cheap to clone (clones share everything).
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    config: SdkConfig,
    region: String,
    http_client: SharedHttpClient,
    identity_cache: SharedIdentityCache,
    retry: RetryConfig,
    calls: CallLog,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

/// A request as the orchestrator serializes it.
#[derive(Debug)]
struct Prepared {
    method: &'static str,
    path_and_query: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Api {
    /// The client for a command: everything from `config` (see the module
    /// documentation), calls recorded in `calls`. Retries: the config's, else
    /// the SDK's standard strategy with the tuning's attempts and backoff.
    pub fn new(config: &SdkConfig, calls: CallLog, tuning: Tuning) -> Api {
        let retry = config.retry_config().cloned().unwrap_or_else(|| {
            RetryConfig::standard()
                .with_max_attempts(tuning.max_attempts)
                .with_initial_backoff(tuning.initial_backoff)
        });
        Api {
            inner: Arc::new(Inner {
                region: config.region().map(|r| r.to_string()).unwrap_or_default(),
                http_client: config
                    .http_client()
                    .unwrap_or_else(crate::Clients::sdk_http_client),
                identity_cache: config.identity_cache().unwrap_or_else(|| {
                    aws_smithy_runtime::client::identity::IdentityCache::lazy().build()
                }),
                config: config.clone(),
                retry,
                calls,
            }),
        }
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The call log every call is recorded in.
    pub fn calls(&self) -> &CallLog {
        &self.inner.calls
    }

    /// Where `service` is reached, and the region requests are signed for.
    pub fn endpoint(&self, service: &Service) -> (String, String) {
        resolve_endpoint(&self.inner.config, service, &self.inner.region)
    }

    /// Calls an awsJson operation with its typed request.
    pub async fn call<O: JsonOperation>(&self, request: &O) -> Result<O::Output, ApiError> {
        self.json(&O::SERVICE, O::NAME, request).await
    }

    /// Calls an awsJson operation: `input` is the request body, the answer's
    /// body is read into `O`.
    pub async fn json<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        service: &Service,
        operation: &'static str,
        input: &I,
    ) -> Result<O, ApiError> {
        let Protocol::AwsJson {
            version,
            target_prefix,
        } = service.protocol
        else {
            return Err(ApiError::Request {
                message: format!("{} is not an awsJson service", service.id),
            });
        };
        let body = serde_json::to_vec(input).map_err(|e| ApiError::Request {
            message: e.to_string(),
        })?;
        let prepared = Prepared {
            method: "POST",
            path_and_query: "/".to_owned(),
            headers: vec![
                ("content-type", format!("application/x-amz-json-{version}")),
                ("x-amz-target", format!("{target_prefix}.{operation}")),
            ],
            body,
        };
        let (url, signing_region) = self.endpoint(service);
        let response = self
            .invoke(service, operation, &url, signing_region, prepared)
            .await?;
        response.json()
    }

    /// Sends a REST request (REST-XML, REST-JSON) and returns the 2xx answer.
    pub async fn rest(
        &self,
        service: &Service,
        operation: &'static str,
        request: RestRequest,
    ) -> Result<RestResponse, ApiError> {
        let (url, signing_region) = self.endpoint(service);
        self.rest_at(service, operation, &url, signing_region, request)
            .await
    }

    /// The endpoint configured for `service` (`--endpoint-url`,
    /// `AWS_ENDPOINT_URL[_<SERVICE>]`), if any.
    pub fn configured_endpoint(&self, service: &Service) -> Option<String> {
        endpoint::configured_endpoint(&self.inner.config, service)
    }

    /// [`Api::rest`] at an endpoint the caller worked out (S3's bucket
    /// addressing), signed for `signing_region`.
    pub async fn rest_at(
        &self,
        service: &Service,
        operation: &'static str,
        url: &str,
        signing_region: String,
        request: RestRequest,
    ) -> Result<RestResponse, ApiError> {
        let mut path_and_query = request.path;
        if !path_and_query.starts_with('/') {
            path_and_query.insert(0, '/');
        }
        for (i, (name, value)) in request.query.iter().enumerate() {
            path_and_query.push(if i == 0 { '?' } else { '&' });
            path_and_query.push_str(&encode_segment(name));
            // A sub-resource without a value (S3's `?versions`) is written
            // bare, as AWS's own clients do; SigV4 signs it as `versions=`.
            if !value.is_empty() {
                path_and_query.push('=');
                path_and_query.push_str(&encode_segment(value));
            }
        }
        let prepared = Prepared {
            method: request.method,
            path_and_query,
            headers: request.headers,
            body: request.body,
        };
        self.invoke(service, operation, url, signing_region, prepared)
            .await
    }

    /// One operation on the SDK's orchestrator: endpoint, retries, signing,
    /// the HTTP client and the call log; a non-2xx answer becomes a
    /// [`ServiceError`] read in the service's protocol.
    async fn invoke(
        &self,
        service: &Service,
        operation: &'static str,
        url: &str,
        signing_region: String,
        request: Prepared,
    ) -> Result<RestResponse, ApiError> {
        let inner = &self.inner;
        let protocol = service.protocol;
        let mut builder = Operation::builder()
            .service_name(service.id)
            .operation_name(operation)
            .behavior_version(
                inner
                    .config
                    .behavior_version()
                    .unwrap_or_else(BehaviorVersion::latest),
            )
            .http_client(inner.http_client.clone())
            .endpoint_url(url)
            .standard_retry(&inner.retry)
            .retry_classifier(HttpStatusCodeClassifier::default())
            .retry_classifier(TransientErrorClassifier::<ServiceError>::new())
            .retry_classifier(retry::ErrorCodeClassifier)
            .interceptor(Recorder(inner.calls.clone()))
            .runtime_plugin(sign::plugin(
                signing_region,
                service.signing_name,
                inner.config.credentials_provider(),
                inner.identity_cache.clone(),
            ));
        if let Some(timeouts) = inner.config.timeout_config() {
            builder = builder.timeout_config(timeouts.clone());
        }
        if let Some(sleep) = inner.config.sleep_impl() {
            builder = builder.sleep_impl(sleep);
        }
        if let Some(clock) = inner.config.time_source() {
            builder = builder.time_source(clock);
        }
        let op = builder
            .serializer(to_http)
            .deserializer(move |response: &HttpResponse| from_http(protocol, response))
            .build();
        op.invoke(request).await.map_err(ApiError::from_sdk)
    }
}

/// The HTTP request of a prepared one (the endpoint is prepended by the
/// orchestrator).
fn to_http(request: Prepared) -> Result<HttpRequest, BoxError> {
    let mut http = HttpRequest::new(SdkBody::from(request.body));
    http.set_method(request.method)?;
    http.set_uri(request.path_and_query)?;
    http.headers_mut().insert(
        "user-agent",
        concat!("apprun/", env!("CARGO_PKG_VERSION")).to_owned(),
    );
    for (name, value) in request.headers {
        http.headers_mut().insert(name, value);
    }
    Ok(http)
}

/// A 2xx answer as it is; any other as the service's error.
fn from_http(
    protocol: Protocol,
    response: &HttpResponse,
) -> Result<RestResponse, OrchestratorError<ServiceError>> {
    let status = response.status().as_u16();
    let body = response.body().bytes().unwrap_or_default().to_vec();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    if (200..300).contains(&status) {
        Ok(RestResponse {
            status,
            headers,
            body,
        })
    } else {
        Err(OrchestratorError::operation(error::parse_error(
            protocol, status, &headers, &body,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_only_unreserved_characters() {
        assert_eq!(encode_segment("Z1D633PJN98FT9"), "Z1D633PJN98FT9");
        assert_eq!(encode_segment("a b/c+d=é"), "a%20b%2Fc%2Bd%3D%C3%A9");
        assert_eq!(encode_segment("-_.~"), "-_.~");
    }
}
