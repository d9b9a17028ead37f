//! Issue 13's keys on the stacks (fixtures/runtime.toml): variables and
//! secrets on both backends, the role that reads exactly those secrets,
//! App Runner auto scaling and tracing, ECS task scaling per env.
//!
//! Resources are found by type and by the names apprun gives them, never by
//! logical id.

use std::collections::BTreeSet;
use std::path::Path;

use apprun_blueprint::{EnvBlueprint, Stack, StackKind, synthesize};
use apprun_config::Config;
use apprun_template::{Intrinsic, Resource, Template, Value};

const FIXTURE: &str = "fixtures/runtime.toml";

fn config(rel: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    Config::load(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn env(name: &str) -> EnvBlueprint {
    synthesize(&config(FIXTURE), name).unwrap()
}

fn stack<'a>(bp: &'a EnvBlueprint, kind: &StackKind) -> &'a Template {
    &bp.stack(kind)
        .unwrap_or_else(|| panic!("no {kind:?} stack"))
        .template
}

fn service_stack<'a>(bp: &'a EnvBlueprint, name: &str) -> &'a Template {
    &bp.service_stack(name).unwrap().template
}

/// The one resource of `kind` in `t`.
fn only<'a>(t: &'a Template, kind: &str) -> &'a Resource {
    let found: Vec<&Resource> = t.resources.values().filter(|r| r.kind == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

fn count(t: &Template, kind: &str) -> usize {
    t.resources.values().filter(|r| r.kind == kind).count()
}

/// The role of the IAM stack named `name`.
fn role<'a>(bp: &'a EnvBlueprint, name: &str) -> &'a Resource {
    stack(bp, &StackKind::Iam)
        .resources
        .values()
        .find(|r| {
            r.kind == "AWS::IAM::Role"
                && r.properties.get("RoleName").and_then(Value::as_str) == Some(name)
        })
        .unwrap_or_else(|| panic!("no role {name}"))
}

/// A string or a `Sub` template as text.
fn text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Fn(f) => match f.as_ref() {
            Intrinsic::Sub { template, .. } => Some(template),
            _ => None,
        },
        _ => None,
    }
}

/// Every text under `v`.
fn texts(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    v.walk(&mut |x| {
        if let Some(t) = text(x) {
            out.push(t.to_owned());
        }
    });
    out
}

/// (stack name, resource type) of every resource whose properties contain
/// a text that contains `needle`.
fn places(bp: &EnvBlueprint, needle: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in &bp.stacks {
        for r in s.template.resources.values() {
            let hit = r
                .properties
                .values()
                .any(|v| texts(v).iter().any(|t| t.contains(needle)));
            if hit {
                out.insert((s.name.clone(), r.kind.to_string()));
            }
        }
        for o in s.template.outputs.values() {
            assert!(
                !texts(&o.value).iter().any(|t| t.contains(needle)),
                "{needle} in an output of {}",
                s.name
            );
        }
    }
    out
}

/// `[{Name, <field>}]` as (name, text) pairs.
fn pairs(list: &Value, field: &str) -> Vec<(String, String)> {
    list.as_list()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p.get("Name").and_then(Value::as_str).unwrap().to_owned(),
                text(p.get(field).unwrap()).unwrap().to_owned(),
            )
        })
        .collect()
}

fn image_configuration(t: &Template) -> &Value {
    only(t, "AWS::AppRunner::Service")
        .properties
        .get("SourceConfiguration")
        .unwrap()
        .get("ImageRepository")
        .and_then(|i| i.get("ImageConfiguration"))
        .unwrap()
}

/// The statements of a role's inline policies.
fn statements(role: &Resource) -> Vec<&Value> {
    role.properties
        .get("Policies")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p.get("PolicyDocument")
                .and_then(|d| d.get("Statement"))
                .and_then(Value::as_list)
                .unwrap()
        })
        .collect()
}

/// The resources of the statements allowing `action`.
fn granted(role: &Resource, action: &str) -> BTreeSet<String> {
    statements(role)
        .into_iter()
        .filter(|s| texts(s.get("Action").unwrap()).iter().any(|a| a == action))
        .flat_map(|s| texts(s.get("Resource").unwrap()))
        .collect()
}

const SSM_DB: &str = "parameter/runtime-demo/db-password";
const SM_API: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime-demo/api-Qw3Rt5";
const SM_SIGNING: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime-demo/signing-AbC123";
const SM_SESSION: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime-demo/prod/session-Zx8Vb2";
const KMS: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SM_DB: &str = "secret:runtime-demo/db";
const SSM_CACHE: &str = "parameter/runtime-demo/cache-url";

