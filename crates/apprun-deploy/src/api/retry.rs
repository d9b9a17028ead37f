//! Which error answers are retried, by their code: the lists the SDK's
//! standard retry mode uses for AWS services (throttling and transient error
//! codes). Status codes (500, 502, 503, 504) and transport errors are
//! classified by the orchestrator's own classifiers beside this one.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

use super::ServiceError;

/// Error codes that mean "slow down": retried with backoff, and they cost
/// the retry quota as throttling does.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes of transient failures.
const TRANSIENT: &[&str] = &["RequestTimeout", "RequestTimeoutException"];

/// What an error code asks for.
pub(crate) fn action_for_code(code: &str) -> RetryAction {
    if THROTTLING.contains(&code) {
        RetryAction::throttling_error()
    } else if TRANSIENT.contains(&code) {
        RetryAction::transient_error()
    } else {
        RetryAction::NoActionIndicated
    }
}

#[derive(Debug)]
pub(crate) struct ErrorCodeClassifier;

impl ClassifyRetry for ErrorCodeClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match error
            .as_operation_error()
            .and_then(|e| e.downcast_ref::<ServiceError>())
        {
            Some(service) => action_for_code(&service.code),
            None => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "apprun AWS error code"
    }

    // As the SDK's error-code classifier: before the modeled-as-retryable
    // one, so that the status code classifier's verdict can be refined.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_before(
            RetryClassifierPriority::modeled_as_retryable_classifier(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_transient_codes_are_retried_others_are_not() {
        assert_eq!(
            action_for_code("ThrottlingException"),
            RetryAction::throttling_error()
        );
        assert_eq!(
            action_for_code("TooManyRequestsException"),
            RetryAction::throttling_error()
        );
        assert_eq!(
            action_for_code("RequestTimeout"),
            RetryAction::transient_error()
        );
        assert_eq!(
            action_for_code("RepositoryNotFoundException"),
            RetryAction::NoActionIndicated
        );
        assert_eq!(action_for_code(""), RetryAction::NoActionIndicated);
    }
}
