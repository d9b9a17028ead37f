//! `env`, `secrets`, and the per-env service keys (`[env.NAME.services.SERVICE]`:
//! overrides, `domain`, `hosted_zone`, App Runner auto scaling, tracing).
//!
//! The table functions take the dotted key of the table they check, so that
//! `[jobs.NAME]` validates its `env` and `secrets` with the same rules.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use super::{TaskKeys, Validator};
use crate::model::{Compute, Env, Ingress, Service};
use crate::raw::RawEnvService;
use crate::runtime::{
    AppRunnerScaling, Domain, Runtime, SecretRef, SecretStore, ServiceSettings, has_random_suffix,
    names, runs_with_own_role,
};

/// Variables apprun sets itself on every backend.
const APPRUN_VARIABLES: &[&str] = &["ENV", "SYSTEM_ID"];

/// Longest variable name accepted.
const NAME_MAX: usize = 255;

/// Most secrets one service may read in one env: each is an ARN in its
/// role's inline policy, and IAM caps a role's inline policies at 10,240
/// characters in all (50 ARNs of ~150 characters, with the table access
/// and KMS statements beside them, stay well under it).
const SECRETS_MAX: usize = 50;

/// App Runner's bounds (CreateAutoScalingConfiguration): MinSize 1-25,
/// MaxConcurrency 1-200; MaxSize is held to the default service quota of
/// 25 instances.
const INSTANCES_MAX: i64 = 25;
const CONCURRENCY_MAX: i64 = 200;

/// The App Runner scaling keys as written.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct InstanceKeys {
    pub min_instances: Option<i64>,
    pub max_instances: Option<i64>,
    pub max_concurrency: Option<i64>,
}

impl InstanceKeys {
    fn any(&self) -> bool {
        self.min_instances.is_some()
            || self.max_instances.is_some()
            || self.max_concurrency.is_some()
    }
}

