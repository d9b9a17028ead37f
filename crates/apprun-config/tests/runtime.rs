//! `env`, `secrets`, `[env.NAME.services.SERVICE]` (overrides, `domain`,
//! `hosted_zone`, App Runner auto scaling, `tracing`): what loads and every
//! error, with its file, line and key.

use apprun_config::{
    AppRunnerScaling, Compute, Config, ConfigError, LoadError, ScaleOn, SecretStore,
};

/// An App Runner service `web` and an ECS Express service `api`; tests append
/// tables to it.
const BASE: &str = r#"[system]
id = "rt"
region = "eu-west-1"

[source]
type = "codecommit"
repository = "rt"

[services.web]
port = 3000

[services.api]
compute = "ecs-express"
port = 8080
min_tasks = 1
max_tasks = 4

[env.dev]
network = "10.0.0.0/24"
branch = "main"
cpu = "1 vCPU"
memory = "2 GB"

[env.prod]
network = "10.0.1.0/24"
branch = "prod"
cpu = "1 vCPU"
memory = "2 GB"
"#;

fn with(extra: &str) -> String {
    format!("{BASE}\n{extra}")
}

fn load(text: &str) -> Config {
    Config::parse(text, "apprun.toml").unwrap_or_else(|e| match e {
        LoadError::Invalid { errors, .. } => panic!("{errors:#?}"),
        other => panic!("{other}"),
    })
}

fn errors(text: &str) -> Vec<ConfigError> {
    match Config::parse(text, "apprun.toml") {
        Err(LoadError::Invalid { errors, .. }) => errors,
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("config was accepted:\n{text}"),
    }
}

/// The 1-based line of the first line of `text` after the base config
/// containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let skip = BASE.lines().count();
    text.lines()
        .skip(skip)
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the config"))
        + 1
        + skip
}

/// The single error of `extra`: at the line holding `at`, for `key`; its
/// message must contain every one of `says`.
fn one_error(extra: &str, at: &str, key: &str, says: &[&str]) {
    let text = with(extra);
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let e = &errs[0];
    let line = line_of(&text, at);
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(
        e.to_string().starts_with(&format!("apprun.toml:{line}:")),
        "{e}"
    );
    for s in says {
        assert!(e.message.contains(s), "{s:?} not in: {}", e.message);
    }
}

