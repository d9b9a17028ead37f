//! Deploying an environment: wave by wave, stacks of a wave in parallel.
//!
//! Each wave goes through three phases so that nothing is half-done when a
//! question is answered with "no" or a stack cannot be touched:
//! 1. prepare (parallel, read-only except change sets): compare what is
//!    deployed, classify the stack's state, create update change sets;
//! 2. review: show every change of the wave and ask once (unless --yes);
//! 3. execute (parallel): create, recreate or execute, and wait.
//!
//! New stacks are created with CreateStack rather than a CREATE change set:
//! their changes are exactly the template's resources, and a declined CREATE
//! change set would leave a REVIEW_IN_PROGRESS stack shell behind.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use apprun_blueprint::{EnvBlueprint, Stack, StackKind};
use apprun_template::Format;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_smithy_types::DateTime;
use serde::Serialize;
use tokio::sync::watch;

use crate::calls::ApiCall;
use crate::changes::{self, Change, Created, PendingChangeSet, TemplateSource, additions};
use crate::clients::Clients;
use crate::error::DeployError;
use crate::events::{Event, Observer, Review, ReviewKind};
use crate::identity::verify_account;
use crate::images::{ImageSource, require_tag};
use crate::stack::{
    Deployed, StackState, classify, describe, failed_events, needs_create, template_body,
};
use crate::wait::{Waited, wait_for};

/// CloudFormation's limit for a template passed inline.
const INLINE_LIMIT: usize = 51_200;
/// CloudFormation's limit for a template read from S3.
const S3_LIMIT: usize = 1_000_000;
/// The parameter that pins a service's image.
const IMAGE_TAG: &str = apprun_blueprint::outputs::IMAGE_TAG;

#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub env: String,
    /// `--stack`: only these stacks (by name or file stem, e.g. `network`),
    /// still in wave order. Empty: every stack.
    pub only: Vec<String>,
    /// `--image-tag`: the tag service stacks deploy.
    pub image_tag: Option<String>,
    /// `--yes`: do not ask.
    pub yes: bool,
    /// The env's pinned account, if any.
    pub account: Option<String>,
    /// The env's artifact bucket, for staging templates.
    pub artifact_bucket: String,
    /// Where a given image tag must exist before anything is written.
    pub images: ImageSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Created,
    Updated,
    Recreated,
    Unchanged,
    Failed,
    Interrupted,
    NotStarted,
    /// `diff`: would be created.
    New,
    /// `diff`: would change.
    Changes,
    /// A new service stack left for later: no image tag was given, and none
    /// can exist before the repository does (the pipeline or `apprun
    /// release` creates it).
    Deferred,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackResult {
    pub stack: String,
    pub outcome: Outcome,
    pub status: String,
    pub seconds: f64,
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Serialize)]
pub struct DeployReport {
    pub account: String,
    pub stacks: Vec<StackResult>,
    pub calls: Vec<ApiCall>,
    #[serde(skip)]
    pub error: Option<DeployError>,
}

/// What phase 1 decided for a stack.
enum Prepared {
    Unchanged {
        status: String,
    },
    Create {
        changes: Vec<Change>,
    },
    Recreate {
        changes: Vec<Change>,
        status: String,
    },
    Update {
        change_set: PendingChangeSet,
    },
}

/// Everything about one stack that the phases need.
struct Job<'a> {
    stack: &'a Stack,
    body: String,
    parameters: Vec<Parameter>,
}

/// Whether `only` (from `--stack`) names stacks of the env: each one's
/// file stem or full name. The error lists the stems in deploy order.
pub fn check_only(bp: &EnvBlueprint, only: &[String]) -> Result<(), DeployError> {
    match only.iter().find(|w| !bp.stacks.iter().any(|s| named(s, w))) {
        None => Ok(()),
        Some(unknown) => Err(DeployError::UnknownStack {
            name: unknown.clone(),
            env: bp.env.clone(),
            known: bp
                .waves
                .iter()
                .flatten()
                .map(|&i| bp.stacks[i].kind.file_stem())
                .collect(),
        }),
    }
}

fn named(s: &Stack, want: &str) -> bool {
    s.name == want || s.kind.file_stem() == want
}

