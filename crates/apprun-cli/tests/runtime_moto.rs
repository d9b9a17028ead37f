//! Env var and secret changes deployed to moto_server on loopback (issue
//! 13): the shipped config with `[services.web.env]` and secrets added,
//! changed and removed.
//!
//! What moto can show is the account's IAM stack: a service that reads
//! secrets in any env of an account runs, in every env of that account,
//! with a role of its own (`${id}-${env}-web-run`), and each env's role is
//! granted exactly that env's secrets; the roles follow the config:
//! created with the first secret, their policies updated when a secret is
//! added, deleted when the last one goes; an unchanged redeploy writes
//! nothing. (The shipped config's prod env is in an account of its own, so
//! deploying dev's account's IAM stack holds dev's and stg's roles.)
//!
//! What moto cannot show:
//! - the service stack itself. moto has no App Runner, so the service (its
//!   `RuntimeEnvironmentVariables`, its `RuntimeEnvironmentSecrets`, the
//!   instance role it names) is never deployed here; `diff` lists it as a
//!   stack to create, `plan` shows its variables and secrets by name (with
//!   where each secret is read from), and the values that change are
//!   asserted on the template apprun would deploy (`synth`), as
//!   crates/apprun-blueprint/tests/runtime.rs does on the blueprint;
//! - a policy change of an existing role: moto 5.2.5's CloudFormation
//!   updates only a role's description, not its inline policies, so what
//!   an update sends is read from the stack's template as CloudFormation
//!   holds it (`get-template`), and IAM's own copy is asserted where a role
//!   is created.

mod common;

use std::path::Path;

use apprun_template::{Intrinsic, Value};
use common::*;

const IAM: &str = "apprunner-nuxt3-iam";
const ENVS: [&str; 3] = ["dev", "stg", "prod"];
/// The envs of the account dev deploys to (prod has an account of its own).
const ACCOUNT_ENVS: [&str; 2] = ["dev", "stg"];
/// moto's account.
const ACCOUNT: &str = "123456789012";

fn run_role(env: &str) -> String {
    format!("apprunner-nuxt3-{env}-web-run")
}

/// The shipped config with these tables appended.
fn configure(dir: &Path, extra: &str) {
    let shipped = std::fs::read_to_string(workspace().join("apprun.toml")).unwrap();
    std::fs::write(dir.join("apprun.toml"), format!("{shipped}\n{extra}")).unwrap();
}

fn deploy_iam(moto: &Moto, dir: &Path) -> serde_json::Value {
    let o = moto.apprun(
        dir,
        &[
            "deploy", "--env", "dev", "--yes", "--stack", "iam", "--output", "json",
        ],
    );
    let report = json(&o);
    assert_eq!(o.status.code(), Some(0), "{report}\n{}", stderr(&o));
    report
}

fn outcome(report: &serde_json::Value, stack: &str) -> String {
    report["stacks"]
        .as_array()
        .unwrap_or_else(|| panic!("no stacks in {report}"))
        .iter()
        .find(|s| s["stack"] == stack)
        .and_then(|s| s["outcome"].as_str())
        .unwrap_or_else(|| panic!("{stack} not in {report}"))
        .to_owned()
}

fn role_names(moto: &Moto) -> Vec<String> {
    let roles = moto.aws(&["iam", "list-roles"]);
    roles["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RoleName"].as_str().unwrap().to_owned())
        .collect()
}

/// A role's inline policy names, as IAM holds them, sorted.
fn policy_names(moto: &Moto, role: &str) -> Vec<String> {
    let names = moto.aws(&["iam", "list-role-policies", "--role-name", role]);
    let mut names: Vec<String> = names["PolicyNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// (Sid, actions, resources) of a policy's statements.
type Grants = Vec<(String, Vec<String>, Vec<String>)>;

/// The statements of a role's secret policy, as IAM holds them, sorted.
fn secret_grants(moto: &Moto, role: &str) -> Grants {
    // The instance role's table access, and the role's own secrets.
    assert_eq!(
        policy_names(moto, role),
        ["dynamodb-system-tables", "secrets-and-traces"],
        "{role}"
    );
    let policy = moto.aws(&[
        "iam",
        "get-role-policy",
        "--role-name",
        role,
        "--policy-name",
        "secrets-and-traces",
    ]);
    let strings = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
            }
            x => vec![x.as_str().unwrap().to_owned()],
        }
    };
    let document = policy_document(&policy["PolicyDocument"]);
    let mut out: Grants = document["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("{policy}"))
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow", "{s}");
            assert!(s.get("Condition").is_none(), "no key named: {s}");
            (
                s["Sid"].as_str().unwrap().to_owned(),
                strings(&s["Action"]),
                strings(&s["Resource"]),
            )
        })
        .collect();
    out.sort();
    out
}

