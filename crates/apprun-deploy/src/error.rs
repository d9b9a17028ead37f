use crate::stack::FailedEvent;

/// Why a deploy, diff, status, destroy or a day-two operation (`logs`,
/// the pipeline part of `status`, `approve`) stopped. Every variant says
/// what state AWS is in and what to do next.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "env `{env}` is pinned to account {expected}, but these credentials are for account {actual}; switch profile (--profile) or fix `account` in apprun.toml"
    )]
    AccountMismatch {
        env: String,
        expected: String,
        actual: String,
    },
    /// The stack is in a state apprun must not touch.
    #[error("stack {stack} is {status}: {advice}")]
    Blocked {
        stack: String,
        status: String,
        advice: String,
    },
    /// `--stack` named a stack the env does not have.
    #[error("stack {name} is not part of env `{env}`; --stack takes one of: {}", known.join(", "))]
    UnknownStack {
        name: String,
        env: String,
        known: Vec<String>,
    },
    /// A service the blueprint does not have.
    #[error("unknown service `{service}`; name a service of apprun.toml")]
    UnknownService { service: String },
    /// `logs --service` names a service the env does not have.
    #[error("unknown service `{service}`; env `{env}` has: {}", known.join(", "))]
    ServiceNotInEnv {
        service: String,
        env: String,
        known: Vec<String>,
    },
    /// The env has no pipeline stack, or its pipeline does not exist.
    #[error(
        "pipeline {pipeline} does not exist; deploy the env's pipeline stack first (`apprun deploy --env {env}`)"
    )]
    NoPipeline { pipeline: String, env: String },
    /// `logs --build` before any build ran.
    #[error(
        "pipeline {pipeline} has not run a build{}",
        match service { Some(s) => format!(" of service `{s}`"), None => String::new() }
    )]
    NoBuild {
        pipeline: String,
        service: Option<String>,
    },
    /// `approve` when no manual approval waits for an answer.
    #[error(
        "no manual approval is pending in pipeline {pipeline}{}; nothing was answered. `apprun status --env {env}` shows where its runs are",
        match last.as_deref() { Some(l) => format!(" ({l})"), None => String::new() }
    )]
    NoPendingApproval {
        pipeline: String,
        env: String,
        /// The approval action's last state, when it ever ran.
        last: Option<String>,
    },
    /// The approval's token is no longer valid: answered meanwhile (in the
    /// console, by someone else) or expired (CodePipeline waits 7 days).
    #[error(
        "the approval in pipeline {pipeline} (stage {stage}) was already answered or has expired ({code}: {message}); nothing was changed. `apprun status --env {env}` shows the run's state"
    )]
    ApprovalExpired {
        pipeline: String,
        stage: String,
        env: String,
        code: String,
        message: String,
    },
    /// A stack an operation starts from does not exist.
    #[error("stack {stack} is not deployed: {advice}")]
    NotDeployed { stack: String, advice: String },
    /// A stack lacks what every apprun stack has (a parameter, an output).
    #[error("stack {stack} has no {missing}; it was not deployed by apprun synth")]
    NotApprunStack { stack: String, missing: String },
    /// AWS did not finish something within the time apprun waits for it.
    #[error("{what} for {stack} did not finish within {minutes} minutes; {advice}")]
    TimedOut {
        stack: String,
        what: String,
        minutes: u64,
        advice: String,
    },
    /// The caller passed options that contradict each other (an apprun bug).
    #[error("internal error (please report): {0}")]
    Internal(String),
    #[error("the change set for {stack} failed: {reason}{}", format_events(events))]
    ChangeSetFailed {
        stack: String,
        reason: String,
        events: Vec<FailedEvent>,
    },
    #[error(
        "stack {stack} ended in {status}{}\nAWS left it in {status}; {advice}",
        format_events(events)
    )]
    StackFailed {
        stack: String,
        status: String,
        events: Vec<FailedEvent>,
        advice: String,
    },
    #[error(
        "image tag {tag} is not in repository {repository}{detail}; nothing was deployed. Get it there first: `apprun release --env {env}` builds the current commit, pushes it and deploys it; or push the commit to the pipeline's branch, whose build pushes it tagged with the commit's first 7 characters"
    )]
    ImageTagMissing {
        tag: String,
        repository: String,
        detail: String,
        env: String,
    },
    #[error("{0}")]
    Declined(String),
    /// A stop signal (SIGINT/SIGTERM): nothing was written after it. Per
    /// stack, what was sent and where AWS is.
    #[error("interrupted: nothing was sent to AWS after the signal; what was sent before goes on at AWS, nothing was cancelled.\n{}\nRun `apprun status` to follow what is in progress, then the same command again to continue.", if states.is_empty() { "  nothing was sent".to_owned() } else { states.iter().map(|(s, st)| format!("  {s}: {st}")).collect::<Vec<_>>().join("\n") })]
    Interrupted { states: Vec<(String, String)> },
    #[error(
        "template of {stack} is {bytes} bytes; CloudFormation accepts at most {max} (even through S3)"
    )]
    TemplateTooLarge {
        stack: String,
        bytes: usize,
        max: usize,
    },
    #[error("{operation} failed{}: {message}", stack.as_ref().map(|s| format!(" for {s}")).unwrap_or_default())]
    Aws {
        operation: &'static str,
        stack: Option<String>,
        message: String,
    },
    #[error("release of {tag} failed verification: {reason}{}", match rolled_back_to {
        Some(t) => format!("\nrolled back: the service stack runs {t} again"),
        None => "\nnothing to roll back to (no earlier tag); the stack keeps the new tag".to_owned(),
    })]
    ReleaseFailed {
        tag: String,
        reason: String,
        rolled_back_to: Option<String>,
    },
    #[error("migration stopped: {reason}; nothing was removed")]
    MigrateFailed { reason: String },
    #[error("refusing to destroy env `{env}`: {reason}")]
    DestroyRefused { env: String, reason: String },
    /// Some stacks of a destroy could not be deleted.
    #[error(
        "{failed} of {total} stacks could not be deleted; they are in the state shown above. Fix the cause and run `apprun destroy --env {env}` again (it continues where this stopped)."
    )]
    DestroyIncomplete {
        env: String,
        failed: usize,
        total: usize,
    },
}

fn format_events(events: &[FailedEvent]) -> String {
    if events.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "\n  {} {} ({}): {}",
                e.status, e.logical_id, e.resource_type, e.reason
            )
        })
        .collect();
    format!("; first failures:{}", lines.join(""))
}

impl DeployError {
    /// Wraps an SDK error with the operation and stack it concerns. A server
    /// error whose body is not AWS's wire format is named by its HTTP status.
    pub(crate) fn aws<E>(
        operation: &'static str,
        stack: Option<&str>,
        err: aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::http::Response,
        >,
    ) -> Self
    where
        E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
    {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let status = err.raw_response().map(|r| r.status().as_u16());
        let mut message = match (err.code(), err.message()) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (Some(code), None) => code.to_owned(),
            _ => error_message(&err),
        };
        if let Some(code) = status.filter(|c| *c >= 500) {
            message = format!("the endpoint answered HTTP {code} ({message}) even after retries");
        }
        DeployError::Aws {
            operation,
            stack: stack.map(str::to_owned),
            message,
        }
    }
}

/// The most specific message in an SDK error's chain (the service's own
/// message when there is one).
pub(crate) fn error_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() {
            deepest = text;
        }
        source = s.source();
    }
    deepest
}
