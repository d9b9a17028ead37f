//! What a service's pipeline `prebuild` needs from the CodeBuild image.
//!
//! The pipeline runs the prebuild in CodeBuild's stock image, which has no
//! Rust toolchain among other things. This module finds the programs a
//! prebuild runs and names the ones that image does not provide (rule
//! `APR-BUILD-001` of `apprun check`).
//!
//! Which programs a prebuild runs:
//! - its first word (`argv[0]`): a name without `/` is looked up on the
//!   image's PATH; a relative path is a file of the repository;
//! - when that file is a shell script (a `sh`/`bash`/`dash` shebang, or none
//!   and a `.sh` name), the programs at the command positions of the script,
//!   and of the repository scripts it runs in turn; `bash FILE` and
//!   `sh FILE` are followed the same way, and `env` is looked through;
//! - a script with another interpreter (`#!/usr/bin/env python3`) needs that
//!   interpreter; its body is not read.
//!
//! A command position is the first word of a simple command: at the start
//! of a line, after `;`, `&&`, `||`, `|`, `&`, `(`, `{`, a keyword that
//! starts a command (`if`, `then`, `do`, `!`, ...), inside `$(...)` and
//! backquotes (also within double quotes), after leading `NAME=value`
//! assignments and after `exec`, `command`, `time`, `nohup`, `nice`, `sudo`,
//! `xargs` and `env`. Not counted: shell builtins and keywords, functions the
//! script defines, words that are not literal (`"$tool"`, `$(which x)`),
//! `case` patterns, `for` lists, here-document bodies, comments and
//! redirection targets. Aliases and `eval` are not followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use apprun_config::Config;

use crate::pipeline::BUILD_IMAGE;

/// The programs on the build image's PATH, from AWS's published image
/// definition (see the file's header for the source and its commit).
const IMAGE_PROGRAMS: &str =
    include_str!("../data/codebuild-amazonlinux-x86_64-standard-5.0.programs");

/// How many scripts deep a prebuild is followed.
const MAX_DEPTH: usize = 8;

/// bash builtins and keywords: never looked up on the PATH.
const BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "[[",
    "]]",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "case",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "do",
    "done",
    "echo",
    "elif",
    "else",
    "enable",
    "esac",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "fi",
    "for",
    "function",
    "getopts",
    "hash",
    "help",
    "history",
    "if",
    "in",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "select",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "then",
    "time",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "until",
    "wait",
    "while",
    "{",
    "}",
    "!",
];

/// Keywords after which the next word is again a command position.
const LEADING_KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "fi", "done", "time",
];

/// Commands that run their first argument as a program.
const WRAPPERS: &[&str] = &[
    "exec", "command", "nohup", "nice", "sudo", "xargs", "env", "builtin",
];

/// Interpreters whose scripts are scanned.
const SHELLS: &[&str] = &["sh", "bash", "dash"];

/// The CodeBuild image the pipeline builds on and what it provides.
#[derive(Debug, Clone)]
pub struct BuildImage {
    /// e.g. `aws/codebuild/amazonlinux-x86_64-standard:5.0`.
    pub name: &'static str,
    programs: BTreeSet<&'static str>,
}

impl BuildImage {
    /// The image of every pipeline build project apprun synthesizes.
    pub fn pipeline() -> BuildImage {
        let programs = IMAGE_PROGRAMS
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(str::split_whitespace)
            .collect();
        BuildImage {
            name: BUILD_IMAGE,
            programs,
        }
    }

    /// Whether `program` (a name, not a path) is on the image's PATH.
    pub fn provides(&self, program: &str) -> bool {
        self.programs.contains(program)
    }
}

/// Why a prebuild cannot run on the build image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapKind {
    /// The program is neither a shell builtin nor on the image's PATH.
    NotInImage,
    /// The prebuild names a repository file that does not exist.
    ScriptMissing,
    /// The script could not be read, so what it needs is unknown.
    ScriptUnreadable(String),
}

/// One program a service's pipeline prebuild needs that the image lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrebuildGap {
    pub service: String,
    /// The program (or, for the script kinds, the script's path).
    pub program: String,
    /// The repository script and 1-based line that runs it; `None` when it
    /// is the prebuild's own first word.
    pub run_by: Option<(String, usize)>,
    pub kind: GapKind,
    /// The image checked against.
    pub image: &'static str,
}

