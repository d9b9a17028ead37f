//! The text `init` writes: apprun.toml in the reference's layout, and a
//! multi-stage Dockerfile for apps that have none.

use std::fmt::Write as _;

use apprun_config::Compute;

use crate::Plan;
use crate::detect::{App, Framework, PackageManager};

/// ECR Public mirrors of Docker's official images: no Docker Hub pull rate
/// limits in CodeBuild.
pub const RUST_IMAGE: &str = "public.ecr.aws/docker/library/rust:1.95-bookworm";
pub const NODE_IMAGE: &str = "public.ecr.aws/docker/library/node:22-bookworm-slim";

/// The three envs, with the reference's sizes and a /24 each that does not
/// overlap the others (they deploy to the same account until `account` is
/// set).
pub(crate) struct EnvLayout {
    pub name: &'static str,
    pub network: &'static str,
    pub cpu: &'static str,
    pub memory: &'static str,
}

pub(crate) const ENVS: [EnvLayout; 3] = [
    EnvLayout {
        name: "dev",
        network: "10.0.0.0/24",
        cpu: "1 vCPU",
        memory: "2 GB",
    },
    EnvLayout {
        name: "stg",
        network: "10.0.1.0/24",
        cpu: "2 vCPU",
        memory: "4 GB",
    },
    EnvLayout {
        name: "prod",
        network: "10.0.2.0/24",
        cpu: "2 vCPU",
        memory: "4 GB",
    },
];

/// A TOML string literal (quoted and escaped).
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The column trailing comments start at, as in the README's example.
const COMMENT_COLUMN: usize = 32;

/// `key = value`, with `comment` lined up at [`COMMENT_COLUMN`].
fn kv(w: &mut String, key: &str, value: &str, comment: Option<&str>) {
    let line = format!("{key} = {value}");
    match comment {
        Some(c) => {
            let pad = COMMENT_COLUMN.saturating_sub(line.len()).max(1);
            let _ = writeln!(w, "{line}{}# {c}", " ".repeat(pad));
        }
        None => {
            let _ = writeln!(w, "{line}");
        }
    }
}

/// apprun.toml for `plan`, with comments that say what each part is.
pub fn apprun_toml(plan: &Plan) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Written by `apprun init`. Check it with `apprun plan --env dev` and\n\
         # `apprun check --env dev`; every key is described in apprun's README\n\
         # (section \"apprun.toml\").\n"
    );
    system_section(&mut t, plan);
    source_section(&mut t, plan);
    service_section(&mut t, plan);
    env_sections(&mut t, plan);
    t
}

fn system_section(w: &mut String, plan: &Plan) {
    let _ = writeln!(w, "[system]");
    kv(
        w,
        "id",
        &q(&plan.id),
        Some("prefix of every AWS name; lowercase, digits, single hyphens"),
    );
    kv(w, "region", &q(&plan.region), None);
    let zones = format!("[{}, {}]", q(&plan.zones[0]), q(&plan.zones[1]));
    kv(
        w,
        "zones",
        &zones,
        Some("two zones your account has (aws ec2 describe-availability-zones)"),
    );
    let _ = writeln!(w);
}

fn source_section(w: &mut String, plan: &Plan) {
    let _ = writeln!(w, "[source]");
    match &plan.connection {
        Some(connection) => {
            kv(w, "type", "\"github\"", None);
            kv(w, "repository", &q(&plan.repository), None);
            kv(w, "connection", &q(connection), None);
        }
        None => {
            let _ = writeln!(
                w,
                "# A CodeCommit repository per account, created with the first env\n\
                 # deployed there. For GitHub instead:\n\
                 #   type = \"github\"\n\
                 #   repository = {}\n\
                 #   connection = \"arn:aws:codeconnections:REGION:ACCOUNT:connection/ID\"",
                q(plan.github.as_deref().unwrap_or("owner/name"))
            );
            kv(w, "type", "\"codecommit\"", None);
            kv(w, "repository", &q(&plan.repository), None);
        }
    }
    let _ = writeln!(w);
}

