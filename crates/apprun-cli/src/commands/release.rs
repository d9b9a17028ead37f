//! `apprun release`: build once, tag by commit, push, deploy that tag, verify.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use apprun_config::Names;
use apprun_deploy::{ReleaseOptions, ecr_login, verify_account};
use apprun_image::{Builder, Repository, commit_tag};
use serde_json::json;

use crate::cli::ReleaseArgs;
use crate::commands::aws::{interrupt_watch, options, runtime, session};
use crate::commands::local::{config_dir, service};
use crate::diagnostics::{Failure, deploy_exit_code};
use crate::exit;
use crate::output::{Context, print_json};
use crate::progress::Progress;

fn image_failure(e: apprun_image::ImageError) -> Failure {
    use apprun_image::ImageError::*;
    let code = match e {
        DirtyTree | NoBuilder | Unusable { .. } => exit::REFUSED,
        _ => exit::FINDINGS,
    };
    Failure::Refused {
        message: e.to_string(),
        code,
    }
}

pub fn run(ctx: &Context, args: &ReleaseArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?.clone();
    let svc = service(&config, args.service.as_deref())?.clone();
    let dir = config_dir(&config);
    let tag = match &args.tag {
        Some(t) => t.clone(),
        None => commit_tag(&dir).map_err(image_failure)?,
    };
    let builder = match &args.builder {
        Some(b) => {
            let b = Builder::parse(b).ok_or_else(|| Failure::Refused {
                message: format!("--builder {b}: allowed: docker, podman, buildah"),
                code: exit::INVALID_INPUT,
            })?;
            b.check().map_err(image_failure)?;
            b
        }
        None => Builder::detect().map_err(image_failure)?,
    };
    runtime()?.block_on(async {
        // Where the image goes: --registry, or the env's ECR repository.
        let (repo, creds, sess) = match &args.registry {
            Some(r) => {
                let repo = Repository::parse(r).ok_or_else(|| Failure::Refused {
                    message: format!("--registry {r}: expected HOST[:PORT]/REPOSITORY"),
                    code: exit::INVALID_INPUT,
                })?;
                let sess = if args.skip_deploy { None } else { Some(session(ctx, &args.env).await?) };
                (repo, None, sess)
            }
            None => {
                let s = session(ctx, &args.env).await?;
                verify_account(&s.clients, &args.env, env.account.as_deref()).await.map_err(Failure::Deploy)?;
                let (registry, creds) = ecr_login(&s.clients).await.map_err(Failure::Deploy)?;
                let path = Names::new(&config.system.id).ecr_repository(&args.env, &svc.name, config.is_primary(&svc.name));
                (Repository { registry, path }, Some(creds), Some(s))
            }
        };
        let image = repo.image(&tag);
        if !svc.prebuild.is_empty() {
            ctx.progress(format!("prebuild: {}", svc.prebuild.join(" ")));
            apprun_image::prebuild(&dir, &svc.prebuild).map_err(image_failure)?;
        }
        ctx.progress(format!("building {image} with {}", builder.name()));
        builder.build(&dir, &dir.join(&svc.dockerfile), &image).map_err(image_failure)?;
        ctx.progress(format!("pushing {image}"));
        builder.push(&image, repo.is_loopback(), creds.as_deref()).map_err(image_failure)?;

        let Some(s) = sess.filter(|_| !args.skip_deploy) else {
            if ctx.json() {
                print_json(&json!({ "ok": true, "image": image, "tag": tag, "deployed": false }));
            } else {
                println!("{image}");
                ctx.progress("pushed; not deployed (--skip-deploy)");
            }
            return Ok(ExitCode::SUCCESS);
        };
        crate::commands::check::require_clean(ctx, &s.config, &s.bp)?;
        let opts = ReleaseOptions {
            deploy: options(&s, &args.env, Vec::new(), Some(tag.clone()), true),
            service: svc.name.clone(),
            health_path: svc.health.path.clone(),
            timeout: Duration::from_secs(args.timeout),
        };
        let progress = Arc::new(Progress::new(ctx.live() && !ctx.json()));
        let (report, result) = apprun_deploy::release(&s.clients, &s.bp, &opts, progress.clone(), interrupt_watch()).await;
        progress.finish();
        if ctx.json() {
            print_json(&json!({ "ok": result.is_ok(), "image": image, "error": result.as_ref().err().map(|e| e.to_string()), "release": report }));
            return Ok(match &result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(deploy_exit_code(e)),
            });
        }
        result.map_err(Failure::Deploy)?;
        println!("{image}");
        if let Some(url) = &report.service_url {
            println!("{url}");
        }
        Ok(ExitCode::SUCCESS)
    })
}
