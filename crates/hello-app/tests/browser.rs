//! The app as a real process: headless Chromium loads the page and sees
//! "Hello world" and a time the script fetched from /api/date; SIGTERM stops
//! it gracefully.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct App {
    child: Child,
    port: u16,
}

impl App {
    fn start() -> App {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_hello-app"))
            .env("PORT", port.to_string())
            .env("ENV", "dev")
            .env("SYSTEM_ID", "apprunner-nuxt3")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the app did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        App { child, port }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_sees_hello_world_and_a_time_from_the_api() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} missing: scripts/test.sh installs Debian's chromium"
    );
    let app = App::start();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("http://127.0.0.1:{}/", app.port),
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<h1>Hello world</h1>"),
        "{dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains(r#"data-source="api""#),
        "the script replaced the time with /api/date's: {dom}"
    );
    let start = dom.find(r#"<time id="now" datetime=""#).unwrap() + 25;
    let shown = &dom[start..start + 24];
    assert!(shown.starts_with("20") && shown.ends_with('Z'), "{shown}");
    assert!(dom.contains(r#"<span id="env">dev</span>"#));
}

#[test]
fn sigterm_drains_and_exits_cleanly_with_json_logs() {
    let mut app = App::start();
    let status = Command::new("kill")
        .args(["-TERM", &app.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = app.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    let lines: Vec<serde_json::Value> = BufReader::new(app.child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).expect("every log line is JSON"))
        .collect();
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("listening on")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "SIGTERM received, draining connections")
    );
    assert_eq!(lines.last().unwrap()["message"], "stopped");
}
