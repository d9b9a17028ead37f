//! `apprun local`: the service on this machine with its backend's settings
//! (App Runner and ECS Express set the same `PORT`, and apprun adds `ENV`
//! and `SYSTEM_ID`), its plain variables of the env, and with `--secrets`
//! its secrets read from SSM Parameter Store and Secrets Manager.
//!
//! Secret values only ever go into the service's environment: never on a
//! command line (a container gets `-e NAME`, the value coming from the
//! environment of docker/podman), never in progress lines, errors or
//! `--output json`, which name the variables only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use apprun_config::{Config, Env, SecretRef, Service};
use apprun_deploy::{AwsOptions, Clients, Health, ResolvedSecret, Tuning, health_check};
use apprun_image::Builder;
use serde_json::json;
use tokio::process::{Child, Command};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::cli::{AwsArgs, LocalArgs, LocalVia};
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::{config_dir, runtime, service};

/// How long the service may take to answer its health path.
const HEALTHY_WITHIN: Duration = Duration::from_secs(60);
/// How long it may take to stop after SIGTERM, as App Runner and ECS allow.
const GRACE: Duration = Duration::from_secs(10);
/// The only address `apprun local` exposes the service on.
const LOOPBACK: &str = "127.0.0.1";

pub fn run(ctx: &Context, args: &LocalArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?;
    let svc = service(&config, args.service.as_deref())?;
    let port = args.port.unwrap_or(svc.port);
    let via = match args.via {
        LocalVia::Auto if !svc.local.is_empty() => LocalVia::Command,
        LocalVia::Auto => LocalVia::Container,
        other => other,
    };
    let rt = runtime()?;
    let settings = config.service_settings(&env.name, &svc.name);
    let plain = settings.map(|s| s.runtime.env.clone()).unwrap_or_default();
    let wanted = settings
        .map(|s| s.runtime.secrets.clone())
        .unwrap_or_default();
    let secrets = rt.block_on(read_secrets(ctx, &config, args, &wanted))?;
    let target = Target {
        config: &config,
        env,
        svc,
        port,
        plain: &plain,
        secrets: &secrets,
    };
    let mut command = match via {
        LocalVia::Container => target.container_command()?,
        LocalVia::Command | LocalVia::Auto => target.local_command(ctx)?,
    };
    command
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped());
    let health = format!("http://127.0.0.1:{port}{}", svc.health.path);
    let names = SecretNames {
        resolved: secrets.iter().map(|s| s.variable.clone()).collect(),
        unset: if secret_options(args).is_some() {
            Vec::new()
        } else {
            wanted.keys().cloned().collect()
        },
    };
    rt.block_on(supervise(ctx, command, port, health, names))
}

/// `--secrets`, with the AWS options it reads them with: `None` without it.
fn secret_options(args: &LocalArgs) -> Option<&AwsArgs> {
    args.secrets.then_some(&args.aws)
}

/// Which secret variables the service got, and which it runs without: names
/// only, for the JSON result.
struct SecretNames {
    resolved: Vec<String>,
    unset: Vec<String>,
}

/// The service's secrets: read from AWS with `--secrets` (credentials,
/// region and endpoint as for every AWS command), else none, and the run
/// says which variables are left unset.
async fn read_secrets(
    ctx: &Context,
    config: &Config,
    args: &LocalArgs,
    wanted: &BTreeMap<String, SecretRef>,
) -> Result<Vec<ResolvedSecret>, Failure> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = wanted.keys().map(String::as_str).collect();
    let Some(aws) = secret_options(args) else {
        ctx.progress(format!(
            "secrets not read (--secrets reads them from AWS): {} left unset",
            names.join(", ")
        ));
        return Ok(Vec::new());
    };
    let options = AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region_or(&config.system.region),
        endpoint_url: aws.endpoint_url.clone(),
    };
    let clients = Clients::load(&options, Tuning::from_env()).await;
    let resolved = apprun_deploy::resolve_secrets(&clients.api, wanted)
        .await
        .map_err(Failure::deploy)?;
    let read: Vec<String> = resolved
        .iter()
        .map(|r| format!("{} ({})", r.variable, r.source))
        .collect();
    ctx.progress(format!("secrets read from AWS: {}", read.join(", ")));
    Ok(resolved)
}