#[test]
fn variables_and_secrets_merge_per_env() {
    let c = load(&with(
        r#"[services.web.env]
LOG_LEVEL = "info"
WORKERS = 4
DEBUG = false

[services.web.secrets]
DB_PASSWORD = "ssm:/rt/db-password"
API_CREDENTIAL = { secretsmanager = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rt/api-AbC123", kms_key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }

[env.prod.services.web]
env = { LOG_LEVEL = "warn" }
secrets = { SESSION = "arn:aws:ssm:eu-west-1:123456789012:parameter/rt/session" }
"#,
    ));
    let dev = c.service_settings("dev", "web").unwrap();
    let prod = c.service_settings("prod", "web").unwrap();
    assert_eq!(dev.runtime.env["LOG_LEVEL"], "info");
    assert_eq!(prod.runtime.env["LOG_LEVEL"], "warn");
    assert_eq!(prod.runtime.env["WORKERS"], "4");
    assert_eq!(prod.runtime.env["DEBUG"], "false");
    assert_eq!(
        dev.runtime.secrets.keys().collect::<Vec<_>>(),
        ["API_CREDENTIAL", "DB_PASSWORD"]
    );
    assert_eq!(
        prod.runtime.secrets.keys().collect::<Vec<_>>(),
        ["API_CREDENTIAL", "DB_PASSWORD", "SESSION"]
    );
    let db = &dev.runtime.secrets["DB_PASSWORD"];
    assert_eq!(
        (db.store, db.id.as_str()),
        (SecretStore::Ssm, "/rt/db-password")
    );
    let api = &dev.runtime.secrets["API_CREDENTIAL"];
    assert_eq!(api.store, SecretStore::SecretsManager);
    assert!(api.kms_key.as_deref().is_some_and(|k| k.contains(":key/")));
    assert_eq!(prod.runtime.secrets["SESSION"].name(), "/rt/session");
    assert!(dev.needs_own_role() && prod.needs_own_role());
    // The ECS service has none of it.
    let api = c.service_settings("prod", "api").unwrap();
    assert!(api.runtime.env.is_empty() && !api.needs_own_role());
    assert!(c.service_settings("prod", "nope").is_none());
    assert!(c.service_settings("qa", "web").is_none());
}

#[test]
fn scaling_tracing_and_domain_per_env() {
    let text = BASE.replacen(
        "[services.web]\nport = 3000\n",
        "[services.web]\nport = 3000\nmax_concurrency = 50\n",
        1,
    ) + r#"
[env.prod.services.web]
domain = "app.example.com"
hosted_zone = "Z0123456789ABC"
min_instances = 2
max_instances = 10
tracing = true

[env.prod.services.api]
min_tasks = 2
scale_on = "requests"
"#;
    let c = load(&text);
    let dev = c.service_settings("dev", "web").unwrap();
    assert_eq!(
        dev.app_runner_scaling,
        Some(AppRunnerScaling {
            min_instances: 1,
            max_instances: 25,
            max_concurrency: 50
        }),
        "App Runner's defaults fill the keys not given"
    );
    assert!(!dev.tracing && dev.domain.is_none());
    let prod = c.service_settings("prod", "web").unwrap();
    assert_eq!(
        prod.app_runner_scaling,
        Some(AppRunnerScaling {
            min_instances: 2,
            max_instances: 10,
            max_concurrency: 50
        })
    );
    assert!(prod.tracing);
    let d = prod.domain.as_ref().unwrap();
    assert_eq!(
        (d.name.as_str(), d.hosted_zone.as_deref()),
        ("app.example.com", Some("Z0123456789ABC"))
    );
    let api_dev = c.service_settings("dev", "api").unwrap().scaling;
    let api_prod = c.service_settings("prod", "api").unwrap().scaling;
    assert_eq!(
        (api_dev.min_tasks, api_dev.max_tasks, api_dev.on),
        (1, 4, ScaleOn::Cpu)
    );
    assert_eq!(
        (
            api_prod.min_tasks,
            api_prod.max_tasks,
            api_prod.on,
            api_prod.target
        ),
        (2, 4, ScaleOn::Requests, 100),
        "the env's metric gets its own default target"
    );
    assert_eq!(c.services["api"].compute, Compute::EcsExpress);
}

#[test]
fn a_secret_looking_plain_variable_is_apr_secret_001() {
    one_error(
        "[services.web.env]\nSTRIPE_API_KEY = \"sk_live_x\"\n",
        "STRIPE_API_KEY",
        "services.web.env.STRIPE_API_KEY",
        &["APR-SECRET-001", "(KEY)", "[services.web.secrets]"],
    );
    one_error(
        "[env.prod.services.web]\nenv = { DB_PASSWORD = \"x\" }\n",
        "DB_PASSWORD",
        "env.prod.services.web.env.DB_PASSWORD",
        &["APR-SECRET-001", "[env.prod.services.web.secrets]"],
    );
}

#[test]
fn variable_names_and_reserved_names() {
    one_error(
        "[services.web.env]\n\"1X\" = \"a\"\n",
        "1X",
        "services.web.env.1X",
        &["not a variable name"],
    );
    one_error(
        "[services.web.env]\nENV = \"a\"\n",
        "ENV = ",
        "services.web.env.ENV",
        &["set by apprun"],
    );
    one_error(
        "[services.web.secrets]\nAWSAPPRUNNER_X = \"ssm:/rt/x\"\n",
        "AWSAPPRUNNER_X",
        "services.web.secrets.AWSAPPRUNNER_X",
        &["prefix App Runner keeps"],
    );
    one_error(
        "[services.web.env]\nPORT = \"8080\"\n",
        "PORT",
        "services.web.env.PORT",
        &["reserved by App Runner"],
    );
    // ECS has no such reservation.
    load(&with("[services.api.env]\nPORT = \"8080\"\n"));
    one_error(
        "[services.api.env]\nAWS_CONTAINER_CREDENTIALS_RELATIVE_URI = \"/x\"\n",
        "AWS_CONTAINER",
        "services.api.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        &["container platform"],
    );
    one_error(
        "[services.web.env]\nLEVELS = [\"a\"]\n",
        "LEVELS",
        "services.web.env.LEVELS",
        &["value is text"],
    );
}

#[test]
fn a_variable_in_env_and_secrets() {
    one_error(
        "[services.web.env]\nDB_URL = \"x\"\n[services.web.secrets]\nDB_URL = \"ssm:/rt/db\"\n",
        "DB_URL = \"ssm",
        "services.web.secrets.DB_URL",
        &["also a plain variable", "not both"],
    );
    one_error(
        "[services.web.env]\nDB_URL = \"x\"\n[env.prod.services.web]\nsecrets = { DB_URL = \"ssm:/rt/db\" }\n",
        "secrets = { DB_URL",
        "env.prod.services.web.secrets.DB_URL",
        &["both a plain variable (services.web.env.DB_URL)"],
    );
}

#[test]
fn secret_references() {
    one_error(
        "[services.web.secrets]\nDB = \"/rt/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["not a secret reference", "ssm:NAME", "secretsmanager:NAME"],
    );
    one_error(
        "[services.web.secrets]\nDB = \"ssm:rt/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["without its leading `/`"],
    );
    one_error(
        "[services.web.secrets]\nDB = \"ssm:/aws/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["reserves"],
    );
    one_error(
        "[services.web.secrets]\nDB = \"arn:aws:ssm:eu-west-1:1234:parameter/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["not an SSM parameter ARN"],
    );
    one_error(
        "[services.web.secrets]\nDB = \"secretsmanager:rt/db-AbC123\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["full ARN"],
    );
    one_error(
        "[services.web.secrets]\nDB = \"secretsmanager:rt db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["not a Secrets Manager secret name"],
    );
    one_error(
        "[services.web.secrets]\nDB = { ssm = \"/rt/a\", secretsmanager = \"rt/b\" }\n",
        "DB = ",
        "services.web.secrets.DB",
        &["exactly one of `ssm` and `secretsmanager`"],
    );
    one_error(
        "[services.web.secrets]\nDB = { ssm = \"/rt/a\", version = 2 }\n",
        "DB = ",
        "services.web.secrets.DB.version",
        &["unknown key `version`", "`kms_key`"],
    );
    one_error(
        "[services.api.secrets]\nDB = { ssm = \"/rt/a\", key = \"user\" }\n",
        "DB = ",
        "services.api.secrets.DB.key",
        &["SSM parameter has no keys"],
    );
    one_error(
        "[services.web.secrets]\nDB = { ssm = \"/rt/a\", kms_key = \"arn:aws:kms:eu-west-1:123456789012:alias/rt\" }\n",
        "DB = ",
        "services.web.secrets.DB.kms_key",
        &["not a KMS key ARN", "alias"],
    );
}

#[test]
fn a_json_key_on_either_backend() {
    let c = load(&with(
        "[services.api.secrets]\nDB_USER = { secretsmanager = \"rt/db\", key = \"username\" }\n[services.web.secrets]\nDB_USER = { secretsmanager = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rt/db-AbC123\", key = \"username\" }\n",
    ));
    for service in ["api", "web"] {
        let s = &c.service_settings("dev", service).unwrap().runtime.secrets["DB_USER"];
        assert_eq!(s.key.as_deref(), Some("username"), "{service}");
    }
    one_error(
        "[services.api.secrets]\nDB_USER = { secretsmanager = \"rt/db\", key = \"a:b\" }\n",
        "DB_USER",
        "services.api.secrets.DB_USER.key",
        &["not a JSON key"],
    );
}

#[test]
fn per_env_tables_name_known_services_only() {
    one_error(
        "[env.prod.services.wbe]\ntracing = true\n",
        "[env.prod.services.wbe]",
        "env.prod.services.wbe",
        &["not a service of this file", "web, api"],
    );
    one_error(
        "[env.prod.services.web]\ndomian = \"app.example.com\"\n",
        "domian",
        "env.prod.services.web.domian",
        &["unknown field `domian`", "`domain`"],
    );
}

#[test]
fn domains_and_hosted_zones() {
    for (domain, says) in [
        ("app.example.com.", "trailing dot"),
        ("*.example.com", "wildcard"),
        ("App.example.com", "lowercase"),
        ("localhost", "not a domain name"),
        ("app-.example.com", "not a domain name"),
    ] {
        one_error(
            &format!("[env.prod.services.web]\ndomain = \"{domain}\"\n"),
            "domain =",
            "env.prod.services.web.domain",
            &[says],
        );
    }
    one_error(
        "[env.prod.services.web]\ndomain = \"app.example.com\"\nhosted_zone = \"/hostedzone/Z123\"\n",
        "hosted_zone",
        "env.prod.services.web.hosted_zone",
        &["not a Route 53 hosted zone id"],
    );
    one_error(
        "[env.prod.services.web]\nhosted_zone = \"Z123\"\n",
        "hosted_zone",
        "env.prod.services.web.hosted_zone",
        &["set `domain` too"],
    );
    one_error(
        "[env.prod.services.web]\ndomain = \"app.example.com\"\n[env.dev.services.web]\ndomain = \"app.example.com\"\n",
        "domain =",
        "env.prod.services.web.domain",
        &["already the domain of service `web` in env `dev`"],
    );
}

#[test]
fn keys_a_backend_cannot_do_name_the_backend() {
    let text = with("[env.prod.services.api]\ndomain = \"api.example.com\"\n");
    let e = &errors(&text)[0];
    assert_eq!(
        (e.line, e.key.as_str()),
        (line_of(&text, "domain ="), "env.prod.services.api.domain")
    );
    assert!(e.message.contains("needs compute = \"apprunner\""), "{e}");
    one_error(
        "[env.prod.services.api]\ntracing = true\n",
        "tracing",
        "env.prod.services.api.tracing",
        &[
            "needs compute = \"apprunner\"",
            "ExpressGatewayService has no tracing",
        ],
    );
    one_error(
        "[env.prod.services.api]\nmin_instances = 2\n",
        "min_instances",
        "env.prod.services.api.min_instances",
        &["applies to compute = \"apprunner\"", "min_tasks"],
    );
    one_error(
        "[env.prod.services.web]\nmin_tasks = 2\n",
        "min_tasks",
        "env.prod.services.web.min_tasks",
        &["applies to compute = \"ecs-express\""],
    );
}

#[test]
fn app_runner_scaling_bounds() {
    for (key, value, says) in [
        ("min_instances", 0, "allowed: 1 to 25"),
        ("min_instances", 26, "allowed: 1 to 25"),
        ("max_instances", 30, "allowed: 1 to 25"),
        ("max_concurrency", 201, "allowed: 1 to 200"),
    ] {
        one_error(
            &format!("[env.prod.services.web]\n{key} = {value}\n"),
            &format!("{key} ="),
            &format!("env.prod.services.web.{key}"),
            &[says],
        );
    }
    one_error(
        "[env.prod.services.web]\nmin_instances = 5\nmax_instances = 3\n",
        "max_instances",
        "env.prod.services.web.max_instances",
        &["max_instances (3) is below min_instances (5)"],
    );
    one_error(
        "[env.prod.services.api]\nmin_tasks = 9\n",
        "min_tasks",
        "env.prod.services.api.min_tasks",
        &["max_tasks (4) is below min_tasks (9)"],
    );
}

#[test]
fn names_built_from_the_ids_fit_aws_limits() {
    let long = BASE
        .replace("id = \"rt\"", "id = \"a-rather-long-system\"")
        .replace("[services.web]", "[services.frontend-web]");
    let text = format!("{long}\n[env.prod.services.frontend-web]\nmin_instances = 2\n");
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].key, "env.prod.services.frontend-web");
    assert!(
        errs[0]
            .message
            .contains("a-rather-long-system-prod-frontend-web")
            && errs[0].message.contains("4 to 32"),
        "{}",
        errs[0]
    );
}

