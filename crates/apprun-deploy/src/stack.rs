//! What a stack looks like in AWS, and what apprun may do with it.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::StackStatus;

use crate::clients::Clients;
use crate::error::DeployError;

/// A stack as deployed.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub name: String,
    pub status: StackStatus,
    pub status_reason: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub last_updated: Option<String>,
}

/// What the deploy engine does with a stack in a given state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackState {
    /// No such stack: create it.
    Missing,
    /// Settled: compare, then update through a change set (or skip).
    Stable,
    /// A failed create left it unusable: delete and create again.
    FailedCreate,
    /// Something apprun must not touch; the advice says what to do.
    Blocked(String),
}

/// Whether a stack must be created (again): it does not exist, or its first
/// create failed.
pub(crate) fn needs_create(deployed: Option<&Deployed>) -> bool {
    deployed.is_none_or(|d| classify(&d.status) == StackState::FailedCreate)
}

/// Maps a CloudFormation stack status to what apprun does with it.
pub fn classify(status: &StackStatus) -> StackState {
    use StackStatus as S;
    match status {
        S::CreateComplete
        | S::UpdateComplete
        | S::UpdateRollbackComplete
        | S::ImportComplete
        | S::ImportRollbackComplete => StackState::Stable,
        // ROLLBACK_COMPLETE is what a failed first create leaves; REVIEW_IN_PROGRESS
        // is the shell an abandoned CREATE change set leaves. Neither can be updated.
        S::RollbackComplete | S::ReviewInProgress => StackState::FailedCreate,
        S::DeleteComplete => StackState::Missing,
        S::UpdateRollbackFailed => StackState::Blocked(
            "its update failed and so did the rollback. Fix what the events name, then run `aws cloudformation continue-update-rollback --stack-name STACK` (add `--resources-to-skip` for resources that cannot roll back), wait for UPDATE_ROLLBACK_COMPLETE and deploy again".into(),
        ),
        S::RollbackFailed | S::CreateFailed => StackState::Blocked(
            "its creation failed and could not be cleaned up. Delete it (`aws cloudformation delete-stack --stack-name STACK`, retaining resources that refuse to delete), then deploy again".into(),
        ),
        S::DeleteFailed => StackState::Blocked(
            "a delete failed half way. Delete it again (`apprun destroy`, or `aws cloudformation delete-stack` with `--retain-resources` for what cannot be deleted), then deploy".into(),
        ),
        S::CreateInProgress
        | S::DeleteInProgress
        | S::ImportInProgress
        | S::ImportRollbackInProgress
        | S::RollbackInProgress
        | S::UpdateCompleteCleanupInProgress
        | S::UpdateInProgress
        | S::UpdateRollbackCompleteCleanupInProgress
        | S::UpdateRollbackInProgress => StackState::Blocked(
            "another operation is running on it. Wait until it finishes (`apprun status` shows it), then deploy again".into(),
        ),
        // The SDK's enum is open: a status newer than this build.
        other => StackState::Blocked(format!(
            "apprun does not know the status {}; look at the stack's events in the console",
            other.as_str()
        )),
    }
}

/// Whether a status ends an operation (`Some`), and whether it ended well.
pub(crate) fn terminal(status: &StackStatus) -> Option<bool> {
    use StackStatus as S;
    match status {
        S::CreateComplete | S::UpdateComplete | S::DeleteComplete | S::ImportComplete => Some(true),
        S::CreateFailed
        | S::DeleteFailed
        | S::RollbackComplete
        | S::RollbackFailed
        | S::UpdateFailed
        | S::UpdateRollbackComplete
        | S::UpdateRollbackFailed
        | S::ImportRollbackComplete
        | S::ImportRollbackFailed => Some(false),
        S::CreateInProgress
        | S::DeleteInProgress
        | S::ImportInProgress
        | S::ImportRollbackInProgress
        | S::ReviewInProgress
        | S::RollbackInProgress
        | S::UpdateCompleteCleanupInProgress
        | S::UpdateInProgress
        | S::UpdateRollbackCompleteCleanupInProgress
        | S::UpdateRollbackInProgress => None,
        // An unknown status ends nothing apprun waits for well.
        _ => Some(false),
    }
}

