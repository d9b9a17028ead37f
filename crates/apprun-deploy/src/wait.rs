//! Waiting for a stack operation to finish, with progress and Ctrl-C.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_cloudformation::types::StackStatus;
use aws_smithy_types::DateTime;

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
    let mut interrupt = interrupt.clone();
    loop {
        let status = match describe(clients, stack).await? {
            Some(d) => d.status,
            None => StackStatus::DeleteComplete,
        };
        let latest = latest_event(clients, stack, since, &mut seen).await;
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
            _ = tokio::time::sleep(clients.tuning.poll) => {}
            _ = interrupt.changed() => {
                return Ok(Waited::Interrupted { status: text });
            }
        }
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
