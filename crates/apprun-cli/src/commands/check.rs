//! `apprun check`: schemas, references, policy rules and cfn-guard rules,
//! for an env's synthesized stacks or for template files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apprun_blueprint::synthesize;
use apprun_check::{
    Context as CheckContext, Finding, GuardRules, Input, Report, Severity, Suppression, check,
    check_env, rules_dir, to_sarif,
};
use apprun_config::Config;
use apprun_template::{Template, parse_template};
use serde_json::json;

use crate::cli::{CheckArgs, OutputFormat, ReportFormat};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, print_json};

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let report = if let Some(env) = &args.env {
        let config = ctx.load_config()?;
        let bp = synthesize(&config, env)?;
        let guard = load_guard(Some(&config), args.rules.as_deref())?;
        env_report(&config, &bp, guard.as_ref())
    } else {
        let guard = load_guard(None, args.rules.as_deref())?;
        check_files(&args.template, guard.as_ref())?
    };
    let format = args.format.unwrap_or(match ctx.format {
        OutputFormat::Json => ReportFormat::Json,
        OutputFormat::Text => ReportFormat::Text,
    });
    print_report(ctx, &report, format);
    Ok(if report.errors() > 0 {
        ExitCode::from(exit::FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `deploy`, `release` and `migrate` run before changing anything: the
/// same check as `apprun check --env`, with the config's guard rules;
/// errors are printed and refuse the command.
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
    print_report(ctx, &report, ReportFormat::Text);
    Err(Failure::Refused {
        message: format!(
            "`apprun check --env {}` found {} errors; nothing was deployed",
            bp.env,
            report.errors()
        ),
        code: exit::FINDINGS,
    })
}

/// Rule id of a pipeline prebuild that needs a program the CodeBuild image
/// lacks.
const BUILD_RULE: &str = "APR-BUILD-001";

/// `apprun check --env`: the env's stacks, plus what the config asks of the
/// pipeline's build image.
fn env_report(
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
    let root = match config.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    apprun_blueprint::pipeline_prebuild_gaps(config, &root)
        .into_iter()
        .map(|gap| {
            let key = format!("services.{}.prebuild", gap.service);
            let suppressed = config
                .policy
                .allow
                .iter()
                .find(|a| a.rule == BUILD_RULE && a.resource == gap.service && a.stack.is_none())
                .map(|a| Suppression {
                    reason: a.reason.clone(),
                });
            Finding {
                rule: BUILD_RULE.into(),
                severity: Severity::Warning,
                file: config.file.display().to_string(),
                stack: None,
                logical_id: gap.service.clone(),
                line: config.locate(&key).map(|l| l.line),
                path: key,
                message: gap.to_string(),
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
            .map_err(|e| Failure::Refused {
                message: format!("cfn-guard rules: {e}"),
                code: exit::INVALID_INPUT,
            }),
    }
}

fn check_files(
    paths: &[std::path::PathBuf],
    guard: Option<&GuardRules>,
) -> Result<Report, Failure> {
    let mut parsed: Vec<(String, String, Template)> = Vec::new();
    let mut parse_errors = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(Failure::io(format!("reading {}", path.display())))?;
        let file = path.display().to_string();
        match parse_template(&text) {
            Ok(t) => parsed.push((file, text, t)),
            Err(e) => parse_errors.push(Finding {
                rule: "E-PARSE".into(),
                severity: Severity::Error,
                file,
                stack: None,
                logical_id: String::new(),
                path: String::new(),
                line: None,
                message: e.to_string(),
                suppressed: None,
            }),
        }
    }
    // Each folder's manifest is read once, however many of its files are given.
    let mut manifests: std::collections::BTreeMap<PathBuf, Option<serde_json::Value>> =
        std::collections::BTreeMap::new();
    let inputs: Vec<Input<'_>> = parsed
        .iter()
        .map(|(file, text, t)| Input {
            file: file.clone(),
            stack: manifest_stack_name(Path::new(file), &mut manifests),
            template: t,
            text: (!text.trim_start().starts_with('{')).then(|| text.clone()),
        })
        .collect();
    let mut report = check(&inputs, &CheckContext::default(), guard);
    report.checked += parse_errors.len();
    report.findings.extend(parse_errors);
    report.sort();
    Ok(report)
}

/// The stack a template file becomes, when the file sits in an `apprun synth`
/// folder: its `apprun.manifest.json` names each file's stack. The names let
/// the permission proof follow what one stack does to another (a pipeline's
/// deploy action, a buildspec reading a stack's outputs). Without a manifest
/// (or with one that does not list the file) the stack stays unnamed.
fn manifest_stack_name(
    file: &Path,
    manifests: &mut std::collections::BTreeMap<PathBuf, Option<serde_json::Value>>,
) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    let dir = file.parent()?.to_path_buf();
    let manifest = manifests
        .entry(dir)
        .or_insert_with_key(|dir| {
            let text = std::fs::read_to_string(dir.join("apprun.manifest.json")).ok()?;
            serde_json::from_str(&text).ok()
        })
        .as_ref()?;
    manifest["envs"]
        .as_array()?
        .iter()
        .filter_map(|env| env["stacks"].as_array())
        .flatten()
        .find(|stack| stack["file"].as_str() == Some(name))
        .and_then(|stack| stack["name"].as_str())
        .map(str::to_owned)
}

fn text_line(f: &Finding) -> String {
    let level = if f.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    let location = match f.line {
        Some(l) => format!("{}:{l}", f.file),
        None => f.file.clone(),
    };
    let what = if f.logical_id.is_empty() {
        f.path.clone()
    } else {
        format!("{} {}", f.logical_id, f.path)
    };
    let silenced = f
        .suppressed
        .as_ref()
        .map(|s| format!("  [silenced: {}]", s.reason))
        .unwrap_or_default();
    format!(
        "{level}[{}] {location}: {what}: {}{silenced}",
        f.rule, f.message
    )
}

pub fn print_report(ctx: &Context, report: &Report, format: ReportFormat) {
    match format {
        ReportFormat::Sarif => print_json(&to_sarif(report, env!("CARGO_PKG_VERSION"))),
        ReportFormat::Json => print_json(&json!({
            "ok": report.errors() == 0,
            "checked": report.checked,
            "errors": report.errors(),
            "warnings": report.warnings(),
            "suppressed": report.suppressed(),
            "findings": report.findings,
        })),
        ReportFormat::Text => {
            for f in &report.findings {
                println!("{}", text_line(f));
            }
        }
    }
    ctx.progress(format!(
        "checked {} templates: {} errors, {} warnings, {} silenced",
        report.checked,
        report.errors(),
        report.warnings(),
        report.suppressed()
    ));
}
