//! `apprun init`: from an existing repository to an `apprun.toml` that
//! passes `apprun check` as written.
//!
//! 1. [`detect`] reads the repository and the AWS config: the app (a
//!    Dockerfile and its `EXPOSE`, a Cargo binary crate, a Node app), the git
//!    branches, the region, a system id from the folder name.
//! 2. [`questions`] lists what detection left open, each with its flag and a
//!    default; the caller fills [`Answers`] from flags, a terminal or the
//!    defaults.
//! 3. [`plan`] combines both and validates the result with the config loader
//!    itself, so an answer apprun.toml would refuse is refused here, naming
//!    its flag.
//! 4. [`write`] writes the files (apprun.toml, and a Dockerfile for apps
//!    without one), each complete or not at all, never over an existing one.

mod detect;
mod render;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use apprun_config::{CONFIG_FILE, Compute, Config, LoadError};

pub use detect::{
    App, Branches, Detection, Environment, Found, Framework, PackageManager, detect, detect_app,
    detect_region, dockerfile_port, folder_id, map_branches, profile_region, sanitize_id,
};
pub use render::{NODE_IMAGE, RUST_IMAGE, apprun_toml, dockerfile, dockerignore};

/// Why `init` could not produce or write a config.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "no app found in {}: expected a Dockerfile, a Cargo binary crate (Cargo.toml with [[bin]] or src/main.rs) or a Node app (package.json)",
        dir.display()
    )]
    NoApp { dir: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{} already exists; apprun init does not overwrite it (remove or rename it first)", path.display())]
    Exists { path: PathBuf },
    #[error(
        "{what} is needed and nobody can be asked (stdin is not a terminal): pass {flag}, or --yes to take the default"
    )]
    Unanswered {
        what: &'static str,
        flag: &'static str,
    },
    #[error("{flag}: {message}")]
    Invalid { flag: &'static str, message: String },
    #[error("--github-connection needs a GitHub `origin` remote (owner/name) in .git/config")]
    NoGitHubOrigin,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Answers given on the command line (or at the terminal); `None` means
/// "use what was detected, or ask".
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub id: Option<String>,
    pub region: Option<String>,
    pub port: Option<u16>,
    pub compute: Option<Compute>,
    pub zones: Option<[String; 2]>,
    pub branch_dev: Option<String>,
    pub branch_stg: Option<String>,
    pub branch_prod: Option<String>,
    pub health_path: Option<String>,
    /// A CodeConnections ARN: the source becomes the GitHub `origin`.
    pub github_connection: Option<String>,
}

/// A value detection could not settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Region,
    Port,
    Compute,
}

/// One question for the terminal, with the flag that answers it in scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub field: Field,
    pub flag: &'static str,
    /// What is missing, for the error when nobody can be asked.
    pub what: &'static str,
    pub prompt: String,
    pub default: String,
    /// The accepted answers, when they are a fixed set.
    pub choices: Vec<String>,
}

/// The compute backend when nobody chooses: App Runner closed to new
/// customers on 2026-04-30, so a new adopter gets ECS Express Mode.
pub const DEFAULT_COMPUTE: Compute = Compute::EcsExpress;
/// The region when nothing is configured (AWS's own first region).
pub const DEFAULT_REGION: &str = "us-east-1";
/// The port asked with when the app does not say (a common web default).
pub const DEFAULT_PORT: u16 = 8080;
/// The system id when the folder name gives none.
pub const DEFAULT_ID: &str = "app";

/// The questions detection left open, in the order they are asked, minus
/// those `answers` already settle.
pub fn questions(detection: &Detection, answers: &Answers) -> Vec<Question> {
    let mut out = Vec::new();
    if answers.id.is_none() && detection.id.is_none() {
        out.push(Question {
            field: Field::Id,
            what: "the system id",
            flag: "--id",
            prompt: "System id (prefix of every AWS name)".into(),
            default: DEFAULT_ID.into(),
            choices: Vec::new(),
        });
    }
    if answers.region.is_none() && detection.region.is_none() {
        out.push(Question {
            field: Field::Region,
            what: "the AWS region",
            flag: "--region",
            prompt: "AWS region".into(),
            default: DEFAULT_REGION.into(),
            choices: Vec::new(),
        });
    }
    if answers.port.is_none() && detection.app.port().is_none() {
        let default = match detection.app {
            App::Node { .. } => 3000,
            _ => DEFAULT_PORT,
        };
        out.push(Question {
            field: Field::Port,
            what: "the app's port",
            flag: "--port",
            prompt: "Port the app listens on".into(),
            default: default.to_string(),
            choices: Vec::new(),
        });
    }
    if answers.compute.is_none() {
        out.push(Question {
            field: Field::Compute,
            what: "the compute backend",
            flag: "--compute",
            prompt: "Compute backend (App Runner: accounts that already use it)".into(),
            default: DEFAULT_COMPUTE.as_str().into(),
            choices: Compute::ALL.iter().map(|c| c.as_str().to_owned()).collect(),
        });
    }
    out
}

