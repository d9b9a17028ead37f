//! `apprun job`: run a job once now and follow it to its exit code with its
//! logs, list each job's trigger and last runs, run a job's command on this
//! machine; and the jobs part of `apprun status`.

mod local;

use std::process::ExitCode;
use std::time::Duration;

use apprun_config::{Config, Job, JobTrigger, PatternValue, SnsTopic};
use apprun_deploy::{
    DeployError, JobEvent, JobListing, JobRun, JobTarget, LogTarget, RunEnd, RunOutcome,
    STOPPED_TASKS_KEPT,
};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::cli::{AwsArgs, LocalVia};
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json, write_stdout};
use crate::shared::{
    Session, aws_runtime, interrupt_watch, session, stop_requested, unless_stopped,
};

#[derive(Debug, Args)]
pub struct JobArgs {
    #[command(subcommand)]
    pub command: JobCommand,
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Run a job once now on ECS and follow it to its exit code, with its logs.
    #[command(after_help = "Examples:
  apprun job run --env dev daily-analysis               # the job's own command
  apprun job run --env dev daily-analysis -- job tick   # another command (after ENTRYPOINT)
  apprun job run --env prod daily-analysis --detach     # start it and return

The job's log lines go to stdout as they arrive (stderr with --output json, whose
stdout is one document). Exit codes: 0 the job's container exited 0; 6 it exited
with another code (the code is in the message and the JSON document); 1 the task
never ran its command (ECS could not place it, the image could not be pulled: the
reason is shown); 4 the job's stack is not deployed yet. Ctrl-C stops following
only: the task keeps running, and apprun names it and the command that stops it
(exit 130). ECS has no task timeout: past the job's `timeout`, apprun says so once
and keeps following.")]
    Run(JobRunArgs),

    /// Show each job's trigger, its last runs and outcomes, and the failures waiting.
    #[command(after_help = "Examples:
  apprun job list --env dev
  apprun job list --env prod --output json | jq '.jobs[] | {job, last: .runs[0].outcome}'

Runs come from ECS, which keeps stopped tasks for about an hour: older runs are in
each job's log group (named in the output). Failures wait 14 days in the job's
dead-letter queue, whose depth is shown: starts the trigger gave up on after its
retries, and runs that exited non-zero or failed to start; its alarm fires while
any wait.")]
    List(JobListArgs),

    /// Run a job's command on this machine with the env's variables, as the job would.
    #[command(after_help = "Examples:
  apprun job local --env dev daily-analysis                 # `local` program + job command
  apprun job local --env dev daily-analysis -- job tick
  apprun job local --env dev daily-analysis --via container # the service's image, built here

The job runs with its service's `local` command (its program, then the job's command
as arguments, as the image's ENTRYPOINT takes the job's command) or, with --via
container, in the service's image built here, with the variables its task gets on AWS
(ENV, SYSTEM_ID, the job's `env`, APPRUN_JOB, APPRUN_JOB_TIMEOUT; its secrets are not
read and stay unset). Exit codes: 0 the command exited 0, 6 it exited with another
code, 130 Ctrl-C (the job gets SIGTERM, then SIGKILL after 30 s, as ECS stops a task).")]
    Local(JobLocalArgs),
}

#[derive(Debug, Args)]
pub struct JobRunArgs {
    /// Environment whose deployed job to run.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// The job ([jobs.NAME] of apprun.toml).
    #[arg(value_name = "JOB")]
    pub job: String,
    /// Start the task and return at once: print it and how to follow it.
    #[arg(long)]
    pub detach: bool,
    /// Replace the job's command for this run (the image's ENTRYPOINT stays).
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct JobListArgs {
    /// Environment.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct JobLocalArgs {
    /// Environment whose variables (ENV) to use.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// The job ([jobs.NAME] of apprun.toml).
    #[arg(value_name = "JOB")]
    pub job: String,
    /// Run the service's image in a container, or the service's `local` command.
    #[arg(long, value_enum, default_value_t = LocalVia::Auto)]
    pub via: LocalVia,
    /// Replace the job's command for this run.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

pub fn run(ctx: &Context, args: &JobArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        JobCommand::Run(a) => run_job(ctx, a),
        JobCommand::List(a) => list(ctx, a),
        JobCommand::Local(a) => local::run(ctx, a),
    }
}

/// The job `name` of apprun.toml, which must run in `env`.
pub(crate) fn job<'a>(config: &'a Config, env: &str, name: &str) -> Result<&'a Job, Failure> {
    let Some(job) = config.jobs.get(name) else {
        let known: Vec<&str> = config.jobs.keys().map(String::as_str).collect();
        return Err(Failure::Usage(if known.is_empty() {
            format!("unknown job `{name}`; apprun.toml defines no job ([jobs.NAME])")
        } else {
            format!(
                "unknown job `{name}`; apprun.toml defines: {}",
                known.join(", ")
            )
        }));
    };
    if !job.runs_in(env) {
        return Err(Failure::Usage(format!(
            "job `{name}` does not run in env `{env}`; it runs in: {}",
            job.envs.join(", ")
        )));
    }
    Ok(job)
}

