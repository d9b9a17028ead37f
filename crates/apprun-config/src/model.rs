//! The validated configuration. Every value here has passed its checks.

use std::path::PathBuf;

use indexmap::IndexMap;
use ipnet::Ipv4Net;

use crate::error::LoadError;
use crate::runtime::{AppRunnerScaling, Runtime, ServiceSettings};
use crate::size::{Cpu, Memory};
use crate::subnets::SubnetPlan;

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from (as given, for messages).
    pub file: PathBuf,
    pub system: System,
    pub source: Source,
    /// Services in file order; the first one is the primary service.
    pub services: IndexMap<String, Service>,
    /// Environments in file order.
    pub envs: IndexMap<String, Env>,
    pub policy: Policy,
    /// `[jobs.NAME]` in file order.
    pub jobs: IndexMap<String, crate::job::Job>,
    /// Position of every key in the file, by dotted path.
    pub(crate) locations: std::collections::BTreeMap<String, KeyLocation>,
}

/// `[policy]`: what `apprun check` enforces beyond its defaults.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Envs whose services must not be publicly reachable.
    pub private_envs: Vec<String>,
    /// Folder of cfn-guard `.guard` files, relative to apprun.toml.
    pub rules: Option<String>,
    /// Findings silenced on purpose, each with its reason.
    pub allow: Vec<Allow>,
}

/// One `[[policy.allow]]` entry.
#[derive(Debug, Clone)]
pub struct Allow {
    pub rule: String,
    /// Logical id of the resource.
    pub resource: String,
    /// Only in this stack (all stacks when absent).
    pub stack: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct System {
    pub id: String,
    pub region: String,
    /// Zone letters, e.g. `["a", "c"]`.
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    CodeCommit,
    GitHub,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub kind: SourceKind,
    /// CodeCommit repository name, or `owner/name` on GitHub.
    pub repository: String,
    /// CodeConnections connection ARN (GitHub only).
    pub connection: Option<String>,
}

/// Declares [`Compute`] and [`Compute::ALL`] from one list, so that no
/// backend can be missing from `ALL` (which parsing, `--to` and messages use).
macro_rules! compute_backends {
    ($($variant:ident),+ $(,)?) => {
        /// Where a service runs. Every `match` on it is exhaustive: a new
        /// backend makes the compiler list each place that must handle it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Compute {
            $($variant),+
        }

        impl Compute {
            /// Every backend, for parsing and for messages that list them.
            pub const ALL: [Compute; 0 $(+ compute_backends!(@one $variant))+] =
                [$(Compute::$variant),+];
        }
    };
    (@one $variant:ident) => {
        1
    };
}

compute_backends!(AppRunner, EcsExpress);

impl Compute {
    /// The name apprun.toml and the command line use.
    pub fn as_str(self) -> &'static str {
        match self {
            Compute::AppRunner => "apprunner",
            Compute::EcsExpress => "ecs-express",
        }
    }

    pub fn parse(name: &str) -> Option<Compute> {
        Compute::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether apprun attaches a WAF web ACL to services on this backend.
    pub fn supports_waf(self) -> bool {
        match self {
            Compute::AppRunner => true,
            Compute::EcsExpress => false,
        }
    }

    /// Whether the service scales by task count (`min_tasks`, `scale_on`…)
    /// rather than on its own.
    pub fn scales_by_tasks(self) -> bool {
        match self {
            Compute::AppRunner => false,
            Compute::EcsExpress => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub path: String,
    pub interval: u32,
    pub timeout: u32,
    pub healthy: u32,
    pub unhealthy: u32,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub compute: Compute,
    pub port: u16,
    /// The Dockerfile the pipeline builds (and the workstation, unless
    /// `[services.NAME.release]` names another).
    pub dockerfile: String,
    pub health: Health,
    /// Run (from the config's folder) before building the image, in the
    /// pipeline (and on the workstation, unless overridden by `release`).
    pub prebuild: Vec<String>,
    /// Runs the service locally (`apprun local`) when no container runtime is used.
    pub local: Vec<String>,
    /// ECS Express scaling (ignored by App Runner, which scales by concurrency).
    pub scaling: Scaling,
    /// `[services.NAME.release]`: the workstation's build where it differs.
    pub release: ReleaseBuild,
    /// `[services.NAME.env]` and `[services.NAME.secrets]`, before any
    /// env's overrides (see [`Config::service_settings`]).
    pub runtime: Runtime,
    /// App Runner auto scaling from the service's own keys, when any is set.
    pub app_runner_scaling: Option<AppRunnerScaling>,
    /// `tracing` of the service's own keys.
    pub tracing: bool,
}

/// The keys of `[services.NAME.release]`; each one given replaces the
/// service's own key for `apprun release` and `apprun local`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseBuild {
    pub dockerfile: Option<String>,
    /// `Some(vec![])` means: no prebuild on the workstation.
    pub prebuild: Option<Vec<String>>,
}

impl Service {
    /// What `apprun release` and `apprun local` build with on a workstation
    /// (Dockerfile, prebuild): `[services.NAME.release]` where it sets a key,
    /// the service's own `dockerfile` and `prebuild` otherwise. The pipeline
    /// always builds with `dockerfile` and `prebuild` (see
    /// [`Service::pipeline_build`]).
    pub fn release_build(&self) -> (&str, &[String]) {
        (
            self.release
                .dockerfile
                .as_deref()
                .unwrap_or(&self.dockerfile),
            self.release.prebuild.as_deref().unwrap_or(&self.prebuild),
        )
    }

    /// What the pipeline's CodeBuild project builds with (Dockerfile, prebuild).
    pub fn pipeline_build(&self) -> (&str, &[String]) {
        (&self.dockerfile, &self.prebuild)
    }
}

/// What ECS Express Mode's target tracking follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleOn {
    Cpu,
    Memory,
    Requests,
}

