//! Turning the file into a [`Config`], collecting every problem on the way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use ipnet::Ipv4Net;

use crate::CONFIG_FILE;
use crate::error::{ConfigError, LoadError};
use crate::input::{
    MAX_CONFIG_SIZE, ReadError, read_bounded, shorten, shorten_values, utf8_error_at,
};
use crate::model::*;
use crate::names::{NameKind, Names};
use crate::raw::*;
use crate::size::{Cpu, Memory, valid_pairs};
use crate::spans::SpanIndex;
use crate::subnets::{self, SubnetPlan};

pub(crate) mod jobs;
mod runtime;

impl Config {
    /// Loads `apprun.toml` from `dir`.
    pub fn discover(dir: &Path) -> Result<Config, LoadError> {
        let path = dir.join(CONFIG_FILE);
        if !path.exists() {
            return Err(LoadError::NotFound {
                dir: dir.to_path_buf(),
                file: CONFIG_FILE,
            });
        }
        Config::load(&path)
    }

    /// Loads and validates the file at `path`.
    /// A FIFO, a device or a folder is refused unread, and so is a file
    /// larger than [`MAX_CONFIG_SIZE`]; a file that is not UTF-8 is invalid
    /// at the line of its first byte that is not.
    pub fn load(path: &Path) -> Result<Config, LoadError> {
        let bytes = read_bounded(path, MAX_CONFIG_SIZE).map_err(|e| LoadError::Read {
            path: path.to_path_buf(),
            source: match e {
                ReadError::Io(io) => io,
                other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
            },
        })?;
        match std::str::from_utf8(&bytes) {
            Ok(text) => Config::parse(text, path),
            Err(e) => Err(not_utf8(path, &bytes, &e)),
        }
    }

    /// Validates `text` as if read from `file`.
    pub fn parse(text: &str, file: impl Into<PathBuf>) -> Result<Config, LoadError> {
        let mut v = Validator {
            file: file.into(),
            index: SpanIndex::new(text),
            errors: Vec::new(),
        };
        let config = match toml::from_str::<RawConfig>(text) {
            Ok(raw) => Some(v.config(raw)),
            Err(e) => {
                v.serde_error(&e);
                None
            }
        };
        match config {
            Some(config) if v.errors.is_empty() => Ok(config),
            _ => {
                v.errors.sort_by_key(|e| (e.span.start, e.key.clone()));
                v.errors.dedup();
                Err(LoadError::Invalid {
                    file: v.file,
                    text: text.to_owned(),
                    errors: v.errors,
                })
            }
        }
    }
}

/// A config that is not UTF-8: one error at its first invalid byte (TOML
/// files are UTF-8).
fn not_utf8(path: &Path, bytes: &[u8], e: &std::str::Utf8Error) -> LoadError {
    let (line, column, byte) = utf8_error_at(bytes, e);
    let offset = e.valid_up_to();
    LoadError::Invalid {
        file: path.to_path_buf(),
        text: String::from_utf8_lossy(bytes).into_owned(),
        errors: vec![ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            key: "(document)".into(),
            message: format!("byte 0x{byte:02X} is not UTF-8; a TOML file must be UTF-8 text"),
            // The lossy text replaces the byte with U+FFFD (3 bytes).
            span: offset..offset + 3,
        }],
    }
}

struct Validator {
    file: PathBuf,
    index: SpanIndex,
    errors: Vec<ConfigError>,
}

fn is_slug(s: &str, hyphens: bool) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (hyphens && c == '-'))
        && !s.ends_with('-')
        && !s.contains("--")
}

