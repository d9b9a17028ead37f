//! `apprun release`: build once, tag by commit, push, deploy that tag,
//! verify. On an env where nothing is deployed yet it first stands up the
//! infrastructure (everything but the service), so that one command goes
//! from nothing to a verified running service.

use std::process::ExitCode;
use std::time::Duration;

use apprun_config::Names;
use apprun_deploy::{
    DeployReport, ImageSource, ReleaseOptions, ecr_login, missing_infrastructure, verify_account,
};
use apprun_image::{Builder, Repository, commit_tag};
use serde_json::json;

use crate::cli::ReleaseArgs;
use crate::commands::aws::{Session, deferred_services, options, runtime, session, with_progress};
use crate::commands::local::{config_dir, service};
use crate::diagnostics::{Failure, deploy_exit_code};
use crate::exit;
use crate::output::{Context, print_json};

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

/// The steps of a release, as numbered on stderr.
const STEPS: usize = 4;

fn step(ctx: &Context, number: usize, text: impl AsRef<str>) {
    ctx.progress(format!("[{number}/{STEPS}] {}", text.as_ref()));
}

/// Step 1: deploys the env without its service when part of the
/// infrastructure is missing (the repository must exist before the push).
/// Returns the deploy's report when it ran.
async fn stand_up_infrastructure(
    ctx: &Context,
    s: &Session,
    args: &ReleaseArgs,
) -> Result<Option<(DeployReport, Vec<(String, String)>)>, Failure> {
    let missing = missing_infrastructure(&s.clients, &s.bp)
        .await
        .map_err(Failure::Deploy)?;
    if missing.is_empty() {
        step(ctx, 1, "infrastructure: deployed already");
        return Ok(None);
    }
    step(
        ctx,
        1,
        format!(
            "infrastructure: {} not deployed yet; deploying env {} without the service first",
            missing.join(", "),
            args.env
        ),
    );
    let opts = options(s, &args.env, Vec::new(), None, args.yes);
    let report = with_progress(ctx, |observer, interrupt| {
        apprun_deploy::deploy(&s.clients, &s.bp, &opts, observer, interrupt)
    })
    .await;
    let deferred = deferred_services(s, &args.env, &report);
    Ok(Some((report, deferred)))
}

/// What stands after a release that failed once the infrastructure and the
/// image were in place, and how to continue.
fn state_after_failure(env: &str, image: &str, tag: &str, stack: &str) -> String {
    format!(
        "state: the infrastructure of env {env} is deployed and {image} is pushed; the service stack {stack} did not come up as shown above. Once the cause is fixed, `apprun deploy --env {env} --image-tag {tag}` deploys that image again (a failed first create is deleted and created again), or `apprun release --env {env}` builds, pushes, deploys and verifies again."
    )
}

