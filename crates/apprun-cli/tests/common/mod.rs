//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the built `apprun` in `dir` with a clean colour/terminal environment.
pub fn apprun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apprun"))
        .args(args)
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("apprun runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary folder holding a copy of the shipped apprun.toml.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        workspace().join("apprun.toml"),
        dir.path().join("apprun.toml"),
    )
    .unwrap();
    dir
}

/// The cfn-lint installed by the test command (scripts/test.sh), never skipped.
pub fn cfn_lint() -> PathBuf {
    let path = std::env::var_os("APPRUN_CFN_LINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/cfn-lint"));
    assert!(
        path.exists(),
        "cfn-lint not found at {}: run scripts/test.sh, which installs the pinned version into .venv",
        path.display()
    );
    path
}
