//! The user's own rules in the cfn-guard language, run in-process through
//! the cfn-guard crate and reported like built-in findings.

use std::path::{Path, PathBuf};

use apprun_template::{Format, Template};
use serde_json::Value as J;

use crate::finding::{Finding, Severity};
use crate::sink::Findings;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("cannot read the rules folder {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} contains no .guard files", path.display())]
    Empty { path: PathBuf },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// The `.guard` files of a folder, each validated once when loaded.
#[derive(Debug, Clone)]
pub struct GuardRules {
    files: Vec<(String, String)>,
}

impl GuardRules {
    pub fn load(dir: &Path) -> Result<GuardRules, GuardError> {
        let read = |source| GuardError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "guard"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(GuardError::Empty {
                path: dir.to_path_buf(),
            });
        }
        let mut files = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(read)?;
            let name = p.display().to_string();
            // Parse errors surface here, against an empty template, not per stack.
            cfn_guard::run_checks(
                cfn_guard::ValidateInput {
                    content: "{\"Resources\": {}}",
                    file_name: "probe.json",
                },
                cfn_guard::ValidateInput {
                    content: &text,
                    file_name: &name,
                },
                false,
            )
            .map_err(|e| GuardError::Invalid {
                file: name.clone(),
                message: e.to_string(),
            })?;
            files.push((name, text));
        }
        Ok(GuardRules { files })
    }

    pub(crate) fn check(&self, t: &Template, out: &mut Findings) {
        let data = t.render(Format::Json);
        for (file, rules) in &self.files {
            let result = cfn_guard::run_checks(
                cfn_guard::ValidateInput {
                    content: &data,
                    file_name: "template.json",
                },
                cfn_guard::ValidateInput {
                    content: rules,
                    file_name: file,
                },
                false,
            );
            let json: J = match result.map(|s| serde_json::from_str(&s)) {
                Ok(Ok(j)) => j,
                Ok(Err(e)) => {
                    out.push(Finding::error(
                        "GUARD-ERROR",
                        "",
                        String::new(),
                        format!("{file}: unreadable cfn-guard result: {e}"),
                    ));
                    continue;
                }
                Err(e) => {
                    out.push(Finding::error(
                        "GUARD-ERROR",
                        "",
                        String::new(),
                        format!("{file}: {e}"),
                    ));
                    continue;
                }
            };
            for rule in json["not_compliant"].as_array().into_iter().flatten() {
                let name = rule["Rule"]["name"].as_str().unwrap_or("unnamed");
                let mut hits: Vec<(String, String)> = Vec::new();
                collect_failures(&rule["Rule"]["checks"], &mut hits);
                if hits.is_empty() {
                    hits.push((String::new(), format!("rule {name} is not satisfied")));
                }
                hits.sort();
                hits.dedup();
                for (path, message) in hits {
                    let trimmed = path.trim_start_matches('/');
                    let logical = trimmed
                        .strip_prefix("Resources/")
                        .and_then(|r| r.split('/').next())
                        .unwrap_or_default();
                    out.push(Finding::new(
                        &format!("GUARD-{name}"),
                        Severity::Error,
                        logical,
                        trimmed.to_owned(),
                        message,
                    ));
                }
            }
        }
    }
}

/// Every failed clause under `v`: (path in the template, message).
fn collect_failures(v: &J, out: &mut Vec<(String, String)>) {
    match v {
        J::Object(m) => {
            if let Some(messages) = m.get("messages") {
                let message = messages["custom_message"]
                    .as_str()
                    .or(messages["error_message"].as_str())
                    .map(|s| s.trim().to_owned());
                if let Some(message) = message {
                    let mut paths = Vec::new();
                    find_paths(v, &mut paths);
                    let path = paths
                        .into_iter()
                        .find(|p| p.starts_with("/Resources/"))
                        .unwrap_or_default();
                    // cfn-guard appends "[L:0,C:0]" positions to paths in JSON data.
                    let path = path.split('[').next().unwrap_or_default().to_owned();
                    out.push((path, message));
                    return;
                }
            }
            m.values().for_each(|x| collect_failures(x, out));
        }
        J::Array(items) => items.iter().for_each(|x| collect_failures(x, out)),
        _ => {}
    }
}

fn find_paths(v: &J, out: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            if let Some(J::String(p)) = m.get("path") {
                out.push(p.clone());
            }
            m.values().for_each(|x| find_paths(x, out));
        }
        J::Array(items) => items.iter().for_each(|x| find_paths(x, out)),
        _ => {}
    }
}