pub fn run(ctx: &Context, args: &ReleaseArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?.clone();
    let svc = service(&config, args.service.as_deref())?.clone();
    let (dockerfile, prebuild) = svc.release_build();
    let (dockerfile, prebuild) = (dockerfile.to_owned(), prebuild.to_vec());
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
    let registry = match &args.registry {
        Some(r) => Some(Repository::parse(r).ok_or_else(|| Failure::Refused {
            message: format!("--registry {r}: expected HOST[:PORT]/REPOSITORY"),
            code: exit::INVALID_INPUT,
        })?),
        None => None,
    };
    runtime()?.block_on(async {
        // AWS is needed to deploy, and to push to ECR.
        let sess = if args.skip_deploy && registry.is_some() {
            None
        } else {
            let s = session(ctx, &args.env).await?;
            verify_account(&s.clients, &args.env, env.account.as_deref())
                .await
                .map_err(Failure::Deploy)?;
            Some(s)
        };
        let deploying = sess.as_ref().filter(|_| !args.skip_deploy);

        // 1. The infrastructure, when some of it is missing.
        let mut infrastructure = None;
        if let Some(s) = deploying {
            // The same check as `apprun deploy`: nothing is deployed past an error.
            crate::commands::check::require_clean(ctx, &s.config, &s.bp)?;
            if let Some((report, deferred)) = stand_up_infrastructure(ctx, s, args).await? {
                if let Some(e) = &report.error {
                    let message = format!(
                        "the infrastructure could not be deployed, so no image was built or pushed: {e}"
                    );
                    if ctx.json() {
                        print_json(&json!({
                            "ok": false,
                            "error": message,
                            "infrastructure": { "stacks": report.stacks, "calls": report.calls },
                        }));
                        return Ok(ExitCode::from(deploy_exit_code(e)));
                    }
                    let code = deploy_exit_code(e);
                    return Err(Failure::Refused { message, code });
                }
                infrastructure = Some((report, deferred));
            }
        } else {
            step(ctx, 1, "infrastructure: not touched (--skip-deploy)");
        }

        // 2. The image: built once, pushed to --registry or the env's ECR repository.
        let (repo, creds) = match (&registry, &sess) {
            (Some(r), _) => (r.clone(), None),
            (None, Some(s)) => {
                let (host, creds) = ecr_login(&s.clients).await.map_err(Failure::Deploy)?;
                let path = Names::new(&config.system.id).ecr_repository(
                    &args.env,
                    &svc.name,
                    config.is_primary(&svc.name),
                );
                (
                    Repository {
                        registry: host,
                        path,
                    },
                    Some(creds),
                )
            }
            (None, None) => {
                return Err(Failure::Refused {
                    message: "no registry: pass --registry, or drop --skip-deploy to push to the env's ECR repository".into(),
                    code: exit::INVALID_INPUT,
                });
            }
        };
        let image = repo.image(&tag);
        // After step 1 stood up the infrastructure, a failed build leaves
        // an env without its service: say so.
        let stood_up = infrastructure.is_some();
        let failed = |e: apprun_image::ImageError| match image_failure(e) {
            Failure::Refused { message, code } if stood_up => Failure::Refused {
                message: format!(
                    "{message}\nstate: the infrastructure of env {} is deployed, the service is not; fix the build and run `apprun release --env {}` again",
                    args.env, args.env
                ),
                code,
            },
            other => other,
        };
        if !prebuild.is_empty() {
            step(ctx, 2, format!("prebuild: {}", prebuild.join(" ")));
            apprun_image::prebuild(&dir, &prebuild).map_err(failed)?;
        }
        step(ctx, 2, format!("building {image} with {}", builder.name()));
        builder
            .build(&dir, &dir.join(&dockerfile), &image)
            .map_err(failed)?;
        step(ctx, 2, format!("pushing {image}"));
        builder
            .push(&image, repo.is_loopback(), creds.as_deref())
            .map_err(failed)?;

        let Some(s) = deploying else {
            if ctx.json() {
                print_json(&json!({ "ok": true, "image": image, "tag": tag, "deployed": false }));
            } else {
                println!("{image}");
                ctx.progress("pushed; not deployed (--skip-deploy)");
            }
            return Ok(ExitCode::SUCCESS);
        };

        // 3 and 4. The service at that tag (checked in the registry first), verified.
        let mut deploy = options(s, &args.env, Vec::new(), Some(tag.clone()), true);
        if registry.is_some() {
            let scheme = if repo.is_loopback() { "http" } else { "https" };
            deploy.images = ImageSource::Registry {
                base_url: format!("{scheme}://{}", repo.registry),
                repository: repo.path.clone(),
            };
        }
        let stack = Names::new(&config.system.id).service_stack(&args.env, &svc.name, svc.compute);
        step(ctx, 3, format!("service: deploying {stack} at image {tag}"));
        let opts = ReleaseOptions {
            deploy,
            service: svc.name.clone(),
            health_path: svc.health.path.clone(),
            timeout: Duration::from_secs(args.timeout),
        };
        let (report, result) = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::release(&s.clients, &s.bp, &opts, observer, interrupt)
        })
        .await;
        if result.is_ok() {
            step(
                ctx,
                4,
                format!(
                    "verified: {} answered {} on {}",
                    report.operation.as_deref().unwrap_or("-"),
                    report.health.map(|h| h.to_string()).unwrap_or_default(),
                    svc.health.path
                ),
            );
        }
        let next = match &result {
            Err(apprun_deploy::DeployError::ReleaseFailed { .. }) | Ok(()) => None,
            Err(_) => Some(state_after_failure(&args.env, &image, &tag, &stack)),
        };
        if ctx.json() {
            print_json(&json!({
                "ok": result.is_ok(),
                "image": image,
                "tag": tag,
                "error": result.as_ref().err().map(|e| e.to_string()),
                "next": next,
                "infrastructure": infrastructure.as_ref().map(|(r, deferred)| json!({
                    "stacks": r.stacks,
                    "deferred": deferred.iter().map(|(stack, how)| json!({ "stack": stack, "how": how })).collect::<Vec<_>>(),
                    "calls": r.calls,
                })),
                "release": report,
            }));
            return Ok(match &result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(deploy_exit_code(e)),
            });
        }
        if let Err(e) = result {
            if let Some(next) = next {
                return Err(Failure::Refused {
                    code: deploy_exit_code(&e),
                    message: format!("{e}\n{next}"),
                });
            }
            return Err(Failure::Deploy(e));
        }
        println!("{image}");
        if let Some(url) = &report.service_url {
            println!("{url}");
        }
        Ok(ExitCode::SUCCESS)
    })
}
