//! Where results and progress go, and whether to colour them.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use apprun_config::{CONFIG_FILE, Config};

use crate::cli::{ColorChoice, OutputFormat};
use crate::diagnostics::Failure;

pub struct Context {
    pub format: OutputFormat,
    pub config_path: Option<PathBuf>,
    /// `-q`: no progress lines on stderr (errors and questions still are).
    pub quiet: bool,
    color: bool,
}

impl Context {
    pub fn new(
        format: OutputFormat,
        config_path: Option<PathBuf>,
        quiet: bool,
        color: ColorChoice,
    ) -> Self {
        Context {
            format,
            config_path,
            quiet,
            color: color_enabled(color),
        }
    }

    /// Whether stderr may show live, redrawn progress: a terminal with
    /// colour (so not with NO_COLOR or `--color never`), not quiet, not JSON.
    pub fn live(&self) -> bool {
        self.color && std::io::stderr().is_terminal() && !self.quiet && !self.json()
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Whether diagnostics on stderr are coloured.
    pub fn color(&self) -> bool {
        self.color
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

    /// A progress line on stderr, unless `--quiet`.
    pub fn progress(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }
}

/// `--color auto` colours a terminal unless `NO_COLOR` is set (to anything
/// but the empty string); `always` and `never` decide alone.
fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

/// Writes results to stdout. A reader that went away (`apprun plan | head
/// -1`) ends apprun quietly with success, as `cat` or `git log` do: the
/// reader took what it wanted.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Any other stdout failure (a full disk) is a local I/O failure.
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(i32::from(crate::exit::IO));
    }
}

/// `println!` for results: through [`write_stdout`].
macro_rules! outln {
    () => { $crate::output::write_stdout("\n") };
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::output::write_stdout(&line);
    }};
}
pub(crate) use outln;

/// Prints anything serializable as one pretty JSON document on stdout,
/// written as it is serialized: a large report (tens of thousands of
/// findings) is neither copied into a `serde_json::Value` tree nor held
/// whole as text first. Write failures end apprun as [`write_stdout`]'s do.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let result = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(i32::from(crate::exit::IO));
    }
}

/// Text from a file or a user as it may reach a terminal or a log: control
/// characters (C0 and DEL, C1, NUL, line breaks) and the Unicode controls
/// that reorder or hide text (bidi embeddings, overrides and isolates,
/// marks, line/paragraph separators, the BOM) are written as escapes
/// (`\x1b`, `\n`, `\u{202e}`), so that a value can neither drive the
/// terminal nor make a line read differently than it is. JSON output needs
/// none of this: it has its own escaping.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    std::borrow::Cow::Owned(out)
}

/// [`escape_controls`] for a message of several lines: its own line breaks
/// stay, every other control is escaped.
pub fn escape_controls_multiline(text: &str) -> String {
    text.split('\n')
        .map(|line| escape_controls(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether [`escape_controls`] escapes `c`.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) && (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_kept() {
        assert_eq!(
            escape_controls("a\u{1b}[31mred\u{0}\nb\u{202e}c\u{85}é"),
            "a\\x1b[31mred\\x00\\nb\\u{202e}c\\u{0085}é"
        );
        assert!(matches!(
            escape_controls("plain, ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape_controls_multiline("a\u{7}\nb"), "a\\x07\nb");
    }
}
