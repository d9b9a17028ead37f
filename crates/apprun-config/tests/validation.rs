//! Every kind of bad input gets an error naming file, line, key and what is
//! allowed; good input loads.

use apprun_config::{Compute, Config, ConfigError, Cpu, Ingress, LoadError, Memory, SourceKind};

const GOOD: &str = r#"[system]
id = "apprunner-nuxt3"
region = "ap-northeast-1"
zones = ["a", "c"]

[source]
type = "codecommit"
repository = "apprunner-nuxt3"

[services.web]
compute = "apprunner"
port = 3000
health = { path = "/", interval = 10, timeout = 3, healthy = 1, unhealthy = 3 }

[env.dev]
network = "10.0.0.0/24"
branch = "main"
cpu = "1 vCPU"
memory = "2 GB"

[env.stg]
network = "10.0.1.0/24"
branch = "stg"
cpu = "2 vCPU"
memory = "4 GB"
"#;

fn errors(text: &str) -> Vec<ConfigError> {
    match Config::parse(text, "apprun.toml") {
        Err(LoadError::Invalid { errors, .. }) => errors,
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("config was accepted:\n{text}"),
    }
}

/// The single error for `text`, checked for its line and key.
fn one_error(text: &str, line: usize, key: &str) -> String {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let e = &errs[0];
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(
        e.to_string().starts_with(&format!("apprun.toml:{line}:")),
        "{e}"
    );
    e.message.clone()
}

fn replace(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from} not in the base config");
    GOOD.replacen(from, to, 1)
}

#[test]
fn the_base_config_loads_with_defaults() {
    let c = Config::parse(GOOD, "apprun.toml").unwrap();
    assert_eq!(c.system.zones, ["a", "c"]);
    assert_eq!(c.source.kind, SourceKind::CodeCommit);
    let web = &c.services["web"];
    assert_eq!(
        (web.compute, web.port, web.dockerfile.as_str()),
        (Compute::AppRunner, 3000, "Dockerfile")
    );
    assert_eq!(
        (
            web.health.interval,
            web.health.timeout,
            web.health.healthy,
            web.health.unhealthy
        ),
        (10, 3, 1, 3)
    );
    let dev = c.env("dev").unwrap();
    assert_eq!((dev.cpu, dev.memory), (Cpu(1024), Memory(2048)));
    assert!(dev.approval, "approval defaults to on, as in the reference");
    assert_eq!(dev.ingress, Ingress::Public);
    assert!(!dev.waf);
    assert_eq!(
        c.envs.keys().collect::<Vec<_>>(),
        ["dev", "stg"],
        "file order is kept"
    );
}

#[test]
fn unknown_key_names_the_allowed_keys() {
    let m = one_error(
        &replace("branch = \"main\"", "brnch = \"main\""),
        17,
        "env.dev.brnch",
    );
    assert!(
        m.contains("unknown field `brnch`") && m.contains("`branch`") && m.contains("`network`"),
        "{m}"
    );
}

#[test]
fn unknown_top_level_table() {
    let text = format!("{GOOD}\n[database]\nengine = \"pg\"\n");
    let m = one_error(&text, 27, "database");
    assert!(
        m.contains("unknown field `database`") && m.contains("`services`"),
        "{m}"
    );
}

#[test]
fn missing_key_points_at_its_table() {
    let m = one_error(&replace("memory = \"2 GB\"\n", ""), 15, "env.dev.memory");
    assert!(m.contains("missing field `memory`"), "{m}");
}

#[test]
fn wrong_type() {
    let m = one_error(
        &replace("port = 3000", "port = \"3000\""),
        12,
        "services.web.port",
    );
    assert!(
        m.contains("expected i64") || m.contains("invalid type"),
        "{m}"
    );
}

#[test]
fn syntax_error_has_a_line() {
    let errs = errors(&replace("[env.stg]", "[env.stg"));
    assert_eq!(errs[0].line, 21, "{}", errs[0]);
}

#[test]
fn invalid_cidr() {
    let m = one_error(
        &replace("10.0.0.0/24", "10.0.0.300/24"),
        16,
        "env.dev.network",
    );
    assert!(
        m.contains("not an IPv4 CIDR block") && m.contains("10.0.0.0/24"),
        "{m}"
    );
}

#[test]
fn network_size_must_be_16_to_24() {
    for prefix in ["/8", "/25", "/28"] {
        let m = one_error(
            &replace("10.0.0.0/24", &format!("10.0.0.0{prefix}")),
            16,
            "env.dev.network",
        );
        assert!(m.contains("allowed: /16 to /24"), "{m}");
    }
}

