//! `apprun local`: the service on this machine with App Runner's settings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use apprun_config::{Config, Service};
use apprun_deploy::{Health, health_check};
use apprun_image::Builder;

use crate::cli::{LocalArgs, LocalVia};
use crate::commands::aws::runtime;
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::Context;

pub(crate) fn service<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a Service, Failure> {
    match name {
        Some(n) => config.services.get(n).ok_or_else(|| Failure::Refused {
            message: format!(
                "unknown service `{n}`; apprun.toml defines: {}",
                config
                    .services
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            code: exit::INVALID_INPUT,
        }),
        None => config.primary_service().ok_or_else(|| Failure::Refused {
            message: "apprun.toml defines no service".into(),
            code: exit::INVALID_INPUT,
        }),
    }
}

/// The folder apprun.toml is in: commands and Dockerfiles are relative to it.
pub(crate) fn config_dir(config: &Config) -> PathBuf {
    match config.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn resolve(dir: &Path, program: &str) -> PathBuf {
    if program.contains('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

pub fn run(ctx: &Context, args: &LocalArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?;
    let svc = service(&config, args.service.as_deref())?;
    let dir = config_dir(&config);
    let port = args.port.unwrap_or(svc.port);
    // The workstation's build recipe (it may differ from the pipeline's).
    let (dockerfile, prebuild) = svc.release_build();
    let via = match args.via {
        LocalVia::Auto if !svc.local.is_empty() => LocalVia::Command,
        LocalVia::Auto => LocalVia::Container,
        other => other,
    };
    let vars = [
        ("PORT", port.to_string()),
        ("ENV", env.name.clone()),
        ("SYSTEM_ID", config.system.id.clone()),
    ];
    let mut command = match via {
        LocalVia::Command => {
            let (program, rest) = svc.local.split_first().ok_or_else(|| Failure::Refused {
                message: format!("service `{}` has no `local` command in apprun.toml; add one (e.g. local = [\"target/release/app\"]) or use --via container", svc.name),
                code: exit::INVALID_INPUT,
            })?;
            let program = resolve(&dir, program);
            if !program.exists() && program.components().count() > 1 && !prebuild.is_empty() {
                ctx.progress(format!(
                    "{} is not built yet: running the prebuild {}",
                    program.display(),
                    prebuild.join(" ")
                ));
                apprun_image::prebuild(&dir, prebuild).map_err(|e| Failure::Refused {
                    message: e.to_string(),
                    code: exit::FINDINGS,
                })?;
            }
            let mut c = tokio::process::Command::new(&program);
            c.args(rest)
                .current_dir(&dir)
                .envs(vars.iter().map(|(k, v)| (*k, v.clone())));
            c
        }
        _ => {
            let builder = Builder::detect().map_err(|e| Failure::Refused {
                message: e.to_string(),
                code: exit::REFUSED,
            })?;
            if builder == Builder::Buildah {
                return Err(Failure::Refused {
                    message: "buildah builds images but cannot run them; install podman or docker, or give the service a `local` command (--via command)".into(),
                    code: exit::REFUSED,
                });
            }
            apprun_image::prebuild(&dir, prebuild).map_err(|e| Failure::Refused {
                message: e.to_string(),
                code: exit::FINDINGS,
            })?;
            let image = format!(
                "localhost/apprun-local/{}-{}:latest",
                config.system.id, svc.name
            );
            builder
                .build(&dir, &dir.join(dockerfile), &image)
                .map_err(|e| Failure::Refused {
                    message: e.to_string(),
                    code: exit::FINDINGS,
                })?;
            let mut c = tokio::process::Command::new(builder.name());
            c.args([
                "run",
                "--rm",
                "-p",
                &format!("127.0.0.1:{port}:{}", svc.port),
            ]);
            for (k, v) in &vars {
                // Inside the container the service keeps its configured port.
                let v = if *k == "PORT" {
                    svc.port.to_string()
                } else {
                    v.clone()
                };
                c.args(["-e", &format!("{k}={v}")]);
            }
            c.arg(&image);
            c
        }
    };
    command
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped());
    runtime()?.block_on(async move {
        // Ctrl-C is handled from the start: a SIGINT that arrived before
        // the handler exists would end apprun and orphan the service.
        let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
        std::future::poll_fn(|cx| {
            let _ = ctrl_c.as_mut().poll(cx);
            std::task::Poll::Ready(())
        })
        .await;
        let mut child = command.spawn().map_err(Failure::io("starting the service"))?;
        // The service's logs are held back until the URL (the result) is out.
        let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt;
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if lines_tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let url = format!("http://127.0.0.1:{port}");
        let health = format!("{url}{}", svc.health.path);
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(Failure::io("waiting for the service"))?;
                return Err(Failure::Refused { message: format!("the service exited before it was healthy ({status})"), code: exit::FINDINGS });
            }
            _ = &mut ctrl_c => {
                let _ = child.kill().await;
                return Err(Failure::Refused { message: "interrupted before the service was healthy; it was stopped".into(), code: exit::INTERRUPTED });
            }
            h = health_check(&health, Duration::from_secs(60), Duration::from_millis(200)) => {
                if let Health::Bad(reason) = h {
                    let _ = child.kill().await;
                    return Err(Failure::Refused { message: format!("the service never became healthy: {reason}"), code: exit::FINDINGS });
                }
            }
        }
        println!("{url}/");
        ctx.progress(format!("healthy at {health}; logs follow, Ctrl-C stops it"));
        let forward = tokio::spawn(async move {
            while let Some(line) = lines_rx.recv().await {
                println!("{line}");
            }
        });
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(Failure::io("waiting for the service"))?;
                let _ = forward.await;
                ctx.progress(format!("the service exited ({status})"));
                Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(exit::FINDINGS) })
            }
            _ = &mut ctrl_c => {
                // Stop it the way App Runner does: SIGTERM, then a grace period.
                if let Some(pid) = child.id() {
                    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
                }
                match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
                    Ok(_) => {
                        let _ = tokio::time::timeout(Duration::from_secs(2), forward).await;
                        ctx.progress("stopped")
                    }
                    Err(_) => {
                        let _ = child.kill().await;
                        ctx.progress("did not stop within 10 s of SIGTERM; killed");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
