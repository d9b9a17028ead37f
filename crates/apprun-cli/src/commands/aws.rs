//! The commands that talk to AWS: deploy, diff, status, destroy.

use std::process::ExitCode;

use apprun_blueprint::StackKind;
use apprun_config::Names;
use apprun_deploy::{
    DeployError, DeployReport, DomainPlan, DomainReport, Outcome, PriorDomains, StackResult,
};
use serde_json::{Value, json};

use crate::cli::{DeployArgs, DestroyArgs, DiffArgs, StatusArgs};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, outln, print_json, write_stdout};
use crate::shared::{
    Answer, NOT_ASKED, Session, aws_runtime, check_stacks, confirm, deferred_json,
    deferred_services, options, session, unless_stopped, with_progress,
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
/// success), with the custom domains' report when they were reconciled
/// (`"domains"` in the JSON document), and turns its error into the
/// failure, report attached.
fn finish_deploy(
    ctx: &Context,
    report: DeployReport,
    deferred: &[(String, String)],
    domains: Option<&DomainReport>,
) -> Result<ExitCode, Failure> {
    let mut doc = report_json(&report, deferred);
    if let Some(d) = domains {
        doc["domains"] = json!(d);
    }
    if !ctx.json() {
        print_report_text(ctx, &report, deferred);
        // The domains' status and records (exactly, when the user creates
        // them at their DNS provider) are a result: stdout, after the table.
        let lines = domains.map(DomainReport::lines).unwrap_or_default();
        if !lines.is_empty() {
            write_stdout(&format!("{}\n", lines.join("\n")));
        }
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
        // Custom domains: which one apprun associated (the service stacks'
        // `CustomDomain` outputs before the deploy changes them), and the
        // writes planned for the services deployed already, reviewed
        // before any stack is written.
        let step = if includes_services(&s.bp, &args.stack) {
            Some(unless_stopped(DomainStep::review(ctx, &s, &args.stack, args.yes)).await?)
        } else {
            None
        };
        let mut report = with_progress(ctx, |observer, interrupt| {
            apprun_deploy::deploy(&s.clients, &s.bp, &opts, observer, interrupt)
        })
        .await;
        let deferred = deferred_services(&s, &args.env, &report);
        // Custom domains (App Runner; CloudFormation has no resource for
        // them): once the stacks are deployed, when the deploy included the
        // service stacks; its calls count in the report like the stacks'.
        let mut domains = None;
        if let Some(step) = step.filter(|_| report.error.is_none())
            && !crate::shared::stop_requested()
        {
            match step.run(ctx, &s).await {
                Ok(d) => domains = Some(d),
                Err(e) => report.error = Some(e),
            }
            report.calls = s.clients.calls.calls();
        }
        finish_deploy(ctx, report, &deferred, domains.as_ref())
    })
}

/// Whether `--stack` (empty: every stack) includes a service stack.
fn includes_services(bp: &apprun_blueprint::EnvBlueprint, only: &[String]) -> bool {
    bp.stacks.iter().any(|st| {
        matches!(st.kind, StackKind::Service { .. })
            && (only.is_empty()
                || only
                    .iter()
                    .any(|w| *w == st.name || *w == st.kind.file_stem()))
    })
}

/// The custom domain step of `deploy` and `release`. Before the stacks:
/// [`DomainStep::review`] reads which domain apprun associated and plans
/// (reading only) the writes for the services deployed already, shows them
/// and asks (unless `--yes`; without a terminal it refuses as the stacks'
/// review does), so that a "no" leaves everything as it was. After the
/// stacks: [`DomainStep::run`] plans again (a service created by this
/// deploy has a plan only now), asks again only when that plan differs
/// from the one approved, and writes exactly it. Services with no domain in
/// the config and none associated by apprun are not touched: no call.
pub(crate) struct DomainStep {
    prior: PriorDomains,
    yes: bool,
    /// The review approved before the stacks (empty: nothing to write).
    approved: String,
}

impl DomainStep {
    pub(crate) async fn review(
        ctx: &Context,
        s: &Session,
        only: &[String],
        yes: bool,
    ) -> Result<DomainStep, Failure> {
        let prior = apprun_deploy::prior_domains(&s.clients, &s.bp, only).await?;
        let plan = plan_for(s, &prior).await?;
        let approved = if plan.writes() {
            let review = review_text(&plan);
            approve(ctx, &review, yes, ask).map_err(Failure::deploy)?;
            review
        } else {
            String::new()
        };
        Ok(DomainStep {
            prior,
            yes,
            approved,
        })
    }

    pub(crate) async fn run(self, ctx: &Context, s: &Session) -> Result<DomainReport, DeployError> {
        let targets =
            apprun_deploy::domain_targets(&s.clients, &s.config, &s.bp, &self.prior).await?;
        if targets.is_empty() {
            return Ok(DomainReport::default());
        }
        let plan = apprun_deploy::plan_domains(&s.clients, &targets).await?;
        if plan.writes() {
            let review = review_text(&plan);
            if review != self.approved {
                approve(ctx, &review, self.yes, ask)?;
            }
        }
        apprun_deploy::apply_domains_until(
            &s.clients,
            &targets,
            &plan,
            crate::shared::interrupt_watch(),
        )
        .await
    }
}

