//! Secrets Manager: GetSecretValue (awsJson1_1,
//! `X-Amz-Target: secretsmanager.GetSecretValue`, PascalCase members, as in
//! the Secrets Manager API reference). Only what apprun sends or reads.

use serde::{Deserialize, Serialize};

use crate::api::{JsonOperation, Service, services};

/// GetSecretValue: the current version (`AWSCURRENT`) of a secret, by name
/// or ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueRequest {
    pub secret_id: String,
}

impl JsonOperation for GetSecretValueRequest {
    const SERVICE: Service = services::SECRETS_MANAGER;
    const NAME: &'static str = "GetSecretValue";
    type Output = GetSecretValueResponse;
}

/// A secret's value. Its `Debug` never shows the value.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetSecretValueResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub secret_string: Option<String>,
    /// Base64 of a binary secret (apprun passes text only).
    pub secret_binary: Option<String>,
}

impl std::fmt::Debug for GetSecretValueResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetSecretValueResponse")
            .field("arn", &self.arn)
            .field("name", &self.name)
            .field(
                "secret_string",
                &self.secret_string.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "secret_binary",
                &self.secret_binary.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_value() {
        // A hand-written wire response in the shape of the API reference.
        let answer: GetSecretValueResponse = serde_json::from_str(
            r#"{"ARN":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-AbCdEf","Name":"prod/api",
                "VersionId":"v1","SecretString":"{\"token\":\"tok-wire\"}","VersionStages":["AWSCURRENT"],
                "CreatedDate":1.7e9}"#,
        )
        .unwrap();
        assert_eq!(
            answer.secret_string.as_deref(),
            Some(r#"{"token":"tok-wire"}"#)
        );
        let shown = format!("{answer:?}");
        assert!(!shown.contains("tok-wire"), "{shown}");
        assert!(
            serde_json::to_value(GetSecretValueRequest {
                secret_id: "prod/api".into()
            })
            .unwrap()
                == serde_json::json!({"SecretId": "prod/api"})
        );
    }
}
