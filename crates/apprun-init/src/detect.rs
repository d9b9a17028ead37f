//! What `apprun init` can learn from a repository and the AWS config without
//! asking: the app and its port, the git branches, the region, a system id.
//!
//! Every reader takes the repository folder and an [`Environment`] (never the
//! process's own variables directly), so that tests can describe any machine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::InitError;

/// The environment variables and home folder detection reads.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    pub home: Option<PathBuf>,
}

impl Environment {
    /// The running process's environment.
    pub fn from_process() -> Environment {
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        let home = vars
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Environment { vars, home }
    }

    /// A variable's value, with empty values counting as unset (as the AWS
    /// SDKs treat them).
    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// A detected value and where it came from, for the summary `init` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    pub from: String,
}

impl<T> Found<T> {
    fn new(value: T, from: impl Into<String>) -> Found<T> {
        Found {
            value,
            from: from.into(),
        }
    }
}

/// The package manager of a Node app, from its lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Npm,
    Pnpm,
    Yarn,
}

impl PackageManager {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageManager::Npm => "npm",
            PackageManager::Pnpm => "pnpm",
            PackageManager::Yarn => "yarn",
        }
    }
}

/// The Node frameworks `init` knows how to package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// Nuxt 3+: `nuxt build` writes a self-contained `.output/`.
    Nuxt,
    /// Next.js: `next start` serves the built app.
    Next,
    /// Any other Node app with a start script or a `main` file.
    Plain,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Nuxt => "Nuxt",
            Framework::Next => "Next.js",
            Framework::Plain => "Node",
        }
    }

    /// The port the framework's server listens on when `PORT` is not set;
    /// the generated Dockerfile sets `PORT` to it.
    pub fn default_port(self) -> Option<u16> {
        match self {
            // Nitro (Nuxt's server) and `next start` both default to 3000.
            Framework::Nuxt | Framework::Next => Some(3000),
            Framework::Plain => None,
        }
    }
}

/// What kind of app the repository holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum App {
    /// A `Dockerfile` at the root: used as it is.
    Dockerfile {
        /// The port of its last `EXPOSE` (or `ENV PORT`), when it names one.
        port: Option<Found<u16>>,
    },
    /// A Cargo binary crate: `init` writes a multi-stage Dockerfile.
    Cargo {
        /// The package `cargo build -p` takes.
        package: String,
        /// The binary target; its file is `target/<triple>/release/<bin>`.
        bin: String,
        /// Whether a `Cargo.lock` exists (then the build uses `--locked`).
        locked: bool,
        /// Other binaries found, for the summary (the first is used).
        others: Vec<String>,
    },
    /// A Node app from `package.json`: `init` writes a multi-stage Dockerfile.
    Node {
        framework: Framework,
        manager: PackageManager,
        /// A lockfile exists (installs are then frozen to it).
        locked: bool,
        /// Yarn 2+ (`.yarnrc.yml`), whose frozen install flag differs.
        yarn_berry: bool,
        /// `scripts.build` exists.
        build: bool,
        /// `scripts.start` exists.
        start: bool,
        /// `main` of package.json, the entry without a start script.
        main: Option<String>,
    },
}

impl App {
    /// A one-line description for the summary.
    pub fn describe(&self) -> String {
        match self {
            App::Dockerfile { .. } => "a Dockerfile (used as it is)".into(),
            App::Cargo { package, bin, .. } => {
                format!("a Cargo binary crate (package `{package}`, binary `{bin}`)")
            }
            App::Node {
                framework, manager, ..
            } => format!(
                "a {} app (package.json, {})",
                framework.as_str(),
                manager.as_str()
            ),
        }
    }

    /// The port, when the app itself says which one.
    pub fn port(&self) -> Option<Found<u16>> {
        match self {
            App::Dockerfile { port } => port.clone(),
            App::Node { framework, .. } => framework
                .default_port()
                .map(|p| Found::new(p, format!("{} default", framework.as_str()))),
            App::Cargo { .. } => None,
        }
    }
}

