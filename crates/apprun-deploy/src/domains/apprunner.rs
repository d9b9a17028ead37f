//! App Runner custom domains (DescribeCustomDomains, AssociateCustomDomain,
//! DisassociateCustomDomain) and the scaling `apprun status` shows
//! (DescribeService, DescribeAutoScalingConfiguration): awsJson1_0,
//! `X-Amz-Target: AppRunner.<Op>`, PascalCase members, as in the App Runner
//! API reference. Only the members apprun sends or reads are declared; serde
//! ignores the rest.

use serde::{Deserialize, Serialize};

use crate::api::{JsonOperation, Service, services};

/// DescribeCustomDomains: one page of a service's custom domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCustomDomainsRequest {
    pub service_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// 1 to 5 (the API's limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
}

impl JsonOperation for DescribeCustomDomainsRequest {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "DescribeCustomDomains";
    type Output = DescribeCustomDomainsResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeCustomDomainsResponse {
    #[serde(rename = "DNSTarget")]
    pub dns_target: String,
    pub service_arn: String,
    pub custom_domains: Vec<CustomDomain>,
    pub next_token: Option<String>,
}

/// AssociateCustomDomain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociateCustomDomainRequest {
    pub service_arn: String,
    pub domain_name: String,
    /// App Runner's default is true; apprun always says.
    #[serde(rename = "EnableWWWSubdomain")]
    pub enable_www_subdomain: bool,
}

impl JsonOperation for AssociateCustomDomainRequest {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "AssociateCustomDomain";
    type Output = CustomDomainResponse;
}

/// DisassociateCustomDomain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DisassociateCustomDomainRequest {
    pub service_arn: String,
    pub domain_name: String,
}

impl JsonOperation for DisassociateCustomDomainRequest {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "DisassociateCustomDomain";
    type Output = CustomDomainResponse;
}

/// What Associate and DisassociateCustomDomain answer: the one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomDomainResponse {
    #[serde(rename = "DNSTarget")]
    pub dns_target: String,
    pub service_arn: String,
    pub custom_domain: Option<CustomDomain>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomDomain {
    pub domain_name: String,
    #[serde(rename = "EnableWWWSubdomain")]
    pub enable_www_subdomain: bool,
    /// On the wire in lower case (`pending_certificate_dns_validation`).
    pub status: String,
    pub certificate_validation_records: Vec<CertificateValidationRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CertificateValidationRecord {
    pub name: String,
    #[serde(rename = "Type")]
    pub record_type: String,
    pub value: String,
    /// `PENDING_VALIDATION`, `SUCCESS` or `FAILED`.
    pub status: String,
}

/// DescribeService: apprun reads only which auto scaling configuration the
/// service uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeServiceRequest {
    pub service_arn: String,
}

impl JsonOperation for DescribeServiceRequest {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "DescribeService";
    type Output = DescribeServiceResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeServiceResponse {
    pub service: ServiceSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceSummary {
    pub service_arn: String,
    pub status: String,
    pub auto_scaling_configuration_summary: Option<AutoScalingConfigurationSummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutoScalingConfigurationSummary {
    pub auto_scaling_configuration_arn: String,
    pub auto_scaling_configuration_name: String,
}

/// DescribeAutoScalingConfiguration: the bounds of one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAutoScalingConfigurationRequest {
    pub auto_scaling_configuration_arn: String,
}

impl JsonOperation for DescribeAutoScalingConfigurationRequest {
    const SERVICE: Service = services::APP_RUNNER;
    const NAME: &'static str = "DescribeAutoScalingConfiguration";
    type Output = DescribeAutoScalingConfigurationResponse;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAutoScalingConfigurationResponse {
    pub auto_scaling_configuration: AutoScalingConfiguration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutoScalingConfiguration {
    pub auto_scaling_configuration_arn: String,
    pub auto_scaling_configuration_name: String,
    pub min_size: u32,
    pub max_size: u32,
    pub max_concurrency: u32,
    pub is_default: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_use_the_api_reference_member_names() {
        let body = serde_json::to_value(AssociateCustomDomainRequest {
            service_arn: "arn:s".into(),
            domain_name: "app.example.com".into(),
            enable_www_subdomain: false,
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"ServiceArn": "arn:s", "DomainName": "app.example.com", "EnableWWWSubdomain": false})
        );
        let body = serde_json::to_value(DescribeCustomDomainsRequest {
            service_arn: "arn:s".into(),
            next_token: None,
            max_results: Some(5),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"ServiceArn": "arn:s", "MaxResults": 5})
        );
    }

    #[test]
    fn a_described_domain_keeps_its_records() {
        // A hand-written wire response in the shape of the API reference.
        let page: DescribeCustomDomainsResponse = serde_json::from_str(
            r#"{"DNSTarget":"abc.eu-west-1.awsapprunner.com","ServiceArn":"arn:s",
                "CustomDomains":[{"DomainName":"app.example.com","EnableWWWSubdomain":false,
                  "Status":"pending_certificate_dns_validation",
                  "CertificateValidationRecords":[{"Name":"_x.app.example.com.","Type":"CNAME",
                    "Value":"_y.acm-validations.aws.","Status":"PENDING_VALIDATION"}]}],
                "VpcDNSTargets":[]}"#,
        )
        .unwrap();
        assert_eq!(page.dns_target, "abc.eu-west-1.awsapprunner.com");
        let d = &page.custom_domains[0];
        assert_eq!(d.status, "pending_certificate_dns_validation");
        assert_eq!(d.certificate_validation_records[0].record_type, "CNAME");
        assert_eq!(page.next_token, None);
    }
}