#[test]
fn a_role_policy_holds_at_most_fifty_secrets() {
    let mut extra = String::from("[services.web.secrets]\n");
    for i in 0..51 {
        extra.push_str(&format!("S{i} = \"ssm:/rt/s{i}\"\n"));
    }
    let text = with(&extra);
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "one per env: {errs:#?}");
    assert!(errs.iter().all(|e| e.key == "services.web"), "{errs:#?}");
    assert!(errs[0].message.contains("51 secrets") && errs[0].message.contains("at most 50"));
    extra.truncate(extra.rfind("S50").unwrap());
    load(&with(&extra));
}

#[test]
fn app_runner_reads_secrets_manager_secrets_by_full_arn_only() {
    // A name, in both forms, and a partial ARN (no random suffix).
    one_error(
        "[services.web.secrets]\nDB = \"secretsmanager:rt/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &[
            "App Runner reads a Secrets Manager secret by its full ARN only",
            "aws secretsmanager describe-secret --secret-id rt/db --query ARN",
        ],
    );
    one_error(
        "[env.prod.services.web]\nsecrets = { DB = { secretsmanager = \"rt/db\", key = \"user\" } }\n",
        "secrets = ",
        "env.prod.services.web.secrets.DB.secretsmanager",
        &["full ARN only", "--secret-id rt/db "],
    );
    one_error(
        "[services.web.secrets]\nDB = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rt/db\"\n",
        "DB = ",
        "services.web.secrets.DB",
        &["full ARN only", "--secret-id rt/db "],
    );
    // ECS Express resolves names and partial ARNs; both backends take an
    // SSM parameter of their account and region by name.
    let c = load(&with(
        "[services.api.secrets]\nDB = \"secretsmanager:rt/db\"\nOLD = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rt/old\"\n[services.web.secrets]\nP = \"ssm:/rt/p\"\nS = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rt/db-AbC123\"\n",
    ));
    let web = &c.service_settings("prod", "web").unwrap().runtime.secrets;
    assert!(web["S"].is_complete_secret_arn());
    assert_eq!(web["P"].id, "/rt/p");
    assert_eq!(
        c.service_settings("prod", "api").unwrap().runtime.secrets["DB"].id,
        "rt/db"
    );
}