/// The git branches that each env's pipeline follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branches {
    pub dev: Found<String>,
    pub stg: Found<String>,
    pub prod: Found<String>,
}

/// Everything detected in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub dir: PathBuf,
    pub app: App,
    pub branches: Branches,
    /// The current branch (HEAD), when the folder is a git repository.
    pub head: Option<String>,
    pub region: Option<Found<String>>,
    /// A system id from the folder name, already valid for the config.
    pub id: Option<Found<String>>,
    /// `owner/name` of a GitHub `origin` remote.
    pub github: Option<String>,
}

/// Detects everything `init` can learn about the repository at `dir`.
pub fn detect(dir: &Path, env: &Environment) -> Result<Detection, InitError> {
    let app = detect_app(dir)?;
    let git = GitRepo::open(dir);
    let (head, local) = match &git {
        Some(g) => {
            let head = g.head();
            let mut local = g.local_branches();
            // A new repository's HEAD names a branch before its first commit.
            local.extend(head.clone());
            (head, local)
        }
        None => (None, BTreeSet::new()),
    };
    let branches = map_branches(&local, head.as_deref(), git.is_some());
    Ok(Detection {
        dir: dir.to_path_buf(),
        app,
        branches,
        head,
        region: detect_region(env),
        id: folder_id(dir),
        github: git.as_ref().and_then(GitRepo::github_origin),
    })
}

// ----- the app -------------------------------------------------------------

/// A Dockerfile first (it says how the app is built), then Cargo, then Node.
pub fn detect_app(dir: &Path) -> Result<App, InitError> {
    let dockerfile = dir.join("Dockerfile");
    if dockerfile.is_file() {
        let text = read(&dockerfile)?;
        return Ok(App::Dockerfile {
            port: dockerfile_port(&text),
        });
    }
    let cargo = dir.join("Cargo.toml");
    if cargo.is_file()
        && let Some(app) = cargo_app(dir, &read(&cargo)?, &cargo)?
    {
        return Ok(app);
    }
    let package = dir.join("package.json");
    if package.is_file() {
        return node_app(dir, &read(&package)?, &package);
    }
    Err(InitError::NoApp {
        dir: dir.to_path_buf(),
    })
}

fn read(path: &Path) -> Result<String, InitError> {
    std::fs::read_to_string(path).map_err(|source| InitError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The port of the final image: its last `EXPOSE` (the first port it names),
/// else an `ENV PORT`. `$VAR`/`${VAR}`/`${VAR:-N}` are resolved from the
/// file's own `ARG`/`ENV` defaults.
pub fn dockerfile_port(text: &str) -> Option<Found<u16>> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut exposed: Option<u16> = None;
    for line in instructions(text) {
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((w, r)) => (w.to_ascii_uppercase(), r.trim()),
            None => continue,
        };
        match word.as_str() {
            // A new stage starts over: only the last stage's EXPOSE counts.
            "FROM" => exposed = None,
            "ARG" | "ENV" => {
                for (k, v) in assignments(rest, word == "ENV") {
                    let v = expand(&v, &vars);
                    vars.insert(k, v);
                }
            }
            "EXPOSE" => {
                exposed = rest.split_whitespace().find_map(|p| {
                    let p = expand(p, &vars);
                    p.split('/').next().and_then(|n| n.parse::<u16>().ok())
                });
            }
            _ => {}
        }
    }
    if let Some(port) = exposed.filter(|p| *p != 0) {
        return Some(Found::new(port, "Dockerfile EXPOSE"));
    }
    vars.get("PORT")
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p != 0)
        .map(|p| Found::new(p, "Dockerfile ENV PORT"))
}

/// The Dockerfile's instructions: comments dropped, `\` continuations joined.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') && current.is_empty() {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(line);
            if !current.trim().is_empty() {
                out.push(current.trim().to_owned());
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// `K=V K2=V2` (or the legacy `ENV K V`) as pairs, quotes removed.
fn assignments(rest: &str, env: bool) -> Vec<(String, String)> {
    let unquote = |v: &str| v.trim_matches(|c| c == '"' || c == '\'').to_owned();
    if env && !rest.split_whitespace().next().unwrap_or("").contains('=') {
        return match rest.split_once(char::is_whitespace) {
            Some((k, v)) => vec![(k.to_owned(), unquote(v.trim()))],
            None => Vec::new(),
        };
    }
    rest.split_whitespace()
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.to_owned(), unquote(v)))
        })
        .collect()
}

