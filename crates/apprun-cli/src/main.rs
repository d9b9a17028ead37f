//! `apprun`: the command-line front end. Parsing, dispatch and turning
//! library errors into diagnostics; the work happens in the library crates.

mod checking;
mod cli;
mod commands;
mod diagnostics;
mod output;
mod progress;
mod shared;
mod small_blocks;
mod views;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

/// Blocks of up to 48 bytes without glibc's header (see small_blocks.rs).
#[global_allocator]
static ALLOCATOR: small_blocks::SmallBlocks = small_blocks::SmallBlocks;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&args, e),
    };
    let ctx = output::Context::new(cli.output, cli.config.clone(), cli.quiet, cli.color);
    diagnostics::install_hook(ctx.color());
    let result = match &cli.command {
        Command::Init(args) => commands::init::run(&ctx, args),
        Command::Diagram(args) => commands::diagram::run(&ctx, args),
        Command::Completions(args) => Ok(commands::completions::run(&mut Cli::command(), args)),
        Command::Synth(args) => commands::synth::run(&ctx, args),
        Command::Plan(args) => commands::plan::run(&ctx, args),
        Command::Check(args) => commands::check::run(&ctx, args),
        Command::Deploy(args) => commands::aws::deploy(&ctx, args),
        Command::Diff(args) => commands::aws::diff(&ctx, args),
        Command::Status(args) => commands::aws::status(&ctx, args),
        Command::Destroy(args) => commands::aws::destroy(&ctx, args),
        Command::Local(args) => commands::local::run(&ctx, args),
        Command::Release(args) => commands::release::run(&ctx, args),
        Command::Migrate(args) => commands::migrate::run(&ctx, args),
        Command::Logs(args) => commands::logs::run(&ctx, args),
        Command::Approve(args) => commands::approve::run(&ctx, args),
        Command::Job(args) => commands::job::run(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => diagnostics::report(&ctx, failure),
    }
}

/// Parses the command line, with clap's own messages coloured as
/// `--color` says (clap alone honours NO_COLOR and terminals, not the flag).
fn parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    let color = match flag_value(args, "--color").as_deref() {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let mut command = Cli::command().color(color);
    let matches = command.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches)
}

/// The value of a global flag (`--flag V` or `--flag=V`) before clap has
/// parsed the line, which may be invalid.
fn flag_value(args: &[OsString], flag: &str) -> Option<String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prefix = format!("{flag}=");
    args.iter().enumerate().rev().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&prefix).map(str::to_owned)
        }
    })
}

/// A command line clap rejects: its message on stderr (help and version on
/// stdout, exit 0), and with `--output json` also the JSON error document
/// on stdout, so that stdout stays one document whatever happens.
fn usage_error(args: &[OsString], e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if !informational && flag_value(args, "--output").as_deref() == Some("json") {
        let message = e.render().to_string();
        let first = message.lines().next().unwrap_or_default();
        output::print_json(&serde_json::json!({
            "ok": false,
            "kind": diagnostics::kind_name(exit::USAGE),
            "exit_code": exit::USAGE,
            "error": first.trim_start_matches("error: "),
        }));
    }
    let _ = e.print();
    if informational {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::USAGE)
    }
}

/// Exit codes, documented in `apprun --help` and the README. Only
/// [`diagnostics::Failure::exit_code`] (and clap's usage errors) choose one.
pub(crate) mod exit {
    /// An operation failed: check errors, an AWS operation, a build, the local service.
    pub const FAILED: u8 = 1;
    /// The config, a template or the command line is invalid; nothing was done.
    pub const USAGE: u8 = 2;
    /// `diff --exit-code`: changes are pending.
    pub const CHANGES: u8 = 2;
    /// Writing output or another local I/O step failed.
    pub const IO: u8 = 3;
    /// Refused for safety before changing anything.
    pub const REFUSED: u8 = 4;
    /// A tool apprun needs (image builder, git) is missing or cannot run.
    pub const TOOL: u8 = 5;
    /// A job ran (`apprun job run`, `job local`) and its command exited
    /// with a code other than 0.
    pub const JOB_FAILED: u8 = 6;
    /// Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}
