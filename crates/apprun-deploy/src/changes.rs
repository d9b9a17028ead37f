//! Change sets: what an update would do, created, read and cleaned up.

use std::time::Instant;

use aws_sdk_cloudformation::types::{
    Capability, ChangeAction as SdkAction, ChangeSetStatus, ChangeSetType, Parameter,
    Replacement as SdkReplacement,
};
use serde::Serialize;

use crate::clients::Clients;
use crate::error::DeployError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    Add,
    Modify,
    Remove,
    Other,
}

impl ChangeAction {
    fn from_sdk(action: Option<&SdkAction>) -> ChangeAction {
        match action {
            Some(SdkAction::Add) => ChangeAction::Add,
            Some(SdkAction::Modify) => ChangeAction::Modify,
            Some(SdkAction::Remove) => ChangeAction::Remove,
            // Dynamic (a nested stack's unknown changes), Import, or newer.
            _ => ChangeAction::Other,
        }
    }
}

/// Whether a modification replaces the resource, in CloudFormation's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Replacement {
    True,
    Conditional,
    False,
}

impl Replacement {
    fn from_sdk(r: &SdkReplacement) -> Replacement {
        match r {
            SdkReplacement::True => Replacement::True,
            SdkReplacement::False => Replacement::False,
            // Conditional, or a value newer than this build: it may be replaced.
            _ => Replacement::Conditional,
        }
    }
}

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: ChangeAction,
    pub logical_id: String,
    pub resource_type: String,
    /// For modifications: whether the resource is replaced.
    pub replacement: Option<Replacement>,
}

/// What a template would add to a stack that does not exist yet.
pub(crate) fn additions(template: &apprun_template::Template) -> Vec<Change> {
    template
        .resources
        .iter()
        .map(|(id, r)| Change {
            action: ChangeAction::Add,
            logical_id: id.clone(),
            resource_type: r.kind.to_string(),
            replacement: None,
        })
        .collect()
}

/// One resource change of a change set, as apprun shows it.
fn change_of(c: &aws_sdk_cloudformation::types::Change) -> Option<Change> {
    let rc = c.resource_change()?;
    Some(Change {
        action: ChangeAction::from_sdk(rc.action()),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
        replacement: rc.replacement().map(Replacement::from_sdk),
    })
}

/// A change set ready to execute.
#[derive(Debug, Clone)]
pub(crate) struct PendingChangeSet {
    pub id: String,
    pub changes: Vec<Change>,
}

/// CloudFormation's ways of saying "nothing to change".
fn means_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

pub(crate) enum Created {
    Changes(PendingChangeSet),
    /// The change set had nothing to do; it has been deleted.
    Nothing,
}

/// Creates an UPDATE change set, waits for it, and returns its changes.
/// A change set without changes is deleted, never left behind.
pub(crate) async fn create_update(
    clients: &Clients,
    stack: &str,
    body: TemplateSource,
    parameters: Vec<Parameter>,
    name: &str,
    interrupt: &tokio::sync::watch::Receiver<bool>,
) -> Result<Created, DeployError> {
    let mut req = clients
        .cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .change_set_type(ChangeSetType::Update)
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .set_parameters(Some(parameters))
        .description("apprun deploy");
    req = match body {
        TemplateSource::Body(b) => req.template_body(b),
        TemplateSource::Url(u) => req.template_url(u),
    };
    let created = req
        .send()
        .await
        .map_err(|e| DeployError::aws("CreateChangeSet", Some(stack), e))?;
    let id = created.id().unwrap_or(name).to_owned();
    let started = Instant::now();
    loop {
        let d = clients
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(&id)
            .send()
            .await
            .map_err(|e| DeployError::aws("DescribeChangeSet", Some(stack), e))?;
        match d.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                let changes = d.changes().iter().filter_map(change_of).collect();
                return Ok(Created::Changes(PendingChangeSet { id, changes }));
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = d.status_reason().unwrap_or("no reason given").to_owned();
                // After a stop request nothing more is written: a failed
                // change set changes nothing and may stay.
                if !crate::wait::stop_requested(interrupt) {
                    delete(clients, stack, &id).await?;
                }
                if means_no_changes(&reason) {
                    return Ok(Created::Nothing);
                }
                return Err(DeployError::ChangeSetFailed {
                    stack: stack.to_owned(),
                    reason,
                    events: Vec::new(),
                });
            }
            _ => {
                if started.elapsed().as_secs() > 600 {
                    return Err(DeployError::TimedOut {
                        stack: stack.to_owned(),
                        what: "creating the change set".into(),
                        minutes: 10,
                        advice: format!("look at change set {id} in the console"),
                    });
                }
                tokio::time::sleep(clients.tuning.poll).await;
            }
        }
    }
}

/// A change set's ExecutionStatus (`AVAILABLE` until it is executed);
/// `None` when CloudFormation no longer has it.
pub(crate) async fn execution_status(
    clients: &Clients,
    stack: &str,
    id: &str,
) -> Result<Option<String>, DeployError> {
    match clients
        .cfn
        .describe_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
    {
        Ok(d) => Ok(d.execution_status().map(|s| s.as_str().to_owned())),
        Err(e) => {
            let error = DeployError::aws("DescribeChangeSet", Some(stack), e);
            match &error {
                DeployError::Aws { message, .. } if message.contains("ChangeSetNotFound") => {
                    Ok(None)
                }
                _ => Err(error),
            }
        }
    }
}

pub(crate) async fn delete(clients: &Clients, stack: &str, id: &str) -> Result<(), DeployError> {
    clients
        .cfn
        .delete_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| DeployError::aws("DeleteChangeSet", Some(stack), e))
}

/// Where CloudFormation reads a template from.
#[derive(Debug, Clone)]
pub(crate) enum TemplateSource {
    Body(String),
    /// Templates over 51,200 bytes are staged in the env's artifact bucket.
    Url(String),
}