/// Replaces one `$VAR`, `${VAR}` or `${VAR:-default}` reference, which is
/// all an `EXPOSE` port ever holds in practice.
fn expand(value: &str, vars: &BTreeMap<String, String>) -> String {
    let Some(name) = value.strip_prefix('$') else {
        return value.to_owned();
    };
    let (name, suffix) = match name.strip_prefix('{') {
        Some(inner) => match inner.split_once('}') {
            Some((n, s)) => (n, s),
            None => return value.to_owned(),
        },
        None => {
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            (&name[..end], &name[end..])
        }
    };
    let (name, default) = match name.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (name, None),
    };
    match vars.get(name).map(String::as_str).or(default) {
        Some(v) => format!("{v}{suffix}"),
        None => value.to_owned(),
    }
}

/// A Cargo binary crate at `dir` (its own `[[bin]]` or `src/main.rs`, or the
/// members of a workspace); `None` for a library-only crate.
fn cargo_app(dir: &Path, text: &str, path: &Path) -> Result<Option<App>, InitError> {
    let manifest: toml::Table = toml::from_str(text).map_err(|e| InitError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })?;
    let mut bins: Vec<(String, String)> = crate_bins(dir, &manifest);
    for member in workspace_members(dir, &manifest) {
        let member_manifest = member.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&member_manifest) else {
            continue;
        };
        if let Ok(table) = toml::from_str::<toml::Table>(&text) {
            bins.extend(crate_bins(&member, &table));
        }
    }
    bins.sort();
    bins.dedup();
    let mut names = bins.iter().map(|(_, bin)| bin.clone());
    let Some((package, bin)) = bins.first().cloned() else {
        return Ok(None);
    };
    names.next();
    Ok(Some(App::Cargo {
        package,
        bin,
        locked: dir.join("Cargo.lock").is_file(),
        others: names.collect(),
    }))
}

/// `(package, binary)` of each binary target of one crate.
fn crate_bins(dir: &Path, manifest: &toml::Table) -> Vec<(String, String)> {
    let Some(package) = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
    else {
        return Vec::new();
    };
    let mut bins: Vec<(String, String)> = manifest
        .get("bin")
        .and_then(toml::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|b| b.get("name").and_then(toml::Value::as_str))
                .map(|b| (package.to_owned(), b.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    // Cargo's auto-discovered binary: src/main.rs is named after the package
    // (unless a [[bin]] already claims that file).
    let autobins = manifest
        .get("package")
        .and_then(|p| p.get("autobins"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(true);
    if autobins && dir.join("src/main.rs").is_file() && !bins.iter().any(|(_, b)| b == package) {
        let claimed = manifest
            .get("bin")
            .and_then(toml::Value::as_array)
            .is_some_and(|list| {
                list.iter()
                    .any(|b| b.get("path").and_then(toml::Value::as_str) == Some("src/main.rs"))
            });
        if !claimed {
            bins.push((package.to_owned(), package.to_owned()));
        }
    }
    bins
}

/// The member folders of a `[workspace]`: literal paths and `dir/*` globs.
fn workspace_members(dir: &Path, manifest: &toml::Table) -> Vec<PathBuf> {
    let Some(members) = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in members.iter().filter_map(toml::Value::as_str) {
        if let Some(parent) = m.strip_suffix("/*") {
            if let Ok(entries) = std::fs::read_dir(dir.join(parent)) {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join("Cargo.toml").is_file())
                    .collect();
                found.sort();
                out.extend(found);
            }
        } else if !m.contains('*') {
            out.push(dir.join(m));
        }
    }
    out
}

/// A Node app from its package.json and lockfiles.
fn node_app(dir: &Path, text: &str, path: &Path) -> Result<App, InitError> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| InitError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let has_dep = |name: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|section| json.get(section).and_then(|d| d.get(name)).is_some())
    };
    let framework = if has_dep("nuxt") || has_dep("nuxt3") {
        Framework::Nuxt
    } else if has_dep("next") {
        Framework::Next
    } else {
        Framework::Plain
    };
    let script = |name: &str| {
        json.get("scripts")
            .and_then(|s| s.get(name))
            .and_then(serde_json::Value::as_str)
            .is_some()
    };
    let (manager, locked) = if dir.join("pnpm-lock.yaml").is_file() {
        (PackageManager::Pnpm, true)
    } else if dir.join("yarn.lock").is_file() {
        (PackageManager::Yarn, true)
    } else {
        (PackageManager::Npm, dir.join("package-lock.json").is_file())
    };
    Ok(App::Node {
        framework,
        manager,
        locked,
        yarn_berry: dir.join(".yarnrc.yml").is_file(),
        build: script("build"),
        start: script("start"),
        main: json
            .get("main")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
    })
}

