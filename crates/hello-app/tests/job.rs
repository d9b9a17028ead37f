//! `hello-app job tick`: the command the shipped config's scheduled job
//! runs. The binary itself is run, as ECS runs it (ENTRYPOINT + command).

use std::process::Command;

use hello_app::{AppInfo, Command as Cli, tick_line};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hello-app"))
        .args(args)
        .env("ENV", "dev")
        .env("SYSTEM_ID", "apprunner-nuxt3")
        .output()
        .expect("hello-app runs")
}

#[test]
fn tick_writes_one_line_with_the_time_and_exits_0() {
    let out = run(&["job", "tick"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(line["job"], "tick");
    assert_eq!(line["env"], "dev");
    assert_eq!(line["system"], "apprunner-nuxt3");
    let time = line["time"].as_str().expect("time");
    // 2026-11-25T22:17:14.123Z
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z') && &time[10..11] == "T", "{time}");
}

#[test]
fn unknown_jobs_and_arguments_exit_2_with_usage() {
    let out = run(&["job", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown job `nope`; known: tick"));
    let out = run(&["serve", "now"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: hello-app"));
}

#[test]
fn parsing_and_line() {
    assert_eq!(Cli::parse(&[]), Cli::Serve);
    assert_eq!(
        Cli::parse(&["job".into(), "tick".into()]),
        Cli::Job("tick".into())
    );
    let info = AppInfo {
        env: "prod".into(),
        system_id: "x".into(),
    };
    let line: serde_json::Value =
        serde_json::from_str(&tick_line(&info, "2027-01-01T00:00:00.000Z")).expect("json");
    assert_eq!(line["message"], "tick at 2027-01-01T00:00:00.000Z");
    assert_eq!(line["env"], "prod");
}
