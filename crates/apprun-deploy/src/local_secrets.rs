//! `apprun local --secrets`: a service's secrets read from SSM Parameter
//! Store (`GetParameter`, decrypted) and Secrets Manager (`GetSecretValue`,
//! a JSON key extracted when the config names one), for the local process.
//!
//! A value is held in a [`SecretValue`], which has no `Display`, no
//! `Serialize` and a redacted `Debug`: nothing apprun prints can show it.
//! Errors name the variable and where it is read from, never a value.

use std::collections::BTreeMap;

use apprun_config::{SecretRef, SecretStore};
use secretsmanager::GetSecretValueRequest;
use ssm::GetParameterRequest;

mod secretsmanager;
mod ssm;

use crate::api::Api;
use crate::error::DeployError;

/// A secret's value. Only [`SecretValue::expose`] gives it out, for the
/// environment of the process it is meant for.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// One resolved variable.
#[derive(Debug, Clone)]
pub struct ResolvedSecret {
    pub variable: String,
    /// Where it was read from, as the config says it (`ssm:/app/db`,
    /// `secretsmanager:prod/api#token`): safe to print.
    pub source: String,
    pub value: SecretValue,
}

/// Where a secret is read from, for messages.
pub fn describe_source(secret: &SecretRef) -> String {
    match &secret.key {
        Some(key) => format!("{}:{}#{key}", secret.store.as_str(), secret.id),
        None => format!("{}:{}", secret.store.as_str(), secret.id),
    }
}

/// Reads every secret (in variable order), one call each.
pub async fn resolve_secrets(
    api: &Api,
    secrets: &BTreeMap<String, SecretRef>,
) -> Result<Vec<ResolvedSecret>, DeployError> {
    let mut out = Vec::with_capacity(secrets.len());
    for (variable, secret) in secrets {
        let value = resolve_one(api, variable, secret).await?;
        out.push(ResolvedSecret {
            variable: variable.clone(),
            source: describe_source(secret),
            value,
        });
    }
    Ok(out)
}

async fn resolve_one(
    api: &Api,
    variable: &str,
    secret: &SecretRef,
) -> Result<SecretValue, DeployError> {
    let source = describe_source(secret);
    if let Some(region) = secret.arn_region().filter(|r| *r != api.region()) {
        return Err(DeployError::Aws {
            operation: operation(secret.store),
            stack: None,
            message: format!(
                "variable {variable} ({source}) is in region {region}, and apprun local reads secrets in {}; run it with --region {region}, or copy the secret to {}",
                api.region(),
                api.region()
            ),
        });
    }
    let failed = |e: crate::api::ApiError| {
        let advice = match e.code() {
            Some("ParameterNotFound" | "ResourceNotFoundException") => {
                "check the name in apprun.toml, and the account and region (--profile, --region)"
            }
            Some("AccessDeniedException" | "AccessDenied") => {
                "your credentials may not read it: they need ssm:GetParameter or secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)"
            }
            _ => "nothing was started",
        };
        let mut text = e.to_string();
        if let Some(status) = e.status().filter(|s| *s >= 500) {
            text = format!("the endpoint answered HTTP {status} ({text}) even after retries");
        }
        DeployError::Aws {
            operation: operation(secret.store),
            stack: None,
            message: format!("variable {variable} ({source}): {text}; {advice}"),
        }
    };
    match secret.store {
        SecretStore::Ssm => {
            let answer = api
                .call(&GetParameterRequest {
                    name: secret.id.clone(),
                    with_decryption: true,
                })
                .await
                .map_err(failed)?;
            Ok(SecretValue(answer.parameter.value))
        }
        SecretStore::SecretsManager => {
            let answer = api
                .call(&GetSecretValueRequest {
                    secret_id: secret.id.clone(),
                })
                .await
                .map_err(failed)?;
            let Some(text) = answer.secret_string else {
                return Err(unusable(
                    variable,
                    &source,
                    "it is a binary secret; an environment variable takes text only",
                ));
            };
            match &secret.key {
                None => Ok(SecretValue(text)),
                Some(key) => json_key(&text, key)
                    .map(SecretValue)
                    .ok_or_else(|| {
                        unusable(
                            variable,
                            &source,
                            &format!("its value is not a JSON object with the key `{key}`; fix `key` in apprun.toml, or the secret"),
                        )
                    }),
            }
        }
    }
}

fn operation(store: SecretStore) -> &'static str {
    match store {
        SecretStore::Ssm => "GetParameter",
        SecretStore::SecretsManager => "GetSecretValue",
    }
}

/// A secret read, but not usable as the variable (never says its value).
fn unusable(variable: &str, source: &str, why: &str) -> DeployError {
    DeployError::Aws {
        operation: "GetSecretValue",
        stack: None,
        message: format!("variable {variable} ({source}): {why}"),
    }
}

/// The value of `key` in a JSON object: a string as it is, any other JSON
/// value as its JSON text (as ECS and App Runner pass it). `None` when the
/// text is not a JSON object or lacks the key.
fn json_key(text: &str, key: &str) -> Option<String> {
    let serde_json::Value::Object(map) = serde_json::from_str(text).ok()? else {
        return None;
    };
    match map.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_give_strings_as_they_are_and_other_values_as_json() {
        let doc = r#"{"token":"abc","port":5432,"tls":true}"#;
        assert_eq!(json_key(doc, "token").as_deref(), Some("abc"));
        assert_eq!(json_key(doc, "port").as_deref(), Some("5432"));
        assert_eq!(json_key(doc, "tls").as_deref(), Some("true"));
        assert_eq!(json_key(doc, "missing"), None);
        assert_eq!(json_key("plain text", "token"), None);
        assert_eq!(json_key("[1]", "token"), None);
    }

    #[test]
    fn a_value_never_shows_in_debug_output() {
        let v = SecretValue("s3cr3t-value".into());
        assert_eq!(format!("{v:?}"), "SecretValue(<redacted>)");
        assert_eq!(v.expose(), "s3cr3t-value");
    }

    #[test]
    fn sources_are_described_as_the_config_writes_them() {
        let r = SecretRef {
            store: SecretStore::SecretsManager,
            id: "prod/api".into(),
            key: Some("token".into()),
            kms_key: None,
        };
        assert_eq!(describe_source(&r), "secretsmanager:prod/api#token");
    }
}