// ----- git -----------------------------------------------------------------

/// A repository's git folder, read directly (no `git` program needed).
struct GitRepo {
    /// Where HEAD lives (a worktree's own folder for linked worktrees).
    git_dir: PathBuf,
    /// Where refs and config live.
    common_dir: PathBuf,
}

impl GitRepo {
    /// `.git` as a folder, or as a file pointing at one (`gitdir: ...`).
    fn open(dir: &Path) -> Option<GitRepo> {
        let dot_git = dir.join(".git");
        let git_dir = if dot_git.is_dir() {
            dot_git
        } else {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            dir.join(target)
        };
        let common_dir = std::fs::read_to_string(git_dir.join("commondir"))
            .ok()
            .map(|c| git_dir.join(c.trim()))
            .unwrap_or_else(|| git_dir.clone());
        Some(GitRepo {
            git_dir,
            common_dir,
        })
    }

    /// The checked-out branch; `None` for a detached HEAD.
    fn head(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.git_dir.join("HEAD")).ok()?;
        text.trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_owned)
    }

    /// Local branches: loose refs under refs/heads and packed ones.
    fn local_branches(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let heads = self.common_dir.join("refs/heads");
        collect_refs(&heads, &heads, &mut out);
        if let Ok(packed) = std::fs::read_to_string(self.common_dir.join("packed-refs")) {
            for line in packed.lines() {
                if let Some((_, name)) = line.split_once(' ')
                    && let Some(branch) = name.strip_prefix("refs/heads/")
                {
                    out.insert(branch.to_owned());
                }
            }
        }
        out
    }

    /// `owner/name` when the `origin` remote is on GitHub (https or ssh).
    fn github_origin(&self) -> Option<String> {
        let config = std::fs::read_to_string(self.common_dir.join("config")).ok()?;
        let mut in_origin = false;
        for line in config.lines().map(str::trim) {
            if line.starts_with('[') {
                in_origin = line.replace(' ', "") == "[remote\"origin\"]";
                continue;
            }
            if !in_origin {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() != "url" {
                continue;
            }
            let url = value.trim();
            let rest = url
                .strip_prefix("git@github.com:")
                .or_else(|| url.strip_prefix("ssh://git@github.com/"))
                .or_else(|| url.strip_prefix("https://github.com/"))?;
            let repo = rest.trim_end_matches('/').trim_end_matches(".git");
            let parts: Vec<&str> = repo.split('/').collect();
            return (parts.len() == 2 && parts.iter().all(|p| !p.is_empty()))
                .then(|| repo.to_owned());
        }
        None
    }
}

fn collect_refs(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect_refs(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.insert(name.join("/"));
        }
    }
}

/// Branch names that mean each env, most common first.
const DEV_NAMES: [&str; 3] = ["develop", "development", "dev"];
const STG_NAMES: [&str; 3] = ["staging", "stg", "stage"];
const PROD_NAMES: [&str; 2] = ["production", "prod"];
const TRUNK_NAMES: [&str; 2] = ["main", "master"];

