//! SigV4 signing of apprun's own requests with `aws-sigv4`, as the
//! orchestrator's auth scheme: it resolves the credentials through the
//! config's identity cache (shared with the SDK clients of the command, so
//! they are resolved once) and calls [`sign_request`] on every attempt (each
//! retry is signed at its own time).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::auth::{
    AuthScheme, AuthSchemeEndpointConfig, AuthSchemeId, AuthSchemeOptionResolverParams, Sign,
};
use aws_smithy_runtime_api::client::identity::{
    Identity, SharedIdentityCache, SharedIdentityResolver,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    GetIdentityResolver, RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::config_bag::{ConfigBag, Layer};

/// The scheme id the SDK uses for SigV4 (`aws.auth#sigv4`).
const SIGV4: AuthSchemeId = AuthSchemeId::new("sigv4");

/// What a call adds to the orchestrator so that its requests are signed for
/// `region` and `name` with the config's credentials.
pub(crate) fn plugin(
    region: String,
    name: &'static str,
    credentials: Option<SharedCredentialsProvider>,
    identity_cache: SharedIdentityCache,
) -> StaticRuntimePlugin {
    let mut layer = Layer::new("apprun-sigv4");
    layer.store_put(AuthSchemeOptionResolverParams::new(()));
    let mut components = RuntimeComponentsBuilder::new("apprun-sigv4")
        .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![SIGV4])))
        .with_auth_scheme(SigV4Scheme {
            signer: SigV4Signer { region, name },
        })
        .with_identity_cache(Some(identity_cache));
    // Without a credentials provider the orchestrator reports that no
    // identity could be resolved for SigV4.
    if let Some(provider) = credentials {
        components = components.with_identity_resolver(SIGV4, provider);
    }
    StaticRuntimePlugin::new()
        .with_config(layer.freeze())
        .with_runtime_components(components)
}

#[derive(Debug)]
struct SigV4Scheme {
    signer: SigV4Signer,
}

impl AuthScheme for SigV4Scheme {
    fn scheme_id(&self) -> AuthSchemeId {
        SIGV4
    }

    fn identity_resolver(
        &self,
        identity_resolvers: &dyn GetIdentityResolver,
    ) -> Option<SharedIdentityResolver> {
        identity_resolvers.identity_resolver(SIGV4)
    }

    fn signer(&self) -> &dyn Sign {
        &self.signer
    }
}

#[derive(Debug)]
struct SigV4Signer {
    region: String,
    name: &'static str,
}

impl Sign for SigV4Signer {
    fn sign_http_request(
        &self,
        request: &mut HttpRequest,
        identity: &Identity,
        _endpoint: AuthSchemeEndpointConfig<'_>,
        components: &RuntimeComponents,
        _config: &ConfigBag,
    ) -> Result<(), BoxError> {
        let now = components.time_source().unwrap_or_default().now();
        sign_request(request, identity, &self.region, self.name, now)
    }
}

/// Signs `request` (SigV4, in its headers) for `region` and service `name`
/// at `time`. S3 also gets `x-amz-content-sha256` and its own path rules
/// (no normalisation, no double encoding), as S3 requires.
pub(crate) fn sign_request(
    request: &mut HttpRequest,
    identity: &Identity,
    region: &str,
    name: &str,
    time: SystemTime,
) -> Result<(), BoxError> {
    if identity.data::<Credentials>().is_none() {
        return Err("SigV4 needs AWS credentials".into());
    }
    let mut settings = SigningSettings::default();
    if name == "s3" {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(name)
        .time(time)
        .settings(settings)
        .build()?
        .into();
    let body = request
        .body()
        .bytes()
        .map(SignableBody::Bytes)
        .unwrap_or(SignableBody::UnsignedPayload);
    let signable = SignableRequest::new(
        request.method(),
        request.uri(),
        request.headers().iter(),
        body,
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    let (headers, _query) = instructions.into_parts();
    for header in headers {
        request
            .headers_mut()
            .insert(header.name(), header.value().to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;
    use std::time::Duration;

    /// The credentials and time of AWS's published SigV4 test suite
    /// (`AKIDEXAMPLE`, 2015-08-30T12:36:00Z, us-east-1, service `service`).
    fn suite_identity() -> Identity {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test-suite",
        )
        .into()
    }

    fn suite_time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn authorization(request: &HttpRequest) -> String {
        request
            .headers()
            .get("authorization")
            .unwrap_or_default()
            .to_owned()
    }

    /// An empty request to the suite's host with `method`, signed with the
    /// suite's key at the suite's time.
    fn signed_suite_request(method: &str) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::empty());
        request.set_uri("https://example.amazonaws.com/").unwrap();
        request.set_method(method).unwrap();
        sign_request(
            &mut request,
            &suite_identity(),
            "us-east-1",
            "service",
            suite_time(),
        )
        .unwrap();
        request
    }

    #[test]
    fn get_vanilla_of_the_aws_test_suite() {
        let request = signed_suite_request("GET");
        assert_eq!(
            authorization(&request),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(
            request.headers().get("x-amz-date"),
            Some("20150830T123600Z")
        );
    }

    #[test]
    fn post_vanilla_of_the_aws_test_suite() {
        let request = signed_suite_request("POST");
        assert_eq!(
            authorization(&request),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn a_session_token_is_sent_and_signed() {
        let identity: Identity = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("TOKEN".into()),
            None,
            "test",
        )
        .into();
        let mut request = HttpRequest::new(SdkBody::from("{}"));
        request
            .set_uri("https://logs.eu-west-1.amazonaws.com/")
            .unwrap();
        request.set_method("POST").unwrap();
        request
            .headers_mut()
            .insert("x-amz-target", "Logs_20140328.FilterLogEvents");
        sign_request(&mut request, &identity, "eu-west-1", "logs", suite_time()).unwrap();
        assert_eq!(request.headers().get("x-amz-security-token"), Some("TOKEN"));
        let auth = authorization(&request);
        assert!(
            auth.contains("/20150830/eu-west-1/logs/aws4_request")
                && auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target"),
            "{auth}"
        );
    }

    #[test]
    fn s3_requests_carry_their_payload_hash() {
        let mut request = HttpRequest::new(SdkBody::empty());
        request
            .set_uri("https://s3.eu-west-1.amazonaws.com/bucket/key")
            .unwrap();
        request.set_method("GET").unwrap();
        sign_request(
            &mut request,
            &suite_identity(),
            "eu-west-1",
            "s3",
            suite_time(),
        )
        .unwrap();
        assert_eq!(
            request.headers().get("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }
}
