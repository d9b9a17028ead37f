//! What several commands share: the AWS session, the async runtime with
//! Ctrl-C and progress, deploy options, the service a command is about, and
//! the one yes/no question.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apprun_blueprint::{EnvBlueprint, StackKind, synthesize};
use apprun_config::{Config, Names, Service};
use apprun_deploy::{
    AwsOptions, Clients, DeployOptions, DeployReport, ImageSource, Outcome, Tuning,
};

use crate::cli::AwsArgs;
use crate::diagnostics::Failure;
use crate::output::Context;
use crate::progress::Progress;

/// The config, the env's validated blueprint, and SDK clients for its region.
pub(crate) struct Session {
    pub config: Config,
    pub bp: EnvBlueprint,
    pub clients: Clients,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Failure::io("starting the async runtime"))
}

/// The runtime of a command that calls AWS (deploy, destroy, release,
/// migrate, approve, and the read-only diff/status/logs for one behaviour): building it
/// also installs the SIGINT/SIGTERM handler, so that from here on a signal
/// means "stop before the next write" instead of killing the process in
/// the middle of a call. Commands that do not watch the stop flag keep
/// [`runtime`] and the default signal behaviour.
pub(crate) fn aws_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    let rt = runtime()?;
    install_signal_handler(&rt);
    Ok(rt)
}

/// Whether a stop signal arrived.
pub(crate) fn stop_requested() -> bool {
    *stop_flag().borrow()
}

/// A failure that happened after a stop signal is reported as the
/// interruption it is: e.g. an image build whose tool the terminal's
/// Ctrl-C stopped too (its own error is on stderr above).
pub(crate) fn interrupted_if_stopped(
    result: Result<std::process::ExitCode, Failure>,
) -> Result<std::process::ExitCode, Failure> {
    match result {
        Err(f) if stop_requested() && f.exit_code() != crate::exit::INTERRUPTED => {
            Err(Failure::Interrupted(format!(
                "interrupted: the step that was running stopped too ({}); nothing was sent to AWS after the signal. Run the same command again to continue",
                f.message()
            )))
        }
        other => other,
    }
}

/// Whether [`confirm`] is waiting for an answer on the terminal.
static ASKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The process-wide stop flag: `true` once SIGINT or SIGTERM arrived.
static STOP: std::sync::OnceLock<tokio::sync::watch::Sender<bool>> = std::sync::OnceLock::new();

fn stop_flag() -> &'static tokio::sync::watch::Sender<bool> {
    STOP.get_or_init(|| tokio::sync::watch::channel(false).0)
}

/// Turns SIGINT and SIGTERM into the stop flag. The handlers are registered
/// before this returns (not when a task first runs), so a signal that
/// arrives during the first AWS call is already caught. A second signal
/// exits at once with 130, for a user who does not want to wait for the
/// call in flight to return.
pub(crate) fn install_signal_handler(rt: &tokio::runtime::Runtime) {
    use tokio::signal::unix::{SignalKind, signal};
    let _guard = rt.enter();
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the default action (terminate) stays: still a stop.
        return;
    };
    rt.spawn(async move {
        let mut signals = 0u32;
        loop {
            let name = tokio::select! {
                Some(()) = int.recv() => "SIGINT",
                Some(()) = term.recv() => "SIGTERM",
                else => return,
            };
            signals += 1;
            // At a question nothing is in flight: the answer is "no" and
            // nothing of the wave was executed (a blocking read of the
            // terminal cannot be woken otherwise).
            if ASKING.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!("\napprun: {name} at the question: nothing of it was executed; exiting");
                std::process::exit(i32::from(crate::exit::INTERRUPTED));
            }
            if signals > 1 {
                eprintln!("apprun: second {name}: exiting now; AWS keeps going with what was sent");
                std::process::exit(i32::from(crate::exit::INTERRUPTED));
            }
            eprintln!(
                "apprun: {name}: stopping; nothing more is sent to AWS (again to exit at once)"
            );
            stop_flag().send_replace(true);
        }
    });
}

/// Loads the config, synthesizes and validates the env's blueprint, and
/// connects to AWS as `aws` says.
pub(crate) async fn session(ctx: &Context, env: &str, aws: &AwsArgs) -> Result<Session, Failure> {
    let config = ctx.load_config()?;
    config.env(env)?;
    let bp = synthesize(&config, env)?;
    bp.ensure_valid()?;
    let clients = Clients::load(&aws_options(&config, aws), Tuning::from_env()).await;
    Ok(Session {
        config,
        bp,
        clients,
    })
}

/// Profile, region (`--region`, else the config's) and endpoint of `aws`.
fn aws_options(config: &Config, aws: &AwsArgs) -> AwsOptions {
    AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region_or(&config.system.region),
        endpoint_url: aws.endpoint_url.clone(),
    }
}

/// The engine's cancellation token: a watch that turns true on SIGINT or
/// SIGTERM (installed by [`runtime`]). The engine checks it before every
/// write and races it against every read and wait.
pub(crate) fn interrupt_watch() -> tokio::sync::watch::Receiver<bool> {
    stop_flag().subscribe()
}