/// `apprun logs --job NAME`: the job's log group (every run, a stream per
/// run), from its deployed stack.
pub(crate) async fn log_target(s: &Session, env: &str, name: &str) -> Result<LogTarget, Failure> {
    job(&s.config, env, name)?;
    let target = apprun_deploy::job_target(&s.clients, &s.bp, name).await?;
    Ok(LogTarget {
        group: target.log_group,
        streams: Vec::new(),
        what: format!("job {name}"),
    })
}

fn run_job(ctx: &Context, args: &JobRunArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = unless_stopped(session(ctx, &args.env, &args.aws)).await?;
        job(&s.config, &args.env, &args.job)?;
        let target = unless_stopped(async {
            apprun_deploy::job_target(&s.clients, &s.bp, &args.job)
                .await
                .map_err(Failure::deploy)
        })
        .await?;
        // Nothing is started after a stop signal; RunTask itself, once
        // sent, is not abandoned (its answer names the task to report).
        if stop_requested() {
            return Err(Failure::Interrupted(
                "interrupted before anything was sent to AWS: no task was started".into(),
            ));
        }
        let command = (!args.args.is_empty()).then_some(args.args.as_slice());
        let started = apprun_deploy::start_job(&s.clients, &target, command).await?;
        ctx.progress(format!(
            "job {}: started task {} on {} (logs: {} {})",
            args.job, started.task_id, target.cluster, target.log_group, started.log_stream
        ));
        if args.detach {
            return Ok(detached(ctx, &args.env, &target, &started));
        }
        if stop_requested() {
            return Err(still_running(&target, &started));
        }
        follow(ctx, &s, &target, &started)
            .await
            .map_err(|f| while_following(f, &args.env, &target, &started))
    })
}

/// `--detach`: the task started; print it and how to follow or stop it.
fn detached(ctx: &Context, env: &str, target: &JobTarget, run: &JobRun) -> ExitCode {
    if ctx.json() {
        print_json(&json!({ "ok": true, "run": run, "stop": target.stop_command(&run.task_arn) }));
    } else {
        outln!("{}", run.task_arn);
        ctx.progress(format!(
            "not following it: `apprun job list --env {env}` shows how it ends; its lines: `apprun logs --env {env} --job {}`; stop it with `{}`",
            target.job,
            target.stop_command(&run.task_arn)
        ));
    }
    ExitCode::SUCCESS
}

/// An AWS error while following (the task was started and may still run):
/// say so, and how to find and stop it.
fn while_following(failure: Failure, env: &str, target: &JobTarget, run: &JobRun) -> Failure {
    match failure {
        Failure::Deploy { error, next: None } => Failure::Deploy {
            error,
            next: Some(format!(
                "task {} of job {} was started and may still be running: `apprun job list --env {env}` shows it; stop it with `{}`",
                run.task_id,
                target.job,
                target.stop_command(&run.task_arn)
            )),
        }
        .with_result(json!({ "run": run })),
        other => other,
    }
}

/// Ctrl-C after the task started: it keeps running at AWS.
fn still_running(target: &JobTarget, run: &JobRun) -> Failure {
    Failure::Interrupted(format!(
        "interrupted: stopped following job {}; its task {} keeps running on {}. Stop it with `{}`",
        target.job,
        run.task_id,
        target.cluster,
        target.stop_command(&run.task_arn)
    ))
    .with_result(json!({ "run": run }))
}

