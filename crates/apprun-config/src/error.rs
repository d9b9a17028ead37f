use std::ops::Range;
use std::path::PathBuf;

/// One problem in a config file, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}:{}: {}: {}", file.display(), line, column, key, message)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line of the key (or of the value when that is more precise).
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `env.dev.network`.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Byte range in the file, for diagnostics that show the source.
    pub span: Range<usize>,
}

/// Why no config could be produced.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no {file} in {} (run `apprun init` to write one, or pass --config PATH)", dir.display())]
    NotFound { dir: PathBuf, file: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has {} error{}", file.display(), errors.len(), if errors.len() == 1 { "" } else { "s" })]
    Invalid {
        file: PathBuf,
        text: String,
        errors: Vec<ConfigError>,
    },
    #[error("unknown environment `{name}`; {file} defines: {}", available.join(", "))]
    UnknownEnv {
        name: String,
        file: String,
        available: Vec<String>,
    },
}
