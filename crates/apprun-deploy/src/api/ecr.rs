//! Amazon ECR (awsJson1_1): the operations apprun calls, with the fields it
//! sends and reads (names as in the ECR API reference).

use serde::{Deserialize, Serialize};

use super::{JsonOperation, Service, services};

/// `DescribeImages` for the given tags of one repository.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImages {
    pub repository_name: String,
    pub image_ids: Vec<ImageIdentifier>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIdentifier {
    pub image_tag: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImagesOutput {
    #[serde(default)]
    pub image_details: Vec<ImageDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetail {
    #[serde(default)]
    pub image_digest: Option<String>,
    #[serde(default)]
    pub image_tags: Vec<String>,
}

impl JsonOperation for DescribeImages {
    const SERVICE: Service = services::ECR;
    const NAME: &'static str = "DescribeImages";
    type Output = DescribeImagesOutput;
}

/// `GetAuthorizationToken` for the account's registry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GetAuthorizationToken {}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAuthorizationTokenOutput {
    #[serde(default)]
    pub authorization_data: Vec<AuthorizationData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationData {
    /// base64 of `AWS:password`.
    #[serde(default)]
    pub authorization_token: Option<String>,
    /// `https://123456789012.dkr.ecr.eu-west-1.amazonaws.com`.
    #[serde(default)]
    pub proxy_endpoint: Option<String>,
}

impl JsonOperation for GetAuthorizationToken {
    const SERVICE: Service = services::ECR;
    const NAME: &'static str = "GetAuthorizationToken";
    type Output = GetAuthorizationTokenOutput;
}
