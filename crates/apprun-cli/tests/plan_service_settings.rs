//! `apprun plan` shows what each service runs with in the env (issue 13's
//! keys, fixtures/runtime.toml): variable names, secrets with where they
//! are read from (never a value), the custom domain and its hosted zone,
//! the scaling bounds and tracing, in text and in `--output json`.

mod common;

use common::*;

const FIXTURE: &str = "fixtures/runtime.toml";

fn plan(env: &str, json_output: bool) -> std::process::Output {
    let config = workspace().join(FIXTURE);
    let mut args = vec!["--config", config.to_str().unwrap(), "plan", "--env", env];
    if json_output {
        args.extend(["--output", "json"]);
    }
    let o = apprun(&workspace(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

fn service<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {doc}"))
}

#[test]
fn plan_json_carries_each_services_settings_of_the_env() {
    let prod = json(&plan("prod", true));
    let web = service(&prod, "web");
    assert_eq!(
        web["env"],
        serde_json::json!(["FEATURE_FLAGS", "LOG_LEVEL", "WORKERS"])
    );
    let secrets: Vec<(String, String)> = web["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
    // The env's own secret joins the service's; sorted by name.
    assert_eq!(
        names,
        [
            "API_CREDENTIAL",
            "DB_PASSWORD",
            "SESSION_KEY",
            "SIGNING_SEED"
        ]
    );
    let source = |n: &str| {
        secrets
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    assert!(
        source("DB_PASSWORD").contains("/runtime-demo/db-password"),
        "{secrets:?}"
    );
    assert!(source("API_CREDENTIAL").ends_with("#token"), "{secrets:?}");
    assert_eq!(
        web["domain"],
        serde_json::json!({"name": "app.example.com", "hosted_zone": "Z0123456789ABCDEFGHIJ"})
    );
    assert_eq!(
        web["scaling"],
        serde_json::json!({"min": 2, "max": 10, "unit": "instances", "max_concurrency": 100, "source": "config"})
    );
    assert_eq!(web["tracing"], true);
    let api = service(&prod, "api");
    assert_eq!(
        api["scaling"],
        serde_json::json!({"min": 2, "max": 6, "unit": "tasks", "metric": "REQUEST_COUNT_PER_TARGET", "target": 200, "source": "config"})
    );
    assert_eq!(api["domain"], serde_json::Value::Null);

    // dev: the service's own bounds, no domain, no tracing.
    let dev = json(&plan("dev", true));
    let web = service(&dev, "web");
    assert_eq!(web["scaling"]["min"], 1);
    assert_eq!(web["scaling"]["max"], 4);
    assert_eq!(web["scaling"]["max_concurrency"], 80);
    assert_eq!(web["domain"], serde_json::Value::Null);
    assert_eq!(web["tracing"], false);
    assert_eq!(service(&dev, "web")["secrets"].as_array().unwrap().len(), 3);
}

#[test]
fn plan_text_shows_the_settings_and_no_plain_value() {
    let out = stdout(&plan("prod", false));
    for wanted in [
        "    env: FEATURE_FLAGS, LOG_LEVEL, WORKERS\n",
        "    domain: app.example.com (records in hosted zone Z0123456789ABCDEFGHIJ)\n",
        "    scaling: 2-10 instances, 100 concurrent requests per instance\n",
        "    tracing: X-Ray\n",
        "    scaling: 2-6 tasks, on REQUEST_COUNT_PER_TARGET 200\n",
    ] {
        assert!(out.contains(wanted), "{wanted:?} not in:\n{out}");
    }
    assert!(out.contains("    secrets: API_CREDENTIAL ("), "{out}");
    // Names only: the plain variables' values are not printed.
    assert!(!out.contains("search,export"), "{out}");
}
