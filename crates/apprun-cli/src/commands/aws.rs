//! The commands that talk to AWS: deploy, diff, status, destroy.

use std::process::ExitCode;

use apprun_config::Names;
use apprun_deploy::{DeployError, DeployReport, Outcome, StackResult};
use serde_json::{Value, json};

use crate::cli::{DeployArgs, DestroyArgs, DiffArgs, StatusArgs};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, outln, print_json, write_stdout};
use crate::shared::{
    aws_runtime, check_stacks, deferred_json, deferred_services, options, session, unless_stopped,
    with_progress,
};

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

/// A deploy report as data: the JSON result, or the partial result in the
/// JSON error document.
pub(crate) fn report_json(report: &DeployReport, deferred: &[(String, String)]) -> Value {
    let mut doc = json!({
        "account": report.account,
        "stacks": report.stacks,
        "deferred": deferred_json(deferred),
        "api_calls": report.calls.len(),
        "mutating_calls": report.calls.iter().filter(|c| c.is_mutating()).count(),
        "calls": report.calls,
    });
    // After a stop signal: per stack, what was sent and where AWS is.
    if let Some(DeployError::Interrupted { states }) = &report.error {
        doc["interrupted"] = states
            .iter()
            .map(|(stack, state)| json!({ "stack": stack, "state": state }))
            .collect();
    }
    doc
}

fn print_report_text(ctx: &Context, report: &DeployReport, deferred: &[(String, String)]) {
    write_stdout(&result_table(&report.stacks));
    for (stack, how) in deferred {
        ctx.progress(format!("{stack}: {how}"));
    }
    let mutating = report.calls.iter().filter(|c| c.is_mutating()).count();
    ctx.progress(format!(
        "{} API calls, {mutating} of them writes",
        report.calls.len()
    ));
}

/// Prints a finished deploy's report (the table, or the JSON document on
/// success) and turns its error into the failure, report attached.
pub(crate) fn finish_deploy(
    ctx: &Context,
    report: DeployReport,
    deferred: &[(String, String)],
) -> Result<ExitCode, Failure> {
    let doc = report_json(&report, deferred);
    if !ctx.json() {
        print_report_text(ctx, &report, deferred);
    }
    match report.error {
        None => {
            if ctx.json() {
                let mut doc = doc;
                doc["ok"] = json!(true);
                print_json(&doc);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(e) => Err(Failure::deploy(e).with_result(doc)),
    }
}

pub fn deploy(ctx: &Context, args: &DeployArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = unless_stopped(session(ctx, &args.env, &args.aws)).await?;
        check_stacks(&s.bp, &args.stack)?;
        // The same check as `apprun check --env`: nothing is deployed past an error.
        crate::checking::require_clean(ctx, &s.config, &s.bp)?;
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
        finish_deploy(ctx, report, &deferred)
    })
}

pub fn diff(ctx: &Context, args: &DiffArgs) -> Result<ExitCode, Failure> {
    // It changes nothing (a change set it creates is deleted right after it
    // is read; a signal between the two leaves that one unexecuted change
    // set): a stop signal ends it at once, with exit 130.
    aws_runtime()?.block_on(unless_stopped(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        check_stacks(&s.bp, &args.stack)?;
        let opts = options(
            &s,
            &args.env,
            args.stack.clone(),
            args.image_tag.clone(),
            true,
        );
        let results = apprun_deploy::diff(&s.clients, &s.bp, &opts).await?;
        let pending = results.iter().any(|r| r.outcome != Outcome::Unchanged);
        if ctx.json() {
            print_json(&json!({ "ok": true, "changes": pending, "stacks": results }));
        } else {
            write_stdout(&crate::views::diff_text(&results));
        }
        Ok(if pending && args.exit_code {
            ExitCode::from(exit::CHANGES)
        } else {
            ExitCode::SUCCESS
        })
    }))
}

pub fn status(ctx: &Context, args: &StatusArgs) -> Result<ExitCode, Failure> {
    // Read-only: a stop signal ends it at once, with exit 130.
    aws_runtime()?.block_on(unless_stopped(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let lines = apprun_deploy::status(&s.clients, &s.bp).await?;
        let pipeline = crate::commands::pipeline::status_section(&s, &args.env).await;
        if ctx.json() {
            print_json(&json!({
                "ok": true,
                "env": args.env,
                "stacks": lines,
                "pipeline": pipeline.json,
            }));
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{:<44} {:<28} {:<26} DETAIL",
            "STACK",
            "STATUS",
            "LAST UPDATE"
        );
        for l in &lines {
            let detail = match (&l.url, &l.image_tag, &l.reason) {
                (Some(url), Some(tag), _) => format!("{url}  (image {tag})"),
                (Some(url), None, _) => url.clone(),
                (None, _, Some(reason)) => reason.clone(),
                _ => String::new(),
            };
            outln!(
                "{:<44} {:<28} {:<26} {detail}",
                l.stack,
                l.status.as_ref().map_or("not deployed", |s| s.as_str()),
                l.last_updated.as_deref().unwrap_or("-")
            );
        }
        write_stdout(&pipeline.text);
        Ok(ExitCode::SUCCESS)
    }))
}

pub fn destroy(ctx: &Context, args: &DestroyArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = unless_stopped(session(ctx, &args.env, &args.aws)).await?;
        let env = s.config.env(&args.env)?;
        unless_stopped(async {
            apprun_deploy::verify_account(&s.clients, &args.env, env.account.as_deref())
                .await
                .map_err(Failure::deploy)
        })
        .await?;
        let bucket = Names::new(&s.config.system.id).artifact_bucket(&args.env);
        let report = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::destroy(
                &s.clients,
                &s.bp,
                &s.config.system.id,
                &bucket,
                args.yes,
                observer,
                interrupt,
            )
        })
        .await?;
        let doc = json!({ "report": report });
        if !ctx.json() {
            write_stdout(&destroy_text(&report));
        }
        if report.failed.is_empty() {
            if ctx.json() {
                print_json(&json!({ "ok": true, "report": report }));
            }
            return Ok(ExitCode::SUCCESS);
        }
        let error = DeployError::DestroyIncomplete {
            env: args.env.clone(),
            failed: report.failed.len(),
            total: report.failed.len() + report.deleted.len() + report.not_attempted.len(),
        };
        Err(Failure::deploy(error).with_result(doc))
    })
}

fn destroy_text(report: &apprun_deploy::DestroyReport) -> String {
    let mut out = String::new();
    let mut line = |word: &str, what: &str| out.push_str(&format!("{word:<8} {what}\n"));
    for d in &report.deleted {
        line("deleted", d);
    }
    for a in &report.absent {
        line("absent", a);
    }
    for (k, why) in &report.kept {
        line("kept", &format!("{k}: {why}"));
    }
    for r in &report.retained {
        line("retained", r);
    }
    for (f, why) in &report.failed {
        line("FAILED", &format!("{f}: {why}"));
    }
    for n in &report.not_attempted {
        line(
            "left",
            &format!("{n} (a stack that imports from it could not be deleted)"),
        );
    }
    out
}