fn selected<'a>(bp: &'a EnvBlueprint, only: &[String]) -> Result<Vec<Vec<&'a Stack>>, DeployError> {
    check_only(bp, only)?;
    Ok(bp
        .waves
        .iter()
        .map(|w| {
            w.iter()
                .map(|&i| &bp.stacks[i])
                .filter(|s| only.is_empty() || only.iter().any(|want| named(s, want)))
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect())
}

fn parameters_for(
    stack: &Stack,
    image_tag: Option<&str>,
    deployed: Option<&Deployed>,
) -> Vec<Parameter> {
    stack
        .template
        .parameters
        .keys()
        .map(|key| {
            let p = Parameter::builder().parameter_key(key);
            match (key.as_str(), image_tag) {
                (IMAGE_TAG, Some(tag)) => p.parameter_value(tag).build(),
                _ if deployed.is_some_and(|d| d.parameters.contains_key(key)) => {
                    p.use_previous_value(true).build()
                }
                _ => p.build(),
            }
        })
        .collect()
}

/// Whether the deployed parameters already are what we would pass.
fn parameters_match(wanted: &[Parameter], deployed: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|p| {
        let key = p.parameter_key().unwrap_or_default();
        p.use_previous_value() == Some(true)
            || deployed.get(key).map(String::as_str) == p.parameter_value()
    }) && deployed.len() == wanted.len()
}

/// A short fingerprint of content, for names and tokens (not for security).
fn fingerprint(value: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// A client request token (and change-set name) unique to this content and moment.
fn token(stack: &str, body: &str, parameters: &[Parameter]) -> String {
    let params: Vec<_> = parameters
        .iter()
        .map(|p| (p.parameter_key(), p.parameter_value()))
        .collect();
    let hash = fingerprint((stack, body, params));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("apprun-{hash:016x}-{now}")
}

/// Stages a template in the artifact bucket when it is too big to inline.
async fn template_source(
    clients: &Clients,
    opts: &DeployOptions,
    stack: &str,
    body: &str,
) -> Result<TemplateSource, DeployError> {
    if body.len() <= INLINE_LIMIT {
        return Ok(TemplateSource::Body(body.to_owned()));
    }
    if body.len() > S3_LIMIT {
        return Err(DeployError::TemplateTooLarge {
            stack: stack.to_owned(),
            bytes: body.len(),
            max: S3_LIMIT,
        });
    }
    let key = format!(
        "{}{stack}-{:016x}.yaml",
        apprun_blueprint::STAGING_PREFIX,
        fingerprint(body)
    );
    clients
        .s3
        .put_object()
        .bucket(&opts.artifact_bucket)
        .key(&key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| DeployError::aws("PutObject", Some(stack), e))?;
    Ok(TemplateSource::Url(
        clients.object_url(&opts.artifact_bucket, &key),
    ))
}

async fn prepare(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
    deployed: Option<Deployed>,
) -> Result<Prepared, DeployError> {
    let name = &job.stack.name;
    let Some(d) = deployed else {
        return Ok(Prepared::Create {
            changes: additions(&job.stack.template),
        });
    };
    match classify(&d.status) {
        StackState::Missing => Ok(Prepared::Create {
            changes: additions(&job.stack.template),
        }),
        StackState::FailedCreate => Ok(Prepared::Recreate {
            changes: additions(&job.stack.template),
            status: d.status.as_str().to_owned(),
        }),
        StackState::Blocked(advice) => Err(DeployError::Blocked {
            stack: name.clone(),
            status: d.status.as_str().to_owned(),
            advice: advice.replace("STACK", name),
        }),
        StackState::Stable => {
            let current = template_body(clients, name).await?;
            if current == job.body && parameters_match(&job.parameters, &d.parameters) {
                return Ok(Prepared::Unchanged {
                    status: d.status.as_str().to_owned(),
                });
            }
            let source = template_source(clients, opts, name, &job.body).await?;
            let cs_name = token(name, &job.body, &job.parameters);
            match changes::create_update(clients, name, source, job.parameters.clone(), &cs_name)
                .await?
            {
                Created::Nothing => Ok(Prepared::Unchanged {
                    status: d.status.as_str().to_owned(),
                }),
                Created::Changes(change_set) => Ok(Prepared::Update { change_set }),
            }
        }
    }
}

/// Deletes the change sets prepared for a wave that will not execute.
async fn discard(clients: &Clients, prepared: &[(String, Prepared)]) {
    for (stack, p) in prepared {
        if let Prepared::Update { change_set } = p {
            let _ = changes::delete(clients, stack, &change_set.id).await;
        }
    }
}

/// Why a stack's operation did not end well: the error, and the outcome
/// and last status to report.
type Stopped = (DeployError, Outcome, String);

/// Waits for the stack's operation to end: its final status when it ended
/// well, otherwise why not.
async fn settle(
    clients: &Clients,
    name: &str,
    since: DateTime,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<String, Stopped> {
    match wait_for(clients, name, since, observer, interrupt).await {
        Err(e) => Err((e, Outcome::Failed, String::new())),
        Ok(Waited::Done { status, ok: true }) => Ok(status),
        Ok(Waited::Done { status, ok: false }) => {
            let events = failed_events(clients, name, 5).await;
            let advice = failure_advice(&status, name);
            let error = DeployError::StackFailed {
                stack: name.to_owned(),
                status: status.clone(),
                events,
                advice,
            };
            Err((error, Outcome::Failed, status))
        }
        Ok(Waited::Interrupted { status }) => Err((
            DeployError::Interrupted {
                states: vec![(name.to_owned(), status.clone())],
            },
            Outcome::Interrupted,
            status,
        )),
    }
}

/// Starts deleting a stack whose first create failed (`status`), so that it
/// can be created again.
async fn delete_failed_create(
    clients: &Clients,
    name: &str,
    status: &str,
    observer: &Arc<dyn Observer>,
) -> Result<(), Stopped> {
    observer.event(Event::Progress {
        stack: name.to_owned(),
        status: StackStatus::DeleteInProgress.as_str().to_owned(),
        detail: format!("deleting the {status} stack before creating it again"),
    });
    clients
        .cfn
        .delete_stack()
        .stack_name(name)
        .client_request_token(token(name, "delete", &[]))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            (
                DeployError::aws("DeleteStack", Some(name), e),
                Outcome::Failed,
                String::new(),
            )
        })
}

