//! apprun's own AWS client (`apprun_deploy::api`) against hand-written wire
//! responses: what it sends (endpoint, protocol headers, body, SigV4
//! signature), how it reads answers and errors (awsJson `__type`, REST-XML
//! `<Error>`), what it retries (throttling, 5xx, connection failures, as the
//! SDK's standard retry mode) and what it records in the call log. Bodies
//! are written from the AWS API references (ECR DescribeImages, Route 53
//! GetChange), not recorded from AWS. Nothing leaves the test: an
//! in-process HTTP client answers from a script and keeps every request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_deploy::api::{Api, ApiError, RestRequest, ecr, s3, services, xml};
use apprun_deploy::{CallLog, Tuning};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// One scripted answer: a response, or a connection that fails.
#[derive(Clone)]
enum Answer {
    Http(u16, &'static str, String),
    Refused,
}

/// What the client sent: method, full URI, headers, body.
#[derive(Debug, Clone)]
struct Sent {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers requests in order from a script and keeps them.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script")
    }
}

impl Script {
    fn new(answers: Vec<Answer>) -> Self {
        Script {
            answers: Arc::new(Mutex::new(answers.into())),
            sent: Arc::default(),
        }
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }
}

impl HttpConnector for Script {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.sent.lock().unwrap().push(Sent {
            method: request.method().to_owned(),
            uri: request.uri().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned(),
        });
        let answer = self.answers.lock().unwrap().pop_front();
        match answer {
            Some(Answer::Http(status, content_type, body)) => {
                let mut response =
                    HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
                response.headers_mut().insert("content-type", content_type);
                response
                    .headers_mut()
                    .insert("x-amzn-requestid", "2a3e1b7c-0000-4000-8000-000000000001");
                HttpConnectorFuture::ready(Ok(response))
            }
            Some(Answer::Refused) => {
                HttpConnectorFuture::ready(Err(ConnectorError::io("connection refused".into())))
            }
            None => panic!("a request the script did not expect: {request:?}"),
        }
    }
}

impl HttpClient for Script {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// The client on a config like the command's: test credentials, a region,
/// `endpoint` when given, retries as the tuning says.
async fn api(script: &Script, endpoint: Option<&str>, attempts: u32) -> (Api, CallLog) {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(SharedHttpClient::new(script.clone()))
        .region(aws_config::Region::new("eu-west-1"))
        .test_credentials()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        );
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let calls = CallLog::default();
    let tuning = Tuning {
        poll: Duration::from_millis(1),
        initial_backoff: Duration::from_millis(1),
        max_attempts: attempts,
    };
    (Api::new(&config, calls.clone(), tuning), calls)
}

fn json_ok(body: Value) -> Answer {
    Answer::Http(200, "application/x-amz-json-1.1", body.to_string())
}

fn json_error(status: u16, kind: &str, message: &str) -> Answer {
    Answer::Http(
        status,
        "application/x-amz-json-1.1",
        json!({"__type": kind, "message": message}).to_string(),
    )
}

fn describe_images() -> ecr::DescribeImages {
    ecr::DescribeImages {
        repository_name: "apprunner-nuxt3-dev".into(),
        image_ids: vec![ecr::ImageIdentifier {
            image_tag: "abc1234".into(),
        }],
    }
}

/// ECR DescribeImages (ECR API reference) finding one image.
fn image_found() -> Answer {
    json_ok(json!({"imageDetails": [{
        "registryId": "123456789012",
        "repositoryName": "apprunner-nuxt3-dev",
        "imageDigest": "sha256:8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "imageTags": ["abc1234"],
        "imagePushedAt": 1.7e9
    }]}))
}