/// Follows the run to its end, the log lines on stdout (stderr in JSON
/// mode), and turns its outcome into the exit code.
async fn follow(
    ctx: &Context,
    s: &Session,
    target: &JobTarget,
    started: &JobRun,
) -> Result<ExitCode, Failure> {
    let json_mode = ctx.json();
    let timeout = s
        .config
        .jobs
        .get(&target.job)
        .map(|j| Duration::from_secs(u64::from(j.timeout_seconds)));
    let end = apprun_deploy::follow_job(
        &s.clients,
        target,
        &started.task_arn,
        timeout,
        interrupt_watch(),
        |event| match event {
            JobEvent::Status(status) => {
                ctx.progress(format!(
                    "job {}: task {}",
                    target.job,
                    status.to_lowercase()
                ));
            }
            JobEvent::Log(line) if json_mode => eprintln!("{}", line.message),
            JobEvent::Log(line) => outln!("{}", line.message),
            JobEvent::Overdue(limit) => ctx.progress(format!(
                "job {}: still running after its timeout ({} min); ECS does not stop a task by itself: stop it with `{}`",
                target.job,
                limit.as_secs() / 60,
                target.stop_command(&started.task_arn)
            )),
        },
    )
    .await?;
    let run = match end {
        RunEnd::Interrupted => return Err(still_running(target, started)),
        RunEnd::Stopped(run) => run,
    };
    finish(ctx, target, *run)
}

/// The exit code of a stopped run: 0 when the container exited 0, the
/// job-failed code for another exit code, a failed operation when the
/// command never ran.
fn finish(ctx: &Context, target: &JobTarget, run: JobRun) -> Result<ExitCode, Failure> {
    let took = run
        .seconds
        .map(|s| format!(" after {s} s"))
        .unwrap_or_default();
    match (run.outcome, run.exit_code) {
        (RunOutcome::Succeeded, _) => {
            if ctx.json() {
                print_json(&json!({ "ok": true, "run": run }));
            } else {
                ctx.progress(format!("job {}: succeeded (exit code 0){took}", target.job));
            }
            Ok(ExitCode::SUCCESS)
        }
        (RunOutcome::Failed, Some(code)) => Err(Failure::JobFailed(format!(
            "job {} failed: its container exited with code {code}{took} ({}); its log: {} {}",
            target.job,
            run.why_stopped(),
            run.log_group,
            run.log_stream
        ))
        .with_result(json!({ "run": run }))),
        _ => Err(Failure::deploy(DeployError::Aws {
            operation: "RunTask",
            stack: Some(target.stack.clone()),
            message: format!(
                "task {} of job {} stopped before its command ran: {}",
                run.task_id,
                target.job,
                run.why_stopped()
            ),
        })
        .with_result(json!({ "run": run }))),
    }
}

fn list(ctx: &Context, args: &JobListArgs) -> Result<ExitCode, Failure> {
    // Read-only: a stop signal ends it at once, with exit 130.
    aws_runtime()?.block_on(unless_stopped(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let listings = apprun_deploy::job_listing(&s.clients, &s.bp).await?;
        if ctx.json() {
            print_json(&json!({
                "ok": true,
                "env": args.env,
                "jobs": listings_json(&s.config, &listings),
                "note": STOPPED_TASKS_KEPT,
            }));
        } else if listings.is_empty() {
            ctx.progress(format!(
                "env `{}` has no job ([jobs.NAME] in apprun.toml)",
                args.env
            ));
        } else {
            write_stdout(&listings_text(&s.config, &listings));
        }
        Ok(ExitCode::SUCCESS)
    }))
}

/// The listings as JSON, each with its trigger from apprun.toml.
fn listings_json(config: &Config, listings: &[JobListing]) -> Vec<Value> {
    listings
        .iter()
        .map(|l| {
            let mut doc = serde_json::to_value(l).unwrap_or(Value::Null);
            doc["trigger"] = config
                .jobs
                .get(&l.job)
                .map_or(Value::Null, |j| trigger_json(&j.trigger));
            doc
        })
        .collect()
}

/// A trigger as data: `{"kind": "schedule"|"event"|"sns", ...}`.
pub(crate) fn trigger_json(trigger: &JobTrigger) -> Value {
    match trigger {
        JobTrigger::Schedule {
            expression,
            timezone,
        } => json!({ "kind": "schedule", "expression": expression, "timezone": timezone }),
        JobTrigger::Event(pattern) => json!({
            "kind": "event",
            "pattern": pattern.0.iter().map(|(k, v)| (k.clone(), pattern_json(v))).collect::<serde_json::Map<_, _>>(),
        }),
        JobTrigger::Sns(SnsTopic::Existing(arn)) => json!({ "kind": "sns", "topic": arn }),
        JobTrigger::Sns(SnsTopic::Create) => {
            json!({ "kind": "sns", "topic": null, "created": true })
        }
    }
}