#[test]
fn network_with_host_bits() {
    let m = one_error(
        &replace("10.0.0.0/24", "10.0.0.5/24"),
        16,
        "env.dev.network",
    );
    assert!(m.contains("host bits") && m.contains("10.0.0.0/24"), "{m}");
}

#[test]
fn overlapping_networks_in_one_account() {
    let m = one_error(
        &replace("10.0.1.0/24", "10.0.0.0/16"),
        22,
        "env.stg.network",
    );
    assert!(
        m.contains("overlaps env `dev`") && m.contains("set `account`"),
        "{m}"
    );
    // In different accounts the same range is fine (the reference's prod).
    let separate = replace("[env.stg]\n", "[env.stg]\naccount = \"111122223333\"\n")
        .replace("10.0.1.0/24", "10.0.0.0/24");
    assert!(Config::parse(&separate, "apprun.toml").is_ok());
}

#[test]
fn invalid_cpu_memory_pair_lists_what_is_allowed() {
    let m = one_error(
        &replace("memory = \"2 GB\"", "memory = \"8 GB\""),
        19,
        "env.dev.memory",
    );
    assert!(
        m.contains("1 vCPU / 8 GB is not a size App Runner offers"),
        "{m}"
    );
    assert!(m.contains("2 GB, 3 GB, 4 GB"), "{m}");
    let m = one_error(
        &replace("cpu = \"1 vCPU\"", "cpu = \"3 vCPU\""),
        19,
        "env.dev.memory",
    );
    assert!(
        m.contains("allowed cpu: 0.25 vCPU, 0.5 vCPU, 1 vCPU, 2 vCPU, 4 vCPU"),
        "{m}"
    );
    let m = one_error(
        &replace("cpu = \"1 vCPU\"", "cpu = \"lots\""),
        18,
        "env.dev.cpu",
    );
    assert!(m.contains("\"1 vCPU\""), "{m}");
}

#[test]
fn unknown_environment_lists_the_defined_ones() {
    let c = Config::parse(GOOD, "apprun.toml").unwrap();
    let e = c.env("qa").unwrap_err().to_string();
    assert_eq!(e, "unknown environment `qa`; apprun.toml defines: dev, stg");
}

#[test]
fn duplicate_branches() {
    let m = one_error(
        &replace("branch = \"stg\"", "branch = \"main\""),
        23,
        "env.stg.branch",
    );
    assert!(
        m.contains("branch `main` is already used by env `dev`"),
        "{m}"
    );
}

#[test]
fn bad_system_ids() {
    for bad in ["Apprunner", "1app", "app_run", "app-", "a--b", "x"] {
        let m = one_error(
            &replace("id = \"apprunner-nuxt3\"", &format!("id = \"{bad}\"")),
            2,
            "system.id",
        );
        assert!(m.contains("not a valid system id"), "{bad}: {m}");
    }
}

#[test]
fn system_id_too_long_for_the_names_it_becomes() {
    let long = "a".repeat(40);
    let m = one_error(
        &replace("id = \"apprunner-nuxt3\"", &format!("id = \"{long}\"")),
        2,
        "system.id",
    );
    assert!(
        m.contains("App Runner service / VPC connector name") && m.contains("4 to 40"),
        "{m}"
    );
    let long = "b".repeat(60);
    let errs = errors(&replace(
        "id = \"apprunner-nuxt3\"",
        &format!("id = \"{long}\""),
    ));
    assert!(
        errs.iter()
            .any(|e| e.message.contains("S3 bucket name") && e.message.contains("3 to 63")),
        "{errs:#?}"
    );
}

#[test]
fn zones_must_be_two_letters() {
    let m = one_error(
        &replace("zones = [\"a\", \"c\"]", "zones = [\"a\", \"b\", \"c\"]"),
        4,
        "system.zones",
    );
    assert!(m.contains("exactly 2 zones"), "{m}");
    let m = one_error(
        &replace("zones = [\"a\", \"c\"]", "zones = [\"a\", \"a\"]"),
        4,
        "system.zones[1]",
    );
    assert!(m.contains("listed twice"), "{m}");
    let m = one_error(
        &replace("zones = [\"a\", \"c\"]", "zones = [\"a\", \"1a\"]"),
        4,
        "system.zones[1]",
    );
    assert!(m.contains("zone letter"), "{m}");
}

