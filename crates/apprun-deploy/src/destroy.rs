//! Removing an environment: dependents first, retained resources kept and
//! named, and nothing removed while another env still imports an export.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apprun_blueprint::{EnvBlueprint, Stack, StackKind};
use aws_smithy_types::DateTime;
use serde::Serialize;
use tokio::sync::watch;

use crate::api::s3;
use crate::changes::{Change, ChangeAction};
use crate::clients::Clients;
use crate::error::DeployError;
use aws_sdk_cloudformation::types::StackStatus;

use crate::events::{Event, Observer, Review, ReviewKind};
use crate::stack::{describe, failed_events, template_body};
use crate::wait::{Waited, before_write, read, stop_requested, wait_for};

#[derive(Debug, Default, Serialize)]
pub struct DestroyReport {
    /// Stacks deleted, in the order deleted.
    pub deleted: Vec<String>,
    /// Stacks that did not exist.
    pub absent: Vec<String>,
    /// Per-account stacks kept because another env still uses them.
    pub kept: Vec<(String, String)>,
    /// Resources kept by their DeletionPolicy, as `stack: type name`.
    pub retained: Vec<String>,
    /// Stacks whose deletion failed, with why.
    pub failed: Vec<(String, String)>,
    /// Stacks not attempted because a stack that imports from them (an
    /// earlier wave of the deletion) could not be deleted.
    pub not_attempted: Vec<String>,
}

/// Who imports what: asked through ListImports, or, where that API is not
/// available (moto, or credentials without the right), read once from the
/// templates of this system's stacks and reused for every stack.
#[derive(Default)]
struct ImportLookup {
    list_imports_unavailable: bool,
    /// Stack name → the export names it imports (filled on first need).
    scanned: Option<BTreeMap<String, Vec<String>>>,
}

impl ImportLookup {
    /// Names of stacks outside `leaving` that import any export of `stack`.
    async fn importers(
        &mut self,
        clients: &Clients,
        stack: &Stack,
        leaving: &BTreeSet<String>,
        system_prefix: &str,
    ) -> Result<Vec<String>, DeployError> {
        let exports: Vec<String> = stack.exports();
        let mut found = BTreeSet::new();
        for export in &exports {
            if self.list_imports_unavailable {
                break;
            }
            match clients.cfn.list_imports().export_name(export).send().await {
                Ok(out) => found.extend(out.imports().iter().cloned()),
                Err(e) => {
                    // "not imported by any stack" is how CloudFormation says none.
                    if !crate::error::error_message(&e).contains("is not imported by any stack") {
                        self.list_imports_unavailable = true;
                    }
                }
            }
        }
        if self.list_imports_unavailable && !exports.is_empty() {
            if self.scanned.is_none() {
                self.scanned = Some(scan_imports(clients, system_prefix).await?);
            }
            found = self
                .scanned
                .iter()
                .flatten()
                .filter(|(_, imports)| imports.iter().any(|i| exports.contains(i)))
                .map(|(name, _)| name.clone())
                .collect();
        }
        Ok(found
            .into_iter()
            .filter(|s| !leaving.contains(s) && s != &stack.name)
            .collect())
    }
}

/// The imports of every live stack of this system, from their templates.
async fn scan_imports(
    clients: &Clients,
    prefix: &str,
) -> Result<BTreeMap<String, Vec<String>>, DeployError> {
    let mut found = BTreeMap::new();
    let mut pages = clients.cfn.describe_stacks().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| DeployError::aws("DescribeStacks", None, e))?;
        for s in page.stacks() {
            let name = s.stack_name().unwrap_or_default();
            let deleted = s
                .stack_status()
                .is_some_and(|st| *st == StackStatus::DeleteComplete);
            if !name.starts_with(prefix) || deleted {
                continue;
            }
            let body = template_body(clients, name).await?;
            if let Ok(t) = apprun_template::parse_template(&body) {
                found.insert(name.to_owned(), t.import_names());
            }
        }
    }
    Ok(found)
}

