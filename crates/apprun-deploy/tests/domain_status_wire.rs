//! What `apprun status` shows of a service's domains and scaling, and which
//! services a deploy reconciles the domains of, against hand-written wire
//! responses: bodies written from the AWS API references, not recorded from
//! AWS (CloudFormation DescribeStacks in awsQuery XML; App Runner
//! DescribeCustomDomains, DescribeService and DescribeAutoScalingConfiguration
//! in awsJson1_0). Nothing leaves the test process.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_blueprint::synthesize;
use apprun_config::Config;
use apprun_deploy::{
    Clients, DomainTarget, Tuning, domain_targets, prior_domains, service_status,
    service_status_lines,
};
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::json;

const SERVICE_STACK: &str = "apprunner-nuxt3-dev-service-web";
const SERVICE_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa";
const SCALING_ARN: &str = "arn:aws:apprunner:ap-northeast-1:123456789012:autoscalingconfiguration/apprunner-nuxt3-dev-web/1/0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Answers per operation (the same answer every time); other stacks than
/// the service's do not exist. Keeps the operations asked.
#[derive(Clone, Default)]
struct Fake {
    answers: Arc<Mutex<HashMap<String, (u16, String)>>>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl common::Answers for Fake {
    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let body = std::str::from_utf8(req.body().bytes().unwrap_or_default())
            .unwrap_or_default()
            .to_owned();
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .map(str::to_owned);
        let (operation, content_type) = match target {
            Some(t) => (t, "application/x-amz-json-1.0"),
            None => (
                body.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .unwrap_or_default()
                    .to_owned(),
                "text/xml",
            ),
        };
        self.asked.lock().unwrap().push(operation.clone());
        let (status, text) = if operation == "DescribeStacks" && !body.contains(SERVICE_STACK) {
            (
                400,
                r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id x does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>"#.to_owned(),
            )
        } else {
            self.answers
                .lock()
                .unwrap()
                .get(&operation)
                .cloned()
                .unwrap_or((
                    400,
                    json!({"__type": "UnexpectedCall", "message": operation}).to_string(),
                ))
        };
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
        response.headers_mut().insert("content-type", content_type);
        response
    }
}

impl Fake {
    /// The operations asked so far, in order.
    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }

    fn on(&self, operation: &str, body: String) {
        self.answers
            .lock()
            .unwrap()
            .insert(operation.to_owned(), (200, body));
    }

    async fn clients(&self) -> Clients {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(common::http_client(self.clone()))
            .region(aws_config::Region::new("ap-northeast-1"))
            .test_credentials()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        Clients::from_sdk_config(
            &config,
            Tuning {
                poll: Duration::from_millis(1),
                initial_backoff: Duration::from_millis(1),
                max_attempts: 1,
            },
        )
    }
}

/// The shipped config, with `extra` appended (TOML).
fn config(extra: &str) -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("apprun.toml")).unwrap();
    Config::parse(&format!("{text}\n{extra}"), root.join("apprun.toml")).expect("the config loads")
}

/// DescribeStacks (CloudFormation API reference) of the service stack.
fn service_stack() -> String {
    service_stack_with(None)
}

/// The same, with the `CustomDomain` output of a stack deployed with a
/// domain (the domain apprun associated).
fn service_stack_with(custom_domain: Option<&str>) -> String {
    let custom = custom_domain
        .map(|d| {
            format!(
                "<member><OutputKey>CustomDomain</OutputKey><OutputValue>{d}</OutputValue></member>"
            )
        })
        .unwrap_or_default();
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>{SERVICE_STACK}</StackName><StackId>arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{SERVICE_STACK}/1</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-20T08:00:00Z</CreationTime><Outputs><member><OutputKey>ServiceArn</OutputKey><OutputValue>{SERVICE_ARN}</OutputValue></member>{custom}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#
    )
}

