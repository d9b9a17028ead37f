use std::sync::{Arc, LazyLock};

use apprun_template::CompactString;
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
///
/// Kept small, since a template may have tens of thousands (144 bytes):
/// ids and short paths are held inline ([`CompactString`], up to 24
/// bytes), the file and stack names and the message are shared (one
/// template's findings name one file and one stack, and a parser's notes
/// repeat one message for every place they were made), the line takes
/// four bytes, and the rarely set suppression is boxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule or check id, e.g. `APR-IAM-001` or `E-PROP-UNKNOWN`.
    pub rule: CompactString,
    pub severity: Severity,
    pub file: Arc<str>,
    pub stack: Option<Arc<str>>,
    /// Logical id of the resource (or output) concerned; empty for the template.
    pub logical_id: CompactString,
    /// Path in the template, e.g. `Resources/Service/Properties/InstanceConfiguration/Cpu`.
    pub path: CompactString,
    /// 1-based line, for YAML input (and a JSON duplicate key).
    pub line: Option<u32>,
    pub message: Arc<str>,
    pub suppressed: Option<Box<Suppression>>,
}

/// The JSON shape of a finding: its fields in declaration order, as a
/// derived implementation writes them (the shared and inline strings as
/// plain strings).
impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Finding", 9)?;
        s.serialize_field("rule", self.rule.as_str())?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("file", &*self.file)?;
        s.serialize_field("stack", &self.stack.as_deref())?;
        s.serialize_field("logical_id", self.logical_id.as_str())?;
        s.serialize_field("path", self.path.as_str())?;
        s.serialize_field("line", &self.line)?;
        s.serialize_field("message", &*self.message)?;
        s.serialize_field("suppressed", &self.suppressed)?;
        s.end()
    }
}

/// The file of a finding not placed yet: one shared empty name, not an
/// allocation per finding.
pub(crate) fn no_file() -> Arc<str> {
    static EMPTY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));
    Arc::clone(&EMPTY)
}

impl Finding {
    pub(crate) fn new(
        rule: &str,
        severity: Severity,
        logical_id: &str,
        path: impl Into<CompactString>,
        message: impl Into<Arc<str>>,
    ) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            file: no_file(),
            stack: None,
            logical_id: logical_id.into(),
            path: path.into(),
            line: None,
            message: message.into(),
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
    /// Report order: by file, line, path, then rule (a stable sort: equal
    /// ones keep the order they were found in). A template keeps at most
    /// [`crate::MAX_FINDINGS_PER_TEMPLATE`], so the sort's scratch room
    /// stays small.
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

#[cfg(test)]
mod tests {
    use super::Finding;

    #[test]
    fn a_finding_stays_small() {
        // A report holds up to a thousand per template (see sink.rs).
        assert!(std::mem::size_of::<Finding>() <= 144);
    }
}
