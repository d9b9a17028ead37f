//! A loopback endpoint that stands in for AWS in the CLI's end-to-end tests
//! (`--endpoint-url`): it answers each action (the `X-Amz-Target` of awsJson
//! requests, the `Action` of awsQuery forms) from a script of hand-written
//! wire responses and keeps every call it received. Shared by the tests of
//! `job`, `logs` and `approve`.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub type Script = HashMap<String, VecDeque<(u16, String)>>;

/// A loopback endpoint answering from a script per action (the last
/// response of an action repeats) and keeping (action, body) of each call.
pub struct Endpoint {
    pub url: String,
    script: Arc<Mutex<Script>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Endpoint {
    pub fn start() -> Endpoint {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script: Arc<Mutex<Script>> = Arc::default();
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (s, r) = (script.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (s, r) = (s.clone(), r.clone());
                std::thread::spawn(move || serve(stream, &s, &r));
            }
        });
        Endpoint { url, script, seen }
    }

    pub fn on(&self, action: &str, status: u16, body: impl Into<String>) -> &Self {
        self.script
            .lock()
            .unwrap()
            .entry(action.to_owned())
            .or_default()
            .push_back((status, body.into()));
        self
    }

    pub fn bodies(&self, action: &str) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
            .collect()
    }

    pub fn actions(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// The raw request bodies of an action (awsQuery forms, for CloudFormation).
    pub fn raw(&self, action: &str) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, b)| b.clone())
            .collect()
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

/// One HTTP/1.1 exchange: the head, the body (Content-Length), the answer
/// (with the request's awsJson content type, or XML for awsQuery).
fn serve(
    mut stream: std::net::TcpStream,
    script: &Mutex<Script>,
    seen: &Mutex<Vec<(String, String)>>,
) {
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
    let target = header("x-amz-target").and_then(|t| t.rsplit('.').next().map(str::to_owned));
    let content_type = match header("content-type") {
        Some(t) if t.starts_with("application/x-amz-json") => t,
        _ => "text/xml".to_owned(),
    };
    let action = target
        .or_else(|| {
            body.split('&')
                .find_map(|kv| kv.strip_prefix("Action="))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    // DescribeStacks answers per stack when scripted so
    // (`DescribeStacks <name>`), else as scripted for every stack.
    let stack = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("StackName="))
        .map(|n| format!("{action} {n}"));
    seen.lock().unwrap().push((action.clone(), body));
    let (status, text) = {
        let mut script = script.lock().unwrap();
        let action = stack.filter(|k| script.contains_key(k)).unwrap_or(action);
        match script.get_mut(&action) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap(),
            Some(q) if !q.is_empty() => q.front().cloned().unwrap(),
            _ => (
                400,
                json!({"__type": "UnexpectedCall", "message": action}).to_string(),
            ),
        }
    };
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}