#[tokio::test]
async fn a_json_call_is_sent_signed_to_the_services_public_endpoint() {
    let script = Script::new(vec![image_found()]);
    let (api, calls) = api(&script, None, 3).await;
    let out = api.call(&describe_images()).await.unwrap();
    assert_eq!(out.image_details.len(), 1);
    assert_eq!(out.image_details[0].image_tags, ["abc1234"]);

    let sent = script.sent();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "https://api.ecr.eu-west-1.amazonaws.com/");
    assert_eq!(
        request.header("x-amz-target"),
        Some("AmazonEC2ContainerRegistry_V20150921.DescribeImages")
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"repositoryName": "apprunner-nuxt3-dev", "imageIds": [{"imageTag": "abc1234"}]})
    );
    let auth = request.header("authorization").unwrap_or_default();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=ANOTREAL/")
            && auth.contains("/eu-west-1/ecr/aws4_request")
            && auth.contains("x-amz-target"),
        "{auth}"
    );
    assert!(request.header("x-amz-date").is_some());

    let recorded: Vec<(String, String)> = calls
        .calls()
        .into_iter()
        .map(|c| (c.service, c.operation))
        .collect();
    assert_eq!(recorded, [("ECR".to_owned(), "DescribeImages".to_owned())]);
    assert!(calls.mutating().is_empty());
}

#[tokio::test]
async fn a_configured_endpoint_is_used_for_every_service() {
    let script = Script::new(vec![json_ok(json!({"operationSummaryList": []}))]);
    let (api, _) = api(&script, Some("http://127.0.0.1:5000"), 1).await;
    let request = apprun_deploy::api::apprunner::ListOperations {
        service_arn: "arn:aws:apprunner:eu-west-1:123456789012:service/web/1".into(),
        max_results: Some(1),
    };
    api.call(&request).await.unwrap();
    let sent = script.sent();
    assert_eq!(sent[0].uri, "http://127.0.0.1:5000/");
    assert_eq!(
        sent[0].header("x-amz-target"),
        Some("AppRunner.ListOperations")
    );
    assert_eq!(
        sent[0].header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&sent[0].body).unwrap(),
        json!({"ServiceArn": "arn:aws:apprunner:eu-west-1:123456789012:service/web/1", "MaxResults": 1})
    );
}

#[tokio::test]
async fn throttling_server_errors_and_refused_connections_are_retried_and_recorded_once() {
    let script = Script::new(vec![
        json_error(400, "ThrottlingException", "Rate exceeded"),
        json_error(503, "ServiceUnavailableException", "try again"),
        Answer::Refused,
        image_found(),
    ]);
    let (api, calls) = api(&script, None, 4).await;
    let out = api.call(&describe_images()).await.unwrap();
    assert_eq!(out.image_details.len(), 1);
    let sent = script.sent();
    assert_eq!(sent.len(), 4, "three failures, then the answer");
    // Every attempt is signed anew.
    assert!(sent.iter().all(|s| s.header("authorization").is_some()));
    assert_eq!(calls.calls().len(), 1, "one call, however many attempts");
}