#[test]
fn region_format() {
    let m = one_error(&replace("ap-northeast-1", "tokyo"), 3, "system.region");
    assert!(m.contains("ap-northeast-1"), "{m}");
}

#[test]
fn source_rules() {
    let m = one_error(
        &replace("type = \"codecommit\"", "type = \"svn\""),
        7,
        "source.type",
    );
    assert!(m.contains("allowed: \"codecommit\", \"github\""), "{m}");
    let github = replace(
        "type = \"codecommit\"\nrepository = \"apprunner-nuxt3\"",
        "type = \"github\"\nrepository = \"acme/shop\"",
    );
    let m = one_error(&github, 6, "source");
    assert!(m.contains("needs `connection`"), "{m}");
    let bad_arn = github.replace(
        "repository = \"acme/shop\"",
        "repository = \"acme/shop\"\nconnection = \"arn:aws:s3:::x\"",
    );
    let m = one_error(&bad_arn, 9, "source.connection");
    assert!(m.contains("not a CodeConnections connection ARN"), "{m}");
    let good = github.replace(
        "repository = \"acme/shop\"",
        "repository = \"acme/shop\"\nconnection = \"arn:aws:codeconnections:eu-west-1:123456789012:connection/abc\"",
    );
    assert!(Config::parse(&good, "apprun.toml").is_ok());
    let m = one_error(&good.replace("acme/shop", "acme"), 8, "source.repository");
    assert!(m.contains("owner/name"), "{m}");
}

#[test]
fn service_rules() {
    let m = one_error(
        &replace("compute = \"apprunner\"", "compute = \"lambda\""),
        11,
        "services.web.compute",
    );
    assert!(m.contains("allowed: \"apprunner\", \"ecs-express\""), "{m}");
    let m = one_error(
        &replace("port = 3000", "port = 70000"),
        12,
        "services.web.port",
    );
    assert!(m.contains("allowed: 1 to 65535"), "{m}");
    let m = one_error(
        &replace("interval = 10", "interval = 30"),
        13,
        "services.web.health.interval",
    );
    assert!(m.contains("allowed: 1 to 20"), "{m}");
    let m = one_error(
        &replace("path = \"/\"", "path = \"health\""),
        13,
        "services.web.health.path",
    );
    assert!(m.contains("must start with `/`"), "{m}");
    let m = one_error(
        &replace("[services.web]", "[services.Web]"),
        10,
        "services.Web",
    );
    assert!(m.contains("not a valid service name"), "{m}");
}

#[test]
fn env_rules() {
    let m = one_error(
        &replace("[env.stg]\n", "[env.stg]\ningress = \"internal\"\n"),
        22,
        "env.stg.ingress",
    );
    assert!(m.contains("allowed: \"public\", \"private\""), "{m}");
    let m = one_error(
        &replace("[env.stg]\n", "[env.stg]\naccount = \"12345\"\n"),
        22,
        "env.stg.account",
    );
    assert!(m.contains("12 digits"), "{m}");
    let m = one_error(
        &replace("branch = \"stg\"", "branch = \"a b\""),
        23,
        "env.stg.branch",
    );
    assert!(m.contains("not a valid git branch name"), "{m}");
    let m = one_error(&replace("[env.stg]", "[env.Staging]"), 21, "env.Staging");
    assert!(m.contains("not a valid environment name"), "{m}");
}

#[test]
fn all_problems_are_reported_at_once_in_file_order() {
    let text =
        replace("id = \"apprunner-nuxt3\"", "id = \"Bad\"").replace("10.0.1.0/24", "10.0.1.0/30");
    let errs = errors(&text);
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["system.id", "env.stg.network"]);
}

