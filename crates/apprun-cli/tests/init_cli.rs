//! `apprun init` and `apprun completions` through the binary: init on the
//! fixture repositories of crates/apprun-init, then the real
//! `apprun check --env E` on what it wrote; refusals and their exit codes;
//! completion scripts for every shell.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

/// `apprun` in `dir` without a terminal, with the region given by
/// AWS_REGION and no other AWS settings of this machine.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(args)
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("apprun runs")
}

/// A copy of an init fixture in a folder named `name`.
fn fixture(fixture: &str, name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join(name);
    copy_tree(
        &workspace()
            .join("crates/apprun-init/tests/fixtures")
            .join(fixture),
        &dir,
    );
    (tmp, dir)
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

#[test]
fn init_then_check_passes_on_every_fixture() {
    for (name, dockerfile_written) in [
        ("docker-expose", false),
        ("cargo-bin", true),
        ("nuxt-app", true),
    ] {
        for compute in ["apprunner", "ecs-express"] {
            let (_tmp, dir) = fixture(name, "shop");
            let o = run(&dir, &["init", "--yes", "--compute", compute]);
            assert!(o.status.success(), "{name}: {}", stderr(&o));
            let mut expected = vec!["./apprun.toml".to_owned()];
            if dockerfile_written {
                // A generated Dockerfile comes with a .dockerignore.
                expected.insert(0, "./.dockerignore".to_owned());
                expected.insert(0, "./Dockerfile".to_owned());
            }
            assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), expected, "{name}");
            for env in ["dev", "stg", "prod"] {
                let o = run(&dir, &["check", "--env", env]);
                assert_eq!(
                    o.status.code(),
                    Some(0),
                    "{name} {compute} check --env {env}: {}{}",
                    stdout(&o),
                    stderr(&o)
                );
                // The summary is progress (stderr); the count is in the report.
                assert!(stderr(&o).contains(": 0 errors"), "{}", stderr(&o));
                let o = run(&dir, &["--output", "json", "check", "--env", env]);
                let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                assert_eq!(report["errors"], 0, "{report}");
            }
        }
    }
}

#[test]
fn init_refuses_what_it_must_not_do() {
    let (_tmp, dir) = fixture("cargo-bin", "shop");
    // No terminal, no --yes: the open question is named by its flag (exit 4),
    // and nothing is written.
    let o = run(&dir, &["init"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("pass --port"), "{}", stderr(&o));
    assert!(!dir.join("apprun.toml").exists());
    assert!(!dir.join("Dockerfile").exists());

    let o = run(
        &dir,
        &["init", "--port", "8080", "--compute", "ecs-express"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(dir.join("apprun.toml")).expect("written");

    // An existing apprun.toml is never overwritten (exit 4).
    let o = run(&dir, &["init", "--yes"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("apprun.toml")).expect("kept"),
        written
    );

    // An answer apprun.toml would refuse is a usage error naming its flag.
    let (_tmp, dir) = fixture("docker-expose", "svc");
    let o = run(&dir, &["init", "--yes", "--id", "Bad_Id"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--id"), "{}", stderr(&o));
    assert!(!dir.join("apprun.toml").exists());

    // A folder without an app.
    let empty = tempfile::tempdir().expect("dir");
    let o = run(empty.path(), &["init", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no app found"), "{}", stderr(&o));
}

#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().expect("dir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(dir.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        // Subcommands and their flags are completed.
        for word in ["deploy", "init", "env", "compute", "ecs-express"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = run(dir.path(), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
