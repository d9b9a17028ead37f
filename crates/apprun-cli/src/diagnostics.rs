//! Turning library errors into diagnostics a person (or a machine) can act
//! on, and the one mapping from kinds of failure to exit codes.

use std::process::ExitCode;

use apprun_config::{ConfigError, LoadError};
use apprun_deploy::DeployError;
use apprun_image::ImageError;
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde_json::{Map, Value, json};

use crate::exit;
use crate::output::{
    Context, escape_controls, escape_controls_multiline, needs_escape, print_json,
};

/// Everything a command can fail with, by kind. The exit code follows from
/// the kind alone ([`Failure::exit_code`]); no call site chooses one.
#[derive(Debug)]
pub enum Failure {
    /// apprun.toml is missing or invalid.
    Config(LoadError),
    /// The blueprint of a valid config is inconsistent (an apprun bug).
    Blueprint(apprun_blueprint::BlueprintError),
    /// The command line names something that does not exist or cannot be
    /// used (a service, a stack, a folder, a registry).
    Usage(String),
    /// Reading or writing a local file failed.
    Io { what: String, error: std::io::Error },
    /// `apprun check` found errors before a command that changes AWS.
    CheckFailed {
        env: String,
        report: apprun_check::Report,
    },
    /// Building or pushing the image failed, or its tools are missing.
    Image {
        error: ImageError,
        /// What stands now and how to continue, when something was deployed.
        state: Option<String>,
    },
    /// The service run by `apprun local` exited or never became healthy.
    Service(String),
    /// Refused for safety before any change (a question not asked or
    /// answered no, a service already on the backend asked for).
    Refused(String),
    /// Ctrl-C before the command finished.
    Interrupted(String),
    /// A job ran and its command exited with a code other than 0.
    JobFailed(String),
    /// An AWS-side failure, with what to do next when the error alone does
    /// not say it.
    Deploy {
        error: Box<DeployError>,
        next: Option<String>,
    },
    /// A failure whose partial result (a deploy report, a release report)
    /// belongs in the JSON error document; text mode printed it already.
    WithResult {
        failure: Box<Failure>,
        result: Map<String, Value>,
    },
}

