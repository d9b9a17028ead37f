//! Turning library errors into diagnostics a person (or a machine) can act on.

use std::process::ExitCode;

use apprun_config::{ConfigError, LoadError};
use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::exit;
use crate::output::{Context, print_json};

/// Everything a command can fail with.
#[derive(Debug)]
pub enum Failure {
    Config(LoadError),
    Blueprint(apprun_blueprint::BlueprintError),
    Io {
        what: String,
        error: std::io::Error,
    },
    /// A refusal with its reason and exit code (the message says what to do).
    Refused {
        message: String,
        code: u8,
    },
    /// An AWS-side failure; the report (if any) was already printed.
    Deploy(apprun_deploy::DeployError),
}

impl Failure {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
        let what = what.into();
        move |error| Failure::Io { what, error }
    }
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

/// Colour and unicode only on a terminal; never wrap lines for a pipe, so
/// that `file:line:` stays greppable.
pub fn install_hook(terminal: bool) {
    let _ = miette::set_hook(Box::new(move |_| {
        let opts = miette::MietteHandlerOpts::new()
            .color(terminal)
            .unicode(terminal)
            .terminal_links(false)
            .context_lines(1);
        let opts = if terminal {
            opts
        } else {
            opts.wrap_lines(false).width(usize::MAX / 4)
        };
        Box::new(opts.build())
    }));
}

/// One config error with its source snippet.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{error}")]
struct ConfigDiagnostic {
    error: ConfigError,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("{}", error.key)]
    span: SourceSpan,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{headline}")]
#[diagnostic(help("nothing was written or deployed; fix the file and run the command again"))]
struct ConfigReport {
    headline: String,
    #[related]
    errors: Vec<ConfigDiagnostic>,
}

fn config_report(
    file: &std::path::Path,
    text: &str,
    errors: &[ConfigError],
    headline: String,
) -> ConfigReport {
    let name = file.display().to_string();
    ConfigReport {
        headline,
        errors: errors
            .iter()
            .map(|e| ConfigDiagnostic {
                error: e.clone(),
                source_code: NamedSource::new(&name, text.to_owned()),
                span: SourceSpan::from(e.span.start..e.span.end.max(e.span.start)),
            })
            .collect(),
    }
}

/// Prints the failure (stderr, or stdout as JSON) and returns the exit code.
pub fn report(ctx: &Context, failure: Failure) -> ExitCode {
    let (code, message, details) = match &failure {
        Failure::Config(LoadError::Invalid { errors, .. }) => (
            exit::INVALID_INPUT,
            failure_message(&failure),
            errors
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "file": e.file.display().to_string(),
                        "line": e.line,
                        "column": e.column,
                        "key": e.key,
                        "message": e.message,
                    })
                })
                .collect(),
        ),
        Failure::Config(_) | Failure::Blueprint(_) => {
            (exit::INVALID_INPUT, failure_message(&failure), vec![])
        }
        Failure::Io { .. } => (exit::IO, failure_message(&failure), vec![]),
        Failure::Refused { code, message } => (*code, message.clone(), vec![]),
        Failure::Deploy(e) => (deploy_exit_code(e), failure_message(&failure), vec![]),
    };
    if ctx.json() {
        print_json(&serde_json::json!({ "ok": false, "error": message, "diagnostics": details }));
    } else {
        match &failure {
            Failure::Config(LoadError::Invalid { file, text, errors }) => {
                let report = miette::Report::new(config_report(file, text, errors, message));
                eprintln!("{report:?}");
            }
            _ => eprintln!("error: {message}"),
        }
    }
    ExitCode::from(code)
}

fn failure_message(failure: &Failure) -> String {
    match failure {
        Failure::Config(e @ LoadError::Invalid { .. }) => format!("invalid config: {e}"),
        Failure::Config(e) => e.to_string(),
        Failure::Blueprint(e) => format!("internal error in the blueprint (please report): {e}"),
        Failure::Io { what, error } => format!("{what}: {error}"),
        Failure::Refused { message, .. } => message.clone(),
        Failure::Deploy(e) => e.to_string(),
    }
}

/// Exit code of an AWS-side failure (see `apprun --help`).
pub fn deploy_exit_code(e: &apprun_deploy::DeployError) -> u8 {
    use apprun_deploy::DeployError::*;
    match e {
        Interrupted { .. } => exit::INTERRUPTED,
        AccountMismatch { .. }
        | Blocked { .. }
        | ImageTagMissing { .. }
        | Declined(_)
        | DestroyRefused { .. } => exit::REFUSED,
        TemplateTooLarge { .. } => exit::INVALID_INPUT,
        ChangeSetFailed { .. }
        | StackFailed { .. }
        | Aws { .. }
        | ReleaseFailed { .. }
        | MigrateFailed { .. } => exit::FINDINGS,
    }
}
