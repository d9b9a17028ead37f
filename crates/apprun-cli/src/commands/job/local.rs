//! `apprun job local`: a job's command on this machine, with the variables
//! its task gets on AWS. The service's `local` command stands for the
//! image's ENTRYPOINT (the job's command follows it as arguments, as ECS
//! appends a task's command to the ENTRYPOINT); `--via container` runs the
//! service's image, built here, with the job's command.

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use apprun_config::{Config, Env, Job, Service};
use serde_json::json;
use tokio::process::{Child, Command};

use super::JobLocalArgs;
use crate::cli::LocalVia;
use crate::diagnostics::Failure;
use crate::output::{Context, print_json};
use crate::shared::{config_dir, runtime};

/// How long the job may take to stop after SIGTERM, as ECS allows by
/// default (its `stopTimeout`) before SIGKILL.
const GRACE: Duration = Duration::from_secs(30);

pub fn run(ctx: &Context, args: &JobLocalArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?;
    let job = super::job(&config, &args.env, &args.job)?;
    let svc = config.services.get(job.service()).ok_or_else(|| {
        Failure::Usage(format!(
            "job `{}` runs the image of service `{}`, which apprun.toml does not define",
            job.name,
            job.service()
        ))
    })?;
    let argv = if args.args.is_empty() {
        job.command.clone()
    } else {
        args.args.clone()
    };
    let via = match args.via {
        LocalVia::Auto if !svc.local.is_empty() => LocalVia::Command,
        LocalVia::Auto => LocalVia::Container,
        other => other,
    };
    let run = JobRun {
        config: &config,
        env,
        job,
        svc,
        argv: &argv,
    };
    let mut command = match via {
        LocalVia::Container => run.container_command()?,
        LocalVia::Command | LocalVia::Auto => run.local_command(ctx)?,
    };
    report_unset_secrets(ctx, job);
    command.kill_on_drop(true).stdin(Stdio::null());
    if ctx.json() {
        // stdout holds the one JSON document: the job's output goes to stderr.
        command.stdout(Stdio::from(std::io::stderr()));
    }
    runtime()?.block_on(supervise(ctx, &job.name, command))
}

/// The variables the job's task definition sets on AWS (the same list:
/// [`Job::task_environment`]). No PORT: a job serves nothing. Secrets are
/// not read here: they stay unset, and the caller says which.
fn variables(config: &Config, env: &Env, job: &Job) -> Vec<(String, String)> {
    job.task_environment(&config.system.id, &env.name)
}

/// Says which of the job's secrets the local run lacks, as `apprun local`
/// does without `--secrets`.
fn report_unset_secrets(ctx: &Context, job: &Job) {
    if job.runtime.secrets.is_empty() {
        return;
    }
    let names: Vec<&str> = job.runtime.secrets.keys().map(String::as_str).collect();
    ctx.progress(format!(
        "secrets not read (a local job run does not read them): {} left unset",
        names.join(", ")
    ));
}

/// What a local job run runs: the job, the service whose image it uses, and
/// the command it is given.
struct JobRun<'a> {
    config: &'a Config,
    env: &'a Env,
    job: &'a Job,
    svc: &'a Service,
    argv: &'a [String],
}

impl JobRun<'_> {
    /// The service's `local` program (after its prebuild when not built
    /// yet), its own arguments, then the job's command.
    fn local_command(&self, ctx: &Context) -> Result<Command, Failure> {
        let (config, env, job, svc) = (self.config, self.env, self.job, self.svc);
        let dir = config_dir(config);
        let (program, rest) = crate::commands::local::built_program(ctx, &dir, svc, || {
            format!(
                "job `{}` runs service `{}`'s image, and that service has no `local` command in apprun.toml; add one (e.g. local = [\"target/release/app\"]) or use --via container",
                job.name, svc.name
            )
        })?;
        let mut c = Command::new(&program);
        c.args(rest)
            .args(self.argv)
            .current_dir(&dir)
            .envs(variables(config, env, job));
        Ok(c)
    }

    /// The service's image, built here, run once with the job's command.
    fn container_command(&self) -> Result<Command, Failure> {
        let (config, env, job, svc, argv) = (self.config, self.env, self.job, self.svc, self.argv);
        let (builder, image) = crate::commands::local::local_image(config, svc, || {
            format!(
                "buildah builds images but cannot run them; install podman or docker, or give service `{}` a `local` command (--via command)",
                svc.name
            )
        })?;
        let mut c = Command::new(builder.name());
        c.args(["run", "--rm"]);
        for (k, v) in variables(config, env, job) {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(&image).args(argv);
        Ok(c)
    }
}

/// Runs the job to its end; SIGINT/SIGTERM stop it as ECS stops a task
/// (SIGTERM, the grace period, SIGKILL).
async fn supervise(ctx: &Context, job: &str, mut command: Command) -> Result<ExitCode, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return Err(Failure::Io {
            what: "installing the signal handlers".into(),
            error: std::io::Error::other("signal handlers unavailable"),
        });
    };
    let mut child = command
        .spawn()
        .map_err(Failure::io(format!("starting job {job}")))?;
    let status = tokio::select! {
        status = child.wait() => status.map_err(Failure::io(format!("waiting for job {job}")))?,
        _ = int.recv() => return interrupted(ctx, job, &mut child).await,
        _ = term.recv() => return interrupted(ctx, job, &mut child).await,
    };
    exit_of(ctx, job, status)
}

async fn interrupted(ctx: &Context, job: &str, child: &mut Child) -> Result<ExitCode, Failure> {
    if let Some(pid) = child.id() {
        let _ = crate::commands::local::send_signal(pid, libc::SIGTERM);
    }
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        let _ = child.kill().await;
        ctx.progress(format!(
            "job {job} did not stop within 30 s of SIGTERM; killed"
        ));
    }
    Err(Failure::Interrupted(format!(
        "interrupted: job {job} was stopped"
    )))
}

/// 0 for a zero exit; the job-failed code otherwise.
fn exit_of(
    ctx: &Context,
    job: &str,
    status: std::process::ExitStatus,
) -> Result<ExitCode, Failure> {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => {
            if ctx.json() {
                print_json(&json!({ "ok": true, "run": { "job": job, "exit_code": 0 } }));
            } else {
                ctx.progress(format!("job {job}: succeeded (exit code 0)"));
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some(code), _) => Err(Failure::JobFailed(format!(
            "job {job} failed: it exited with code {code}"
        ))
        .with_result(json!({ "run": { "job": job, "exit_code": code } }))),
        (None, signal) => Err(Failure::JobFailed(format!(
            "job {job} failed: it was killed by signal {}",
            signal.unwrap_or_default()
        ))
        .with_result(json!({ "run": { "job": job, "exit_code": null, "signal": signal } }))),
    }
}
