//! Lambda rules: runtimes AWS no longer lets you create or deploy (from the
//! vendored lifecycle data), and inline code without a runtime.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use apprun_template::Value;
use serde::Deserialize;

use super::resources_of;
use crate::finding::Severity;
use crate::rules::{Scope, Sink};

/// One runtime's lifecycle, as AWS publishes it (dates are `YYYY-MM-DD`).
#[derive(Debug, Deserialize)]
struct Lifecycle {
    deprecated: Option<String>,
    #[serde(rename = "create-block")]
    create_block: Option<String>,
    #[serde(rename = "update-block")]
    update_block: Option<String>,
    successor: Option<String>,
}

fn lifecycles() -> &'static BTreeMap<String, Lifecycle> {
    static DATA: OnceLock<BTreeMap<String, Lifecycle>> = OnceLock::new();
    DATA.get_or_init(|| {
        // Vendored by scripts/refresh-cfn-lint-fixtures.sh; a test parses it.
        serde_json::from_str(include_str!("data/lambda-runtimes.json")).unwrap_or_default()
    })
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's days-to-civil algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// What the lifecycle says about a runtime today: (severity, message).
fn verdict(runtime: &str, l: &Lifecycle, today: &str) -> Option<(Severity, String)> {
    fn passed<'a>(d: &'a Option<String>, today: &str) -> Option<&'a str> {
        d.as_deref().filter(|d| *d <= today)
    }
    let instead = l
        .successor
        .as_deref()
        .map(|s| format!("; use {s}"))
        .unwrap_or_default();
    if let Some(blocked) = passed(&l.create_block, today) {
        let update = l.update_block.as_deref().unwrap_or("(not announced)");
        return Some((
            Severity::Error,
            format!(
                "runtime `{runtime}` is deprecated: AWS blocks creating functions with it since {blocked} and updating them from {update}{instead}"
            ),
        ));
    }
    let deprecated = passed(&l.deprecated, today)?;
    Some((
        Severity::Warning,
        format!("runtime `{runtime}` is deprecated since {deprecated}{instead}"),
    ))
}

pub(crate) fn runtime(scope: &Scope<'_>, out: &mut Sink<'_>) {
    let today = today();
    let functions = resources_of(scope.template, "AWS::Lambda::Function")
        .chain(resources_of(scope.template, "AWS::Serverless::Function"));
    for (id, p, base) in functions {
        let Some(runtime) = p.get("Runtime").and_then(Value::as_str) else {
            continue;
        };
        let Some(l) = lifecycles().get(runtime) else {
            continue;
        };
        if let Some((severity, message)) = verdict(runtime, l, &today) {
            out.push_as(severity, id, format!("{base}/Runtime"), message);
        }
    }
}

/// Inline code (`Code.ZipFile`) is a .zip package: CloudFormation needs
/// the runtime to build it.
pub(crate) fn zipfile(scope: &Scope<'_>, out: &mut Sink<'_>) {
    for (id, p, base) in resources_of(scope.template, "AWS::Lambda::Function") {
        let inline = p.get("Code").and_then(|c| c.get("ZipFile")).is_some();
        if inline && p.get("Runtime").is_none() {
            out.push(
                id,
                format!("{base}/Code/ZipFile"),
                "inline code (Code.ZipFile) needs a Runtime (and a Handler)".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_data() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_599), "2026-05-26");
        assert_eq!(civil_date(11_016), "2000-02-29");
        let data = lifecycles();
        assert!(data.len() > 30, "the vendored data parses");
        let old = verdict("nodejs4.3", &data["nodejs4.3"], "2026-01-01");
        assert_eq!(old.map(|v| v.0), Some(Severity::Error));
        let l = Lifecycle {
            deprecated: Some("2026-01-01".into()),
            create_block: Some("2027-01-01".into()),
            update_block: None,
            successor: Some("x2".into()),
        };
        assert_eq!(verdict("x1", &l, "2025-12-31"), None);
        let warn = verdict("x1", &l, "2026-06-01").unwrap();
        assert_eq!(warn.0, Severity::Warning);
        assert!(warn.1.contains("since 2026-01-01; use x2"), "{}", warn.1);
    }
}