async fn execute_change_set(clients: &Clients, name: &str, id: &str) -> Result<(), DeployError> {
    clients
        .cfn
        .execute_change_set()
        .stack_name(name)
        .change_set_name(id)
        .client_request_token(token(name, id, &[]))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| DeployError::aws("ExecuteChangeSet", Some(name), e))
}

async fn create_stack(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
) -> Result<(), DeployError> {
    let name = &job.stack.name;
    let source = template_source(clients, opts, name, &job.body).await?;
    let mut req = clients
        .cfn
        .create_stack()
        .stack_name(name)
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .set_parameters(Some(job.parameters.clone()))
        .client_request_token(token(name, &job.body, &job.parameters));
    req = match source {
        TemplateSource::Body(b) => req.template_body(b),
        TemplateSource::Url(u) => req.template_url(u),
    };
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| DeployError::aws("CreateStack", Some(name), e))
}

fn failure_advice(status: &str, stack: &str) -> String {
    match StackStatus::from(status) {
        StackStatus::RollbackComplete => "its first create was rolled back; the next `apprun deploy` deletes and recreates it (after asking, or with --yes)".into(),
        StackStatus::UpdateRollbackComplete => "the update was rolled back and the stack runs its previous template; fix the cause and deploy again".into(),
        other => match classify(&other) {
            StackState::Blocked(advice) => advice.replace("STACK", stack),
            _ => "see the events above".into(),
        },
    }
}