impl Failure {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
        let what = what.into();
        move |error| Failure::Io { what, error }
    }

    pub fn deploy(error: DeployError) -> Failure {
        Failure::Deploy {
            error: Box::new(error),
            next: None,
        }
    }

    pub fn image(error: ImageError) -> Failure {
        Failure::Image { error, state: None }
    }

    /// Adds the command's partial result to the JSON error document.
    pub fn with_result(self, result: Value) -> Failure {
        match result {
            Value::Object(result) => Failure::WithResult {
                failure: Box::new(self),
                result,
            },
            _ => self,
        }
    }

    /// The one mapping from kinds of failure to exit codes (the table of
    /// `apprun --help` and the README).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Blueprint(_) | Failure::Usage(_) => exit::USAGE,
            Failure::Io { .. } => exit::IO,
            Failure::CheckFailed { .. } | Failure::Service(_) => exit::FAILED,
            Failure::Image { error, .. } => image_exit_code(error),
            Failure::Refused(_) => exit::REFUSED,
            Failure::Interrupted(_) => exit::INTERRUPTED,
            Failure::JobFailed(_) => exit::JOB_FAILED,
            Failure::Deploy { error, .. } => deploy_exit_code(error),
            Failure::WithResult { failure, .. } => failure.exit_code(),
        }
    }

    /// The kind as JSON documents name it: the name of its exit code in the
    /// table, so that a script can switch on either.
    pub fn kind(&self) -> &'static str {
        kind_name(self.exit_code())
    }

    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Config(e @ LoadError::Invalid { .. }) => format!("invalid config: {e}"),
            Failure::Config(e) => e.to_string(),
            Failure::Blueprint(e) => {
                format!("internal error in the blueprint (please report): {e}")
            }
            Failure::Usage(m) | Failure::Service(m) | Failure::Refused(m) => m.clone(),
            Failure::Interrupted(m) | Failure::JobFailed(m) => m.clone(),
            Failure::Io { what, error } => format!("{what}: {error}"),
            Failure::CheckFailed { env, report } => format!(
                "`apprun check --env {env}` found {} errors; nothing was deployed",
                report.errors()
            ),
            Failure::Image { error, state } => with_next(error.to_string(), state.as_deref()),
            Failure::Deploy { error, next } => with_next(error.to_string(), next.as_deref()),
            Failure::WithResult { failure, .. } => failure.message(),
        }
    }

    /// The JSON error document: kind, exit code, message, and what the
    /// failure carries (config diagnostics, check findings, partial results).
    fn json(&self) -> Value {
        let mut doc = json!({
            "ok": false,
            "kind": self.kind(),
            "exit_code": self.exit_code(),
            "error": self.message(),
        });
        self.add_details(&mut doc);
        doc
    }

    fn add_details(&self, doc: &mut Value) {
        match self {
            Failure::Config(LoadError::Invalid { errors, .. }) => {
                doc["diagnostics"] = errors.iter().map(config_json).collect();
            }
            Failure::CheckFailed { report, .. } => {
                doc["errors"] = json!(report.errors());
                doc["warnings"] = json!(report.warnings());
                doc["findings"] = json!(report.findings);
            }
            Failure::Deploy {
                next: Some(next), ..
            }
            | Failure::Image {
                state: Some(next), ..
            } => {
                doc["next"] = json!(next);
            }
            Failure::WithResult { failure, result } => {
                failure.add_details(doc);
                if let Value::Object(map) = doc {
                    for (k, v) in result {
                        map.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            _ => {}
        }
    }
}

fn with_next(message: String, next: Option<&str>) -> String {
    match next {
        Some(next) => format!("{message}\n{next}"),
        None => message,
    }
}

fn config_json(e: &ConfigError) -> Value {
    json!({
        "file": e.file.display().to_string(),
        "line": e.line,
        "column": e.column,
        "key": e.key,
        "message": e.message,
    })
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Config(e)
    }
}

impl From<apprun_blueprint::BlueprintError> for Failure {
    fn from(e: apprun_blueprint::BlueprintError) -> Self {
        match e {
            apprun_blueprint::BlueprintError::Config(c) => Failure::Config(c),
            other => Failure::Blueprint(other),
        }
    }
}

impl From<DeployError> for Failure {
    fn from(e: DeployError) -> Self {
        Failure::deploy(e)
    }
}

impl From<ImageError> for Failure {
    fn from(e: ImageError) -> Self {
        Failure::image(e)
    }
}

/// Colour and unicode only when asked for; never wrap lines for a pipe, so
/// that `file:line:` stays greppable.
pub fn install_hook(color: bool) {
    let _ = miette::set_hook(Box::new(move |_| {
        let opts = miette::MietteHandlerOpts::new()
            .color(color)
            .unicode(color)
            .terminal_links(false)
            .context_lines(1);
        let opts = if color {
            opts
        } else {
            opts.wrap_lines(false).width(usize::MAX / 4)
        };
        Box::new(opts.build())
    }));
}

/// One config error with its source snippet (none when its line is too
/// long to show: the message says what is wrong).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{error}")]
struct ConfigDiagnostic {
    error: ConfigError,
    #[source_code]
    source_code: Option<NamedSource<SharedText>>,
    #[label("{}", error.key)]
    span: Option<SourceSpan>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{headline}")]
#[diagnostic(help("nothing was written or deployed; fix the file and run the command again"))]
struct ConfigReport {
    headline: String,
    #[related]
    errors: Vec<ConfigDiagnostic>,
}

/// The config text, shared by every error's snippet (not copied per error).
#[derive(Debug, Clone)]
struct SharedText(std::sync::Arc<String>);

impl miette::SourceCode for SharedText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0
            .as_str()
            .read_span(span, context_lines_before, context_lines_after)
    }
}

/// Lines longer than this are not shown as a snippet.
const SNIPPET_MAX_LINE: usize = 200;

/// The text as a snippet may show it: control characters replaced by
/// characters of the same UTF-8 length (so spans stay valid), line breaks
/// and tabs kept.
fn snippet_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\n' | '\t' | '\r') || !needs_escape(c) {
            out.push(c);
        } else {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '\u{bf}',
                _ => '\u{fffd}',
            });
        }
    }
    out
}

fn config_report(
    file: &std::path::Path,
    text: &str,
    errors: &[ConfigError],
    headline: String,
) -> ConfigReport {
    let name = escape_controls(&file.display().to_string()).into_owned();
    let shared = SharedText(std::sync::Arc::new(snippet_text(text)));
    ConfigReport {
        headline: escape_controls(&headline).into_owned(),
        errors: errors
            .iter()
            .map(|e| {
                let start = e.span.start.min(text.len());
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let line_len = text[line_start..]
                    .find('\n')
                    .unwrap_or(text.len() - line_start);
                let show = line_len <= SNIPPET_MAX_LINE && text.is_char_boundary(start);
                let mut error = e.clone();
                error.file = std::path::PathBuf::from(&name);
                error.key = escape_controls(&e.key).into_owned();
                error.message = escape_controls(&e.message).into_owned();
                ConfigDiagnostic {
                    error,
                    source_code: show.then(|| NamedSource::new(&name, shared.clone())),
                    span: show
                        .then(|| SourceSpan::from(e.span.start..e.span.end.max(e.span.start))),
                }
            })
            .collect(),
    }
}

