//! Generated mutations of every policy apprun synthesizes: for every env of
//! the shipped config and the fixtures and every Allow statement of every policy, drop each
//! action in turn, narrow each resource, drop each statement that allows
//! iam:PassRole, and change each iam:PassedToService value. The proof must
//! then report a new APR-PERM-001 error naming the missing action. A
//! mutation that no error notices is a grant no need justifies (least
//! privilege): the test lists them all.
//!
//! Not mutated: the application's own permissions (App Runner instance role,
//! ECS task role, and the system-tables policy the per-service run roles
//! carry over from the instance role), which no template says the
//! application needs. The run roles' secret reads and X-Ray writes are
//! mutated: the service's template says it reads those secrets and traces.

use std::collections::BTreeSet;
use std::path::Path;

use apprun_blueprint::synthesize;
use apprun_check::{Input, check, env_context};
use apprun_config::Config;
use apprun_template::{Format, Intrinsic, Template, Value};

/// Roles that hold the application's own permissions.
const APPLICATION_ROLES: &[&str] = &["AppRunnerInstanceRole", "EcsTaskRole", "JobsTaskRole"];
/// Inline policies (by name) that hold the application's own permissions
/// in a role that also holds needs of the backend.
const APPLICATION_POLICIES: &[&str] = &["dynamodb-system-tables"];

/// Mutations (label fragments) that no modelled need notices, kept on
/// purpose, with the reason.
const NEEDED_BEYOND_THE_TEMPLATES: &[(&str, &str)] = &[
    (
        "statement SourceConnectionLegacyName",
        "CodeStar Connections was renamed CodeConnections; IAM evaluates UseConnection under the prefix the connection was created with, which its ARN does not always tell",
    ),
    (
        "statement WebAcls: narrow resource arn:${AWS::Partition}:wafv2:${AWS::Region}:${AWS::AccountId}:regional/managedruleset/*/*",
        "CreateWebACL/UpdateWebACL are authorized against every AWS managed rule group the web ACL references (the managedruleset resource type); the proof does not derive rule-group references",
    ),
    (
        "statement CodeBuildVpcInterfaces: narrow resource arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*",
        "CodeBuild creates its network interfaces with the project's security groups, and CreateNetworkInterface is authorized against each group given (an optional resource type the proof does not derive)",
    ),
    (
        "statement EcsTagOnCreate",
        "Express creates the default cluster and the service's task definitions with the service's tags, which IAM authorizes as ecs:TagResource on each new resource; the proof derives tag-on-create only for the resource a template declares",
    ),
    (
        "statement DecryptSecrets",
        "a secret's customer managed KMS key is a property of the SSM parameter or Secrets Manager secret, which the templates do not declare (the config's kms_key names it); with the AWS managed key no identity-policy grant is needed, so the proof cannot derive the need",
    ),
    (
        "statement EcsServiceLinkedRole",
        "ECS creates its service-linked role AWSServiceRoleForECS with the caller's permissions the first time a cluster is created in an account (Amazon ECS Developer Guide, service-linked roles); the ExpressGatewayService schema does not list it",
    ),
];

fn config(rel: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    Config::load(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Where a policy document sits: (stack index, logical id, policy index in
/// a role's Policies or None for a policy resource's PolicyDocument).
type Site = (usize, String, Option<usize>);

fn document_mut<'a>(
    stacks: &'a mut [(String, String, Template)],
    site: &Site,
) -> Option<&'a mut Value> {
    let r = stacks[site.0].2.resources.get_mut(&site.1)?;
    match site.2 {
        Some(i) => match r.properties.get_mut("Policies")? {
            Value::List(l) => match l.get_mut(i)? {
                Value::Map(m) => m.get_mut("PolicyDocument"),
                _ => None,
            },
            _ => None,
        },
        None => r.properties.get_mut("PolicyDocument"),
    }
}

fn sites(stacks: &[(String, String, Template)]) -> Vec<Site> {
    let mut out = Vec::new();
    for (i, (_, _, t)) in stacks.iter().enumerate() {
        for (id, r) in &t.resources {
            match r.kind.as_str() {
                "AWS::IAM::Role" if !APPLICATION_ROLES.contains(&id.as_str()) => {
                    if let Some(Value::List(p)) = r.properties.get("Policies") {
                        let backend = p.iter().enumerate().filter(|(_, policy)| {
                            policy
                                .get("PolicyName")
                                .and_then(Value::as_str)
                                .is_none_or(|name| !APPLICATION_POLICIES.contains(&name))
                        });
                        out.extend(backend.map(|(n, _)| (i, id.clone(), Some(n))));
                    }
                }
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => out.push((i, id.clone(), None)),
                _ => {}
            }
        }
    }
    out
}

fn statements_mut(doc: &mut Value) -> Option<&mut apprun_template::List> {
    match doc {
        Value::Map(m) => match m.get_mut("Statement")? {
            Value::List(l) => Some(l),
            _ => None,
        },
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::List(l)) => l.to_vec(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.as_str().into(),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => template.to_string(),
            _ => format!("{v:?}"),
        },
        _ => format!("{v:?}"),
    }
}

