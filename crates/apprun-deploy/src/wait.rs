//! Waiting for a stack operation to finish, with progress and Ctrl-C; and
//! the engine's cancellation token: one check before every write, one race
//! against every read and wait.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_cloudformation::types::StackStatus;
use aws_smithy_types::DateTime;
use tokio::sync::watch;

use crate::clients::Clients;
use crate::error::DeployError;
use crate::events::{Event, Observer};
use crate::stack::{describe, terminal};

/// How a wait ended.
pub(crate) enum Waited {
    /// The final status, and whether it is a success.
    Done { status: String, ok: bool },
    /// Ctrl-C: AWS goes on; the last status seen.
    Interrupted { status: String },
}

/// Consecutive failed polls (each after the SDK's own retries) that end a wait.
const MAX_FAILED_POLLS: u32 = 3;

/// Polls the stack until its operation ends, reporting each new resource
/// event that happened after `since`.
pub(crate) async fn wait_for(
    clients: &Clients,
    stack: &str,
    since: DateTime,
    observer: &Arc<dyn Observer>,
    interrupt: &tokio::sync::watch::Receiver<bool>,
) -> Result<Waited, DeployError> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut last_status: Option<StackStatus> = None;
    let mut failed_polls = 0;
    loop {
        // A poll is read-only: a signal ends it at once, with the last
        // status seen (empty before the first answer).
        let last_text = || {
            last_status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        };
        let polled = tokio::select! {
            biased;
            () = stopped(interrupt) => return Ok(Waited::Interrupted { status: last_text() }),
            polled = async {
                let d = describe(clients, stack).await?;
                let latest = latest_event(clients, stack, since, &mut seen).await;
                Ok::<_, DeployError>((d, latest))
            } => polled,
        };
        // The operation was accepted: a poll that fails even after the
        // SDK's retries (an outage, throttling) is tried again on the next
        // tick; only several in a row end the wait.
        let (found, latest) = match polled {
            Ok(p) => {
                failed_polls = 0;
                p
            }
            Err(e) => {
                failed_polls += 1;
                if failed_polls >= MAX_FAILED_POLLS {
                    return Err(e);
                }
                tokio::select! {
                    biased;
                    () = stopped(interrupt) => return Ok(Waited::Interrupted { status: last_text() }),
                    () = tokio::time::sleep(clients.tuning.poll) => {}
                }
                continue;
            }
        };
        let status = match found {
            Some(d) => d.status,
            None => StackStatus::DeleteComplete,
        };
        let text = status.as_str().to_owned();
        if last_status.as_ref() != Some(&status) || latest.is_some() {
            observer.event(Event::Progress {
                stack: stack.to_owned(),
                status: text.clone(),
                detail: latest.unwrap_or_default(),
            });
        }
        if let Some(ok) = terminal(&status) {
            return Ok(Waited::Done { status: text, ok });
        }
        last_status = Some(status);
        tokio::select! {
            biased;
            () = stopped(interrupt) => return Ok(Waited::Interrupted { status: text }),
            () = tokio::time::sleep(clients.tuning.poll) => {}
        }
    }
}

/// Whether a stop (SIGINT/SIGTERM at the CLI edge) was requested.
pub(crate) fn stop_requested(interrupt: &watch::Receiver<bool>) -> bool {
    *interrupt.borrow()
}

/// Resolves once a stop is requested; never when the sender is gone
/// (nobody can request a stop any more).
pub(crate) async fn stopped(interrupt: &watch::Receiver<bool>) {
    let mut rx = interrupt.clone();
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The error that carries a stop out of the engine; the caller that knows
/// every stack fills in their states.
pub(crate) fn interrupted() -> DeployError {
    DeployError::Interrupted { states: Vec::new() }
}

/// Every write call goes through here first: after a stop request nothing
/// more is sent. A write already sent is never abandoned half-way (its
/// answer says what AWS did); only reads are raced against the signal.
pub(crate) fn before_write(interrupt: &watch::Receiver<bool>) -> Result<(), DeployError> {
    if stop_requested(interrupt) {
        Err(interrupted())
    } else {
        Ok(())
    }
}

/// Runs a read-only step, abandoning it when a stop is requested (there is
/// nothing to undo for a read).
pub(crate) async fn read<T>(
    interrupt: &watch::Receiver<bool>,
    step: impl std::future::Future<Output = Result<T, DeployError>>,
) -> Result<T, DeployError> {
    tokio::select! {
        biased;
        () = stopped(interrupt) => Err(interrupted()),
        r = step => r,
    }
}

/// The newest resource event not reported yet, as one line.
async fn latest_event(
    clients: &Clients,
    stack: &str,
    since: DateTime,
    seen: &mut BTreeSet<String>,
) -> Option<String> {
    let out = clients
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .ok()?;
    let mut newest = None;
    for e in out.stack_events() {
        let fresh = e.timestamp().is_some_and(|t| t.secs() >= since.secs());
        let id = e.event_id().unwrap_or_default().to_owned();
        if !fresh || !seen.insert(id) {
            continue;
        }
        if newest.is_none() {
            let reason = e
                .resource_status_reason()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            newest = Some(format!(
                "{} {}{}",
                e.logical_resource_id().unwrap_or_default(),
                e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                reason
            ));
        }
    }
    newest
}