fn app_runner_answers(fake: &Fake) {
    // App Runner API reference: DescribeCustomDomains, DescribeService,
    // DescribeAutoScalingConfiguration.
    fake.on(
        "DescribeCustomDomains",
        json!({
            "DNSTarget": "kjvp2ximbc.ap-northeast-1.awsapprunner.com",
            "ServiceArn": SERVICE_ARN,
            "CustomDomains": [
                {"DomainName": "old.example.com", "EnableWWWSubdomain": true, "Status": "active",
                 "CertificateValidationRecords": [{"Name": "_a.old.example.com.", "Type": "CNAME", "Value": "_b.acm-validations.aws.", "Status": "SUCCESS"}]},
                {"DomainName": "app.example.com", "EnableWWWSubdomain": false, "Status": "pending_certificate_dns_validation",
                 "CertificateValidationRecords": [{"Name": "_c.app.example.com.", "Type": "CNAME", "Value": "_d.acm-validations.aws.", "Status": "PENDING_VALIDATION"}]}
            ],
            "VpcDNSTargets": []
        })
        .to_string(),
    );
    fake.on(
        "DescribeService",
        json!({"Service": {
            "ServiceName": "apprunner-nuxt3-dev-web", "ServiceId": "8fe1e10304f84fd2b0df550fe98a71fa",
            "ServiceArn": SERVICE_ARN, "ServiceUrl": "kjvp2ximbc.ap-northeast-1.awsapprunner.com",
            "CreatedAt": 1763600000.0, "UpdatedAt": 1763600000.0, "Status": "RUNNING",
            "AutoScalingConfigurationSummary": {
                "AutoScalingConfigurationArn": SCALING_ARN,
                "AutoScalingConfigurationName": "apprunner-nuxt3-dev-web",
                "AutoScalingConfigurationRevision": 1
            }
        }})
        .to_string(),
    );
    fake.on(
        "DescribeAutoScalingConfiguration",
        json!({"AutoScalingConfiguration": {
            "AutoScalingConfigurationArn": SCALING_ARN,
            "AutoScalingConfigurationName": "apprunner-nuxt3-dev-web",
            "AutoScalingConfigurationRevision": 1, "Latest": true, "Status": "active",
            "MaxConcurrency": 80, "MinSize": 2, "MaxSize": 6,
            "CreatedAt": 1763600000.0, "HasAssociatedService": true, "IsDefault": false
        }})
        .to_string(),
    );
}

#[tokio::test]
async fn status_shows_the_domains_with_their_certificate_and_the_scaling_bounds() {
    let fake = Fake::default();
    fake.on("DescribeStacks", service_stack());
    app_runner_answers(&fake);
    let config = config("[env.dev.services.web]\ndomain = \"app.example.com\"\n");
    let bp = synthesize(&config, "dev").unwrap();
    let clients = fake.clients().await;
    let services = service_status(&clients, &config, &bp).await.unwrap();
    let web = services.iter().find(|s| s.service == "web").unwrap();
    assert_eq!(web.error, None);
    assert_eq!(
        service_status_lines(&services),
        [
            "service web (apprunner): scaling 2-6 instances, 80 concurrent requests per instance",
            "  domain app.example.com pending_certificate_dns_validation, certificate pending_validation",
            "  domain old.example.com active, certificate success (not managed by apprun: deploys leave it alone)",
        ]
    );
    let doc = serde_json::to_value(&services).unwrap();
    assert_eq!(doc[0]["domains"][1]["managed"], false);
    // The domain apprun associated (the stack's `CustomDomain` output)
    // and no longer in apprun.toml: the next deploy disassociates it.
    fake.on(
        "DescribeStacks",
        service_stack_with(Some("old.example.com")),
    );
    let services = service_status(&clients, &config, &bp).await.unwrap();
    assert_eq!(
        service_status_lines(&services)[2],
        "  domain old.example.com active, certificate success (associated by apprun, no longer in apprun.toml: the next deploy disassociates it)"
    );
    let doc = serde_json::to_value(&services).unwrap();
    assert_eq!(
        doc[0]["scaling"],
        json!({"min": 2, "max": 6, "unit": "instances", "max_concurrency": 80, "source": "deployed"})
    );
    assert_eq!(doc[0]["domains"][0]["in_config"], true);
    // Reads only.
    assert!(clients.calls.mutating().is_empty());
}