#[test]
fn app_runner_gets_its_variables_and_secrets_with_the_envs_over_the_services() {
    for (e, level) in [("dev", "info"), ("prod", "warn")] {
        let bp = env(e);
        let image = image_configuration(service_stack(&bp, "web"));
        let vars = pairs(image.get("RuntimeEnvironmentVariables").unwrap(), "Value");
        let expected: Vec<(String, String)> = [
            ("ENV", e),
            ("SYSTEM_ID", "runtime-demo"),
            ("FEATURE_FLAGS", "search,export"),
            ("LOG_LEVEL", level),
            ("WORKERS", "4"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(vars, expected, "{e}");
        let secrets = pairs(image.get("RuntimeEnvironmentSecrets").unwrap(), "Value");
        let names: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
        let mut want = vec!["API_CREDENTIAL", "DB_PASSWORD", "SIGNING_SEED"];
        if e == "prod" {
            want.insert(2, "SESSION_KEY");
        }
        assert_eq!(names, want, "{e}: sorted, prod adds its own");
        let value = |n: &str| secrets.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(
            value("DB_PASSWORD"),
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/runtime-demo/db-password"
        );
        assert_eq!(
            value("API_CREDENTIAL"),
            format!("{SM_API}:token::"),
            "a JSON key in the ECS form, on the full ARN"
        );
        assert_eq!(value("SIGNING_SEED"), SM_SIGNING);
    }
}

#[test]
fn each_service_reads_exactly_its_secrets_with_a_role_of_its_own() {
    let prod = env("prod");
    let web = role(&prod, "runtime-demo-prod-web-run");
    let service = only(service_stack(&prod, "web"), "AWS::AppRunner::Service");
    let instance_role = text(
        service
            .properties
            .get("InstanceConfiguration")
            .unwrap()
            .get("InstanceRoleArn")
            .unwrap(),
    );
    assert!(
        instance_role.is_some_and(|r| r.ends_with(":role/runtime-demo-prod-web-run")),
        "{instance_role:?}"
    );
    assert_eq!(
        granted(web, "ssm:GetParameters"),
        BTreeSet::from([format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:{SSM_DB}"
        )])
    );
    assert_eq!(
        granted(web, "secretsmanager:GetSecretValue"),
        BTreeSet::from([
            SM_API.to_owned(),
            SM_SESSION.to_owned(),
            SM_SIGNING.to_owned(),
        ]),
        "App Runner names complete ARNs: each matches only itself"
    );
    assert_eq!(
        granted(web, "kms:Decrypt"),
        BTreeSet::from([KMS.to_owned()])
    );
    let decrypt = statements(web)
        .into_iter()
        .find(|s| {
            texts(s.get("Action").unwrap())
                .iter()
                .any(|a| a == "kms:Decrypt")
        })
        .unwrap();
    assert_eq!(
        texts(
            decrypt
                .get("Condition")
                .unwrap()
                .get("StringEquals")
                .unwrap()
                .get("kms:ViaService")
                .unwrap()
        ),
        vec!["secretsmanager.eu-west-1.${AWS::URLSuffix}"],
        "the key decrypts only through Secrets Manager, in the secret's region"
    );
    // The role keeps what the shared instance role grants.
    assert!(
        granted(web, "dynamodb:GetItem")
            .iter()
            .any(|r| r.contains(":table/runtime-demo*"))
    );
    assert!(
        texts(web.properties.get("AssumeRolePolicyDocument").unwrap())
            .contains(&"tasks.apprunner.amazonaws.com".to_owned())
    );
    // dev's role has no prod secret.
    let dev = env("dev");
    let dev_web = role(&dev, "runtime-demo-dev-web-run");
    assert!(
        !granted(dev_web, "secretsmanager:GetSecretValue")
            .iter()
            .any(|r| r.contains(SM_SESSION))
    );
}

/// The fixture with `[env.prod]` deployed to another account.
fn prod_elsewhere() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "[env.prod]\n",
        "[env.prod]\naccount = \"111111111111\"\n",
        1,
    );
    assert!(text.contains("account = \"111111111111\""));
    Config::parse(&text, path).unwrap_or_else(|e| panic!("{e}"))
}