impl Validator {
    /// Plain variables: names, names apprun or the backend reserve, and
    /// names that look like secrets (APR-SECRET-001).
    pub(crate) fn env_vars(
        &mut self,
        key: &str,
        raw: &IndexMap<String, toml::Value>,
        compute: Compute,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            let at = format!("{key}.{name}");
            self.variable_name(&at, name, compute);
            if let Some(word) = crate::runtime::secret_word(name) {
                let secrets = secrets_table(key);
                self.err_key(
                    &at,
                    format!(
                        "APR-SECRET-001: `{name}` looks like a secret ({word}) in a plain environment variable; pass it from Secrets Manager or SSM Parameter Store instead: move it to [{secrets}], e.g. {name} = \"ssm:/PARAMETER\" or {name} = \"secretsmanager:SECRET\""
                    ),
                );
            }
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    self.err(
                        &at,
                        format!("a variable's value is text (or a number or boolean), e.g. {name} = \"info\""),
                    );
                    continue;
                }
            };
            out.insert(name.clone(), text);
        }
        out
    }

    /// Secrets: each variable names an SSM parameter or a Secrets Manager
    /// secret, by name or ARN, with an optional JSON key (Secrets Manager)
    /// and KMS key.
    pub(crate) fn secrets(
        &mut self,
        key: &str,
        raw: &IndexMap<String, toml::Value>,
        compute: Compute,
    ) -> BTreeMap<String, SecretRef> {
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            let at = format!("{key}.{name}");
            self.variable_name(&at, name, compute);
            if let Some(secret) = self.secret_ref(&at, value, compute) {
                out.insert(name.clone(), secret);
            }
        }
        out
    }

    /// A variable in both `env` and `secrets`: the backend would get it
    /// twice. Reported at the secret, whose table is `secrets_key`.
    pub(crate) fn runtime_overlap(&mut self, env_key: &str, secrets_key: &str, runtime: &Runtime) {
        for name in runtime.secrets.keys() {
            if runtime.env.contains_key(name) {
                self.err_key(
                    &format!("{secrets_key}.{name}"),
                    format!(
                        "`{name}` is also a plain variable ({env_key}.{name}); a variable comes from `env` or from `secrets`, not both"
                    ),
                );
            }
        }
    }

    fn variable_name(&mut self, at: &str, name: &str, compute: Compute) {
        let syntax_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.len() <= NAME_MAX;
        if !syntax_ok {
            self.err_key(
                at,
                format!(
                    "`{name}` is not a variable name; use letters, digits and `_`, not starting with a digit, at most {NAME_MAX} characters (e.g. LOG_LEVEL)"
                ),
            );
            return;
        }
        if APPRUN_VARIABLES.contains(&name) {
            self.err_key(
                at,
                format!("`{name}` is set by apprun itself (ENV is the env's name, SYSTEM_ID the system id); choose another name"),
            );
        } else if name.starts_with("AWSAPPRUNNER") && compute == Compute::AppRunner {
            self.err_key(
                at,
                format!("`{name}` starts with AWSAPPRUNNER, a prefix App Runner keeps for itself; choose another name"),
            );
        } else if name == "PORT" && compute == Compute::AppRunner {
            self.err_key(
                at,
                "`PORT` is reserved by App Runner, which sets it to the service's `port`; choose another name",
            );
        } else if name.starts_with("AWS_CONTAINER_")
            || name.starts_with("ECS_CONTAINER_METADATA_URI")
        {
            self.err_key(
                at,
                format!("`{name}` is set by the container platform (how the AWS SDKs find the role's credentials and the task metadata); choose another name"),
            );
        }
    }

    fn secret_ref(&mut self, at: &str, value: &toml::Value, compute: Compute) -> Option<SecretRef> {
        let forms = "\"ssm:NAME\", \"secretsmanager:NAME\", a parameter or secret ARN, or { ssm = \"NAME or ARN\", kms_key = \"ARN\" } / { secretsmanager = \"NAME or ARN\", key = \"JSON key\", kms_key = \"ARN\" }";
        match value {
            toml::Value::String(s) => {
                let (store, id) = parse_reference(s).or_else(|| {
                    self.err(
                        at,
                        format!("`{s}` is not a secret reference; allowed: {forms}"),
                    );
                    None
                })?;
                let r = SecretRef {
                    store,
                    id,
                    key: None,
                    kms_key: None,
                };
                (self.secret_id(at, &r) && self.backend_takes(at, &r, compute)).then_some(r)
            }
            toml::Value::Table(t) => self.secret_table(at, t, forms, compute),
            _ => {
                self.err(at, format!("a secret is given as {forms}"));
                None
            }
        }
    }

    fn secret_table(
        &mut self,
        at: &str,
        t: &toml::Table,
        forms: &str,
        compute: Compute,
    ) -> Option<SecretRef> {
        for field in t.keys() {
            if !["ssm", "secretsmanager", "key", "kms_key"].contains(&field.as_str()) {
                self.err_key(
                    &format!("{at}.{field}"),
                    format!("unknown key `{field}`; a secret table takes `ssm` or `secretsmanager`, and `key`, `kms_key`"),
                );
            }
        }
        let text = |f: &str| {
            t.get(f)
                .map(|v| v.as_str().map(str::to_owned).ok_or(f.to_owned()))
        };
        let mut fields = BTreeMap::new();
        for f in ["ssm", "secretsmanager", "key", "kms_key"] {
            match text(f) {
                Some(Ok(v)) => {
                    fields.insert(f, v);
                }
                Some(Err(f)) => self.err(&format!("{at}.{f}"), format!("`{f}` is text")),
                None => {}
            }
        }
        let (store, id) = match (fields.get("ssm"), fields.get("secretsmanager")) {
            (Some(id), None) => (SecretStore::Ssm, id.clone()),
            (None, Some(id)) => (SecretStore::SecretsManager, id.clone()),
            _ => {
                self.err(
                    at,
                    format!("give exactly one of `ssm` and `secretsmanager`; allowed: {forms}"),
                );
                return None;
            }
        };
        let field = store.as_str();
        let r = SecretRef {
            store,
            id,
            key: fields.get("key").cloned(),
            kms_key: fields.get("kms_key").cloned(),
        };
        let id_at = format!("{at}.{field}");
        let mut ok = self.secret_id(&id_at, &r) && self.backend_takes(&id_at, &r, compute);
        if let Some(k) = &r.key {
            ok &= self.json_key(&format!("{at}.key"), store, k);
        }
        if let Some(k) = &r.kms_key
            && !is_kms_key_arn(k)
        {
            self.err(
                &format!("{at}.kms_key"),
                format!("`{k}` is not a KMS key ARN; expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (IAM authorizes kms:Decrypt on the key itself, not on an alias: `aws kms describe-key --key-id alias/NAME` shows its ARN)"),
            );
            ok = false;
        }
        ok.then_some(r)
    }

    /// A JSON key: Secrets Manager only, and a name the backend can put in
    /// the `ARN:KEY::` form (ECS documents it for container secrets; AWS's
    /// CDK module for App Runner builds App Runner secrets the same way).
    fn json_key(&mut self, at: &str, store: SecretStore, k: &str) -> bool {
        if store != SecretStore::SecretsManager {
            self.err(at, "`key` picks a field of a Secrets Manager secret holding JSON; an SSM parameter has no keys");
            return false;
        }
        if k.is_empty() || k.contains(':') {
            self.err(
                at,
                format!("`{k}` is not a JSON key; give the top-level key's name, without `:`"),
            );
            return false;
        }
        true
    }

    /// A parameter or secret name or ARN, by the rules of its store.
    fn secret_id(&mut self, at: &str, r: &SecretRef) -> bool {
        let problem = match (r.store, r.is_arn()) {
            (SecretStore::Ssm, true) => (!is_arn_of(&r.id, "ssm", "parameter/"))
                .then(|| format!("`{}` is not an SSM parameter ARN; expected arn:aws:ssm:REGION:ACCOUNT:parameter/NAME", r.id)),
            (SecretStore::SecretsManager, true) => (!is_arn_of(&r.id, "secretsmanager", "secret:"))
                .then(|| format!("`{}` is not a Secrets Manager secret ARN; expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX", r.id)),
            (SecretStore::Ssm, false) => ssm_name_problem(&r.id),
            (SecretStore::SecretsManager, false) => secret_name_problem(&r.id),
        };
        match problem {
            Some(m) => {
                self.err(at, m);
                false
            }
            None => true,
        }
    }

    /// What the backend accepts as a reference. App Runner's
    /// RuntimeEnvironmentSecrets takes the full ARN of a Secrets Manager
    /// secret (the API reference); a name would reach it as a partial ARN
    /// without the 6 random characters, which App Runner does not document.
    /// ECS resolves partial ARNs and names in its region, and both backends
    /// take an SSM parameter of their account and region by name.
    fn backend_takes(&mut self, at: &str, r: &SecretRef, compute: Compute) -> bool {
        if compute != Compute::AppRunner
            || r.store != SecretStore::SecretsManager
            || r.is_complete_secret_arn()
        {
            return true;
        }
        let name = r.name();
        self.err(
            at,
            format!("App Runner reads a Secrets Manager secret by its full ARN only (ending in the 6 random characters Secrets Manager appends), not by name or partial ARN; write that ARN here, as printed by: aws secretsmanager describe-secret --secret-id {name} --query ARN"),
        );
        false
    }

    /// App Runner does not read SSM parameters of another account (its API
    /// reference); an env that names its account makes that checkable.
    /// Reported where the secret is written: the env's table or the
    /// service's.
    fn cross_account_parameters(
        &mut self,
        env: &Env,
        service: &Service,
        settings: &ServiceSettings,
        o: &RawEnvService,
        key: &str,
    ) {
        let Some(account) = &env.account else {
            return;
        };
        if service.compute != Compute::AppRunner {
            return;
        }
        for (name, r) in &settings.runtime.secrets {
            let other = r
                .arn_account()
                .filter(|a| r.store == SecretStore::Ssm && a != account);
            let Some(other) = other else {
                continue;
            };
            let at = if o.secrets.contains_key(name) {
                format!("{key}.secrets.{name}")
            } else {
                format!("services.{}.secrets.{name}", service.name)
            };
            self.err(
                &at,
                format!("the SSM parameter is in account {other}, but env `{}` deploys service `{}` to account {account}: App Runner does not read SSM parameters of another account; copy the parameter into account {account}, or keep it in Secrets Manager and give the secret's full ARN (App Runner reads secrets across accounts when the secret's resource policy and KMS key allow it)", env.name, service.name),
            );
        }
    }

    /// `[env.NAME.services.SERVICE]` for every env, merged over each
    /// service's own keys into `Env::services`.
    pub(super) fn env_services(
        &mut self,
        system_id: &str,
        envs: &mut IndexMap<String, Env>,
        services: &IndexMap<String, Service>,
        mut raw: IndexMap<String, IndexMap<String, RawEnvService>>,
    ) {
        let mut domains: BTreeMap<String, String> = BTreeMap::new();
        // `[env.E.services.S]` tables that exist: where the names of what
        // they create are reported.
        let mut given_keys: BTreeSet<String> = BTreeSet::new();
        for env in envs.values_mut() {
            let mut overrides = raw.shift_remove(&env.name).unwrap_or_default();
            for service in services.values() {
                let key = format!("env.{}.services.{}", env.name, service.name);
                let o = overrides.shift_remove(&service.name);
                let given = o.is_some();
                let o = o.unwrap_or_default();
                let settings = self.service_in_env(&key, service, &o, given, env.ingress);
                self.cross_account_parameters(env, service, &settings, &o, &key);
                if given {
                    given_keys.insert(key.clone());
                }
                if let Some(d) = &settings.domain {
                    let at = format!("{key}.domain");
                    if let Some(first) = domains.get(&d.name) {
                        self.err(&at, format!("`{}` is already the domain of {first}; a domain points at one service", d.name));
                    } else {
                        domains.insert(
                            d.name.clone(),
                            format!("service `{}` in env `{}`", service.name, env.name),
                        );
                    }
                }
                self.settings_names(system_id, &env.name, service, &settings, &key, given);
                env.services.insert(service.name.clone(), settings);
            }
            for name in overrides.keys() {
                let defined: Vec<&str> = services.keys().map(String::as_str).collect();
                self.err_key(
                    &format!("env.{}.services.{name}", env.name),
                    format!(
                        "`{name}` is not a service of this file; defined: {}",
                        defined.join(", ")
                    ),
                );
            }
        }
        self.own_role_names(system_id, envs, services, &given_keys);
    }

    /// The roles of services that run with their own (see
    /// `Config::runs_with_own_role`: it depends on every env of the
    /// account, so this runs once all envs are merged) must fit IAM's
    /// limit on role names.
    fn own_role_names(
        &mut self,
        system_id: &str,
        envs: &IndexMap<String, Env>,
        services: &IndexMap<String, Service>,
        given_keys: &BTreeSet<String>,
    ) {
        for env in envs.values() {
            for service in services.values() {
                if !runs_with_own_role(envs, &env.name, &service.name) {
                    continue;
                }
                let role = names::service_role(system_id, &env.name, &service.name);
                if role.len() <= names::ROLE_MAX {
                    continue;
                }
                let key = format!("env.{}.services.{}", env.name, service.name);
                let at = if given_keys.contains(&key) {
                    key
                } else {
                    format!("services.{}", service.name)
                };
                self.err_key(
                    &at,
                    format!("the role this service runs with in env `{}` (it reads secrets or writes traces in an env of this account) would be named `{role}` ({} characters); IAM allows {}: shorten system.id, the env or the service name", env.name, role.len(), names::ROLE_MAX),
                );
            }
        }
    }

    /// One service in one env: the env's keys over the service's.
    fn service_in_env(
        &mut self,
        key: &str,
        service: &Service,
        o: &RawEnvService,
        given: bool,
        ingress: Ingress,
    ) -> ServiceSettings {
        let compute = service.compute;
        let svc_key = format!("services.{}", service.name);
        let mut runtime = service.runtime.clone();
        let env_vars = self.env_vars(&format!("{key}.env"), &o.env, compute);
        let secrets = self.secrets(&format!("{key}.secrets"), &o.secrets, compute);
        let overridden: BTreeSet<String> = env_vars.keys().chain(secrets.keys()).cloned().collect();
        runtime.env.extend(env_vars);
        runtime.secrets.extend(secrets);
        // The service's own overlap is reported with its keys; here only
        // what this env's keys add.
        for name in runtime.secrets.keys() {
            if runtime.env.contains_key(name) && overridden.contains(name) {
                let secrets_key = if o.secrets.contains_key(name) {
                    format!("{key}.secrets")
                } else {
                    format!("{svc_key}.secrets")
                };
                let env_key = if o.env.contains_key(name) {
                    format!("{key}.env")
                } else {
                    format!("{svc_key}.env")
                };
                let at = if o.secrets.contains_key(name) {
                    format!("{secrets_key}.{name}")
                } else {
                    format!("{env_key}.{name}")
                };
                self.err_key(
                    &at,
                    format!("`{name}` is both a plain variable ({env_key}.{name}) and a secret ({secrets_key}.{name}) in this env; a variable comes from `env` or from `secrets`, not both"),
                );
            }
        }
        let domain = self.domain(key, compute, ingress, o);
        let keys = InstanceKeys {
            min_instances: o.min_instances,
            max_instances: o.max_instances,
            max_concurrency: o.max_concurrency,
        };
        let app_runner_scaling = self.instances(key, compute, keys, service.app_runner_scaling);
        let tasks = TaskKeys {
            min_tasks: o.min_tasks,
            max_tasks: o.max_tasks,
            scale_on: o.scale_on.clone(),
            scale_target: o.scale_target,
        };
        let scaling = if given {
            self.scaling(key, compute, &tasks, Some(&service.scaling))
        } else {
            service.scaling
        };
        let tracing = match o.tracing {
            Some(t) => self.tracing(key, compute, t),
            None => service.tracing,
        };
        ServiceSettings {
            runtime,
            domain,
            app_runner_scaling,
            scaling,
            tracing,
        }
    }

    /// `tracing = true` needs App Runner: ECS Express has no tracing setting.
    pub(super) fn tracing(&mut self, key: &str, compute: Compute, on: bool) -> bool {
        if on && compute != Compute::AppRunner {
            self.err(
                &format!("{key}.tracing"),
                "tracing = true needs compute = \"apprunner\" (an App Runner observability configuration with X-Ray); AWS::ECS::ExpressGatewayService has no tracing setting: run an OpenTelemetry collector in the image instead, or remove `tracing`",
            );
            return false;
        }
        on
    }

    /// App Runner auto scaling: each key in App Runner's bounds, over
    /// `base` (the service's own keys) or App Runner's defaults.
    pub(super) fn instances(
        &mut self,
        key: &str,
        compute: Compute,
        keys: InstanceKeys,
        base: Option<AppRunnerScaling>,
    ) -> Option<AppRunnerScaling> {
        if !keys.any() {
            return base;
        }
        if compute != Compute::AppRunner {
            for (field, set) in [
                ("min_instances", keys.min_instances.is_some()),
                ("max_instances", keys.max_instances.is_some()),
                ("max_concurrency", keys.max_concurrency.is_some()),
            ] {
                if set {
                    self.err(
                        &format!("{key}.{field}"),
                        format!("`{field}` applies to compute = \"apprunner\" (its auto scaling configuration); ECS Express scales by task count: use min_tasks, max_tasks, scale_on and scale_target"),
                    );
                }
            }
            return None;
        }
        let start = base.unwrap_or(AppRunnerScaling::DEFAULT);
        let mut bounded =
            |field: &str, v: Option<i64>, max: i64, what: &str, fallback: u32| -> u32 {
                match v {
                    None => fallback,
                    Some(n) if (1..=max).contains(&n) => n as u32,
                    Some(n) => {
                        self.err(
                            &format!("{key}.{field}"),
                            format!("{n} is out of range; allowed: 1 to {max} ({what})"),
                        );
                        fallback
                    }
                }
            };
        let s = AppRunnerScaling {
            min_instances: bounded(
                "min_instances",
                keys.min_instances,
                INSTANCES_MAX,
                "App Runner's MinSize",
                start.min_instances,
            ),
            max_instances: bounded(
                "max_instances",
                keys.max_instances,
                INSTANCES_MAX,
                "App Runner's default quota of instances per service",
                start.max_instances,
            ),
            max_concurrency: bounded(
                "max_concurrency",
                keys.max_concurrency,
                CONCURRENCY_MAX,
                "concurrent requests per instance, App Runner's MaxConcurrency",
                start.max_concurrency,
            ),
        };
        if s.min_instances > s.max_instances {
            let field = if keys.max_instances.is_some() {
                "max_instances"
            } else {
                "min_instances"
            };
            self.err(
                &format!("{key}.{field}"),
                format!(
                    "max_instances ({}) is below min_instances ({})",
                    s.max_instances, s.min_instances
                ),
            );
        }
        Some(s)
    }

    fn domain(
        &mut self,
        key: &str,
        compute: Compute,
        ingress: Ingress,
        o: &RawEnvService,
    ) -> Option<Domain> {
        if let Some(zone) = &o.hosted_zone {
            if o.domain.is_none() {
                self.err(&format!("{key}.hosted_zone"), "hosted_zone is where the records of `domain` go; set `domain` too, or remove `hosted_zone`");
            } else if !is_hosted_zone_id(zone) {
                self.err(
                    &format!("{key}.hosted_zone"),
                    format!("`{zone}` is not a Route 53 hosted zone id; expected the id alone, e.g. \"Z0123456789ABCDEFGHIJ\" (`aws route53 list-hosted-zones-by-name` shows it, after /hostedzone/)"),
                );
            }
        }
        let name = o.domain.as_ref()?;
        let at = format!("{key}.domain");
        if compute != Compute::AppRunner {
            self.err(
                &at,
                "`domain` needs compute = \"apprunner\": apprun associates custom domains with App Runner services; ECS Express Mode shares one load balancer between services, routes by host header and holds a certificate for the generated `*.ecs.REGION.on.aws` name only, and AWS::ECS::ExpressGatewayService has no custom domain setting (a CNAME to the endpoint does not work); put CloudFront with your ACM certificate in front of the Express endpoint, or use compute = \"apprunner\", or remove `domain`",
            );
            return None;
        }
        if ingress == Ingress::Private {
            self.err(
                &at,
                "`domain` needs a public service: this env has ingress = \"private\", and App Runner answers a private service only at the DNS names of its VPC ingress connection (VpcDNSTargets); a custom domain through a Route 53 private hosted zone is not supported; remove `domain` (reach the service at its ServiceUrl output from the VPC), or set ingress = \"public\"",
            );
            return None;
        }
        if let Some(m) = domain_problem(name) {
            self.err(&at, m);
            return None;
        }
        Some(Domain {
            name: name.clone(),
            hosted_zone: o.hosted_zone.clone(),
        })
    }

    /// The names of what these settings create must fit AWS's limits.
    fn settings_names(
        &mut self,
        system_id: &str,
        env: &str,
        service: &Service,
        s: &ServiceSettings,
        key: &str,
        given: bool,
    ) {
        // Names built from invalid parts are reported at those parts.
        let at = if given {
            key.to_owned()
        } else {
            format!("services.{}", service.name)
        };
        if s.runtime.secrets.len() > SECRETS_MAX {
            self.err_key(
                &at,
                format!("{} secrets for service `{}` in env `{env}`; at most {SECRETS_MAX}: they are listed in the policy of its role, which IAM caps at 10,240 characters (keep related values in one JSON secret and pick them with `key`)", s.runtime.secrets.len(), service.name),
            );
        }
        let configured = s.app_runner_scaling.is_some() || s.tracing;
        if configured && service.compute == Compute::AppRunner {
            let name = names::app_runner_configuration(system_id, env, &service.name);
            if name.len() > names::CONFIGURATION_MAX {
                self.err_key(
                    &at,
                    format!("the App Runner auto scaling / observability configuration would be named `{name}` ({} characters); App Runner allows 4 to {}: shorten system.id, the env or the service name", name.len(), names::CONFIGURATION_MAX),
                );
            }
        }
    }
}