/// The domain plan of the services `prior` covers, reading only.
async fn plan_for(s: &Session, prior: &PriorDomains) -> Result<DomainPlan, DeployError> {
    let targets = apprun_deploy::domain_targets(&s.clients, &s.config, &s.bp, prior).await?;
    if targets.is_empty() {
        return Ok(DomainPlan::default());
    }
    apprun_deploy::plan_domains(&s.clients, &targets).await
}

fn ask() -> Answer {
    confirm("Go ahead with these custom domain changes?")
}

/// Shows the review of the planned domain writes and asks once, like the
/// stacks' review: with `--yes` it is shown as progress and not asked;
/// "no", or no terminal to ask on, is [`DeployError::Declined`] with
/// nothing written.
fn approve(
    ctx: &Context,
    review: &str,
    yes: bool,
    ask: impl FnOnce() -> Answer,
) -> Result<(), DeployError> {
    if yes {
        ctx.progress(review.trim_end());
        return Ok(());
    }
    eprint!("{review}");
    match ask() {
        Answer::Yes => Ok(()),
        Answer::No => Err(declined()),
        Answer::NotAsked => {
            eprintln!("{NOT_ASKED}");
            Err(declined())
        }
    }
}

/// The review of the domain writes, as shown before the question.
fn review_text(plan: &DomainPlan) -> String {
    let mut out =
        String::from("Custom domains (App Runner and Route 53, written after the stacks):\n");
    for line in plan.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

fn declined() -> DeployError {
    DeployError::Declined(
        "declined: no custom domain or DNS record was changed (asked before any stack is deployed; asked after the stacks only for a service this deploy created)".into(),
    )
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
        // The custom domain writes a deploy would make now, read only.
        let domains = if includes_services(&s.bp, &args.stack) {
            let prior = apprun_deploy::prior_domains(&s.clients, &s.bp, &args.stack).await?;
            plan_for(&s, &prior).await?
        } else {
            DomainPlan::default()
        };
        let pending = results.iter().any(|r| r.outcome != Outcome::Unchanged) || domains.writes();
        if ctx.json() {
            print_json(&json!({
                "ok": true,
                "changes": pending,
                "stacks": results,
                "domains": domains,
            }));
        } else {
            write_stdout(&crate::views::diff_text(&results));
            let lines = domains.lines();
            if !lines.is_empty() {
                write_stdout(&format!(
                    "\nCustom domains (after the stacks):\n{}\n",
                    lines
                        .iter()
                        .map(|l| format!("  {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
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
        // Per service: its custom domains (status, certificate) and scaling bounds.
        let services = apprun_deploy::service_status(&s.clients, &s.config, &s.bp).await?;
        let pipeline = crate::commands::pipeline::status_section(&s, &args.env).await;
        let jobs = crate::commands::job::status_section(&s).await;
        if ctx.json() {
            print_json(&json!({
                "ok": true,
                "env": args.env,
                "stacks": lines,
                "services": services,
                "jobs": jobs.json,
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
                // Job stacks: no URL, an image.
                (None, Some(tag), None) => format!("image {tag}"),
                _ => String::new(),
            };
            outln!(
                "{:<44} {:<28} {:<26} {detail}",
                l.stack,
                l.status.as_ref().map_or("not deployed", |s| s.as_str()),
                l.last_updated.as_deref().unwrap_or("-")
            );
        }
        for line in apprun_deploy::service_status_lines(&services) {
            outln!("{line}");
        }
        write_stdout(&jobs.text);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{ColorChoice, OutputFormat};

    fn ctx() -> Context {
        Context::new(OutputFormat::Text, None, true, ColorChoice::Never)
    }

    #[test]
    fn domain_writes_need_a_yes_or_a_yes_answer() {
        let review = "Custom domains (App Runner and Route 53, written after the stacks):\n  web: associate app.example.com (hosted zone Z1)\n";
        // --yes: not asked.
        let mut asked = false;
        approve(&ctx(), review, true, || {
            asked = true;
            Answer::No
        })
        .unwrap();
        assert!(!asked);
        // Asked and answered yes.
        approve(&ctx(), review, false, || Answer::Yes).unwrap();
        // No terminal and no --yes: refused, as the stacks' review refuses.
        let err = approve(&ctx(), review, false, || Answer::NotAsked).unwrap_err();
        assert!(matches!(err, DeployError::Declined(_)), "{err}");
        assert!(
            err.to_string()
                .contains("no custom domain or DNS record was changed"),
            "{err}"
        );
        let err = approve(&ctx(), review, false, || Answer::No).unwrap_err();
        assert!(matches!(err, DeployError::Declined(_)), "{err}");
    }

    #[test]
    fn the_review_lists_every_planned_write() {
        assert_eq!(
            review_text(&DomainPlan::default()),
            "Custom domains (App Runner and Route 53, written after the stacks):\n"
        );
    }
}
