//! What the engine tells its user while it works, and how it asks.

use crate::changes::Change;

/// Progress, sent as it happens. Renderers (a terminal UI, plain lines,
/// JSON) live in the CLI.
#[derive(Debug, Clone)]
pub enum Event {
    /// A wave of stacks that run in parallel starts.
    Wave { number: usize, stacks: Vec<String> },
    /// A stack's status changed or a new resource event arrived.
    Progress {
        stack: String,
        status: String,
        detail: String,
    },
    /// Something the user should know that is not a stack's status.
    Note(String),
}

/// The changes of one stack, shown before anything is executed.
#[derive(Debug, Clone)]
pub struct Review {
    pub stack: String,
    pub kind: ReviewKind,
    pub changes: Vec<Change>,
}

/// What happens to a reviewed stack as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewKind {
    Create,
    Update,
    /// Delete a failed first create, then create again.
    Recreate,
    Delete,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Create => "create",
            ReviewKind::Update => "update",
            ReviewKind::Recreate => "recreate",
            ReviewKind::Delete => "delete",
        }
    }
}

/// Receives progress and answers questions.
pub trait Observer: Send + Sync {
    fn event(&self, event: Event);
    /// Shows the reviews and asks whether to go ahead. Called only when
    /// there is something to execute and `--yes` was not given.
    fn confirm(&self, reviews: &[Review]) -> bool;
}
