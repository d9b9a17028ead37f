//! The file as written. Unknown keys are rejected here, by serde.

use indexmap::IndexMap;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub system: RawSystem,
    pub source: RawSource,
    pub services: IndexMap<String, RawService>,
    pub env: IndexMap<String, RawEnv>,
    #[serde(default)]
    pub policy: RawPolicy,
    /// `[jobs.NAME]`, validated in `load/jobs.rs`.
    #[serde(default)]
    pub jobs: IndexMap<String, crate::load::jobs::RawJob>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    #[serde(default)]
    pub private_envs: Vec<String>,
    pub rules: Option<String>,
    #[serde(default)]
    pub allow: Vec<RawAllow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllow {
    pub rule: String,
    pub resource: String,
    pub stack: Option<String>,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSystem {
    pub id: String,
    pub region: String,
    #[serde(default = "default_zones")]
    pub zones: Vec<String>,
}

fn default_zones() -> Vec<String> {
    vec!["a".into(), "c".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    #[serde(rename = "type")]
    pub kind: String,
    pub repository: String,
    pub connection: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    #[serde(default = "default_compute")]
    pub compute: String,
    pub port: i64,
    #[serde(default = "default_dockerfile")]
    pub dockerfile: String,
    #[serde(default)]
    pub health: RawHealth,
    /// Command run before the image build (e.g. compile a static binary).
    pub prebuild: Option<Vec<String>>,
    /// Command that runs the service locally without a container.
    pub local: Option<Vec<String>>,
    /// ECS Express scaling: task counts and the metric to track.
    pub min_tasks: Option<i64>,
    pub max_tasks: Option<i64>,
    pub scale_on: Option<String>,
    pub scale_target: Option<i64>,
    /// What `apprun release` and `apprun local` build with instead.
    pub release: Option<RawRelease>,
    /// `[services.NAME.env]`: plain variables (values checked by hand, so
    /// that errors name the variable).
    #[serde(default)]
    pub env: IndexMap<String, toml::Value>,
    /// `[services.NAME.secrets]`: variable -> SSM parameter or Secrets
    /// Manager secret.
    #[serde(default)]
    pub secrets: IndexMap<String, toml::Value>,
    /// App Runner auto scaling.
    pub min_instances: Option<i64>,
    pub max_instances: Option<i64>,
    pub max_concurrency: Option<i64>,
    /// App Runner X-Ray tracing.
    pub tracing: Option<bool>,
}

/// `[env.NAME.services.SERVICE]`: one service's keys in one env, over the
/// service's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnvService {
    #[serde(default)]
    pub env: IndexMap<String, toml::Value>,
    #[serde(default)]
    pub secrets: IndexMap<String, toml::Value>,
    pub domain: Option<String>,
    pub hosted_zone: Option<String>,
    pub min_instances: Option<i64>,
    pub max_instances: Option<i64>,
    pub max_concurrency: Option<i64>,
    pub min_tasks: Option<i64>,
    pub max_tasks: Option<i64>,
    pub scale_on: Option<String>,
    pub scale_target: Option<i64>,
    pub tracing: Option<bool>,
}

/// `[services.NAME.release]`: the workstation's build, when it differs from
/// the pipeline's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelease {
    pub dockerfile: Option<String>,
    pub prebuild: Option<Vec<String>>,
}

fn default_compute() -> String {
    "apprunner".into()
}
fn default_dockerfile() -> String {
    "Dockerfile".into()
}

/// Health check; defaults are App Runner's own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawHealth {
    pub path: String,
    pub interval: i64,
    pub timeout: i64,
    pub healthy: i64,
    pub unhealthy: i64,
}

impl Default for RawHealth {
    fn default() -> Self {
        RawHealth {
            path: "/".into(),
            interval: 5,
            timeout: 2,
            healthy: 1,
            unhealthy: 5,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnv {
    pub network: String,
    pub branch: String,
    pub cpu: String,
    pub memory: String,
    #[serde(default = "yes")]
    pub approval: bool,
    pub account: Option<String>,
    #[serde(default = "public")]
    pub ingress: String,
    #[serde(default)]
    pub waf: bool,
    /// `[env.NAME.services.SERVICE]`, validated after the services.
    #[serde(default)]
    pub services: IndexMap<String, RawEnvService>,
}

fn yes() -> bool {
    true
}
fn public() -> String {
    "public".into()
}
