//! `apprun migrate`: a service from one compute backend to the other.

use std::process::ExitCode;
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, synthesize};
use apprun_config::{Compute, Config, Names, Service, valid_pairs};
use apprun_deploy::{MigrateOptions, MigrateReport, verify_account};
use serde_json::json;

use crate::cli::MigrateArgs;
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::{
    Answer, NOT_ASKED, Session, confirm, options, service, session, with_progress,
};

pub fn run(ctx: &Context, args: &MigrateArgs) -> Result<ExitCode, Failure> {
    let to = args.to.0;
    crate::shared::aws_runtime()?.block_on(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let svc = service(&s.config, Some(&args.service))?.clone();
        let (target_config, target) = target_blueprint(&s.config, &svc, &args.env, to)?;
        crate::checking::require_clean(ctx, &target_config, &target)?;
        let env = s.config.env(&args.env)?;
        verify_account(&s.clients, &args.env, env.account.as_deref()).await?;
        let names = Names::new(&s.config.system.id);
        let old_stack = names.service_stack(&args.env, &args.service, svc.compute);
        let new_stack = names.service_stack(&args.env, &args.service, to);
        if !args.yes {
            ask(&old_stack, &new_stack, to, args.remove_old)?;
        }
        let report = run_migration(ctx, &s, &target, &svc, &old_stack, args).await?;
        print_result(ctx, &report, &old_stack, &new_stack, to, args);
        Ok(ExitCode::SUCCESS)
    })
}

/// The blueprint as it will be once apprun.toml says the new backend, after
/// refusing what the new backend cannot run.
fn target_blueprint(
    config: &Config,
    svc: &Service,
    env: &str,
    to: Compute,
) -> Result<(Config, EnvBlueprint), Failure> {
    if svc.compute == to {
        return Err(Failure::Usage(format!(
            "service `{}` already runs on {}",
            svc.name,
            to.as_str()
        )));
    }
    let env = config.env(env)?;
    if !valid_pairs(to).contains(&(env.cpu, env.memory)) {
        return Err(Failure::Usage(format!(
            "{} / {} is not a size {} offers; change env.{}'s cpu/memory first",
            env.cpu,
            env.memory,
            to.as_str(),
            env.name
        )));
    }
    let mut target_config = config.clone();
    if let Some(t) = target_config.services.get_mut(&svc.name) {
        t.compute = to;
    }
    let target = synthesize(&target_config, &env.name)?;
    target.ensure_valid()?;
    Ok((target_config, target))
}

fn ask(old_stack: &str, new_stack: &str, to: Compute, remove_old: bool) -> Result<(), Failure> {
    let question = format!(
        "Deploy {new_stack} ({}) beside {old_stack}{}?",
        to.as_str(),
        if remove_old {
            ", then delete the old stack once the new one is healthy"
        } else {
            ""
        }
    );
    match confirm(&question) {
        Answer::Yes => Ok(()),
        Answer::No => Err(Failure::Refused("declined: nothing was changed".into())),
        Answer::NotAsked => Err(Failure::Refused(NOT_ASKED.into())),
    }
}

async fn run_migration(
    ctx: &Context,
    s: &Session,
    target: &EnvBlueprint,
    svc: &Service,
    old_stack: &str,
    args: &MigrateArgs,
) -> Result<MigrateReport, Failure> {
    let opts = MigrateOptions {
        deploy: options(s, &args.env, Vec::new(), None, true),
        service: args.service.clone(),
        old_stack: old_stack.to_owned(),
        health_path: svc.health.path.clone(),
        timeout: Duration::from_secs(args.timeout),
        remove_old: args.remove_old,
    };
    let (report, result) = with_progress(ctx, |observer, interrupt| {
        apprun_deploy::migrate(&s.clients, target, &opts, observer, interrupt)
    })
    .await;
    match result {
        Ok(()) => Ok(report),
        Err(e) => Err(Failure::deploy(e).with_result(json!({ "migration": report }))),
    }
}

fn print_result(
    ctx: &Context,
    report: &MigrateReport,
    old_stack: &str,
    new_stack: &str,
    to: Compute,
    args: &MigrateArgs,
) {
    if ctx.json() {
        print_json(&json!({ "ok": true, "migration": report }));
        return;
    }
    outln!(
        "old  {old_stack}  {}",
        report.old_url.as_deref().unwrap_or("-")
    );
    outln!(
        "new  {new_stack}  {}",
        report.new_url.as_deref().unwrap_or("-")
    );
    let removal = if report.removed_old {
        format!(" {old_stack} was deleted.")
    } else {
        format!(" Remove {old_stack} with --remove-old once traffic has moved.")
    };
    ctx.progress(format!(
        "Both run image {}. Switch: point your domain's DNS record (CNAME) from the old URL's host to the new one; then set compute = \"{}\" for [services.{}] in apprun.toml so that deploy and the pipeline manage {new_stack}.{removal}",
        report.image_tag,
        to.as_str(),
        args.service,
    ));
}
