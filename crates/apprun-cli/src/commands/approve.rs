//! `apprun approve`: answers the pipeline's pending manual approval after
//! showing what it would release.

use std::process::ExitCode;

use apprun_deploy::{ApprovalSummary, PendingApproval};
use serde_json::json;

use crate::cli::ApproveArgs;
use crate::commands::pipeline::{ops_clients, ops_failure};
use crate::diagnostics::Failure;
use crate::output::{Context, outln, print_json};
use crate::shared::{Answer, NOT_ASKED, aws_runtime, confirm, session};

pub fn run(ctx: &Context, args: &ApproveArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let ops = ops_clients(&s, &args.aws).await;
        let (pending, summary) = apprun_deploy::pending_approval(&ops, &s.bp)
            .await
            .map_err(ops_failure)?;
        let verb = if args.reject { "reject" } else { "approve" };
        // What is being answered, before the question: on stderr, with the
        // question, even with --quiet (a question always shows).
        eprint!("{}", summary_text(&pending, &summary));
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
        apprun_deploy::answer_approval(&ops, &pending, &args.env, !args.reject, &comment)
            .await
            .map_err(ops_failure)?;
        if ctx.json() {
            print_json(&json!({
                "ok": true,
                "env": args.env,
                "answer": answer,
                "comment": comment,
                "approval": pending,
                "release": summary,
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
    })
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
