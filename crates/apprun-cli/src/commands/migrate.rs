//! `apprun migrate`: a service from one compute backend to the other.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use apprun_blueprint::synthesize;
use apprun_config::{Compute, Names, valid_pairs};
use apprun_deploy::{MigrateOptions, verify_account};
use serde_json::json;

use crate::cli::MigrateArgs;
use crate::commands::aws::{options, runtime, session, with_progress};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, print_json};

fn refuse(message: String, code: u8) -> Failure {
    Failure::Refused { message, code }
}

pub fn run(ctx: &Context, args: &MigrateArgs) -> Result<ExitCode, Failure> {
    let to = match args.to.as_str() {
        "ecs-express" => Compute::EcsExpress,
        "apprunner" => Compute::AppRunner,
        other => {
            return Err(refuse(
                format!("--to {other}: allowed: apprunner, ecs-express"),
                exit::INVALID_INPUT,
            ));
        }
    };
    runtime()?.block_on(async {
        let s = session(ctx, &args.env).await?;
        let svc = s.config.services.get(&args.service).ok_or_else(|| {
            refuse(format!("unknown service `{}`; apprun.toml defines: {}", args.service, s.config.services.keys().cloned().collect::<Vec<_>>().join(", ")), exit::INVALID_INPUT)
        })?;
        if svc.compute == to {
            return Err(refuse(format!("service `{}` already runs on {}", svc.name, to.as_str()), exit::INVALID_INPUT));
        }
        let env = s.config.env(&args.env)?.clone();
        if !valid_pairs(to).contains(&(env.cpu, env.memory)) {
            return Err(refuse(format!("{} / {} is not a size {} offers; change env.{}'s cpu/memory first", env.cpu, env.memory, to.as_str(), env.name), exit::INVALID_INPUT));
        }
        // The blueprint as it will be once apprun.toml says the new backend.
        let mut target_config = s.config.clone();
        if let Some(t) = target_config.services.get_mut(&args.service) {
            t.compute = to;
        }
        let target = synthesize(&target_config, &args.env)?;
        target.ensure_valid()?;
        crate::commands::check::require_clean(ctx, &target_config, &target)?;
        verify_account(&s.clients, &args.env, env.account.as_deref()).await.map_err(Failure::Deploy)?;
        let names = Names::new(&s.config.system.id);
        let old_stack = names.service_stack(&args.env, &args.service, svc.compute);
        let new_stack = names.service_stack(&args.env, &args.service, to);
        if !args.yes {
            if !std::io::stdin().is_terminal() {
                return Err(refuse("not asking: stdin is not a terminal. Pass --yes to go ahead.".into(), exit::REFUSED));
            }
            eprint!(
                "Deploy {new_stack} ({}) beside {old_stack}{}? [y/N] ",
                to.as_str(),
                if args.remove_old { ", then delete the old stack once the new one is healthy" } else { "" }
            );
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                return Err(refuse("declined: nothing was changed".into(), exit::REFUSED));
            }
        }
        let opts = MigrateOptions {
            deploy: options(&s, &args.env, Vec::new(), None, true),
            service: args.service.clone(),
            old_stack: old_stack.clone(),
            health_path: svc.health.path.clone(),
            timeout: Duration::from_secs(args.timeout),
            remove_old: args.remove_old,
        };
        let (report, result) = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::migrate(&s.clients, &target, &opts, observer, interrupt)
        })
        .await;
        if ctx.json() {
            print_json(&json!({ "ok": result.is_ok(), "error": result.as_ref().err().map(|e| e.to_string()), "migration": report }));
            return Ok(match &result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(crate::diagnostics::deploy_exit_code(e)),
            });
        }
        result.map_err(Failure::Deploy)?;
        println!("old  {old_stack}  {}", report.old_url.as_deref().unwrap_or("-"));
        println!("new  {new_stack}  {}", report.new_url.as_deref().unwrap_or("-"));
        eprintln!(
            "Both run image {}. Switch: point your domain's DNS record (CNAME) from the old URL's host to the new one; then set compute = \"{}\" for [services.{}] in apprun.toml so that deploy and the pipeline manage {new_stack}.{}",
            report.image_tag,
            to.as_str(),
            args.service,
            if report.removed_old { format!(" {old_stack} was deleted.") } else { format!(" Remove {old_stack} with --remove-old once traffic has moved.") }
        );
        Ok(ExitCode::SUCCESS)
    })
}
