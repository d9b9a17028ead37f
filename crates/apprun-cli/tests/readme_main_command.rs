//! The README's main command, run exactly as written: the first command of
//! the "Set up on a fresh machine" block, by `sh -c` from the workspace root.
//!
//! It is a `cargo run` in the dev profile. After the workspace's test build
//! (`scripts/test.sh`: `cargo test --workspace` or `cargo nextest run
//! --workspace`) the build it needs already exists, provided that no
//! dev-dependency adds features to a dependency of the binary: then `cargo
//! run` resolves the same features and compiles nothing again. That
//! condition is asserted below from cargo's own feature resolution (`cargo
//! tree`), independently of how this test was started. (Started alone, as
//! `cargo test -p apprun-cli`, the test build resolved apprun-cli's features
//! only, and the nested `cargo run` builds what the other members change,
//! once.)

mod common;

use std::process::Command;

use common::*;

/// The first command line (not a comment) of the first code block after the
/// "Set up on a fresh machine" heading.
fn main_command(readme: &str) -> String {
    let section = readme
        .split("\n## Set up on a fresh machine")
        .nth(1)
        .expect("README has a \"Set up on a fresh machine\" section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the section has a code block");
    block
        .lines()
        .skip(1) // the fence's language tag
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .expect("the block has a command")
        .to_owned()
}

#[test]
fn the_main_command_is_found_where_a_reader_looks() {
    let readme = "# x\n\n## Set up on a fresh machine\n\nText.\n\n```sh\n# a comment\n\ncargo run -- plan --env dev\n\nscripts/test.sh\n```\n";
    assert_eq!(main_command(readme), "cargo run -- plan --env dev");
}

#[test]
fn readme_main_command_prints_the_dev_plan() {
    let ws = workspace();
    let readme = std::fs::read_to_string(ws.join("README.md")).unwrap();
    let command = main_command(&readme);
    assert!(
        command.starts_with("cargo run"),
        "the main command builds and runs apprun from the checkout: {command}"
    );
    let started = std::time::Instant::now();
    let o = Command::new("sh")
        .args(["-c", &command])
        .current_dir(&ws)
        .env_remove("APPRUN_CONFIG")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("sh runs");
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "`{command}` failed:\n{err}");
    for needle in [
        "1     apprunner-nuxt3-dev-network",
        "2     apprunner-nuxt3-dev-service-web",
        "Protect  ap-northeast-1c  10.0.0.128/26",
        "branch main → build (image tagged with the commit) → manual approval → deploy",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    eprintln!("`{command}` took {:?}", started.elapsed());
}

/// Each package's features as cargo resolves them for the whole workspace,
/// with (`features`) or without (`features,no-dev`) dev-dependencies.
fn resolved_features(edges: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "tree",
            "--workspace",
            "--locked",
            "--prefix",
            "none",
            "-f",
            "{p} {f}",
            "-e",
            edges,
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in stdout(&o).lines().filter(|l| !l.contains(" feature \"")) {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let features = out.entry(format!("{name} {version}")).or_default();
        for f in words
            .filter(|w| !w.starts_with('('))
            .flat_map(|w| w.split(','))
        {
            if !features.iter().any(|have| have == f) {
                features.push(f.to_owned());
            }
        }
        features.sort();
    }
    out
}

/// `cargo run` after `cargo test --workspace` reuses the test build only if
/// no dev-dependency changes the features of a package the binary uses (a
/// dev-dependency enabling e.g. `aws-smithy-http-client/test-util` or
/// `rustix/fs` would make a fresh clone build the AWS SDK a second time).
#[test]
fn dev_dependencies_add_no_features_to_what_the_binary_uses() {
    let normal = resolved_features("features,no-dev");
    let with_dev = resolved_features("features");
    assert!(
        normal.len() > 100,
        "cargo tree listed {} packages",
        normal.len()
    );
    let differ: Vec<String> = normal
        .iter()
        .filter_map(|(package, features)| {
            let dev = with_dev.get(package)?;
            (dev != features)
                .then(|| format!("{package}: {features:?} vs {dev:?} with dev-dependencies"))
        })
        .collect();
    assert!(differ.is_empty(), "features differ: {differ:#?}");
}
