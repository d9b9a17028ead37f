//! What a buildspec runs, as IAM calls: each `aws SERVICE COMMAND ...` and
//! each `docker push/pull` to ECR, with resource ARNs built from the
//! command's arguments and `$VARS` resolved from the project's environment
//! variables and the script's own assignments.
//!
//! A variable assigned from `aws cloudformation describe-stacks` output
//! (directly or through a shell function) takes the value of that output in
//! the checked set. A command whose ARN argument turns out to belong to
//! another service cannot run in this env (scripts branch on the ARN), so it
//! is skipped, and so is everything that uses what it printed.

use std::collections::BTreeMap;

use super::actors::Actor;
use super::eval::{UNKNOWN, glob};
use super::needs::{Call, expand};
use super::world::World;

/// Commands whose IAM action is not the PascalCase of the command name
/// (the CLI adds convenience commands): (service, command, actions).
pub(crate) const TABLE: &[(&str, &str, &[&str])] = &[
    ("ecr", "get-login-password", &["ecr:GetAuthorizationToken"]),
    ("ecr", "get-login", &["ecr:GetAuthorizationToken"]),
    (
        "cloudformation",
        "deploy",
        &[
            "cloudformation:DescribeStacks",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet",
        ],
    ),
    (
        "cloudformation",
        "wait change-set-create-complete",
        &["cloudformation:DescribeChangeSet"],
    ),
    (
        "cloudformation",
        "wait stack-create-complete",
        &["cloudformation:DescribeStacks"],
    ),
    (
        "cloudformation",
        "wait stack-update-complete",
        &["cloudformation:DescribeStacks"],
    ),
    ("apprunner", "wait", &["apprunner:DescribeService"]),
];

/// Docker commands against an ECR repository and the actions they need.
const DOCKER: &[(&str, &[&str])] = &[
    (
        "push",
        &[
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
        ],
    ),
    (
        "pull",
        &[
            "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchGetImage",
        ],
    ),
];

/// One logical line of a script: its first line number in the buildspec
/// and its words.
struct Line {
    number: usize,
    words: Vec<String>,
    text: String,
}

/// Splits the buildspec into logical lines (backslash continuations
/// joined) and words (shell separators and quotes removed).
fn lines(spec: &str) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in spec.lines().enumerate() {
        let mut t = raw.trim();
        if t.starts_with('#') {
            continue;
        }
        t = t.strip_prefix("- ").unwrap_or(t);
        let (number, mut text) = pending.take().unwrap_or((i + 1, String::new()));
        if let Some(cont) = t.strip_suffix('\\') {
            text.push_str(cont);
            text.push(' ');
            pending = Some((number, text));
            continue;
        }
        text.push_str(t);
        let words = words(&text);
        out.push(Line {
            number,
            words,
            text,
        });
    }
    out
}

