//! Who the credentials belong to, checked before any write.

use crate::clients::Clients;
use crate::error::DeployError;

/// Calls STS GetCallerIdentity and refuses when the env is pinned to
/// another account. Returns the account id.
pub async fn verify_account(
    clients: &Clients,
    env: &str,
    expected: Option<&str>,
) -> Result<String, DeployError> {
    let me = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| DeployError::aws("GetCallerIdentity", None, e))?;
    let actual = me.account().unwrap_or_default().to_owned();
    match expected {
        Some(want) if want != actual => Err(DeployError::AccountMismatch {
            env: env.to_owned(),
            expected: want.to_owned(),
            actual,
        }),
        _ => Ok(actual),
    }
}
