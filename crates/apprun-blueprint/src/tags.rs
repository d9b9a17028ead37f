//! The tags every resource carries (SystemId, Env; subnets also Az, Subnet).

use apprun_template::{Value, tags};

pub(crate) fn env_tags(system_id: &str, env: &str) -> Value {
    tags([("SystemId", system_id), ("Env", env)])
}

pub(crate) fn account_tags(system_id: &str) -> Value {
    tags([("SystemId", system_id)])
}

pub(crate) fn subnet_tags(system_id: &str, env: &str, zone: &str, tier: &str) -> Value {
    tags([
        ("SystemId", system_id),
        ("Env", env),
        ("Az", zone),
        ("Subnet", tier),
    ])
}