/// A failed resource event, for explaining a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvent {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

fn is_missing(message: &str) -> bool {
    message.contains("does not exist")
}

fn pairs<'a>(
    items: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    items
        .map(|(k, v)| {
            (
                k.unwrap_or_default().to_owned(),
                v.unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// DescribeStacks for one stack; `None` when it does not exist.
pub(crate) async fn describe(
    clients: &Clients,
    name: &str,
) -> Result<Option<Deployed>, DeployError> {
    let out = match clients.cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => out,
        Err(e) => {
            let message = crate::error::error_message(&e);
            if is_missing(&message) {
                return Ok(None);
            }
            return Err(DeployError::Aws {
                operation: "DescribeStacks",
                stack: Some(name.to_owned()),
                message,
            });
        }
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .cloned()
        .unwrap_or_else(|| StackStatus::from("UNKNOWN"));
    if status == StackStatus::DeleteComplete {
        return Ok(None);
    }
    Ok(Some(Deployed {
        name: name.to_owned(),
        status,
        status_reason: s.stack_status_reason().map(str::to_owned),
        parameters: pairs(
            s.parameters()
                .iter()
                .map(|p| (p.parameter_key(), p.parameter_value())),
        ),
        outputs: pairs(
            s.outputs()
                .iter()
                .map(|o| (o.output_key(), o.output_value())),
        ),
        last_updated: s
            .last_updated_time()
            .or(s.creation_time())
            .map(|t| t.to_string()),
    }))
}

/// The template body as submitted (GetTemplate, stage Original).
pub(crate) async fn template_body(clients: &Clients, name: &str) -> Result<String, DeployError> {
    let out = clients
        .cfn
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .map_err(|e| DeployError::aws("GetTemplate", Some(name), e))?;
    Ok(out.template_body().unwrap_or_default().to_owned())
}

/// The first failed resource events of the stack's latest operation, oldest first.
pub(crate) async fn failed_events(clients: &Clients, name: &str, limit: usize) -> Vec<FailedEvent> {
    let Ok(out) = clients
        .cfn
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
    else {
        return Vec::new();
    };
    // Events come newest first; stop at the start of the latest operation.
    let mut failed = Vec::new();
    for e in out.stack_events() {
        let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
        let is_stack = e.resource_type() == Some("AWS::CloudFormation::Stack");
        if status.ends_with("_FAILED") && !is_stack {
            failed.push(FailedEvent {
                logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
                resource_type: e.resource_type().unwrap_or_default().to_owned(),
                status: status.to_owned(),
                reason: e
                    .resource_status_reason()
                    .unwrap_or("no reason given")
                    .to_owned(),
            });
        }
        if is_stack
            && matches!(
                status,
                "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" | "DELETE_IN_PROGRESS"
            )
        {
            break;
        }
    }
    failed.reverse();
    failed.truncate(limit);
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_covers_the_states_that_matter() {
        assert_eq!(
            classify(&StackStatus::from("CREATE_COMPLETE")),
            StackState::Stable
        );
        assert_eq!(
            classify(&StackStatus::from("UPDATE_ROLLBACK_COMPLETE")),
            StackState::Stable
        );
        assert_eq!(
            classify(&StackStatus::from("ROLLBACK_COMPLETE")),
            StackState::FailedCreate
        );
        assert_eq!(
            classify(&StackStatus::from("REVIEW_IN_PROGRESS")),
            StackState::FailedCreate
        );
        assert!(
            matches!(classify(&StackStatus::from("UPDATE_ROLLBACK_FAILED")), StackState::Blocked(a) if a.contains("continue-update-rollback"))
        );
        assert!(
            matches!(classify(&StackStatus::from("UPDATE_IN_PROGRESS")), StackState::Blocked(a) if a.contains("Wait"))
        );
        assert!(matches!(
            classify(&StackStatus::from("DELETE_FAILED")),
            StackState::Blocked(_)
        ));
        assert_eq!(
            terminal(&StackStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")),
            None
        );
        assert_eq!(
            terminal(&StackStatus::from("ROLLBACK_COMPLETE")),
            Some(false)
        );
        assert_eq!(terminal(&StackStatus::from("CREATE_COMPLETE")), Some(true));
    }
}