/// The secrets table beside an env table: `services.web.env` ->
/// `services.web.secrets`.
fn secrets_table(env_key: &str) -> String {
    match env_key.strip_suffix(".env") {
        Some(prefix) => format!("{prefix}.secrets"),
        None => format!("{env_key} secrets"),
    }
}

/// `ssm:NAME`, `secretsmanager:NAME`, or an ARN whose service says which.
fn parse_reference(s: &str) -> Option<(SecretStore, String)> {
    if let Some(rest) = s.strip_prefix("ssm:") {
        return Some((SecretStore::Ssm, rest.to_owned()));
    }
    if let Some(rest) = s.strip_prefix("secretsmanager:") {
        return Some((SecretStore::SecretsManager, rest.to_owned()));
    }
    match s.split(':').nth(2) {
        Some("ssm") if s.starts_with("arn:") => Some((SecretStore::Ssm, s.to_owned())),
        Some("secretsmanager") if s.starts_with("arn:") => {
            Some((SecretStore::SecretsManager, s.to_owned()))
        }
        _ => None,
    }
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:PREFIXNAME` with a name after the prefix.
fn is_arn_of(arn: &str, service: &str, prefix: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && is_region(parts[3])
        && is_account(parts[4])
        && parts[5]
            .strip_prefix(prefix)
            .is_some_and(|name| !name.is_empty() && !name.contains(char::is_whitespace))
}

fn is_region(r: &str) -> bool {
    !r.is_empty()
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_account(a: &str) -> bool {
    a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())
}

/// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
fn is_kms_key_arn(k: &str) -> bool {
    is_arn_of(k, "kms", "key/")
        && k.rsplit('/')
            .next()
            .is_some_and(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// SSM Parameter Store's naming rules.
fn ssm_name_problem(name: &str) -> Option<String> {
    let chars_ok = !name.is_empty()
        && name.len() <= 1011
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    let bare = name.strip_prefix('/').unwrap_or(name).to_ascii_lowercase();
    if !chars_ok {
        Some(format!(
            "`{name}` is not an SSM parameter name; use letters, digits and _ . - /, e.g. \"/myapp/prod/db-password\""
        ))
    } else if name.contains('/') && !name.starts_with('/') {
        Some(format!(
            "`{name}` is a parameter path without its leading `/`; write \"/{name}\""
        ))
    } else if bare.starts_with("aws") || bare.starts_with("ssm") {
        Some(format!(
            "`{name}` starts with `aws` or `ssm`, which SSM reserves; choose another name"
        ))
    } else if name.matches('/').count() > 15 || name.ends_with('/') || name.contains("//") {
        Some(format!(
            "`{name}` is not a parameter path: at most 15 levels, no empty level"
        ))
    } else {
        None
    }
}

/// Secrets Manager's naming rules, and a name that could be read as an ARN suffix.
fn secret_name_problem(name: &str) -> Option<String> {
    let chars_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if !chars_ok {
        Some(format!(
            "`{name}` is not a Secrets Manager secret name; use letters, digits and / _ + = . @ -, at most 512 characters"
        ))
    } else if has_random_suffix(name) {
        Some(format!(
            "`{name}` ends like the 6 random characters Secrets Manager appends in ARNs, so a name-based lookup is ambiguous; give the secret's full ARN instead"
        ))
    } else {
        None
    }
}

/// A Route 53 hosted zone id: `Z` and uppercase letters and digits.
fn is_hosted_zone_id(z: &str) -> bool {
    z.starts_with('Z')
        && (2..=32).contains(&z.len())
        && z.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A fully qualified domain name App Runner can associate: lowercase
/// labels of letters, digits and inner hyphens, at least two of them.
fn domain_problem(d: &str) -> Option<String> {
    if d.ends_with('.') {
        return Some(format!(
            "write `{}` without the trailing dot",
            d.trim_end_matches('.')
        ));
    }
    if d.starts_with("*.") {
        return Some(format!(
            "`{d}` is a wildcard; give the one name the service answers at, e.g. \"app.example.com\""
        ));
    }
    if d != d.to_ascii_lowercase() {
        return Some(format!(
            "write the domain in lowercase: \"{}\"",
            d.to_ascii_lowercase()
        ));
    }
    let labels: Vec<&str> = d.split('.').collect();
    let labels_ok = labels.iter().all(|l| {
        (1..=63).contains(&l.len())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().any(|c| c.is_ascii_lowercase()));
    if labels.len() < 2 || !labels_ok || !tld_ok || d.len() > 253 {
        return Some(format!(
            "`{d}` is not a domain name; expected a fully qualified name such as \"app.example.com\": labels of letters, digits and inner hyphens (1 to 63 characters each), at most 253 characters"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_by_prefix_or_arn_service() {
        assert_eq!(
            parse_reference("ssm:/a/b"),
            Some((SecretStore::Ssm, "/a/b".into()))
        );
        assert_eq!(
            parse_reference("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC123")
                .map(|r| r.0),
            Some(SecretStore::SecretsManager)
        );
        assert_eq!(parse_reference("/a/b"), None);
        assert_eq!(parse_reference("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn names_and_ids_follow_aws_rules() {
        assert!(ssm_name_problem("/app/db-password").is_none());
        assert!(ssm_name_problem("db_password").is_none());
        assert!(ssm_name_problem("app/db").is_some());
        assert!(ssm_name_problem("/aws/x").is_some());
        assert!(secret_name_problem("prod/api").is_none());
        assert!(secret_name_problem("prod/api-AbC123").is_some());
        assert!(is_kms_key_arn(
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!is_kms_key_arn(
            "arn:aws:kms:eu-west-1:123456789012:alias/app"
        ));
        assert!(is_hosted_zone_id("Z0123456789ABC"));
        assert!(!is_hosted_zone_id("/hostedzone/Z0123"));
        assert!(domain_problem("app.example.com").is_none());
        assert!(domain_problem("example").is_some());
        assert!(domain_problem("-a.example.com").is_some());
        assert!(domain_problem("a.123").is_some());
    }
}