#[test]
fn files_that_do_not_exist() {
    let dir = std::env::temp_dir().join(format!("apprun-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e = Config::discover(&dir).unwrap_err().to_string();
    assert!(
        e.contains("no apprun.toml in") && e.contains("apprun init"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn policy_section() {
    let text = format!("{GOOD}\n[policy]\nprivate_envs = [\"prod\"]\n");
    let m = one_error(&text, 28, "policy.private_envs[0]");
    assert!(
        m.contains("`prod` is not an environment of this file; defined: dev, stg"),
        "{m}"
    );
    let text = format!(
        "{GOOD}\n[policy]\nprivate_envs = [\"stg\"]\nrules = \"policy/\"\n\n[[policy.allow]]\nrule = \"APR-ECR-002\"\nresource = \"EcrRepositoryWeb\"\nreason = \"\"\n"
    );
    let m = one_error(&text, 34, "policy.allow[0].reason");
    assert!(m.contains("a silence needs a reason"), "{m}");
    let ok = text.replace("reason = \"\"", "reason = \"legacy job re-pushes tags\"");
    let c = Config::parse(&ok, "apprun.toml").unwrap();
    assert_eq!(c.policy.private_envs, ["stg"]);
    assert_eq!(c.policy.rules.as_deref(), Some("policy/"));
    assert_eq!(c.policy.allow[0].resource, "EcrRepositoryWeb");
    let m = one_error(
        &format!("{GOOD}\n[policy]\nprivate = []\n"),
        28,
        "policy.private",
    );
    assert!(
        m.contains("unknown field `private`") && m.contains("`private_envs`"),
        "{m}"
    );
}

#[test]
fn ecs_express_scaling_keys() {
    let express = replace(
        "compute = \"apprunner\"",
        "compute = \"ecs-express\"\nmin_tasks = 2\nmax_tasks = 6\nscale_on = \"requests\"\nscale_target = 500",
    );
    let c = Config::parse(&express, "apprun.toml").unwrap();
    let s = c.services["web"].scaling;
    assert_eq!(
        (s.min_tasks, s.max_tasks, s.on.metric(), s.target),
        (2, 6, "REQUEST_COUNT_PER_TARGET", 500)
    );
    let m = one_error(
        &replace("port = 3000", "port = 3000\nmax_tasks = 3"),
        13,
        "services.web.max_tasks",
    );
    assert!(m.contains("applies to compute = \"ecs-express\""), "{m}");
    let m = one_error(
        &express.replace("max_tasks = 6", "max_tasks = 1"),
        13,
        "services.web.max_tasks",
    );
    assert!(m.contains("below min_tasks (2)"), "{m}");
    let m = one_error(
        &express.replace("scale_on = \"requests\"", "scale_on = \"latency\""),
        14,
        "services.web.scale_on",
    );
    assert!(
        m.contains("allowed: \"cpu\", \"memory\", \"requests\""),
        "{m}"
    );
    let m = one_error(
        &express.replace("scale_on = \"requests\"", "scale_on = \"cpu\""),
        15,
        "services.web.scale_target",
    );
    assert!(m.contains("percentage from 1 to 100"), "{m}");
    // Fargate sizes: 1 vCPU with 8 GB is fine on ECS, not on App Runner.
    let big = express.replace("memory = \"2 GB\"", "memory = \"8 GB\"");
    assert!(Config::parse(&big, "apprun.toml").is_ok());
}

/// GOOD with `table` (lines starting at 14) after the service's health line.
fn with_release(table: &str) -> String {
    replace("unhealthy = 3 }\n", &format!("unhealthy = 3 }}\n{table}"))
}

#[test]
fn release_table_overrides_the_workstation_build_only() {
    let c = Config::parse(
        &with_release(
            "[services.web.release]\ndockerfile = \"Dockerfile\"\nprebuild = [\"scripts/build-app.sh\", \"--fast\"]\n",
        )
        .replace("port = 3000", "port = 3000\ndockerfile = \"Dockerfile.multistage\""),
        "apprun.toml",
    )
    .unwrap();
    let web = &c.services["web"];
    let (dockerfile, prebuild) = web.release_build();
    assert_eq!(
        (dockerfile, prebuild),
        (
            "Dockerfile",
            &["scripts/build-app.sh".to_owned(), "--fast".to_owned()][..]
        )
    );
    let (dockerfile, prebuild) = web.pipeline_build();
    assert_eq!((dockerfile, prebuild.len()), ("Dockerfile.multistage", 0));

    // Each key given replaces the service's own; the others fall back.
    let c = Config::parse(
        &with_release("[services.web.release]\ndockerfile = \"Dockerfile.local\"\n")
            .replace("port = 3000", "port = 3000\nprebuild = [\"make\"]"),
        "apprun.toml",
    )
    .unwrap();
    let (dockerfile, prebuild) = c.services["web"].release_build();
    assert_eq!(
        (dockerfile, prebuild),
        ("Dockerfile.local", &["make".to_owned()][..])
    );
    // `prebuild = []` turns the prebuild off on the workstation only.
    let c = Config::parse(
        &with_release("[services.web.release]\nprebuild = []\n")
            .replace("port = 3000", "port = 3000\nprebuild = [\"make\"]"),
        "apprun.toml",
    )
    .unwrap();
    let web = &c.services["web"];
    assert_eq!(
        (web.release_build().1.len(), web.pipeline_build().1.len()),
        (0, 1)
    );
    // Without a release table both paths build the same.
    let c = Config::parse(GOOD, "apprun.toml").unwrap();
    let web = &c.services["web"];
    assert_eq!(web.release_build(), web.pipeline_build());
    assert_eq!(web.release_build().0, "Dockerfile");
}

#[test]
fn release_table_rules() {
    let m = one_error(
        &with_release("[services.web.release]\ndockerfile = \"/abs/Dockerfile\"\n"),
        15,
        "services.web.release.dockerfile",
    );
    assert!(m.contains("relative to apprun.toml"), "{m}");
    let m = one_error(
        &with_release("[services.web.release]\nprebuild = [\"\"]\n"),
        15,
        "services.web.release.prebuild",
    );
    assert!(
        m.contains("program first") && m.contains("[] means no prebuild"),
        "{m}"
    );
    let m = one_error(
        &with_release("[services.web.release]\n"),
        14,
        "services.web.release",
    );
    assert!(m.contains("set `dockerfile` and/or `prebuild`"), "{m}");
    let m = one_error(
        &with_release("[services.web.release]\ndockerfle = \"Dockerfile\"\n"),
        15,
        "services.web.release.dockerfle",
    );
    assert!(
        m.contains("unknown field `dockerfle`")
            && m.contains("`dockerfile`")
            && m.contains("`prebuild`"),
        "{m}"
    );
    let m = one_error(
        &with_release("[services.web.release]\nprebuild = \"scripts/build-app.sh\"\n"),
        15,
        "services.web.release.prebuild",
    );
    assert!(m.contains("sequence") || m.contains("array"), "{m}");
}

#[test]
fn waf_on_ecs_express_is_refused_not_dropped() {
    let text = replace("compute = \"apprunner\"", "compute = \"ecs-express\"")
        .replace("[env.stg]\n", "[env.stg]\nwaf = true\n");
    let m = one_error(&text, 22, "env.stg.waf");
    assert!(
        m.contains("needs compute = \"apprunner\"")
            && m.contains("service `web` uses compute = \"ecs-express\"")
            && m.contains("remove `waf`"),
        "{m}"
    );
    // `waf = false` says the same as leaving it out.
    let off = replace("compute = \"apprunner\"", "compute = \"ecs-express\"")
        .replace("[env.stg]\n", "[env.stg]\nwaf = false\n");
    assert!(Config::parse(&off, "apprun.toml").is_ok());
    // App Runner keeps its web ACL.
    let apprunner = replace("[env.stg]\n", "[env.stg]\nwaf = true\n");
    assert!(Config::parse(&apprunner, "apprun.toml").unwrap().envs["stg"].waf);
}

#[test]
fn the_first_env_of_each_account_holds_the_source_repository() {
    let text = format!(
        "{GOOD}\n[env.prod]\naccount = \"123456789012\"\nnetwork = \"10.0.0.0/24\"\nbranch = \"prod\"\ncpu = \"1 vCPU\"\nmemory = \"2 GB\"\n\n[env.dr]\naccount = \"123456789012\"\nnetwork = \"10.0.2.0/24\"\nbranch = \"dr\"\ncpu = \"1 vCPU\"\nmemory = \"2 GB\"\n"
    );
    let c = Config::parse(&text, "apprun.toml").unwrap();
    let first: Vec<&str> = c
        .envs
        .keys()
        .filter(|e| c.is_first_env_of_account(e))
        .map(String::as_str)
        .collect();
    assert_eq!(first, ["dev", "prod"]);
    assert!(!c.is_first_env_of_account("nope"));
}

#[test]
fn keys_are_located_after_loading() {
    let c = Config::parse(
        &with_release("[services.web.release]\nprebuild = [\"scripts/build-app.sh\"]\n"),
        "apprun.toml",
    )
    .unwrap();
    let at = |k: &str| c.locate(k).map(|l| (l.line, l.column));
    assert_eq!(at("services.web.release.prebuild"), Some((15, 1)));
    assert_eq!(at("services.web.port"), Some((12, 1)));
    assert_eq!(at("env.stg.branch"), Some((25, 1)));
    assert_eq!(at("services.web.prebuild"), None);
}