/// What App Runner and ECS Express set in the container, for `port`.
fn variables(config: &Config, env: &Env, port: u16) -> [(&'static str, String); 3] {
    [
        ("PORT", port.to_string()),
        ("ENV", env.name.clone()),
        ("SYSTEM_ID", config.system.id.clone()),
    ]
}

/// The service's `local` program (resolved against `dir`) and its own
/// arguments, after its prebuild when the program is a path not built yet.
/// `missing` words the usage error for a service without a `local` command.
pub(crate) fn built_program<'s>(
    ctx: &Context,
    dir: &Path,
    svc: &'s Service,
    missing: impl FnOnce() -> String,
) -> Result<(PathBuf, &'s [String]), Failure> {
    let (program, rest) = svc
        .local
        .split_first()
        .ok_or_else(|| Failure::Usage(missing()))?;
    let program = resolve(dir, program);
    let (_, prebuild) = svc.release_build();
    if !program.exists() && program.components().count() > 1 && !prebuild.is_empty() {
        ctx.progress(format!(
            "{} is not built yet: running the prebuild {}",
            program.display(),
            prebuild.join(" ")
        ));
        apprun_image::prebuild(dir, prebuild)?;
    }
    Ok((program, rest))
}

fn resolve(dir: &Path, program: &str) -> PathBuf {
    if program.contains('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

/// What runs, and on which local port.
struct Target<'a> {
    config: &'a Config,
    env: &'a Env,
    svc: &'a Service,
    port: u16,
    /// The service's plain variables in the env.
    plain: &'a BTreeMap<String, String>,
    /// Its secrets, when `--secrets` read them.
    secrets: &'a [ResolvedSecret],
}

impl Target<'_> {
    /// The service's `local` command, after its prebuild when the program is
    /// not built yet.
    fn local_command(&self, ctx: &Context) -> Result<Command, Failure> {
        let (config, env, svc, port) = (self.config, self.env, self.svc, self.port);
        let dir = config_dir(config);
        let (program, rest) = built_program(ctx, &dir, svc, || {
            format!(
                "service `{}` has no `local` command in apprun.toml; add one (e.g. local = [\"target/release/app\"]) or use --via container",
                svc.name
            )
        })?;
        let mut c = Command::new(&program);
        // On this machine the service listens on loopback only (`HOST`,
        // which the shipped app honours): `local` is for the developer, not
        // the network. A container keeps binding every interface inside its
        // own namespace; its port is published on 127.0.0.1 only.
        c.args(rest)
            .current_dir(&dir)
            .envs(self.plain)
            .envs(variables(config, env, port))
            .env("HOST", LOOPBACK);
        for s in self.secrets {
            c.env(&s.variable, s.value.expose());
        }
        Ok(c)
    }

    /// The service's image, built here and run with docker or podman; inside
    /// the container the service keeps its configured port.
    fn container_command(&self) -> Result<Command, Failure> {
        let (config, env, svc, port) = (self.config, self.env, self.svc, self.port);
        let (builder, image) = local_image(config, svc, || {
            "buildah builds images but cannot run them; install podman or docker, or give the service a `local` command (--via command)".into()
        })?;
        let mut c = Command::new(builder.name());
        c.args([
            "run",
            "--rm",
            "-p",
            &format!("{LOOPBACK}:{port}:{}", svc.port),
        ]);
        for (k, v) in self.plain {
            c.args(["-e", &format!("{k}={v}")]);
        }
        for (k, v) in variables(config, env, svc.port) {
            c.args(["-e", &format!("{k}={v}")]);
        }
        // `-e NAME` without a value: docker and podman pass the variable
        // from their own environment, so a value is never on a command line
        // (which every user of the machine can read in `ps`).
        for s in self.secrets {
            c.args(["-e", &s.variable]);
            c.env(&s.variable, s.value.expose());
        }
        c.arg(&image);
        Ok(c)
    }
}

/// Builds the service's image here (after its prebuild) with a builder that
/// can also run it, and returns that builder and the image's local tag.
/// `unusable` words why buildah alone will not do.
pub(crate) fn local_image(
    config: &Config,
    svc: &Service,
    unusable: impl FnOnce() -> String,
) -> Result<(Builder, String), Failure> {
    let dir = config_dir(config);
    let builder = Builder::detect()?;
    if builder == Builder::Buildah {
        return Err(Failure::image(apprun_image::ImageError::Unusable {
            builder: builder.name(),
            reason: unusable(),
        }));
    }
    let (dockerfile, prebuild) = svc.release_build();
    apprun_image::prebuild(&dir, prebuild)?;
    let image = format!(
        "localhost/apprun-local/{}-{}:latest",
        config.system.id, svc.name
    );
    builder.build(&dir, &dir.join(dockerfile), &image)?;
    Ok((builder, image))
}

