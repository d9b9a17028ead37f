//! `apprun release` and `apprun local` with real parts: the reference app
//! built as a static binary, an image built by buildah (no daemon) and
//! pushed over plain HTTP to docker-registry on loopback, then read back
//! through the registry's API; the one command from nothing against
//! moto_server; the app run locally and answered.

mod common;

use common::*;
use std::process::Command;

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// A git repository holding the shipped config and Dockerfile, whose
/// prebuild is the workspace's static build of the reference app.
fn app_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace();
    let config = std::fs::read_to_string(ws.join("apprun.toml"))
        .unwrap()
        .replace(
            "prebuild = [\"scripts/build-app.sh\"]",
            &format!(
                "prebuild = [\"{}\"]",
                ws.join("scripts/build-app.sh").display()
            ),
        )
        .replace(
            "local = [\"target/x86_64-unknown-linux-gnu/release/hello-app\"]",
            &format!(
                "local = [\"{}\"]",
                ws.join("target/x86_64-unknown-linux-gnu/release/hello-app")
                    .display()
            ),
        );
    std::fs::write(dir.path().join("apprun.toml"), config).unwrap();
    std::fs::copy(ws.join("Dockerfile"), dir.path().join("Dockerfile")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/build\n").unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(
        dir.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "app",
        ],
    );
    dir
}