/// Runs a read-only step (loading credentials, GetCallerIdentity, ...)
/// before the engine has started, ending it early with the interrupted
/// failure when a stop signal arrives: nothing was written yet.
pub(crate) async fn unless_stopped<T>(
    step: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let mut rx = interrupt_watch();
    let stopped = async move {
        // A dropped sender never happens (the flag is static); wait forever then.
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        biased;
        () = stopped => Err(Failure::Interrupted(
            "interrupted before anything was sent to AWS: no stack was touched".into(),
        )),
        r = step => r,
    }
}

/// Runs an engine operation with live progress (on a terminal, not in JSON
/// mode) and Ctrl-C watched, and closes the progress display afterwards.
pub(crate) async fn with_progress<T, F, Fut>(ctx: &Context, run: F) -> T
where
    F: FnOnce(Arc<dyn apprun_deploy::Observer>, tokio::sync::watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let progress = Arc::new(Progress::new(ctx.live(), ctx.quiet));
    let out = run(progress.clone(), interrupt_watch()).await;
    progress.finish();
    out
}

/// The deploy options of an env: its account, artifact bucket and each
/// service's ECR repository (where a given image tag is looked up).
pub(crate) fn options(
    s: &Session,
    env: &str,
    only: Vec<String>,
    image_tag: Option<String>,
    yes: bool,
) -> DeployOptions {
    let names = Names::new(&s.config.system.id);
    // A given tag is looked up in the env's ECR repository of each service.
    let repositories = s
        .config
        .services
        .keys()
        .map(|service| {
            let primary = s.config.is_primary(service);
            (service.clone(), names.ecr_repository(env, service, primary))
        })
        .collect();
    DeployOptions {
        env: env.to_owned(),
        only,
        image_tag,
        yes,
        account: s.config.envs.get(env).and_then(|e| e.account.clone()),
        artifact_bucket: names.artifact_bucket(env),
        images: ImageSource::Ecr(repositories),
    }
}

/// How a service whose stack was deferred (no image yet) will come, per
/// deferred stack of the report: (stack, sentence).
pub(crate) fn deferred_services(
    s: &Session,
    env: &str,
    report: &DeployReport,
) -> Vec<(String, String)> {
    let names = Names::new(&s.config.system.id);
    let Ok(env_config) = s.config.env(env) else {
        return Vec::new();
    };
    let has_pipeline = s.bp.stack(&StackKind::Pipeline).is_some();
    report
        .stacks
        .iter()
        .filter(|r| r.outcome == Outcome::Deferred)
        .map(|r| {
            let what = s
                .bp
                .stacks
                .iter()
                .find(|st| st.name == r.stack)
                .map(|st| match &st.kind {
                    StackKind::Job { name } => format!("job `{name}`"),
                    StackKind::Service { name, .. } => format!("service `{name}`"),
                    _ => String::new(),
                })
                .unwrap_or_default();
            let pipeline = if has_pipeline {
                format!(
                    "the pipeline {} creates it on its first run: a push to branch `{}` builds the image, tags it with the commit{}, and the deploy stage creates the stack at that tag (start a run without a push: `aws codepipeline start-pipeline-execution --name {}`); or ",
                    names.pipeline(env),
                    env_config.branch,
                    if env_config.approval {
                        ", waits for manual approval"
                    } else {
                        ""
                    },
                    names.pipeline(env),
                )
            } else {
                String::new()
            };
            (
                r.stack.clone(),
                format!(
                    "{what} is not deployed yet (it needs an image, and none can be pushed before its repository exists): {pipeline}now, from this checkout: `apprun release --env {env}`"
                ),
            )
        })
        .collect()
}

/// Deferred services as JSON: `[{stack, how}]`.
pub(crate) fn deferred_json(deferred: &[(String, String)]) -> Vec<serde_json::Value> {
    deferred
        .iter()
        .map(|(stack, how)| serde_json::json!({ "stack": stack, "how": how }))
        .collect()
}

/// The service a command is about: the named one, or the first of apprun.toml.
pub(crate) fn service<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a Service, Failure> {
    match name {
        Some(n) => config.services.get(n).ok_or_else(|| {
            Failure::Usage(format!(
                "unknown service `{n}`; apprun.toml defines: {}",
                config
                    .services
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
        None => config
            .primary_service()
            .ok_or_else(|| Failure::Usage("apprun.toml defines no service".into())),
    }
}

/// The folder apprun.toml is in: commands and Dockerfiles are relative to it.
pub(crate) fn config_dir(config: &Config) -> PathBuf {
    parent_dir(&config.file)
}

/// The folder a path is in, `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Every `--stack` must name a stack of the env, checked before any AWS call.
pub(crate) fn check_stacks(bp: &EnvBlueprint, only: &[String]) -> Result<(), Failure> {
    apprun_deploy::check_only(bp, only).map_err(Failure::deploy)
}

/// The answer to a yes/no question on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Yes,
    No,
    /// stdin is not a terminal: nobody to ask.
    NotAsked,
}

/// Asks `question` on stderr and reads the answer: `y` or `yes` in any case
/// is yes, anything else no. Never asks a pipe.
pub(crate) fn confirm(question: &str) -> Answer {
    if !std::io::stdin().is_terminal() {
        return Answer::NotAsked;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    ASKING.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = std::io::stdin().lock().read_line(&mut answer);
    ASKING.store(false, std::sync::atomic::Ordering::SeqCst);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Answer::Yes
    } else {
        Answer::No
    }
}

/// The sentence for [`Answer::NotAsked`].
pub(crate) const NOT_ASKED: &str = "not asking: stdin is not a terminal. Pass --yes to go ahead.";
