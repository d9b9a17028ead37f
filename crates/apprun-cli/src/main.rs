//! `apprun`: the command-line front end. Parsing, dispatch and turning
//! library errors into diagnostics; the work happens in the library crates.

mod cli;
mod commands;
mod diagnostics;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = output::Context::new(
        cli.output,
        cli.config.clone(),
        cli.profile.clone(),
        cli.region.clone(),
    );
    diagnostics::install_hook(ctx.color_stderr());
    let result = match &cli.command {
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
    };
    match result {
        Ok(code) => code,
        Err(failure) => diagnostics::report(&ctx, failure),
    }
}

/// Exit codes, documented in `apprun --help`.
pub(crate) mod exit {
    /// A check found errors (or an operation failed after starting).
    pub const FINDINGS: u8 = 1;
    /// The config, a template or the command line is invalid; nothing was done.
    pub const INVALID_INPUT: u8 = 2;
    /// Writing output or another local I/O step failed.
    pub const IO: u8 = 3;
    /// Refused for safety before changing anything.
    pub const REFUSED: u8 = 4;
    /// Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}
