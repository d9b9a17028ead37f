//! Where a template's checks put their findings: at most
//! [`MAX_FINDINGS_PER_TEMPLATE`] are kept, the rest only counted.
//!
//! A finding costs a hundred bytes and more, and a template can make one
//! for every two bytes of its text (a `DependsOn` list naming a missing
//! resource half a million times, a mapping of unknown properties, a list
//! of wrong-typed items): kept, they would take a hundred times the
//! template's size and seconds to sort and print, for a report nobody
//! reads past its first screens. So the first ones found are kept and the
//! others counted by rule, and the report says how many of each were not
//! shown (see [`Omitted::summary`]); the exit code still counts them.

use std::collections::BTreeMap;

use apprun_template::{CompactString, Counted, Overflow};

use crate::finding::{Finding, Severity};

/// The most findings kept for one template, its parser's notes among them
/// (the parser keeps as many notes: `apprun_template::MAX_NOTES`).
pub const MAX_FINDINGS_PER_TEMPLATE: usize = apprun_template::MAX_NOTES;

/// A template's findings as the checks make them; see the module
/// documentation.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    kept: Vec<Finding>,
    omitted: Omitted,
    /// The (rule, logical id) pairs `[[policy.allow]]` silences in this
    /// template: a finding counted past the limit is silenced here (the
    /// kept ones are, with their reasons, once the report is put together).
    allowed: Vec<(String, String)>,
}

impl Findings {
    /// A sink whose findings that `allowed` names are silenced.
    pub(crate) fn allowing(allowed: Vec<(String, String)>) -> Self {
        Findings {
            allowed,
            ..Findings::default()
        }
    }

    /// Keeps `f` while there is room, else counts it.
    pub(crate) fn push(&mut self, f: Finding) {
        if self.kept.len() < MAX_FINDINGS_PER_TEMPLATE {
            self.kept.push(f);
            return;
        }
        let silenced = self.allowed.iter().any(|(rule, id)| {
            rule.as_str() == f.rule.as_str() && id.as_str() == f.logical_id.as_str()
        });
        let error = f.severity == Severity::Error && !silenced;
        self.omitted.count(&f.rule, error);
    }

    /// Counts what another sink counted, each rule as `relabel` says
    /// (SAM's schema findings become warnings, say).
    pub(crate) fn absorb(
        &mut self,
        omitted: Omitted,
        relabel: impl Fn(&str, Counted) -> (&str, Counted),
    ) {
        for (rule, counted) in &omitted.by_rule {
            let (rule, counted) = relabel(rule, *counted);
            self.omitted
                .by_rule
                .entry(rule.into())
                .or_default()
                .add(counted);
        }
    }

    /// Counts what the template crate counted past its own limit.
    pub(crate) fn add_overflow(&mut self, overflow: &Overflow) {
        self.omitted.add_overflow(overflow);
    }

    /// The findings kept, and the count of the others.
    pub(crate) fn into_parts(self) -> (Vec<Finding>, Omitted) {
        (self.kept, self.omitted)
    }
}

impl std::ops::Deref for Findings {
    type Target = [Finding];

    fn deref(&self) -> &[Finding] {
        &self.kept
    }
}

impl std::ops::DerefMut for Findings {
    fn deref_mut(&mut self) -> &mut [Finding] {
        &mut self.kept
    }
}

impl IntoIterator for Findings {
    type Item = Finding;
    type IntoIter = std::vec::IntoIter<Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.into_iter()
    }
}

/// The findings of one template that were counted, not kept: how many
/// of each rule, and how many of those are errors.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Omitted {
    by_rule: BTreeMap<CompactString, Counted>,
}

impl Omitted {
    fn count(&mut self, rule: &str, error: bool) {
        self.by_rule.entry(rule.into()).or_default().add(Counted {
            found: 1,
            errors: usize::from(error),
        });
    }

    /// Adds what the template crate counted past its own limit (the
    /// parser's notes, the model's checks).
    pub(crate) fn add_overflow(&mut self, overflow: &Overflow) {
        for (code, counted) in &overflow.by_code {
            self.by_rule
                .entry((*code).into())
                .or_default()
                .add(*counted);
        }
    }

    /// Counts one more finding past the limit (a kept one that no longer
    /// fits once the notes and the checks' findings are put together).
    pub(crate) fn add(&mut self, f: &Finding, silenced: bool) {
        self.count(&f.rule, f.severity == Severity::Error && !silenced);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_rule.is_empty()
    }

    fn total(&self) -> usize {
        self.by_rule.values().map(|c| c.found).sum()
    }

