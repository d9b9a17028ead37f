//! `cargo run -p apprun-diagram --example render -- CONFIG ENV [svg|mermaid|dot]`:
//! prints the diagram of one env (until `apprun diagram` is wired in).

use std::path::Path;
use std::process::ExitCode;

use apprun_config::Config;
use apprun_diagram::{DiagramFormat, render};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(config), Some(env)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render CONFIG ENV [svg|mermaid|dot]");
        return ExitCode::from(2);
    };
    let format = match args.get(2).map(String::as_str) {
        None | Some("svg") => DiagramFormat::Svg,
        Some("mermaid") => DiagramFormat::Mermaid,
        Some("dot") => DiagramFormat::Dot,
        Some(other) => {
            eprintln!("unknown format {other}: svg, mermaid or dot");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load(Path::new(config)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match render(&config, env, format) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