/// Phase 3 for one stack: execute what was prepared and wait for it.
async fn execute(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
    prepared: Prepared,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<StackResult, (DeployError, StackResult)> {
    let name = job.stack.name.clone();
    let started = Instant::now();
    let since = DateTime::from(std::time::SystemTime::now() - std::time::Duration::from_secs(1));
    let result = |outcome, status: String, changes: Vec<Change>| StackResult {
        stack: name.clone(),
        outcome,
        status,
        seconds: started.elapsed().as_secs_f64(),
        changes,
    };
    // What to start once anything in the way is gone: a create, or the
    // change set's execution.
    let (outcome, changes, change_set) = match prepared {
        Prepared::Unchanged { status } => {
            return Ok(result(Outcome::Unchanged, status, Vec::new()));
        }
        Prepared::Create { changes } => (Outcome::Created, changes, None),
        Prepared::Recreate { changes, status } => {
            let deleted = async {
                delete_failed_create(clients, &name, &status, observer).await?;
                settle(clients, &name, since, observer, interrupt).await
            };
            if let Err((e, outcome, status)) = deleted.await {
                return Err((e, result(outcome, status, changes)));
            }
            (Outcome::Recreated, changes, None)
        }
        Prepared::Update { change_set } => {
            (Outcome::Updated, change_set.changes, Some(change_set.id))
        }
    };
    let begun = match &change_set {
        Some(id) => execute_change_set(clients, &name, id).await,
        None => create_stack(clients, opts, job).await,
    };
    if let Err(e) = begun {
        return Err((e, result(Outcome::Failed, String::new(), changes)));
    }
    match settle(clients, &name, since, observer, interrupt).await {
        Ok(status) => Ok(result(outcome, status, changes)),
        Err((e, outcome, status)) => Err((e, result(outcome, status, changes))),
    }
}

fn review_of(stack: &str, p: &Prepared) -> Option<Review> {
    match p {
        Prepared::Unchanged { .. } => None,
        Prepared::Create { changes } => Some(Review {
            stack: stack.to_owned(),
            kind: ReviewKind::Create,
            changes: changes.clone(),
        }),
        Prepared::Recreate { changes, .. } => Some(Review {
            stack: stack.to_owned(),
            kind: ReviewKind::Recreate,
            changes: changes.clone(),
        }),
        Prepared::Update { change_set } => Some(Review {
            stack: stack.to_owned(),
            kind: ReviewKind::Update,
            changes: change_set.changes.clone(),
        }),
    }
}

fn jobs<'a>(
    stacks: &[&'a Stack],
    opts: &DeployOptions,
    deployed: &BTreeMap<String, Option<Deployed>>,
) -> Vec<Job<'a>> {
    stacks
        .iter()
        .map(|s| Job {
            stack: s,
            body: s.template.render(Format::Yaml),
            parameters: parameters_for(
                s,
                opts.image_tag.as_deref(),
                deployed.get(&s.name).and_then(Option::as_ref),
            ),
        })
        .collect()
}

pub(crate) async fn describe_all(
    clients: &Clients,
    stacks: &[&Stack],
) -> Result<BTreeMap<String, Option<Deployed>>, DeployError> {
    let found = futures::future::join_all(stacks.iter().map(|s| describe(clients, &s.name))).await;
    stacks
        .iter()
        .zip(found)
        .map(|(s, d)| Ok((s.name.clone(), d?)))
        .collect()
}

/// Deploys the env's stacks. The report lists every stack (including those
/// not started) and, on failure, carries the error.
pub async fn deploy(
    clients: &Clients,
    bp: &EnvBlueprint,
    opts: &DeployOptions,
    observer: Arc<dyn Observer>,
    interrupt: watch::Receiver<bool>,
) -> DeployReport {
    let mut report = DeployReport::default();
    if let Err(e) = run(clients, bp, opts, &observer, &interrupt, &mut report).await {
        report.error = Some(e);
    }
    // Deferred stacks are listed after the ones that ran, in wave order.
    let (deferred, ran): (Vec<StackResult>, Vec<StackResult>) = std::mem::take(&mut report.stacks)
        .into_iter()
        .partition(|r| r.outcome == Outcome::Deferred);
    report.stacks = ran;
    report.stacks.extend(deferred);
    let done: Vec<String> = report.stacks.iter().map(|r| r.stack.clone()).collect();
    if let Ok(waves) = selected(bp, &opts.only) {
        for s in waves
            .into_iter()
            .flatten()
            .filter(|s| !done.contains(&s.name))
        {
            report.stacks.push(idle(&s.name, Outcome::NotStarted));
        }
    }
    report.calls = clients.calls.calls();
    report
}

/// What every step of one deploy needs.
struct Run<'a> {
    clients: &'a Clients,
    bp: &'a EnvBlueprint,
    opts: &'a DeployOptions,
    observer: &'a Arc<dyn Observer>,
    interrupt: &'a watch::Receiver<bool>,
}

/// A stack that did not run, with why (deferred, not started).
fn idle(stack: &str, outcome: Outcome) -> StackResult {
    StackResult {
        stack: stack.to_owned(),
        outcome,
        status: String::new(),
        seconds: 0.0,
        changes: Vec::new(),
    }
}

