//! `apprun init` on fixture repositories: what it detects, that what it
//! writes loads, synthesizes and passes `apprun check` for every env with no
//! error, and that it never overwrites or half-writes a file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use apprun_check::{Severity, check_env};
use apprun_config::{CONFIG_FILE, Compute, Config, SourceKind};
use apprun_init::{
    Answers, App, Environment, Field, Framework, InitError, PackageManager, Plan, answer, detect,
    map_branches, plan, questions, write,
};

/// A copy of `tests/fixtures/<name>` in a fresh folder called `folder`,
/// with a git folder holding `branches` (HEAD on the first), written by
/// hand: fixtures cannot carry a `.git` of their own.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn repo(fixture: &str, folder: &str, branches: &[&str]) -> Repo {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join(folder);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture),
        &dir,
    );
    if let Some(head) = branches.first() {
        let git = dir.join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).expect("git dir");
        std::fs::write(git.join("HEAD"), format!("ref: refs/heads/{head}\n")).expect("HEAD");
        for b in branches {
            let path = git.join("refs/heads").join(b);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("ref dir");
            std::fs::write(path, "0123456789abcdef0123456789abcdef01234567\n").expect("ref");
        }
    }
    Repo { _tmp: tmp, dir }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("fixture exists") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A machine whose AWS config says `region` (no variables set).
fn machine(region: Option<&str>) -> (tempfile::TempDir, Environment) {
    let home = tempfile::tempdir().expect("home");
    if let Some(region) = region {
        std::fs::create_dir_all(home.path().join(".aws")).expect(".aws");
        std::fs::write(
            home.path().join(".aws/config"),
            format!("[default]\nregion = {region}\noutput = json\n"),
        )
        .expect("config");
    }
    let env = Environment {
        vars: Default::default(),
        home: Some(home.path().to_path_buf()),
    };
    (home, env)
}

/// What `apprun init --yes` does: every open question takes its default.
fn plan_with_defaults(dir: &Path, env: &Environment, mut answers: Answers) -> Plan {
    let detection = detect(dir, env).expect("detect");
    for q in questions(&detection, &answers) {
        answer(&mut answers, &q, &q.default).expect("default is a valid answer");
    }
    plan(&detection, &answers).expect("plan")
}

/// Loads the written apprun.toml and runs `apprun check --env E` on every
/// env, as the library calls it: no finding may be an error.
fn assert_checks_clean(dir: &Path) -> Config {
    let config = Config::load(&dir.join(CONFIG_FILE)).expect("the written config loads");
    assert_eq!(
        config.envs.keys().cloned().collect::<Vec<_>>(),
        ["dev", "stg", "prod"]
    );
    for env in config.envs.keys() {
        let bp = apprun_blueprint::synthesize(&config, env).expect("synthesizes");
        let report = check_env(&config, &bp, None);
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.suppressed.is_none())
            .map(|f| format!("{} {} {}: {}", f.rule, f.file, f.path, f.message))
            .collect();
        assert!(errors.is_empty(), "check --env {env}: {errors:#?}");
        assert_eq!(report.errors(), 0);
    }
    config
}

