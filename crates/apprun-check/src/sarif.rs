//! SARIF 2.1.0 output, the format GitHub code scanning reads.

use serde_json::{Value, json};

use crate::finding::{Report, Severity};
use crate::rules::rule;

/// The report as a SARIF log with one run.
pub fn to_sarif(report: &Report, tool_version: &str) -> Value {
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            // Structural checks (E-*) and cfn-guard rules (GUARD-*) are not
            // in the table: their findings carry their own severity.
            let (text, level) = rule(id)
                .map(|r| (r.title.to_string(), level(r.severity)))
                .unwrap_or_else(|_| (format!("{id}: structural check or user rule"), "error"));
            json!({
                "id": id,
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut region = json!({ "startLine": f.line.unwrap_or(1) });
            if f.line.is_none() {
                region = json!({ "startLine": 1 });
            }
            let mut result = json!({
                "ruleId": f.rule.as_str(),
                "ruleIndex": rule_ids.iter().position(|r| *r == f.rule.as_str()).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!("{}: {}", if f.logical_id.is_empty() { f.path.to_string() } else { format!("{} ({})", f.logical_id, f.path) }, f.message) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": &*f.file },
                        "region": region,
                    },
                    "logicalLocations": [{ "name": f.logical_id.as_str(), "fullyQualifiedName": f.path.as_str(), "kind": "resource" }],
                }],
            });
            if let Some(s) = &f.suppressed {
                result["suppressions"] = json!([{ "kind": "external", "justification": s.reason }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "apprun",
                "version": tool_version,
                "informationUri": "https://github.com/apprun/apprun",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