/// The `RoleName`s of the IAM stack's roles ending in `-run`, sorted.
fn own_roles(bp: &EnvBlueprint) -> Vec<String> {
    let mut out: Vec<String> = stack(bp, &StackKind::Iam)
        .resources
        .values()
        .filter(|r| r.kind == "AWS::IAM::Role")
        .filter_map(|r| r.properties.get("RoleName").and_then(Value::as_str))
        .filter(|n| n.ends_with("-run"))
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

#[test]
fn every_secret_is_named_in_its_service_and_its_role_and_nowhere_else() {
    // One account (the fixture) and prod in an account of its own: the IAM
    // stack of an env holds the roles of the envs of ITS account only, so
    // with prod elsewhere dev's IAM stack names no prod secret at all.
    for (layout, c) in [
        ("one account", config(FIXTURE)),
        ("prod elsewhere", prod_elsewhere()),
    ] {
        let shared = layout == "one account";
        for e in ["dev", "prod"] {
            let bp = synthesize(&c, e).unwrap();
            let iam = bp.stack(&StackKind::Iam).unwrap().name.clone();
            let web = bp.service_stack("web").unwrap().name.clone();
            let api = bp.service_stack("api").unwrap().name.clone();
            // The envs whose roles this env's IAM stack holds.
            let account_envs: &[&str] = match (shared, e) {
                (true, _) => &["dev", "prod"],
                (false, "dev") => &["dev"],
                (false, _) => &["prod"],
            };
            let mut cases = vec![
                (SSM_DB, &web, "AWS::AppRunner::Service"),
                (SM_API, &web, "AWS::AppRunner::Service"),
                (SM_SIGNING, &web, "AWS::AppRunner::Service"),
                (SM_DB, &api, "AWS::ECS::ExpressGatewayService"),
                (SSM_CACHE, &api, "AWS::ECS::ExpressGatewayService"),
            ];
            if e == "prod" {
                cases.push((SM_SESSION, &web, "AWS::AppRunner::Service"));
            }
            for (secret, service_stack, kind) in cases {
                let found = places(&bp, secret);
                let expected = BTreeSet::from([
                    (service_stack.clone(), kind.to_owned()),
                    (iam.clone(), "AWS::IAM::Role".to_owned()),
                ]);
                assert_eq!(found, expected, "{layout} {e}: {secret}");
                // ... and, in the account's IAM stack, in the own role of
                // that service in each env of the account that uses the
                // secret: a service-level secret in every such env's role,
                // prod's own only in prod's.
                let roles: Vec<&str> = stack(&bp, &StackKind::Iam)
                    .resources
                    .values()
                    .filter(|r| {
                        r.properties
                            .values()
                            .any(|v| texts(v).iter().any(|t| t.contains(secret)))
                    })
                    .filter_map(|r| r.properties.get("RoleName").and_then(Value::as_str))
                    .collect();
                let svc = if kind.contains("ECS") { "api" } else { "web" };
                let expected: Vec<String> = account_envs
                    .iter()
                    .filter(|env| secret != SM_SESSION || **env == "prod")
                    .map(|env| format!("runtime-demo-{env}-{svc}-run"))
                    .collect();
                assert_eq!(roles, expected, "{layout} {e}: {secret}");
            }
            if e == "dev" {
                let expected = if shared {
                    BTreeSet::from([(iam.clone(), "AWS::IAM::Role".to_owned())])
                } else {
                    BTreeSet::new()
                };
                assert_eq!(
                    places(&bp, SM_SESSION),
                    expected,
                    "{layout}: prod's secret stays out of dev's service; only prod's role names it, in prod's account"
                );
            }
        }
    }
}

#[test]
fn an_iam_stack_holds_the_run_roles_of_its_own_account_and_passes_only_those() {
    let c = prod_elsewhere();
    for (e, other) in [("dev", "prod"), ("prod", "dev")] {
        let bp = synthesize(&c, e).unwrap();
        assert_eq!(
            own_roles(&bp),
            vec![
                format!("runtime-demo-{e}-api-run"),
                format!("runtime-demo-{e}-web-run"),
            ],
            "{e}: its own account's roles only"
        );
        // No statement of the IAM stack (the pipeline role's PassRole
        // included) names the other account's roles.
        let iam = stack(&bp, &StackKind::Iam);
        let named: Vec<String> = iam
            .resources
            .values()
            .flat_map(|r| r.properties.values().flat_map(texts))
            .filter(|t| t.contains(&format!("runtime-demo-{other}-")) && t.ends_with("-run"))
            .collect();
        assert!(named.is_empty(), "{e}: {named:?}");
        // The service stacks still run with the env's own roles.
        let web = only(service_stack(&bp, "web"), "AWS::AppRunner::Service");
        let role = text(
            web.properties
                .get("InstanceConfiguration")
                .unwrap()
                .get("InstanceRoleArn")
                .unwrap(),
        )
        .unwrap();
        assert!(
            role.ends_with(&format!(":role/runtime-demo-{e}-web-run")),
            "{role}"
        );
    }
    // In one account, both envs' IAM stacks are the same stack: the same roles.
    let c = config(FIXTURE);
    let dev = synthesize(&c, "dev").unwrap();
    let prod = synthesize(&c, "prod").unwrap();
    assert_eq!(own_roles(&dev), own_roles(&prod));
    assert_eq!(own_roles(&dev).len(), 4);
}

/// The fixture with prod's tracing and prod's own secret only: `web` gets
/// rid of its service-level secrets, `api` of all its secrets.
fn only_prod_needs_a_role(prod_account: Option<&str>) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line == "[services.web.secrets]" || line == "[services.api.secrets]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
            if line == "[env.prod]"
                && let Some(a) = prod_account
            {
                out.push_str(&format!("account = \"{a}\"\n"));
            }
        }
    }
    Config::parse(&out, path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_service_runs_with_its_own_role_in_every_env_of_an_account_where_one_env_needs_it() {
    // Same account: prod reads a secret and traces, dev does neither, yet
    // dev's web runs with a role of its own too (so that removing prod's
    // secret, or dev's, never deletes a role a running service uses). Its
    // role has the shared instance role's permissions and no grant.
    let c = only_prod_needs_a_role(None);
    let dev = synthesize(&c, "dev").unwrap();
    assert_eq!(
        own_roles(&dev),
        vec![
            "runtime-demo-dev-web-run".to_owned(),
            "runtime-demo-prod-web-run".to_owned(),
        ],
        "api has no secret in any env: no role"
    );
    let dev_web = role(&dev, "runtime-demo-dev-web-run");
    let actions: BTreeSet<String> = statements(dev_web)
        .into_iter()
        .flat_map(|s| texts(s.get("Action").unwrap()))
        .collect();
    assert!(
        actions.iter().all(|a| a.starts_with("dynamodb:")),
        "dev's role grants no secret or trace: {actions:?}"
    );
    let prod_web = role(&dev, "runtime-demo-prod-web-run");
    assert_eq!(
        granted(prod_web, "secretsmanager:GetSecretValue"),
        BTreeSet::from([SM_SESSION.to_owned()])
    );
    let instance = |bp: &EnvBlueprint| {
        text(
            only(service_stack(bp, "web"), "AWS::AppRunner::Service")
                .properties
                .get("InstanceConfiguration")
                .unwrap()
                .get("InstanceRoleArn")
                .unwrap(),
        )
        .map(str::to_owned)
    };
    assert!(
        instance(&dev).is_some_and(|r| r.ends_with(":role/runtime-demo-dev-web-run")),
        "{:?}",
        instance(&dev)
    );
    let api = only(
        service_stack(&dev, "api"),
        "AWS::ECS::ExpressGatewayService",
    );
    assert!(
        matches!(api.properties.get("ExecutionRoleArn").unwrap(), Value::Fn(f) if matches!(f.as_ref(), Intrinsic::ImportValue(_))),
        "api keeps the shared execution role"
    );
    // prod in another account: dev's account has no env that needs one.
    let c = only_prod_needs_a_role(Some("111111111111"));
    let dev = synthesize(&c, "dev").unwrap();
    assert!(own_roles(&dev).is_empty(), "{:?}", own_roles(&dev));
    assert!(
        instance(&dev).is_none(),
        "dev's web imports the shared instance role"
    );
    let prod = synthesize(&c, "prod").unwrap();
    assert_eq!(
        own_roles(&prod),
        vec!["runtime-demo-prod-web-run".to_owned()]
    );
}

#[test]
fn ecs_express_takes_secrets_with_json_keys_and_the_envs_task_scaling() {
    for (e, min, max, metric, target) in [
        ("dev", 1, 3, "AVERAGE_CPU", 60),
        ("prod", 2, 6, "REQUEST_COUNT_PER_TARGET", 200),
    ] {
        let bp = env(e);
        let service = only(service_stack(&bp, "api"), "AWS::ECS::ExpressGatewayService");
        let container = &service.properties.get("PrimaryContainer").unwrap();
        assert_eq!(
            pairs(container.get("Environment").unwrap(), "Value")[2..],
            [("LOG_LEVEL".to_owned(), "info".to_owned())]
        );
        let secrets = pairs(container.get("Secrets").unwrap(), "ValueFrom");
        assert_eq!(
            secrets,
            vec![
                (
                    "CACHE_URL".to_owned(),
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/runtime-demo/cache-url".to_owned()
                ),
                (
                    "DB_PASS".to_owned(),
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:runtime-demo/db-Xy9Z8w:password::"
                        .to_owned()
                ),
                (
                    "DB_USER".to_owned(),
                    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:runtime-demo/db:username::"
                        .to_owned()
                ),
            ]
        );
        let execution = text(service.properties.get("ExecutionRoleArn").unwrap()).unwrap();
        assert!(
            execution.ends_with(&format!(":role/runtime-demo-{e}-api-run")),
            "{execution}"
        );
        let own = role(&bp, &format!("runtime-demo-{e}-api-run"));
        assert!(
            texts(own.properties.get("ManagedPolicyArns").unwrap())
                .iter()
                .any(|p| p.ends_with("AmazonECSTaskExecutionRolePolicy")),
            "the own execution role still pulls the image and writes logs"
        );
        assert!(
            texts(own.properties.get("AssumeRolePolicyDocument").unwrap())
                .contains(&"ecs-tasks.amazonaws.com".to_owned())
        );
        let scaling = &service.properties.get("ScalingTarget").unwrap();
        assert_eq!(
            scaling.get("MinTaskCount").unwrap(),
            &Value::Int(min),
            "{e}"
        );
        assert_eq!(
            scaling.get("MaxTaskCount").unwrap(),
            &Value::Int(max),
            "{e}"
        );
        assert_eq!(
            scaling.get("AutoScalingMetric").unwrap().as_str(),
            Some(metric),
            "{e}"
        );
        assert_eq!(
            scaling.get("AutoScalingTargetValue").unwrap(),
            &Value::Int(target),
            "{e}"
        );
        // The key decrypts the secret only through Secrets Manager in its region.
        let decrypt = statements(own)
            .into_iter()
            .find(|s| {
                texts(s.get("Action").unwrap())
                    .iter()
                    .any(|a| a == "kms:Decrypt")
            })
            .unwrap();
        assert_eq!(
            texts(
                decrypt
                    .get("Condition")
                    .unwrap()
                    .get("StringEquals")
                    .unwrap()
                    .get("kms:ViaService")
                    .unwrap()
            ),
            vec!["secretsmanager.eu-west-1.${AWS::URLSuffix}"]
        );
    }
}

#[test]
fn app_runner_scaling_bounds_and_tracing_per_env() {
    for (e, min, max, concurrency, tracing) in
        [("dev", 1, 4, 80, false), ("prod", 2, 10, 100, true)]
    {
        let bp = env(e);
        let t = service_stack(&bp, "web");
        let scaling = only(t, "AWS::AppRunner::AutoScalingConfiguration");
        let p = &scaling.properties;
        assert_eq!(
            (
                p.get("MinSize").unwrap(),
                p.get("MaxSize").unwrap(),
                p.get("MaxConcurrency").unwrap()
            ),
            (&Value::Int(min), &Value::Int(max), &Value::Int(concurrency)),
            "{e}"
        );
        let name = p
            .get("AutoScalingConfigurationName")
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(name, format!("runtime-demo-{e}-web"));
        assert!((4..=32).contains(&name.len()));
        let service = only(t, "AWS::AppRunner::Service");
        let arn = service
            .properties
            .get("AutoScalingConfigurationArn")
            .unwrap();
        let (logical, _) = t
            .resources
            .iter()
            .find(|(_, r)| std::ptr::eq(*r, scaling))
            .unwrap();
        assert!(
            matches!(arn, Value::Fn(f) if matches!(f.as_ref(), Intrinsic::GetAtt { resource, attribute } if resource == logical && attribute == "AutoScalingConfigurationArn")),
            "{arn:?}"
        );
        assert_eq!(
            count(t, "AWS::AppRunner::ObservabilityConfiguration"),
            usize::from(tracing),
            "{e}"
        );
        let own = role(&bp, &format!("runtime-demo-{e}-web-run"));
        let traces = granted(own, "xray:PutTraceSegments");
        if tracing {
            let o = only(t, "AWS::AppRunner::ObservabilityConfiguration");
            assert_eq!(
                o.properties
                    .get("TraceConfiguration")
                    .unwrap()
                    .get("Vendor")
                    .unwrap()
                    .as_str(),
                Some("AWSXRAY")
            );
            let obs = service
                .properties
                .get("ObservabilityConfiguration")
                .unwrap();
            assert_eq!(obs.get("ObservabilityEnabled").unwrap(), &Value::Bool(true));
            assert!(matches!(
                &obs.get("ObservabilityConfigurationArn").unwrap(),
                Value::Fn(_)
            ));
            assert_eq!(
                traces,
                BTreeSet::from(["*".to_owned()]),
                "X-Ray write has no resource types"
            );
        } else {
            // Stated off, not left out: UpdateService keeps what it is not
            // given, so a service that traced before would go on tracing.
            let obs = service
                .properties
                .get("ObservabilityConfiguration")
                .unwrap();
            assert_eq!(
                obs.get("ObservabilityEnabled").unwrap(),
                &Value::Bool(false)
            );
            assert!(
                !obs.as_map()
                    .unwrap()
                    .contains_key("ObservabilityConfigurationArn")
            );
            assert!(traces.is_empty(), "no X-Ray grant without tracing");
        }
    }
}

#[test]
fn the_pipeline_may_pass_each_own_role_to_its_backend_only() {
    let bp = env("prod");
    let iam = stack(&bp, &StackKind::Iam);
    let pass: Vec<(Vec<String>, Vec<String>)> = iam
        .resources
        .values()
        .flat_map(|r| {
            let mut docs = Vec::new();
            if let Some(Value::List(ps)) = r.properties.get("Policies") {
                docs.extend(ps.iter().filter_map(|p| p.get("PolicyDocument")));
            }
            docs.extend(r.properties.get("PolicyDocument"));
            docs
        })
        .flat_map(|d| d.get("Statement").unwrap().as_list().unwrap().iter())
        .filter(|s| texts(s.get("Action").unwrap()).contains(&"iam:PassRole".to_owned()))
        .map(|s| {
            (
                texts(s.get("Resource").unwrap()),
                s.get("Condition").map(texts).unwrap_or_default(),
            )
        })
        .collect();
    for (name, service) in [
        ("runtime-demo-prod-web-run", "apprunner.amazonaws.com"),
        ("runtime-demo-dev-web-run", "apprunner.amazonaws.com"),
        ("runtime-demo-prod-api-run", "ecs-tasks.amazonaws.com"),
    ] {
        let statements: Vec<&(Vec<String>, Vec<String>)> = pass
            .iter()
            .filter(|(res, _)| res.iter().any(|r| r.ends_with(&format!(":role/{name}"))))
            .collect();
        assert_eq!(statements.len(), 1, "{name}");
        assert!(
            statements[0].1.contains(&service.to_owned()),
            "{name}: {:?}",
            statements[0].1
        );
    }
}

#[test]
fn configs_without_the_keys_get_no_new_resources() {
    for (rel, e) in [("apprun.toml", "dev"), ("fixtures/express.toml", "prod")] {
        let c = config(rel);
        let bp = synthesize(&c, e).unwrap();
        let all: Vec<&Stack> = bp.stacks.iter().collect();
        for s in all {
            for kind in [
                "AWS::AppRunner::AutoScalingConfiguration",
                "AWS::AppRunner::ObservabilityConfiguration",
            ] {
                assert_eq!(count(&s.template, kind), 0, "{rel} {}", s.name);
            }
            assert!(
                !s.template.resources.values().any(|r| r
                    .properties
                    .get("RoleName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.ends_with("-run"))),
                "{rel}: no own roles"
            );
        }
        let settings = c.service_settings(e, "web").unwrap();
        assert!(settings.runtime.env.is_empty() && settings.runtime.secrets.is_empty());
        assert_eq!(settings.app_runner_scaling, None);
    }
}

#[test]
fn an_app_runner_service_with_a_domain_outputs_it_unexported() {
    let prod = env("prod");
    let t = service_stack(&prod, "web");
    let o = t.outputs.get("CustomDomain").expect("CustomDomain output");
    assert_eq!(o.value.as_str(), Some("app.example.com"));
    assert!(
        o.export.is_none(),
        "read by apprun from the stack, not imported"
    );
    let dev = env("dev");
    assert!(
        !service_stack(&dev, "web")
            .outputs
            .contains_key("CustomDomain")
    );
    assert!(
        !service_stack(&prod, "api")
            .outputs
            .contains_key("CustomDomain")
    );
}