/// Empties a bucket (every version) so that its stack can delete it.
async fn empty_bucket(
    clients: &Clients,
    bucket: &str,
    interrupt: &watch::Receiver<bool>,
) -> Result<usize, DeployError> {
    let mut removed = 0;
    loop {
        let versions = match s3::list_object_versions(&clients.api, bucket).await {
            Ok(versions) => versions,
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(removed),
            Err(e) => return Err(e.into_deploy("ListObjectVersions", None)),
        };
        if versions.is_empty() {
            return Ok(removed);
        }
        before_write(interrupt)?;
        removed += versions.len();
        s3::delete_objects(&clients.api, bucket, &versions)
            .await
            .map_err(|e| e.into_deploy("DeleteObjects", None))?;
    }
}

/// Deletes one stack and waits until it is gone; `empty_first` is a bucket
/// of the stack that must be emptied before CloudFormation can delete it.
/// `resume` is the command that continues after a failure.
pub(crate) async fn delete_one(
    clients: &Clients,
    name: &str,
    empty_first: Option<&str>,
    resume: &str,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), DeployError> {
    if let Some(artifact_bucket) = empty_first {
        let n = empty_bucket(clients, artifact_bucket, interrupt).await?;
        if n > 0 {
            observer.event(Event::Note(format!(
                "emptied s3://{artifact_bucket} ({n} objects)"
            )));
        }
    }
    let since = DateTime::from(std::time::SystemTime::now() - std::time::Duration::from_secs(1));
    before_write(interrupt)?;
    if let Err(e) = clients.cfn.delete_stack().stack_name(name).send().await {
        let error = DeployError::aws("DeleteStack", Some(name), e);
        crate::engine::after_failed_write(
            clients,
            name,
            crate::engine::Write::Delete,
            error,
            resume,
            observer,
        )
        .await?;
    }
    match wait_for(clients, name, since, observer, interrupt).await? {
        Waited::Done { ok: true, .. } => Ok(()),
        Waited::Done { status, .. } => Err(DeployError::StackFailed {
            stack: name.to_owned(),
            status,
            events: failed_events(clients, name, 5).await,
            advice: "fix what the events name (or retain those resources) and run destroy again"
                .into(),
        }),
        Waited::Interrupted { status } => Err(DeployError::Interrupted {
            states: vec![(
                name.to_owned(),
                crate::engine::in_flight("DeleteStack", &status),
            )],
        }),
    }
}

/// Deletes the env's stacks in reverse deploy order: the stacks of a wave in
/// parallel, a wave only once every stack that imports from it is gone.
pub async fn destroy(
    clients: &Clients,
    bp: &EnvBlueprint,
    system_id: &str,
    artifact_bucket: &str,
    yes: bool,
    observer: Arc<dyn Observer>,
    interrupt: watch::Receiver<bool>,
) -> Result<DestroyReport, DeployError> {
    let mut report = DestroyReport::default();
    let plan = read(
        &interrupt,
        deletion_plan(clients, bp, system_id, &mut report),
    )
    .await?;
    if plan.is_empty() {
        return Ok(report);
    }
    if !yes && !observer.confirm(&deletion_reviews(&plan)) {
        return Err(DeployError::Declined(
            "declined: nothing was deleted".into(),
        ));
    }
    let resume = format!("apprun destroy --env {}", bp.env);
    for (number, wave) in plan.iter().enumerate() {
        if stop_requested(&interrupt) {
            return Err(stopped_destroy(&plan, &report, Vec::new()));
        }
        observer.event(Event::Wave {
            number: number + 1,
            stacks: wave.iter().map(|s| s.name.clone()).collect(),
        });
        let results = futures::future::join_all(wave.iter().map(|s| {
            let bucket = (s.kind == StackKind::Repository).then_some(artifact_bucket);
            delete_one(clients, &s.name, bucket, &resume, &observer, &interrupt)
        }))
        .await;
        let mut in_flight = Vec::new();
        for (s, r) in wave.iter().zip(results) {
            match r {
                Ok(()) => {
                    report.deleted.push(s.name.clone());
                    report.retained.extend(retained(s));
                }
                Err(DeployError::Interrupted { states }) => in_flight.extend(states),
                Err(e) => report.failed.push((s.name.clone(), e.to_string())),
            }
        }
        if !in_flight.is_empty() || stop_requested(&interrupt) {
            return Err(stopped_destroy(&plan, &report, in_flight));
        }
        if !report.failed.is_empty() {
            report.not_attempted = plan[number + 1..]
                .iter()
                .flatten()
                .map(|s| s.name.clone())
                .collect();
            break;
        }
    }
    Ok(report)
}

