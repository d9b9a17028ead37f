//! What a running service reads and writes with its role, from what its
//! template declares: the secrets behind its environment variables (App
//! Runner's instance role reads `RuntimeEnvironmentSecrets`, ECS's
//! execution role a container's `Secrets`: the App Runner Developer Guide's
//! "Referencing environment variables" and the ECS Developer Guide's
//! "Required IAM permissions for Amazon ECS secrets") and the X-Ray writes
//! of App Runner's tracing (its "Tracing for your App Runner application
//! with X-Ray": the instance role holds AWSXRayDaemonWriteAccess).
//!
//! Not derived: `kms:Decrypt` on a customer managed key. Which key
//! encrypts a secret is a property of the parameter or secret, which the
//! templates do not declare; with the AWS managed keys (`aws/ssm`,
//! `aws/secretsmanager`) the role needs no KMS grant of its own.

use apprun_template::Value;

use super::actors::Actor;
use super::eval::{UNKNOWN, UNKNOWN_ONE, show};
use super::needs::{Call, expand};
use super::world::{World, list};

/// The X-Ray write actions of AWSXRayDaemonWriteAccess, which App Runner's
/// tracing documentation has the instance role hold; none takes a resource.
const TRACE_WRITES: &[&str] = &[
    "xray:GetSamplingRules",
    "xray:GetSamplingStatisticSummaries",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

/// The read a secret reference takes: the action and the ARN IAM
/// authorizes it on.
#[derive(Debug, PartialEq)]
pub(crate) enum SecretRead {
    Read {
        action: &'static str,
        arn: String,
    },
    /// The reference is neither a parameter nor a secret (with why).
    Unknown(String),
}

/// Adds what reading each `{Name, Value|ValueFrom}` secret of `entries`
/// needs to the actor: `ssm:GetParameters` on a parameter (a name is a
/// parameter of this account and region, as both backends accept),
/// `secretsmanager:GetSecretValue` on a secret (a JSON key, version stage
/// or version id after the ARN reads the same secret).
pub(crate) fn secret_needs(
    world: &World<'_>,
    at: usize,
    entries: &[&Value],
    value_key: &str,
    whose: &str,
    a: &mut Actor,
) {
    for e in entries {
        let name = e.get("Name").map(|n| world.text(at, n)).unwrap_or_default();
        let Some(value) = e.get(value_key) else {
            continue;
        };
        let why = format!("{whose} variable {name} reads its secret");
        match secret_read(world, &world.text(at, value)) {
            SecretRead::Read { action, arn } => {
                let call = Call {
                    arns: vec![arn],
                    ..Call::default()
                };
                expand(world, action, &call, &why, &mut a.needs, 0);
            }
            SecretRead::Unknown(what) => a.unproven.push(format!("{why}: {what}")),
        }
    }
}

/// The read one secret reference (resolved text) takes.
pub(crate) fn secret_read(world: &World<'_>, reference: &str) -> SecretRead {
    let Some(rest) = reference.strip_prefix("arn:") else {
        if reference.contains(UNKNOWN) || reference.is_empty() {
            return SecretRead::Unknown(format!(
                "the reference {} is not determined by the templates",
                show(reference)
            ));
        }
        return SecretRead::Read {
            action: "ssm:GetParameters",
            arn: format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                world.partition,
                world.region,
                world.account,
                reference.trim_start_matches('/')
            ),
        };
    };
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.get(1).copied() {
        Some("ssm") => SecretRead::Read {
            action: "ssm:GetParameters",
            arn: reference.to_owned(),
        },
        // arn:P:secretsmanager:R:A:secret:NAME[:KEY:STAGE:VERSION]
        Some("secretsmanager") if parts.len() >= 6 => {
            let secret = format!("arn:{}", parts[..6].join(":"));
            SecretRead::Read {
                action: "secretsmanager:GetSecretValue",
                arn: complete_secret_arn(&secret),
            }
        }
        _ => SecretRead::Unknown(format!(
            "{} is neither an SSM parameter nor a Secrets Manager secret",
            show(reference)
        )),
    }
}

/// A secret's ARN as IAM sees it: a name or partial ARN gets the six
/// characters Secrets Manager appends (unknown to the templates); an ARN
/// that already ends in `-` and six letters or digits is complete.
fn complete_secret_arn(arn: &str) -> String {
    let name = arn.rsplit(':').next().unwrap_or_default();
    let complete = name.rsplit_once('-').is_some_and(|(head, suffix)| {
        !head.is_empty() && suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if complete || arn.contains(UNKNOWN) {
        arn.to_owned()
    } else {
        format!("{arn}-{}", UNKNOWN_ONE.to_string().repeat(6))
    }
}

/// App Runner's tracing: the X-Ray writes, when the service enables an
/// observability configuration that traces with X-Ray (the configuration
/// in the checked set; one the templates do not declare is assumed to
/// trace, the only vendor App Runner has).
pub(crate) fn trace_needs(
    world: &World<'_>,
    at: usize,
    id: &str,
    p: &apprun_template::Map,
    a: &mut Actor,
) {
    let Some(obs) = p.get("ObservabilityConfiguration") else {
        return;
    };
    let enabled = obs
        .get("ObservabilityEnabled")
        .is_some_and(|v| world.text(at, v) == "true");
    if !enabled {
        return;
    }
    let traces = match obs
        .get("ObservabilityConfigurationArn")
        .and_then(|arn| world.target(at, arn))
        .and_then(|rid| world.resource(&rid).map(|r| (rid, r)))
    {
        Some((rid, r)) => list(r.properties.get("TraceConfiguration"))
            .iter()
            .filter_map(|t| t.get("Vendor"))
            .any(|v| world.text(rid.0, v) == "AWSXRAY"),
        None => true,
    };
    if !traces {
        return;
    }
    let why = format!("service {id} sends X-Ray traces");
    for action in TRACE_WRITES {
        expand(world, action, &Call::default(), &why, &mut a.needs, 0);
    }
}
