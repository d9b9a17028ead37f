//! Where a service is reached: the same precedence as the SDK's service
//! clients built from an [`SdkConfig`], then the service's public host.

use aws_config::SdkConfig;
use aws_types::service_config::ServiceConfigKey;

use super::Service;

/// A global service's host and signing region in each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalEndpoint {
    /// `aws` (every commercial region).
    pub aws: (&'static str, &'static str),
    /// `aws-cn` (`cn-*` regions).
    pub china: (&'static str, &'static str),
    /// `aws-us-gov` (`us-gov-*` regions).
    pub gov: (&'static str, &'static str),
}

/// The URL `service` is reached at and the region its requests are signed
/// for. As the SDK's clients do: an endpoint given to the config loader
/// itself (`--endpoint-url`) wins; else `AWS_ENDPOINT_URL_<SERVICE>` or the
/// profile's per-service `endpoint_url`; else `AWS_ENDPOINT_URL` or the
/// profile's `endpoint_url`; else the service's public endpoint.
pub fn resolve_endpoint(config: &SdkConfig, service: &Service, region: &str) -> (String, String) {
    let signing_region = match service.global {
        Some(global) => global_of(global, region).1.to_owned(),
        None => region.to_owned(),
    };
    let url =
        configured_endpoint(config, service).unwrap_or_else(|| default_endpoint(service, region));
    (url, signing_region)
}

/// The endpoint configured for `service`, in the SDK's precedence (see
/// [`resolve_endpoint`]); `None` for the public one.
pub(crate) fn configured_endpoint(config: &SdkConfig, service: &Service) -> Option<String> {
    if config.get_origin("endpoint_url").is_client_config() {
        config.endpoint_url().map(str::to_owned)
    } else {
        service_specific(config, service).or_else(|| config.endpoint_url().map(str::to_owned))
    }
}

/// `AWS_ENDPOINT_URL_<SERVICE>`, or the `endpoint_url` of the profile's
/// `services` section for the service.
fn service_specific(config: &SdkConfig, service: &Service) -> Option<String> {
    let key = ServiceConfigKey::builder()
        .service_id(service.id)
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    config.service_config()?.load_config(key)
}

/// The service's public HTTPS endpoint in `region`.
pub fn default_endpoint(service: &Service, region: &str) -> String {
    match service.global {
        Some(global) => format!("https://{}", global_of(global, region).0),
        None => format!(
            "https://{}.{region}.{}",
            service.host_prefix,
            dns_suffix(region)
        ),
    }
}

/// The DNS suffix of a region's partition.
pub(crate) fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

fn global_of(global: &GlobalEndpoint, region: &str) -> (&'static str, &'static str) {
    if region.starts_with("cn-") {
        global.china
    } else if region.starts_with("us-gov-") {
        global.gov
    } else {
        global.aws
    }
}

#[cfg(test)]
mod tests {
    use super::super::services::{APP_RUNNER, ECR, LOGS, ROUTE_53};
    use super::*;
    use aws_config::BehaviorVersion;

    fn config(endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder().behavior_version(BehaviorVersion::latest());
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        builder.build()
    }

    #[test]
    fn public_endpoints_follow_each_service_and_partition() {
        assert_eq!(
            default_endpoint(&ECR, "eu-west-1"),
            "https://api.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint(&LOGS, "ap-northeast-1"),
            "https://logs.ap-northeast-1.amazonaws.com"
        );
        assert_eq!(
            default_endpoint(&APP_RUNNER, "cn-north-1"),
            "https://apprunner.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn route_53_is_one_host_signed_for_its_partitions_home_region() {
        let (url, region) = resolve_endpoint(&config(None), &ROUTE_53, "ap-northeast-1");
        assert_eq!(url, "https://route53.amazonaws.com");
        assert_eq!(region, "us-east-1");
        let (url, region) = resolve_endpoint(&config(None), &ROUTE_53, "cn-north-1");
        assert_eq!(url, "https://route53.amazonaws.com.cn");
        assert_eq!(region, "cn-northwest-1");
        let (_, region) = resolve_endpoint(&config(None), &ROUTE_53, "us-gov-east-1");
        assert_eq!(region, "us-gov-west-1");
    }

    /// Answers like the environment with `AWS_ENDPOINT_URL_ECR` set (the
    /// key's env name plus the service id, upper case, spaces as `_`).
    #[derive(Debug)]
    struct EcrOnly;

    impl aws_types::service_config::LoadServiceConfig for EcrOnly {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            let name = format!(
                "{}_{}",
                key.env(),
                key.service_id().to_uppercase().replace(' ', "_")
            );
            (name == "AWS_ENDPOINT_URL_ECR" && key.profile() == "endpoint_url")
                .then(|| "http://127.0.0.1:4566".to_owned())
        }
    }

    #[test]
    fn a_service_specific_endpoint_wins_over_the_shared_one_unless_given_in_code() {
        let shared = || {
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url("http://127.0.0.1:5000")
                .service_config(EcrOnly)
        };
        let cfg = shared().build();
        assert_eq!(
            resolve_endpoint(&cfg, &ECR, "eu-west-1").0,
            "http://127.0.0.1:4566"
        );
        assert_eq!(
            resolve_endpoint(&cfg, &LOGS, "eu-west-1").0,
            "http://127.0.0.1:5000"
        );
        // `--endpoint-url` (set on the config loader) serves every service.
        let mut given = shared();
        given.insert_origin("endpoint_url", aws_types::origin::Origin::shared_config());
        assert_eq!(
            resolve_endpoint(&given.build(), &ECR, "eu-west-1").0,
            "http://127.0.0.1:5000"
        );
        let only_ecr = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .service_config(EcrOnly)
            .build();
        assert_eq!(
            resolve_endpoint(&only_ecr, &LOGS, "eu-west-1").0,
            "https://logs.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn a_configured_endpoint_serves_every_service_signed_for_the_region() {
        let cfg = config(Some("http://127.0.0.1:5000"));
        let (url, region) = resolve_endpoint(&cfg, &ECR, "eu-west-1");
        assert_eq!(url, "http://127.0.0.1:5000");
        assert_eq!(region, "eu-west-1");
        let (url, region) = resolve_endpoint(&cfg, &ROUTE_53, "eu-west-1");
        assert_eq!(url, "http://127.0.0.1:5000");
        assert_eq!(region, "us-east-1");
    }
}
