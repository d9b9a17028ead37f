//! Ctrl-C means stop: SIGINT (or SIGTERM) sent to a running `apprun
//! deploy`/`destroy` at each phase — the read-only prepare phase, between
//! waves, while stacks are waited on — is followed by no write request at
//! the endpoint, exit 130, and a report that names, per stack, what was
//! sent. The phases are held open by the fault proxy's latency
//! (tests/common/faults.rs) in front of moto_server.

mod common;

use std::process::{Child, Output};
use std::time::{Duration, Instant};

use common::faults::{Fault, FaultProxy, Rule, apprun_at};
use common::*;

const IAM: &str = "apprunner-nuxt3-iam";
const NETWORK: &str = "apprunner-nuxt3-dev-network";
const PIPELINE: &str = "apprunner-nuxt3-dev-pipeline";

/// A long delay: the signal always arrives while the request is held.
const HOLD: Duration = Duration::from_secs(20);

fn spawn(proxy: &FaultProxy, dir: &std::path::Path, args: &[&str]) -> Child {
    apprun_at(&proxy.endpoint, dir, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("apprun starts")
}

fn signal(child: &Child, sig: i32) -> Instant {
    let at = Instant::now();
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill");
    at
}

/// Waits for the child, failing the test if it does not exit in time
/// (the held request must not keep it alive).
fn finish(mut child: Child) -> (Output, Duration) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(15);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return (child.wait_with_output().expect("output"), started.elapsed());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "apprun did not stop within 15 s of the signal\n{}\n{}",
                stdout(&o),
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The writes that reached the proxy after `at`.
fn writes_after(proxy: &FaultProxy, at: Instant) -> Vec<String> {
    proxy
        .log()
        .iter()
        .filter(|s| s.at >= at && s.is_write())
        .map(|s| format!("{} {}", s.action, s.stack.as_deref().unwrap_or("-")))
        .collect()
}

fn stack<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == name)
        .unwrap_or_else(|| panic!("{name} in {doc}"))
}

fn state<'a>(doc: &'a serde_json::Value, name: &str) -> &'a str {
    doc["interrupted"]
        .as_array()
        .unwrap_or_else(|| panic!("no interrupted states: {doc}"))
        .iter()
        .find(|s| s["stack"] == name)
        .and_then(|s| s["state"].as_str())
        .unwrap_or_else(|| panic!("{name} in {doc}"))
}