#[tokio::test]
async fn status_shows_what_it_could_not_read_and_goes_on() {
    let fake = Fake::default();
    fake.on("DescribeStacks", service_stack());
    // App Runner answers nothing it is asked: an error per read.
    let config = config("");
    let bp = synthesize(&config, "dev").unwrap();
    let clients = fake.clients().await;
    let services = service_status(&clients, &config, &bp).await.unwrap();
    let web = services.iter().find(|s| s.service == "web").unwrap();
    assert!(
        web.error
            .as_deref()
            .unwrap()
            .starts_with("DescribeCustomDomains failed: UnexpectedCall"),
        "{:?}",
        web.error
    );
    assert!(service_status_lines(&services)[1].starts_with("  domains and scaling not read: "));
}

#[tokio::test]
async fn deploy_targets_are_the_deployed_app_runner_services_with_their_config_domain() {
    let fake = Fake::default();
    fake.on("DescribeStacks", service_stack());
    let config = config(
        "[env.dev.services.web]\ndomain = \"app.example.com\"\nhosted_zone = \"Z0123456789ABCDEFGHIJ\"\n",
    );
    let bp = synthesize(&config, "dev").unwrap();
    let clients = fake.clients().await;
    let prior = prior_domains(&clients, &bp, &[]).await.unwrap();
    assert_eq!(prior.services.get("web"), Some(&None));
    let targets = domain_targets(&clients, &config, &bp, &prior)
        .await
        .unwrap();
    assert_eq!(
        targets,
        [DomainTarget {
            service: "web".into(),
            service_arn: SERVICE_ARN.into(),
            domain: Some("app.example.com".into()),
            hosted_zone: Some("Z0123456789ABCDEFGHIJ".into()),
            managed: None,
        }]
    );
    // Only CloudFormation was read: App Runner is asked in the domain
    // step's plan, not here.
    assert!(fake.asked().iter().all(|op| op == "DescribeStacks"));
}

#[tokio::test]
async fn a_domain_apprun_associated_stays_a_target_once_removed_from_the_config() {
    let fake = Fake::default();
    // Before the deploy, the stack says apprun associated old.example.com.
    fake.on(
        "DescribeStacks",
        service_stack_with(Some("Old.Example.com")),
    );
    let config = config_without_domain();
    let bp = synthesize(&config, "dev").unwrap();
    let clients = fake.clients().await;
    let prior = prior_domains(&clients, &bp, &["service-web".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        prior.services.get("web"),
        Some(&Some("old.example.com".to_owned()))
    );
    let targets = domain_targets(&clients, &config, &bp, &prior)
        .await
        .unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].domain, None);
    assert_eq!(targets[0].managed.as_deref(), Some("old.example.com"));
}

#[tokio::test]
async fn no_domain_configured_or_associated_by_apprun_means_no_app_runner_call() {
    let fake = Fake::default();
    fake.on("DescribeStacks", service_stack());
    let config = config_without_domain();
    let bp = synthesize(&config, "dev").unwrap();
    let clients = fake.clients().await;
    let prior = prior_domains(&clients, &bp, &[]).await.unwrap();
    let asked_before = fake.asked().len();
    let targets = domain_targets(&clients, &config, &bp, &prior)
        .await
        .unwrap();
    assert!(targets.is_empty());
    // No call at all after reading the stacks' outputs; and none to App
    // Runner anywhere: a deployer without App Runner domain permissions
    // deploys as before.
    assert_eq!(fake.asked().len(), asked_before);
    assert!(
        fake.asked().iter().all(|op| op == "DescribeStacks"),
        "{:?}",
        fake.asked()
    );
    let report = apprun_deploy::reconcile_domains(&clients, &targets)
        .await
        .unwrap();
    assert!(report.services.is_empty());
    assert!(fake.asked().iter().all(|op| op == "DescribeStacks"));
}

fn config_without_domain() -> Config {
    config("")
}
