//! Command-line syntax.

use std::path::PathBuf;

use apprun_config::Compute;
use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Stand up a containerized web app's production architecture on AWS: \
a three-tier VPC over two zones, IAM roles, image and source repositories, a CI/CD pipeline \
and the service on App Runner or ECS Express Mode, as CloudFormation that apprun synthesizes, \
checks and deploys.";

const EXIT_CODES: &str = "Examples:
  apprun plan --env dev                         # offline: stacks, resources, subnets, rules
  apprun check --env prod --format sarif > apprun.sarif
  apprun deploy --env dev --image-tag 3f2a1bc --yes
  apprun diff --env prod --exit-code            # 0 no changes, 2 changes pending
  apprun status --env dev --output json | jq -r '.stacks[].status'

Exit codes:
  0    success
  1    an operation failed: a check found errors, a deploy, destroy, release or migration
       failed on AWS (the message says in which state AWS is), an image build or push
       failed, the local service exited or never became healthy
  2    invalid config, template or command line, or an input file that cannot be read
       (nothing was written or deployed); `diff --exit-code`: changes are pending
  3    local I/O failure: output apprun could not write (e.g. the synth folder)
  4    refused for safety before any change: wrong account, a stack in a state apprun
       must not touch, an image tag that is not in the registry, a working tree with
       uncommitted changes, a question answered no or not asked (no terminal, no --yes),
       nothing to act on (no approval pending, a service or pipeline not deployed yet)
  5    a tool apprun needs is missing or cannot run (image builder, git)
  6    a job ran and failed: `apprun job run` or `job local`, whose command exited
       with a code other than 0 (that code is in the message)
  130  interrupted by Ctrl-C (AWS keeps going with what had started)";

#[derive(Debug, Parser)]
#[command(name = "apprun", version, about = ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// Path to apprun.toml (default: ./apprun.toml).
    #[arg(
        long,
        global = true,
        env = "APPRUN_CONFIG",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Result format on stdout: with json, stdout is exactly one JSON
    /// document, errors included. Progress always goes to stderr.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// No progress on stderr; results, errors and questions still appear.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Colour on stderr: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Credentials, region and endpoint, for the commands that call AWS.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS profile of ~/.aws/config.
    #[arg(long, env = "AWS_PROFILE", hide_env_values = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region [default: AWS_DEFAULT_REGION, else system.region of apprun.toml].
    #[arg(
        long,
        env = "AWS_REGION",
        hide_env_values = true,
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint (LocalStack, moto).
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    /// The region as the AWS SDKs and CLI choose it: --region, AWS_REGION,
    /// AWS_DEFAULT_REGION; then the config's own.
    pub fn region_or(&self, configured: &str) -> String {
        self.region
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| {
                std::env::var("AWS_DEFAULT_REGION")
                    .ok()
                    .filter(|r| !r.is_empty())
            })
            .unwrap_or_else(|| configured.to_owned())
    }
}

/// A compute backend on the command line: the values are apprun.toml's
/// names of [`Compute::ALL`], so a new backend needs nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendArg(pub Compute);

static BACKENDS: std::sync::LazyLock<Vec<BackendArg>> =
    std::sync::LazyLock::new(|| Compute::ALL.into_iter().map(BackendArg).collect());

impl ValueEnum for BackendArg {
    fn value_variants<'a>() -> &'a [Self] {
        &BACKENDS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.as_str()))
    }
}

/// The tools that can build an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderArg {
    Docker,
    Podman,
    Buildah,
}