/// Maps the local branches to envs. A branch named for an env goes to it;
/// the trunk (main/master, else HEAD) goes to prod when a develop branch
/// exists (git-flow), else to dev as in the reference (dev ← main, stg ←
/// stg, prod ← prod). Envs left without a branch get the reference's names.
pub fn map_branches(local: &BTreeSet<String>, head: Option<&str>, is_repo: bool) -> Branches {
    let first = |names: &[&str]| {
        names
            .iter()
            .find(|n| local.contains(**n))
            .map(|n| Found::new((*n).to_owned(), "git branch"))
    };
    let dev = first(&DEV_NAMES);
    let stg = first(&STG_NAMES);
    let prod = first(&PROD_NAMES);
    let taken: Vec<&str> = [&dev, &stg, &prod]
        .iter()
        .filter_map(|f| f.as_ref().map(|f| f.value.as_str()))
        .collect();
    let trunk = first(&TRUNK_NAMES).or_else(|| {
        head.filter(|h| !taken.contains(h))
            .map(|h| Found::new(h.to_owned(), "git HEAD"))
    });
    let default = |name: &str| {
        let from = if is_repo {
            "default; no such branch yet"
        } else {
            "default; not a git repository"
        };
        Found::new(name.to_owned(), from)
    };
    let (dev, prod) = match (dev, prod) {
        (Some(d), Some(p)) => (d, p),
        (Some(d), None) => (d, trunk.unwrap_or_else(|| default("main"))),
        (None, Some(p)) => (trunk.unwrap_or_else(|| default("main")), p),
        (None, None) => (trunk.unwrap_or_else(|| default("main")), default("prod")),
    };
    let mut stg = stg.unwrap_or_else(|| default("stg"));
    // The defaults could only collide with a trunk of the same name.
    if stg.value == dev.value || stg.value == prod.value {
        stg = default("staging");
    }
    let prod = if prod.value == dev.value {
        default("production")
    } else {
        prod
    };
    Branches { dev, stg, prod }
}

// ----- region and id -------------------------------------------------------

/// The region as the AWS CLI and SDKs choose it: `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, then the profile's `region` in the config file
/// (`AWS_CONFIG_FILE`, else `~/.aws/config`; profile `AWS_PROFILE`, else
/// `default`).
pub fn detect_region(env: &Environment) -> Option<Found<String>> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = env.var(var) {
            return Some(Found::new(r.trim().to_owned(), var));
        }
    }
    let file = env
        .var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".aws/config")))?;
    let text = std::fs::read_to_string(&file).ok()?;
    let profile = env.var("AWS_PROFILE").unwrap_or("default");
    profile_region(&text, profile)
        .map(|r| Found::new(r, format!("{} [{}]", file.display(), section_name(profile))))
}

fn section_name(profile: &str) -> String {
    if profile == "default" {
        "default".into()
    } else {
        format!("profile {profile}")
    }
}

/// `region` of one profile in an AWS config file (`[default]` or
/// `[profile NAME]`; the default profile may also be `[profile default]`).
pub fn profile_region(text: &str, profile: &str) -> Option<String> {
    let wanted = section_name(profile);
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            in_section = name == wanted || (profile == "default" && name == "profile default");
            continue;
        }
        if in_section
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "region"
            && !value.trim().is_empty()
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// A system id from the folder's name: lowercase letters, digits and single
/// hyphens, starting with a letter. Length limits are applied later, against
/// the config's own name rules.
pub fn folder_id(dir: &Path) -> Option<Found<String>> {
    let absolute = std::path::absolute(dir).ok()?;
    let name = absolute.file_name()?.to_string_lossy().into_owned();
    let id = sanitize_id(&name)?;
    Some(Found::new(id, format!("folder name `{name}`")))
}

/// `My_Shop.API` → `my-shop-api`; `None` when nothing usable is left.
pub fn sanitize_id(name: &str) -> Option<String> {
    let mut id = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    // Must start with a letter: drop leading digits and hyphens.
    let id = id.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let id = id.trim_end_matches('-');
    (id.len() >= 2).then(|| id.to_owned())
}
