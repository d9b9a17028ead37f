//! `apprun check`: the model's own validation of an env's stacks or of
//! template files.

use std::path::Path;
use std::process::ExitCode;

use apprun_blueprint::synthesize;
use apprun_template::{Finding, Severity, parse_template, validate};
use serde_json::json;

use crate::cli::CheckArgs;
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, print_json};

/// A finding with where it came from.
struct Located {
    file: String,
    stack: Option<String>,
    finding: Finding,
}

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let mut found = Vec::new();
    let mut checked = 0usize;
    if let Some(env) = &args.env {
        let config = ctx.load_config()?;
        let bp = synthesize(&config, env)?;
        checked = bp.stacks.len();
        for (stack, finding) in bp.findings() {
            found.push(Located {
                file: format!("{}.yaml", stack.kind.file_stem()),
                stack: Some(stack.name.clone()),
                finding,
            });
        }
    } else {
        for path in &args.template {
            checked += 1;
            found.extend(check_file(path)?);
        }
    }
    let errors = found
        .iter()
        .filter(|l| l.finding.severity == Severity::Error)
        .count();
    if ctx.json() {
        print_json(&json!({
            "ok": errors == 0,
            "checked": checked,
            "errors": errors,
            "findings": found.iter().map(|l| json!({
                "file": l.file,
                "stack": l.stack,
                "code": l.finding.code,
                "severity": if l.finding.severity == Severity::Error { "error" } else { "warning" },
                "logical_id": l.finding.logical_id,
                "path": l.finding.path,
                "message": l.finding.message,
            })).collect::<Vec<_>>(),
        }));
    } else {
        for l in &found {
            let level = if l.finding.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            println!(
                "{level}[{}] {}: {}: {}",
                l.finding.code, l.file, l.finding.path, l.finding.message
            );
        }
        ctx.progress(format!(
            "checked {checked} templates: {errors} errors, {} warnings",
            found.len() - errors
        ));
    }
    Ok(if errors > 0 {
        ExitCode::from(exit::FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_file(path: &Path) -> Result<Vec<Located>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(Failure::io(format!("reading {}", path.display())))?;
    let file = path.display().to_string();
    Ok(match parse_template(&text) {
        Ok(template) => validate(&template)
            .into_iter()
            .map(|finding| Located {
                file: file.clone(),
                stack: None,
                finding,
            })
            .collect(),
        Err(e) => vec![Located {
            file: file.clone(),
            stack: None,
            finding: Finding {
                severity: Severity::Error,
                code: "E-PARSE",
                logical_id: String::new(),
                path: String::new(),
                message: e.to_string(),
            },
        }],
    })
}
