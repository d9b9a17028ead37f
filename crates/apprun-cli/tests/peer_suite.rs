//! The peer suite: cfn-lint's own fixture templates (`good` and `bad`,
//! vendored in crates/apprun-check/tests/cfn-lint-fixtures by
//! scripts/refresh-cfn-lint-fixtures.sh) checked by the pinned cfn-lint and
//! by `apprun check`, one process each over every file.
//!
//! Asserted (issue 11):
//! 1. good: no file cfn-lint passes (no error-level match) gets an apprun
//!    error outside the policy rules (`APR-*`, `GUARD-*`), except the files
//!    listed in `GOOD_DISAGREEMENTS` with the reason;
//! 2. bad: of the files cfn-lint reports an error for, apprun reports an
//!    error for at least 90%, each for a related reason: one of apprun's
//!    rules that `related` maps to one of cfn-lint's rules on that file;
//! 3. apprun never panics, exits 0, 1 or 2, and prints JSON as asked.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Files of `good/` cfn-lint passes where apprun deliberately reports an
/// error, and why. (Every entry is a disagreement about the template, not
/// a gap: gaps are fixed, not listed.)
const GOOD_DISAGREEMENTS: &[(&str, &str)] = &[
    ("good/core/config_cfn_lint.json", NO_RESOURCES),
    ("good/core/config_cfn_lint.yaml", NO_RESOURCES),
    ("good/core/config_only_i1002.yaml", NO_RESOURCES),
    ("good/core/config_only_i1003.yaml", NO_RESOURCES),
    ("good/core/config_parameters.yaml", NO_RESOURCES),
    ("good/decode/parsing.json", NO_RESOURCES),
    ("good/mappings/name.yaml", NO_RESOURCES),
    ("good/parameters/default.yaml", NO_RESOURCES),
    (
        "good/resources/cloudformation/stack_nested.yaml",
        NO_RESOURCES,
    ),
];

/// CloudFormation User Guide, "Working with CloudFormation templates": the
/// only required section is Resources, "which must declare at least one
/// resource"; CloudFormation rejects these files (E-EMPTY), cfn-lint's
/// fixtures use them to test its own configuration and parsing.
const NO_RESOURCES: &str = "no resource: CloudFormation requires at least one";

/// What counts as a related reason: cfn-lint rule (an id, or a prefix
/// ending in `*`) → apprun rule ids or id prefixes (ending in `-`). The
/// value rules' own correspondences come from `apprun_check::RULES`.
const RELATED: &[(&str, &[&str])] = &[
    // Template that cannot be read, or sections of the wrong shape.
    ("E0000", &["E-PARSE", "E-TEMPLATE", "E-DUPLICATE-KEY"]),
    (
        "E1001",
        &["E-PARSE", "E-TEMPLATE", "E-SECTION", "E-EMPTY", "E-RULES"],
    ),
    ("E1005", &["E-PARSE", "E-TEMPLATE"]),
    // Intrinsic functions of the wrong shape or naming nothing.
    (
        "E10*",
        &[
            "E-PARSE",
            "E-TEMPLATE",
            "E-FN",
            "E-REF",
            "E-GETATT",
            "E-CONDITION",
        ],
    ),
    ("E11*", &["E-PROP-", "E-VALUE-FORMAT", "E-FN"]),
    ("E17*", &["E-RULES"]),
    // Parameters, outputs, mappings, conditions.
    ("E20*", &["E-PARAM", "E-PARSE", "E-TEMPLATE"]),
    (
        "E60*",
        &[
            "E-OUTPUT",
            "E-REF",
            "E-GETATT",
            "E-PARSE",
            "E-TEMPLATE",
            "E-SECTION",
        ],
    ),
    ("E61*", &["E-OUTPUT", "E-EXPORT", "E-PARSE", "E-TEMPLATE"]),
    (
        "E70*",
        &[
            "E-MAPPING",
            "E-EMPTY",
            "E-PARSE",
            "E-TEMPLATE",
            "E-SECTION",
            "E-VALUE-LOGICAL-ID",
        ],
    ),
    ("E80*", &["E-CONDITION", "E-FN", "E-PARSE", "E-TEMPLATE"]),
    // Resources: types, attributes, properties against the schemas.
    (
        "E3001",
        &["E-TYPE-UNKNOWN", "E-RESOURCE", "E-PARSE", "E-TEMPLATE"],
    ),
    ("E3002", &["E-PROP-"]),
    ("E3003", &["E-PROP-REQUIRED"]),
    ("E3004", &["E-CYCLE"]),
    ("E3005", &["E-DEPENDS-ON"]),
    ("E3006", &["E-TYPE-UNKNOWN"]),
    ("E301*", &["E-PROP-"]),
    ("E302*", &["E-PROP-"]),
    ("E303*", &["E-PROP-", "E-RESOURCE"]),
    // DeletionPolicy / UpdateReplacePolicy values: apprun reports them
    // where the template model reads them.
    ("E3035", &["E-PARSE", "E-TEMPLATE", "E-RESOURCE"]),
    ("E3036", &["E-PARSE", "E-TEMPLATE", "E-RESOURCE"]),
    // SAM: Globals and IgnoreGlobals.
    ("E3724", &["E-SAM-"]),
    ("E5001", &["E-MODULE", "E-RESOURCE", "E-TYPE-UNKNOWN"]),
];