#[tokio::test]
async fn retries_stop_at_the_configured_attempts_with_the_services_error() {
    let script = Script::new(vec![
        json_error(500, "InternalFailure", "oops"),
        json_error(500, "InternalFailure", "oops again"),
    ]);
    let (api, _) = api(&script, None, 2).await;
    let err = api.call(&describe_images()).await.unwrap_err();
    assert_eq!(script.sent().len(), 2);
    assert_eq!(err.code(), Some("InternalFailure"));
    assert_eq!(err.status(), Some(500));
    let deploy = err.into_deploy("DescribeImages", None).to_string();
    assert_eq!(
        deploy,
        "DescribeImages failed: the endpoint answered HTTP 500 (InternalFailure: oops again) even after retries"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keep_their_code() {
    let script = Script::new(vec![json_error(
        400,
        "com.amazonaws.ecr#RepositoryNotFoundException",
        "The repository with name 'apprunner-nuxt3-dev' does not exist",
    )]);
    let (api, _) = api(&script, None, 3).await;
    let err = api.call(&describe_images()).await.unwrap_err();
    assert_eq!(script.sent().len(), 1);
    assert!(matches!(&err, ApiError::Service(e) if e.request_id.is_some()));
    assert_eq!(err.code(), Some("RepositoryNotFoundException"));
    assert_eq!(
        err.message(),
        Some("The repository with name 'apprunner-nuxt3-dev' does not exist")
    );
}

#[tokio::test]
async fn a_connection_that_never_succeeds_is_a_transport_error() {
    let script = Script::new(vec![Answer::Refused, Answer::Refused]);
    let (api, _) = api(&script, None, 2).await;
    let err = api.call(&describe_images()).await.unwrap_err();
    assert_eq!(script.sent().len(), 2);
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    assert_eq!(err.code(), None);
}

/// Route 53 GetChange (Route 53 API reference), REST-XML.
#[tokio::test]
async fn a_rest_xml_call_goes_to_the_global_endpoint_signed_for_us_east_1() {
    let answer = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>INSYNC</Status><SubmittedAt>2026-11-26T10:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>"#;
    let missing = r#"<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>NoSuchChange</Code><Message>A change with the specified change ID does not exist.</Message></Error><RequestId>b25f48e8-84fd-11e6-80d9-574e0c4664cb</RequestId></ErrorResponse>"#;
    let script = Script::new(vec![
        Answer::Http(200, "text/xml", answer.to_owned()),
        Answer::Http(404, "text/xml", missing.to_owned()),
    ]);
    let (api, calls) = api(&script, None, 3).await;
    let response = api
        .rest(
            &services::ROUTE_53,
            "GetChange",
            RestRequest::get("/2013-04-01/change/C2682N5HXP0BZ4"),
        )
        .await
        .unwrap();
    let root = response.xml().unwrap();
    assert_eq!(
        root.child("ChangeInfo")
            .and_then(|c| c.child_text("Status")),
        Some("INSYNC")
    );
    let err = api
        .rest(
            &services::ROUTE_53,
            "GetChange",
            RestRequest::get("/2013-04-01/change/C0").query("note", "a b"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchChange"));

    let sent = script.sent();
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].uri,
        "https://route53.amazonaws.com/2013-04-01/change/C2682N5HXP0BZ4"
    );
    assert_eq!(
        sent[1].uri,
        "https://route53.amazonaws.com/2013-04-01/change/C0?note=a%20b"
    );
    let auth = sent[0].header("authorization").unwrap_or_default();
    assert!(auth.contains("/us-east-1/route53/aws4_request"), "{auth}");
    assert_eq!(calls.calls().len(), 2);
    assert_eq!(calls.calls()[0].service, "Route 53");
}

#[tokio::test]
async fn a_rest_xml_body_is_sent_as_written() {
    let script = Script::new(vec![Answer::Http(
        200,
        "text/xml",
        r#"<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status></ChangeInfo></ChangeResourceRecordSetsResponse>"#.to_owned(),
    )]);
    let (api, calls) = api(&script, Some("http://127.0.0.1:5000"), 1).await;
    let document = xml::Element::new("ChangeResourceRecordSetsRequest")
        .attr("xmlns", "https://route53.amazonaws.com/doc/2013-04-01/")
        .with_child(
            xml::Element::new("ChangeBatch").with_child(xml::Element::leaf("Comment", "apprun")),
        );
    let mut request = RestRequest::new("POST", "/2013-04-01/hostedzone/Z1/rrset/");
    request = request.xml_body(&document);
    let response = api
        .rest(&services::ROUTE_53, "ChangeResourceRecordSets", request)
        .await
        .unwrap();
    assert_eq!(
        response.xml().unwrap().find("Id").map(|e| e.text.as_str()),
        Some("/change/C1")
    );
    let sent = &script.sent()[0];
    assert_eq!(
        sent.uri,
        "http://127.0.0.1:5000/2013-04-01/hostedzone/Z1/rrset/"
    );
    assert_eq!(sent.header("content-type"), Some("application/xml"));
    assert_eq!(xml::parse(&sent.body).unwrap(), document);
    assert_eq!(
        calls.mutating().len(),
        1,
        "ChangeResourceRecordSets is a write"
    );
}

/// S3 ListObjectVersions and DeleteObjects (S3 API reference), REST-XML:
/// buckets by path on a configured endpoint, the delete's body with the
/// checksum S3 requires.
#[tokio::test]
async fn s3_buckets_are_emptied_by_path_on_a_local_endpoint() {
    let listed = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>apprunner-nuxt3-dev-temporary</Name><IsTruncated>false</IsTruncated><Version><Key>apprun/service-web.yaml</Key><VersionId>3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY</VersionId><IsLatest>true</IsLatest></Version><DeleteMarker><Key>old.zip</Key><VersionId>null</VersionId><IsLatest>true</IsLatest></DeleteMarker></ListVersionsResult>"#;
    let script = Script::new(vec![
        Answer::Http(200, "application/xml", listed.to_owned()),
        Answer::Http(
            200,
            "application/xml",
            r#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>"#
                .to_owned(),
        ),
    ]);
    let (api, calls) = api(&script, Some("http://127.0.0.1:5000"), 1).await;
    let bucket = "apprunner-nuxt3-dev-temporary";
    let versions = s3::list_object_versions(&api, bucket).await.unwrap();
    assert_eq!(
        versions,
        [
            s3::ObjectVersion {
                key: "apprun/service-web.yaml".into(),
                version_id: Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY".into()),
            },
            s3::ObjectVersion {
                key: "old.zip".into(),
                version_id: Some("null".into()),
            },
        ]
    );
    s3::delete_objects(&api, bucket, &versions).await.unwrap();

    let sent = script.sent();
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].uri,
        "http://127.0.0.1:5000/apprunner-nuxt3-dev-temporary?versions"
    );
    assert_eq!(sent[1].method, "POST");
    assert_eq!(
        sent[1].uri,
        "http://127.0.0.1:5000/apprunner-nuxt3-dev-temporary?delete"
    );
    let body = xml::parse(&sent[1].body).unwrap();
    assert_eq!(body.child_text("Quiet"), Some("true"));
    let keys: Vec<&str> = body
        .children_named("Object")
        .filter_map(|o| o.child_text("Key"))
        .collect();
    assert_eq!(keys, ["apprun/service-web.yaml", "old.zip"]);
    assert_eq!(
        sent[1].header("x-amz-sdk-checksum-algorithm"),
        Some("SHA256")
    );
    assert_eq!(
        sent[1].header("x-amz-checksum-sha256").map(str::len),
        Some(44),
        "base64 of 32 bytes"
    );
    assert!(sent[1].header("x-amz-content-sha256").is_some());
    let names: Vec<String> = calls
        .calls()
        .iter()
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect();
    assert_eq!(names, ["S3:ListObjectVersions", "S3:DeleteObjects"]);
}