async fn run(
    clients: &Clients,
    bp: &EnvBlueprint,
    opts: &DeployOptions,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
    report: &mut DeployReport,
) -> Result<(), DeployError> {
    let run = Run {
        clients,
        bp,
        opts,
        observer,
        interrupt,
    };
    let waves = selected(bp, &opts.only)?;
    report.account = verify_account(clients, &opts.env, opts.account.as_deref()).await?;
    let services: Vec<&Stack> = waves
        .iter()
        .flatten()
        .copied()
        .filter(|s| matches!(s.kind, StackKind::Service { .. }))
        .collect();
    let deferred = deferred(&run, &services).await?;
    report
        .stacks
        .extend(deferred.iter().map(|name| idle(name, Outcome::Deferred)));
    let waves: Vec<Vec<&Stack>> = waves
        .into_iter()
        .map(|w| {
            w.into_iter()
                .filter(|s| !deferred.contains(&s.name))
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut staged = false;
    for (number, wave) in waves.iter().enumerate() {
        staged |= run_wave(&run, number + 1, wave, report).await?;
    }
    if staged {
        return Ok(());
    }
    // Service templates changed without the pipeline stack: its next run
    // must deploy the new ones.
    let deployed = services.into_iter().filter(|s| !deferred.contains(&s.name));
    stage_pipeline_templates(clients, bp, opts, deployed, observer).await
}

/// The service stacks left out of this deploy. Without a tag, a service
/// stack that does not exist yet (or whose first create failed) has no
/// image to run: it is left out, and the rest of the env is deployed.
/// Existing service stacks keep their tag. A given tag must be in the
/// registry: otherwise it would only fail inside CloudFormation, after the
/// other stacks were written.
async fn deferred(run: &Run<'_>, services: &[&Stack]) -> Result<Vec<String>, DeployError> {
    match &run.opts.image_tag {
        Some(tag) => {
            require_tag(run.clients, run.opts, services, tag).await?;
            Ok(Vec::new())
        }
        None => Ok(describe_all(run.clients, services)
            .await?
            .into_iter()
            .filter(|(_, d)| needs_create(d.as_ref()))
            .map(|(name, _)| name)
            .collect()),
    }
}

/// One wave: prepare every stack, show the changes and ask, then execute
/// in parallel. Returns whether the pipeline's templates were staged.
async fn run_wave(
    run: &Run<'_>,
    number: usize,
    wave: &[&Stack],
    report: &mut DeployReport,
) -> Result<bool, DeployError> {
    let (clients, opts, observer) = (run.clients, run.opts, run.observer);
    observer.event(Event::Wave {
        number,
        stacks: wave.iter().map(|s| s.name.clone()).collect(),
    });
    let deployed = describe_all(clients, wave).await?;
    let jobs = jobs(wave, opts, &deployed);
    let ready = prepare_all(clients, opts, &jobs, &deployed).await?;

    let reviews: Vec<Review> = ready.iter().filter_map(|(s, p)| review_of(s, p)).collect();
    if !reviews.is_empty() && !opts.yes && !observer.confirm(&reviews) {
        discard(clients, &ready).await;
        return Err(DeployError::Declined(format!(
            "declined: nothing of wave {number} was executed{}",
            if number > 1 {
                "; earlier waves stay deployed"
            } else {
                ""
            }
        )));
    }

    // The pipeline starts a run as soon as it is created, and that run's
    // build copies the service templates: they must be there first.
    let staged = wave.iter().any(|s| s.kind == StackKind::Pipeline);
    if staged {
        stage_pipeline_templates(clients, run.bp, opts, run.bp.stacks.iter(), observer).await?;
    }

    let results = futures::future::join_all(
        jobs.iter()
            .zip(ready)
            .map(|(job, (_, p))| execute(clients, opts, job, p, observer, run.interrupt)),
    )
    .await;
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(result) => report.stacks.push(result),
            Err((e, result)) => {
                report.stacks.push(result);
                errors.push(e);
            }
        }
    }
    match wave_error(errors, report) {
        Some(e) => Err(e),
        None => Ok(staged),
    }
}