/// Every pair of env networks is disjoint.
fn assert_networks_disjoint(config: &Config) {
    let nets: Vec<_> = config.envs.values().map(|e| e.network).collect();
    for (i, a) in nets.iter().enumerate() {
        for b in &nets[i + 1..] {
            assert!(!a.contains(b) && !b.contains(a), "{a} and {b} overlap");
        }
    }
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn dockerfile_with_expose_8080() {
    let r = repo(
        "docker-expose",
        "Orders_API",
        &["main", "develop", "staging"],
    );
    let (_home, env) = machine(Some("eu-west-1"));
    let detection = detect(&r.dir, &env).expect("detect");
    // The last stage's EXPOSE, not the builder's.
    match &detection.app {
        App::Dockerfile { port: Some(p) } => assert_eq!(p.value, 8080),
        other => panic!("expected a Dockerfile with a port, got {other:?}"),
    }
    assert_eq!(
        detection.id.as_ref().map(|f| f.value.as_str()),
        Some("orders-api")
    );
    assert_eq!(
        detection.region.as_ref().map(|f| f.value.as_str()),
        Some("eu-west-1")
    );
    assert_eq!(detection.branches.dev.value, "develop");
    assert_eq!(detection.branches.stg.value, "staging");
    assert_eq!(detection.branches.prod.value, "main");
    // Everything but the backend was detected.
    let open: Vec<Field> = questions(&detection, &Answers::default())
        .iter()
        .map(|q| q.field)
        .collect();
    assert_eq!(open, [Field::Compute]);

    for compute in Compute::ALL {
        let answers = Answers {
            compute: Some(compute),
            ..Answers::default()
        };
        let plan = plan(&detection, &answers).expect("plan");
        assert_eq!(
            plan.new_dockerfile, None,
            "the app's own Dockerfile is used"
        );
        let check_dir = tempfile::tempdir().expect("dir");
        std::fs::write(check_dir.path().join(CONFIG_FILE), &plan.toml).expect("write");
        let config = assert_checks_clean(check_dir.path());
        assert_eq!(config.services["web"].compute, compute);
    }

    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    let before = std::fs::read(r.dir.join("Dockerfile")).expect("Dockerfile");
    let written = write(&r.dir, &plan).expect("write");
    assert_eq!(written.files, [r.dir.join(CONFIG_FILE)]);
    assert_eq!(
        std::fs::read(r.dir.join("Dockerfile")).expect("Dockerfile"),
        before
    );
    let config = assert_checks_clean(&r.dir);
    let web = &config.services["web"];
    assert_eq!(web.port, 8080);
    assert_eq!(web.dockerfile, "Dockerfile");
    assert_eq!(web.compute, apprun_init::DEFAULT_COMPUTE);
    assert_eq!(config.system.id, "orders-api");
    assert_eq!(config.system.region, "eu-west-1");
    assert_networks_disjoint(&config);
}

#[test]
fn cargo_binary_crate() {
    let r = repo("cargo-bin", "shop", &["main"]);
    let (_home, env) = machine(Some("ap-northeast-1"));
    let detection = detect(&r.dir, &env).expect("detect");
    assert_eq!(
        detection.app,
        App::Cargo {
            package: "shop-server".into(),
            bin: "shop".into(),
            locked: true,
            others: Vec::new(),
        }
    );
    // A binary's port cannot be read from the crate: asked, 8080 by default.
    let open = questions(&detection, &Answers::default());
    let port = open
        .iter()
        .find(|q| q.field == Field::Port)
        .expect("the port is asked");
    assert_eq!(port.flag, "--port");
    assert_eq!(port.default, "8080");

    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    let dockerfile = plan
        .new_dockerfile
        .clone()
        .expect("a Dockerfile is generated");
    assert!(dockerfile.starts_with("# Written by `apprun init`"));
    assert!(dockerfile.contains(&format!("FROM {} AS build", apprun_init::RUST_IMAGE)));
    assert!(dockerfile.contains(
        "cargo build --release --locked -p shop-server --bin shop --target x86_64-unknown-linux-gnu"
    ));
    assert!(dockerfile.contains("/src/target/x86_64-unknown-linux-gnu/release/shop /app"));
    assert!(dockerfile.contains("ENV PORT=8080\nEXPOSE 8080\n"));
    assert!(!dockerfile.contains("docker.io"), "no Docker Hub image");

    let written = write(&r.dir, &plan).expect("write");
    assert_eq!(
        written.files,
        [
            r.dir.join("Dockerfile"),
            r.dir.join(".dockerignore"),
            r.dir.join(CONFIG_FILE)
        ]
    );
    assert_eq!(
        std::fs::read_to_string(r.dir.join(".dockerignore")).expect(".dockerignore"),
        "# Written by `apprun init`: kept out of the image build's context.\n.git\ntarget\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.dir.join("Dockerfile")).expect("Dockerfile"),
        dockerfile
    );
    let config = assert_checks_clean(&r.dir);
    // Tokyo has no zone b for new accounts: the reference's a and c.
    assert_eq!(config.system.zones, ["a", "c"]);
    // Only main exists: the reference's mapping (dev ← main, stg, prod).
    let branches: Vec<&str> = config.envs.values().map(|e| e.branch.as_str()).collect();
    assert_eq!(branches, ["main", "stg", "prod"]);
    assert_networks_disjoint(&config);
    // No temporary file is left behind.
    assert_eq!(
        files_in(&r.dir),
        BTreeSet::from(
            [
                ".dockerignore",
                ".git",
                "Cargo.lock",
                "Cargo.toml",
                "Dockerfile",
                "apprun.toml",
                "src"
            ]
            .map(String::from)
        )
    );
}

#[test]
fn nuxt_app() {
    let r = repo("nuxt-app", "storefront", &["develop", "main", "stg"]);
    std::fs::write(r.dir.join(".dockerignore"), "node_modules\n").expect(".dockerignore");
    let (_home, mut env) = machine(None);
    env.vars.insert("AWS_REGION".into(), "us-west-2".into());
    let detection = detect(&r.dir, &env).expect("detect");
    assert_eq!(
        detection.app,
        App::Node {
            framework: Framework::Nuxt,
            manager: PackageManager::Npm,
            locked: true,
            yarn_berry: false,
            build: true,
            start: false,
            main: None,
        }
    );
    assert_eq!(detection.app.port().map(|p| p.value), Some(3000));
    assert_eq!(detection.head.as_deref(), Some("develop"));

    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    let dockerfile = plan
        .new_dockerfile
        .clone()
        .expect("a Dockerfile is generated");
    assert!(dockerfile.contains(&format!("FROM {} AS build", apprun_init::NODE_IMAGE)));
    assert!(dockerfile.contains("RUN npm ci\nRUN npm run build\n"));
    assert!(dockerfile.contains("COPY --from=build /app/.output ./.output"));
    assert!(dockerfile.contains("ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0"));
    assert!(dockerfile.contains("CMD [\"node\", \".output/server/index.mjs\"]"));
    assert_eq!(dockerfile.matches("FROM ").count(), 2, "multi-stage");

    // The repository's own .dockerignore is kept, not refused.
    assert_eq!(plan.new_dockerignore, None);
    let written = write(&r.dir, &plan).expect("write");
    assert_eq!(
        written.files,
        [r.dir.join("Dockerfile"), r.dir.join(CONFIG_FILE)]
    );
    assert_eq!(
        std::fs::read_to_string(r.dir.join(".dockerignore")).expect("kept"),
        "node_modules\n"
    );
    let config = assert_checks_clean(&r.dir);
    assert_eq!(config.services["web"].port, 3000);
    assert_eq!(config.system.region, "us-west-2");
    assert_eq!(config.system.zones, ["a", "b"]);
    let branches: Vec<&str> = config.envs.values().map(|e| e.branch.as_str()).collect();
    assert_eq!(branches, ["develop", "stg", "main"]);
    assert_networks_disjoint(&config);
}

#[test]
fn the_toml_round_trips_through_the_config_loader() {
    let r = repo("docker-expose", "billing", &["main"]);
    let (_home, env) = machine(Some("eu-central-1"));
    let answers = Answers {
        compute: Some(Compute::AppRunner),
        port: Some(9000),
        branch_dev: Some("feature/next".into()),
        branch_stg: Some("release".into()),
        branch_prod: Some("main".into()),
        health_path: Some("/healthz".into()),
        zones: Some(["b".into(), "c".into()]),
        ..Answers::default()
    };
    let plan = plan_with_defaults(&r.dir, &env, answers);
    let config = Config::parse(&plan.toml, CONFIG_FILE).expect("valid TOML and config");
    assert_eq!(config.system.id, plan.id);
    assert_eq!(config.system.region, "eu-central-1");
    assert_eq!(config.system.zones, ["b", "c"]);
    assert_eq!(config.source.kind, SourceKind::CodeCommit);
    assert_eq!(config.source.repository, "billing");
    let web = &config.services["web"];
    assert_eq!(web.port, 9000, "--port wins over EXPOSE");
    assert_eq!(web.compute, Compute::AppRunner);
    assert_eq!(web.health.path, "/healthz");
    let envs: Vec<(&str, String, &str, bool)> = config
        .envs
        .iter()
        .map(|(n, e)| {
            (
                n.as_str(),
                e.network.to_string(),
                e.branch.as_str(),
                e.approval,
            )
        })
        .collect();
    assert_eq!(
        envs,
        [
            ("dev", "10.0.0.0/24".into(), "feature/next", true),
            ("stg", "10.0.1.0/24".into(), "release", true),
            ("prod", "10.0.2.0/24".into(), "main", true),
        ]
    );
    // The reference's sizes: dev smaller than stg and prod.
    let sizes: Vec<(String, String)> = ["dev", "stg", "prod"]
        .iter()
        .map(|e| {
            let table: toml::Table = toml::from_str(&plan.toml).expect("toml");
            let env = &table["env"][e];
            (
                env["cpu"].as_str().expect("cpu").to_owned(),
                env["memory"].as_str().expect("memory").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("1 vCPU".into(), "2 GB".into()),
            ("2 vCPU".into(), "4 GB".into()),
            ("2 vCPU".into(), "4 GB".into()),
        ]
    );
    assert_networks_disjoint(&config);
}

#[test]
fn refuses_to_overwrite_and_writes_nothing() {
    let r = repo("cargo-bin", "shop", &["main"]);
    let (_home, env) = machine(Some("eu-west-1"));
    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    std::fs::write(r.dir.join(CONFIG_FILE), "# mine\n").expect("existing");
    let before = files_in(&r.dir);
    match write(&r.dir, &plan) {
        Err(InitError::Exists { path }) => assert_eq!(path, r.dir.join(CONFIG_FILE)),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(r.dir.join(CONFIG_FILE)).expect("kept"),
        "# mine\n"
    );
    // Not even the Dockerfile, which did not exist, was written.
    assert_eq!(files_in(&r.dir), before);
    assert!(!r.dir.join("Dockerfile").exists());

    // A second init after a successful one refuses too.
    let r = repo("nuxt-app", "storefront", &["main"]);
    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    write(&r.dir, &plan).expect("first init");
    let written = std::fs::read_to_string(r.dir.join(CONFIG_FILE)).expect("written");
    let err = write(&r.dir, &plan).expect_err("second init refuses");
    assert!(matches!(err, InitError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("does not overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(r.dir.join(CONFIG_FILE)).expect("kept"),
        written
    );
}

#[test]
fn unanswerable_questions_name_their_flag() {
    // No AWS config, a folder name without letters, a port nobody states.
    let r = repo("cargo-bin", "2024", &[]);
    let (_home, env) = machine(None);
    let detection = detect(&r.dir, &env).expect("detect");
    assert_eq!(detection.id, None);
    assert_eq!(detection.region, None);
    let flags: Vec<&str> = questions(&detection, &Answers::default())
        .iter()
        .map(|q| q.flag)
        .collect();
    assert_eq!(flags, ["--id", "--region", "--port", "--compute"]);
    // What a script without --yes gets: the first missing answer, by flag.
    let err = plan(&detection, &Answers::default()).expect_err("unanswered");
    assert!(err.to_string().contains("pass --id"), "{err}");
    let answers = Answers {
        id: Some("shop".into()),
        region: Some("eu-west-1".into()),
        port: Some(8080),
        ..Answers::default()
    };
    let err = plan(&detection, &answers).expect_err("unanswered");
    assert!(
        matches!(
            err,
            InitError::Unanswered {
                flag: "--compute",
                ..
            }
        ),
        "{err}"
    );

    // Answers apprun.toml would refuse are refused with their flag.
    let bad = |answers: Answers| plan(&detection, &answers).expect_err("refused");
    let full = Answers {
        compute: Some(Compute::EcsExpress),
        ..answers
    };
    for (answers, flag) in [
        (
            Answers {
                id: Some("Shop_API".into()),
                ..full.clone()
            },
            "--id",
        ),
        (
            Answers {
                region: Some("tokyo".into()),
                ..full.clone()
            },
            "--region",
        ),
        (
            Answers {
                // dev is on main (no git: the reference's names).
                branch_prod: Some("main".into()),
                ..full.clone()
            },
            "--branch-prod",
        ),
    ] {
        match bad(answers) {
            InitError::Invalid { flag: f, message } => assert_eq!(f, flag, "{message}"),
            other => panic!("expected an invalid {flag}, got {other}"),
        }
    }
    let q = questions(&detection, &Answers::default())
        .into_iter()
        .find(|q| q.field == Field::Port)
        .expect("port question");
    let err = answer(&mut Answers::default(), &q, "http").expect_err("not a port");
    assert!(
        err.to_string().starts_with("--port: `http` is not a port"),
        "{err}"
    );
    // Without git, the reference's branch names.
    assert_eq!(
        [
            detection.branches.dev.value.as_str(),
            &detection.branches.stg.value,
            &detection.branches.prod.value
        ],
        ["main", "stg", "prod"]
    );
    assert!(plan(&detection, &full).is_ok());
}

#[test]
fn a_long_folder_name_is_shortened_to_what_every_aws_name_allows() {
    let folder = "The Extremely Long Customer-Facing Storefront Platform Service";
    let r = repo("docker-expose", folder, &["main"]);
    let (_home, env) = machine(Some("eu-west-1"));
    for compute in Compute::ALL {
        let plan = plan_with_defaults(
            &r.dir,
            &env,
            Answers {
                compute: Some(compute),
                ..Answers::default()
            },
        );
        assert!(plan.id.starts_with("the-extremely-long-"), "{}", plan.id);
        assert!(!plan.id.ends_with('-'));
        // The longest id the loader accepts: one more character is refused.
        let longer = plan.toml.replacen(
            &format!("id = \"{}\"", plan.id),
            &format!("id = \"{}x\"", plan.id),
            1,
        );
        assert!(Config::parse(&plan.toml, CONFIG_FILE).is_ok());
        if plan.id.len() < 61 {
            assert!(
                Config::parse(&longer, CONFIG_FILE).is_err(),
                "{compute:?}: {} could be longer",
                plan.id
            );
        }
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(CONFIG_FILE), &plan.toml).expect("write");
        assert_checks_clean(dir.path());
    }
}

#[test]
fn github_origin_with_a_connection() {
    let r = repo("nuxt-app", "storefront", &["main"]);
    std::fs::write(
        r.dir.join(".git/config"),
        "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:acme/storefront.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
    )
    .expect("git config");
    let (_home, env) = machine(Some("eu-west-1"));
    let detection = detect(&r.dir, &env).expect("detect");
    assert_eq!(detection.github.as_deref(), Some("acme/storefront"));
    // Without a connection: CodeCommit, and the GitHub form in a comment.
    let plan_cc = plan_with_defaults(&r.dir, &env, Answers::default());
    assert!(
        plan_cc
            .toml
            .contains("#   repository = \"acme/storefront\"")
    );
    let arn = "arn:aws:codeconnections:eu-west-1:123456789012:connection/abcd-1234";
    let plan = plan_with_defaults(
        &r.dir,
        &env,
        Answers {
            github_connection: Some(arn.into()),
            ..Answers::default()
        },
    );
    write(&r.dir, &plan).expect("write");
    let config = assert_checks_clean(&r.dir);
    assert_eq!(config.source.kind, SourceKind::GitHub);
    assert_eq!(config.source.repository, "acme/storefront");
    assert_eq!(config.source.connection.as_deref(), Some(arn));
}

#[test]
fn branch_mapping() {
    let map = |names: &[&str], head: Option<&str>| {
        let local: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        let b = map_branches(&local, head, true);
        [b.dev.value, b.stg.value, b.prod.value]
    };
    assert_eq!(
        map(&["develop", "staging", "main"], Some("main")),
        ["develop", "staging", "main"]
    );
    assert_eq!(map(&["main"], Some("main")), ["main", "stg", "prod"]);
    assert_eq!(
        map(&["main", "stg", "prod"], Some("main")),
        ["main", "stg", "prod"]
    );
    assert_eq!(
        map(&["develop", "master"], Some("develop")),
        ["develop", "stg", "master"]
    );
    assert_eq!(
        map(&["dev", "stage", "production", "main"], None),
        ["dev", "stage", "production"]
    );
    // A repository whose only branch is not a trunk name: HEAD is the trunk.
    assert_eq!(map(&["trunk"], Some("trunk")), ["trunk", "stg", "prod"]);
    // HEAD on a branch already mapped is not used twice.
    assert_eq!(map(&["prod"], Some("prod")), ["main", "stg", "prod"]);
    // Nested branch names (refs/heads/release/x) are read too.
    let r = repo("docker-expose", "svc", &["release/1.0", "main"]);
    let (_home, env) = machine(Some("eu-west-1"));
    let d = detect(&r.dir, &env).expect("detect");
    assert_eq!(d.head.as_deref(), Some("release/1.0"));
    assert_eq!(d.branches.dev.value, "main");
    // Packed refs count as branches.
    std::fs::write(
        r.dir.join(".git/packed-refs"),
        "# pack-refs with: peeled fully-peeled sorted\n0123456789abcdef0123456789abcdef01234567 refs/heads/develop\n",
    )
    .expect("packed-refs");
    let d = detect(&r.dir, &env).expect("detect");
    assert_eq!(
        [d.branches.dev.value, d.branches.prod.value],
        ["develop".to_string(), "main".to_string()]
    );
}

#[test]
fn region_from_the_aws_config() {
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join(".aws")).expect(".aws");
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = eu-west-1\n\n[profile work]\nsso_session = x\nregion = ap-southeast-2\n",
    )
    .expect("config");
    let mut env = Environment {
        vars: Default::default(),
        home: Some(home.path().to_path_buf()),
    };
    let region = |env: &Environment| apprun_init::detect_region(env).map(|f| f.value);
    assert_eq!(region(&env).as_deref(), Some("eu-west-1"));
    env.vars.insert("AWS_PROFILE".into(), "work".into());
    assert_eq!(region(&env).as_deref(), Some("ap-southeast-2"));
    env.vars.insert("AWS_PROFILE".into(), "missing".into());
    assert_eq!(region(&env), None);
    env.vars
        .insert("AWS_DEFAULT_REGION".into(), "sa-east-1".into());
    assert_eq!(region(&env).as_deref(), Some("sa-east-1"));
    env.vars.insert("AWS_REGION".into(), "ca-central-1".into());
    let found = apprun_init::detect_region(&env).expect("found");
    assert_eq!(
        (found.value.as_str(), found.from.as_str()),
        ("ca-central-1", "AWS_REGION")
    );
    // An empty variable counts as unset; AWS_CONFIG_FILE moves the file.
    let other = home.path().join("elsewhere");
    std::fs::write(&other, "[profile default]\nregion = me-south-1\n").expect("config");
    let env = Environment {
        vars: [
            ("AWS_REGION".to_string(), String::new()),
            ("AWS_CONFIG_FILE".to_string(), other.display().to_string()),
        ]
        .into(),
        home: Some(home.path().to_path_buf()),
    };
    assert_eq!(region(&env).as_deref(), Some("me-south-1"));
}

#[test]
fn dockerfile_ports() {
    let port = |text: &str| apprun_init::dockerfile_port(text).map(|f| f.value);
    assert_eq!(port("FROM x\nEXPOSE 8080\n"), Some(8080));
    assert_eq!(port("FROM x\nexpose 5000/tcp 5001\n"), Some(5000));
    assert_eq!(port("FROM x\nARG PORT=4000\nEXPOSE ${PORT}\n"), Some(4000));
    assert_eq!(
        port("FROM x\nENV APP_PORT 7000\nEXPOSE $APP_PORT\n"),
        Some(7000)
    );
    assert_eq!(port("FROM x\nEXPOSE ${P:-9090}\n"), Some(9090));
    assert_eq!(port("FROM x\nENV PORT=3000\nCMD [\"node\"]\n"), Some(3000));
    assert_eq!(port("FROM x AS a\nEXPOSE 1\nFROM y\nCMD z\n"), None);
    assert_eq!(port("FROM x\n# EXPOSE 80\nEXPOSE \\\n  8443\n"), Some(8443));
    assert_eq!(port("FROM x\nEXPOSE $UNKNOWN\n"), None);
}

#[test]
fn other_node_apps() {
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("site");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"site","scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"15.0.0","react":"19.0.0"}}"#,
    )
    .expect("package.json");
    std::fs::write(dir.join("pnpm-lock.yaml"), "lockfileVersion: '9.0'\n").expect("lock");
    let app = apprun_init::detect_app(&dir).expect("detect");
    let text = apprun_init::dockerfile(&app, 3000).expect("dockerfile");
    assert!(
        text.contains(
            "RUN corepack enable && pnpm install --frozen-lockfile\nRUN pnpm run build\n"
        )
    );
    assert!(text.contains("CMD [\"pnpm\", \"run\", \"start\"]"));
    assert!(text.contains("USER node"));

    std::fs::remove_file(dir.join("pnpm-lock.yaml")).expect("rm");
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"api","main":"server.js","dependencies":{"express":"5.0.0"}}"#,
    )
    .expect("package.json");
    let app = apprun_init::detect_app(&dir).expect("detect");
    assert_eq!(app.port(), None, "a plain Node app's port is asked");
    let text = apprun_init::dockerfile(&app, 4000).expect("dockerfile");
    assert!(
        text.contains("RUN npm install\n\nFROM"),
        "no build script: no build step"
    );
    assert!(text.contains("CMD [\"node\", \"server.js\"]"));

    // Nothing to detect.
    std::fs::remove_file(dir.join("package.json")).expect("rm");
    let err = apprun_init::detect_app(&dir).expect_err("nothing there");
    assert!(matches!(err, InitError::NoApp { .. }));
}