/// A role policy's document as the CLI returns it. moto 5.2.5 keeps the
/// inline policies of a role its CloudFormation created as the text of a
/// Python dict (single quotes), which the CLI passes through as a string;
/// IAM returns (and the CLI decodes) JSON.
fn policy_document(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(text) => serde_json::from_str(text)
            .or_else(|_| serde_json::from_str(&text.replace('\'', "\"")))
            .unwrap_or_else(|e| panic!("not a policy document ({e}): {text}")),
        doc => doc.clone(),
    }
}

/// The service template apprun would deploy for dev (the service stack is
/// not deployable on moto).
fn service_template(dir: &Path) -> serde_json::Value {
    let out = dir.join("synth");
    let o = apprun(
        dir,
        &[
            "synth",
            "--env",
            "dev",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(out.join("service-web.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (variables, secrets) of the App Runner service: name → value.
/// (name, value) pairs of a service's variables or secrets.
type Pairs = Vec<(String, String)>;

fn runtime_of(template: &serde_json::Value) -> (Pairs, Pairs) {
    let service = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Type"] == "AWS::AppRunner::Service")
        .expect("an App Runner service");
    let image =
        &service["Properties"]["SourceConfiguration"]["ImageRepository"]["ImageConfiguration"];
    let pairs = |key: &str| -> Pairs {
        image[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        let value = match &p["Value"] {
                            serde_json::Value::String(s) => s.clone(),
                            // A Sub: its template text.
                            v => v["Fn::Sub"].as_str().unwrap_or_default().to_owned(),
                        };
                        (p["Name"].as_str().unwrap().to_owned(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        pairs("RuntimeEnvironmentVariables"),
        pairs("RuntimeEnvironmentSecrets"),
    )
}

fn diff(moto: &Moto, dir: &Path, stack: &str) -> serde_json::Value {
    let o = moto.apprun(
        dir,
        &["diff", "--env", "dev", "--stack", stack, "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    json(&o)
}

/// (action, resource type) of a stack's changes in a diff.
fn changes(diff: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = diff["stacks"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["resource_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The statements of a role's secret policy in the IAM stack's template as
/// moto's CloudFormation holds it (resources as written: `Sub` text),
/// sorted; the role found by its name.
fn template_grants(moto: &Moto, role: &str) -> Grants {
    let t = moto.aws(&["cloudformation", "get-template", "--stack-name", IAM]);
    let body = match &t["TemplateBody"] {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let template = apprun_template::parse_template(&body).unwrap();
    let text = |v: &Value| -> String {
        match v {
            Value::Fn(f) => match f.as_ref() {
                Intrinsic::Sub { template, .. } => template.to_string(),
                other => format!("{other:?}"),
            },
            other => other.as_str().unwrap_or_default().to_owned(),
        }
    };
    let texts = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::List(items)) => items.iter().map(text).collect(),
            Some(v) => vec![text(v)],
            None => Vec::new(),
        }
    };
    let r = template
        .resources
        .values()
        .find(|r| r.properties.get("RoleName").and_then(Value::as_str) == Some(role))
        .unwrap_or_else(|| panic!("no role {role} in {body}"));
    let Some(Value::List(policies)) = r.properties.get("Policies") else {
        panic!("{role} has no policies");
    };
    let own = policies
        .iter()
        .find(|p| p.get("PolicyName").and_then(Value::as_str) == Some("secrets-and-traces"))
        .unwrap_or_else(|| panic!("{role} has no policy of its own"));
    let Some(Value::List(statements)) = own.get("PolicyDocument").and_then(|d| d.get("Statement"))
    else {
        panic!("{role}: no statements");
    };
    let mut out: Grants = statements
        .iter()
        .map(|st| {
            (
                st.get("Sid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                texts(st.get("Action")),
                texts(st.get("Resource")),
            )
        })
        .collect();
    out.sort();
    out
}

const DEV_SECRET: &str =
    "[env.dev.services.web]\nsecrets = { DB_PASSWORD = \"ssm:/apprunner-nuxt3/db-password\" }\n";
const TWO_SECRETS: &str = "[services.web.secrets]\nDB_PASSWORD = \"ssm:/apprunner-nuxt3/db-password\"\nAPI_TOKEN = \"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-AbC123\"\n";

#[test]
fn secret_and_env_var_changes_follow_the_config_on_moto() {
    let moto = Moto::start();
    let p = project();
    let dir = p.path();
    let parameter =
        format!("arn:aws:ssm:ap-northeast-1:{ACCOUNT}:parameter/apprunner-nuxt3/db-password");
    let read_parameter = (
        "ReadParameters".to_owned(),
        vec!["ssm:GetParameters".to_owned()],
        vec![parameter],
    );

    // 1. One secret, in dev only. dev's web service gets its run role,
    //    granted exactly that parameter; stg (same account) gets its run
    //    role with the shared instance role's permissions and no grant of
    //    its own; prod's account is not this stack's.
    configure(
        dir,
        &format!("[services.web.env]\nLOG_LEVEL = \"info\"\n\n{DEV_SECRET}"),
    );
    let report = deploy_iam(&moto, dir);
    assert_eq!(outcome(&report, IAM), "created", "{report}");
    for env in ACCOUNT_ENVS {
        let role = moto.aws(&["iam", "get-role", "--role-name", &run_role(env)]);
        let trust = role["Role"]["AssumeRolePolicyDocument"].to_string();
        assert!(
            trust.contains("tasks.apprunner.amazonaws.com"),
            "{env}: {trust}"
        );
    }
    assert_eq!(
        secret_grants(&moto, &run_role("dev")),
        std::slice::from_ref(&read_parameter)
    );
    assert_eq!(
        policy_names(&moto, &run_role("stg")),
        ["dynamodb-system-tables"]
    );
    assert!(!role_names(&moto).contains(&run_role("prod")));
    let (vars, secrets) = runtime_of(&service_template(dir));
    assert!(
        vars.contains(&("LOG_LEVEL".into(), "info".into())),
        "{vars:?}"
    );
    assert_eq!(
        secrets,
        [(
            "DB_PASSWORD".to_owned(),
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/apprunner-nuxt3/db-password".to_owned()
        )]
    );

    // 2. Both secrets in every env and a changed variable. diff shows the
    //    IAM stack's roles modified, and the service stack (not on moto) as
    //    one to create with its App Runner service.
    configure(
        dir,
        &format!("[services.web.env]\nLOG_LEVEL = \"debug\"\n\n{TWO_SECRETS}"),
    );
    let d = diff(&moto, dir, "iam");
    assert_eq!(d["changes"], true, "{d}");
    assert_eq!(d["stacks"][0]["outcome"], "changes", "{d}");
    assert!(
        changes(&d).contains(&("modify".to_owned(), "AWS::IAM::Role".to_owned())),
        "{d}"
    );
    let d = diff(&moto, dir, "service-web");
    assert_eq!(d["stacks"][0]["outcome"], "new", "{d}");
    assert!(
        changes(&d).contains(&("add".to_owned(), "AWS::AppRunner::Service".to_owned())),
        "{d}"
    );
    let (vars, secrets) = runtime_of(&service_template(dir));
    assert!(
        vars.contains(&("LOG_LEVEL".into(), "debug".into())),
        "{vars:?}"
    );
    let names: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["API_TOKEN", "DB_PASSWORD"]);
    assert_eq!(
        secrets[0].1,
        "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-AbC123",
        "App Runner reads a secret by its full ARN: {secrets:?}"
    );

    // plan (offline) shows the service's variables and secrets by name,
    // with where each secret is read from.
    let o = apprun(dir, &["plan", "--env", "dev", "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = json(&o);
    let web = &plan["services"][0];
    assert_eq!(web["name"], "web", "{plan}");
    assert!(web["env"].to_string().contains("LOG_LEVEL"), "{web}");
    let planned_secrets = web["secrets"].to_string();
    assert!(
        planned_secrets.contains("API_TOKEN")
            && planned_secrets.contains("secret:apprunner-nuxt3/api-AbC123")
            && planned_secrets.contains("ssm:/apprunner-nuxt3/db-password"),
        "{web}"
    );

    let report = deploy_iam(&moto, dir);
    assert_eq!(outcome(&report, IAM), "updated", "{report}");
    // What the update sent: each env's role grants exactly both.
    for env in ACCOUNT_ENVS {
        assert_eq!(
            template_grants(&moto, &run_role(env)),
            [
                (
                    "ReadParameters".to_owned(),
                    vec!["ssm:GetParameters".to_owned()],
                    vec!["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/apprunner-nuxt3/db-password".to_owned()],
                ),
                (
                    "ReadSecrets".to_owned(),
                    vec!["secretsmanager:GetSecretValue".to_owned()],
                    vec!["arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-AbC123".to_owned()],
                ),
            ],
            "{env}"
        );
    }

    // 3. Deploying the same again makes no write.
    let report = deploy_iam(&moto, dir);
    assert_eq!(outcome(&report, IAM), "unchanged", "{report}");
    assert_eq!(report["mutating_calls"], 0, "calls: {}", report["calls"]);

    // 4. Without secrets in any env the service runs with the shared
    //    instance role again: the run roles are deleted, the shared roles stay.
    configure(dir, "[services.web.env]\nLOG_LEVEL = \"debug\"\n");
    let report = deploy_iam(&moto, dir);
    assert_eq!(outcome(&report, IAM), "updated", "{report}");
    let roles = role_names(&moto);
    for env in ENVS {
        assert!(!roles.contains(&run_role(env)), "{env}: {roles:?}");
    }
    assert!(
        roles.contains(&"apprunner-nuxt3-apprunner-instance".to_owned()),
        "{roles:?}"
    );
    let template = service_template(dir);
    let (_, secrets) = runtime_of(&template);
    assert!(secrets.is_empty(), "{secrets:?}");
    let web = template.to_string();
    assert!(!web.contains("-web-run"), "{web}");
}