/// Prepares every job of a wave in parallel; on any error, the change sets
/// already created are deleted.
async fn prepare_all(
    clients: &Clients,
    opts: &DeployOptions,
    jobs: &[Job<'_>],
    deployed: &BTreeMap<String, Option<Deployed>>,
) -> Result<Vec<(String, Prepared)>, DeployError> {
    let prepared = futures::future::join_all(jobs.iter().map(|j| {
        prepare(
            clients,
            opts,
            j,
            deployed.get(&j.stack.name).cloned().flatten(),
        )
    }))
    .await;
    let mut ready = Vec::new();
    let mut first_error = None;
    for (job, p) in jobs.iter().zip(prepared) {
        match p {
            Ok(p) => ready.push((job.stack.name.clone(), p)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => {
            discard(clients, &ready).await;
            Err(e)
        }
        None => Ok(ready),
    }
}

/// The error a wave ends with: interruptions merged so that every
/// in-flight stack is named, else the first failure.
fn wave_error(mut errors: Vec<DeployError>, report: &DeployReport) -> Option<DeployError> {
    let mut states: Vec<(String, String)> = errors
        .iter()
        .filter_map(|e| match e {
            DeployError::Interrupted { states } => Some(states.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    if states.is_empty() {
        return (!errors.is_empty()).then(|| errors.remove(0));
    }
    for r in &report.stacks {
        let idle = matches!(r.outcome, Outcome::Unchanged | Outcome::Deferred);
        if !states.iter().any(|(s, _)| s == &r.stack) && !idle {
            states.push((r.stack.clone(), r.status.clone()));
        }
    }
    Some(DeployError::Interrupted { states })
}

/// The pipeline deploys service templates that it reads from the artifact
/// bucket (`apprun/<stack>.yaml`); upload them when they differ.
async fn stage_pipeline_templates<'a>(
    clients: &Clients,
    bp: &EnvBlueprint,
    opts: &DeployOptions,
    deployed: impl Iterator<Item = &'a Stack>,
    observer: &Arc<dyn Observer>,
) -> Result<(), DeployError> {
    let services: Vec<&Stack> = deployed
        .filter(|s| matches!(s.kind, StackKind::Service { .. }))
        .collect();
    if services.is_empty() || bp.stack(&StackKind::Repository).is_none() {
        return Ok(());
    }
    for s in services {
        let key = format!(
            "{}{}.yaml",
            apprun_blueprint::PIPELINE_TEMPLATES_PREFIX,
            s.name
        );
        let body = s.template.render(Format::Yaml);
        let current = match clients
            .s3
            .get_object()
            .bucket(&opts.artifact_bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(o) => o.body.collect().await.ok().map(|b| b.into_bytes().to_vec()),
            Err(_) => None,
        };
        if current.as_deref() == Some(body.as_bytes()) {
            continue;
        }
        clients
            .s3
            .put_object()
            .bucket(&opts.artifact_bucket)
            .key(&key)
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| DeployError::aws("PutObject", Some(&s.name), e))?;
        observer.event(Event::Note(format!(
            "staged s3://{}/{key} for the pipeline",
            opts.artifact_bucket
        )));
    }
    Ok(())
}

/// What a deploy would change, per stack, executing nothing: change sets are
/// created, read and deleted; new stacks show their template's resources.
pub async fn diff(
    clients: &Clients,
    bp: &EnvBlueprint,
    opts: &DeployOptions,
) -> Result<Vec<StackResult>, DeployError> {
    let waves = selected(bp, &opts.only)?;
    let stacks: Vec<&Stack> = waves.into_iter().flatten().collect();
    let deployed = describe_all(clients, &stacks).await?;
    let jobs = jobs(&stacks, opts, &deployed);
    let mut out = Vec::new();
    for job in &jobs {
        let started = Instant::now();
        let d = deployed.get(&job.stack.name).cloned().flatten();
        let status = d
            .as_ref()
            .map(|d| d.status.as_str().to_owned())
            .unwrap_or_default();
        let (outcome, changes) = match prepare(clients, opts, job, d).await? {
            Prepared::Unchanged { .. } => (Outcome::Unchanged, Vec::new()),
            Prepared::Create { changes } | Prepared::Recreate { changes, .. } => {
                (Outcome::New, changes)
            }
            Prepared::Update { change_set } => {
                changes::delete(clients, &job.stack.name, &change_set.id).await?;
                (Outcome::Changes, change_set.changes)
            }
        };
        out.push(StackResult {
            stack: job.stack.name.clone(),
            outcome,
            status,
            seconds: started.elapsed().as_secs_f64(),
            changes,
        });
    }
    Ok(out)
}