/// Prints the failure (stderr, or stdout as the one JSON document) and
/// returns its exit code.
pub fn report(ctx: &Context, failure: Failure) -> ExitCode {
    if ctx.json() {
        print_json(&failure.json());
    } else {
        print_text(ctx, &failure);
    }
    ExitCode::from(failure.exit_code())
}

fn print_text(ctx: &Context, failure: &Failure) {
    match failure {
        Failure::Config(LoadError::Invalid { file, text, errors }) => {
            let report = miette::Report::new(config_report(file, text, errors, failure.message()));
            eprintln!("{report:?}");
        }
        Failure::CheckFailed { report, .. } => {
            crate::checking::print_findings_stderr(ctx, report);
            eprintln!("error: {}", escape_controls_multiline(&failure.message()));
        }
        Failure::WithResult { failure, .. } => print_text(ctx, failure),
        _ => eprintln!("error: {}", escape_controls_multiline(&failure.message())),
    }
}

/// The name of each exit code of the table.
pub fn kind_name(code: u8) -> &'static str {
    match code {
        exit::FAILED => "failed",
        exit::USAGE => "usage",
        exit::IO => "io",
        exit::REFUSED => "refused",
        exit::TOOL => "tool",
        exit::JOB_FAILED => "job-failed",
        exit::INTERRUPTED => "interrupted",
        _ => "error",
    }
}

/// Exit code of an image failure: a tool that is missing or cannot run is
/// the machine's problem (5); a dirty tree is refused for safety (4); a
/// build or push that ran and failed is a failed operation (1).
fn image_exit_code(e: &ImageError) -> u8 {
    match e {
        ImageError::NoBuilder | ImageError::Unusable { .. } | ImageError::Spawn { .. } => {
            exit::TOOL
        }
        ImageError::Git(_) => exit::TOOL,
        ImageError::DirtyTree => exit::REFUSED,
        ImageError::Command { .. } => exit::FAILED,
    }
}

/// Exit code of an AWS-side failure.
fn deploy_exit_code(e: &DeployError) -> u8 {
    use DeployError::*;
    match e {
        Interrupted { .. } => exit::INTERRUPTED,
        AccountMismatch { .. }
        | Blocked { .. }
        | ImageTagMissing { .. }
        | Declined(_)
        | DestroyRefused { .. }
        | NotDeployed { .. }
        | NotApprunStack { .. }
        | NoPipeline { .. }
        | NoBuild { .. }
        | NoPendingApproval { .. } => exit::REFUSED,
        TemplateTooLarge { .. }
        | UnknownStack { .. }
        | UnknownService { .. }
        | ServiceNotInEnv { .. } => exit::USAGE,
        ApprovalExpired { .. }
        | ChangeSetFailed { .. }
        | StackFailed { .. }
        | Aws { .. }
        | TimedOut { .. }
        | Internal(_)
        | ReleaseFailed { .. }
        | MigrateFailed { .. }
        | DestroyIncomplete { .. } => exit::FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The day-two failures (`logs`, `approve`, the pipeline part of
    /// `status`) take their exit codes from the same table as the deploy's.
    #[test]
    fn day_two_failures_have_the_codes_of_the_table() {
        let code = |e: DeployError| Failure::deploy(e).exit_code();
        let pipeline = || "apprunner-nuxt3-dev".to_owned();
        let env = || "dev".to_owned();
        assert_eq!(
            code(DeployError::ServiceNotInEnv {
                service: "api".into(),
                env: env(),
                known: vec!["web".into()],
            }),
            exit::USAGE
        );
        assert_eq!(
            code(DeployError::NoPipeline {
                pipeline: pipeline(),
                env: env(),
            }),
            exit::REFUSED
        );
        assert_eq!(
            code(DeployError::NoBuild {
                pipeline: pipeline(),
                service: None,
            }),
            exit::REFUSED
        );
        assert_eq!(
            code(DeployError::NoPendingApproval {
                pipeline: pipeline(),
                env: env(),
                last: None,
            }),
            exit::REFUSED
        );
        assert_eq!(
            code(DeployError::ApprovalExpired {
                pipeline: pipeline(),
                stage: "Approval".into(),
                env: env(),
                code: "InvalidApprovalTokenException".into(),
                message: "expired".into(),
            }),
            exit::FAILED
        );
    }
}
