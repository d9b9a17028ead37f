//! Where results and progress go, and whether to colour them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use apprun_config::{CONFIG_FILE, Config};

use crate::cli::OutputFormat;
use crate::diagnostics::Failure;

pub struct Context {
    pub format: OutputFormat,
    pub config_path: Option<PathBuf>,
    pub profile: Option<String>,
    pub region: Option<String>,
}

impl Context {
    pub fn new(
        format: OutputFormat,
        config_path: Option<PathBuf>,
        profile: Option<String>,
        region: Option<String>,
    ) -> Self {
        Context {
            format,
            config_path,
            profile,
            region,
        }
    }

    /// Whether stderr is a terminal that may show live, coloured progress.
    pub fn live(&self) -> bool {
        self.color_stderr()
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Colour on stderr only for a terminal, and never with NO_COLOR set.
    pub fn color_stderr(&self) -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
    }

    /// Loads the config from --config or the current directory.
    pub fn load_config(&self) -> Result<Config, Failure> {
        let config = match &self.config_path {
            Some(path) => Config::load(path),
            // Loaded by its relative name so that messages say `apprun.toml:12`.
            None if Path::new(CONFIG_FILE).exists() => Config::load(Path::new(CONFIG_FILE)),
            None => Config::discover(
                &std::env::current_dir().map_err(Failure::io("current directory"))?,
            ),
        };
        config.map_err(Failure::Config)
    }

    /// A progress line on stderr.
    pub fn progress(&self, line: impl AsRef<str>) {
        eprintln!("{}", line.as_ref());
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
