//! `apprun diagram`: the env's architecture drawn from its synthesized
//! stacks (apprun-diagram), as SVG, Mermaid or DOT.
//!
//! Not wired yet: the lead adds `mod diagram;` to commands/mod.rs, the
//! `Diagram(DiagramArgs)` variant to the command enum in cli.rs (the args
//! struct below moves there, next to the others) and the dispatch line
//! `Command::Diagram(args) => commands::diagram::run(&ctx, &args)`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use apprun_diagram::{DiagramError, DiagramFormat, render};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::diagnostics::Failure;
use crate::output::{Context, print_json, write_stdout};

#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// Environment to draw.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Output format: SVG (a picture), Mermaid (for Markdown) or DOT (Graphviz).
    #[arg(long, value_enum, default_value_t = DiagramFormatArg::Svg)]
    pub format: DiagramFormatArg,
    /// Write to this file (replaced whole, never half-written) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagramFormatArg {
    Svg,
    Mermaid,
    Dot,
}

pub fn run(ctx: &Context, args: &DiagramArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let format = match args.format {
        DiagramFormatArg::Svg => DiagramFormat::Svg,
        DiagramFormatArg::Mermaid => DiagramFormat::Mermaid,
        DiagramFormatArg::Dot => DiagramFormat::Dot,
    };
    let text = render(&config, &args.env, format).map_err(failure)?;
    match &args.out {
        Some(path) => {
            write_whole(path, &text)?;
            if ctx.json() {
                print_json(&json!({ "ok": true, "out": path.display().to_string() }));
            }
        }
        None if ctx.json() => print_json(&json!({ "ok": true, "diagram": text })),
        None => write_stdout(&text),
    }
    Ok(ExitCode::SUCCESS)
}

fn failure(e: DiagramError) -> Failure {
    match e {
        DiagramError::Blueprint(b) => Failure::from(b),
        // The stacks lack a VPC or subnets: a blueprint bug, reported as is.
        missing @ DiagramError::Missing { .. } => Failure::Usage(missing.to_string()),
    }
}

/// Writes through a temporary sibling renamed into place.
fn write_whole(path: &Path, text: &str) -> Result<(), Failure> {
    let what = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A sibling of the target, renamed over it once complete: a reader
    // never sees half a diagram, and errors name the file the user gave.
    let tmp = path.with_file_name(format!(".{name}.apprun-tmp-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::io(what)(e));
    }
    Ok(())
}
