//! `apprun check`: schemas, references, policy rules and cfn-guard rules,
//! for an env's synthesized stacks or for template files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apprun_blueprint::synthesize;
use apprun_check::{
    Context as CheckContext, Finding, GuardRules, Input, Report, Severity, check, to_sarif,
};
use apprun_template::{Template, parse_template};
use serde_json::json;

use crate::checking::{env_report, load_guard, summary, text_line};
use crate::cli::{CheckArgs, OutputFormat, ReportFormat};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, outln, print_json};

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
        ExitCode::from(exit::FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_files(
    paths: &[std::path::PathBuf],
    guard: Option<&GuardRules>,
) -> Result<Report, Failure> {
    let mut parsed: Vec<(String, String, Template)> = Vec::new();
    let mut parse_errors = Vec::new();
    for path in paths {
        // A template that cannot be read is invalid input (2), like a
        // missing config; 3 is for output apprun could not write.
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("--template {}: {e}", path.display())))?;
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
                outln!("{}", text_line(f));
            }
        }
    }
    summary(ctx, report);
}
