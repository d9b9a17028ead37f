//! Running `apprun check` for other commands: `deploy`, `release` and
//! `migrate` check the env first and stop on errors, with the same rules and
//! the same finding lines as the `check` command.

use std::path::Path;

use apprun_check::{Finding, GuardRules, Report, Severity, Suppression, check_env, rules_dir};
use apprun_config::Config;

use crate::diagnostics::Failure;
use crate::output::{Context, escape_controls};

/// What `deploy`, `release` and `migrate` run before changing anything: the
/// same check as `apprun check --env`, with the config's guard rules;
/// errors refuse the command, and the failure carries the findings (to
/// stderr in text mode, into the JSON error document otherwise).
pub fn require_clean(
    ctx: &Context,
    config: &Config,
    bp: &apprun_blueprint::EnvBlueprint,
) -> Result<(), Failure> {
    let guard = load_guard(Some(config), None)?;
    let report = env_report(config, bp, guard.as_ref());
    // Warnings about the config itself (a prebuild the pipeline cannot run)
    // are shown even when nothing stops the command.
    for f in report
        .findings
        .iter()
        .filter(|f| f.rule == BUILD_RULE && f.suppressed.is_none())
    {
        ctx.progress(text_line(f));
    }
    if report.errors() == 0 {
        return Ok(());
    }
    Err(Failure::CheckFailed {
        env: bp.env.clone(),
        report,
    })
}

/// The findings of a check that stopped a command, on stderr (stdout is
/// for the command's own result).
pub fn print_findings_stderr(ctx: &Context, report: &Report) {
    for f in &report.findings {
        eprintln!("{}", text_line(f));
    }
    summary(ctx, report);
}

/// Rule id of a pipeline prebuild that needs a program the CodeBuild image
/// lacks.
const BUILD_RULE: &str = "APR-BUILD-001";

/// `apprun check --env`: the env's stacks, plus what the config asks of the
/// pipeline's build image.
pub(crate) fn env_report(
    config: &Config,
    bp: &apprun_blueprint::EnvBlueprint,
    guard: Option<&GuardRules>,
) -> Report {
    let mut report = check_env(config, bp, guard);
    report.findings.extend(build_findings(config));
    report.sort();
    report
}

/// APR-BUILD-001: one warning per program a service's pipeline prebuild
/// runs that the CodeBuild image does not provide, at the `prebuild` key.
/// `[[policy.allow]]` silences it with `resource` = the service name.
fn build_findings(config: &Config) -> Vec<Finding> {
    // The pipeline runs the prebuild at the repository root, where
    // apprun.toml is.
    let root = crate::shared::config_dir(config);
    apprun_blueprint::pipeline_prebuild_gaps(config, &root)
        .into_iter()
        .map(|gap| {
            let key = format!("services.{}.prebuild", gap.service);
            let suppressed = config
                .policy
                .allow
                .iter()
                .find(|a| a.rule == BUILD_RULE && a.resource == gap.service && a.stack.is_none())
                .map(|a| {
                    Box::new(Suppression {
                        reason: a.reason.clone(),
                    })
                });
            Finding {
                rule: BUILD_RULE.into(),
                severity: Severity::Warning,
                file: config.file.display().to_string().into(),
                stack: None,
                logical_id: gap.service.as_str().into(),
                line: config.locate(&key).and_then(|l| u32::try_from(l.line).ok()),
                path: key.into(),
                message: gap.to_string().into(),
                suppressed,
            }
        })
        .collect()
}

pub fn load_guard(
    config: Option<&Config>,
    cli: Option<&Path>,
) -> Result<Option<GuardRules>, Failure> {
    match rules_dir(config, cli) {
        None => Ok(None),
        Some(dir) => GuardRules::load(&dir)
            .map(Some)
            .map_err(|e| Failure::Usage(format!("cfn-guard rules: {e}"))),
    }
}

pub(crate) fn text_line(f: &Finding) -> String {
    let level = if f.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    let location = match f.line {
        Some(l) => format!("{}:{l}", f.file),
        None => f.file.to_string(),
    };
    let what = if f.logical_id.is_empty() {
        f.path.to_string()
    } else {
        format!("{} {}", f.logical_id, f.path)
    };
    let silenced = f
        .suppressed
        .as_ref()
        .map(|s| format!("  [silenced: {}]", s.reason))
        .unwrap_or_default();
    // File names, paths and messages may carry a template's or a user's
    // text: escaped, so that one line stays one line of plain text.
    let line = format!(
        "{level}[{}] {location}: {what}: {}{silenced}",
        f.rule, f.message
    );
    escape_controls(&line).into_owned()
}

pub(crate) fn summary(ctx: &Context, report: &Report) {
    ctx.progress(format!(
        "checked {} templates: {} errors, {} warnings, {} silenced",
        report.checked,
        report.errors(),
        report.warnings(),
        report.suppressed()
    ));
}
