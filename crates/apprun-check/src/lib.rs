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
mod sink;
mod structure;
mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apprun_blueprint::EnvBlueprint;
use apprun_config::Config;
use apprun_template::{Format, Note, Template};

use crate::sink::{Findings, Omitted};

pub use finding::{Finding, Report, Severity, Suppression};
pub use guard::{GuardError, GuardRules};
pub use rules::{RULES, Rule, UnknownRule, rule};
pub use sarif::to_sarif;
pub use sink::MAX_FINDINGS_PER_TEMPLATE;

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
    let notes: Vec<&[Note]> = inputs.iter().map(|i| i.template.notes.as_slice()).collect();
    let examined = examine(inputs, &notes, ctx, guard);
    assemble(examined, notes, ctx)
}

/// [`check`] of templates handed over: each one's parser notes are moved
/// into its findings, not copied, once the template and its text are given
/// back (a template may have a note on every resource: its notes then took
/// half the room of its findings, and the template as much again).
pub fn check_templates(
    files: Vec<TemplateFile>,
    ctx: &Context,
    guard: Option<&GuardRules>,
) -> Report {
    let mut notes = Vec::with_capacity(files.len());
    let mut templates = Vec::with_capacity(files.len());
    let mut names = Vec::with_capacity(files.len());
    for mut f in files {
        notes.push(std::mem::take(&mut f.template.notes));
        templates.push(f.template);
        names.push((f.file, f.stack, f.text));
    }
    let examined = {
        let inputs: Vec<Input<'_>> = names
            .into_iter()
            .zip(&templates)
            .map(|((file, stack, text), template)| Input {
                file,
                stack,
                template,
                text,
            })
            .collect();
        let borrowed: Vec<&[Note]> = notes.iter().map(Vec::as_slice).collect();
        examine(&inputs, &borrowed, ctx, guard)
    };
    drop(templates);
    assemble(examined, notes, ctx)
}

/// What the checks found in one template while it was at hand: its
/// findings, placed, and the lines of its parser notes, which become
/// findings later (see [`assemble`]).
struct Found {
    place: Place,
    own: Vec<Finding>,
    /// The findings counted past the limit, the parser's among them.
    omitted: Omitted,
    note_lines: Vec<Option<u32>>,
}

/// What the checks found in a set of templates, the parser notes aside.
struct Examined {
    templates: Vec<Found>,
    /// The proofs across templates (few findings), placed.
    across: Vec<Finding>,
    /// The checks across templates (export names), placed.
    cross: Vec<Finding>,
}