fn service_section(w: &mut String, plan: &Plan) {
    let header = "[services.web]";
    let _ = writeln!(
        w,
        "{header}{}# the primary service",
        " ".repeat(COMMENT_COLUMN - header.len())
    );
    let compute_note = match plan.compute {
        Compute::AppRunner => "\"apprunner\" or \"ecs-express\"",
        Compute::EcsExpress => "or \"apprunner\" (App Runner takes existing customers only)",
    };
    kv(w, "compute", &q(plan.compute.as_str()), Some(compute_note));
    kv(
        w,
        "port",
        &plan.port.to_string(),
        Some("the port the container listens on"),
    );
    kv(
        w,
        "dockerfile",
        &q(&plan.dockerfile),
        Some("what the pipeline builds"),
    );
    if plan.compute == Compute::EcsExpress {
        kv(w, "min_tasks", "1", Some("ECS Express: task count bounds"));
        kv(w, "max_tasks", "4", None);
        kv(
            w,
            "scale_on",
            "\"cpu\"",
            Some("\"cpu\" | \"memory\" | \"requests\""),
        );
        kv(
            w,
            "scale_target",
            "60",
            Some("percent for cpu/memory, requests per target for requests"),
        );
    }
    kv(
        w,
        "health",
        &format!(
            "{{ path = {}, interval = 10, timeout = 3, healthy = 1, unhealthy = 3 }}",
            q(&plan.health_path)
        ),
        None,
    );
    let _ = writeln!(w);
}

fn env_sections(w: &mut String, plan: &Plan) {
    let _ = writeln!(
        w,
        "# One env per branch. The networks do not overlap, so all three can share\n\
         # an account; set `account = \"123456789012\"` on an env that deploys to\n\
         # another one."
    );
    for (layout, branch) in ENVS.iter().zip(&plan.branches) {
        let _ = writeln!(w, "[env.{}]", layout.name);
        kv(w, "network", &q(layout.network), Some("a /16 to /24"));
        kv(
            w,
            "branch",
            &q(branch),
            Some("the pipeline's source branch"),
        );
        kv(
            w,
            "cpu",
            &q(layout.cpu),
            cpu_note(plan.compute, layout.name),
        );
        kv(w, "memory", &q(layout.memory), None);
        kv(
            w,
            "approval",
            "true",
            Some("manual approval before each deploy"),
        );
        if layout.name != "prod" {
            let _ = writeln!(w);
        }
    }
}

/// The sizes the backend offers, on the first env's cpu line only.
fn cpu_note(compute: Compute, env: &str) -> Option<&'static str> {
    if env != "dev" {
        return None;
    }
    Some(match compute {
        Compute::AppRunner => {
            "App Runner pairs: 0.25/0.5,1 · 0.5/1 · 1/2,3,4 · 2/4,6 · 4/8,10,12 GB"
        }
        Compute::EcsExpress => "any Fargate cpu/memory pair, up to 16 vCPU",
    })
}

/// A multi-stage Dockerfile for an app without one; `None` for an app that
/// brings its own.
pub fn dockerfile(app: &App, port: u16) -> Option<String> {
    match app {
        App::Dockerfile { .. } => None,
        App::Cargo {
            package,
            bin,
            locked,
            ..
        } => Some(cargo_dockerfile(package, bin, *locked, port)),
        App::Node { .. } => Some(node_dockerfile(app, port)),
    }
}