fn matches_lint(pattern: &str, lint: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => lint.starts_with(prefix),
        None => pattern == lint,
    }
}

fn matches_apprun(pattern: &str, rule: &str) -> bool {
    rule == pattern
        || (pattern.ends_with('-') && rule.starts_with(pattern))
        || rule.starts_with(&format!("{pattern}-"))
}

/// Whether apprun's `rule` is a related reason for cfn-lint's `lint`.
fn related(lint: &str, rule: &str) -> bool {
    let declared = apprun_check::RULES
        .iter()
        .any(|r| r.id == rule && r.cfn_lint.contains(&lint));
    declared
        || RELATED.iter().any(|(l, rules)| {
            matches_lint(l, lint) && rules.iter().any(|p| matches_apprun(p, rule))
        })
}

fn fixtures() -> (PathBuf, Vec<String>) {
    let root = workspace().join("crates/apprun-check/tests/cfn-lint-fixtures");
    let mut files = Vec::new();
    let mut dirs = vec![root.join("good"), root.join("bad")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(&root).unwrap();
                files.push(rel.to_str().unwrap().to_owned());
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 150,
        "the fixtures are vendored: {}",
        files.len()
    );
    (root, files)
}

/// cfn-lint's error-level rule ids per file, from one process.
fn lint(root: &Path, files: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let o = Command::new(cfn_lint())
        .current_dir(root)
        .args(["--format", "json", "--"])
        .args(files)
        .output()
        .unwrap();
    let matches: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("cfn-lint output is not JSON ({e}): {}", stderr(&o)));
    let mut errors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in matches.as_array().unwrap() {
        if m["Level"] == "Error" {
            let file = m["Filename"].as_str().unwrap().to_owned();
            let id = m["Rule"]["Id"].as_str().unwrap().to_owned();
            errors.entry(file).or_default().insert(id);
        }
    }
    errors
}

/// apprun's error-level rule ids per file, from one process; asserts the
/// exit code and the format.
fn check(root: &Path, files: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut args = vec!["check", "--format", "json", "--template"];
    args.extend(files.iter().map(String::as_str));
    let o = apprun(root, &args);
    let code = o.status.code();
    if !matches!(code, Some(0..=2)) {
        // Name the files that break it before failing.
        let culprits: Vec<&String> = files
            .iter()
            .filter(|f| {
                let one = apprun(root, &["check", "--format", "json", "--template", f]);
                !matches!(one.status.code(), Some(0..=2))
            })
            .collect();
        panic!(
            "apprun check exited {code:?} on the fixtures; alone: {culprits:?}\n{}",
            stderr(&o)
        );
    }
    let report = json(&o);
    assert_eq!(report["checked"], files.len(), "every file is checked");
    let mut errors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap().to_owned();
        assert!(
            f["file"]
                .as_str()
                .is_some_and(|file| files.iter().any(|x| x == file)),
            "finding names a given file: {f}"
        );
        if f["severity"] == "error" && f["suppressed"].is_null() {
            let file = f["file"].as_str().unwrap().to_owned();
            errors.entry(file).or_default().insert(rule);
        }
    }
    errors
}

