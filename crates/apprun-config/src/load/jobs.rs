//! `[jobs.NAME]`: the raw form of a job and its validation.
//!
//! A job runs a service's image (or its own Dockerfile) on a schedule or on
//! an event; see [`crate::job`] for the validated model.

use indexmap::IndexMap;
use serde::Deserialize;

use super::Validator;
use crate::job::Job;
use crate::model::{Env, Service};

/// `[jobs.NAME]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJob {}

impl Validator {
    /// Validates every `[jobs.NAME]` against the services and envs it names.
    pub(super) fn jobs(
        &mut self,
        raw: IndexMap<String, RawJob>,
        _services: &IndexMap<String, Service>,
        _envs: &IndexMap<String, Env>,
    ) -> IndexMap<String, Job> {
        raw.into_keys().map(|name| (name.clone(), Job { name })).collect()
    }
}