impl Validator {
    /// Records an error; values quoted in it (and the key, which may hold
    /// a user's table name) are shortened, so that a 1 MB value costs a
    /// line, not a megabyte per error.
    fn push(&mut self, key: &str, span: std::ops::Range<usize>, message: String) {
        let (line, column) = self.index.line_col(span.start);
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: shorten(key).into_owned(),
            message: shorten_values(&message).into_owned(),
            span,
        });
    }

    /// An error about the value at `key`.
    fn err(&mut self, key: &str, message: impl Into<String>) {
        let span = self.index.value_span(key);
        self.push(key, span, message.into());
    }

    /// An error about the key itself (e.g. a table name).
    fn err_key(&mut self, key: &str, message: impl Into<String>) {
        let span = self.index.key_span(key);
        self.push(key, span, message.into());
    }

    fn serde_error(&mut self, e: &toml::de::Error) {
        let mut span = e.span().unwrap_or(0..0);
        let mut key = self.index.path_at(&span).unwrap_or("").to_owned();
        let message = e.message().trim().to_owned();
        // "unknown field `x`" may point at the whole table (a dotted key
        // `x.y = 1` under a header): the key itself is more precise.
        if let Some(field) = message
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
            && let Some((path, at)) = self.index.key_within(field, &span)
        {
            key = path;
            span = at;
        }
        // "missing field `x`" points at the table that lacks it.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            key = if key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
        }
        if key.is_empty() {
            key = "(document)".into();
        }
        self.push(&key, span, message);
    }

    fn config(&mut self, raw: RawConfig) -> Config {
        let system = self.system(raw.system);
        let source = self.source(raw.source);
        let services = self.services(raw.services);
        let mut raw_env = raw.env;
        // `[env.NAME.services.SERVICE]` is validated once the services are.
        let env_services = raw_env
            .iter_mut()
            .map(|(name, e)| (name.clone(), std::mem::take(&mut e.services)))
            .collect();
        let mut envs = self.envs(raw_env, &services, &system.zones);
        self.env_services(&system.id, &mut envs, &services, env_services);
        let policy = self.policy(raw.policy, &envs);
        self.waf(&envs, &services);
        let jobs = self.jobs(raw.jobs, &services, &envs);
        let config = Config {
            file: self.file.clone(),
            system,
            source,
            services,
            envs,
            policy,
            jobs,
            locations: self.index.key_locations(),
        };
        self.names(&config);
        config
    }

    fn policy(&mut self, raw: RawPolicy, envs: &IndexMap<String, Env>) -> Policy {
        for (i, e) in raw.private_envs.iter().enumerate() {
            if !envs.contains_key(e) {
                let defined: Vec<&str> = envs.keys().map(String::as_str).collect();
                self.err(
                    &format!("policy.private_envs[{i}]"),
                    format!(
                        "`{e}` is not an environment of this file; defined: {}",
                        defined.join(", ")
                    ),
                );
            }
        }
        if let Some(rules) = &raw.rules
            && (rules.trim().is_empty() || Path::new(rules).is_absolute())
        {
            self.err(
                "policy.rules",
                "give the folder of .guard files relative to apprun.toml, e.g. \"policy/\"",
            );
        }
        let mut allow = Vec::new();
        for (i, a) in raw.allow.into_iter().enumerate() {
            let key = format!("policy.allow[{i}]");
            if a.reason.trim().is_empty() {
                self.err(
                    &format!("{key}.reason"),
                    "say why the finding is acceptable: a silence needs a reason",
                );
            }
            if a.rule.trim().is_empty() || a.resource.trim().is_empty() {
                self.err_key(
                    &key,
                    "`rule` (e.g. \"APR-ECR-002\") and `resource` (a logical id) are required",
                );
            }
            allow.push(Allow {
                rule: a.rule,
                resource: a.resource,
                stack: a.stack,
                reason: a.reason,
            });
        }
        Policy {
            private_envs: raw.private_envs,
            rules: raw.rules,
            allow,
        }
    }

    fn system(&mut self, raw: RawSystem) -> System {
        if !is_slug(&raw.id, true) || raw.id.len() < 2 {
            self.err(
                "system.id",
                format!(
                    "`{}` is not a valid system id; use lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit (it becomes part of S3 bucket, ECR repository, IAM role and stack names)",
                    raw.id
                ),
            );
        }
        let region_ok = {
            let parts: Vec<&str> = raw.region.split('-').collect();
            parts.len() >= 3
                && parts[0].len() == 2
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
                && parts[parts.len() - 1].parse::<u8>().is_ok()
        };
        if !region_ok {
            self.err(
                "system.region",
                format!("`{}` is not an AWS region code; expected something like `ap-northeast-1` or `us-east-1`", raw.region),
            );
        }
        if raw.zones.len() != subnets::ZONES {
            self.err(
                "system.zones",
                format!(
                    "{} zone(s) given; apprun lays the three tiers over exactly {} zones (the reference's proportions use 14/16 of the VPC for two zones, so a third does not fit)",
                    raw.zones.len(),
                    subnets::ZONES
                ),
            );
        }
        for (i, z) in raw.zones.iter().enumerate() {
            let ok = z.len() == 1 && z.chars().all(|c| c.is_ascii_lowercase());
            if !ok {
                self.err(&format!("system.zones[{i}]"), format!("`{z}` is not a zone letter; use a single lowercase letter such as `a` or `c`"));
            } else if raw.zones[..i].contains(z) {
                self.err(
                    &format!("system.zones[{i}]"),
                    format!("zone `{z}` is listed twice"),
                );
            }
        }
        System {
            id: raw.id,
            region: raw.region,
            zones: raw.zones,
        }
    }

    fn source(&mut self, raw: RawSource) -> Source {
        let kind = match raw.kind.as_str() {
            "codecommit" => SourceKind::CodeCommit,
            "github" => SourceKind::GitHub,
            other => {
                self.err(
                    "source.type",
                    format!("`{other}` is not a source type; allowed: \"codecommit\", \"github\""),
                );
                SourceKind::CodeCommit
            }
        };
        match kind {
            SourceKind::CodeCommit => {
                if let Err(m) = NameKind::CodeCommitRepository.check(&raw.repository) {
                    self.err("source.repository", m);
                }
                if raw.connection.is_some() {
                    self.err("source.connection", "a CodeCommit source takes no connection; `connection` is for type = \"github\"");
                }
            }
            SourceKind::GitHub => {
                let parts: Vec<&str> = raw.repository.split('/').collect();
                let ok = parts.len() == 2
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && p.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                    });
                if !ok {
                    self.err(
                        "source.repository",
                        format!(
                            "`{}` is not a GitHub repository; expected `owner/name`",
                            raw.repository
                        ),
                    );
                }
                match &raw.connection {
                    None => self.err_key("source", "a GitHub source needs `connection`, the ARN of a CodeConnections connection (arn:aws:codeconnections:REGION:ACCOUNT:connection/ID)"),
                    Some(arn) if !is_connection_arn(arn) => self.err(
                        "source.connection",
                        format!("`{arn}` is not a CodeConnections connection ARN; expected arn:aws:codeconnections:REGION:ACCOUNT:connection/ID (codestar-connections also accepted)"),
                    ),
                    Some(_) => {}
                }
            }
        }
        Source {
            kind,
            repository: raw.repository,
            connection: raw.connection,
        }
    }

    fn services(&mut self, raw: IndexMap<String, RawService>) -> IndexMap<String, Service> {
        if raw.is_empty() {
            self.err_key(
                "services",
                "at least one service is needed, e.g. [services.web]",
            );
        }
        let mut out = IndexMap::new();
        for (name, s) in raw {
            let service = self.service(name, s);
            out.insert(service.name.clone(), service);
        }
        out
    }

    /// One `[services.NAME]` table, checked key by key.
    fn service(&mut self, name: String, s: RawService) -> Service {
        let key = format!("services.{name}");
        if !is_slug(&name, true) {
            self.err_key(&key, format!("`{name}` is not a valid service name; use lowercase letters, digits and single hyphens, starting with a letter"));
        }
        let compute = self.compute(&key, &s.compute);
        let port = self.port(&key, s.port);
        if s.dockerfile.trim().is_empty() || Path::new(&s.dockerfile).is_absolute() {
            self.err(
                &format!("{key}.dockerfile"),
                "give the Dockerfile's path relative to apprun.toml, e.g. \"Dockerfile\"",
            );
        }
        let tasks = TaskKeys {
            min_tasks: s.min_tasks,
            max_tasks: s.max_tasks,
            scale_on: s.scale_on.clone(),
            scale_target: s.scale_target,
        };
        let scaling = self.scaling(&key, compute, &tasks, None);
        let service_runtime = crate::runtime::Runtime {
            env: self.env_vars(&format!("{key}.env"), &s.env, compute),
            secrets: self.secrets(&format!("{key}.secrets"), &s.secrets, compute),
        };
        self.runtime_overlap(
            &format!("{key}.env"),
            &format!("{key}.secrets"),
            &service_runtime,
        );
        let instances = runtime::InstanceKeys {
            min_instances: s.min_instances,
            max_instances: s.max_instances,
            max_concurrency: s.max_concurrency,
        };
        let app_runner_scaling = self.instances(&key, compute, instances, None);
        let tracing = self.tracing(&key, compute, s.tracing.unwrap_or(false));
        let release = self.release(&key, s.release);
        let health = self.health(&key, s.health);
        self.service_commands(&key, &s.prebuild, &s.local);
        Service {
            name,
            compute,
            port,
            dockerfile: s.dockerfile,
            health,
            prebuild: s.prebuild.unwrap_or_default(),
            local: s.local.unwrap_or_default(),
            scaling,
            release,
            runtime: service_runtime,
            app_runner_scaling,
            tracing,
        }
    }

    /// A service's `compute`; App Runner (after the error) when unknown.
    fn compute(&mut self, key: &str, raw: &str) -> Compute {
        Compute::parse(raw).unwrap_or_else(|| {
            let allowed: Vec<String> = Compute::ALL
                .iter()
                .map(|c| format!("\"{}\"", c.as_str()))
                .collect();
            self.err(
                &format!("{key}.compute"),
                format!(
                    "`{}` is not a compute backend; allowed: {}",
                    raw,
                    allowed.join(", ")
                ),
            );
            Compute::AppRunner
        })
    }

    /// A service's `port`; 0 (after the error) when out of range.
    fn port(&mut self, key: &str, raw: i64) -> u16 {
        match u16::try_from(raw) {
            Ok(p) if p > 0 => p,
            _ => {
                self.err(
                    &format!("{key}.port"),
                    format!("{raw} is not a port; allowed: 1 to 65535"),
                );
                0
            }
        }
    }

    /// A service's `prebuild` and `local` commands: program first.
    fn service_commands(
        &mut self,
        key: &str,
        prebuild: &Option<Vec<String>>,
        local: &Option<Vec<String>>,
    ) {
        for (field, cmd) in [("prebuild", prebuild), ("local", local)] {
            if cmd
                .as_ref()
                .is_some_and(|c| c.is_empty() || c[0].trim().is_empty())
            {
                self.err(&format!("{key}.{field}"), "give the command as a list: program first, then its arguments, e.g. [\"scripts/build.sh\"]");
            }
        }
    }

    /// `[services.NAME.release]`: the same rules as the service's own keys,
    /// except that an empty `prebuild` is allowed (no prebuild on the
    /// workstation).
    fn release(&mut self, service_key: &str, raw: Option<RawRelease>) -> ReleaseBuild {
        let Some(raw) = raw else {
            return ReleaseBuild::default();
        };
        let key = format!("{service_key}.release");
        if raw.dockerfile.is_none() && raw.prebuild.is_none() {
            self.err_key(
                &key,
                "an empty release table changes nothing; set `dockerfile` and/or `prebuild` (what `apprun release` and `apprun local` build with instead of the pipeline's), or remove it",
            );
        }
        if let Some(d) = &raw.dockerfile
            && (d.trim().is_empty() || Path::new(d).is_absolute())
        {
            self.err(
                &format!("{key}.dockerfile"),
                "give the Dockerfile's path relative to apprun.toml, e.g. \"Dockerfile\"",
            );
        }
        if raw
            .prebuild
            .as_ref()
            .is_some_and(|c| c.first().is_some_and(|p| p.trim().is_empty()))
        {
            self.err(&format!("{key}.prebuild"), "give the command as a list: program first, then its arguments, e.g. [\"scripts/build.sh\"]; [] means no prebuild");
        }
        ReleaseBuild {
            dockerfile: raw.dockerfile,
            prebuild: raw.prebuild,
        }
    }

    /// `waf = true` needs a backend apprun attaches a web ACL to: App Runner.
    /// Dropping it silently would leave a service unprotected.
    fn waf(&mut self, envs: &IndexMap<String, Env>, services: &IndexMap<String, Service>) {
        let ecs: Vec<&str> = services
            .values()
            .filter(|s| !s.compute.supports_waf())
            .map(|s| s.name.as_str())
            .collect();
        if ecs.is_empty() {
            return;
        }
        for env in envs.values().filter(|e| e.waf) {
            self.err(
                &format!("env.{}.waf", env.name),
                format!(
                    "waf = true needs compute = \"apprunner\": apprun attaches a WAF web ACL to App Runner services only, and {} uses compute = \"ecs-express\"; remove `waf` from this env (or set it to false), or run the service on App Runner",
                    ecs.iter()
                        .map(|s| format!("service `{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }

    /// ECS Express task scaling: the service's keys (`base` = None), or an
    /// env's keys over the service's `base`.
    fn scaling(
        &mut self,
        key: &str,
        compute: Compute,
        s: &TaskKeys,
        base: Option<&Scaling>,
    ) -> Scaling {
        if !compute.scales_by_tasks() {
            self.task_keys_on_app_runner(key, s);
        }
        let on = self.scale_on(key, s, base);
        // Without a valid metric the target cannot be judged.
        let metric_known = on.is_some();
        let on = on.unwrap_or(ScaleOn::Cpu);
        let (min_tasks, max_tasks) = self.task_counts(key, s, base);
        let target = self.scale_target(key, s, base, on, metric_known);
        Scaling {
            min_tasks,
            max_tasks,
            on,
            target,
        }
    }

    /// App Runner scales by concurrency: every task key given is an error.
    fn task_keys_on_app_runner(&mut self, key: &str, s: &TaskKeys) {
        let given = [
            ("min_tasks", s.min_tasks.is_some()),
            ("max_tasks", s.max_tasks.is_some()),
            ("scale_on", s.scale_on.is_some()),
            ("scale_target", s.scale_target.is_some()),
        ];
        for (field, set) in given {
            if set {
                self.err(&format!("{key}.{field}"), format!("`{field}` applies to compute = \"ecs-express\"; App Runner scales by concurrency: use min_instances, max_instances and max_concurrency"));
            }
        }
    }

    /// The scaling metric (the base's, or cpu, when not given); None (after
    /// the error) when unknown.
    fn scale_on(&mut self, key: &str, s: &TaskKeys, base: Option<&Scaling>) -> Option<ScaleOn> {
        let base_on = match base.map(|b| b.on) {
            Some(ScaleOn::Memory) => "memory",
            Some(ScaleOn::Requests) => "requests",
            _ => "cpu",
        };
        match s.scale_on.as_deref().unwrap_or(base_on) {
            "cpu" => Some(ScaleOn::Cpu),
            "memory" => Some(ScaleOn::Memory),
            "requests" => Some(ScaleOn::Requests),
            other => {
                self.err(&format!("{key}.scale_on"), format!("`{other}` is not a scaling metric; allowed: \"cpu\", \"memory\", \"requests\""));
                None
            }
        }
    }

    /// `min_tasks` and `max_tasks` (each 1 to 1000, min not above max).
    fn task_counts(&mut self, key: &str, s: &TaskKeys, base: Option<&Scaling>) -> (u32, u32) {
        let mut count = |field: &str, v: Option<i64>, default: u32| -> u32 {
            match v {
                None => default,
                Some(n) if (1..=1000).contains(&n) => n as u32,
                Some(n) => {
                    self.err(
                        &format!("{key}.{field}"),
                        format!("{n} tasks is out of range; allowed: 1 to 1000"),
                    );
                    default
                }
            }
        };
        let min_tasks = count("min_tasks", s.min_tasks, base.map_or(1, |b| b.min_tasks));
        let max_tasks = count(
            "max_tasks",
            s.max_tasks,
            base.map_or(min_tasks.max(2), |b| b.max_tasks),
        );
        if min_tasks > max_tasks {
            let field = if base.is_some() && s.max_tasks.is_none() {
                "min_tasks"
            } else {
                "max_tasks"
            };
            self.err(
                &format!("{key}.{field}"),
                format!("max_tasks ({max_tasks}) is below min_tasks ({min_tasks})"),
            );
        }
        (min_tasks, max_tasks)
    }

    /// `scale_target` for metric `on`: a percentage for cpu and memory, a
    /// request count for requests.
    fn scale_target(
        &mut self,
        key: &str,
        s: &TaskKeys,
        base: Option<&Scaling>,
        on: ScaleOn,
        metric_known: bool,
    ) -> u32 {
        let default_target = match base {
            // The env keeps the service's target unless it changes the metric.
            Some(b) if b.on == on => b.target,
            _ if on == ScaleOn::Requests => 100,
            _ => 60,
        };
        match s.scale_target {
            None => default_target,
            Some(n) if on != ScaleOn::Requests && (1..=100).contains(&n) => n as u32,
            Some(n) if on == ScaleOn::Requests && n >= 1 => n as u32,
            Some(_) if !metric_known => default_target,
            Some(n) => {
                self.err(&format!("{key}.scale_target"), format!("{n} is out of range; a cpu or memory target is a percentage from 1 to 100, a requests target at least 1"));
                default_target
            }
        }
    }

    fn health(&mut self, service_key: &str, h: RawHealth) -> Health {
        let key = format!("{service_key}.health");
        if !h.path.starts_with('/') || h.path.contains(char::is_whitespace) {
            self.err(
                &format!("{key}.path"),
                format!("`{}` is not an HTTP path; it must start with `/`", h.path),
            );
        }
        let mut bounded = |field: &str, v: i64| -> u32 {
            if (1..=20).contains(&v) {
                v as u32
            } else {
                self.err(
                    &format!("{key}.{field}"),
                    format!("{v} is out of range; allowed: 1 to 20"),
                );
                1
            }
        };
        Health {
            interval: bounded("interval", h.interval),
            timeout: bounded("timeout", h.timeout),
            healthy: bounded("healthy", h.healthy),
            unhealthy: bounded("unhealthy", h.unhealthy),
            path: h.path,
        }
    }

    fn envs(
        &mut self,
        raw: IndexMap<String, RawEnv>,
        services: &IndexMap<String, Service>,
        zones: &[String],
    ) -> IndexMap<String, Env> {
        if raw.is_empty() {
            self.err_key("env", "at least one environment is needed, e.g. [env.dev]");
        }
        let mut out: IndexMap<String, Env> = IndexMap::new();
        let mut branches: BTreeMap<String, String> = BTreeMap::new();
        for (name, e) in raw {
            let key = format!("env.{name}");
            if !is_slug(&name, false) || name.len() > 10 {
                self.err_key(&key, format!("`{name}` is not a valid environment name; use 1 to 10 lowercase letters and digits, starting with a letter (e.g. dev, stg, prod)"));
            }
            let network = self.network(&key, &e.network);
            if !is_branch_name(&e.branch) {
                self.err(
                    &format!("{key}.branch"),
                    format!("`{}` is not a valid git branch name", e.branch),
                );
            } else if let Some(other) = branches.get(&e.branch) {
                self.err(
                    &format!("{key}.branch"),
                    format!("branch `{}` is already used by env `{other}`; each environment deploys from its own branch", e.branch),
                );
            } else {
                branches.insert(e.branch.clone(), name.clone());
            }
            let (cpu, memory) = self.size(&key, &e.cpu, &e.memory, services);
            if let Some(acct) = &e.account
                && (acct.len() != 12 || !acct.chars().all(|c| c.is_ascii_digit()))
            {
                self.err(
                    &format!("{key}.account"),
                    format!("`{acct}` is not an AWS account id; expected 12 digits, as a string"),
                );
            }
            let ingress = match e.ingress.as_str() {
                "public" => Ingress::Public,
                "private" => Ingress::Private,
                other => {
                    self.err(
                        &format!("{key}.ingress"),
                        format!("`{other}` is not an ingress; allowed: \"public\", \"private\""),
                    );
                    Ingress::Public
                }
            };
            let subnets = SubnetPlan::carve(network, zones);
            let carved = zones.len() == subnets::ZONES && network != Ipv4Net::default();
            for problem in subnets.problems().into_iter().filter(|_| carved) {
                self.err(&format!("{key}.network"), problem);
            }
            let env = Env {
                name: name.clone(),
                network,
                subnets,
                branch: e.branch,
                cpu,
                memory,
                approval: e.approval,
                account: e.account,
                ingress,
                waf: e.waf,
                services: IndexMap::new(),
            };
            out.insert(name, env);
        }
        self.overlaps(&out);
        out
    }

    fn network(&mut self, env_key: &str, text: &str) -> Ipv4Net {
        let key = format!("{env_key}.network");
        let fallback = Ipv4Net::default();
        let Ok(net) = text.parse::<Ipv4Net>() else {
            self.err(
                &key,
                format!("`{text}` is not an IPv4 CIDR block; expected e.g. \"10.0.0.0/24\""),
            );
            return fallback;
        };
        let prefix = net.prefix_len();
        if !(subnets::MIN_PREFIX..=subnets::MAX_PREFIX).contains(&prefix) {
            self.err(
                &key,
                format!("/{prefix} is not an allowed VPC size; allowed: /16 to /24 (the tiers take 1/8, 1/4 and 1/16 of the VPC per zone, and the smallest must stay at least a /28)"),
            );
            return fallback;
        }
        if net.trunc() != net {
            self.err(
                &key,
                format!(
                    "`{text}` has host bits set; did you mean \"{}\"?",
                    net.trunc()
                ),
            );
            return fallback;
        }
        net
    }

    fn size(
        &mut self,
        env_key: &str,
        cpu: &str,
        memory: &str,
        services: &IndexMap<String, Service>,
    ) -> (Cpu, Memory) {
        let parsed_cpu = Cpu::parse(cpu);
        let parsed_mem = Memory::parse(memory);
        if parsed_cpu.is_none() {
            self.err(
                &format!("{env_key}.cpu"),
                format!("`{cpu}` is not a CPU size; write it like \"1 vCPU\" or \"0.25 vCPU\""),
            );
        }
        if parsed_mem.is_none() {
            self.err(
                &format!("{env_key}.memory"),
                format!("`{memory}` is not a memory size; write it like \"2 GB\" or \"512 MB\""),
            );
        }
        let (Some(c), Some(m)) = (parsed_cpu, parsed_mem) else {
            return (Cpu(1024), Memory(2048));
        };
        let mut computes: Vec<Compute> = services.values().map(|s| s.compute).collect();
        computes.dedup();
        for compute in computes {
            let pairs = valid_pairs(compute);
            if !pairs.contains(&(c, m)) {
                let with_cpu: Vec<String> = pairs
                    .iter()
                    .filter(|(pc, _)| *pc == c)
                    .map(|(_, pm)| pm.to_string())
                    .collect();
                let hint = if with_cpu.is_empty() {
                    let cpus: Vec<String> = pairs.iter().map(|(pc, _)| pc.to_string()).fold(
                        Vec::new(),
                        |mut acc, s| {
                            if !acc.contains(&s) {
                                acc.push(s);
                            }
                            acc
                        },
                    );
                    format!("allowed cpu: {}", cpus.join(", "))
                } else {
                    format!("with {c} it allows memory {}", with_cpu.join(", "))
                };
                self.err(
                    &format!("{env_key}.memory"),
                    format!(
                        "{c} / {m} is not a size {} offers; {hint}",
                        compute_label(compute)
                    ),
                );
            }
        }
        (c, m)
    }

    /// Envs that deploy to the same account must not share address space.
    fn overlaps(&mut self, envs: &IndexMap<String, Env>) {
        let list: Vec<&Env> = envs.values().collect();
        for (i, b) in list.iter().enumerate() {
            for a in &list[..i] {
                let same_account = a.account == b.account;
                let overlap = a.network.contains(&b.network.network())
                    || b.network.contains(&a.network.network());
                if same_account
                    && overlap
                    && a.network != Ipv4Net::default()
                    && b.network != Ipv4Net::default()
                {
                    let where_ = match &a.account {
                        Some(acct) => format!("account {acct}"),
                        None => "the same account (neither sets `account`)".into(),
                    };
                    self.err(
                        &format!("env.{}.network", b.name),
                        format!(
                            "{} overlaps env `{}` ({}) in {where_}; give each env of an account its own range, or set `account` on envs that deploy to different accounts",
                            b.network, a.name, a.network
                        ),
                    );
                }
            }
        }
    }

    /// Checks every AWS name derived from the ids.
    fn names(&mut self, config: &Config) {
        let names = Names::new(&config.system.id);
        // Names built from an invalid env or service name are reported there.
        let parts_ok = config.envs.keys().all(|e| is_slug(e, false))
            && config.services.keys().all(|s| is_slug(s, true));
        let id_ok = is_slug(&config.system.id, true) && parts_ok;
        let mut reported = Vec::new();
        for env in config.envs.keys() {
            for (kind, name) in names.all_for_env(config, env) {
                if let Err(m) = kind.check(&name)
                    && id_ok
                    && !reported.contains(&kind)
                {
                    // One error per kind of name: the fix is the same for all.
                    reported.push(kind);
                    self.err(
                        "system.id",
                        format!(
                            "{m}; shorten system.id (or the env/service name it is combined with)"
                        ),
                    );
                }
            }
        }
    }
}

/// The ECS Express task scaling keys as written, on a service or an env.
pub(crate) struct TaskKeys {
    pub min_tasks: Option<i64>,
    pub max_tasks: Option<i64>,
    pub scale_on: Option<String>,
    pub scale_target: Option<i64>,
}

fn compute_label(c: Compute) -> &'static str {
    match c {
        Compute::AppRunner => "App Runner",
        Compute::EcsExpress => "ECS Express Mode (Fargate)",
    }
}

fn is_connection_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && matches!(parts[2], "codeconnections" | "codestar-connections")
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("connection/")
        && parts[5].len() > "connection/".len()
}

/// git's ref-name rules, as far as a branch name can break them.
fn is_branch_name(b: &str) -> bool {
    !b.is_empty()
        && !b.starts_with(['-', '/', '.'])
        && !b.ends_with(['/', '.'])
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && !b
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}
