//! E-VALUE-BACKUP-LIFECYCLE: AWS Backup keeps a recovery point in cold
//! storage for at least 90 days, so DeleteAfterDays must be at least
//! MoveToColdStorageAfterDays + 90 (AWS Backup API reference, Lifecycle).

use apprun_template::Value;

use super::resources_of;
use crate::rules::{Scope, Sink};

fn days(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Int(n) => Some(*n),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn lifecycle(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::Backup::BackupPlan") {
        let rules = p
            .get("BackupPlan")
            .and_then(|b| b.get("BackupPlanRule"))
            .and_then(Value::as_list);
        for (i, rule) in rules.into_iter().flatten().enumerate() {
            let Some(lifecycle) = rule.get("Lifecycle") else {
                continue;
            };
            let cold = days(lifecycle.get("MoveToColdStorageAfterDays"));
            let delete = days(lifecycle.get("DeleteAfterDays"));
            if let (Some(cold), Some(delete)) = (cold, delete)
                && delete < cold + 90
            {
                out.push(
                    id,
                    format!("{base}/BackupPlan/BackupPlanRule/{i}/Lifecycle/DeleteAfterDays"),
                    format!(
                        "DeleteAfterDays {delete} must be at least 90 days after MoveToColdStorageAfterDays {cold} (at least {})",
                        cold + 90
                    ),
                );
            }
        }
    }
}
