//! What the wire-response tests share: the SDK's HTTP client replaced by a
//! script that answers every request in-process (nothing leaves the test).

#[allow(dead_code)]
pub mod scripted;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// A script of hand-written wire responses: one answer per request.
pub trait Answers: Clone + Send + Sync + 'static {
    fn answer(&self, request: &HttpRequest) -> HttpResponse;
}

/// The SDK HTTP client that asks `script` for every response.
pub fn http_client(script: impl Answers) -> SharedHttpClient {
    SharedHttpClient::new(FakeClient(script))
}

#[derive(Clone)]
struct FakeClient<A>(A);

impl<A> std::fmt::Debug for FakeClient<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeClient")
    }
}

impl<A: Answers> HttpConnector for FakeClient<A> {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Ok(self.0.answer(&request)))
    }
}

impl<A: Answers> HttpClient for FakeClient<A> {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
