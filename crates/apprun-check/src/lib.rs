//! `apprun check`: structural validation against the official CloudFormation
//! resource schemas, apprun's built-in policy rules and the user's own
//! cfn-guard rules, in-process. No AWS SDK here.

mod cross;
mod finding;
mod guard;
mod lines;
mod perm;
mod policy;
mod reach;
mod rules;
mod sarif;
mod schema;
mod structure;
mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apprun_blueprint::EnvBlueprint;
use apprun_config::Config;
use apprun_template::{Format, Note, Template};

pub use finding::{Finding, Report, Severity, Suppression};
pub use guard::{GuardError, GuardRules};
pub use rules::{RULES, Rule, UnknownRule, rule};
pub use sarif::to_sarif;

/// One template to check, with where it came from.
pub struct Input<'a> {
    /// File name shown in findings (relative, as the user knows it).
    pub file: String,
    /// The stack it becomes, when known.
    pub stack: Option<String>,
    pub template: &'a Template,
    /// The text as written, for line numbers (YAML only).
    pub text: Option<String>,
}

/// What the built-in rules need to know about the env being checked.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The env is listed in `[policy] private_envs`: services must not be public.
    pub private_env: Option<String>,
    /// `[[policy.allow]]` entries: (rule, resource, stack or None, reason).
    pub allow: Vec<(String, String, Option<String>, String)>,
    /// Imports must resolve inside the checked set (env mode).
    pub closed_world: bool,
    /// The region the stacks deploy to, when known: the permission proof
    /// builds ARNs with it (else with the placeholder `{Region}` on both sides).
    pub region: Option<String>,
    /// The account the stacks deploy to, when known (else `{AccountId}`).
    pub account: Option<String>,
}

/// One template file to check, owned (see [`check_templates`]).
pub struct TemplateFile {
    /// File name shown in findings (relative, as the user knows it).
    pub file: String,
    /// The stack it becomes, when known.
    pub stack: Option<String>,
    pub template: Template,
    /// The text as written, for line numbers (YAML only).
    pub text: Option<String>,
}