/// The words of a line: split at blanks and shell separators, except
/// inside `${...}`; quotes removed.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut braces = 0usize;
    let mut prev = ' ';
    for c in text.chars() {
        if c == '{' && prev == '$' {
            braces += 1;
        }
        let split = braces == 0 && (c.is_whitespace() || ";|&(){}`".contains(c));
        if c == '}' && braces > 0 {
            braces -= 1;
        }
        prev = c;
        if split {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        } else if c != '"' && c != '\'' {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A shell parameter expansion with `#`, `##`, `%`, `%%` pattern removal.
fn expand_param(body: &str, vars: &BTreeMap<String, Var>) -> Var {
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(name_end);
    let value = match vars.get(name) {
        Some(v) => v.clone(),
        None => return Var::Unknown,
    };
    let Var::Text(s) = value else {
        return value;
    };
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    // The longest prefix ends last; the longest suffix starts first.
    let cut = |pat: &str, longest: bool, prefix: bool| -> String {
        let mut hits = bounds.iter().filter(|&&i| {
            if prefix {
                glob(pat, &s[..i], false)
            } else {
                glob(pat, &s[i..], false)
            }
        });
        let hit = if prefix == longest {
            hits.next_back()
        } else {
            hits.next()
        };
        match (hit, prefix) {
            (Some(&i), true) => s[i..].to_owned(),
            (Some(&i), false) => s[..i].to_owned(),
            (None, _) => s.clone(),
        }
    };
    Var::Text(if let Some(p) = op.strip_prefix("##") {
        cut(p, true, true)
    } else if let Some(p) = op.strip_prefix('#') {
        cut(p, false, true)
    } else if let Some(p) = op.strip_prefix("%%") {
        cut(p, true, false)
    } else if let Some(p) = op.strip_prefix('%') {
        cut(p, false, false)
    } else if op.is_empty() {
        s
    } else {
        UNKNOWN.to_string()
    })
}

/// What a variable holds.
#[derive(Debug, Clone, PartialEq)]
enum Var {
    Text(String),
    Unknown,
    /// Printed by a command that cannot run in this env.
    Dead,
    /// Printed by a command about a known resource: the value is unknown,
    /// but the ARN format variables it shares with that resource are not
    /// (a deployment of service S names S's cluster and service).
    Derived(BTreeMap<String, String>),
}

/// `$X`, `${X}` and `${X#pat}`-style references in a word, resolved.
fn resolve(word: &str, vars: &BTreeMap<String, Var>) -> Var {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (var, used) = if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').unwrap_or(body.len());
            (expand_param(&body[..end], vars), end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            (
                vars.get(&after[..end]).cloned().unwrap_or(Var::Unknown),
                end,
            )
        };
        match var {
            Var::Text(t) => out.push_str(&t),
            Var::Unknown | Var::Derived(_) => out.push(UNKNOWN),
            Var::Dead => return Var::Dead,
        }
        rest = after.get(used..).unwrap_or_default();
    }
    out.push_str(rest);
    Var::Text(out)
}

/// `--key value` options of a command's words.
fn options(words: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(k) = words[i].strip_prefix("--") {
            if let Some((k, v)) = k.split_once('=') {
                out.insert(k.to_owned(), v.to_owned());
            } else if let Some(v) = words.get(i + 1).filter(|v| !v.starts_with("--")) {
                out.insert(k.to_owned(), v.clone());
                i += 1;
            }
        }
        i += 1;
    }
    out
}

/// `describe-express-gateway-service` → `DescribeExpressGatewayService`.
fn pascal(command: &str) -> String {
    command
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The IAM actions of `aws SERVICE COMMAND`.
pub(crate) fn actions_of(service: &str, command: &str, sub: Option<&str>) -> Vec<String> {
    let with_sub = sub.map(|s| format!("{command} {s}"));
    if let Some((_, _, actions)) = TABLE
        .iter()
        .find(|(s, c, _)| *s == service && (Some(c.to_string()) == with_sub || *c == command))
    {
        return actions.iter().map(|a| (*a).to_owned()).collect();
    }
    if service == "s3" {
        return Vec::new();
    }
    vec![format!("{service}:{}", pascal(command))]
}

/// A `case WORD in` block being read: its subject, whether the enclosing
/// code runs, and whether the current branch does.
struct Case {
    subject: Var,
    outer: bool,
    branch: bool,
}

/// The patterns of a `case` branch line (`apprunner)`, `""|None)`), if it is one.
fn branch_patterns(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    let close = t.find(')')?;
    let head = &t[..close];
    if head.is_empty() || head.contains(['(', ' ', '$', '=']) {
        return None;
    }
    Some(
        head.split('|')
            .map(|p| p.replace(['"', '\''], ""))
            .collect(),
    )
}

/// Adds the needs of a buildspec's commands to a CodeBuild actor.
pub(crate) fn needs(
    world: &World<'_>,
    project: &str,
    spec: &str,
    env: &BTreeMap<String, String>,
    a: &mut Actor,
) {
    let mut run = Interpreter {
        world,
        project,
        vars: env
            .iter()
            .map(|(k, v)| (k.clone(), Var::Text(v.clone())))
            .collect(),
        output_fns: BTreeMap::new(),
        function: None,
        cases: Vec::new(),
    };
    for line in lines(spec) {
        run.track_functions(&line);
        if run.skips(&line) {
            continue;
        }
        let (dead, about) = run.commands(&line, a);
        run.assign(&line, dead, about);
    }
}

/// What the walk through a buildspec knows at a line: variables, shell
/// functions that read stack outputs, and the `case` branches it is in.
struct Interpreter<'a> {
    world: &'a World<'a>,
    project: &'a str,
    vars: BTreeMap<String, Var>,
    /// Shell functions whose body reads a stack's outputs: name → stack word.
    output_fns: BTreeMap<String, String>,
    function: Option<String>,
    cases: Vec<Case>,
}

