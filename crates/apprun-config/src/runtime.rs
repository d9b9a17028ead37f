//! What a service (or a job) runs with besides its image: plain environment
//! variables, secrets read from SSM Parameter Store or Secrets Manager, and
//! per env: a custom domain, App Runner's auto scaling and tracing.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::model::{Config, Env, Scaling};

/// Where a secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretStore {
    /// An SSM Parameter Store parameter (String or SecureString).
    Ssm,
    /// A Secrets Manager secret.
    SecretsManager,
}

impl SecretStore {
    /// The word apprun.toml uses for it (`ssm:…`, `{ secretsmanager = … }`).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStore::Ssm => "ssm",
            SecretStore::SecretsManager => "secretsmanager",
        }
    }
}

/// One secret a variable is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub store: SecretStore,
    /// As written: a parameter or secret name, or a full ARN.
    pub id: String,
    /// A key of a Secrets Manager secret holding JSON.
    pub key: Option<String>,
    /// The customer managed KMS key (its ARN) the value is encrypted with.
    pub kms_key: Option<String>,
}

impl SecretRef {
    pub fn is_arn(&self) -> bool {
        self.id.starts_with("arn:")
    }

    /// The region of a full ARN; `None` for a name (the service's region).
    pub fn arn_region(&self) -> Option<&str> {
        self.arn_part(3)
    }

    /// The partition of a full ARN; `None` for a name.
    pub fn arn_partition(&self) -> Option<&str> {
        self.arn_part(1)
    }

    fn arn_part(&self, i: usize) -> Option<&str> {
        if !self.is_arn() {
            return None;
        }
        self.id.split(':').nth(i).filter(|p| !p.is_empty())
    }

    /// The parameter or secret name: the name as written, or the part of
    /// the ARN after `parameter/` or `secret:`. An SSM name from an ARN
    /// gets its leading `/` back when it is a path (the ARN drops it).
    pub fn name(&self) -> String {
        if !self.is_arn() {
            return self.id.clone();
        }
        let rest = self.id.splitn(6, ':').nth(5).unwrap_or_default();
        match self.store {
            SecretStore::Ssm => {
                let name = rest.strip_prefix("parameter").unwrap_or(rest);
                match name.strip_prefix('/') {
                    Some(n) if n.contains('/') => name.to_owned(),
                    Some(n) => n.to_owned(),
                    None => name.to_owned(),
                }
            }
            SecretStore::SecretsManager => rest.strip_prefix("secret:").unwrap_or(rest).to_owned(),
        }
    }

    /// The account of a full ARN; `None` for a name (the service's account).
    pub fn arn_account(&self) -> Option<&str> {
        self.arn_part(4)
    }

    /// Whether a Secrets Manager ARN ends with the six random characters
    /// Secrets Manager appends to the name (a complete ARN); IAM matches a
    /// secret's complete ARN only.
    pub fn is_complete_secret_arn(&self) -> bool {
        self.store == SecretStore::SecretsManager
            && self.is_arn()
            && has_random_suffix(&self.name())
    }
}

/// `NAME-AbCdEf`: the suffix Secrets Manager appends to a secret's name in
/// its ARN.
pub(crate) fn has_random_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 7 && b[b.len() - 7] == b'-' && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
}

/// Plain variables and secrets, each sorted by variable name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runtime {
    pub env: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretRef>,
}

/// A custom domain of a service in one env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Lowercase, without a trailing dot.
    pub name: String,
    /// The Route 53 hosted zone the records go in (`Z…`); without it the
    /// records are printed for the user to create.
    pub hosted_zone: Option<String>,
}

/// App Runner's auto scaling (`AWS::AppRunner::AutoScalingConfiguration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppRunnerScaling {
    pub min_instances: u32,
    pub max_instances: u32,
    /// Concurrent requests per instance before App Runner adds one.
    pub max_concurrency: u32,
}

impl AppRunnerScaling {
    /// App Runner's own defaults (its `DefaultConfiguration`): what a key
    /// left out keeps.
    pub const DEFAULT: AppRunnerScaling = AppRunnerScaling {
        min_instances: 1,
        max_instances: 25,
        max_concurrency: 100,
    };
}

/// Everything a service runs with in one env: the service's keys with the
/// env's `[env.NAME.services.SERVICE]` keys over them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSettings {
    pub runtime: Runtime,
    pub domain: Option<Domain>,
    /// `None` when no key asks for it: App Runner's default configuration.
    pub app_runner_scaling: Option<AppRunnerScaling>,
    /// ECS Express task scaling (ignored by App Runner).
    pub scaling: Scaling,
    /// App Runner X-Ray tracing.
    pub tracing: bool,
}