/// A resource pattern that allows less: the same text with a suffix.
fn narrowed(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::from(format!("{s}-narrowed")),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, vars } => Value::Fn(Box::new(Intrinsic::Sub {
                template: format!("{template}-narrowed").into(),
                vars: vars.clone(),
            })),
            _ => Value::String("arn:aws:narrowed".into()),
        },
        _ => Value::String("arn:aws:narrowed".into()),
    }
}

/// Changes a policy document's statements.
type Edit = Box<dyn Fn(&mut Vec<Value>)>;

/// One mutation: what it changes and which actions an error must name.
struct Mutation {
    label: String,
    names: Vec<String>,
    apply: Edit,
}

fn mutations(stmts: &[Value], site_label: &str) -> Vec<Mutation> {
    let mut out: Vec<Mutation> = Vec::new();
    for (n, s) in stmts.iter().enumerate() {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let sid = s
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let actions: Vec<String> = strings(s.get("Action")).iter().map(text).collect();
        let at = format!("{site_label} statement {sid}");
        for (k, a) in actions.iter().enumerate() {
            let stem = a.trim_end_matches('*').to_owned();
            out.push(Mutation {
                label: format!("{at}: drop action {a}"),
                names: vec![stem],
                apply: Box::new(move |stmts: &mut Vec<Value>| {
                    if let Value::Map(m) = &mut stmts[n] {
                        let mut list = strings(m.get("Action"));
                        list.remove(k);
                        if list.is_empty() {
                            stmts.remove(n);
                        } else {
                            m.insert("Action".into(), Value::list(list));
                        }
                    }
                }),
            });
        }
        let stems: Vec<String> = actions
            .iter()
            .map(|a| a.trim_end_matches('*').to_owned())
            .collect();
        for (k, r) in strings(s.get("Resource")).iter().enumerate() {
            out.push(Mutation {
                label: format!("{at}: narrow resource {}", text(r)),
                names: stems.clone(),
                apply: Box::new(move |stmts: &mut Vec<Value>| {
                    if let Value::Map(m) = &mut stmts[n] {
                        let mut list = strings(m.get("Resource"));
                        list[k] = narrowed(&list[k]);
                        m.insert("Resource".into(), Value::list(list));
                    }
                }),
            });
        }
        if actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case("iam:PassRole"))
        {
            out.push(Mutation {
                label: format!("{at}: drop the PassRole statement"),
                names: vec!["iam:PassRole".into()],
                apply: Box::new(move |stmts: &mut Vec<Value>| {
                    stmts.remove(n);
                }),
            });
        }
        let passed: Vec<(String, usize)> = s
            .get("Condition")
            .and_then(Value::as_map)
            .into_iter()
            .flat_map(|ops| ops.iter())
            .filter_map(|(op, keys)| {
                keys.get("iam:PassedToService")
                    .map(|v| (op.to_string(), strings(Some(v)).len()))
            })
            .flat_map(|(op, len)| (0..len).map(move |i| (op.clone(), i)))
            .collect();
        for (op, i) in passed {
            out.push(Mutation {
                label: format!("{at}: change iam:PassedToService value {i}"),
                names: vec!["iam:PassRole".into()],
                apply: Box::new(move |stmts: &mut Vec<Value>| {
                    if let Value::Map(m) = &mut stmts[n]
                        && let Some(Value::Map(ops)) = m.get_mut("Condition")
                        && let Some(Value::Map(keys)) = ops.get_mut(&op)
                    {
                        let mut list = strings(keys.get("iam:PassedToService"));
                        list[i] = Value::String("mutated.amazonaws.com".into());
                        keys.insert("iam:PassedToService".into(), Value::list(list));
                    }
                }),
            });
        }
    }
    out
}

