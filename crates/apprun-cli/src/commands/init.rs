//! `apprun init`: writes apprun.toml (and a Dockerfile for apps without one)
//! for an existing repository. The work is in `apprun_init`; this file holds
//! the command line, the questions and the output.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use apprun_config::Compute;
use apprun_init::{Answers, Detection, Environment, Found, InitError, Plan, Question};
use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use serde_json::json;

use crate::diagnostics::Failure;
use crate::output::{Context, escape_controls, outln, print_json};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  apprun init                                    # detect, ask what is left, write apprun.toml
  apprun init --yes                              # take every default (scripts, CI)
  apprun init --yes --compute apprunner --region eu-west-1 --port 8080
  apprun init --branch-dev develop --branch-stg release --branch-prod main
  apprun init --github-connection arn:aws:codeconnections:eu-west-1:123456789012:connection/ID

Detects the app (a Dockerfile and its EXPOSE; else a Cargo binary crate or a Node app
such as Nuxt or Next.js, for which it writes a multi-stage Dockerfile with ECR Public
base images, and a .dockerignore unless there is one), the git branches, the region (AWS_REGION, AWS_DEFAULT_REGION, then the
AWS_PROFILE's region in ~/.aws/config) and a system id from the folder name. On a
terminal it asks only what it could not detect; without a terminal every such answer
needs its flag, or --yes for the defaults. Never overwrites an existing apprun.toml or
Dockerfile (exit 4).")]
pub struct InitArgs {
    /// The repository to set up.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Ask nothing: what was not detected or given takes its default.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// System id, the prefix of every AWS name [default: the folder name, sanitized].
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config; else us-east-1].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The two availability-zone letters, e.g. `a,c` [default: a,c in ap-northeast-1, else a,b].
    #[arg(long, value_name = "X,Y", value_parser = parse_zones)]
    pub zones: Option<ZonesArg>,

    /// The port the app listens on [default: the Dockerfile's EXPOSE, 3000 for Nuxt/Next, else 8080].
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// Compute backend [default: ecs-express; App Runner takes existing customers only].
    #[arg(long, value_name = "BACKEND", value_parser = compute_parser())]
    pub compute: Option<Compute>,

    /// Branch the dev pipeline deploys [default: develop/development/dev, else main/master].
    #[arg(long, value_name = "BRANCH")]
    pub branch_dev: Option<String>,

    /// Branch the stg pipeline deploys [default: staging/stg/stage, else `stg`].
    #[arg(long, value_name = "BRANCH")]
    pub branch_stg: Option<String>,

    /// Branch the prod pipeline deploys [default: production/prod, main/master with a develop branch, else `prod`].
    #[arg(long, value_name = "BRANCH")]
    pub branch_prod: Option<String>,

    /// The service's health-check path.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub health_path: String,

    /// Use the GitHub `origin` remote as the source, through this CodeConnections connection
    /// [default: a CodeCommit repository named after the system id].
    #[arg(long, value_name = "ARN")]
    pub github_connection: Option<String>,
}

/// Two zone letters from `--zones a,c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZonesArg(pub [String; 2]);

fn parse_zones(text: &str) -> Result<ZonesArg, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [a, b] if !a.is_empty() && !b.is_empty() => {
            Ok(ZonesArg([(*a).to_owned(), (*b).to_owned()]))
        }
        _ => Err(format!("`{text}` is not two zone letters such as `a,c`")),
    }
}

/// `apprunner` / `ecs-express` (apprun.toml's names), and `app-runner`
/// accepted but not listed.
fn compute_parser() -> impl TypedValueParser<Value = Compute> {
    let mut names: Vec<PossibleValue> = Compute::ALL
        .iter()
        .map(|c| PossibleValue::new(c.as_str()))
        .collect();
    names.push(PossibleValue::new("app-runner").hide(true));
    PossibleValuesParser::new(names).try_map(|name| {
        apprun_init::parse_compute(&name).ok_or_else(|| format!("unknown backend `{name}`"))
    })
}

