//! The commands that talk to AWS: deploy, diff, status, destroy.

use std::process::ExitCode;
use std::sync::Arc;

use apprun_blueprint::{EnvBlueprint, StackKind, synthesize};
use apprun_config::{Config, Names};
use apprun_deploy::{
    AwsOptions, Clients, DeployOptions, DeployReport, ImageSource, Outcome, StackResult, Tuning,
};
use serde_json::json;

use crate::cli::{DeployArgs, DestroyArgs, DiffArgs, EnvArg};
use crate::diagnostics::{Failure, deploy_exit_code};
use crate::output::{Context, print_json};
use crate::progress::{Progress, render_reviews};

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

pub(crate) async fn session(ctx: &Context, env: &str) -> Result<Session, Failure> {
    let config = ctx.load_config()?;
    config.env(env)?;
    let bp = synthesize(&config, env)?;
    bp.ensure_valid()?;
    let options = AwsOptions {
        profile: ctx.profile.clone(),
        region: ctx
            .region
            .clone()
            .unwrap_or_else(|| config.system.region.clone()),
    };
    let clients = Clients::load(&options, Tuning::from_env()).await;
    Ok(Session {
        config,
        bp,
        clients,
    })
}

/// A watch that turns true on Ctrl-C; waits end and report where AWS is.
pub(crate) fn interrupt_watch() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
        }
    });
    rx
}

/// Runs an engine operation with live progress (on a terminal, not in JSON
/// mode) and Ctrl-C watched, and closes the progress display afterwards.
pub(crate) async fn with_progress<T, F, Fut>(ctx: &Context, run: F) -> T
where
    F: FnOnce(Arc<dyn apprun_deploy::Observer>, tokio::sync::watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let progress = Arc::new(Progress::new(ctx.live() && !ctx.json()));
    let out = run(progress.clone(), interrupt_watch()).await;
    progress.finish();
    out
}

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
            let service = s
                .bp
                .stacks
                .iter()
                .find(|st| st.name == r.stack)
                .and_then(|st| match &st.kind {
                    StackKind::Service(name) => Some(name.clone()),
                    _ => None,
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
                    "service `{service}` is not deployed yet (it needs an image, and none can be pushed before its repository exists): {pipeline}now, from this checkout: `apprun release --env {env}`"
                ),
            )
        })
        .collect()
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Recreated => "recreated",
        Outcome::Unchanged => "unchanged",
        Outcome::Failed => "FAILED",
        Outcome::Interrupted => "interrupted",
        Outcome::NotStarted => "not started",
        Outcome::New => "new",
        Outcome::Changes => "changes",
        Outcome::Deferred => "deferred",
    }
}

fn result_table(results: &[StackResult]) -> String {
    let mut out = format!(
        "{:<44} {:<12} {:<28} {:>8}\n",
        "STACK", "OUTCOME", "STATUS", "TIME"
    );
    for r in results {
        out.push_str(&format!(
            "{:<44} {:<12} {:<28} {:>7.1}s\n",
            r.stack,
            outcome_word(r.outcome),
            if r.status.is_empty() { "-" } else { &r.status },
            r.seconds
        ));
    }
    out
}

fn print_report(ctx: &Context, report: &DeployReport, deferred: &[(String, String)]) {
    let mutating = report.calls.iter().filter(|c| c.is_mutating()).count();
    if ctx.json() {
        print_json(&json!({
            "ok": report.error.is_none(),
            "error": report.error.as_ref().map(|e| e.to_string()),
            "account": report.account,
            "stacks": report.stacks,
            "deferred": deferred
                .iter()
                .map(|(stack, how)| json!({ "stack": stack, "how": how }))
                .collect::<Vec<_>>(),
            "api_calls": report.calls.len(),
            "mutating_calls": mutating,
            "calls": report.calls,
        }));
    } else {
        print!("{}", result_table(&report.stacks));
        for (stack, how) in deferred {
            eprintln!("{stack}: {how}");
        }
        eprintln!(
            "{} API calls, {mutating} of them writes",
            report.calls.len()
        );
    }
}

