//! The secrets `apprun local --secrets` reads, against hand-written wire
//! responses: bodies written from the AWS API references (SSM GetParameter,
//! Secrets Manager GetSecretValue) in awsJson1_1 (the operation named by
//! `X-Amz-Target`, errors as `{"__type", "message"}`), not recorded from
//! AWS. Nothing leaves the test process.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apprun_config::{SecretRef, SecretStore};
use apprun_deploy::{Clients, Tuning, resolve_secrets};
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

const DB_PASSWORD: &str = "pw-7Hq!x9 wire value";
const TOKEN: &str = "tok-2bd1f0e4";

/// Answers by `X-Amz-Target`, from what each test scripts; keeps the
/// requests: (target, JSON body).
#[derive(Clone, Default)]
struct Fake {
    answers: Arc<Mutex<BTreeMap<String, (u16, String)>>>,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
}

impl common::Answers for Fake {
    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let target = req
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        let body: Value =
            serde_json::from_slice(req.body().bytes().unwrap_or_default()).unwrap_or(Value::Null);
        self.requests.lock().unwrap().push((target.clone(), body));
        let (status, text) = self
            .answers
            .lock()
            .unwrap()
            .get(&target)
            .cloned()
            .unwrap_or((
                400,
                json!({"__type": "UnexpectedCall", "message": target}).to_string(),
            ));
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.1");
        response
    }
}

impl Fake {
    fn on(&self, target: &str, status: u16, body: Value) {
        self.answers
            .lock()
            .unwrap()
            .insert(target.to_owned(), (status, body.to_string()));
    }

    async fn clients(&self) -> Clients {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(common::http_client(self.clone()))
            .region(aws_config::Region::new("eu-west-1"))
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

fn ssm(id: &str) -> SecretRef {
    SecretRef {
        store: SecretStore::Ssm,
        id: id.into(),
        key: None,
        kms_key: None,
    }
}

fn secretsmanager(id: &str, key: Option<&str>) -> SecretRef {
    SecretRef {
        store: SecretStore::SecretsManager,
        id: id.into(),
        key: key.map(str::to_owned),
        kms_key: None,
    }
}

/// GetParameter's answer (Systems Manager API reference: Parameter).
fn parameter(name: &str, value: &str) -> Value {
    json!({"Parameter": {
        "Name": name, "Type": "SecureString", "Value": value, "Version": 4,
        "LastModifiedDate": 1764140000.0,
        "ARN": format!("arn:aws:ssm:eu-west-1:123456789012:parameter{name}"),
        "DataType": "text"
    }})
}

/// GetSecretValue's answer (Secrets Manager API reference).
fn secret(name: &str, string: &str) -> Value {
    json!({
        "ARN": format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf"),
        "Name": name, "VersionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        "SecretString": string, "VersionStages": ["AWSCURRENT"], "CreatedDate": 1764100000.0
    })
}

#[tokio::test]
async fn ssm_and_secrets_manager_values_resolve_with_json_keys() {
    let fake = Fake::default();
    fake.on(
        "AmazonSSM.GetParameter",
        200,
        parameter("/apprunner-nuxt3/db-password", DB_PASSWORD),
    );
    fake.on(
        "secretsmanager.GetSecretValue",
        200,
        secret(
            "prod/api",
            &json!({"token": TOKEN, "port": 8443}).to_string(),
        ),
    );
    let clients = fake.clients().await;
    let secrets = BTreeMap::from([
        (
            "API_TOKEN".to_owned(),
            secretsmanager("prod/api", Some("token")),
        ),
        (
            "DB_PASSWORD".to_owned(),
            ssm("/apprunner-nuxt3/db-password"),
        ),
    ]);
    let resolved = resolve_secrets(&clients.api, &secrets).await.unwrap();
    let got: Vec<(&str, &str, &str)> = resolved
        .iter()
        .map(|r| (r.variable.as_str(), r.source.as_str(), r.value.expose()))
        .collect();
    assert_eq!(
        got,
        [
            ("API_TOKEN", "secretsmanager:prod/api#token", TOKEN),
            (
                "DB_PASSWORD",
                "ssm:/apprunner-nuxt3/db-password",
                DB_PASSWORD
            ),
        ]
    );
    let requests = fake.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            (
                "secretsmanager.GetSecretValue".to_owned(),
                json!({"SecretId": "prod/api"})
            ),
            (
                "AmazonSSM.GetParameter".to_owned(),
                json!({"Name": "/apprunner-nuxt3/db-password", "WithDecryption": true})
            ),
        ]
    );
    // Reads only; and no value in anything Debug shows.
    assert!(clients.calls.mutating().is_empty());
    let shown = format!("{resolved:?}");
    assert!(
        !shown.contains(DB_PASSWORD) && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[tokio::test]
async fn errors_name_the_variable_and_what_to_do_never_a_value() {
    let fake = Fake::default();
    fake.on(
        "AmazonSSM.GetParameter",
        400,
        json!({"__type": "ParameterNotFound", "message": ""}),
    );
    let clients = fake.clients().await;
    let secrets = BTreeMap::from([("DB_PASSWORD".to_owned(), ssm("/apprunner-nuxt3/missing"))]);
    let err = resolve_secrets(&clients.api, &secrets).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GetParameter failed: variable DB_PASSWORD (ssm:/apprunner-nuxt3/missing): ParameterNotFound; check the name in apprun.toml, and the account and region (--profile, --region)"
    );

    // A JSON key the secret does not have: the value is never quoted.
    fake.on(
        "secretsmanager.GetSecretValue",
        200,
        secret("prod/api", &json!({"token": TOKEN}).to_string()),
    );
    let secrets = BTreeMap::from([(
        "API_TOKEN".to_owned(),
        secretsmanager("prod/api", Some("tokn")),
    )]);
    let err = resolve_secrets(&clients.api, &secrets).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("variable API_TOKEN (secretsmanager:prod/api#tokn): its value is not a JSON object with the key `tokn`"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");

    fake.on(
        "secretsmanager.GetSecretValue",
        400,
        json!({"__type": "AccessDeniedException", "message": "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: secretsmanager:GetSecretValue"}),
    );
    let secrets = BTreeMap::from([("API_TOKEN".to_owned(), secretsmanager("prod/api", None))]);
    let err = resolve_secrets(&clients.api, &secrets).await.unwrap_err();
    assert!(
        err.to_string().contains("your credentials may not read it"),
        "{err}"
    );
}

#[tokio::test]
async fn an_arn_in_another_region_is_refused_before_any_call() {
    let fake = Fake::default();
    let clients = fake.clients().await;
    let secrets = BTreeMap::from([(
        "DB_PASSWORD".to_owned(),
        ssm("arn:aws:ssm:us-east-1:123456789012:parameter/app/db"),
    )]);
    let err = resolve_secrets(&clients.api, &secrets).await.unwrap_err();
    assert!(err.to_string().contains("is in region us-east-1"), "{err}");
    assert!(err.to_string().contains("--region us-east-1"), "{err}");
    assert!(fake.requests.lock().unwrap().is_empty());
}