impl std::fmt::Display for PrebuildGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.service;
        let via = match &self.run_by {
            Some((script, line)) => format!(" ({script} line {line})"),
            None => String::new(),
        };
        match &self.kind {
            GapKind::NotInImage => write!(
                f,
                "the pipeline's prebuild of service `{s}` runs `{}`{via}, which the CodeBuild image {} does not provide; build inside the image build instead (a multi-stage Dockerfile as `dockerfile`, no `prebuild`) and keep this prebuild for workstations in [services.{s}.release]",
                self.program, self.image
            ),
            GapKind::ScriptMissing => write!(
                f,
                "the pipeline's prebuild of service `{s}` runs `{}`{via}, which is not in the repository; the build on {} would fail",
                self.program, self.image
            ),
            GapKind::ScriptUnreadable(e) => write!(
                f,
                "the pipeline's prebuild of service `{s}` runs `{}`{via}, which cannot be read ({e}); cannot tell whether {} provides what it needs",
                self.program, self.image
            ),
        }
    }
}

/// Every program the pipeline prebuilds of `config` need that the build
/// image lacks. `root` is the repository root: the folder of apprun.toml,
/// where the pipeline runs the prebuild. Sorted by service (file order),
/// then program; each program once per service (where first met).
pub fn pipeline_prebuild_gaps(config: &Config, root: &Path) -> Vec<PrebuildGap> {
    let image = BuildImage::pipeline();
    let mut gaps = Vec::new();
    for service in config.services.values() {
        let (_, prebuild) = service.pipeline_build();
        if prebuild.is_empty() {
            continue;
        }
        let mut walk = Walk {
            root,
            image: &image,
            visited: BTreeSet::new(),
            found: BTreeMap::new(),
        };
        walk.argv(prebuild, None, 0);
        gaps.extend(
            walk.found
                .into_iter()
                .map(|(program, (run_by, kind))| PrebuildGap {
                    service: service.name.clone(),
                    program,
                    run_by,
                    kind,
                    image: image.name,
                }),
        );
    }
    gaps
}

/// Follows one prebuild through the scripts it runs.
struct Walk<'a> {
    root: &'a Path,
    image: &'a BuildImage,
    visited: BTreeSet<PathBuf>,
    found: BTreeMap<String, (Option<(String, usize)>, GapKind)>,
}