impl From<BuilderArg> for apprun_image::Builder {
    fn from(b: BuilderArg) -> Self {
        match b {
            BuilderArg::Docker => apprun_image::Builder::Docker,
            BuilderArg::Podman => apprun_image::Builder::Podman,
            BuilderArg::Buildah => apprun_image::Builder::Buildah,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write apprun.toml for an existing repository: detects the app, its port, the branches and the region.
    #[command(after_help = "Examples:
  apprun init                      # detect, ask only what is left, write apprun.toml
  apprun init --yes                # no questions: defaults for what was not detected
  apprun init --yes --compute apprunner --region eu-west-1 --port 8080

Never overwrites an existing apprun.toml or Dockerfile (exit 4, nothing written).")]
    Init(crate::commands::init::InitArgs),

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

    /// Draw an environment's architecture from its synthesized stacks (SVG, Mermaid, DOT).
    #[command(after_help = "Examples:
  apprun diagram --env dev --out docs/diagram-dev.svg
  apprun diagram --env prod --format mermaid > docs/prod.mmd
  apprun diagram --env stg --format dot | dot -Tpng -o stg.png

Offline and deterministic: the same config draws the same picture.")]
    Diagram(crate::commands::diagram::DiagramArgs),

    /// Validate templates: resource schemas, references, policy rules, your cfn-guard rules.
    #[command(after_help = "Examples:
  apprun check --env prod
  apprun check --template legacy/vpc.yml legacy/app.json --format sarif > apprun.sarif
  apprun check --env dev --rules policy/ --format json

Exits 1 when any error is found (silenced findings do not count). `apprun deploy` runs
the same check first and stops on errors.")]
    Check(CheckArgs),

    /// Deploy an environment's stacks: waves in dependency order, unchanged stacks skipped.
    #[command(after_help = "Examples:
  apprun deploy --env dev                            # first deploy: everything but the service
  apprun deploy --env dev --image-tag 3f2a1bc        # the service at a tag pushed to its repository
  apprun deploy --env dev                            # later: unchanged stacks make no write at all
  apprun deploy --env stg --stack network --yes      # one stack, no questions (CI)
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 apprun deploy --env dev --yes --image-tag abc1234

Without --image-tag, a service stack that does not exist yet is left out (deferred) and
apprun says how it will come: the pipeline's first run, or `apprun release`. With
--image-tag, the tag must exist in each service's repository (ECR DescribeImages) before
anything is written; otherwise apprun refuses (exit 4).

Credentials come from the default chain (env vars, --profile, SSO, instance role). Before
any write apprun checks the account (STS) against the env's `account`. Every change is
shown and, without --yes, asked for. Ctrl-C stops waiting and leaves AWS as it is.")]
    Deploy(DeployArgs),

    /// Show what a deploy would change, per stack, without changing anything.
    #[command(after_help = "Examples:
  apprun diff --env prod
  apprun diff --env dev --image-tag 9c0ffee --output json
  apprun diff --env prod --exit-code || echo \"changes pending (2) or failed (1)\"

With --exit-code, like `git diff --exit-code`: 0 no changes, 2 changes pending, 1 an error.")]
    Diff(DiffArgs),

    /// Show each stack's status, last update and the service URL, and the pipeline's last runs.
    #[command(after_help = "Examples:
  apprun status --env dev
  apprun status --env prod --output json | jq -r '.stacks[] | select(.url) | .url'")]
    Status(StatusArgs),

    /// Delete an environment's stacks, dependents first.
    #[command(after_help = "Examples:
  apprun destroy --env dev
  apprun destroy --env dev --yes

Retained resources (the CodeCommit repository) are kept and named. The per-account IAM
stack is kept while another env still imports its exports. The artifact bucket is emptied
so that it can be deleted.")]
    Destroy(DestroyArgs),

    /// Run the service locally as its backend (App Runner or ECS Express) would: same port, env vars, health check.
    #[command(after_help = "Examples:
  apprun local --env dev                 # the service's `local` command, or its image in a container
  apprun local --env dev --port 8080
  apprun local --env prod --via container

Prints the URL once the health path answers, forwards the logs, stops cleanly on Ctrl-C
(SIGTERM, then 10 seconds' grace, as App Runner and ECS do). With --output json, stdout
gets one document with the URL and the logs go to stderr.")]
    Local(LocalArgs),

    /// Build the image, push it tagged with the commit, deploy that tag, verify, roll back.
    #[command(after_help = "Examples:
  apprun release --env dev --yes                             # from nothing: infrastructure, image, service
  apprun release --env dev                                   # ECR, deploy, verify
  apprun release --env dev --registry 127.0.0.1:5000/apprunner-nuxt3-dev --skip-deploy
  apprun release --env stg --image-tag hotfix-1 --builder podman

On an env where the infrastructure is not deployed yet, release deploys it first (without
the service; asked for unless --yes), then builds, pushes, creates the service at that tag
and verifies it. Verification, per backend: on App Runner the service's latest operation
must succeed (a stack update can succeed while App Runner rolled back), on ECS Express
the service's deployment must complete; then the health path must answer 200 at the
service URL. Otherwise the previous tag is deployed again and apprun exits 1.")]
    Release(ReleaseArgs),

    /// Move a service between App Runner and ECS Express Mode, side by side.
    #[command(after_help = "Examples:
  apprun migrate --env dev --service web --to ecs-express
  apprun migrate --env dev --service web --to ecs-express --remove-old --yes
  apprun migrate --env stg --service web --to apprunner     # back, where App Runner is available

The new backend's stack is deployed beside the old one at the image tag the old one runs,
and verified; both URLs are printed with what to switch (DNS). The old service is removed
only with --remove-old. Then set `compute` in apprun.toml to the new backend.")]
    Migrate(MigrateArgs),

    /// Read the service's application logs or the pipeline's last build log, merged by time.
    #[command(after_help = "Examples:
  apprun logs --env dev                          # the first service, the last hour
  apprun logs --env prod --service web --since 15m --filter ERROR
  apprun logs --env dev --follow                 # new lines as they come, until Ctrl-C
  apprun logs --env dev --build                  # the pipeline's last build of each service
  apprun logs --env dev --job daily-analysis --since 2d   # a job's runs, one stream per run
  apprun logs --env dev --output json | jq -r .message

One line per event: time (UTC), log stream, message. On a terminal, messages that are
JSON objects are pretty-printed. With --output json, stdout is JSON lines: one object
per event (time, timestamp, group, stream, message), and an error ends the stream
with the usual error document. --follow polls, waiting longer while nothing arrives,
until Ctrl-C (exit 130).")]
    Logs(LogsArgs),

    /// Approve or reject the pipeline's pending manual approval, after showing what it releases.
    #[command(after_help = "Examples:
  apprun approve --env prod                          # shows commit and image tag, asks
  apprun approve --env prod --yes --comment \"checked stg\"
  apprun approve --env prod --reject --comment \"breaks checkout\"

Refuses (exit 4) when no approval is pending, or when nobody can be asked (no terminal,
no --yes). An approval answered meanwhile or expired (CodePipeline waits 7 days) is
reported as such (exit 1); nothing is changed then.")]
    Approve(ApproveArgs),

    /// Run a job now and follow it, list jobs and their last runs, or run one locally.
    #[command(after_help = "Examples:
  apprun job run --env dev daily-analysis       # run it on ECS now, follow it to its exit code
  apprun job list --env prod                    # triggers, last runs, failures waiting
  apprun job local --env dev daily-analysis     # its command on this machine

A job is a [jobs.NAME] of apprun.toml: the image of a service, run on a schedule or
an event. `apprun job run` exits with 0 when the job's command exited 0, 6 when it
exited with another code.")]
    Job(crate::commands::job::JobArgs),

    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:
  apprun completions bash > ~/.local/share/bash-completion/completions/apprun
  apprun completions zsh > ~/.zfunc/_apprun
  apprun completions fish > ~/.config/fish/completions/apprun.fish")]
    Completions(crate::commands::completions::CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Environment.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Service (default: the first of apprun.toml); with --build, its build only.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The pipeline's last CodeBuild build instead of the service.
    #[arg(long)]
    pub build: bool,
    /// A job's logs instead of the service's: every run (one stream per run) in its log group.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["service", "build"])]
    pub job: Option<String>,
    /// Keep printing new events until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: a number and s, m, h or d.
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = parse_age)]
    pub since: std::time::Duration,
    /// CloudWatch Logs filter pattern (e.g. ERROR, or { $.level = "error" }).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

/// `30s`, `15m`, `1h`, `2d`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("a number followed by s, m, h or d (e.g. 15m)".into()),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| "a number followed by s, m, h or d (e.g. 15m)".to_owned())?;
    n.checked_mul(seconds)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| "too long ago".to_owned())
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Environment whose pipeline waits for approval.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Reject instead of approving: the run stops before its deploy stage.
    #[arg(long)]
    pub reject: bool,
    /// The comment recorded with the answer.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Environment.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Service to move.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Backend to move to.
    #[arg(long, value_enum)]
    pub to: BackendArg,
    /// Delete the old backend's service stack once the new one is healthy.
    #[arg(long)]
    pub remove_old: bool,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long the new service may take to become healthy (its backend's
    /// deployment and the health path), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Environment whose settings (ENV, size, health check) to use.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Service (default: the first of apprun.toml).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Local port (default: the service's port).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Run the image in a container, or the service's `local` command.
    #[arg(long, value_enum, default_value_t = LocalVia::Auto)]
    pub via: LocalVia,
    /// Read the service's secrets (SSM Parameter Store, Secrets Manager) and pass them to
    /// it; their values are never printed. Without it they are left unset.
    #[arg(long)]
    pub secrets: bool,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LocalVia {
    /// The `local` command when the service has one, else a container.
    Auto,
    Command,
    Container,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Environment to release to.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Service (default: the first of apprun.toml).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Image tag (default: the 7-character commit id; a dirty tree is refused without it).
    #[arg(long, alias = "tag", value_name = "TAG")]
    pub image_tag: Option<String>,
    /// Push to this repository instead of the env's ECR repository (plain HTTP on loopback).
    #[arg(long, value_name = "HOST[:PORT]/REPO")]
    pub registry: Option<String>,
    /// Build and push only; do not deploy.
    #[arg(long)]
    pub skip_deploy: bool,
    /// Do not ask before deploying infrastructure that does not exist yet.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Image builder (default: the first that works of docker, podman, buildah).
    #[arg(long, value_enum)]
    pub builder: Option<BuilderArg>,
    /// How long the backend's deployment (App Runner operation, ECS deployment)
    /// and the health path may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Environment (see [env.NAME] in apprun.toml).
    #[arg(long, value_name = "NAME")]
    pub env: String,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Environment to deploy.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Only these stacks (file stem like `network`, or the full stack name);
    /// repeat or separate with commas. They still deploy in dependency order.
    #[arg(long, value_name = "STACK", value_delimiter = ',')]
    pub stack: Vec<String>,
    /// Image tag for the service stacks; it must be in their repositories.
    /// Without it, new service stacks are deferred.
    #[arg(long, value_name = "TAG")]
    pub image_tag: Option<String>,
    /// Do not ask before executing changes.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Environment to compare.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Only these stacks (repeat or separate with commas).
    #[arg(long, value_name = "STACK", value_delimiter = ',')]
    pub stack: Vec<String>,
    /// Image tag to compare the service stacks with.
    #[arg(long, value_name = "TAG")]
    pub image_tag: Option<String>,
    /// Exit 2 when changes are pending, 0 when none (1 stays an error).
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Environment to remove.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Do not ask before deleting.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten, next_help_heading = "AWS options")]
    pub aws: AwsArgs,
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
    /// Folder of cfn-guard rules (`*.guard`); default: `[policy] rules` of apprun.toml.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Report format (default: text, or json with --output json).
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Largest template file read, in bytes (default 1048576: CloudFormation's limit for a template in S3; at most 1073741824).
    #[arg(long, value_name = "BYTES", requires = "template",
          value_parser = clap::value_parser!(u64).range(1..=crate::commands::check::MAX_TEMPLATE_SIZE_CAP))]
    pub max_template_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
}
