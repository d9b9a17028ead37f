//! The model's own consistency checks: everything a template refers to must
//! exist, and resources must not depend on each other in a circle.

use std::collections::BTreeMap;

use crate::refs::{PSEUDO_PARAMETERS, References};
use crate::template::{Generators, Overflow, Template};
use crate::value::{Str, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier of the check, e.g. `E-REF`.
    pub code: &'static str,
    /// Logical id of the resource, output or condition concerned.
    pub logical_id: String,
    /// Path inside the template, e.g. `Resources/Vpc/Properties/CidrBlock`.
    pub path: String,
    pub message: String,
}

/// Runs every model check. Findings are sorted by path then code.
/// (For a template read from a file, see [`validate_limited`].)
///
/// A template with a macro in its `Transform` section is only checked once
/// expanded (the macro may add or rewrite anything): here it gets no
/// findings. Under SAM's transform, names SAM generates from a serverless
/// resource's logical id (`FunctionRole`, `ServerlessRestApi`, ...) are
/// taken as defined.
pub fn validate(t: &Template) -> Vec<Finding> {
    validate_limited(t, usize::MAX).0
}

/// [`validate`], keeping at most `limit` findings, the first made (before
/// sorting), and counting the others: a template can make one for every
/// two bytes of its text (see [`crate::MAX_NOTES`]).
pub fn validate_limited(t: &Template, limit: usize) -> (Vec<Finding>, Overflow) {
    let mut findings = Collector {
        kept: Vec::new(),
        limit,
        overflow: Overflow::default(),
    };
    if t.has_macros() {
        return (findings.kept, findings.overflow);
    }
    let generators = t.generators();
    if t.resources.is_empty() {
        findings.push(error(
            "E-EMPTY",
            "",
            "Resources",
            "a template needs at least one resource".into(),
        ));
    }
    let mut check_refs = |section: &str, id: &str, refs: References<'_>| {
        check_references(t, &generators, section, id, &refs, &mut findings);
    };
    for (id, r) in &t.resources {
        check_refs("Resources", id, References::of_map(&r.properties));
    }
    for (id, o) in &t.outputs {
        let refs = References::of_all(std::iter::once(&o.value).chain(&o.export));
        check_refs("Outputs", id, refs);
    }
    for (id, c) in &t.conditions {
        check_refs("Conditions", id, References::of(c));
    }
    for (id, rule) in &t.rules {
        check_refs("Rules", id, References::of(rule));
    }
    for (id, rule) in &t.rules {
        check_rule(id, rule, &mut findings);
    }
    for (id, r) in &t.resources {
        for dep in r.dependencies() {
            if !t.resources.contains_key(dep.as_str()) && !generators.may_generate(dep) {
                findings.push(error(
                    "E-DEPENDS-ON",
                    id,
                    &format!("Resources/{id}/DependsOn"),
                    format!("DependsOn names `{dep}`, which is not a resource of this template"),
                ));
            }
        }
        if let Some(cond) = r.condition() {
            let path = format!("Resources/{id}/Condition");
            findings.extend(undefined_condition(t, cond, id, &path));
        }
    }
    findings.extend(cycles(t));
    findings.extend(duplicate_exports(t));
    let Collector {
        mut kept, overflow, ..
    } = findings;
    kept.sort_by(|a, b| (&a.path, a.code).cmp(&(&b.path, b.code)));
    (kept, overflow)
}

/// The findings of [`validate_limited`]: kept up to the limit, counted past.
struct Collector {
    kept: Vec<Finding>,
    limit: usize,
    overflow: Overflow,
}

impl Collector {
    fn push(&mut self, f: Finding) {
        if self.kept.len() < self.limit {
            self.kept.push(f);
        } else {
            self.overflow.count(f.code, f.severity);
        }
    }

    fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        findings.into_iter().for_each(|f| self.push(f));
    }
}

fn error(code: &'static str, id: &str, path: &str, message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        code,
        logical_id: id.to_owned(),
        path: path.to_owned(),
        message,
    }
}

fn check_references(
    t: &Template,
    generators: &Generators<'_>,
    section: &str,
    id: &str,
    refs: &References,
    findings: &mut Collector,
) {
    let path = format!("{section}/{id}");
    for name in &refs.refs {
        // Rules may refer to parameters only.
        let name: &str = name;
        let known = t.parameters.contains_key(name)
            || PSEUDO_PARAMETERS.contains(&name)
            || (section != "Rules" && t.resources.contains_key(name))
            || (section != "Rules" && generators.may_generate(name));
        if !known {
            findings.push(error(
                "E-REF",
                id,
                &path,
                format!("`{name}` is referenced but is neither a parameter, a resource nor a pseudo parameter"),
            ));
        }
    }
    for &(resource, attribute) in &refs.get_atts {
        if !t.resources.contains_key(resource) && !generators.may_generate(resource) {
            findings.push(error(
                "E-GETATT",
                id,
                &path,
                format!(
                    "GetAtt `{resource}.{attribute}` names a resource this template does not define"
                ),
            ));
        }
    }
    for cond in &refs.conditions {
        findings.extend(undefined_condition(t, cond, id, &path));
    }
}

/// An error when `cond` names no condition of the template.
fn undefined_condition(t: &Template, cond: &str, id: &str, path: &str) -> Option<Finding> {
    (!t.conditions.contains_key(cond)).then(|| {
        error(
            "E-CONDITION",
            id,
            path,
            format!("condition `{cond}` is not defined"),
        )
    })
}