impl Interpreter<'_> {
    /// `name() {` opens a function body, a lone `}` closes it; a body that
    /// runs `describe-stacks --stack-name S` makes the function read S's outputs.
    fn track_functions(&mut self, line: &Line) {
        let w = &line.words;
        if let Some(first) = w.first()
            && line.text.trim_start().starts_with(&format!("{first}()"))
        {
            self.function = Some(first.clone());
        }
        if let Some(f) = &self.function
            && let Some(pos) = w.iter().position(|x| x == "describe-stacks")
            && let Some(stack) = options(&w[pos..]).get("stack-name")
        {
            self.output_fns.insert(f.clone(), stack.clone());
        }
        if line.text.trim().ends_with('}') && !line.text.contains("${") || line.text.trim() == "}" {
            self.function = None;
        }
    }

    /// case/esac: whether this line is structure or in a branch a known
    /// subject does not select, so that it runs nothing.
    fn skips(&mut self, line: &Line) -> bool {
        let w = &line.words;
        let runs = self.cases.last().is_none_or(|c| c.outer && c.branch);
        if w.first().is_some_and(|x| x == "case") && w.get(2).is_some_and(|x| x == "in") {
            let subject = w.get(1).map_or(Var::Unknown, |s| resolve(s, &self.vars));
            self.cases.push(Case {
                subject,
                outer: runs,
                branch: true,
            });
            return true;
        }
        if w.first().is_some_and(|x| x == "esac") {
            self.cases.pop();
            return true;
        }
        if let Some(c) = self.cases.last_mut()
            && let Some(patterns) = branch_patterns(&line.text)
        {
            c.branch = match &c.subject {
                Var::Text(t) if !t.contains(UNKNOWN) => patterns.iter().any(|p| glob(p, t, false)),
                _ => true,
            };
        }
        !self.cases.last().is_none_or(|c| c.outer && c.branch)
    }

    /// The `aws` and `docker` commands of a line. Returns whether one
    /// cannot run in this env, and what the line's output is known to be about.
    fn commands(&self, line: &Line, a: &mut Actor) -> (bool, BTreeMap<String, String>) {
        let w = &line.words;
        let mut dead = false;
        let mut about: BTreeMap<String, String> = BTreeMap::new();
        let mut i = 0;
        while i < w.len() {
            let word = &w[i];
            if word == "aws" && i + 2 < w.len() {
                let end = w[i + 1..]
                    .iter()
                    .position(|x| x == "aws" || x == "docker")
                    .map_or(w.len(), |p| i + 1 + p);
                match command(
                    self.world,
                    self.project,
                    line,
                    &w[i + 1..end],
                    &self.vars,
                    a,
                ) {
                    Some(known) => about.extend(known),
                    None => dead = true,
                }
                i = end;
                continue;
            }
            if word == "docker" {
                self.docker(line, i, a);
            }
            i += 1;
        }
        (dead, about)
    }

    /// `docker push|pull IMAGE`: the ECR calls on the image's repository.
    fn docker(&self, line: &Line, i: usize, a: &mut Actor) {
        let (w, world, project) = (&line.words, self.world, self.project);
        let Some(verb) = w.get(i + 1) else {
            return;
        };
        let Some((_, actions)) = DOCKER.iter().find(|(v, _)| v == verb) else {
            return;
        };
        let Some(Var::Text(image)) = w.get(i + 2).map(|x| resolve(x, &self.vars)) else {
            return;
        };
        match super::actors::ecr_repository(world, &image) {
            Some(repo) => {
                let why = format!(
                    "buildspec line {} of project {project}: docker {verb}",
                    line.number
                );
                let call = Call {
                    arns: vec![repo],
                    ..Call::default()
                };
                for op in *actions {
                    expand(world, op, &call, &why, &mut a.needs, 0);
                }
            }
            None if image.contains(UNKNOWN) => a.unproven.push(format!(
                "buildspec line {} of project {project}: docker {verb} {}: the registry is not known",
                line.number,
                super::eval::show(&image)
            )),
            None => {}
        }
    }

    /// Assignments: NAME=value at the start of the line, with what the
    /// value is known to be.
    fn assign(&mut self, line: &Line, dead: bool, about: BTreeMap<String, String>) {
        let w = &line.words;
        let Some((name, value)) = w.first().and_then(|f| f.split_once('=')) else {
            return;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return;
        }
        // `X="$(output Key)"`, possibly through a wrapper: `$(value output Key)`.
        let from_output = w[1..]
            .iter()
            .position(|f| self.output_fns.contains_key(f))
            .map(|p| (&self.output_fns[&w[1 + p]], w.get(2 + p)));
        let var = if dead {
            Var::Dead
        } else if let Some((stack, Some(key))) = from_output {
            match resolve(stack, &self.vars) {
                Var::Text(stack) => stack_output(self.world, &stack, key),
                other => other,
            }
        } else if line.text.contains("$(") && !about.is_empty() {
            Var::Derived(about)
        } else if line.text.contains("$(") {
            Var::Unknown
        } else {
            resolve(value, &self.vars)
        };
        self.vars.insert(name.to_owned(), var);
    }
}