pub fn deploy(ctx: &Context, args: &DeployArgs) -> Result<ExitCode, Failure> {
    runtime()?.block_on(async {
        let s = session(ctx, &args.env).await?;
        // The same check as `apprun check --env`: nothing is deployed past an error.
        crate::commands::check::require_clean(ctx, &s.config, &s.bp)?;
        let opts = options(
            &s,
            &args.env,
            args.stack.clone(),
            args.image_tag.clone(),
            args.yes,
        );
        let report = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::deploy(&s.clients, &s.bp, &opts, observer, interrupt)
        })
        .await;
        let deferred = deferred_services(&s, &args.env, &report);
        print_report(ctx, &report, &deferred);
        match report.error {
            None => Ok(ExitCode::SUCCESS),
            Some(e) if ctx.json() => Ok(ExitCode::from(deploy_exit_code(&e))),
            Some(e) => Err(Failure::Deploy(e)),
        }
    })
}

pub fn diff(ctx: &Context, args: &DiffArgs) -> Result<ExitCode, Failure> {
    runtime()?.block_on(async {
        let s = session(ctx, &args.env).await?;
        let opts = options(
            &s,
            &args.env,
            args.stack.clone(),
            args.image_tag.clone(),
            true,
        );
        let results = apprun_deploy::diff(&s.clients, &s.bp, &opts)
            .await
            .map_err(Failure::Deploy)?;
        if ctx.json() {
            print_json(&json!({ "ok": true, "stacks": results }));
        } else {
            for r in &results {
                match r.outcome {
                    Outcome::Unchanged => println!("{}: no changes", r.stack),
                    _ => {
                        let review = apprun_deploy::Review {
                            stack: r.stack.clone(),
                            kind: if r.outcome == Outcome::New {
                                "create"
                            } else {
                                "update"
                            },
                            changes: r.changes.clone(),
                        };
                        print!("{}", render_reviews(&[review]));
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn status(ctx: &Context, args: &EnvArg) -> Result<ExitCode, Failure> {
    runtime()?.block_on(async {
        let s = session(ctx, &args.env).await?;
        let lines = apprun_deploy::status(&s.clients, &s.bp)
            .await
            .map_err(Failure::Deploy)?;
        if ctx.json() {
            print_json(&json!({ "ok": true, "env": args.env, "stacks": lines }));
        } else {
            println!(
                "{:<44} {:<28} {:<26} DETAIL",
                "STACK", "STATUS", "LAST UPDATE"
            );
            for l in &lines {
                let detail = match (&l.url, &l.image_tag, &l.reason) {
                    (Some(url), tag, _) => format!(
                        "{url}{}",
                        tag.as_ref()
                            .map(|t| format!("  (image {t})"))
                            .unwrap_or_default()
                    ),
                    (None, _, Some(reason)) => reason.clone(),
                    _ => String::new(),
                };
                println!(
                    "{:<44} {:<28} {:<26} {detail}",
                    l.stack,
                    l.status,
                    l.last_updated.as_deref().unwrap_or("-")
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn destroy(ctx: &Context, args: &DestroyArgs) -> Result<ExitCode, Failure> {
    runtime()?.block_on(async {
        let s = session(ctx, &args.env).await?;
        let env = s.config.env(&args.env)?;
        apprun_deploy::verify_account(&s.clients, &args.env, env.account.as_deref()).await.map_err(Failure::Deploy)?;
        let bucket = Names::new(&s.config.system.id).artifact_bucket(&args.env);
        let result = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::destroy(&s.clients, &s.bp, &s.config.system.id, &bucket, args.yes, observer, interrupt)
        })
        .await;
        let report = result.map_err(Failure::Deploy)?;
        if ctx.json() {
            print_json(&json!({ "ok": report.failed.is_empty(), "report": report }));
        } else {
            for d in &report.deleted {
                println!("deleted  {d}");
            }
            for a in &report.absent {
                println!("absent   {a}");
            }
            for (k, why) in &report.kept {
                println!("kept     {k}: {why}");
            }
            for r in &report.retained {
                println!("retained {r}");
            }
            for (f, why) in &report.failed {
                println!("FAILED   {f}: {why}");
            }
            for n in &report.not_attempted {
                println!("left     {n} (a stack that imports from it could not be deleted)");
            }
        }
        if report.failed.is_empty() {
            Ok(ExitCode::SUCCESS)
        } else {
            if !ctx.json() {
                eprintln!(
                    "error: {} of {} stacks could not be deleted; they are in the state shown above. Fix the cause and run `apprun destroy --env {}` again (it continues where this stopped).",
                    report.failed.len(),
                    report.failed.len() + report.deleted.len() + report.not_attempted.len(),
                    args.env
                );
            }
            Ok(ExitCode::from(crate::exit::FINDINGS))
        }
    })
}