/// Records the answer to one question, as typed at the terminal or taken
/// as its default; the error names the question's flag.
pub fn answer(answers: &mut Answers, question: &Question, text: &str) -> Result<(), InitError> {
    let text = text.trim();
    let invalid = |message: String| InitError::Invalid {
        flag: question.flag,
        message,
    };
    match question.field {
        Field::Id => {
            loader_accepts("system.id", &format!("id = {}", toml_str(text))).map_err(invalid)?;
            answers.id = Some(text.to_owned());
        }
        Field::Region => {
            loader_accepts("system.region", &format!("region = {}", toml_str(text)))
                .map_err(invalid)?;
            answers.region = Some(text.to_owned());
        }
        Field::Port => {
            let port = text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid(format!("`{text}` is not a port (1 to 65535)")))?;
            answers.port = Some(port);
        }
        Field::Compute => {
            answers.compute = Some(parse_compute(text).ok_or_else(|| {
                invalid(format!(
                    "`{text}` is not a compute backend; use {}",
                    question.choices.join(" or ")
                ))
            })?);
        }
    }
    Ok(())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Whether the config loader accepts one `[system]` line, checked in a
/// minimal valid config, so that a bad answer is asked again at once; the
/// error is the loader's message for `key`.
fn loader_accepts(key: &str, line: &str) -> Result<(), String> {
    let mut system = vec!["id = \"app\"", "region = \"us-east-1\""];
    let field = key.trim_start_matches("system.");
    system.retain(|l| !l.starts_with(field));
    let text = format!(
        "[system]\n{line}\n{}\n\n[source]\ntype = \"codecommit\"\nrepository = \"app\"\n\n\
         [services.web]\nport = 8080\n\n\
         [env.dev]\nnetwork = \"10.0.0.0/24\"\nbranch = \"main\"\ncpu = \"1 vCPU\"\nmemory = \"2 GB\"\n",
        system.join("\n")
    );
    match Config::parse(&text, CONFIG_FILE) {
        Err(LoadError::Invalid { errors, .. }) => match errors.iter().find(|e| e.key == key) {
            Some(e) => Err(e.message.clone()),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// `apprunner` or `ecs-express` (`app-runner` too).
pub fn parse_compute(text: &str) -> Option<Compute> {
    Compute::parse(text).or_else(|| (text == "app-runner").then_some(Compute::AppRunner))
}

/// Everything `init` writes, settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub region: String,
    pub zones: [String; 2],
    pub compute: Compute,
    pub port: u16,
    pub health_path: String,
    /// The Dockerfile the pipeline builds (relative to the repository).
    pub dockerfile: String,
    /// The Dockerfile to write, for apps without one.
    pub new_dockerfile: Option<String>,
    /// A `.dockerignore` to write beside a generated Dockerfile, when the
    /// repository has none (an existing one is kept as it is).
    pub new_dockerignore: Option<String>,
    /// dev, stg, prod.
    pub branches: [String; 3],
    /// The CodeCommit repository name, or `owner/name` on GitHub.
    pub repository: String,
    /// Set: the source is GitHub through this CodeConnections connection.
    pub connection: Option<String>,
    /// The GitHub origin, shown in the commented GitHub alternative.
    pub github: Option<String>,
    /// The apprun.toml text.
    pub toml: String,
}

/// Zones every account has in most regions; Tokyo has no `b` for new
/// accounts (the reference uses `a` and `c` there).
fn default_zones(region: &str) -> [String; 2] {
    match region {
        "ap-northeast-1" => ["a".into(), "c".into()],
        _ => ["a".into(), "b".into()],
    }
}

/// Where shortening a folder-derived id starts (no AWS name apprun derives
/// takes more, S3 buckets allow 63 characters in all); [`fit_id`] then
/// shortens it until the loader accepts every derived name. An explicit
/// `--id` is never shortened: it is refused with the loader's message.
const MAX_ID: usize = 63;

/// Combines detection and answers into the files to write, validated by the
/// config loader. Unanswered questions without a detected value are an
/// [`InitError::Unanswered`].
pub fn plan(detection: &Detection, answers: &Answers) -> Result<Plan, InitError> {
    let unanswered = |what, flag| InitError::Unanswered { what, flag };
    let (id, id_given) = match (&answers.id, &detection.id) {
        (Some(id), _) => (id.trim().to_owned(), true),
        (None, Some(found)) => (found.value.clone(), false),
        (None, None) => return Err(unanswered("the system id", "--id")),
    };
    let region = answers
        .region
        .clone()
        .or_else(|| detection.region.as_ref().map(|r| r.value.clone()))
        .ok_or_else(|| unanswered("the AWS region", "--region"))?;
    let port = answers
        .port
        .or_else(|| detection.app.port().map(|p| p.value))
        .ok_or_else(|| unanswered("the app's port", "--port"))?;
    let compute = answers
        .compute
        .ok_or_else(|| unanswered("the compute backend", "--compute"))?;
    let (repository, connection) = match &answers.github_connection {
        Some(arn) => (
            detection.github.clone().ok_or(InitError::NoGitHubOrigin)?,
            Some(arn.clone()),
        ),
        None => (id.clone(), None),
    };
    let branches = [
        answers
            .branch_dev
            .clone()
            .unwrap_or_else(|| detection.branches.dev.value.clone()),
        answers
            .branch_stg
            .clone()
            .unwrap_or_else(|| detection.branches.stg.value.clone()),
        answers
            .branch_prod
            .clone()
            .unwrap_or_else(|| detection.branches.prod.value.clone()),
    ];
    let new_dockerfile = dockerfile(&detection.app, port);
    let new_dockerignore = match new_dockerfile {
        Some(_) if !detection.dir.join(".dockerignore").exists() => {
            Some(dockerignore(&detection.app))
        }
        _ => None,
    };
    let mut plan = Plan {
        id,
        zones: answers
            .zones
            .clone()
            .unwrap_or_else(|| default_zones(&region)),
        region,
        compute,
        port,
        health_path: answers.health_path.clone().unwrap_or_else(|| "/".into()),
        dockerfile: "Dockerfile".into(),
        new_dockerfile,
        new_dockerignore,
        branches,
        repository,
        connection,
        github: detection.github.clone(),
        toml: String::new(),
    };
    if !id_given {
        fit_id(&mut plan);
    }
    plan.toml = apprun_toml(&plan);
    validate(&plan)?;
    Ok(plan)
}

/// Shortens a folder-derived id until every AWS name built from it is
/// valid, by asking the config loader (which knows every name's limits).
fn fit_id(plan: &mut Plan) {
    let mut id: String = plan.id.chars().take(MAX_ID).collect();
    loop {
        let candidate = id.trim_end_matches('-').to_owned();
        let repository = if plan.connection.is_none() {
            candidate.clone()
        } else {
            plan.repository.clone()
        };
        let trial = Plan {
            id: candidate.clone(),
            repository: repository.clone(),
            ..plan.clone()
        };
        let too_long = match Config::parse(&apprun_toml(&trial), CONFIG_FILE) {
            Err(LoadError::Invalid { errors, .. }) => {
                errors.iter().any(|e| e.key == "system.id") && candidate.len() > 2
            }
            _ => false,
        };
        if !too_long {
            plan.id = candidate;
            plan.repository = repository;
            return;
        }
        id = candidate[..candidate.len() - 1].to_owned();
    }
}

/// The flag that sets a config key, so that loader errors name what to fix.
fn flag_of(key: &str) -> &'static str {
    match key {
        k if k.starts_with("system.id") => "--id",
        k if k.starts_with("system.region") => "--region",
        k if k.starts_with("system.zones") => "--zones",
        k if k.starts_with("source.") => "--github-connection",
        k if k.ends_with(".port") => "--port",
        k if k.ends_with(".compute") => "--compute",
        k if k.contains(".health") => "--health-path",
        "env.dev.branch" => "--branch-dev",
        "env.stg.branch" => "--branch-stg",
        "env.prod.branch" => "--branch-prod",
        k if k.ends_with(".branch") => "--branch-dev/--branch-stg/--branch-prod",
        _ => "apprun init",
    }
}

/// Loads the rendered text with the config loader; its first error becomes
/// an [`InitError::Invalid`] naming the flag to change.
fn validate(plan: &Plan) -> Result<Config, InitError> {
    Config::parse(&plan.toml, CONFIG_FILE).map_err(|e| match e {
        LoadError::Invalid { errors, .. } => match errors.first() {
            Some(first) => InitError::Invalid {
                flag: flag_of(&first.key),
                message: first.message.clone(),
            },
            None => InitError::Invalid {
                flag: "apprun init",
                message: "the generated apprun.toml is invalid".into(),
            },
        },
        other => InitError::Invalid {
            flag: "apprun init",
            message: other.to_string(),
        },
    })
}

/// The files [`write`] created, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub files: Vec<PathBuf>,
}