/// S3 GetObject and PutObject: by host name on AWS, the key's slashes kept;
/// NoSuchKey is "no object".
#[tokio::test]
async fn s3_objects_are_read_and_written_by_host_name_on_aws() {
    let script = Script::new(vec![
        Answer::Http(
            404,
            "application/xml",
            "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
                .to_owned(),
        ),
        Answer::Http(200, "application/xml", String::new()),
        Answer::Http(200, "application/octet-stream", "Resources: {}\n".to_owned()),
    ]);
    let (api, calls) = api(&script, None, 1).await;
    let bucket = "apprunner-nuxt3-dev-temporary";
    let key = "apprun/service web.yaml";
    assert_eq!(s3::get_object(&api, bucket, key).await.unwrap(), None);
    s3::put_object(&api, bucket, key, b"Resources: {}\n".to_vec())
        .await
        .unwrap();
    assert_eq!(
        s3::get_object(&api, bucket, key).await.unwrap().as_deref(),
        Some(&b"Resources: {}\n"[..])
    );
    let sent = script.sent();
    assert_eq!(
        sent[1].uri,
        "https://apprunner-nuxt3-dev-temporary.s3.eu-west-1.amazonaws.com/apprun/service%20web.yaml"
    );
    assert_eq!(sent[1].method, "PUT");
    assert_eq!(sent[1].body, "Resources: {}\n");
    let auth = sent[1].header("authorization").unwrap_or_default();
    assert!(auth.contains("/eu-west-1/s3/aws4_request"), "{auth}");
    assert_eq!(calls.mutating().len(), 1, "PutObject is the only write");
}