fn errors(cfg: &Config, env: &str, stacks: &[(String, String, Template)]) -> BTreeSet<String> {
    let texts: Vec<String> = stacks
        .iter()
        .map(|(_, _, t)| t.render(Format::Yaml))
        .collect();
    let inputs: Vec<Input<'_>> = stacks
        .iter()
        .zip(texts)
        .map(|((file, stack, t), text)| Input {
            file: file.clone(),
            stack: Some(stack.clone()),
            template: t,
            text: Some(text),
        })
        .collect();
    check(&inputs, &env_context(cfg, env), None)
        .findings
        .into_iter()
        .filter(|f| f.rule == "APR-PERM-001")
        .map(|f| f.message.to_string())
        .collect()
}

/// The mutations of one env: (all, the ones no new error notices), labelled
/// without the env, since the IAM stack is shared by every env of an account.
fn unnoticed(rel: &str, env: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let cfg = config(rel);
    let bp = synthesize(&cfg, env).unwrap();
    let stacks: Vec<(String, String, Template)> = bp
        .stacks
        .iter()
        .map(|s| {
            (
                format!("{env}/{}.yaml", s.kind.file_stem()),
                s.name.clone(),
                s.template.clone(),
            )
        })
        .collect();
    let baseline = errors(&cfg, env, &stacks);
    let mut all = BTreeSet::new();
    let mut missed = BTreeSet::new();
    for site in sites(&stacks) {
        let mut probe = stacks.clone();
        let Some(stmts) = document_mut(&mut probe, &site).and_then(statements_mut) else {
            continue;
        };
        let file = stacks[site.0].0.split_once('/').map_or("", |(_, f)| f);
        // Labelled without the config and with the system id abstracted, so
        // that a grant counts as justified when any env of any config needs
        // it: the blueprint emits the same statements for every config, and
        // keeps a feature's grants after a config stops using it so that
        // CloudFormation can still delete that feature's resources with
        // this role.
        let label = format!("{file} {}", site.1);
        for mut m in mutations(stmts, &label) {
            m.label = m.label.replace(cfg.system.id.as_str(), "{id}");
            all.insert(m.label.clone());
            let mut mutated = stacks.clone();
            let stmts = document_mut(&mut mutated, &site)
                .and_then(statements_mut)
                .unwrap();
            stmts.update(|stmts| (m.apply)(stmts));
            let new: Vec<String> = errors(&cfg, env, &mutated)
                .difference(&baseline)
                .cloned()
                .collect();
            let named = new.iter().any(|e| {
                m.names.iter().any(|n| {
                    e.to_ascii_lowercase()
                        .contains(&format!(" {}", n.to_ascii_lowercase()))
                })
            });
            if !named {
                missed.insert(m.label);
            }
        }
    }
    (all, missed)
}

#[test]
fn every_weakened_policy_is_reported_and_every_grant_is_needed() {
    let envs: Vec<(&str, String)> = [
        "apprun.toml",
        "fixtures/express.toml",
        "fixtures/shop-api.toml",
        "fixtures/runtime.toml",
        "crates/apprun-blueprint/tests/fixtures/jobs.toml",
    ]
    .iter()
    .flat_map(|rel| {
        config(rel)
            .envs
            .keys()
            .map(|e| (*rel, e.clone()))
            .collect::<Vec<_>>()
    })
    .collect();
    let results: Vec<(BTreeSet<String>, BTreeSet<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = envs
            .iter()
            .map(|(rel, env)| s.spawn(move || unnoticed(rel, env)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = results.iter().map(|(all, _)| all.len()).sum();
    // A mutation counts as noticed when any env that has it notices it.
    let mut missed: BTreeSet<String> = results
        .iter()
        .flat_map(|(_, m)| m.iter().cloned())
        .collect();
    for (all, m) in &results {
        missed.retain(|label| !all.contains(label) || m.contains(label));
    }
    // Grants whose need the proof cannot derive from the templates, each
    // with the AWS fact that makes it necessary.
    for (grant, _why) in NEEDED_BEYOND_THE_TEMPLATES {
        missed.retain(|label| !label.contains(grant));
    }
    assert!(total > 500, "only {total} mutations generated");
    assert!(
        missed.is_empty(),
        "{} of {total} mutations went unnoticed in every env (grants no need justifies, or needs the proof misses):\n{}",
        missed.len(),
        missed.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The count the README reports (visible with `--nocapture`).
    eprintln!("{total} mutations, every one noticed or explained");
}