#[test]
fn sigint_during_prepare_sends_nothing_and_exits_130() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    proxy.script(vec![Rule::new("GetCallerIdentity", 1, Fault::Delay(HOLD))]);
    let child = spawn(
        &proxy,
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    proxy.wait_for("GetCallerIdentity", None, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, libc::SIGINT);
    let (o, took) = finish(child);
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(130), "{doc}\n{}", stderr(&o));
    eprintln!("exited {took:?} after SIGINT");
    assert!(took < Duration::from_secs(5), "stopped at once: {took:?}");
    assert_eq!(doc["kind"], "interrupted", "{doc}");
    assert_eq!(proxy.writes(), Vec::<String>::new(), "nothing was written");
    for s in doc["stacks"].as_array().unwrap() {
        assert_eq!(s["outcome"], "not-started", "{doc}");
    }
    assert_eq!(state(&doc, NETWORK), "not started: nothing sent", "{doc}");
    let error = doc["error"].as_str().unwrap();
    assert!(
        error.contains("nothing was sent to AWS after the signal"),
        "{error}"
    );
    assert!(
        stderr(&o).contains("SIGINT: stopping; nothing more is sent to AWS"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sigint_between_waves_leaves_later_waves_unsent() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    // The pipeline's wave starts by reading its stack: held there.
    proxy.script(vec![
        Rule::new("DescribeStacks", 1, Fault::Delay(HOLD)).for_stack(PIPELINE),
    ]);
    let child = spawn(
        &proxy,
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    proxy.wait_for("DescribeStacks", Some(PIPELINE), Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(200));
    let at = signal(&child, libc::SIGINT);
    let (o, _) = finish(child);
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(130), "{doc}\n{}", stderr(&o));
    assert_eq!(writes_after(&proxy, at), Vec::<String>::new());
    // The earlier waves completed; the pipeline was never sent.
    assert_eq!(stack(&doc, NETWORK)["outcome"], "created", "{doc}");
    assert_eq!(stack(&doc, PIPELINE)["outcome"], "not-started", "{doc}");
    assert!(
        state(&doc, NETWORK).starts_with("completed: created"),
        "{doc}"
    );
    assert_eq!(state(&doc, PIPELINE), "not started: nothing sent", "{doc}");
    assert!(
        !proxy.writes().iter().any(|w| w.contains(PIPELINE)),
        "{:?}",
        proxy.writes()
    );
}

#[test]
fn sigterm_while_waiting_names_the_operation_left_running() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    // The network stack is read once when its wave starts, then polled
    // after CreateStack: the first poll is held.
    proxy.script(vec![
        Rule::new("DescribeStacks", 1, Fault::Delay(HOLD))
            .for_stack(NETWORK)
            .after(1),
    ]);
    let child = spawn(
        &proxy,
        p.path(),
        &["deploy", "--env", "dev", "--yes", "--output", "json"],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !proxy
        .log()
        .iter()
        .any(|s| s.stack.as_deref() == Some(NETWORK) && s.fault.is_some())
    {
        assert!(
            Instant::now() < deadline,
            "no poll of {NETWORK}: {:?}",
            proxy.writes()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the other stacks of the wave send their CreateStack too.
    std::thread::sleep(Duration::from_millis(500));
    let at = signal(&child, libc::SIGTERM);
    let (o, _) = finish(child);
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(130), "{doc}\n{}", stderr(&o));
    assert_eq!(writes_after(&proxy, at), Vec::<String>::new());
    let network = stack(&doc, NETWORK);
    assert_eq!(network["outcome"], "interrupted", "{doc}");
    assert_eq!(network["sent"], "CreateStack", "{doc}");
    assert!(
        state(&doc, NETWORK).contains("sent CreateStack; in progress at AWS"),
        "{doc}"
    );
    assert_eq!(stack(&doc, PIPELINE)["outcome"], "not-started", "{doc}");
    let error = doc["error"].as_str().unwrap();
    assert!(
        error.contains("apprunner-nuxt3-dev-network: ")
            && error.contains("sent CreateStack; in progress at AWS")
            && error.contains("left running"),
        "{error}"
    );
}

#[test]
fn sigint_during_destroy_stops_before_the_next_delete() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let p = project();
    let o = apprun_at(
        &proxy.endpoint,
        p.path(),
        &["deploy", "--env", "dev", "--yes"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The pipeline goes first; its deletion is polled: held there.
    proxy.script(vec![
        Rule::new("DescribeStacks", 1, Fault::Delay(HOLD))
            .for_stack(PIPELINE)
            .after(1),
    ]);
    proxy.clear_log();
    let child = spawn(
        &proxy,
        p.path(),
        &["destroy", "--env", "dev", "--yes", "--output", "json"],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !proxy
        .log()
        .iter()
        .any(|s| s.stack.as_deref() == Some(PIPELINE) && s.fault.is_some())
    {
        assert!(Instant::now() < deadline, "no poll of {PIPELINE}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let at = signal(&child, libc::SIGINT);
    let (o, _) = finish(child);
    let doc = json(&o);
    assert_eq!(o.status.code(), Some(130), "{doc}\n{}", stderr(&o));
    assert_eq!(writes_after(&proxy, at), Vec::<String>::new());
    let error = doc["error"].as_str().unwrap();
    assert!(
        error.contains("apprunner-nuxt3-dev-pipeline: ")
            && error.contains("sent DeleteStack; in progress at AWS")
            && error.contains("apprunner-nuxt3-iam: not started: nothing sent"),
        "{error}"
    );
    assert!(
        !proxy.writes().iter().any(|w| w.contains(IAM)),
        "{:?}",
        proxy.writes()
    );
}
