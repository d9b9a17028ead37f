//! E-VALUE-ELASTICACHE-FAILOVER: a replication group with automatic
//! failover needs a replica to fail over to: NumCacheClusters at least 2
//! (ElastiCache API reference, CreateReplicationGroup).

use apprun_template::Value;

use super::resources_of;
use crate::rules::{Scope, Sink, is_true};

pub(crate) fn failover(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::ElastiCache::ReplicationGroup") {
        if !is_true(p.get("AutomaticFailoverEnabled")) {
            continue;
        }
        let clusters = match p.get("NumCacheClusters") {
            Some(Value::Int(n)) => *n,
            Some(Value::String(s)) => match s.parse() {
                Ok(n) => n,
                Err(_) => continue,
            },
            _ => continue,
        };
        if clusters < 2 {
            out.push(
                id,
                format!("{base}/NumCacheClusters"),
                format!("AutomaticFailoverEnabled needs NumCacheClusters of at least 2 (a primary and a replica), not {clusters}"),
            );
        }
    }
}
