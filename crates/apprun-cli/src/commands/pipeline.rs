//! The pipeline part of `apprun status`: the env's pipeline, its last runs
//! and the pending approval.

use serde_json::{Value, json};

use crate::shared::Session;

/// The pipeline part of `apprun status`, as JSON (the document's
/// `pipeline` key) and as text (after the stacks' table).
pub(crate) struct PipelineSection {
    /// `null` when the env has no pipeline stack; `{"error": …}` when its
    /// runs could not be read.
    pub json: Value,
    pub text: String,
}

/// The env's pipeline, its last runs and the pending approval. Reading them
/// never fails `status`: the stacks' state is worth showing alone (an
/// operator may lack the CodePipeline permissions), so an error becomes
/// part of the section.
pub(crate) async fn status_section(s: &Session, env: &str) -> PipelineSection {
    let ops = s.clients.ops();
    match apprun_deploy::pipeline_status(&ops, &s.bp).await {
        Ok(None) => PipelineSection {
            json: Value::Null,
            text: String::new(),
        },
        Ok(Some(p)) => PipelineSection {
            json: serde_json::to_value(&p).unwrap_or(Value::Null),
            text: format!("\n{}", crate::views::pipeline_text(env, &p)),
        },
        Err(e) => PipelineSection {
            text: format!("\npipeline: its runs could not be read: {e}\n"),
            json: json!({ "error": e.to_string() }),
        },
    }
}