/// Writes the plan into `dir`: the Dockerfile and .dockerignore (when the
/// app had none), then apprun.toml. Refuses, before writing anything, when
/// any of them exists.
/// Each file is written to a temporary file in the same folder and linked
/// into place only if the name is still free, so a file is complete or
/// absent; when a later file cannot be placed, those written before it are
/// removed again.
pub fn write(dir: &Path, plan: &Plan) -> Result<Written, InitError> {
    let config_path = dir.join(CONFIG_FILE);
    let docker_path = dir.join(&plan.dockerfile);
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(text) = &plan.new_dockerfile {
        files.push((docker_path, text));
    }
    if let Some(text) = &plan.new_dockerignore {
        files.push((dir.join(".dockerignore"), text));
    }
    files.push((config_path, &plan.toml));
    for (path, _) in &files {
        if path.exists() {
            return Err(InitError::Exists { path: path.clone() });
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (path, text) in &files {
        if let Err(e) = write_new(dir, path, text) {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path.clone());
    }
    Ok(Written { files: written })
}

/// One file, whole or not at all, never replacing an existing one.
fn write_new(dir: &Path, path: &Path, text: &str) -> Result<(), InitError> {
    let io = |source: std::io::Error| InitError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".apprun-init-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // Temporary files are private (0600); a repository file is not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).map_err(io)?;
    }
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            InitError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            io(e.error)
        }
    })?;
    Ok(())
}
