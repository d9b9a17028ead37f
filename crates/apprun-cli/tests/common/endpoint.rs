//! A loopback endpoint that stands in for AWS in the CLI's end-to-end tests
//! (`--endpoint-url`): it answers each action (the `X-Amz-Target` of awsJson
//! requests, the `Action` of awsQuery forms) from a script of hand-written
//! wire responses and keeps every call it received. Shared by the tests of
//! `job`, `logs` and `approve`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

#[path = "../../../apprun-deploy/tests/support/script.rs"]
mod script;
pub use script::Script;

/// A loopback endpoint answering from a [`Script`]; its methods (`on`,
/// `bodies`, `raw`, `actions`) are the script's.
pub struct Endpoint {
    pub url: String,
    script: Arc<Script>,
}

impl std::ops::Deref for Endpoint {
    type Target = Script;

    fn deref(&self) -> &Script {
        &self.script
    }
}

impl Endpoint {
    pub fn start() -> Endpoint {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script: Arc<Script> = Arc::default();
        let s = script.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Endpoint { url, script }
    }

    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_apprun"));
        c.args(args)
            .args(["--endpoint-url", &self.url])
            .current_dir(dir)
            .stdin(Stdio::null())
            .env_remove("APPRUN_CONFIG")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.join("no-aws-credentials"),
            )
            // Poll every 5 ms (a test may set its own interval after this).
            .env("APPRUN_POLL_MS", "5")
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(dir, args).output().unwrap()
    }
}

/// One HTTP/1.1 exchange: the head, the body (Content-Length), the
/// script's answer.
fn serve(mut stream: std::net::TcpStream, script: &Script) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if stream.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let a = script.answer(
        header("x-amz-target").as_deref(),
        header("content-type").as_deref(),
        body,
    );
    let reply = format!(
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        a.status,
        a.content_type,
        a.body.len(),
        a.body
    );
    let _ = stream.write_all(reply.as_bytes());
}
