//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Stand up a containerized web app's production architecture on AWS: \
a three-tier VPC over two zones, IAM roles, image and source repositories, a CI/CD pipeline \
and the service on App Runner, as CloudFormation that apprun synthesizes, checks and deploys.";

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  a check found errors
  2  invalid config, template or command line (nothing was written or deployed)
  3  local I/O failure (e.g. the output folder could not be written)";

#[derive(Debug, Parser)]
#[command(name = "apprun", version, about = ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// Path to apprun.toml (default: ./apprun.toml).
    #[arg(long, global = true, env = "APPRUN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Result format on stdout. Progress always goes to stderr.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write every stack's CloudFormation template for one or all environments.
    #[command(after_help = "Examples:
  apprun synth --env dev --out cdk.out      # iam, repository, network, service-web, pipeline
  apprun synth --all --out templates        # a folder per environment
  apprun synth --env prod --format json --out prod-json

The output is byte-for-byte deterministic. An existing output folder is replaced
atomically, and only if apprun wrote it.")]
    Synth(SynthArgs),

    /// Show what a deploy would create: stacks in order, resources, subnets, rules.
    #[command(after_help = "Examples:
  apprun plan --env dev
  apprun plan --env prod --output json | jq '.stacks[].name'

Offline: synthesizes and validates, touches no AWS account.")]
    Plan(PlanArgs),

    /// Validate the synthesized stacks of an environment, or template files.
    #[command(after_help = "Examples:
  apprun check --env dev
  apprun check --template my-stack.yaml --output json

Exits 1 when any error is found.")]
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Environment to synthesize (see [env.NAME] in apprun.toml).
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub env: Option<String>,
    /// Synthesize every environment, a folder per environment.
    #[arg(long)]
    pub all: bool,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "apprun.out")]
    pub out: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value_t = TemplateFormat::Yaml)]
    pub format: TemplateFormat,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Environment to plan.
    #[arg(long, value_name = "NAME")]
    pub env: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Environment whose synthesized stacks to check.
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    pub env: Option<String>,
    /// CloudFormation template files (YAML or JSON) to check instead.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub template: Vec<PathBuf>,
}
