//! What is deployed for an env, and where the service answers.

use apprun_blueprint::{EnvBlueprint, StackKind};
use serde::Serialize;

use crate::clients::Clients;
use crate::error::DeployError;
use crate::stack::describe;

#[derive(Debug, Clone, Serialize)]
pub struct StackStatusLine {
    pub stack: String,
    /// `NOT_DEPLOYED` when the stack does not exist.
    pub status: String,
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
            let service = matches!(s.kind, StackKind::Service(_));
            Ok(StackStatusLine {
                stack: s.name.clone(),
                status: d
                    .as_ref()
                    .map_or("NOT_DEPLOYED".into(), |d| d.status.clone()),
                last_updated: d.as_ref().and_then(|d| d.last_updated.clone()),
                reason: d.as_ref().and_then(|d| d.status_reason.clone()),
                url: d
                    .as_ref()
                    .filter(|_| service)
                    .and_then(|d| d.outputs.get("ServiceUrl").cloned()),
                image_tag: d
                    .as_ref()
                    .filter(|_| service)
                    .and_then(|d| d.parameters.get("ImageTag").cloned()),
            })
        })
        .collect()
}