#[test]
fn app_runner_reads_no_ssm_parameter_of_another_account() {
    let other = "arn:aws:ssm:eu-west-1:999999999999:parameter/rt/p";
    let prod_in = |account: &str| {
        BASE.replacen(
            "[env.prod]\n",
            &format!("[env.prod]\naccount = \"{account}\"\n"),
            1,
        )
    };
    // Written on the service: reported there, for the env whose account differs.
    let text = format!(
        "{}\n[services.web.secrets]\nP = \"{other}\"\n",
        prod_in("111111111111")
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].key, "services.web.secrets.P");
    assert_eq!(
        errs[0].line,
        text.lines().position(|l| l.starts_with("P = ")).unwrap() + 1
    );
    for says in [
        "account 999999999999",
        "env `prod` deploys service `web` to account 111111111111",
        "App Runner does not read SSM parameters of another account",
    ] {
        assert!(
            errs[0].message.contains(says),
            "{says}: {}",
            errs[0].message
        );
    }
    // Written on the env: reported there.
    let text = format!(
        "{}\n[env.prod.services.web]\nsecrets = {{ P = {{ ssm = \"{other}\" }} }}\n",
        prod_in("111111111111")
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].key, "env.prod.services.web.secrets.P");
    // The same account, ECS Express (which is not refused here), and an env
    // without `account` (nothing to compare with) load.
    load(&format!(
        "{}\n[services.web.secrets]\nP = \"{other}\"\n",
        prod_in("999999999999")
    ));
    load(&format!(
        "{}\n[services.api.secrets]\nP = \"{other}\"\n",
        prod_in("111111111111")
    ));
    load(&with(&format!("[services.web.secrets]\nP = \"{other}\"\n")));
}

