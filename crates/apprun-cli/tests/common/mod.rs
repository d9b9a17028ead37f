//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

pub mod endpoint;
pub mod faults;

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

/// A moto server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        let exe = std::env::var_os("APPRUN_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join(".venv/bin/moto_server"));
        assert!(
            exe.exists(),
            "moto_server not found at {}: run scripts/test.sh, which installs the pinned moto into .venv",
            exe.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Runs apprun against this endpoint with test credentials.
    pub fn apprun(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_apprun"))
            .args(args)
            .current_dir(dir)
            .env_remove("APPRUN_CONFIG")
            .env_remove("AWS_PROFILE")
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("APPRUN_POLL_MS", "100")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("apprun runs")
    }

    /// Runs the pinned AWS CLI (.venv/bin/aws) against this endpoint and
    /// returns its JSON answer: reading what a deploy created through the CLI
    /// spares the test build the largest SDK crates (EC2, IAM).
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let exe = workspace().join(".venv/bin/aws");
        assert!(
            exe.exists(),
            "aws not found at {}: run scripts/test.sh, which installs the pinned awscli into .venv",
            exe.display()
        );
        let o = Command::new(exe)
            .args([
                "--endpoint-url",
                &self.endpoint,
                "--region",
                "ap-northeast-1",
            ])
            .args(["--output", "json"])
            .args(args)
            .env_remove("AWS_PROFILE")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("aws runs");
        assert!(o.status.success(), "aws {args:?}: {}", stderr(&o));
        json(&o)
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(apprun_deploy::Clients::sdk_http_client())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("ap-northeast-1"))
            .test_credentials()
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// A docker-registry (distribution) on a free loopback port, stopped when dropped.
pub struct Registry {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    pub address: String,
}

impl Registry {
    pub fn start() -> Registry {
        let exe = PathBuf::from("/usr/bin/docker-registry");
        assert!(
            exe.exists(),
            "docker-registry missing: scripts/test.sh installs Debian's docker-registry"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n", dir.path().join("data").display()),
        )
        .unwrap();
        let child = Command::new(exe)
            .args(["serve", config.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "docker-registry did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Registry {
            child,
            _dir: dir,
            address: format!("127.0.0.1:{port}"),
        }
    }

    /// GET on the registry's HTTP API (plain HTTP/1.1, loopback).
    pub fn get(&self, path: &str, accept: &str) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.address).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