fn is_policy(rule: &str) -> bool {
    rule.starts_with("APR-") || rule.starts_with("GUARD-")
}

#[test]
fn cfn_lint_fixtures_side_by_side() {
    let (root, files) = fixtures();
    let lint = lint(&root, &files);
    let apprun = check(&root, &files);
    let none = BTreeSet::new();
    let (good, bad): (Vec<&String>, Vec<&String>) =
        files.iter().partition(|f| f.starts_with("good/"));

    // 1. good files cfn-lint passes.
    let passed: Vec<&&String> = good.iter().filter(|f| !lint.contains_key(**f)).collect();
    let mut structural: Vec<(&str, Vec<&String>)> = Vec::new();
    for f in &passed {
        let rules: Vec<&String> = apprun
            .get(**f)
            .unwrap_or(&none)
            .iter()
            .filter(|r| !is_policy(r))
            .collect();
        if !rules.is_empty() {
            structural.push((f.as_str(), rules));
        }
    }
    println!(
        "good: {} files; cfn-lint passes {}; of those, apprun reports a structural error in {}",
        good.len(),
        passed.len(),
        structural.len()
    );
    for (f, rules) in &structural {
        let listed = GOOD_DISAGREEMENTS
            .iter()
            .find(|(g, _)| g == f)
            .map(|(_, why)| *why);
        println!(
            "  {f}: {rules:?}{}",
            listed
                .map(|w| format!(" (listed: {w})"))
                .unwrap_or_default()
        );
    }

    // 2. bad files cfn-lint flags.
    let flagged: Vec<&&String> = bad.iter().filter(|f| lint.contains_key(**f)).collect();
    let mut caught = 0;
    let mut caught_related = 0;
    let mut missed: Vec<String> = Vec::new();
    for f in &flagged {
        let theirs = &lint[**f];
        let ours = apprun.get(**f).unwrap_or(&none);
        caught += usize::from(!ours.is_empty());
        let why: Vec<(&String, &String)> = theirs
            .iter()
            .flat_map(|l| ours.iter().map(move |a| (l, a)))
            .filter(|(l, a)| related(l, a))
            .collect();
        if why.is_empty() {
            missed.push(format!("{f}: cfn-lint {theirs:?}, apprun {ours:?}"));
        } else {
            caught_related += 1;
        }
    }
    let share = caught_related as f64 / flagged.len().max(1) as f64;
    println!(
        "bad: {} files; cfn-lint flags {}; apprun flags {} of those, {} for a related reason ({:.0}%)",
        bad.len(),
        flagged.len(),
        caught,
        caught_related,
        share * 100.0
    );
    for m in &missed {
        println!("  not for a related reason: {m}");
    }

    for (f, why) in GOOD_DISAGREEMENTS {
        if !structural.iter().any(|(g, _)| g == f) {
            println!("  listed but apprun now agrees with cfn-lint: {f} ({why})");
        }
    }
    let unlisted: Vec<&(&str, Vec<&String>)> = structural
        .iter()
        .filter(|(f, _)| !GOOD_DISAGREEMENTS.iter().any(|(g, _)| g == f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "false alarms on files cfn-lint passes: {unlisted:#?}"
    );
    assert!(
        share >= 0.9,
        "apprun catches {caught_related} of {} bad files for a related reason",
        flagged.len()
    );
}

#[test]
fn related_is_concrete() {
    assert!(related("E3039", "E-VALUE-DYNAMODB-KEYS"), "from RULES");
    assert!(related("E3030", "E-PROP-ENUM"));
    assert!(related("E1020", "E-REF"));
    assert!(!related("E3004", "E-PROP-ENUM"));
    assert!(
        !related("E3003", "APR-S3-001"),
        "policy rules are never a related reason"
    );
}