impl ServiceSettings {
    /// Whether the service needs a role of its own in this env: the role
    /// that reads its secrets (and, on App Runner, writes its traces) is
    /// granted exactly what this service in this env uses. (Whether it
    /// runs with one also depends on the other envs of its account: see
    /// [`Config::runs_with_own_role`].)
    pub fn needs_own_role(&self) -> bool {
        !self.runtime.secrets.is_empty() || self.tracing
    }
}

impl Config {
    /// The envs that deploy to the same account as `env` (itself
    /// included), in file order: those with the same `account`; envs
    /// without `account` count as one account, as for the network overlap
    /// check and the source repository. Empty for an unknown env.
    pub fn envs_of_account(&self, env: &str) -> Vec<&Env> {
        envs_of_account(&self.envs, env)
    }

    /// Whether `service` runs with a role of its own in `env`
    /// (`${id}-${env}-${service}-run`, in the account's IAM stack): when
    /// the service reads secrets or writes traces in ANY env of that
    /// account. Each env's role is granted only that env's secrets (and
    /// traces), so an env without them gets a role with the shared role's
    /// permissions; in return, removing an env's last secret never deletes
    /// a role its running service still uses, and neither does deploying
    /// one env after another env's secrets were removed from the file. The
    /// roles go only when no env of the account needs them any more.
    pub fn runs_with_own_role(&self, env: &str, service: &str) -> bool {
        runs_with_own_role(&self.envs, env, service)
    }
}

/// [`Config::envs_of_account`] on the envs being validated.
pub(crate) fn envs_of_account<'a>(envs: &'a IndexMap<String, Env>, env: &str) -> Vec<&'a Env> {
    let Some(this) = envs.get(env) else {
        return Vec::new();
    };
    envs.values()
        .filter(|e| e.account == this.account)
        .collect()
}

/// [`Config::runs_with_own_role`] on the envs being validated.
pub(crate) fn runs_with_own_role(envs: &IndexMap<String, Env>, env: &str, service: &str) -> bool {
    envs_of_account(envs, env).iter().any(|e| {
        e.services
            .get(service)
            .is_some_and(ServiceSettings::needs_own_role)
    })
}

/// Names apprun gives the per-env, per-service resources these settings
/// create, with the limits AWS puts on them.
pub mod names {
    /// The role a service runs with when it has one of its own (App Runner
    /// instance role or ECS execution role): `${id}-${env}-${service}-run`.
    pub fn service_role(system_id: &str, env: &str, service: &str) -> String {
        format!("{system_id}-{env}-{service}-run")
    }

    /// App Runner auto scaling and observability configurations:
    /// `${id}-${env}-${service}` (4 to 32 characters).
    pub fn app_runner_configuration(system_id: &str, env: &str, service: &str) -> String {
        format!("{system_id}-{env}-{service}")
    }

    /// IAM role names: at most 64 characters.
    pub const ROLE_MAX: usize = 64;
    /// App Runner configuration names: 4 to 32 characters.
    pub const CONFIGURATION_MAX: usize = 32;
}

/// Words that make a plain environment variable look like a secret
/// (APR-SECRET-001: `apprun.toml`'s `env` tables and `apprun check` on
/// templates apply the same list).
const SECRET_WORDS: &[&str] = &["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// The word that makes `name` look like a secret, if any (case-insensitive).
pub fn secret_word(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().copied().find(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(store: SecretStore, id: &str) -> SecretRef {
        SecretRef {
            store,
            id: id.into(),
            key: None,
            kms_key: None,
        }
    }

    #[test]
    fn names_come_back_from_arns() {
        let p = r(
            SecretStore::Ssm,
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db",
        );
        assert_eq!(p.name(), "/app/db");
        assert_eq!(p.arn_region(), Some("eu-west-1"));
        let flat = r(
            SecretStore::Ssm,
            "arn:aws:ssm:eu-west-1:123456789012:parameter/db",
        );
        assert_eq!(flat.name(), "db");
        let s = r(
            SecretStore::SecretsManager,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-AbC123",
        );
        assert_eq!(s.name(), "prod/api-AbC123");
        assert!(s.is_complete_secret_arn());
        let partial = r(
            SecretStore::SecretsManager,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api",
        );
        assert!(!partial.is_complete_secret_arn());
        assert_eq!(r(SecretStore::Ssm, "/x").arn_region(), None);
    }
}