impl ScaleOn {
    /// The `AutoScalingMetric` value of `AWS::ECS::ExpressGatewayService`.
    pub fn metric(self) -> &'static str {
        match self {
            ScaleOn::Cpu => "AVERAGE_CPU",
            ScaleOn::Memory => "AVERAGE_MEMORY",
            ScaleOn::Requests => "REQUEST_COUNT_PER_TARGET",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    pub min_tasks: u32,
    pub max_tasks: u32,
    pub on: ScaleOn,
    /// Percent for cpu/memory, requests per target for requests.
    pub target: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    Public,
    Private,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub name: String,
    pub network: Ipv4Net,
    pub subnets: SubnetPlan,
    pub branch: String,
    pub cpu: Cpu,
    pub memory: Memory,
    pub approval: bool,
    pub account: Option<String>,
    pub ingress: Ingress,
    pub waf: bool,
    /// Every service's settings in this env (file order): the service's
    /// keys with `[env.NAME.services.SERVICE]` over them.
    pub services: IndexMap<String, ServiceSettings>,
}

impl Config {
    /// The environment named `name`, or an error listing the ones defined.
    pub fn env(&self, name: &str) -> Result<&Env, LoadError> {
        self.envs.get(name).ok_or_else(|| LoadError::UnknownEnv {
            name: name.to_owned(),
            file: self.file.display().to_string(),
            available: self.envs.keys().cloned().collect(),
        })
    }

    /// What `service` runs with in `env`: its variables and secrets with
    /// the env's over them, its domain, scaling and tracing. `None` for an
    /// unknown env or service.
    pub fn service_settings(&self, env: &str, service: &str) -> Option<&ServiceSettings> {
        self.envs.get(env)?.services.get(service)
    }

    /// The first service declared: its image repository keeps the reference's
    /// name `${id}-${env}`; other services get `${id}-${env}-${service}`.
    pub fn primary_service(&self) -> Option<&Service> {
        self.services.values().next()
    }

    /// Whether any service runs on this compute backend.
    pub fn uses(&self, compute: Compute) -> bool {
        self.services.values().any(|s| s.compute == compute)
    }

    pub fn is_primary(&self, service: &str) -> bool {
        self.services.keys().next().is_some_and(|k| k == service)
    }

    /// Whether `env` is the first environment declared for its account: that
    /// env's repository stack creates the account's CodeCommit source
    /// repository. Envs without `account` count as one account, as in the
    /// network overlap check.
    pub fn is_first_env_of_account(&self, env: &str) -> bool {
        let Some(this) = self.envs.get(env) else {
            return false;
        };
        self.envs
            .values()
            .find(|e| e.account == this.account)
            .is_some_and(|first| first.name == env)
    }

    /// Where `key` (a dotted path such as `services.web.prebuild`) is written
    /// in the file: for findings about the config that are made after it
    /// loaded (e.g. by `apprun check`).
    pub fn locate(&self, key: &str) -> Option<KeyLocation> {
        self.locations.get(key).copied()
    }
}

/// A key's position in the config file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLocation {
    pub line: usize,
    pub column: usize,
}

#[cfg(test)]
mod tests {
    use super::Compute;

    #[test]
    fn every_backend_is_listed_once_and_parses_back() {
        for c in Compute::ALL {
            assert_eq!(Compute::parse(c.as_str()), Some(c));
        }
        assert_eq!(Compute::parse("lambda"), None);
    }
}