/// The value of output `key` of the stack named `stack` in the checked set.
fn stack_output(world: &World<'_>, stack: &str, key: &str) -> Var {
    let Some(i) = world.stack_named(stack) else {
        return Var::Unknown;
    };
    match world.inputs[i].template.outputs.get(key) {
        Some(o) => Var::Text(world.text(i, &o.value)),
        None => Var::Unknown,
    }
}

/// The variables of an ARN format that an ARN gives (`${ServiceName}` →
/// `web`), when the ARN fits the format.
fn parse_arn(world: &World<'_>, format: &str, arn: &str) -> Option<BTreeMap<String, String>> {
    let format = world.fill(format, |v| Some(format!("${{{v}}}")));
    let mut vars = BTreeMap::new();
    let mut rest = arn;
    let mut pieces = format.split("${").peekable();
    let head = pieces.next()?;
    rest = rest.strip_prefix(head)?;
    while let Some(piece) = pieces.next() {
        let (var, literal) = piece.split_once('}')?;
        let end = if literal.is_empty() {
            if pieces.peek().is_some() {
                return None;
            }
            rest.len()
        } else {
            rest.find(literal)?
        };
        if rest[..end].contains('/') || rest[..end].contains(':') {
            return None;
        }
        vars.insert(var.to_owned(), rest[..end].to_owned());
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty().then_some(vars)
}

/// One `aws` command's needs. None when it cannot run in this env;
/// otherwise what its output is known to be about.
fn command(
    world: &World<'_>,
    project: &str,
    line: &Line,
    cmd: &[String],
    vars: &BTreeMap<String, Var>,
    a: &mut Actor,
) -> Option<BTreeMap<String, String>> {
    let (Some(service), Some(name)) = (cmd.first(), cmd.get(1)) else {
        return Some(BTreeMap::new());
    };
    let why = format!(
        "buildspec line {} of project {project}: aws {service} {name}",
        line.number
    );
    let mut call = Call::default();
    let resolved = resolve_arguments(&cmd[2..], vars, &mut call)?;
    if service == "s3" {
        s3_command(world, &resolved, &why, a);
        return Some(BTreeMap::new());
    }
    let about = arguments_into_call(world, service, &options(&resolved), &mut call)?;
    for (k, v) in &about {
        call.vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    // ECS deployment ARNs name their service: add it for actions that need both.
    for arn in call.arns.clone() {
        if let Some(rest) = arn.split_once(":service-deployment/")
            && let Some((cluster, svc)) = rest.1.split('/').next().zip(rest.1.split('/').nth(1))
        {
            call.arns
                .push(format!("{}:service/{cluster}/{svc}", rest.0));
        }
    }
    let sub = cmd.get(2).map(String::as_str);
    for action in actions_of(service, name, sub) {
        if !expand(world, &action, &call, &why, &mut a.needs, 0) {
            a.unproven.push(format!(
                "{why}: {action} is not an action the IAM reference knows"
            ));
        }
    }
    Some(about)
}

/// The command's arguments with variables replaced (unknown parts marked),
/// and the ARN variables that derived variables carry put on the call.
/// None when an argument comes from a command that cannot run in this env.
fn resolve_arguments(
    args: &[String],
    vars: &BTreeMap<String, Var>,
    call: &mut Call,
) -> Option<Vec<String>> {
    let mut resolved = Vec::new();
    for w in args {
        match resolve(w, vars) {
            Var::Dead => return None,
            Var::Text(t) => resolved.push(t),
            Var::Unknown | Var::Derived(_) => resolved.push(UNKNOWN.to_string()),
        }
        let name = w
            .trim_start_matches('$')
            .trim_start_matches('{')
            .trim_end_matches('}');
        if let Some(Var::Derived(known)) = vars.get(name) {
            for (k, v) in known {
                call.vars.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    Some(resolved)
}

/// s3 cp/mv/sync: the direction decides the action.
fn s3_command(world: &World<'_>, resolved: &[String], why: &str, a: &mut Actor) {
    let paths: Vec<&String> = resolved.iter().filter(|w| !w.starts_with("--")).collect();
    let object = |u: &str| {
        u.strip_prefix("s3://")
            .map(|rest| format!("arn:{}:s3:::{rest}", world.partition))
    };
    let mut ops: Vec<(&str, String)> = Vec::new();
    if let Some(o) = paths.first().and_then(|s| object(s)) {
        ops.push(("s3:GetObject", o));
    }
    if let Some(o) = paths.get(1).and_then(|d| object(d)) {
        ops.push(("s3:PutObject", o));
    }
    if ops.is_empty() {
        a.unproven
            .push(format!("{why}: no s3:// path apprun can read"));
    }
    for (op, arn) in ops {
        let call = Call {
            arns: vec![arn],
            ..Call::default()
        };
        expand(world, op, &call, why, &mut a.needs, 0);
    }
}

/// `--x-arn` options become the call's ARNs (and the format variables they
/// give), `--x-name` options its format variables (`--stack-name S` →
/// `StackName`). Returns what the output is about; None when an ARN of
/// another service shows that this branch of the script does not run here
/// (an App Runner ARN given to an ECS command).
fn arguments_into_call(
    world: &World<'_>,
    service: &str,
    opts: &BTreeMap<String, String>,
    call: &mut Call,
) -> Option<BTreeMap<String, String>> {
    let mut about = BTreeMap::new();
    for (k, v) in opts {
        if k.ends_with("-arn") || k.ends_with("-arns") {
            let arn_service = v.split(':').nth(2).unwrap_or_default();
            if v.starts_with("arn:") && arn_service != service && !arn_service.contains(UNKNOWN) {
                return None;
            }
            if let Some(sar) = super::data::service(service) {
                for format in sar.resources.values() {
                    if let Some(parts) = parse_arn(world, format, v) {
                        about.extend(parts.into_iter().filter(|(_, x)| !x.contains(UNKNOWN)));
                    }
                }
            }
            call.arns.push(v.clone());
        } else if let Some(stem) = k.strip_suffix("-name") {
            call.vars.insert(format!("{}Name", pascal(stem)), v.clone());
        }
    }
    Some(about)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, Var> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Var::Text(v.to_string())))
            .collect()
    }

    #[test]
    fn parameter_expansions_cut_as_bash_does() {
        let v = vars(&[("URI", "1.dkr.ecr.r.amazonaws.com/team/web")]);
        assert_eq!(
            resolve("${URI%%/*}", &v),
            Var::Text("1.dkr.ecr.r.amazonaws.com".into())
        );
        assert_eq!(resolve("${URI#*/}", &v), Var::Text("team/web".into()));
        assert_eq!(resolve("${URI##*/}", &v), Var::Text("web".into()));
        assert_eq!(
            resolve("${URI%/*}", &v),
            Var::Text("1.dkr.ecr.r.amazonaws.com/team".into())
        );
        assert_eq!(
            resolve("$URI:$TAG", &v),
            Var::Text(format!("1.dkr.ecr.r.amazonaws.com/team/web:{UNKNOWN}"))
        );
    }

    #[test]
    fn every_command_the_generated_buildspecs_use_maps_to_its_actions() {
        let cases: &[(&str, &str, Option<&str>, &[&str])] = &[
            (
                "ecr",
                "get-login-password",
                None,
                &["ecr:GetAuthorizationToken"],
            ),
            ("ecr", "describe-images", None, &["ecr:DescribeImages"]),
            (
                "cloudformation",
                "describe-stacks",
                None,
                &["cloudformation:DescribeStacks"],
            ),
            (
                "cloudformation",
                "create-change-set",
                None,
                &["cloudformation:CreateChangeSet"],
            ),
            (
                "cloudformation",
                "wait",
                Some("change-set-create-complete"),
                &["cloudformation:DescribeChangeSet"],
            ),
            (
                "cloudformation",
                "describe-change-set",
                None,
                &["cloudformation:DescribeChangeSet"],
            ),
            (
                "cloudformation",
                "delete-change-set",
                None,
                &["cloudformation:DeleteChangeSet"],
            ),
            (
                "ecs",
                "describe-express-gateway-service",
                None,
                &["ecs:DescribeExpressGatewayService"],
            ),
            (
                "ecs",
                "describe-service-deployments",
                None,
                &["ecs:DescribeServiceDeployments"],
            ),
            (
                "apprunner",
                "list-operations",
                None,
                &["apprunner:ListOperations"],
            ),
            (
                "apprunner",
                "describe-service",
                None,
                &["apprunner:DescribeService"],
            ),
        ];
        for (service, command, sub, want) in cases {
            let got = actions_of(service, command, *sub);
            assert_eq!(got, *want, "aws {service} {command}");
            for a in &got {
                assert!(
                    super::super::data::action(a).is_some(),
                    "{a} is not in the reference"
                );
            }
        }
        // s3 cp is decided by direction, in `command`.
        assert!(actions_of("s3", "cp", None).is_empty());
    }

    #[test]
    fn logical_lines_join_continuations_and_keep_the_first_line_number() {
        let spec = "phases:\n  build:\n    commands:\n      - aws cloudformation create-change-set --stack-name \"$S\" \\\n          --change-set-name x\n      - echo done\n";
        let l = lines(spec);
        let joined = l
            .iter()
            .find(|l| l.words.first().is_some_and(|w| w == "aws"))
            .unwrap();
        assert_eq!(joined.number, 4);
        assert!(joined.words.contains(&"--change-set-name".to_string()));
        assert!(joined.words.contains(&"$S".to_string()));
    }
}
