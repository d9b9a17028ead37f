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

use apprun_blueprint::EnvBlueprint;
use apprun_config::Config;
use apprun_template::{Format, Template};

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

/// Checks a set of templates that belong together (an env's stacks, or the
/// files given with --template).
pub fn check(inputs: &[Input<'_>], ctx: &Context, guard: Option<&GuardRules>) -> Report {
    // Findings with the index of the template they belong to.
    let mut found: Vec<(usize, Finding)> = Vec::new();
    for (at, input) in inputs.iter().enumerate() {
        let mut here = Vec::new();
        structure::check(input.template, &mut here);
        schema::check(input.template, &mut here);
        let scope = rules::Scope {
            template: input.template,
            ctx,
            file: &input.file,
        };
        rules::check(&scope, &mut here);
        if let Some(guard) = guard {
            guard.check(input.template, &mut here);
        }
        found.extend(here.into_iter().map(|f| (at, f)));
    }
    // The bench (bench/check.sh) measures the proof's cost side by side by
    // running the same check without it; nothing else sets this.
    if std::env::var_os("APPRUN_BENCH_SKIP_PERM").is_none() {
        perm::check(inputs, ctx, &mut found);
    }
    reach::check(inputs, ctx, &mut found);
    let mut findings = placed(inputs, found);
    cross::check(inputs, ctx, &mut findings);
    for f in &mut findings {
        if let Some((_, _, _, reason)) = ctx.allow.iter().find(|(rule, resource, stack, _)| {
            rule == &f.rule
                && resource == &f.logical_id
                && stack.as_ref().is_none_or(|s| Some(s) == f.stack.as_ref())
        }) {
            f.suppressed = Some(Suppression {
                reason: reason.clone(),
            });
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
/// to, indexing a template's lines once (only for the paths its findings
/// name), and only when it has findings.
fn placed(inputs: &[Input<'_>], found: Vec<(usize, Finding)>) -> Vec<Finding> {
    let lines: Vec<Option<lines::LineIndex>> = inputs
        .iter()
        .enumerate()
        .map(|(at, input)| {
            let mut wanted = found
                .iter()
                .filter(|(i, f)| *i == at && f.line.is_none())
                .map(|(_, f)| f.path.as_str())
                .peekable();
            wanted.peek()?;
            let text = input.text.as_deref()?;
            Some(lines::LineIndex::new(text, wanted))
        })
        .collect();
    found
        .into_iter()
        .map(|(at, mut f)| {
            let input = &inputs[at];
            f.file = input.file.clone();
            f.stack = input.stack.clone();
            // A line the parser already knows (a duplicate key, a parse note) wins
            // over the path's line: it points at the exact place.
            f.line = f
                .line
                .or_else(|| lines[at].as_ref().and_then(|l| l.line_of(&f.path)));
            f
        })
        .collect()
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
