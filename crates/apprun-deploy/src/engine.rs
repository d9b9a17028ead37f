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
use crate::wait::{Waited, before_write, interrupted, read, wait_for};

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
    /// The write call that started this stack's operation
    /// (`CreateStack`, `ExecuteChangeSet`, `DeleteStack`, or
    /// `CreateChangeSet` for a change set prepared and left unexecuted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
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
    interrupt: &watch::Receiver<bool>,
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
    put_artifact(
        clients,
        opts,
        stack,
        &key,
        body.as_bytes().to_vec(),
        interrupt,
    )
    .await?;
    Ok(TemplateSource::Url(
        clients.object_url(&opts.artifact_bucket, &key),
    ))
}

/// Writes `body` to `key` in the env's artifact bucket, for `stack`.
async fn put_artifact(
    clients: &Clients,
    opts: &DeployOptions,
    stack: &str,
    key: &str,
    body: Vec<u8>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), DeployError> {
    before_write(interrupt)?;
    crate::api::s3::put_object(&clients.api, &opts.artifact_bucket, key, body)
        .await
        .map_err(|e| e.into_deploy("PutObject", Some(stack)))
}

async fn prepare(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
    deployed: Option<Deployed>,
    interrupt: &watch::Receiver<bool>,
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
            let current = read(interrupt, template_body(clients, name)).await?;
            if current == job.body && parameters_match(&job.parameters, &d.parameters) {
                return Ok(Prepared::Unchanged {
                    status: d.status.as_str().to_owned(),
                });
            }
            let source = template_source(clients, opts, name, &job.body, interrupt).await?;
            let cs_name = token(name, &job.body, &job.parameters);
            before_write(interrupt)?;
            match changes::create_update(
                clients,
                name,
                source,
                job.parameters.clone(),
                &cs_name,
                interrupt,
            )
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

/// A stack-level write call whose answer the engine needs to trust.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write<'a> {
    Create,
    /// ExecuteChangeSet of this change set.
    Execute(&'a str),
    Delete,
}

impl Write<'_> {
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Write::Create => "CreateStack",
            Write::Execute(_) => "ExecuteChangeSet",
            Write::Delete => "DeleteStack",
        }
    }
}

/// What reading the stack after a failed write showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Landed {
    /// The call took effect: AWS runs (or ran) the operation; its status.
    Yes(String),
    /// It did not: the stack is as it was; its status.
    No(String),
    /// Its state could not be read either: why.
    Unknown(String),
}

/// After a write failed — a reset connection, a timeout, a 5xx or
/// throttling even after retries, or a retry refused because the first
/// attempt had landed although its answer was lost — reads the stack (and
/// the change set) to learn whether the call took effect.
pub(crate) async fn landed(clients: &Clients, name: &str, call: Write<'_>) -> Landed {
    let stack = match describe(clients, name).await {
        Ok(d) => d,
        Err(e) => return Landed::Unknown(e.to_string()),
    };
    let status = stack.as_ref().map_or("does not exist".to_owned(), |d| {
        d.status.as_str().to_owned()
    });
    match call {
        // The stack was missing when the call was made: one that exists now
        // is the call's.
        Write::Create if stack.is_some() => Landed::Yes(status),
        Write::Create => Landed::No(status),
        Write::Delete => match stack.map(|d| d.status) {
            None => Landed::Yes(StackStatus::DeleteComplete.as_str().to_owned()),
            Some(StackStatus::DeleteInProgress) => Landed::Yes(status),
            Some(_) => Landed::No(status),
        },
        Write::Execute(id) => match changes::execution_status(clients, name, id).await {
            Ok(Some(s)) if s == "AVAILABLE" => Landed::No(status),
            Ok(_) => Landed::Yes(status),
            Err(e) => Landed::Unknown(e.to_string()),
        },
    }
}