/// Checks a set of templates that belong together (an env's stacks, or the
/// files given with --template).
pub fn check(inputs: &[Input<'_>], ctx: &Context, guard: Option<&GuardRules>) -> Report {
    run(inputs, None, ctx, guard)
}

/// [`check`] of templates handed over: each one's parser notes are moved
/// into its findings, not copied (a template may have a note on every
/// resource, and then its notes took half the room of its findings).
pub fn check_templates(
    files: Vec<TemplateFile>,
    ctx: &Context,
    guard: Option<&GuardRules>,
) -> Report {
    let mut notes = Vec::with_capacity(files.len());
    let mut templates = Vec::with_capacity(files.len());
    let mut rest = Vec::with_capacity(files.len());
    for mut f in files {
        notes.push(std::mem::take(&mut f.template.notes));
        templates.push(f.template);
        rest.push((f.file, f.stack, f.text));
    }
    let inputs: Vec<Input<'_>> = rest
        .into_iter()
        .zip(&templates)
        .map(|((file, stack, text), template)| Input {
            file,
            stack,
            template,
            text,
        })
        .collect();
    run(&inputs, Some(notes), ctx, guard)
}

/// The checks of [`check`]; `moved` holds each template's notes when they
/// were taken out of it (else they are read from the template).
fn run(
    inputs: &[Input<'_>],
    mut moved: Option<Vec<Vec<Note>>>,
    ctx: &Context,
    guard: Option<&GuardRules>,
) -> Report {
    // Every template's own findings go straight into one list, template
    // after template; `ends[at]` is where template `at`'s end. Nothing is
    // gathered per template and copied over: a template with tens of
    // thousands of findings has them in memory once.
    let mut findings: Vec<Finding> = Vec::new();
    let mut ends = Vec::with_capacity(inputs.len());
    for (at, input) in inputs.iter().enumerate() {
        // The checks' findings (few, as a rule) first, then the parser's
        // notes (one per resource, in some templates) with them after.
        let mut own = Vec::new();
        structure::check(input.template, &mut own);
        schema::check(input.template, &mut own);
        let scope = rules::Scope {
            template: input.template,
            ctx,
            file: &input.file,
        };
        rules::check(&scope, &mut own);
        if let Some(guard) = guard {
            guard.check(input.template, &mut own);
        }
        let taken = moved.as_mut().map(|m| std::mem::take(&mut m[at]));
        structure::notes(
            taken.as_deref().unwrap_or(&input.template.notes),
            own,
            &mut findings,
        );
        // Given back now, before the next template and the placing.
        drop(taken);
        ends.push(findings.len());
    }
    // The proofs across templates (few findings) name each one's template.
    let mut across: Vec<(usize, Finding)> = Vec::new();
    // The bench (bench/check.sh) measures the proof's cost side by side by
    // running the same check without it; nothing else sets this.
    if std::env::var_os("APPRUN_BENCH_SKIP_PERM").is_none() {
        perm::check(inputs, ctx, &mut across);
    }
    reach::check(inputs, ctx, &mut across);
    place(inputs, &ends, &mut findings, across);
    cross::check(inputs, ctx, &mut findings);
    for f in &mut findings {
        if let Some((_, _, _, reason)) = ctx.allow.iter().find(|(rule, resource, stack, _)| {
            rule.as_str() == f.rule.as_str()
                && resource.as_str() == f.logical_id.as_str()
                && stack
                    .as_ref()
                    .is_none_or(|s| Some(s.as_str()) == f.stack.as_deref())
        }) {
            f.suppressed = Some(Box::new(Suppression {
                reason: reason.clone(),
            }));
        }
    }
    let mut report = Report {
        findings,
        checked: inputs.len(),
    };
    report.sort();
    report
}

/// Gives each finding the file, stack and line of the template it belongs
/// to, in place, indexing a template's lines once (only for the paths its
/// findings name), and only when it has findings; then appends the proofs'
/// findings, placed the same way.
fn place(
    inputs: &[Input<'_>],
    ends: &[usize],
    findings: &mut Vec<Finding>,
    across: Vec<(usize, Finding)>,
) {
    // One shared name per file and per stack, not a copy per finding.
    let files: Vec<Arc<str>> = inputs.iter().map(|i| Arc::from(i.file.as_str())).collect();
    let stacks: Vec<Option<Arc<str>>> = inputs
        .iter()
        .map(|i| i.stack.as_deref().map(Arc::from))
        .collect();
    let mut across_lines = vec![None; across.len()];
    let mut start = 0;
    for (at, input) in inputs.iter().enumerate() {
        let end = ends[at];
        let others: Vec<usize> = (0..across.len()).filter(|&k| across[k].0 == at).collect();
        let own = &findings[start..end];
        let lines = {
            let found = own.iter().chain(others.iter().map(|&k| &across[k].1));
            let index = line_index(input, found);
            let line_of = |f: &Finding| {
                // A line the parser already knows (a duplicate key, a parse
                // note) wins over the path's line: it points at the exact place.
                f.line
                    .or_else(|| index.as_ref().and_then(|l| l.line_of(&f.path)))
            };
            for &k in &others {
                across_lines[k] = line_of(&across[k].1);
            }
            own.iter().map(line_of).collect::<Vec<_>>()
        };
        for (f, line) in findings[start..end].iter_mut().zip(lines) {
            set_place(f, &files[at], &stacks[at], line);
        }
        start = end;
    }
    findings.reserve_exact(across.len());
    for ((at, mut f), line) in across.into_iter().zip(across_lines) {
        set_place(&mut f, &files[at], &stacks[at], line);
        findings.push(f);
    }
    // The list grew by doubling: the room it did not fill is given back.
    findings.shrink_to_fit();
}

/// The line index of one template for the paths of `found` that have no
/// line yet; None when none lacks one or the template has no text.
fn line_index<'f>(
    input: &Input<'_>,
    found: impl Iterator<Item = &'f Finding>,
) -> Option<lines::LineIndex<'f>> {
    let mut wanted = found
        .filter(|f| f.line.is_none())
        .map(|f| f.path.as_str())
        .peekable();
    wanted.peek()?;
    let text = input.text.as_deref()?;
    Some(lines::LineIndex::new(text, wanted))
}

fn set_place(f: &mut Finding, file: &Arc<str>, stack: &Option<Arc<str>>, line: Option<u32>) {
    f.file = Arc::clone(file);
    f.stack = stack.clone();
    f.line = line;
}

/// Checks every stack of an env as synthesized, with the config's policy.
pub fn check_env(config: &Config, bp: &EnvBlueprint, guard: Option<&GuardRules>) -> Report {
    let texts: Vec<String> = bp
        .stacks
        .iter()
        .map(|s| s.template.render(Format::Yaml))
        .collect();
    let inputs: Vec<Input<'_>> = bp
        .stacks
        .iter()
        .zip(texts)
        .map(|(s, text)| Input {
            file: format!("{}/{}.yaml", bp.env, s.kind.file_stem()),
            stack: Some(s.name.clone()),
            template: &s.template,
            text: Some(text),
        })
        .collect();
    check(inputs.as_slice(), &env_context(config, &bp.env), guard)
}

/// The policy context of one env.
pub fn env_context(config: &Config, env: &str) -> Context {
    Context {
        private_env: config
            .policy
            .private_envs
            .iter()
            .find(|e| *e == env)
            .cloned(),
        allow: config
            .policy
            .allow
            .iter()
            .map(|a| {
                (
                    a.rule.clone(),
                    a.resource.clone(),
                    a.stack.clone(),
                    a.reason.clone(),
                )
            })
            .collect(),
        closed_world: true,
        region: Some(config.system.region.clone()),
        account: config.envs.get(env).and_then(|e| e.account.clone()),
    }
}

/// The guard rules directory: `--rules`, else `[policy] rules` (relative to
/// the config file).
pub fn rules_dir(config: Option<&Config>, cli: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = cli {
        return Some(dir.to_path_buf());
    }
    let config = config?;
    let rel = config.policy.rules.as_ref()?;
    let base = config
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Some(base.join(rel))
}
