//! `apprun plan` on the fixture exercising issue 13's keys
//! (fixtures/runtime.toml): the auto scaling and observability
//! configurations and the per-env, per-service run roles are in the plan,
//! in the stacks that hold them, and only in the envs that use them; each
//! service's variables (names), secrets (names and where they are read
//! from, never a value), scaling bounds, tracing and domain per env.
//! Resources are matched with the synthesized templates by their
//! properties (role names, resource types), not by logical ids.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

const FIXTURE: &str = "fixtures/runtime.toml";

fn plan(env: &str) -> serde_json::Value {
    let config = workspace().join(FIXTURE);
    let o = apprun(
        &workspace(),
        &[
            "--config",
            config.to_str().unwrap(),
            "plan",
            "--env",
            env,
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    json(&o)
}

/// (stack name, resource type, logical id) of every resource a plan lists.
fn planned(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for s in plan["stacks"].as_array().unwrap() {
        for r in s["resources"].as_array().unwrap() {
            out.push((
                s["name"].as_str().unwrap().to_owned(),
                r["type"].as_str().unwrap().to_owned(),
                r["logical_id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// The env's synthesized templates (JSON), by file stem.
fn synthesized(env: &str, out: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    let config = workspace().join(FIXTURE);
    let o = apprun(
        &workspace(),
        &[
            "--config",
            config.to_str().unwrap(),
            "synth",
            "--env",
            env,
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && !p.ends_with("apprun.manifest.json")
        })
        .map(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            (stem, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn count(planned: &[(String, String, String)], stack: &str, kind: &str) -> usize {
    planned
        .iter()
        .filter(|(s, k, _)| s == stack && k == kind)
        .count()
}

#[test]
fn plan_lists_the_scaling_and_tracing_configurations_per_env() {
    let prod = planned(&plan("prod"));
    let dev = planned(&plan("dev"));
    // web scales in every env (service-level bounds, prod's own), traces in
    // prod only; the ECS Express service has neither App Runner resource.
    for (env, planned, traces) in [("prod", &prod, 1), ("dev", &dev, 0)] {
        let web = format!("runtime-demo-{env}-service-web");
        let api = format!("runtime-demo-{env}-ecs-api");
        assert_eq!(
            count(planned, &web, "AWS::AppRunner::AutoScalingConfiguration"),
            1,
            "{env}: {planned:?}"
        );
        assert_eq!(
            count(planned, &web, "AWS::AppRunner::ObservabilityConfiguration"),
            traces,
            "{env}: {planned:?}"
        );
        assert_eq!(count(planned, &web, "AWS::AppRunner::Service"), 1);
        assert_eq!(count(planned, &api, "AWS::ECS::ExpressGatewayService"), 1);
        assert!(
            planned
                .iter()
                .filter(|(s, _, _)| s == &api)
                .all(|(_, k, _)| !k.starts_with("AWS::AppRunner::")),
            "{env}: {planned:?}"
        );
    }
}

#[test]
fn plan_lists_one_run_role_per_env_and_service_with_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let templates = synthesized("prod", &dir.path().join("out"));
    let iam = &templates["iam"]["Resources"];
    // The run roles, found by name in the synthesized IAM stack.
    let run_roles: BTreeSet<(String, String)> = iam
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .filter_map(|(id, r)| {
            let name = r["Properties"]["RoleName"].as_str()?;
            name.ends_with("-run")
                .then(|| (name.to_owned(), id.clone()))
        })
        .collect();
    let names: BTreeSet<&str> = run_roles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "runtime-demo-dev-api-run",
            "runtime-demo-dev-web-run",
            "runtime-demo-prod-api-run",
            "runtime-demo-prod-web-run",
        ]),
        "the IAM stack is the account's: every env's run roles are in it"
    );
    // The plan of either env shows each of them in the account's IAM stack.
    for env in ["dev", "prod"] {
        let planned = planned(&plan(env));
        for (name, id) in &run_roles {
            assert!(
                planned.contains(&(
                    "runtime-demo-iam".to_owned(),
                    "AWS::IAM::Role".to_owned(),
                    id.clone()
                )),
                "{env}: {name} ({id}) not planned: {planned:?}"
            );
        }
    }
    // The services run with them: App Runner's instance role, ECS's
    // execution role, named by ARN.
    let web = templates["service-web"]["Resources"].to_string();
    assert!(web.contains("role/runtime-demo-prod-web-run"), "{web}");
    let api = templates["service-api"]["Resources"].to_string();
    assert!(api.contains("role/runtime-demo-prod-api-run"), "{api}");
}

#[test]
fn the_text_plan_names_the_new_resources_and_validates_clean() {
    let config = workspace().join(FIXTURE);
    let o = apprun(
        &workspace(),
        &[
            "--config",
            config.to_str().unwrap(),
            "plan",
            "--env",
            "prod",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for kind in [
        "AWS::AppRunner::AutoScalingConfiguration",
        "AWS::AppRunner::ObservabilityConfiguration",
    ] {
        assert_eq!(text.matches(kind).count(), 1, "{kind}:\n{text}");
    }
    // Per service, what it runs with in prod.
    for line in [
        "    env: FEATURE_FLAGS, LOG_LEVEL, WORKERS\n",
        "    scaling: 2-10 instances, 100 concurrent requests per instance\n",
        "    tracing: X-Ray\n",
        "    scaling: 2-6 tasks, on REQUEST_COUNT_PER_TARGET 200\n",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    // The check that plan runs (schemas, the permission proof with the
    // run roles' secret reads and X-Ray writes) finds nothing.
    assert!(text.contains("Validation: 6 stacks, 0 findings"), "{text}");
}

fn service<'a>(plan: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    plan["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {plan}"))
}

fn names(list: &serde_json::Value, key: Option<&str>) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| key.map_or(v, |k| &v[k]).as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn plan_shows_each_services_variables_secrets_scaling_and_tracing_per_env() {
    let prod = plan("prod");
    let web = service(&prod, "web");
    assert_eq!(
        names(&web["env"], None),
        ["FEATURE_FLAGS", "LOG_LEVEL", "WORKERS"]
    );
    // prod's own secret comes on top of the service's.
    assert_eq!(
        names(&web["secrets"], Some("name")),
        [
            "API_CREDENTIAL",
            "DB_PASSWORD",
            "SESSION_KEY",
            "SIGNING_SEED"
        ]
    );
    let sources = names(&web["secrets"], Some("source")).join(" ");
    for source in [
        "ssm:/runtime-demo/db-password",
        "secret:runtime-demo/signing-AbC123",
        "secret:runtime-demo/prod/session-Zx8Vb2",
    ] {
        assert!(sources.contains(source), "{source}: {sources}");
    }
    assert_eq!(
        (
            &web["scaling"]["min"],
            &web["scaling"]["max"],
            &web["scaling"]["max_concurrency"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(10),
            &serde_json::json!(100)
        )
    );
    assert_eq!(web["tracing"], true);
    assert_eq!(web["domain"]["name"], "app.example.com");
    let api = service(&prod, "api");
    assert_eq!(
        names(&api["secrets"], Some("name")),
        ["CACHE_URL", "DB_PASS", "DB_USER"]
    );
    assert_eq!(
        (&api["scaling"]["min"], &api["scaling"]["max"]),
        (&serde_json::json!(2), &serde_json::json!(6))
    );

    // dev: the service-level keys only.
    let dev = plan("dev");
    let web = service(&dev, "web");
    assert_eq!(
        names(&web["secrets"], Some("name")),
        ["API_CREDENTIAL", "DB_PASSWORD", "SIGNING_SEED"]
    );
    assert_eq!(
        (
            &web["scaling"]["min"],
            &web["scaling"]["max"],
            &web["scaling"]["max_concurrency"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(4),
            &serde_json::json!(80)
        )
    );
    assert_eq!(web["tracing"], false);
    assert!(web["domain"].is_null(), "{web}");
}