/// Runs every check that needs the templates (and their texts, for lines);
/// `notes[at]` are template `at`'s parser notes, whose lines are found here.
fn examine(
    inputs: &[Input<'_>],
    notes: &[&[Note]],
    ctx: &Context,
    guard: Option<&GuardRules>,
) -> Examined {
    // The proofs across templates (few findings) name each one's template;
    // they are found first, so that a template's lines are indexed once,
    // for all of its findings.
    let mut across: Vec<(usize, Finding)> = Vec::new();
    // The bench (bench/check.sh) measures the proof's cost side by side by
    // running the same check without it; nothing else sets this.
    if std::env::var_os("APPRUN_BENCH_SKIP_PERM").is_none() {
        perm::check(inputs, ctx, &mut across);
    }
    reach::check(inputs, ctx, &mut across);
    let mut across_lines = vec![None; across.len()];
    let mut templates = Vec::with_capacity(inputs.len());
    for (at, input) in inputs.iter().enumerate() {
        let (mut own, mut omitted) = own_findings(input, ctx, guard).into_parts();
        omitted.add_overflow(&input.template.notes_overflow);
        let mine: Vec<usize> = (0..across.len()).filter(|&k| across[k].0 == at).collect();
        let mut note_lines = {
            let found = own.iter().chain(mine.iter().map(|&k| &across[k].1));
            lines_of(
                input.text.as_deref(),
                notes[at]
                    .iter()
                    .map(|n| (n.path.as_str(), n.line))
                    .chain(found.map(|f| (f.path.as_str(), f.line))),
            )
        };
        let mut rest = note_lines.split_off(notes[at].len()).into_iter();
        let place = Place::of(input);
        for f in &mut own {
            place.set(f, rest.next().flatten());
        }
        for &k in &mine {
            across_lines[k] = rest.next().flatten();
        }
        templates.push(Found {
            place,
            own,
            omitted,
            note_lines,
        });
    }
    let across = across
        .into_iter()
        .zip(across_lines)
        .map(|((at, mut f), line)| {
            templates[at].place.set(&mut f, line);
            f
        })
        .collect();
    let mut cross = Vec::new();
    cross::check(inputs, ctx, &mut cross);
    Examined {
        templates,
        across,
        cross,
    }
}

/// The report: each template's parser notes as findings (each template's
/// notes given back once they are), then its other findings, template
/// after template, then the findings across templates; in one list that
/// takes the room they can need (each template's at most
/// [`MAX_FINDINGS_PER_TEMPLATE`] and the finding that counts the rest).
fn assemble<N: AsRef<[Note]>>(
    examined: Examined,
    notes: impl IntoIterator<Item = N>,
    ctx: &Context,
) -> Report {
    let Examined {
        templates,
        across,
        cross,
    } = examined;
    let checked = templates.len();
    let total = templates
        .iter()
        .map(|t| t.note_lines.len() + t.own.len() + usize::from(!t.omitted.is_empty()))
        .sum::<usize>()
        + across.len()
        + cross.len();
    let mut findings = Vec::with_capacity(total);
    for (mut found, notes) in templates.into_iter().zip(notes) {
        let first = findings.len();
        for (n, line) in notes.as_ref().iter().zip(found.note_lines) {
            let mut f = structure::note_finding(n);
            found.place.set(&mut f, line);
            findings.push(f);
        }
        // The notes and the checks' findings were each kept up to the
        // limit: together, the ones past it are counted too.
        for f in found.own {
            if findings.len() - first < MAX_FINDINGS_PER_TEMPLATE {
                findings.push(f);
            } else {
                found.omitted.add(&f, allowed_reason(ctx, &f).is_some());
            }
        }
        if let Some(mut summary) = found.omitted.summary(findings.len() - first) {
            found.place.set(&mut summary, None);
            findings.push(summary);
        }
    }
    findings.extend(across);
    findings.extend(cross);
    allow(ctx, &mut findings);
    let mut report = Report { findings, checked };
    report.sort();
    report
}

/// A template's findings of the structural checks, the schemas and the
/// rules (the parser's notes aside): the first
/// [`MAX_FINDINGS_PER_TEMPLATE`] kept, the others counted.
fn own_findings(input: &Input<'_>, ctx: &Context, guard: Option<&GuardRules>) -> Findings {
    // What `[[policy.allow]]` silences in this template (see `allow`).
    let allowed = ctx
        .allow
        .iter()
        .filter(|(_, _, stack, _)| allows_stack(stack.as_deref(), input.stack.as_deref()))
        .map(|(rule, resource, _, _)| (rule.clone(), resource.clone()))
        .collect();
    let mut own = Findings::allowing(allowed);
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
    own
}

/// The line of each place (a path, and its line when already known): the
/// known line, which points at the exact place (a duplicate key), else the
/// path's line in `text`, found with one index of the paths asked.
fn lines_of<'p>(
    text: Option<&str>,
    places: impl Iterator<Item = (&'p str, Option<u32>)> + Clone,
) -> Vec<Option<u32>> {
    let mut wanted = places
        .clone()
        .filter(|(_, line)| line.is_none())
        .map(|(path, _)| path)
        .peekable();
    let index = match text {
        Some(text) if wanted.peek().is_some() => Some(lines::LineIndex::new(text, wanted)),
        _ => None,
    };
    places
        .map(|(path, line)| line.or_else(|| index.as_ref().and_then(|i| i.line_of(path))))
        .collect()
}

/// `[[policy.allow]]`: a finding an entry names is suppressed, with its
/// reason.
fn allow(ctx: &Context, findings: &mut [Finding]) {
    for f in findings {
        if let Some(reason) = allowed_reason(ctx, f) {
            f.suppressed = Some(Box::new(Suppression {
                reason: reason.clone(),
            }));
        }
    }
}

/// The reason of the `[[policy.allow]]` entry that silences `f`, if any.
fn allowed_reason<'c>(ctx: &'c Context, f: &Finding) -> Option<&'c String> {
    ctx.allow
        .iter()
        .find(|(rule, resource, stack, _)| {
            rule.as_str() == f.rule.as_str()
                && resource.as_str() == f.logical_id.as_str()
                && allows_stack(stack.as_deref(), f.stack.as_deref())
        })
        .map(|(_, _, _, reason)| reason)
}

/// Whether an entry for `entry_stack` (any stack when none) applies to a
/// finding of `stack`.
fn allows_stack(entry_stack: Option<&str>, stack: Option<&str>) -> bool {
    entry_stack.is_none_or(|s| Some(s) == stack)
}

/// The file and stack of one template's findings, each name shared.
struct Place {
    file: Arc<str>,
    stack: Option<Arc<str>>,
}

impl Place {
    fn of(input: &Input<'_>) -> Self {
        Place {
            file: Arc::from(input.file.as_str()),
            stack: input.stack.as_deref().map(Arc::from),
        }
    }

    fn set(&self, f: &mut Finding, line: Option<u32>) {
        f.file = Arc::clone(&self.file);
        f.stack = self.stack.clone();
        f.line = line;
    }
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