#[test]
fn cargo_workspaces_and_library_crates() {
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\"]\n",
    )
    .expect("root");
    for (name, main) in [("core", false), ("server", true)] {
        let c = dir.join("crates").join(name);
        std::fs::create_dir_all(c.join("src")).expect("src");
        std::fs::write(
            c.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
        )
        .expect("manifest");
        let file = if main { "main.rs" } else { "lib.rs" };
        std::fs::write(c.join("src").join(file), "").expect("source");
    }
    let app = apprun_init::detect_app(dir).expect("detect");
    assert_eq!(
        app,
        App::Cargo {
            package: "server".into(),
            bin: "server".into(),
            locked: false,
            others: Vec::new(),
        }
    );
    let text = apprun_init::dockerfile(&app, 8080).expect("dockerfile");
    assert!(
        text.contains("cargo build --release -p server --bin server"),
        "no --locked without Cargo.lock"
    );
    // A library-only crate is not an app.
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"lib\"\nversion = \"0.1.0\"\n",
    )
    .expect("root");
    assert!(matches!(
        apprun_init::detect_app(dir),
        Err(InitError::NoApp { .. })
    ));
}

#[test]
fn answers_are_checked_as_they_are_given() {
    let r = repo("cargo-bin", "2024", &[]);
    let (_home, env) = machine(None);
    let detection = detect(&r.dir, &env).expect("detect");
    let open = questions(&detection, &Answers::default());
    let q = |field| open.iter().find(|q| q.field == field).expect("asked");
    let mut answers = Answers::default();
    for (field, bad, flag) in [
        (
            Field::Id,
            "Shop_API",
            "--id: `Shop_API` is not a valid system id",
        ),
        (
            Field::Region,
            "tokyo",
            "--region: `tokyo` is not an AWS region",
        ),
        (Field::Port, "0", "--port: `0` is not a port"),
        (
            Field::Compute,
            "lambda",
            "--compute: `lambda` is not a compute backend",
        ),
    ] {
        let err = answer(&mut answers, q(field), bad).expect_err("refused");
        assert!(err.to_string().starts_with(flag), "{err}");
    }
    for (field, good) in [
        (Field::Id, "shop"),
        (Field::Region, "eu-west-1"),
        (Field::Port, "8080"),
        (Field::Compute, "app-runner"),
    ] {
        answer(&mut answers, q(field), good).expect("accepted");
    }
    assert_eq!(answers.compute, Some(Compute::AppRunner));
    assert!(plan(&detection, &answers).is_ok());
}

#[cfg(unix)]
#[test]
fn a_file_that_appears_while_writing_undoes_the_files_before_it() {
    // A dangling symlink: not there for `exists()`, but the name is taken,
    // so apprun.toml cannot be placed after the Dockerfile was.
    let r = repo("cargo-bin", "shop", &["main"]);
    let (_home, env) = machine(Some("eu-west-1"));
    let plan = plan_with_defaults(&r.dir, &env, Answers::default());
    std::os::unix::fs::symlink("nowhere", r.dir.join(CONFIG_FILE)).expect("symlink");
    let before = files_in(&r.dir);
    let err = write(&r.dir, &plan).expect_err("the name is taken");
    assert!(matches!(err, InitError::Exists { .. }), "{err}");
    assert_eq!(
        files_in(&r.dir),
        before,
        "Dockerfile and .dockerignore removed again"
    );
    assert_eq!(
        std::fs::read_link(r.dir.join(CONFIG_FILE)).expect("link kept"),
        Path::new("nowhere")
    );
}