    fn errors(&self) -> usize {
        self.by_rule.values().map(|c| c.errors).sum()
    }

    /// The finding that stands for the omitted ones (none when nothing was
    /// omitted): an error when any of them is one, so that the exit code
    /// is what the whole report's would be; placed at the top of the
    /// template (no path, no line).
    pub(crate) fn summary(&self, shown: usize) -> Option<Finding> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let counts = self
            .by_rule
            .iter()
            .map(|(rule, c)| format!("{rule} {}", c.found))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!(
            "{total} more findings were found in this template and not shown ({counts}; \
             {} of them errors): at most {MAX_FINDINGS_PER_TEMPLATE} are kept per template, \
             the first found, and {shown} are shown; fix those and check again",
            self.errors()
        );
        let (rule, severity) = if self.errors() > 0 {
            ("E-FINDINGS-LIMIT", Severity::Error)
        } else {
            ("W-FINDINGS-LIMIT", Severity::Warning)
        };
        Some(Finding::new(rule, severity, "", "", message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding::new(rule, severity, "R", "Resources/R", "m")
    }

    #[test]
    fn past_the_limit_findings_are_counted_by_rule() {
        let mut out = Findings::default();
        for _ in 0..MAX_FINDINGS_PER_TEMPLATE {
            out.push(finding("E-REF", Severity::Error));
        }
        assert_eq!(out.len(), MAX_FINDINGS_PER_TEMPLATE);
        assert!(Omitted::default().summary(0).is_none());
        out.push(finding("E-REF", Severity::Error));
        out.push(finding("W-X", Severity::Warning));
        out.push(finding("W-X", Severity::Warning));
        assert_eq!(
            out.len(),
            MAX_FINDINGS_PER_TEMPLATE,
            "nothing kept past the limit"
        );
        let (kept, omitted) = out.into_parts();
        assert_eq!(kept.len(), MAX_FINDINGS_PER_TEMPLATE);
        let s = omitted.summary(kept.len()).expect("a summary");
        assert_eq!(s.rule.as_str(), "E-FINDINGS-LIMIT");
        assert!(s.is_error(), "an omitted error keeps the report failing");
        assert!(s.message.contains("3 more findings"), "{}", s.message);
        assert!(
            s.message.contains("E-REF 1, W-X 2; 1 of them errors"),
            "{}",
            s.message
        );
    }

    #[test]
    fn findings_policy_silences_are_not_counted_as_errors() {
        let mut out = Findings::allowing(vec![("E-REF".into(), "R".into())]);
        for _ in 0..=MAX_FINDINGS_PER_TEMPLATE {
            out.push(finding("E-REF", Severity::Error));
        }
        let (_, omitted) = out.into_parts();
        let s = omitted
            .summary(MAX_FINDINGS_PER_TEMPLATE)
            .expect("a summary");
        assert_eq!(s.rule.as_str(), "W-FINDINGS-LIMIT", "{}", s.message);
        assert!(
            s.message.contains("E-REF 1; 0 of them errors"),
            "{}",
            s.message
        );
    }

    #[test]
    fn absorbed_counts_follow_their_new_rules() {
        // SAM's schema findings become warnings, the ones counted too.
        let mut sam = Findings::default();
        for _ in 0..MAX_FINDINGS_PER_TEMPLATE {
            sam.push(finding("E-PROP-TYPE", Severity::Error));
        }
        sam.push(finding("E-PROP-TYPE", Severity::Error));
        sam.push(finding("E-PROP-UNKNOWN", Severity::Error));
        let (_, omitted) = sam.into_parts();
        let mut out = Findings::default();
        out.absorb(omitted, |rule, counted| {
            if rule == "E-PROP-UNKNOWN" {
                (rule, counted)
            } else {
                let found = counted.found;
                ("W-SAM-VALUE", Counted { found, errors: 0 })
            }
        });
        let (_, omitted) = out.into_parts();
        let s = omitted.summary(0).expect("a summary");
        assert!(s.is_error(), "the unknown property stays an error");
        assert!(
            s.message
                .contains("(E-PROP-UNKNOWN 1, W-SAM-VALUE 1; 1 of them errors)"),
            "{}",
            s.message
        );
    }

    #[test]
    fn omitted_warnings_alone_make_a_warning() {
        let mut omitted = Omitted::default();
        omitted.count("W-X", false);
        let s = omitted.summary(1000).expect("a summary");
        assert_eq!(s.rule.as_str(), "W-FINDINGS-LIMIT");
        assert!(!s.is_error());
    }
}
