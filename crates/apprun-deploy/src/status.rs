//! What is deployed for an env, and where the service answers.

use apprun_blueprint::{EnvBlueprint, StackKind, outputs};
use aws_sdk_cloudformation::types::StackStatus;
use serde::Serialize;

use crate::clients::Clients;
use crate::error::DeployError;
use crate::stack::describe;

#[derive(Debug, Clone, Serialize)]
pub struct StackStatusLine {
    pub stack: String,
    /// Whether the stack exists.
    pub deployed: bool,
    /// CloudFormation's status; `None` when the stack does not exist.
    #[serde(serialize_with = "status_text")]
    pub status: Option<StackStatus>,
    pub last_updated: Option<String>,
    pub reason: Option<String>,
    /// The service URL, for service stacks that have one.
    pub url: Option<String>,
    pub image_tag: Option<String>,
}

/// One line per stack, in deploy order.
pub async fn status(
    clients: &Clients,
    bp: &EnvBlueprint,
) -> Result<Vec<StackStatusLine>, DeployError> {
    let found =
        futures::future::join_all(bp.stacks.iter().map(|s| describe(clients, &s.name))).await;
    bp.stacks
        .iter()
        .zip(found)
        .map(|(s, d)| {
            let d = d?;
            let service = matches!(s.kind, StackKind::Service { .. });
            // Job stacks run an image too: their tag is shown like a service's.
            let runs_image = s.kind.takes_image();
            Ok(StackStatusLine {
                stack: s.name.clone(),
                deployed: d.is_some(),
                status: d.as_ref().map(|d| d.status.clone()),
                last_updated: d.as_ref().and_then(|d| d.last_updated.clone()),
                reason: d.as_ref().and_then(|d| d.status_reason.clone()),
                url: d
                    .as_ref()
                    .filter(|_| service)
                    .and_then(|d| d.outputs.get(outputs::SERVICE_URL).cloned()),
                image_tag: d
                    .as_ref()
                    .filter(|_| runs_image)
                    .and_then(|d| d.parameters.get(outputs::IMAGE_TAG).cloned()),
            })
        })
        .collect()
}

/// A status as CloudFormation spells it (`CREATE_COMPLETE`), or null.
fn status_text<S: serde::Serializer>(
    status: &Option<StackStatus>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match status {
        Some(s) => serializer.serialize_str(s.as_str()),
        None => serializer.serialize_none(),
    }
}
