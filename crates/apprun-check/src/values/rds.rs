//! E-VALUE-RDS-CLASS: a DB instance class the engine does not offer in any
//! region (vendored data: the union over regions and licence models of
//! cfn-lint's per-region RDS data).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use apprun_template::Value;

use super::resources_of;
use crate::rules::{Scope, Sink};

fn classes() -> &'static BTreeMap<String, Vec<String>> {
    static DATA: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    DATA.get_or_init(|| {
        // Vendored by scripts/refresh-cfn-lint-fixtures.sh; a test parses it.
        serde_json::from_str(include_str!("data/rds-instance-classes.json")).unwrap_or_default()
    })
}

pub(crate) fn instance_class(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::RDS::DBInstance") {
        let text = |k: &str| p.get(k).and_then(Value::as_str);
        let (Some(class), Some(engine)) = (text("DBInstanceClass"), text("Engine")) else {
            continue;
        };
        // Engine names are case-insensitive (MySQL is mysql).
        let engine = engine.to_ascii_lowercase();
        let Some(offered) = classes().get(&engine) else {
            continue;
        };
        if !super::is_dynamic(class) && offered.binary_search_by(|c| c.as_str().cmp(class)).is_err()
        {
            out.push(
                id,
                format!("{base}/DBInstanceClass"),
                format!(
                    "`{class}` is not a DB instance class RDS offers for {engine} in any region ({} classes do, e.g. {})",
                    offered.len(),
                    offered.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data() {
        let data = super::classes();
        assert!(data["mysql"].iter().any(|c| c == "db.t3.micro"));
        assert!(!data["aurora-mysql"].iter().any(|c| c == "db.m4.xlarge"));
        assert!(
            data.values().all(|c| c.windows(2).all(|w| w[0] < w[1])),
            "sorted"
        );
    }
}