/// The interrupted error of a destroy: every stack of the plan with what
/// was sent for it (`known` holds the in-flight ones' own words).
fn stopped_destroy(
    plan: &[Vec<&Stack>],
    report: &DestroyReport,
    known: Vec<(String, String)>,
) -> DeployError {
    let states = plan
        .iter()
        .flatten()
        .map(|s| {
            let state = if let Some((_, said)) = known.iter().find(|(k, _)| k == &s.name) {
                said.clone()
            } else if report.deleted.contains(&s.name) {
                "completed: deleted".to_owned()
            } else if let Some((_, why)) = report.failed.iter().find(|(f, _)| f == &s.name) {
                format!("failed: {why}")
            } else {
                "not started: nothing sent".to_owned()
            };
            (s.name.clone(), state)
        })
        .collect();
    DeployError::Interrupted { states }
}

/// The env's deployed stacks in deletion waves (dependents first). Absent
/// stacks and per-account stacks another env still imports from are noted
/// in the report and left out; any other stack still imported from refuses
/// the whole destroy.
async fn deletion_plan<'a>(
    clients: &Clients,
    bp: &'a EnvBlueprint,
    system_id: &str,
    report: &mut DestroyReport,
) -> Result<Vec<Vec<&'a Stack>>, DeployError> {
    let waves: Vec<Vec<&Stack>> = bp
        .waves
        .iter()
        .rev()
        .map(|w| w.iter().map(|&i| &bp.stacks[i]).collect())
        .collect();
    let mut present: BTreeSet<String> = BTreeSet::new();
    for s in waves.iter().flatten() {
        match describe(clients, &s.name).await? {
            Some(_) => {
                present.insert(s.name.clone());
            }
            None => report.absent.push(s.name.clone()),
        }
    }
    let prefix = format!("{system_id}-");
    let mut lookup = ImportLookup::default();
    let mut plan: Vec<Vec<&Stack>> = Vec::new();
    for wave in &waves {
        let mut keep = Vec::new();
        for s in wave.iter().filter(|s| present.contains(&s.name)) {
            let users = lookup.importers(clients, s, &present, &prefix).await?;
            if users.is_empty() {
                keep.push(*s);
            } else if s.kind.per_account() {
                report.kept.push((
                    s.name.clone(),
                    format!("still imported by {}", users.join(", ")),
                ));
            } else {
                return Err(DeployError::DestroyRefused {
                    env: bp.env.clone(),
                    reason: format!(
                        "{} exports values that {} still import; destroy those first",
                        s.name,
                        users.join(", ")
                    ),
                });
            }
        }
        if !keep.is_empty() {
            plan.push(keep);
        }
    }
    Ok(plan)
}

fn retains(r: &apprun_template::Resource) -> bool {
    r.deletion_policy() == Some("Retain")
}

/// What the user is asked about: every resource of every stack, removed or
/// kept by its DeletionPolicy.
fn deletion_reviews(plan: &[Vec<&Stack>]) -> Vec<Review> {
    plan.iter()
        .flatten()
        .map(|s| Review {
            stack: s.name.clone(),
            kind: ReviewKind::Delete,
            changes: s
                .template
                .resources
                .iter()
                .map(|(id, r)| Change {
                    action: if retains(r) {
                        ChangeAction::Other
                    } else {
                        ChangeAction::Remove
                    },
                    logical_id: id.clone(),
                    resource_type: r.kind.to_string(),
                    replacement: None,
                })
                .collect(),
        })
        .collect()
}

/// The resources a deleted stack left behind, as `stack: type name`.
fn retained(s: &Stack) -> Vec<String> {
    s.template
        .resources
        .iter()
        .filter(|(_, r)| retains(r))
        .map(|(id, res)| {
            let name = res
                .properties
                .values()
                .next()
                .and_then(|v| v.as_str())
                .unwrap_or(id);
            format!("{}: {} {name} (DeletionPolicy Retain)", s.name, res.kind)
        })
        .collect()
}