impl Walk<'_> {
    fn gap(&mut self, program: &str, run_by: &Option<(String, usize)>, kind: GapKind) {
        self.found
            .entry(program.to_owned())
            .or_insert_with(|| (run_by.clone(), kind));
    }

    /// A command as words: the program first. `run_by` says where it is
    /// written (None: the prebuild itself); inside scripts, a relative path
    /// that does not exist is not reported, as the script may have changed
    /// directory first.
    fn argv(&mut self, words: &[String], run_by: Option<(String, usize)>, depth: usize) {
        let Some(first) = words.first() else {
            return;
        };
        let program = first.as_str();
        if program.contains('/') && !program.starts_with('/') {
            self.script(program, run_by, depth);
            return;
        }
        // An absolute path names the image's own file; judge it by its name.
        let name = program.rsplit('/').next().unwrap_or(program);
        if BUILTINS.contains(&name) {
            if matches!(name, "exec" | "command" | "builtin") {
                self.argv(&skip_options(&words[1..]), run_by, depth);
            }
            return;
        }
        if !self.image.provides(name) {
            self.gap(name, &run_by, GapKind::NotInImage);
            return;
        }
        if SHELLS.contains(&name) {
            // `bash FILE`: the file is a script of the repository; `bash -c`
            // and reading stdin are not followed.
            let rest = &words[1..];
            if let Some(i) = rest.iter().position(|w| w == "-c") {
                if let Some(code) = rest.get(i + 1) {
                    for command in commands(code).commands {
                        self.argv(&command.words, run_by.clone(), depth + 1);
                    }
                }
            } else if let Some(file) = rest.iter().find(|w| !w.starts_with('-')) {
                self.script_body(file, run_by, depth);
            }
        } else if WRAPPERS.contains(&name) {
            let rest: Vec<String> = if name == "env" {
                words[1..]
                    .iter()
                    .skip_while(|w| w.starts_with('-') || is_assignment(w))
                    .cloned()
                    .collect()
            } else {
                skip_options(&words[1..])
            };
            self.argv(&rest, run_by, depth);
        }
    }

    /// A repository file run as a program: its interpreter, and its body
    /// when that is a shell.
    fn script(&mut self, path: &str, run_by: Option<(String, usize)>, depth: usize) {
        let path = tidy(path);
        let Some(text) = self.read(path, &run_by) else {
            return;
        };
        // A compiled program of the repository needs nothing from the image.
        let Ok(text) = String::from_utf8(text) else {
            return;
        };
        match interpreter(&text) {
            Some(words) => {
                let name = words[0].rsplit('/').next().unwrap_or("").to_owned();
                if SHELLS.contains(&name.as_str()) {
                    if !self.image.provides(&name) {
                        self.gap(&name, &Some((path.to_owned(), 1)), GapKind::NotInImage);
                    }
                    self.scan(path, &text, depth);
                } else {
                    self.argv(&words, Some((path.to_owned(), 1)), depth);
                }
            }
            None if path.ends_with(".sh") => self.scan(path, &text, depth),
            None => {}
        }
    }

    /// A file given to a shell (`bash FILE`): scanned whatever its shebang.
    fn script_body(&mut self, path: &str, run_by: Option<(String, usize)>, depth: usize) {
        let path = tidy(path);
        if path.starts_with('/') {
            return;
        }
        let Some(bytes) = self.read(path, &run_by) else {
            return;
        };
        match String::from_utf8(bytes) {
            Ok(text) => self.scan(path, &text, depth),
            Err(_) => self.gap(
                path,
                &run_by,
                GapKind::ScriptUnreadable("stream did not contain valid UTF-8".into()),
            ),
        }
    }

    /// A repository file's bytes. A missing file is reported only when the
    /// prebuild names it directly; one that cannot be read, always.
    fn read(&mut self, path: &str, run_by: &Option<(String, usize)>) -> Option<Vec<u8>> {
        match std::fs::read(self.root.join(path)) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if run_by.is_none() {
                    self.gap(path, run_by, GapKind::ScriptMissing);
                }
                None
            }
            Err(e) => {
                self.gap(path, run_by, GapKind::ScriptUnreadable(e.to_string()));
                None
            }
        }
    }

    fn scan(&mut self, path: &str, text: &str, depth: usize) {
        if depth >= MAX_DEPTH || !self.visited.insert(self.root.join(path)) {
            return;
        }
        let script = commands(text);
        for command in script.commands {
            if script.functions.contains(&command.words[0]) {
                continue;
            }
            self.argv(
                &command.words,
                Some((path.to_owned(), command.line)),
                depth + 1,
            );
        }
    }
}

/// A repository path as the findings show it: `./scripts/x.sh` is
/// `scripts/x.sh`.
fn tidy(path: &str) -> &str {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    p
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// The words after a wrapper's options: `nice -n 5 make` -> `make`. Which
/// options take a separate value is not known; only a numeric one is
/// skipped (`sudo -u user make` is read as running `user`).
fn skip_options(words: &[String]) -> Vec<String> {
    let mut i = 0;
    while i < words.len() && words[i].starts_with('-') {
        i += 1;
        // `-n 5`: a numeric value belongs to the option.
        if i < words.len() && words[i].chars().all(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    words[i..].to_vec()
}

/// The shebang's command words, e.g. `["/usr/bin/env", "bash"]`.
fn interpreter(text: &str) -> Option<Vec<String>> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() {
        return None;
    }
    // `#!/usr/bin/env bash` runs bash: judge the interpreter, not env.
    if words[0].ends_with("/env") {
        let rest: Vec<String> = words[1..]
            .iter()
            .skip_while(|w| w.starts_with('-'))
            .cloned()
            .collect();
        return (!rest.is_empty()).then_some(rest);
    }
    Some(words)
}

/// One simple command of a script: its literal words, the program first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub line: usize,
    pub words: Vec<String>,
}

/// What a scan of a script found.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub commands: Vec<Command>,
    /// Functions the script defines (not programs).
    pub functions: BTreeSet<String>,
}

/// The simple commands of a shell script whose program is a literal word,
/// in order (see the module documentation for what counts).
pub(crate) fn commands(text: &str) -> Script {
    let mut s = Scanner {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        script: Script::default(),
        heredocs: Vec::new(),
    };
    s.list(None);
    s.script
}