fn cargo_dockerfile(package: &str, bin: &str, locked: bool, port: u16) -> String {
    let locked = if locked { " --locked" } else { "" };
    format!(
        "# Written by `apprun init`: compiles the binary inside the image build\n\
         # (CodeBuild's image has no Rust), then copies the static binary into an\n\
         # empty image. Base images come from ECR Public (Docker's official images,\n\
         # mirrored): no Docker Hub pull rate limits.\n\
         FROM {RUST_IMAGE} AS build\n\
         WORKDIR /src\n\
         COPY . .\n\
         # --target keeps the static flag off build scripts and proc macros.\n\
         RUN RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release{locked} -p {package} --bin {bin} --target x86_64-unknown-linux-gnu\n\
         \n\
         FROM scratch\n\
         # TLS roots for outgoing HTTPS calls (the empty image has none).\n\
         COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n\
         COPY --from=build /src/target/x86_64-unknown-linux-gnu/release/{bin} /app\n\
         ENV PORT={port}\n\
         EXPOSE {port}\n\
         USER 65534:65534\n\
         ENTRYPOINT [\"/app\"]\n"
    )
}

/// The install, build and start commands of a package manager.
fn node_commands(
    manager: PackageManager,
    locked: bool,
    yarn_berry: bool,
) -> (&'static str, &'static str) {
    match (manager, locked) {
        (PackageManager::Npm, true) => ("npm ci", "npm"),
        (PackageManager::Npm, false) => ("npm install", "npm"),
        (PackageManager::Pnpm, _) => ("corepack enable && pnpm install --frozen-lockfile", "pnpm"),
        (PackageManager::Yarn, _) if yarn_berry => {
            ("corepack enable && yarn install --immutable", "yarn")
        }
        (PackageManager::Yarn, _) => ("corepack enable && yarn install --frozen-lockfile", "yarn"),
    }
}

fn node_dockerfile(app: &App, port: u16) -> String {
    let App::Node {
        framework,
        manager,
        locked,
        yarn_berry,
        build,
        start,
        main,
    } = app
    else {
        return String::new();
    };
    let (install, run) = node_commands(*manager, *locked, *yarn_berry);
    let mut t = format!(
        "# Written by `apprun init` for a {} app: installs and builds in one stage,\n\
         # runs in a second one. Base images come from ECR Public (Docker's official\n\
         # images, mirrored): no Docker Hub pull rate limits.\n\
         FROM {NODE_IMAGE} AS build\n\
         WORKDIR /app\n\
         # The whole tree first: install hooks (e.g. `nuxt prepare`) read the config.\n\
         COPY . .\n\
         RUN {install}\n",
        framework.as_str()
    );
    if *build {
        let _ = writeln!(t, "RUN {run} run build");
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "FROM {NODE_IMAGE}");
    let _ = writeln!(t, "WORKDIR /app");
    let _ = writeln!(t, "ENV NODE_ENV=production PORT={port} HOST=0.0.0.0");
    let cmd = match framework {
        Framework::Nuxt => {
            // `nuxt build` bundles the server and its dependencies into .output.
            let _ = writeln!(t, "COPY --from=build /app/.output ./.output");
            "[\"node\", \".output/server/index.mjs\"]".to_owned()
        }
        Framework::Next | Framework::Plain => {
            let _ = writeln!(t, "COPY --from=build /app ./");
            if *manager != PackageManager::Npm {
                let _ = writeln!(t, "RUN corepack enable");
            }
            if *start {
                format!("[\"{run}\", \"run\", \"start\"]")
            } else if *framework == Framework::Next {
                "[\"node_modules/.bin/next\", \"start\"]".to_owned()
            } else {
                let entry = main.as_deref().unwrap_or("index.js");
                format!("[\"node\", {}]", q(entry))
            }
        }
    };
    let _ = writeln!(t, "EXPOSE {port}");
    let _ = writeln!(t, "USER node");
    let _ = writeln!(t, "CMD {cmd}");
    t
}

/// What the image build does not need: build output and dependencies made
/// on the workstation (rebuilt inside the image), and the git folder.
pub fn dockerignore(app: &App) -> String {
    let mut t =
        String::from("# Written by `apprun init`: kept out of the image build's context.\n.git\n");
    match app {
        App::Cargo { .. } => t.push_str("target\n"),
        App::Node { .. } => t.push_str("node_modules\n.output\n.nuxt\n.next\n"),
        App::Dockerfile { .. } => {}
    }
    t
}
