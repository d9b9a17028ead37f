//! SSM Parameter Store: GetParameter (awsJson1_1,
//! `X-Amz-Target: AmazonSSM.GetParameter`, PascalCase members, as in the
//! Systems Manager API reference). Only what apprun sends or reads.

use serde::{Deserialize, Serialize};

use crate::api::{JsonOperation, Service, services};

/// GetParameter: one parameter by name or ARN; SecureString values are
/// decrypted with `with_decryption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParameterRequest {
    pub name: String,
    pub with_decryption: bool,
}

impl JsonOperation for GetParameterRequest {
    const SERVICE: Service = services::SSM;
    const NAME: &'static str = "GetParameter";
    type Output = GetParameterResponse;
}

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetParameterResponse {
    pub parameter: Parameter,
}

/// A parameter. Its `Debug` never shows the value.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Parameter {
    pub name: String,
    /// `String`, `StringList` or `SecureString`.
    #[serde(rename = "Type")]
    pub parameter_type: String,
    pub value: String,
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl std::fmt::Debug for GetParameterResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetParameterResponse")
            .field("parameter", &self.parameter)
            .finish()
    }
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameter")
            .field("name", &self.name)
            .field("type", &self.parameter_type)
            .field("value", &"<redacted>")
            .field("arn", &self.arn)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_asks_for_decryption() {
        let body = serde_json::to_value(GetParameterRequest {
            name: "/app/db-password".into(),
            with_decryption: true,
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"Name": "/app/db-password", "WithDecryption": true})
        );
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        // A hand-written wire response in the shape of the API reference.
        let answer: GetParameterResponse = serde_json::from_str(
            r#"{"Parameter":{"Name":"/app/db-password","Type":"SecureString","Value":"hunter2-wire","Version":3,
                "ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password","DataType":"text"}}"#,
        )
        .unwrap();
        assert_eq!(answer.parameter.value, "hunter2-wire");
        let shown = format!("{answer:?}");
        assert!(!shown.contains("hunter2-wire"), "{shown}");
        assert!(shown.contains("/app/db-password"), "{shown}");
    }
}