/// Functions that give a rule's condition or assertion its boolean.
const RULE_CONDITIONS: &[&str] = &[
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Equals",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
];

/// A rule of the `Rules` section: `{RuleCondition?, Assertions: [{Assert,
/// AssertDescription?}]}`, conditions and assertions being rule functions.
fn check_rule(id: &str, rule: &Value, findings: &mut Collector) {
    let path = format!("Rules/{id}");
    let mut bad = |at: String, message: String| findings.push(error("E-RULES", id, &at, message));
    let Some(m) = rule.as_map() else {
        bad(path, "a rule must be a mapping with Assertions".into());
        return;
    };
    for key in m.keys() {
        if key != "RuleCondition" && key != "Assertions" {
            bad(
                format!("{path}/{key}"),
                format!("`{key}` is not a rule key; allowed: RuleCondition, Assertions"),
            );
        }
    }
    let boolean = |v: &Value, at: String, bad: &mut dyn FnMut(String, String)| match v {
        Value::Fn(f) if RULE_CONDITIONS.contains(&f.long_name()) => {}
        Value::Fn(f) if f.long_name() == "Condition" => {}
        _ => bad(
            at,
            format!("expected a rule function ({})", RULE_CONDITIONS.join(", ")),
        ),
    };
    if let Some(c) = m.get("RuleCondition") {
        boolean(c, format!("{path}/RuleCondition"), &mut bad);
    }
    match m.get("Assertions") {
        Some(Value::List(items)) if !items.is_empty() => {
            for (i, a) in items.iter().enumerate() {
                let at = format!("{path}/Assertions/{i}");
                let Some(a) = a.as_map() else {
                    bad(at, "an assertion must be a mapping with Assert".into());
                    continue;
                };
                match a.get("Assert") {
                    Some(v) => boolean(v, format!("{at}/Assert"), &mut bad),
                    None => bad(at.clone(), "an assertion needs Assert".into()),
                }
                if a.get("AssertDescription")
                    .is_some_and(|d| d.as_str().is_none())
                {
                    bad(
                        format!("{at}/AssertDescription"),
                        "AssertDescription must be a string".into(),
                    );
                }
                for key in a.keys() {
                    if key != "Assert" && key != "AssertDescription" {
                        bad(
                            format!("{at}/{key}"),
                            format!(
                                "`{key}` is not an assertion key; allowed: Assert, AssertDescription"
                            ),
                        );
                    }
                }
            }
        }
        _ => bad(path, "a rule needs a non-empty list of Assertions".into()),
    }
}

/// Dependency edges between resources: DependsOn plus implicit references,
/// each resource's sorted and without repeats, in the order of the
/// resources (sorted by logical id). A sorted vector rather than a set: most
/// resources depend on one or two others, and a set's first node costs a
/// dozen slots (a 1 MiB template of small resources spent its size again
/// on them); and a list of the resources rather than a map of them, which
/// took twice the room while it was built.
fn resource_edges(t: &Template) -> Vec<(&str, Vec<&str>)> {
    t.resources
        .iter()
        .map(|(id, r)| {
            let refs = References::of_map(&r.properties);
            let mut deps: Vec<&str> = r.dependencies().iter().map(Str::as_str).collect();
            for name in refs.resource_ids() {
                if let Some((known, _)) = t.resources.get_key_value(name) {
                    deps.push(known.as_str());
                }
            }
            deps.sort_unstable();
            deps.dedup();
            crate::map::fit(&mut deps);
            (id.as_str(), deps)
        })
        .collect()
}

fn cycles(t: &Template) -> Vec<Finding> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let edges = resource_edges(t);
    // A mark per resource, by its position among the edges (sorted by
    // logical id): one byte each, not a map of names.
    let position = |id: &str| edges.binary_search_by(|(k, _)| (*k).cmp(id)).ok();
    let mut marks = vec![Mark::New; edges.len()];
    let mut found = Vec::new();
    // Iterative DFS keeps deep templates from overflowing the stack.
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, Vec<&str>)> = vec![(start, edges[start].1.clone())];
        marks[start] = Mark::Open;
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            let Some(next) = pending.pop() else {
                marks[node] = Mark::Done;
                stack.pop();
                continue;
            };
            let Some(at) = position(next) else {
                continue;
            };
            match marks[at] {
                Mark::New => {
                    marks[at] = Mark::Open;
                    stack.push((at, edges[at].1.clone()));
                }
                Mark::Open => {
                    let from = stack.iter().position(|(n, _)| *n == at).unwrap_or(0);
                    let mut circle: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| edges[*n].0).collect();
                    circle.push(next);
                    found.push(error(
                        "E-CYCLE",
                        next,
                        &format!("Resources/{next}"),
                        format!("circular dependency: {}", circle.join(" -> ")),
                    ));
                }
                Mark::Done => {}
            }
        }
    }
    found
}

fn duplicate_exports(t: &Template) -> Vec<Finding> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut found = Vec::new();
    for (name, id) in t.export_names() {
        if let Some(first) = seen.insert(name, id) {
            found.push(error(
                "E-EXPORT-DUPLICATE",
                id,
                &format!("Outputs/{id}/Export/Name"),
                format!("export name `{name}` is also used by output `{first}`"),
            ));
        }
    }
    found
}