/// Turns a failed write into what the user must know: `Ok` with the
/// status when it took effect after all (the engine then follows the
/// operation), else the error extended with the stack's real state and
/// the command that continues (`resume`).
pub(crate) async fn after_failed_write(
    clients: &Clients,
    name: &str,
    call: Write<'_>,
    error: DeployError,
    resume: &str,
    observer: &Arc<dyn Observer>,
) -> Result<String, DeployError> {
    let op = call.operation();
    match landed(clients, name, call).await {
        Landed::Yes(status) => {
            observer.event(Event::Note(format!(
                "{name}: {op} reported an error ({error}), but DescribeStacks shows {status}: the call took effect; following it"
            )));
            Ok(status)
        }
        Landed::No(status) => Err(with_state(
            error,
            format!(
                "DescribeStacks afterwards shows {name}: {status}; so the call did not take effect and AWS changed nothing. Once the cause is gone (an outage or throttling passes by itself), run `{resume}` again"
            ),
        )),
        Landed::Unknown(why) => Err(with_state(
            error,
            format!(
                "whether it took effect is unknown: reading {name} afterwards failed too ({why}). Once the endpoint answers, run `{resume}` again: it reads every stack's real state before writing"
            ),
        )),
    }
}

/// Adds a sentence about AWS's real state to an AWS error.
fn with_state(error: DeployError, sentence: String) -> DeployError {
    crate::domains::append_to_aws_message(error, ".\n", &sentence)
}

/// Starts deleting a stack whose first create failed (`status`), so that it
/// can be created again.
async fn delete_failed_create(
    clients: &Clients,
    opts: &DeployOptions,
    name: &str,
    status: &str,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), DeployError> {
    before_write(interrupt)?;
    observer.event(Event::Progress {
        stack: name.to_owned(),
        status: StackStatus::DeleteInProgress.as_str().to_owned(),
        detail: format!("deleting the {status} stack before creating it again"),
    });
    let sent = clients
        .cfn
        .delete_stack()
        .stack_name(name)
        .client_request_token(token(name, "delete", &[]))
        .send()
        .await;
    match sent {
        Ok(_) => Ok(()),
        Err(e) => {
            let error = DeployError::aws("DeleteStack", Some(name), e);
            after_failed_write(
                clients,
                name,
                Write::Delete,
                error,
                &resume_deploy(opts),
                observer,
            )
            .await
            .map(|_| ())
        }
    }
}