/// One word being read.
#[derive(Default)]
struct Word {
    text: String,
    /// Contains an expansion: its value is unknown.
    dynamic: bool,
    /// Contains quotes (so it cannot be a keyword).
    quoted: bool,
    /// Starts with `NAME=` written plainly: an assignment, not a program.
    assignment: bool,
    started: bool,
}

/// The command being read.
#[derive(Default)]
struct Pending {
    line: usize,
    words: Vec<Word>,
    /// The next word is a redirection target.
    redirect: bool,
}

/// Where a `case` statement is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Between `case` and `in`.
    Header,
    /// Reading patterns (up to `)`), or `esac`.
    Pattern,
    /// Commands of a branch, up to `;;`.
    Body,
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    script: Script,
    /// Here-document delimiters whose bodies start at the next newline.
    heredocs: Vec<(String, bool)>,
}

/// What ends a nested command list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    Paren,
    Backquote,
}

impl Until {
    /// What a `)` or a backquote would close.
    fn closing(c: char) -> Until {
        if c == ')' {
            Until::Paren
        } else {
            Until::Backquote
        }
    }
}

impl Scanner {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Reads commands up to `until` (consumed) or the end of the text.
    fn list(&mut self, until: Option<Until>) {
        let mut cmd = Pending {
            line: self.line,
            ..Pending::default()
        };
        let mut word = Word::default();
        let mut cases: Vec<Case> = Vec::new();
        while let Some(c) = self.peek(0) {
            if cases.last() == Some(&Case::Pattern)
                && cmd.words.is_empty()
                && !word.started
                && self.pattern(&mut cases)
            {
                continue;
            }
            match c {
                ')' | '`' if until == Some(Until::closing(c)) => {
                    self.pos += 1;
                    self.end_word(&mut cmd, &mut word, &mut cases);
                    self.end_command(&mut cmd, &mut cases);
                    return;
                }
                ' ' | '\t' | '\r' => {
                    self.pos += 1;
                    self.end_word(&mut cmd, &mut word, &mut cases);
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                '\\' => self.escaped(&mut word),
                '\n' => self.newline(&mut cmd, &mut word, &mut cases),
                '#' if !word.started => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                ';' => self.semicolon(&mut cmd, &mut word, &mut cases),
                '&' if self.peek(1) == Some('>') => {
                    self.pos += 2;
                    self.end_word(&mut cmd, &mut word, &mut cases);
                    cmd.redirect = true;
                }
                '&' | '|' => {
                    self.pos += 1;
                    self.end_word(&mut cmd, &mut word, &mut cases);
                    self.end_command(&mut cmd, &mut cases);
                }
                '(' if word.started && !word.quoted && word.text.ends_with('=') => {
                    // `list=(a b c)`: an array assignment, not a subshell.
                    self.skip_parens();
                    word.text.push_str("()");
                }
                '(' => self.open_paren(&mut cmd, &mut word, &mut cases),
                ')' => {
                    self.pos += 1;
                    self.end_word(&mut cmd, &mut word, &mut cases);
                    self.end_command(&mut cmd, &mut cases);
                }
                '>' | '<' => self.redirection(&mut cmd, &mut word, &mut cases),
                '\'' => self.single_quoted(&mut word),
                '"' | '$' | '`' => self.substitution(c, &mut word),
                _ => self.plain(c, &mut word),
            }
        }
        self.end_word(&mut cmd, &mut word, &mut cases);
        self.end_command(&mut cmd, &mut cases);
    }

    /// A newline ends the command; here-document bodies follow it.
    fn newline(&mut self, cmd: &mut Pending, word: &mut Word, cases: &mut Vec<Case>) {
        self.pos += 1;
        self.end_word(cmd, word, cases);
        self.end_command(cmd, cases);
        self.line += 1;
        self.heredoc_bodies();
        cmd.line = self.line;
    }

    /// `"..."`, `$...` and backquotes: quoted or expanded parts of a word.
    fn substitution(&mut self, c: char, word: &mut Word) {
        self.pos += 1;
        word.started = true;
        match c {
            '"' => {
                word.quoted = true;
                self.double_quoted(word);
            }
            '$' => self.expansion(word),
            _ => {
                word.dynamic = true;
                self.nested(Until::Backquote);
            }
        }
    }

    /// `\x` outside quotes: `x` taken literally.
    fn escaped(&mut self, word: &mut Word) {
        self.pos += 1;
        if let Some(n) = self.peek(0) {
            word.text.push(n);
            word.quoted = true;
            word.started = true;
            self.pos += 1;
        }
    }

    /// `;` ends a command; `;;` (or `;&`, `;;&`) also ends a case branch.
    fn semicolon(&mut self, cmd: &mut Pending, word: &mut Word, cases: &mut Vec<Case>) {
        self.pos += 1;
        self.end_word(cmd, word, cases);
        self.end_command(cmd, cases);
        if matches!(self.peek(0), Some(';') | Some('&')) {
            while matches!(self.peek(0), Some(';') | Some('&')) {
                self.pos += 1;
            }
            if let Some(top) = cases.last_mut() {
                *top = Case::Pattern;
            }
        }
    }

    /// `(` after a word: `name()` defines a function; otherwise a subshell
    /// starts.
    fn open_paren(&mut self, cmd: &mut Pending, word: &mut Word, cases: &mut Vec<Case>) {
        self.pos += 1;
        self.end_word(cmd, word, cases);
        let mut ahead = 0;
        while self.peek(ahead).is_some_and(|c| c == ' ' || c == '\t') {
            ahead += 1;
        }
        if self.peek(ahead) == Some(')') && cmd.words.len() == 1 {
            self.pos += ahead + 1;
            let name = std::mem::take(&mut cmd.words)[0].text.clone();
            self.script.functions.insert(name);
        } else {
            self.end_command(cmd, cases);
        }
    }

    /// `'...'`: everything literal up to the closing quote.
    fn single_quoted(&mut self, word: &mut Word) {
        self.pos += 1;
        word.started = true;
        word.quoted = true;
        while let Some(q) = self.peek(0) {
            self.pos += 1;
            if q == '\'' {
                break;
            }
            if q == '\n' {
                self.line += 1;
            }
            word.text.push(q);
        }
    }

    /// Any other character: part of the word; a first unquoted `=` after a
    /// name makes it an assignment.
    fn plain(&mut self, c: char, word: &mut Word) {
        self.pos += 1;
        if c == '=' && !word.quoted && !word.dynamic && is_assignment(&format!("{}=", word.text)) {
            word.assignment = true;
        }
        word.started = true;
        word.text.push(c);
    }

    /// Skips a parenthesized group (at `(`) up to its matching `)`.
    fn skip_parens(&mut self) {
        let mut depth = 0;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                '\n' => self.line += 1,
                _ => {}
            }
        }
    }

    /// In a `case`, skips one pattern up to its `)`, or pops at `esac`.
    /// Returns whether it consumed anything.
    fn pattern(&mut self, cases: &mut Vec<Case>) -> bool {
        let rest: String = self.chars[self.pos..].iter().take(5).collect();
        let c = self.peek(0).unwrap_or(' ');
        if c.is_whitespace() || c == ';' {
            if c == '\n' {
                self.line += 1;
            }
            self.pos += 1;
            return true;
        }
        if rest.starts_with("esac")
            && rest[4..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
        {
            self.pos += 4;
            cases.pop();
            return true;
        }
        while let Some(p) = self.peek(0) {
            self.pos += 1;
            match p {
                ')' => break,
                '\n' => self.line += 1,
                _ => {}
            }
        }
        if let Some(top) = cases.last_mut() {
            *top = Case::Body;
        }
        true
    }

    /// `>`, `>>`, `<`, `2>&1`, `<<EOF`, `<<<`: the next word is not a command.
    fn redirection(&mut self, cmd: &mut Pending, word: &mut Word, cases: &mut Vec<Case>) {
        // `2>`: the digits are the descriptor, not a word.
        if !word.quoted && !word.dynamic && word.text.chars().all(|c| c.is_ascii_digit()) {
            *word = Word::default();
        } else {
            self.end_word(cmd, word, cases);
        }
        let c = self.peek(0);
        self.pos += 1;
        if c == Some('<') && self.peek(0) == Some('<') && self.peek(1) != Some('<') {
            self.pos += 1;
            let strip = self.peek(0) == Some('-');
            if strip {
                self.pos += 1;
            }
            while self.peek(0).is_some_and(|c| c == ' ' || c == '\t') {
                self.pos += 1;
            }
            let mut delimiter = String::new();
            while let Some(d) = self.peek(0) {
                if d.is_whitespace() || ";&|<>()".contains(d) {
                    break;
                }
                if d != '\'' && d != '"' && d != '\\' {
                    delimiter.push(d);
                }
                self.pos += 1;
            }
            self.heredocs.push((delimiter, strip));
            return;
        }
        while matches!(self.peek(0), Some('>') | Some('<') | Some('&') | Some('|')) {
            self.pos += 1;
        }
        // `>&2`: a descriptor, already consumed with `&`; otherwise a file.
        if self.peek(0).is_some_and(|c| c.is_ascii_digit())
            && self.peek(1).is_none_or(|c| c.is_whitespace() || c == ';')
            && self.chars[self.pos - 1] == '&'
        {
            self.pos += 1;
            return;
        }
        cmd.redirect = true;
    }

    /// Skips the bodies of the here-documents opened on the line just ended.
    fn heredoc_bodies(&mut self) {
        for (delimiter, strip) in std::mem::take(&mut self.heredocs) {
            loop {
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let line: String = self.chars[start..self.pos].iter().collect();
                if self.peek(0).is_some() {
                    self.pos += 1;
                    self.line += 1;
                }
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == delimiter || self.peek(0).is_none() {
                    break;
                }
            }
        }
    }

    /// The rest of a double-quoted string: command substitutions inside are
    /// commands too.
    fn double_quoted(&mut self, word: &mut Word) {
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            match c {
                '"' => return,
                '\\' => {
                    if let Some(n) = self.peek(0) {
                        if n == '\n' {
                            self.line += 1;
                        } else {
                            word.text.push(n);
                        }
                        self.pos += 1;
                    }
                }
                '$' => self.expansion(word),
                '`' => {
                    word.dynamic = true;
                    self.nested(Until::Backquote);
                }
                '\n' => {
                    self.line += 1;
                    word.text.push(c);
                }
                _ => word.text.push(c),
            }
        }
    }

    /// After `$`: `$(...)` (commands), `$((...))`, `${...}`, `$name`.
    fn expansion(&mut self, word: &mut Word) {
        match self.peek(0) {
            Some('(') if self.peek(1) == Some('(') => {
                word.dynamic = true;
                self.skip_parens();
            }
            Some('(') => {
                word.dynamic = true;
                self.pos += 1;
                self.nested(Until::Paren);
            }
            Some('{') => {
                word.dynamic = true;
                let mut depth = 0;
                while let Some(c) = self.peek(0) {
                    self.pos += 1;
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        '\n' => self.line += 1,
                        _ => {}
                    }
                }
            }
            Some(c) if c.is_ascii_alphanumeric() || "_@*#?$!-".contains(c) => {
                word.dynamic = true;
                self.pos += 1;
                if c.is_ascii_alphabetic() || c == '_' {
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.pos += 1;
                    }
                }
            }
            _ => word.text.push('$'),
        }
    }

    /// A command list nested in `$(...)` or backquotes, with its own state.
    fn nested(&mut self, until: Until) {
        let saved = std::mem::take(&mut self.heredocs);
        self.list(Some(until));
        self.heredocs = saved;
    }

    fn end_word(&mut self, cmd: &mut Pending, word: &mut Word, cases: &mut Vec<Case>) {
        if !word.started {
            return;
        }
        let w = std::mem::take(word);
        if cmd.redirect {
            cmd.redirect = false;
            return;
        }
        if cmd.words.is_empty() {
            cmd.line = self.line;
        }
        let plain = !w.quoted && !w.dynamic;
        // `{` opens a group: what precedes it (`f()`, `function f`) is done.
        if plain && w.text == "{" {
            self.end_command(cmd, cases);
            return;
        }
        // `case WORD in`: patterns follow.
        if plain && w.text == "in" && cases.last() == Some(&Case::Header) && cmd.words.len() == 2 {
            if let Some(top) = cases.last_mut() {
                *top = Case::Pattern;
            }
            cmd.words.clear();
            return;
        }
        if cmd.words.is_empty() && plain {
            if w.text == "case" {
                cases.push(Case::Header);
            } else if w.text == "esac" && cases.last() == Some(&Case::Body) {
                cases.pop();
                return;
            }
        }
        cmd.words.push(w);
    }

    fn end_command(&mut self, cmd: &mut Pending, cases: &mut [Case]) {
        let words = std::mem::take(&mut cmd.words);
        cmd.redirect = false;
        if cases.last() == Some(&Case::Header) {
            return;
        }
        let mut rest = words.as_slice();
        loop {
            let Some(first) = rest.first() else {
                return;
            };
            let plain = !first.quoted && !first.dynamic;
            if (plain && LEADING_KEYWORDS.contains(&first.text.as_str())) || first.assignment {
                rest = &rest[1..];
            } else {
                break;
            }
        }
        let first = &rest[0];
        let plain = !first.quoted && !first.dynamic;
        if first.dynamic
            || (plain
                && matches!(
                    first.text.as_str(),
                    "for" | "select" | "function" | "[[" | "case" | "esac" | "in"
                ))
        {
            if plain
                && first.text == "function"
                && let Some(name) = rest.get(1)
            {
                self.script.functions.insert(name.text.clone());
            }
            return;
        }
        // Arguments that are not literal stay as they are: only the program
        // and the literal words after it matter to the walk.
        let words: Vec<String> = rest
            .iter()
            .take_while(|w| !w.dynamic)
            .map(|w| w.text.clone())
            .collect();
        self.script.commands.push(Command {
            line: cmd.line,
            words,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(text: &str) -> Vec<(usize, String)> {
        commands(text)
            .commands
            .into_iter()
            .map(|c| (c.line, c.words[0].clone()))
            .collect()
    }

    #[test]
    fn command_positions_of_the_shipped_build_script() {
        let text = include_str!("../../../scripts/build-app.sh");
        let found: Vec<String> = programs(text).into_iter().map(|(_, p)| p).collect();
        for p in ["set", "cd", "dirname", "pwd", "cargo", "mkdir", "cp"] {
            assert!(found.contains(&p.to_owned()), "{p} in {found:?}");
        }
        for not in ["RUSTFLAGS", "build", "-p", "target"] {
            assert!(!found.iter().any(|f| f == not), "{not} in {found:?}");
        }
    }

    #[test]
    fn separators_keywords_substitutions_and_assignments() {
        let text = "#!/bin/sh\n# make all\nA=1 B=\"$(uname -m)\" make all && strip x | gzip; (cd d && zip -r a .)\nif test -f x; then rsync a b; else scp a b; fi\nwhile read -r l; do jq . \"$l\"; done < list\nX=`hostname`\necho \"$(git rev-parse HEAD)\" >out.txt 2>&1\n";
        let found = programs(text);
        let names: Vec<&str> = found.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "uname", "make", "strip", "gzip", "cd", "zip", "test", "rsync", "scp", "read",
                "jq", "hostname", "git", "echo"
            ]
        );
        let line = |p: &str| found.iter().find(|(_, n)| n == p).unwrap().0;
        assert_eq!(
            (line("make"), line("rsync"), line("jq"), line("git")),
            (3, 4, 5, 7)
        );
    }

    #[test]
    fn what_is_not_a_command() {
        let text = "build() {\n  npm ci\n}\nfunction pack_it { tar c .; }\ncase \"$1\" in\n  release|prod) build ;;\n  *) \"$TOOL\" --x ;;\nesac\nfor f in cargo rustc; do :; done\ncat <<EOF\ncargo build\nEOF\n$CC -o x x.c\necho done # rustup update\n";
        let script = commands(text);
        let names: Vec<&str> = script
            .commands
            .iter()
            .map(|c| c.words[0].as_str())
            .collect();
        assert_eq!(names, ["npm", "tar", "build", ":", "cat", "echo"]);
        assert!(script.functions.contains("build") && script.functions.contains("pack_it"));
    }

    #[test]
    fn continuation_lines_and_quotes() {
        let text = "docker build \\\n  --file x \\\n  . && 'aws' s3 ls\nprintf '%s; cargo' x\n";
        let found = programs(text);
        assert_eq!(
            found,
            [
                (1, "docker".to_owned()),
                (3, "aws".to_owned()),
                (4, "printf".to_owned())
            ]
        );
    }
}