#[test]
fn a_private_service_has_no_custom_domain() {
    let text = BASE.replacen("[env.prod]\n", "[env.prod]\ningress = \"private\"\n", 1)
        + "\n[env.prod.services.web]\ndomain = \"app.example.com\"\n";
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.key, "env.prod.services.web.domain");
    assert_eq!(
        e.line,
        text.lines()
            .position(|l| l.starts_with("domain ="))
            .unwrap()
            + 1
    );
    for says in [
        "ingress = \"private\"",
        "VpcDNSTargets",
        "private hosted zone",
    ] {
        assert!(e.message.contains(says), "{says}: {}", e.message);
    }
}

#[test]
fn ecs_express_domains_point_at_cloudfront_not_a_cname() {
    one_error(
        "[env.prod.services.api]\ndomain = \"api.example.com\"\n",
        "domain =",
        "env.prod.services.api.domain",
        &[
            "CloudFront",
            "ACM certificate",
            "compute = \"apprunner\"",
            "does not work",
        ],
    );
}

#[test]
fn a_service_runs_with_its_own_role_in_every_env_of_the_account_that_needs_one() {
    let extra = "[env.prod.services.web]\ntracing = true\n";
    let c = load(&with(extra));
    assert!(!c.service_settings("dev", "web").unwrap().needs_own_role());
    assert!(
        c.runs_with_own_role("dev", "web"),
        "prod of the same account traces"
    );
    assert!(c.runs_with_own_role("prod", "web"));
    assert!(!c.runs_with_own_role("dev", "api") && !c.runs_with_own_role("prod", "api"));
    let names = |c: &Config, e: &str| -> Vec<String> {
        c.envs_of_account(e)
            .iter()
            .map(|e| e.name.clone())
            .collect()
    };
    assert_eq!(names(&c, "dev"), ["dev", "prod"]);
    let apart = BASE.replacen(
        "[env.prod]\n",
        "[env.prod]\naccount = \"111111111111\"\n",
        1,
    );
    let c = load(&format!("{apart}\n{extra}"));
    assert!(
        !c.runs_with_own_role("dev", "web"),
        "prod is in another account"
    );
    assert!(c.runs_with_own_role("prod", "web"));
    assert_eq!(names(&c, "dev"), ["dev"]);
    assert_eq!(names(&c, "prod"), ["prod"]);
    assert!(names(&c, "qa").is_empty());
}

#[test]
fn a_run_role_name_fits_iam_in_every_env_that_has_one() {
    // 64 characters at most: `${id}-${env}-${service}-run`. prod's ECS
    // service reads a secret; dev, in the same account, gets a role too.
    let id = "x".repeat(40);
    let long = BASE
        .replace("id = \"rt\"", &format!("id = \"{id}\""))
        .replace("[services.api]", "[services.background-worker-api]");
    let text = format!(
        "{long}\n[env.prod.services.background-worker-api]\nsecrets = {{ DB = \"ssm:/rt/db\" }}\n"
    );
    let mut errs = errors(&text);
    errs.retain(|e| e.message.contains("IAM allows 64"));
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "services.background-worker-api",
            "env.prod.services.background-worker-api"
        ],
        "{errs:#?}"
    );
    // (The 70-character name itself is shortened in the message.)
    assert!(
        errs[0].message.contains("in env `dev`") && errs[0].message.contains("(70 characters)"),
        "{}",
        errs[0].message
    );
    assert!(
        errs[1].message.contains("in env `prod`") && errs[1].message.contains("(71 characters)")
    );
}