#[test]
fn release_builds_offline_and_pushes_a_small_image_tagged_with_the_commit() {
    let registry = Registry::start();
    let repo = app_repo();
    let target = format!("{}/apprunner-nuxt3-dev", registry.address);
    let o = apprun(
        repo.path(),
        &[
            "release",
            "--env",
            "dev",
            "--registry",
            &target,
            "--skip-deploy",
            "--builder",
            "buildah",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let commit = git(repo.path(), &["rev-parse", "HEAD"]);
    let tag = &commit[..7];
    assert_eq!(json(&o)["image"], format!("{target}:{tag}"));

    let tags: serde_json::Value = serde_json::from_str(
        &registry.get("/v2/apprunner-nuxt3-dev/tags/list", "application/json"),
    )
    .unwrap();
    assert_eq!(tags["tags"], serde_json::json!([tag]));
    let manifest: serde_json::Value = serde_json::from_str(&registry.get(
        &format!("/v2/apprunner-nuxt3-dev/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    ))
    .unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "FROM scratch: one layer, the binary");
    let size: u64 = layers
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum::<u64>()
        + manifest["config"]["size"].as_u64().unwrap();
    assert!(size <= 20 * 1024 * 1024, "image is {size} bytes");
    let config: serde_json::Value = serde_json::from_str(&registry.get(
        &format!(
            "/v2/apprunner-nuxt3-dev/blobs/{}",
            manifest["config"]["digest"].as_str().unwrap()
        ),
        "*/*",
    ))
    .unwrap();
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/hello-app"])
    );
    assert!(config["config"]["Env"].to_string().contains("PORT=3000"));

    // A dirty tree does not describe the image: refused unless --tag is given.
    std::fs::write(repo.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    let o = apprun(
        repo.path(),
        &[
            "release",
            "--env",
            "dev",
            "--registry",
            &target,
            "--skip-deploy",
            "--builder",
            "buildah",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).contains("uncommitted changes") && stderr(&o).contains("--tag"),
        "{}",
        stderr(&o)
    );
}

/// The one command from nothing: on a fresh moto endpoint, `apprun release`
/// deploys the infrastructure without the service, builds and pushes the
/// commit's image, finds the tag in the registry and goes on to the service
/// stack, whose create moto cannot do (it has no App Runner). What follows
/// on AWS (App Runner's operation, the health path) is covered with
/// hand-written wire responses in crates/apprun-deploy/tests/wire_responses.rs.
#[test]
fn release_from_nothing_stands_up_the_env_pushes_and_reaches_the_service() {
    let moto = Moto::start();
    let registry = Registry::start();
    let repo = app_repo();
    let target = format!("{}/apprunner-nuxt3-dev", registry.address);
    let tag = git(repo.path(), &["rev-parse", "--short=7", "HEAD"]);

    // Without --yes and without a terminal, the infrastructure is not
    // created and nothing is built.
    let o = moto.apprun(
        repo.path(),
        &[
            "release",
            "--env",
            "dev",
            "--registry",
            &target,
            "--builder",
            "buildah",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Pass --yes") && stderr(&o).contains("no image was built"),
        "{}",
        stderr(&o)
    );
    assert!(
        registry
            .get("/v2/_catalog", "application/json")
            .contains(r#"{"repositories":[]}"#)
    );

    let o = moto.apprun(
        repo.path(),
        &[
            "release",
            "--env",
            "dev",
            "--registry",
            &target,
            "--builder",
            "buildah",
            "--yes",
            "--output",
            "json",
        ],
    );
    let report = json(&o);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{report}
{err}"
    );

    // (a) the infrastructure, the service deferred.
    let infrastructure = report["infrastructure"]["stacks"].as_array().unwrap();
    let outcome = |stack: &str| {
        infrastructure
            .iter()
            .find(|s| s["stack"] == stack)
            .map(|s| s["outcome"].as_str().unwrap().to_owned())
    };
    for stack in [
        "apprunner-nuxt3-iam",
        "apprunner-nuxt3-dev-repository",
        "apprunner-nuxt3-dev-network",
        "apprunner-nuxt3-dev-pipeline",
    ] {
        assert_eq!(outcome(stack).as_deref(), Some("created"), "{report}");
    }
    assert_eq!(
        outcome("apprunner-nuxt3-dev-service-web").as_deref(),
        Some("deferred")
    );

    // (b) the image of the commit, pushed and readable through the registry API.
    assert_eq!(report["image"], format!("{target}:{tag}"));
    let tags: serde_json::Value = serde_json::from_str(
        &registry.get("/v2/apprunner-nuxt3-dev/tags/list", "application/json"),
    )
    .unwrap();
    assert_eq!(tags["tags"], serde_json::json!([tag]));

    // (c) the tag check passed and the service stack was attempted at that
    //     tag; moto has no App Runner, so its create fails there.
    assert_eq!(report["release"]["deploys"], serde_json::json!([tag]));
    let error = report["error"].as_str().unwrap();
    assert!(!error.contains("is not in repository"), "{error}");
    assert!(
        error.contains("CreateStack failed for apprunner-nuxt3-dev-service-web")
            && error.contains("HTTP 500"),
        "moto cannot create an App Runner service: {error}"
    );
    let next = report["next"].as_str().unwrap();
    assert!(
        next.contains("the infrastructure of env dev is deployed")
            && next.contains(&format!("{target}:{tag} is pushed"))
            && next.contains(&format!("apprun deploy --env dev --image-tag {tag}")),
        "{next}"
    );
    for line in [
        "[1/4] infrastructure:",
        "[2/4] building",
        "[2/4] pushing",
        "[3/4] service: deploying",
    ] {
        assert!(err.contains(line), "progress {line:?} in {err}");
    }
}

#[test]
fn local_serves_the_page_and_the_api_then_stops_on_ctrl_c() {
    let repo = app_repo();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(["local", "--env", "stg", "--port", &port.to_string()])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert_eq!(
        first.trim(),
        format!("http://127.0.0.1:{port}/"),
        "the URL is printed once healthy"
    );
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let page = get("/");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("Hello world"),
        "{page}"
    );
    assert!(
        page.contains(r#"<span id="env">stg</span>"#),
        "ENV is the env's name"
    );
    assert!(get("/api/date").contains(r#"{"date":"20"#));
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    // Ctrl-C is an interruption: the service stopped cleanly, apprun exits 130.
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stopped"), "{err}");
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(
        logs.contains("SIGTERM received, draining connections"),
        "the app was stopped with SIGTERM: {logs}"
    );
}