pub fn run(ctx: &Context, args: &InitArgs) -> Result<ExitCode, Failure> {
    let detection =
        apprun_init::detect(&args.dir, &Environment::from_process()).map_err(failure)?;
    if !ctx.json() {
        summary(ctx, &detection);
    }
    let mut answers = Answers {
        id: args.id.clone(),
        region: args.region.clone(),
        port: args.port,
        compute: args.compute,
        zones: args.zones.clone().map(|z| z.0),
        branch_dev: args.branch_dev.clone(),
        branch_stg: args.branch_stg.clone(),
        branch_prod: args.branch_prod.clone(),
        health_path: Some(args.health_path.clone()),
        github_connection: args.github_connection.clone(),
    };
    let open = apprun_init::questions(&detection, &answers);
    let terminal = std::io::stdin().is_terminal();
    for question in &open {
        if args.yes {
            apprun_init::answer(&mut answers, question, &question.default).map_err(failure)?;
        } else if terminal {
            ask(&mut answers, question)?;
        } else {
            return Err(failure(InitError::Unanswered {
                what: question.what,
                flag: question.flag,
            }));
        }
    }
    let plan = apprun_init::plan(&detection, &answers).map_err(failure)?;
    let written = apprun_init::write(&args.dir, &plan).map_err(failure)?;
    let files: Vec<String> = written
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if ctx.json() {
        print_json(&result_json(&detection, &plan, &files));
    } else {
        for f in &files {
            outln!("{}", escape_controls(f));
        }
        ctx.progress(format!(
            "wrote {}; next: `apprun plan --env dev`, then `apprun check --env dev`",
            files
                .iter()
                .map(|f| escape_controls(f).into_owned())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// What was detected and where from, on stderr before any question.
fn summary(ctx: &Context, d: &Detection) {
    let found = |f: &Option<Found<String>>| match f {
        Some(f) => format!(
            "{} (from {})",
            escape_controls(&f.value),
            escape_controls(&f.from)
        ),
        None => "not found".into(),
    };
    let port = match d.app.port() {
        Some(p) => format!("{} (from {})", p.value, p.from),
        None => "not found".into(),
    };
    let branch = |f: &Found<String>| {
        format!(
            "{} ({})",
            escape_controls(&f.value),
            escape_controls(&f.from)
        )
    };
    ctx.progress(format!(
        "detected in {}:\n  app:     {}\n  port:    {port}\n  id:      {}\n  region:  {}\n  \
         branches: dev {}, stg {}, prod {}",
        escape_controls(&d.dir.display().to_string()),
        escape_controls(&d.app.describe()),
        found(&d.id),
        found(&d.region),
        branch(&d.branches.dev),
        branch(&d.branches.stg),
        branch(&d.branches.prod),
    ));
}

/// Asks one question on stderr until the answer is valid; an empty answer
/// takes the default.
fn ask(answers: &mut Answers, question: &Question) -> Result<(), Failure> {
    let choices = if question.choices.is_empty() {
        String::new()
    } else {
        format!(" ({})", question.choices.join("/"))
    };
    loop {
        eprint!("{}{choices} [{}]: ", question.prompt, question.default);
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(Failure::io("reading the answer"))?;
        if read == 0 {
            // End of input: nobody is there to answer.
            return Err(failure(InitError::Unanswered {
                what: question.what,
                flag: question.flag,
            }));
        }
        let text = match line.trim() {
            "" => question.default.as_str(),
            t => t,
        };
        match apprun_init::answer(answers, question, text) {
            Ok(()) => return Ok(()),
            Err(e) => eprintln!("{}", escape_controls(&e.to_string())),
        }
    }
}

/// The JSON result: the files written and the settled values.
fn result_json(d: &Detection, plan: &Plan, files: &[String]) -> serde_json::Value {
    json!({
        "ok": true,
        "files": files,
        "app": d.app.describe(),
        "system": { "id": plan.id, "region": plan.region, "zones": plan.zones },
        "service": {
            "compute": plan.compute.as_str(),
            "port": plan.port,
            "dockerfile": plan.dockerfile,
            "dockerfile_written": plan.new_dockerfile.is_some(),
        },
        "branches": { "dev": plan.branches[0], "stg": plan.branches[1], "prod": plan.branches[2] },
        "source": if plan.connection.is_some() { "github" } else { "codecommit" },
    })
}

/// Each `init` error as the kind of failure its exit code names: an existing
/// file or a question nobody could answer is a refusal (4), a bad answer or
/// a repository without an app is a usage error (2), a failed write is I/O (3).
fn failure(e: InitError) -> Failure {
    match e {
        InitError::Exists { .. } | InitError::Unanswered { .. } => Failure::Refused(e.to_string()),
        InitError::Write { path, source } => Failure::Io {
            what: format!("writing {}", path.display()),
            error: source,
        },
        InitError::NoApp { .. }
        | InitError::Read { .. }
        | InitError::Parse { .. }
        | InitError::Invalid { .. }
        | InitError::NoGitHubOrigin => Failure::Usage(e.to_string()),
    }
}
