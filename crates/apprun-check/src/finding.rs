use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The template parser's and model checks' severities are the report's.
impl From<apprun_template::Severity> for Severity {
    fn from(severity: apprun_template::Severity) -> Self {
        match severity {
            apprun_template::Severity::Error => Severity::Error,
            apprun_template::Severity::Warning => Severity::Warning,
        }
    }
}

/// A finding silenced by `[[policy.allow]]`; it stays in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub reason: String,
}

/// One finding of a structural check or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule or check id, e.g. `APR-IAM-001` or `E-PROP-UNKNOWN`.
    pub rule: String,
    pub severity: Severity,
    pub file: String,
    pub stack: Option<String>,
    /// Logical id of the resource (or output) concerned; empty for the template.
    pub logical_id: String,
    /// Path in the template, e.g. `Resources/Service/Properties/InstanceConfiguration/Cpu`.
    pub path: String,
    /// 1-based line, for YAML input.
    pub line: Option<usize>,
    pub message: String,
    pub suppressed: Option<Suppression>,
}

impl Finding {
    pub(crate) fn new(
        rule: &str,
        severity: Severity,
        logical_id: &str,
        path: String,
        message: String,
    ) -> Self {
        Finding {
            rule: rule.to_owned(),
            severity,
            file: String::new(),
            stack: None,
            logical_id: logical_id.to_owned(),
            path,
            line: None,
            message,
            suppressed: None,
        }
    }

    pub(crate) fn error(rule: &str, logical_id: &str, path: String, message: String) -> Self {
        Finding::new(rule, Severity::Error, logical_id, path, message)
    }

    /// Whether it counts towards exit code 1.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && self.suppressed.is_none()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Number of templates checked.
    pub checked: usize,
}

impl Report {
    /// Report order: by file, line, path, then rule.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.file, a.line, &a.path, &a.rule).cmp(&(&b.file, b.line, &b.path, &b.rule))
        });
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning && f.suppressed.is_none())
            .count()
    }
    pub fn suppressed(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count()
    }
}