/// The command that continues a deploy.
fn resume_deploy(opts: &DeployOptions) -> String {
    format!("apprun deploy --env {}", opts.env)
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
    source: TemplateSource,
    job: &Job<'_>,
) -> Result<(), DeployError> {
    let name = &job.stack.name;
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

/// A stopped stack operation, and the write call sent for it that changed
/// something at AWS (if any).
type StoppedAfter = (Stopped, Option<&'static str>);

/// Phase 3 for one stack: execute what was prepared and wait for it.
async fn execute(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
    prepared: Prepared,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<StackResult, (DeployError, StackResult)> {
    let name = &job.stack.name;
    let started = Instant::now();
    let since = DateTime::from(std::time::SystemTime::now() - std::time::Duration::from_secs(1));
    let result = |outcome, status: String, changes: Vec<Change>, sent: Option<&str>| StackResult {
        stack: name.clone(),
        outcome,
        status,
        seconds: started.elapsed().as_secs_f64(),
        changes,
        sent: sent.map(str::to_owned),
    };
    // What to start once anything in the way is gone: a create, or the
    // change set's execution.
    let (outcome, changes, change_set) = match prepared {
        Prepared::Unchanged { status } => {
            return Ok(result(Outcome::Unchanged, status, Vec::new(), None));
        }
        Prepared::Create { changes } => (Outcome::Created, changes, None),
        Prepared::Recreate { changes, status } => {
            let cleared = recreate_after_failed_create(
                clients, opts, name, status, since, observer, interrupt,
            )
            .await;
            if let Err(((e, outcome, status), sent)) = cleared {
                return Err((e, result(outcome, status, changes, sent)));
            }
            (Outcome::Recreated, changes, None)
        }
        Prepared::Update { change_set } => {
            (Outcome::Updated, change_set.changes, Some(change_set.id))
        }
    };
    let call = match &change_set {
        Some(id) => Write::Execute(id),
        None => Write::Create,
    };
    if let Err(((e, outcome, status), sent)) =
        begin_write(clients, opts, job, call, observer, interrupt).await
    {
        return Err((e, result(outcome, status, changes, sent)));
    }
    let op = call.operation();
    match follow(clients, opts, name, op, since, observer, interrupt).await {
        Ok(status) => Ok(result(outcome, status, changes, Some(op))),
        Err((e, outcome, status)) => Err((e, result(outcome, status, changes, Some(op)))),
    }
}

/// Deletes a stack whose first create failed (`status`) and waits until it
/// is gone, so that it can be created again.
async fn recreate_after_failed_create(
    clients: &Clients,
    opts: &DeployOptions,
    name: &str,
    status: String,
    since: DateTime,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), StoppedAfter> {
    if let Err(e) = delete_failed_create(clients, opts, name, &status, observer, interrupt).await {
        let outcome = match e {
            DeployError::Interrupted { .. } => Outcome::NotStarted,
            _ => Outcome::Failed,
        };
        return Err(((e, outcome, status), None));
    }
    settle(clients, name, since, observer, interrupt)
        .await
        .map(|_| ())
        .map_err(|stopped| (stopped, Some(Write::Delete.operation())))
}

/// Sends the write that starts the stack's operation (`call`: CreateStack,
/// staging a large template first, or ExecuteChangeSet). A failed call that
/// took effect after all counts as sent.
async fn begin_write(
    clients: &Clients,
    opts: &DeployOptions,
    job: &Job<'_>,
    call: Write<'_>,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<(), StoppedAfter> {
    let name = &job.stack.name;
    let begun = async {
        match call {
            Write::Execute(id) => {
                before_write(interrupt)?;
                execute_change_set(clients, name, id).await
            }
            _ => {
                let source = template_source(clients, opts, name, &job.body, interrupt).await?;
                before_write(interrupt)?;
                create_stack(clients, source, job).await
            }
        }
    };
    let error = match begun.await {
        Ok(()) => return Ok(()),
        Err(e @ DeployError::Interrupted { .. }) => {
            // A change set prepared but not executed is named as sent: it
            // exists at AWS (and changes nothing).
            let prepared = match call {
                Write::Execute(_) => Some("CreateChangeSet"),
                _ => None,
            };
            return Err(((e, Outcome::NotStarted, String::new()), prepared));
        }
        Err(e) => e,
    };
    let resume = resume_deploy(opts);
    match after_failed_write(clients, name, call, error, &resume, observer).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let status = describe(clients, name)
                .await
                .ok()
                .flatten()
                .map(|d| d.status.as_str().to_owned())
                .unwrap_or_default();
            Err(((e, Outcome::Failed, status), None))
        }
    }
}

/// Waits for the operation `op` started; when only reading its progress
/// failed, the error says that AWS goes on with it.
async fn follow(
    clients: &Clients,
    opts: &DeployOptions,
    name: &str,
    op: &str,
    since: DateTime,
    observer: &Arc<dyn Observer>,
    interrupt: &watch::Receiver<bool>,
) -> Result<String, Stopped> {
    settle(clients, name, since, observer, interrupt)
        .await
        .map_err(|(e, outcome, status)| {
            // `with_state` extends AWS errors only: a failed or interrupted
            // operation is reported as it is.
            let e = with_state(
                e,
                format!(
                    "{op} was accepted, so AWS goes on with it; only reading its progress failed. Run `apprun status --env {}` to follow it, then `{}` again",
                    opts.env,
                    resume_deploy(opts)
                ),
            );
            (e, outcome, status)
        })
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
    if let Some(DeployError::Interrupted { states }) = &mut report.error {
        *states = interrupted_states(&report.stacks, states);
    }
    report.calls = clients.calls.calls();
    report
}

/// The state of a stack whose operation a stop left running at AWS:
/// `STATUS: sent CALL; ...` (the status first, as CloudFormation last
/// showed it, when it was read).
pub(crate) fn in_flight(sent: &str, status: &str) -> String {
    if status.is_empty() {
        format!(
            "sent {sent}; in progress at AWS (status not read yet), left running, not cancelled"
        )
    } else {
        format!("{status}: sent {sent}; in progress at AWS, left running, not cancelled")
    }
}

/// Per stack, in report order, what a stopped deploy did: nothing sent,
/// sent and left running at AWS, or completed. `known` holds what the
/// wave that stopped already said (e.g. a change set left unexecuted).
fn interrupted_states(stacks: &[StackResult], known: &[(String, String)]) -> Vec<(String, String)> {
    stacks
        .iter()
        .map(|r| {
            if let Some((_, said)) = known.iter().find(|(s, _)| s == &r.stack) {
                return (r.stack.clone(), said.clone());
            }
            let status = if r.status.is_empty() {
                "status not read yet".to_owned()
            } else {
                r.status.clone()
            };
            let sent = r.sent.as_deref().unwrap_or("nothing");
            let state = match r.outcome {
                Outcome::NotStarted if r.sent.is_some() => format!(
                    "not started: only {sent} was sent (a change set that changes nothing until executed)"
                ),
                Outcome::NotStarted => "not started: nothing sent".to_owned(),
                Outcome::Deferred => "deferred: nothing sent".to_owned(),
                Outcome::Unchanged => format!("unchanged: nothing sent ({status})"),
                Outcome::Interrupted => in_flight(sent, &r.status),
                Outcome::Failed => format!("failed ({status})"),
                done => format!(
                    "completed: {} ({status})",
                    serde_json::to_value(done)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            };
            (r.stack.clone(), state)
        })
        .collect()
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
        sent: None,
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
    report.account = read(
        interrupt,
        verify_account(clients, &opts.env, opts.account.as_deref()),
    )
    .await?;
    let services: Vec<&Stack> = waves
        .iter()
        .flatten()
        .copied()
        .filter(|s| s.kind.takes_image())
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
        // Between waves: a stop leaves the later waves not started.
        if crate::wait::stop_requested(interrupt) {
            return Err(interrupted());
        }
        staged |= run_wave(&run, number + 1, wave, report).await?;
    }
    if staged {
        return Ok(());
    }
    // Service templates changed without the pipeline stack: its next run
    // must deploy the new ones.
    let deployed = services.into_iter().filter(|s| !deferred.contains(&s.name));
    stage_pipeline_templates(clients, bp, opts, deployed, observer, interrupt).await
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
            read(
                run.interrupt,
                require_tag(run.clients, run.opts, services, tag),
            )
            .await?;
            Ok(Vec::new())
        }
        None => Ok(read(run.interrupt, describe_all(run.clients, services))
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
    let deployed = read(run.interrupt, describe_all(clients, wave)).await?;
    let jobs = jobs(wave, opts, &deployed);
    let ready = prepare_all(clients, opts, &jobs, &deployed, run.interrupt).await?;

    // A stop before or during the review: nothing of the wave is executed;
    // its change sets stay, unexecuted (deleting them would be a write).
    unless_stopped(run, &ready)?;
    review(run, number, &ready).await?;
    unless_stopped(run, &ready)?;
    let staged = stage_for_new_pipeline(run, wave, &ready).await?;

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

/// An interruption before the wave executes anything: its prepared change
/// sets are named as left unexecuted.
fn unless_stopped(run: &Run<'_>, ready: &[(String, Prepared)]) -> Result<(), DeployError> {
    if crate::wait::stop_requested(run.interrupt) {
        return Err(DeployError::Interrupted {
            states: unexecuted(ready),
        });
    }
    Ok(())
}

/// Shows the wave's changes and asks once (unless `--yes`); declined, its
/// change sets are deleted.
async fn review(
    run: &Run<'_>,
    number: usize,
    ready: &[(String, Prepared)],
) -> Result<(), DeployError> {
    let reviews: Vec<Review> = ready.iter().filter_map(|(s, p)| review_of(s, p)).collect();
    if reviews.is_empty() || run.opts.yes || run.observer.confirm(&reviews) {
        return Ok(());
    }
    discard(run.clients, ready).await;
    Err(DeployError::Declined(format!(
        "declined: nothing of wave {number} was executed{}",
        if number > 1 {
            "; earlier waves stay deployed"
        } else {
            ""
        }
    )))
}

/// Stages every service template when the wave holds the pipeline stack:
/// the pipeline starts a run as soon as it is created, and that run's build
/// copies the service templates, so they must be there first. Returns
/// whether it staged.
async fn stage_for_new_pipeline(
    run: &Run<'_>,
    wave: &[&Stack],
    ready: &[(String, Prepared)],
) -> Result<bool, DeployError> {
    if !wave.iter().any(|s| s.kind == StackKind::Pipeline) {
        return Ok(false);
    }
    stage_pipeline_templates(
        run.clients,
        run.bp,
        run.opts,
        run.bp.stacks.iter(),
        run.observer,
        run.interrupt,
    )
    .await
    .map_err(|e| match e {
        DeployError::Interrupted { .. } => DeployError::Interrupted {
            states: unexecuted(ready),
        },
        e => e,
    })?;
    Ok(true)
}

/// Prepares every job of a wave in parallel; on any error, the change sets
/// already created are deleted.
async fn prepare_all(
    clients: &Clients,
    opts: &DeployOptions,
    jobs: &[Job<'_>],
    deployed: &BTreeMap<String, Option<Deployed>>,
    interrupt: &watch::Receiver<bool>,
) -> Result<Vec<(String, Prepared)>, DeployError> {
    let prepared = futures::future::join_all(jobs.iter().map(|j| {
        prepare(
            clients,
            opts,
            j,
            deployed.get(&j.stack.name).cloned().flatten(),
            interrupt,
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
    let stopped = crate::wait::stop_requested(interrupt)
        || matches!(first_error, Some(DeployError::Interrupted { .. }));
    match first_error {
        // After a stop nothing is written, not even DeleteChangeSet: the
        // change sets are named instead.
        Some(_) if stopped => Err(DeployError::Interrupted {
            states: unexecuted(&ready),
        }),
        Some(e) => {
            discard(clients, &ready).await;
            Err(e)
        }
        None => Ok(ready),
    }
}

/// The change sets of a wave that a stop leaves unexecuted, as states.
fn unexecuted(ready: &[(String, Prepared)]) -> Vec<(String, String)> {
    ready
        .iter()
        .filter_map(|(stack, p)| match p {
            Prepared::Update { change_set } => Some((
                stack.clone(),
                format!(
                    "not started: only CreateChangeSet was sent; change set {} is left unexecuted and changes nothing (delete it with `aws cloudformation delete-change-set --stack-name {stack} --change-set-name {}` or leave it)",
                    change_set.id, change_set.id
                ),
            )),
            _ => None,
        })
        .collect()
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
    let stopped = errors
        .iter()
        .any(|e| matches!(e, DeployError::Interrupted { .. }));
    if !stopped {
        return (!errors.is_empty()).then(|| errors.remove(0));
    }
    // The other stacks' states are read from the report by `deploy`.
    states.retain(|(s, _)| !report.stacks.iter().any(|r| &r.stack == s));
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
    interrupt: &watch::Receiver<bool>,
) -> Result<(), DeployError> {
    let services: Vec<&Stack> = deployed.filter(|s| s.kind.takes_image()).collect();
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
        let current = read(interrupt, async {
            Ok(
                crate::api::s3::get_object(&clients.api, &opts.artifact_bucket, &key)
                    .await
                    .ok()
                    .flatten(),
            )
        })
        .await?;
        if current.as_deref() == Some(body.as_bytes()) {
            continue;
        }
        put_artifact(clients, opts, &s.name, &key, body.into_bytes(), interrupt).await?;
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
    // `diff` is not stopped half-way: it writes only change sets it deletes.
    let (_never, interrupt) = watch::channel(false);
    let jobs = jobs(&stacks, opts, &deployed);
    let mut out = Vec::new();
    for job in &jobs {
        let started = Instant::now();
        let d = deployed.get(&job.stack.name).cloned().flatten();
        let status = d
            .as_ref()
            .map(|d| d.status.as_str().to_owned())
            .unwrap_or_default();
        let (outcome, changes) = match prepare(clients, opts, job, d, &interrupt).await? {
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
            sent: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, outcome: Outcome, status: &str, sent: Option<&str>) -> StackResult {
        StackResult {
            stack: name.to_owned(),
            outcome,
            status: status.to_owned(),
            seconds: 0.0,
            changes: Vec::new(),
            sent: sent.map(str::to_owned),
        }
    }

    #[test]
    fn a_stopped_deploy_names_per_stack_what_was_sent() {
        let stacks = [
            stack(
                "done",
                Outcome::Created,
                "CREATE_COMPLETE",
                Some("CreateStack"),
            ),
            stack(
                "running",
                Outcome::Interrupted,
                "UPDATE_IN_PROGRESS",
                Some("ExecuteChangeSet"),
            ),
            stack("unread", Outcome::Interrupted, "", Some("CreateStack")),
            stack("same", Outcome::Unchanged, "CREATE_COMPLETE", None),
            stack("later", Outcome::NotStarted, "", None),
            stack("prepared", Outcome::NotStarted, "", None),
        ];
        let known = [("prepared".to_owned(), "change set X left".to_owned())];
        let states: BTreeMap<String, String> =
            interrupted_states(&stacks, &known).into_iter().collect();
        assert_eq!(states["done"], "completed: created (CREATE_COMPLETE)");
        assert_eq!(
            states["running"],
            "UPDATE_IN_PROGRESS: sent ExecuteChangeSet; in progress at AWS, left running, not cancelled"
        );
        assert_eq!(
            states["unread"],
            "sent CreateStack; in progress at AWS (status not read yet), left running, not cancelled"
        );
        assert_eq!(states["same"], "unchanged: nothing sent (CREATE_COMPLETE)");
        assert_eq!(states["later"], "not started: nothing sent");
        assert_eq!(states["prepared"], "change set X left");
        let text = DeployError::Interrupted {
            states: interrupted_states(&stacks, &known),
        }
        .to_string();
        assert!(text.starts_with("interrupted: nothing was sent to AWS after the signal"));
        assert!(
            text.contains("\n  later: not started: nothing sent\n"),
            "{text}"
        );
    }

    #[test]
    fn a_write_error_gains_the_real_state() {
        let e = DeployError::Aws {
            operation: "CreateStack",
            stack: Some("s".into()),
            message: "HTTP 500".into(),
        };
        let text = with_state(e, "the stack does not exist. Run `x` again".into()).to_string();
        assert_eq!(
            text,
            "CreateStack failed for s: HTTP 500.\nthe stack does not exist. Run `x` again"
        );
        // Other errors carry their own state already.
        let declined = with_state(DeployError::Declined("no".into()), "ignored".into());
        assert_eq!(declined.to_string(), "no");
    }
}
