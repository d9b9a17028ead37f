//! Credentials, region and endpoint resolved the way every AWS tool does.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::api::Api;
use crate::calls::{CallLog, Recorder};

/// What the command line says about credentials and region.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// `--profile`: a named profile of ~/.aws/config.
    pub profile: Option<String>,
    /// `--region`, else the config's `system.region`.
    pub region: String,
    /// `--endpoint-url`: every service at this endpoint (the SDK also reads
    /// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` by itself).
    pub endpoint_url: Option<String>,
}

/// Timing knobs: production values by default, faster in tests.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// How often a waiting stack is polled.
    pub poll: Duration,
    /// First retry backoff for throttling and 5xx.
    pub initial_backoff: Duration,
    pub max_attempts: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            poll: Duration::from_secs(3),
            initial_backoff: Duration::from_millis(500),
            max_attempts: 6,
        }
    }
}

impl Tuning {
    /// Reads `APPRUN_POLL_MS` (tests against local endpoints poll fast).
    pub fn from_env() -> Self {
        let mut t = Tuning::default();
        if let Some(ms) = std::env::var("APPRUN_POLL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            t.poll = Duration::from_millis(ms);
        }
        t
    }
}

/// The SDK config every client of apprun is built from: credentials from
/// the default chain (env, profile, SSO, instance role) or `--profile`, the
/// region, `--endpoint-url`, and retries with the tuning's backoff.
pub(crate) async fn sdk_config(options: &AwsOptions, tuning: Tuning) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(Clients::sdk_http_client())
        // One credentials cache for every client of the command (the SDK's
        // and apprun's own): without it each client caches its own, and a
        // profile, SSO or role session is resolved once per client.
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .region(Region::new(options.region.clone()))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(tuning.max_attempts)
                .with_initial_backoff(tuning.initial_backoff),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The AWS clients apprun uses, sharing one config and one call log: the
/// SDK's for CloudFormation and STS, apprun's own [`Api`] for every other
/// service (S3, ECR, App Runner, ECS, ...).
#[derive(Debug, Clone)]
pub struct Clients {
    pub cfn: aws_sdk_cloudformation::Client,
    pub sts: aws_sdk_sts::Client,
    pub api: Api,
    pub calls: CallLog,
    pub region: String,
    pub tuning: Tuning,
    /// A custom endpoint (`AWS_ENDPOINT_URL`), when one is set.
    pub endpoint_url: Option<String>,
    /// The config every client was built from (credentials resolved once),
    /// for the day-two clients of [`Clients::ops`].
    config: SdkConfig,
}

impl Clients {
    /// Loads credentials from the default chain (env, profile, SSO, instance
    /// role). `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) point the
    /// clients at a local endpoint.
    pub async fn load(options: &AwsOptions, tuning: Tuning) -> Clients {
        Clients::from_sdk_config(&sdk_config(options, tuning).await, tuning)
    }

    /// The HTTPS client every SDK config of apprun must be given
    /// (`ConfigLoader::http_client`): the SDK's own default client (hyper 1,
    /// rustls, the system's roots, `HTTP(S)_PROXY`/`NO_PROXY`, connector
    /// settings and sleep from the SDK client using it), built on the ring
    /// crypto provider. The SDK's `default-https-client` feature is off: it
    /// would build aws-lc-rs, a second crypto provider with a long C build.
    pub fn sdk_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        aws_smithy_http_client::Builder::new().build_with_connector_fn(
            |settings, runtime_components| {
                let mut connector = aws_smithy_http_client::Connector::builder()
                    .tls_provider(Provider::Rustls(CryptoMode::Ring));
                connector.set_connector_settings(settings.cloned());
                if let Some(components) = runtime_components {
                    connector.set_sleep_impl(components.sleep_impl());
                }
                connector
                    .set_proxy_config(Some(aws_smithy_http_client::proxy::ProxyConfig::from_env()));
                connector.build()
            },
        )
    }

    /// Builds the clients from an existing SDK config (tests pass one whose
    /// HTTP client answers with hand-written wire responses).
    pub fn from_sdk_config(config: &SdkConfig, tuning: Tuning) -> Clients {
        let calls = CallLog::default();
        let cfn = aws_sdk_cloudformation::config::Builder::from(config)
            .interceptor(Recorder(calls.clone()))
            .build();
        let sts = aws_sdk_sts::config::Builder::from(config)
            .interceptor(Recorder(calls.clone()))
            .build();
        Clients {
            api: Api::new(config, calls.clone(), tuning),
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn),
            sts: aws_sdk_sts::Client::from_conf(sts),
            calls,
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            tuning,
            endpoint_url: config.endpoint_url().map(str::to_owned),
            config: config.clone(),
        }
    }

    /// The day-two operations' client (`logs`, `approve`, the pipeline part
    /// of `status`: CloudWatch Logs and CodePipeline) on the same config:
    /// same credentials (resolved once), region, profile and endpoint, its
    /// own call log.
    pub fn ops(&self) -> crate::OpsClients {
        crate::OpsClients::from_sdk_config(&self.config, self.tuning)
    }

    /// The HTTPS URL of an S3 object, as CloudFormation's TemplateURL wants it.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        match &self.endpoint_url {
            Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region),
        }
    }
}