fn pattern_json(value: &PatternValue) -> Value {
    match value {
        PatternValue::String(s) => json!(s),
        PatternValue::Integer(i) => json!(i),
        PatternValue::Float(f) => json!(f),
        PatternValue::Bool(b) => json!(b),
        PatternValue::List(items) => items.iter().map(pattern_json).collect(),
        PatternValue::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), pattern_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

/// A trigger in one line: `schedule cron(0 9 * * ? *) in Asia/Tokyo`,
/// `event {"source":["aws.s3"]}`, `sns arn:...` or `sns (a topic apprun creates)`.
pub(crate) fn trigger_text(trigger: &JobTrigger) -> String {
    match trigger {
        JobTrigger::Schedule {
            expression,
            timezone,
        } => format!("schedule {expression} in {timezone}"),
        JobTrigger::Event(_) => format!("event {}", trigger_json(trigger)["pattern"]),
        JobTrigger::Sns(SnsTopic::Existing(arn)) => format!("sns {arn}"),
        JobTrigger::Sns(SnsTopic::Create) => "sns (the topic its stack creates)".to_owned(),
    }
}

/// One block per job: stack, trigger, log group, dead letters, runs.
fn listings_text(config: &Config, listings: &[JobListing]) -> String {
    let mut out = String::new();
    for l in listings {
        let trigger = config
            .jobs
            .get(&l.job)
            .map_or_else(|| "-".to_owned(), |j| trigger_text(&j.trigger));
        out.push_str(&format!(
            "{}  (stack {}: {})\n  trigger       {trigger}\n",
            l.job,
            l.stack,
            l.stack_status.as_deref().unwrap_or("not deployed")
        ));
        if !l.deployed {
            continue;
        }
        if let Some(group) = &l.log_group {
            out.push_str(&format!("  log group     {group}\n"));
        }
        out.push_str(&format!("  failures      {}\n", dead_letters_text(l)));
        if l.runs.is_empty() {
            out.push_str("  runs          none in the last hour\n");
        }
        for r in &l.runs {
            out.push_str(&format!("  {}\n", run_line(r)));
        }
    }
    out.push_str(&format!(
        "\n{STOPPED_TASKS_KEPT}: older runs are in each job's log group.\n"
    ));
    out
}

/// The dead-letter queue's depth, and the alarm that watches it.
fn dead_letters_text(l: &JobListing) -> String {
    let alarm = l
        .alarm
        .as_deref()
        .map(|a| format!("; alarm {a} fires while any wait"))
        .unwrap_or_default();
    match l.dead_letters {
        Some(n) => format!(
            "{n} waiting in the dead-letter queue (failed starts and failed runs, kept 14 days{alarm})"
        ),
        None => "the dead-letter queue was not found".to_owned(),
    }
}

/// `2026-11-26T09:00:01Z  failed (exit 3)  14 s  by apprun  task 0f1e...`
pub(crate) fn run_line(r: &JobRun) -> String {
    let outcome = match (r.outcome, r.exit_code) {
        (RunOutcome::Running, _) => format!("{} ({})", r.outcome.as_str(), r.status.to_lowercase()),
        (RunOutcome::Succeeded | RunOutcome::Failed, Some(code)) => {
            format!("{} (exit {code})", r.outcome.as_str())
        }
        _ => format!("{} ({})", r.outcome.as_str(), r.why_stopped()),
    };
    format!(
        "{:<20}  {outcome}  {}  by {}  task {}",
        r.created_at.as_deref().unwrap_or("-"),
        r.seconds
            .map_or_else(|| "-".to_owned(), |s| format!("{s} s")),
        r.started_by.as_deref().unwrap_or("-"),
        r.task_id
    )
}

/// The jobs part of `apprun status`, as JSON (the document's `jobs` key)
/// and as text (after the stacks' table).
pub(crate) struct JobsSection {
    /// `[]` when the env has no job; `{"error": …}` when they could not be read.
    pub json: Value,
    pub text: String,
}

/// Each job's trigger and last run. Reading them never fails `status`
/// (an operator may lack the ECS permissions): an error becomes part of
/// the section.
pub(crate) async fn status_section(s: &Session) -> JobsSection {
    if apprun_deploy::job_stacks(&s.bp).is_empty() {
        return JobsSection {
            json: json!([]),
            text: String::new(),
        };
    }
    match apprun_deploy::job_listing(&s.clients, &s.bp).await {
        Ok(listings) => JobsSection {
            text: status_text(&s.config, &listings),
            json: listings_json(&s.config, &listings).into(),
        },
        Err(e) => JobsSection {
            text: format!("\njobs: their runs could not be read: {e}\n"),
            json: json!({ "error": e.to_string() }),
        },
    }
}

/// `JOB  TRIGGER  LAST RUN`, one line per job.
fn status_text(config: &Config, listings: &[JobListing]) -> String {
    let mut out = format!("\n{:<16} {:<44} LAST RUN\n", "JOB", "TRIGGER");
    for l in listings {
        let trigger = config
            .jobs
            .get(&l.job)
            .map_or_else(|| "-".to_owned(), |j| trigger_text(&j.trigger));
        let last = match (l.deployed, l.runs.first()) {
            (false, _) => "not deployed".to_owned(),
            (true, None) => "none in the last hour".to_owned(),
            (true, Some(r)) => run_line(r),
        };
        out.push_str(&format!("{:<16} {trigger:<44} {last}\n", l.job));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use apprun_config::EventPattern;

    use super::*;

    #[test]
    fn each_trigger_in_one_line_and_as_data() {
        let schedule = JobTrigger::Schedule {
            expression: "rate(1 hour)".into(),
            timezone: "UTC".into(),
        };
        assert_eq!(trigger_text(&schedule), "schedule rate(1 hour) in UTC");
        let detail: BTreeMap<String, PatternValue> = [(
            "bucket".to_owned(),
            PatternValue::Object(
                [(
                    "name".to_owned(),
                    PatternValue::List(vec![PatternValue::String("uploads".into())]),
                )]
                .into(),
            ),
        )]
        .into();
        let event = JobTrigger::Event(EventPattern(
            [
                (
                    "source".to_owned(),
                    PatternValue::List(vec![PatternValue::String("aws.s3".into())]),
                ),
                ("detail".to_owned(), PatternValue::Object(detail)),
            ]
            .into(),
        ));
        assert_eq!(
            trigger_text(&event),
            r#"event {"detail":{"bucket":{"name":["uploads"]}},"source":["aws.s3"]}"#
        );
        assert_eq!(trigger_json(&event)["kind"], "event");
        let topic = "arn:aws:sns:ap-northeast-1:123456789012:uploads";
        let sns = JobTrigger::Sns(SnsTopic::Existing(topic.into()));
        assert_eq!(trigger_text(&sns), format!("sns {topic}"));
        assert_eq!(
            trigger_json(&JobTrigger::Sns(SnsTopic::Create)),
            json!({"kind": "sns", "topic": null, "created": true})
        );
    }

    #[test]
    fn a_run_line_says_how_it_ended() {
        let run = |outcome, exit_code, reason: Option<&str>| JobRun {
            job: "tick".into(),
            task_arn: "arn:aws:ecs:r:1:task/c/abc".into(),
            task_id: "abc".into(),
            status: if outcome == RunOutcome::Running {
                "PENDING".into()
            } else {
                "STOPPED".into()
            },
            outcome,
            exit_code,
            stopped_reason: reason.map(str::to_owned),
            stop_code: None,
            container_reason: None,
            started_by: Some("apprun".into()),
            created_at: Some("2026-11-26T09:00:00Z".into()),
            started_at: None,
            stopped_at: None,
            seconds: Some(3),
            log_group: "g".into(),
            log_stream: "s".into(),
        };
        assert_eq!(
            run_line(&run(RunOutcome::Running, None, None)),
            "2026-11-26T09:00:00Z  running (pending)  3 s  by apprun  task abc"
        );
        assert_eq!(
            run_line(&run(RunOutcome::Failed, Some(137), None)),
            "2026-11-26T09:00:00Z  failed (exit 137)  3 s  by apprun  task abc"
        );
        assert_eq!(
            run_line(&run(
                RunOutcome::NotRun,
                None,
                Some("CannotPullContainerError: not found")
            )),
            "2026-11-26T09:00:00Z  not-run (CannotPullContainerError: not found)  3 s  by apprun  task abc"
        );
    }
}
