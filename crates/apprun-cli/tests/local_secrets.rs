//! `apprun local --secrets`: the service's secrets are read from SSM
//! Parameter Store and Secrets Manager and reach the service's environment,
//! never apprun's stdout or stderr. AWS is a loopback HTTP server answering
//! hand-written wire responses (awsJson1_1 bodies from the Systems Manager
//! and Secrets Manager API references, not recorded from AWS); the service
//! is a shell that writes the variables it got to files, then serves its
//! health path with Python's http.server.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{project, stderr, stdout};
use serde_json::{Value, json};

const DB_PASSWORD: &str = "pw-local-5Jx9q2";
const API_TOKEN: &str = "tok-local-c81e7f";

/// A loopback "AWS" answering GetParameter and GetSecretValue; keeps the
/// `X-Amz-Target` of every request. Its thread ends with the test process.
struct FakeAws {
    endpoint: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl FakeAws {
    fn start() -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let target = serve(stream);
                seen.lock().unwrap().push(target);
            }
        });
        FakeAws { endpoint, targets }
    }
}

/// Answers one request (one per connection); returns its target.
fn serve(mut stream: std::net::TcpStream) -> String {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut target, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        match name.to_ascii_lowercase().as_str() {
            "x-amz-target" => target = value.trim().to_owned(),
            "content-length" => length = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let (status, answer) = match target.as_str() {
        // Systems Manager API reference: GetParameter.
        "AmazonSSM.GetParameter" => (
            "200 OK",
            json!({"Parameter": {
                "Name": "/apprunner-nuxt3/db-password", "Type": "SecureString",
                "Value": DB_PASSWORD, "Version": 1, "LastModifiedDate": 1764140000.0,
                "ARN": "arn:aws:ssm:ap-northeast-1:123456789012:parameter/apprunner-nuxt3/db-password",
                "DataType": "text"
            }}),
        ),
        // Secrets Manager API reference: GetSecretValue.
        "secretsmanager.GetSecretValue" => (
            "200 OK",
            json!({
                "ARN": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-token-AbCdEf",
                "Name": "apprunner-nuxt3/api-token", "VersionId": "v1",
                "SecretString": API_TOKEN, "VersionStages": ["AWSCURRENT"], "CreatedDate": 1764100000.0
            }),
        ),
        _ => (
            "400 Bad Request",
            json!({"__type": "UnknownOperationException", "message": target}),
        ),
    };
    let text = answer.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    target
}

/// The shipped config with a plain variable and two secrets, and a service
/// that writes what it got to `got-level`, `got-db` and `got-token`, then
/// serves `/` on its port.
fn project_with_secrets() -> tempfile::TempDir {
    let p = project();
    let path = p.path().join("apprun.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let local = r#"local = ["target/x86_64-unknown-linux-gnu/release/hello-app"]"#;
    assert!(text.contains(local));
    let service = r#"local = ["sh", "-c", "printenv LOG_LEVEL > got-level; printenv DB_PASSWORD > got-db; printenv API_TOKEN > got-token; exec python3 -m http.server \"$PORT\" --bind 127.0.0.1"]"#;
    let secrets = "\n[services.web.env]\nLOG_LEVEL = \"debug\"\n\n[services.web.secrets]\nDB_PASSWORD = \"ssm:/apprunner-nuxt3/db-password\"\nAPI_TOKEN = \"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-token-AbCdEf\"\n";
    let text = text.replacen(local, service, 1);
    let at = text.find("[services.web.release]").unwrap();
    std::fs::write(&path, format!("{}{secrets}\n{}", &text[..at], &text[at..])).unwrap();
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `apprun local` with test credentials and no AWS config of the
/// machine, waits until the service wrote both files and answers, stops it
/// with SIGINT and returns its output.
fn run_local(dir: &Path, extra: &[&str], endpoint: Option<&str>) -> std::process::Output {
    let port = free_port().to_string();
    let empty = tempfile::tempdir().unwrap();
    let mut args = vec!["local", "--env", "dev", "--port", &port, "--output", "json"];
    args.extend_from_slice(extra);
    let mut command = Command::new(env!("CARGO_BIN_EXE_apprun"));
    match endpoint {
        Some(url) => command.env("AWS_ENDPOINT_URL", url),
        None => command.env_remove("AWS_ENDPOINT_URL"),
    };
    let child = command
        .args(&args)
        .current_dir(dir)
        .env_remove("APPRUN_CONFIG")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_CONFIG_FILE", empty.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            empty.path().join("credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let healthy = || {
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_ok()
            && dir.join("got-token").exists()
    };
    while !healthy() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give apprun's own health check time to print the URL.
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait_with_output().unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

#[test]
fn secrets_reach_the_service_and_never_apprun_output() {
    let aws = FakeAws::start();
    let p = project_with_secrets();
    let o = run_local(
        p.path(),
        &["--secrets", "--endpoint-url", &aws.endpoint],
        None,
    );
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(read(p.path(), "got-db"), DB_PASSWORD, "{err}");
    assert_eq!(read(p.path(), "got-token"), API_TOKEN, "{err}");
    for value in [DB_PASSWORD, API_TOKEN] {
        assert!(!out.contains(value), "stdout shows a secret: {out}");
        assert!(!err.contains(value), "stderr shows a secret: {err}");
    }
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(
        doc["secrets"]["resolved"],
        json!(["API_TOKEN", "DB_PASSWORD"])
    );
    assert_eq!(doc["secrets"]["unset"], json!([]));
    assert!(
        err.contains("secrets read from AWS: API_TOKEN (secretsmanager:arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:apprunner-nuxt3/api-token-AbCdEf), DB_PASSWORD (ssm:/apprunner-nuxt3/db-password)"),
        "{err}"
    );
    let mut targets = aws.targets.lock().unwrap().clone();
    targets.sort();
    assert_eq!(
        targets,
        ["AmazonSSM.GetParameter", "secretsmanager.GetSecretValue"]
    );
}

#[test]
fn without_secrets_nothing_is_read_and_the_unset_variables_are_named() {
    let aws = FakeAws::start();
    let p = project_with_secrets();
    // The endpoint in the environment, as a user's shell may have it.
    let o = run_local(p.path(), &[], Some(&aws.endpoint));
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(read(p.path(), "got-db"), "");
    // Plain variables are passed with or without --secrets.
    assert_eq!(read(p.path(), "got-level"), "debug");
    assert_eq!(read(p.path(), "got-token"), "");
    assert!(
        err.contains(
            "secrets not read (--secrets reads them from AWS): API_TOKEN, DB_PASSWORD left unset"
        ),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["secrets"]["unset"], json!(["API_TOKEN", "DB_PASSWORD"]));
    assert!(aws.targets.lock().unwrap().is_empty(), "no AWS call");
}
