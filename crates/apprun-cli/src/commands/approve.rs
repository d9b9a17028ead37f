//! `apprun approve`: answers the pipeline's pending manual approval after
//! showing what it would release and what its deploy stage would change.

use std::process::ExitCode;

use apprun_blueprint::StackKind;
use apprun_deploy::{ApprovalSummary, Outcome, PendingApproval, StackResult};
use serde_json::{Value, json};

use crate::cli::ApproveArgs;
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::{
    Answer, NOT_ASKED, Session, aws_runtime, confirm, options, session, unless_stopped,
};

/// What the deploy stage would change, or why that is not known.
type Preview = Result<Vec<StackResult>, String>;

pub fn run(ctx: &Context, args: &ApproveArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let ops = s.clients.ops();
        // Reads only (the preview's change set is deleted right after it is
        // read, as `diff`'s): a stop signal ends them at once, with 130.
        let (pending, summary, preview) = unless_stopped(async {
            let (pending, summary) = apprun_deploy::pending_approval(&ops, &s.bp).await?;
            let preview = preview(&s, &args.env, summary.image_tag.as_deref()).await;
            Ok((pending, summary, preview))
        })
        .await?;
        // What is being answered, before the question: on stderr, with the
        // question, even with --quiet (a question always shows).
        eprint!(
            "{}{}",
            summary_text(&pending, &summary),
            changes_text(summary.image_tag.as_deref(), &preview)
        );
        let changes = json!({ "changes": changes_json(&preview) });
        answer(ctx, args, &ops, &pending, &summary, &changes)
            .await
            .map_err(|f| f.with_result(changes))
    })
}

/// Asks (unless `--yes`), answers, and reports the answer.
async fn answer(
    ctx: &Context,
    args: &ApproveArgs,
    ops: &apprun_deploy::OpsClients,
    pending: &PendingApproval,
    summary: &ApprovalSummary,
    changes: &Value,
) -> Result<ExitCode, Failure> {
    let verb = if args.reject { "reject" } else { "approve" };
    if !args.yes {
        let question = format!(
            "{} the release of {} to {}?",
            capitalized(verb),
            summary.image_tag.as_deref().unwrap_or("this run"),
            args.env
        );
        match confirm(&question) {
            Answer::Yes => {}
            Answer::No => {
                return Err(Failure::Refused(format!(
                    "not answered: the approval in {} still waits",
                    pending.pipeline
                )));
            }
            Answer::NotAsked => return Err(Failure::Refused(NOT_ASKED.into())),
        }
    }
    let answer = if args.reject { "rejected" } else { "approved" };
    let comment = args
        .comment
        .clone()
        .unwrap_or_else(|| format!("{answer} with apprun"));
    apprun_deploy::answer_approval(ops, pending, &args.env, !args.reject, &comment).await?;
    if ctx.json() {
        print_json(&json!({
            "ok": true,
            "env": args.env,
            "answer": answer,
            "comment": comment,
            "approval": pending,
            "release": summary,
            "changes": changes["changes"],
        }));
    } else if args.reject {
        outln!(
            "rejected: the run of {} stops before its deploy stage",
            pending.pipeline
        );
    } else {
        outln!(
            "approved: {} goes on to deploy {} to {}",
            pending.pipeline,
            summary.image_tag.as_deref().unwrap_or("the run's image"),
            args.env
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The deploy stage's changes: the env's service stacks diffed at the run's
/// image tag by apprun's read-only diff (update change sets are created,
/// read and deleted; new stacks list their resources). Its error (e.g. a
/// missing CloudFormation permission) is shown, not fatal: the approval
/// can be answered without it.
async fn preview(s: &Session, env: &str, image_tag: Option<&str>) -> Preview {
    let Some(tag) = image_tag else {
        return Err("the run names no source commit, so its image tag is unknown".into());
    };
    let services: Vec<String> =
        s.bp.stacks
            .iter()
            .filter(|st| matches!(st.kind, StackKind::Service { .. }))
            .map(|st| st.name.clone())
            .collect();
    // An empty selection would mean every stack of the env.
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let opts = options(s, env, services, Some(tag.to_owned()), true);
    apprun_deploy::diff(&s.clients, &s.bp, &opts)
        .await
        .map_err(|e| e.to_string())
}

/// The preview under its heading, or why there is none, in one line.
fn changes_text(image_tag: Option<&str>, preview: &Preview) -> String {
    match preview {
        Ok(results) if results.is_empty() => "changes: the env has no service stack\n".into(),
        Ok(results) => format!(
            "changes of the deploy stage (service stacks at image {}):\n{}",
            image_tag.unwrap_or("-"),
            crate::views::diff_text(results)
        ),
        Err(e) => format!(
            "changes: could not be computed ({}); the question stands without them\n",
            e.replace('\n', " ")
        ),
    }
}

/// The preview as JSON: whether anything would change and each stack's
/// changes, or `{"error": …}`.
fn changes_json(preview: &Preview) -> Value {
    match preview {
        Ok(results) => json!({
            "pending": results.iter().any(|r| r.outcome != Outcome::Unchanged),
            "stacks": results,
        }),
        Err(e) => json!({ "error": e }),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The approval and the release it gates, one fact a line.
fn summary_text(p: &PendingApproval, s: &ApprovalSummary) -> String {
    let mut out = format!(
        "pipeline {} waits at {}/{}{}\n",
        p.pipeline,
        p.stage,
        p.action,
        p.since
            .as_deref()
            .map(|t| format!(" since {t}"))
            .unwrap_or_default()
    );
    let mut line = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push_str(&format!("  {key:<8} {v}\n"));
        }
    };
    line("run", p.execution_id.as_deref());
    line("commit", s.commit.as_deref());
    line("message", s.message.as_deref());
    line("image", s.image_tag.as_deref());
    line("url", s.revision_url.as_deref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_commit_message_and_image() {
        let p = PendingApproval {
            pipeline: "apprunner-nuxt3-prod".into(),
            stage: "Approval".into(),
            action: "Approval".into(),
            execution_id: Some("0b1e-run".into()),
            since: Some("2026-11-26T09:00:00Z".into()),
            token: "secret".into(),
        };
        let s = ApprovalSummary {
            commit: Some("3f2a1bc9d8e7".into()),
            message: Some("Fix the footer".into()),
            image_tag: Some("3f2a1bc".into()),
            revision_url: None,
        };
        let text = summary_text(&p, &s);
        assert_eq!(
            text,
            "pipeline apprunner-nuxt3-prod waits at Approval/Approval since 2026-11-26T09:00:00Z\n  run      0b1e-run\n  commit   3f2a1bc9d8e7\n  message  Fix the footer\n  image    3f2a1bc\n"
        );
        assert!(!text.contains("secret"), "the token is never shown");
        assert_eq!(capitalized("reject"), "Reject");
    }
}
