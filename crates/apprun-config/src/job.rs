//! The validated form of `[jobs.NAME]`: a task run from a service's image on
//! a schedule or on an event.

/// One job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: String,
}