/// Starts the service, waits for its health path, prints the URL, forwards
/// its logs and stops it on Ctrl-C.
async fn supervise(
    ctx: &Context,
    mut command: Command,
    port: u16,
    health: String,
    secrets: SecretNames,
) -> Result<ExitCode, Failure> {
    // Ctrl-C is handled from the start: a SIGINT that arrived before the
    // handler exists would end apprun and orphan the service.
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    std::future::poll_fn(|cx| {
        let _ = ctrl_c.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
    let mut child = command
        .spawn()
        .map_err(Failure::io("starting the service"))?;
    let lines = capture_logs(&mut child);
    tokio::select! {
        status = child.wait() => {
            let status = status.map_err(Failure::io("waiting for the service"))?;
            return Err(Failure::Service(format!("the service exited before it was healthy ({status})")));
        }
        _ = &mut ctrl_c => {
            let _ = child.kill().await;
            return Err(Failure::Interrupted("interrupted before the service was healthy; it was stopped".into()));
        }
        h = health_check(&health, HEALTHY_WITHIN, Duration::from_millis(200)) => {
            if let Health::Bad(reason) = h {
                let _ = child.kill().await;
                return Err(Failure::Service(format!("the service never became healthy: {reason}")));
            }
        }
    }
    let url = format!("http://127.0.0.1:{port}/");
    if ctx.json() {
        print_json(&json!({
            "ok": true,
            "url": url,
            "health": health,
            "secrets": { "resolved": secrets.resolved, "unset": secrets.unset },
        }));
    } else {
        outln!("{url}");
    }
    ctx.progress(format!("healthy at {health}; logs follow, Ctrl-C stops it"));
    let (stdout_gone, mut stdout_gone_rx) = tokio::sync::oneshot::channel();
    let forward = tokio::spawn(forward_logs(lines, ctx.json(), stdout_gone));
    tokio::select! {
        status = child.wait() => {
            let status = status.map_err(Failure::io("waiting for the service"))?;
            let _ = forward.await;
            if status.success() {
                ctx.progress(format!("the service exited ({status})"));
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::Service(format!("the service exited ({status})")))
            }
        }
        _ = &mut ctrl_c => {
            stop(ctx, &mut child).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), forward).await;
            // Stopped by the user: 130, as the exit-code table says.
            Ok(ExitCode::from(crate::exit::INTERRUPTED))
        }
        // The reader of stdout went away (`apprun local | head -1`): the
        // service is stopped as on Ctrl-C, never left running without its
        // supervisor; a closed pipe ends quietly, another write error is a
        // local I/O failure.
        Ok(error) = &mut stdout_gone_rx => {
            stop(ctx, &mut child).await;
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::io("writing the service's logs to stdout")(error))
            }
        }
    }
}

/// The service's stdout as lines, held back until the URL (the result) is out.
fn capture_logs(child: &mut Child) -> UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    if let Some(out) = child.stdout.take() {
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

/// Logs go to stdout after the URL; in JSON mode stdout holds only the one
/// document, so they go to stderr.
/// A failed write to stdout is sent on `stdout_gone` and ends the forwarding.
async fn forward_logs(
    mut lines: UnboundedReceiver<String>,
    json: bool,
    stdout_gone: tokio::sync::oneshot::Sender<std::io::Error>,
) {
    use std::io::Write;
    while let Some(line) = lines.recv().await {
        if json {
            eprintln!("{line}");
            continue;
        }
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            let _ = stdout_gone.send(e);
            return;
        }
    }
}

/// Stops the service the way App Runner and ECS do: SIGTERM, then the
/// grace period, then SIGKILL.
async fn stop(ctx: &Context, child: &mut Child) {
    if let Some(pid) = child.id() {
        terminate(pid);
    }
    match tokio::time::timeout(GRACE, child.wait()).await {
        Ok(_) => ctx.progress("stopped"),
        Err(_) => {
            let _ = child.kill().await;
            ctx.progress("did not stop within 10 s of SIGTERM; killed");
        }
    }
}

/// Sends SIGTERM (the standard library and tokio only send SIGKILL).
fn terminate(pid: u32) {
    let _ = send_signal(pid, libc::SIGTERM);
}

/// Sends `signal` to process `pid`; `Ok` when it was delivered. Signal 0
/// delivers nothing and tells whether the process exists.
pub(crate) fn send_signal(pid: u32, signal: libc::c_int) -> std::io::Result<()> {
    // A pid beyond pid_t, or 0 / negative (a process group), is never sent to.
    let pid = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: kill(2) takes two integers and touches no memory of ours; the
    // pid is positive, so it names one process, never a group.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether process `pid` still exists (EPERM: it exists, owned by another user).
pub(crate) fn process_alive(pid: u32) -> bool {
    match send_signal(pid, 0) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() == Some(libc::EPERM),
    }
}
