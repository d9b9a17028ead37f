//! `apprun check`: schemas, references, policy rules and cfn-guard rules,
//! for an env's synthesized stacks or for template files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apprun_blueprint::synthesize;
use apprun_check::{
    Context as CheckContext, Finding, GuardRules, Report, Severity, TemplateFile, check_templates,
    to_sarif,
};
use apprun_config::{ReadError, SHOWN_CHARS, read_bounded, shorten, shorten_values, utf8_error_at};
use apprun_template::{Template, parse_template};

use crate::checking::{env_report, load_guard, summary, text_line};
use crate::cli::{CheckArgs, OutputFormat, ReportFormat};
use crate::diagnostics::Failure;
use crate::exit;
use crate::output::{Context, outln, print_json};

/// The largest template `check --template` reads: CloudFormation's own
/// limit for a template body in S3 (`TemplateURL`, 1 MB), the larger of its
/// two (a body passed inline may have 51,200 bytes; apprun's deploy goes
/// through S3 beyond that). Larger files are refused unread.
pub const MAX_TEMPLATE_SIZE: u64 = 1024 * 1024;
/// The most `--max-template-size` may allow: 1 GiB, a thousand times
/// CloudFormation's limit. The template model counts a list's items and a
/// string's bytes in 32 bits (apprun-template's packed.rs), which any file
/// under this size stays within.
pub const MAX_TEMPLATE_SIZE_CAP: u64 = 1024 * 1024 * 1024;

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let mut report = if let Some(env) = &args.env {
        let config = ctx.load_config()?;
        let bp = synthesize(&config, env)?;
        let guard = load_guard(Some(&config), args.rules.as_deref())?;
        env_report(&config, &bp, guard.as_ref())
    } else {
        let guard = load_guard(None, args.rules.as_deref())?;
        check_files(
            &args.template,
            guard.as_ref(),
            args.max_template_size.unwrap_or(MAX_TEMPLATE_SIZE),
        )
    };
    // A value repeated in a finding (its message, a logical id, a key of
    // its path) is shown shortened, with its length.
    for f in &mut report.findings {
        if let std::borrow::Cow::Owned(short) = shorten_values(&f.message) {
            f.message = short.into();
        }
        if let std::borrow::Cow::Owned(short) = shorten(&f.logical_id) {
            f.logical_id = short.into();
        }
        if f.path.split('/').any(|segment| segment.len() > SHOWN_CHARS) {
            f.path = f
                .path
                .split('/')
                .map(shorten)
                .collect::<Vec<_>>()
                .join("/")
                .into();
        }
    }
    let format = args.format.unwrap_or(match ctx.format {
        OutputFormat::Json => ReportFormat::Json,
        OutputFormat::Text => ReportFormat::Text,
    });
    print_report(ctx, &report, format);
    Ok(ExitCode::from(exit_code(&report)))
}

/// 0 without errors; 2 when every error is a file that could not be read
/// (the input is invalid, nothing was checked there); 1 when anything
/// else is wrong.
fn exit_code(report: &Report) -> u8 {
    let mut errors = report.findings.iter().filter(|f| f.is_error()).peekable();
    if errors.peek().is_none() {
        0
    } else if errors.all(|f| f.rule == PARSE_RULE) {
        exit::USAGE
    } else {
        exit::FAILED
    }
}

const PARSE_RULE: &str = "E-PARSE";

/// Each file is read and parsed on its own: one that cannot be read, is
/// not UTF-8 or is not YAML/JSON is an `E-PARSE` finding at its location,
/// and every other file is still checked.
fn check_files(paths: &[PathBuf], guard: Option<&GuardRules>, max_size: u64) -> Report {
    let mut parsed: Vec<(String, String, Template)> = Vec::new();
    let mut parse_errors = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match read_template(path, max_size) {
            Ok((text, t)) => parsed.push((file, text, t)),
            Err((line, message)) => parse_errors.push(Finding {
                rule: PARSE_RULE.into(),
                severity: Severity::Error,
                file: file.into(),
                stack: None,
                logical_id: Default::default(),
                path: Default::default(),
                line: line.and_then(|l| u32::try_from(l).ok()),
                message: message.into(),
                suppressed: None,
            }),
        }
    }
    // Each folder's manifest is read once, however many of its files are given.
    let mut manifests: std::collections::BTreeMap<PathBuf, Option<serde_json::Value>> =
        std::collections::BTreeMap::new();
    // The texts and templates are handed over (a template at the size
    // limit is not held twice, and its parser notes become its findings).
    let files: Vec<TemplateFile> = parsed
        .into_iter()
        .map(|(file, text, template)| TemplateFile {
            stack: manifest_stack_name(Path::new(&file), &mut manifests),
            file,
            template,
            text: (!text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('{'))
            .then_some(text),
        })
        .collect();
    let mut report = check_templates(files, &CheckContext::default(), guard);
    report.checked += parse_errors.len();
    report.findings.extend(parse_errors);
    report.sort();
    report
}

/// One template file: its text and what it parses to, or the line (when
/// known) and message of why it cannot be read.
fn read_template(
    path: &Path,
    max_size: u64,
) -> Result<(String, Template), (Option<usize>, String)> {
    let bytes = read_bounded(path, max_size).map_err(|e| match e {
        ReadError::TooLarge { size, max } => (
            None,
            format!(
                "{size} bytes is larger than CloudFormation accepts ({max} bytes, a template in S3); not read"
            ),
        ),
        other => (None, format!("cannot read: {other}")),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column, byte) = utf8_error_at(e.as_bytes(), &e.utf8_error());
        (
            Some(line),
            format!("byte 0x{byte:02X} at line {line} column {column} is not UTF-8; CloudFormation reads templates as UTF-8"),
        )
    })?;
    let template = parse_template(&text).map_err(|e| (e.line(), e.to_string()))?;
    Ok((text, template))
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

/// The `--format json` report.
#[derive(serde::Serialize)]
struct JsonReport<'r> {
    ok: bool,
    checked: usize,
    errors: usize,
    warnings: usize,
    suppressed: usize,
    findings: &'r [Finding],
}

pub fn print_report(ctx: &Context, report: &Report, format: ReportFormat) {
    match format {
        ReportFormat::Sarif => print_json(&to_sarif(report, env!("CARGO_PKG_VERSION"))),
        // Streamed: the fields in the order a `json!` object kept them.
        ReportFormat::Json => print_json(&JsonReport {
            ok: report.errors() == 0,
            checked: report.checked,
            errors: report.errors(),
            warnings: report.warnings(),
            suppressed: report.suppressed(),
            findings: &report.findings,
        }),
        ReportFormat::Text => {
            for f in &report.findings {
                outln!("{}", text_line(f));
            }
        }
    }
    summary(ctx, report);
}
