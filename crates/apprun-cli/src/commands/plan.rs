//! `apprun plan`: what a deploy would create, offline.

use std::process::ExitCode;

use apprun_blueprint::{EnvBlueprint, security_group_rules, synthesize};
use apprun_config::{AppRunnerScaling, Compute, Config, Env, Ingress, ServiceSettings};
use serde_json::json;

use crate::cli::PlanArgs;
use crate::diagnostics::Failure;
use crate::output::{Context, print_json, write_stdout};
use crate::views::{in_order, stack_json};

pub fn run(ctx: &Context, args: &PlanArgs) -> Result<ExitCode, Failure> {
    let config = ctx.load_config()?;
    let env = config.env(&args.env)?;
    let bp = synthesize(&config, &args.env)?;
    bp.ensure_valid()?;
    if ctx.json() {
        print_json(&plan_json(&config, env, &bp));
    } else {
        write_stdout(&plan_text(&config, env, &bp));
    }
    Ok(ExitCode::SUCCESS)
}

fn plan_json(config: &Config, env: &Env, bp: &EnvBlueprint) -> serde_json::Value {
    let stacks: Vec<_> = in_order(bp)
        .into_iter()
        .map(|(wave, s)| {
            let mut view = stack_json(bp, wave, s, s.kind.file_stem());
            view.insert(
                "resources".into(),
                s.template
                    .resources
                    .iter()
                    .map(|(id, r)| json!({"logical_id": id, "type": r.kind.as_str()}))
                    .collect(),
            );
            view.insert("exports".into(), json!(s.exports()));
            view
        })
        .collect();
    let subnets: Vec<_> = env
        .subnets
        .subnets
        .iter()
        .map(|s| json!({"logical_id": s.logical_id(), "tier": s.tier.name(), "zone": format!("{}{}", config.system.region, s.zone), "cidr": s.cidr.to_string()}))
        .collect();
    json!({
        "system": config.system.id,
        "region": config.system.region,
        "env": env.name,
        "vpc": env.network.to_string(),
        "stacks": stacks,
        "subnets": subnets,
        "security_group_rules": security_group_rules(&env.subnets),
        "services": config.services.values().map(|s| {
            let mut view = json!({
                "name": s.name,
                "compute": s.compute.as_str(),
                "cpu": env.cpu.to_string(),
                "memory": env.memory.to_string(),
                "port": s.port,
                "health_path": s.health.path,
                "ingress": if env.ingress == Ingress::Private { "private" } else { "public" },
                "waf": env.waf,
            });
            if let (Some(settings), Some(obj)) =
                (config.service_settings(&env.name, &s.name), view.as_object_mut())
            {
                obj.extend(settings_json(s.compute, settings));
            }
            view
        }).collect::<Vec<_>>(),
        "pipeline": {
            "branch": env.branch,
            "approval": env.approval,
            "source": config.source.repository,
        },
    })
}

/// Left-aligned columns, two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn plan_text(config: &Config, env: &Env, bp: &EnvBlueprint) -> String {
    let mut out = format!(
        "Plan for env {} of {} in {} (zones {}), VPC {}\n\n",
        env.name,
        config.system.id,
        config.system.region,
        config.system.zones.join(", "),
        env.network
    );
    out.push_str("Stacks, in deploy order (stacks of one wave deploy in parallel):\n");
    out.push_str(&table(&stack_rows(bp)));
    for s in &bp.stacks {
        out.push_str(&format!("\n{} ({}.yaml):\n", s.name, s.kind.file_stem()));
        let rows: Vec<Vec<String>> = s
            .template
            .resources
            .iter()
            .map(|(id, r)| vec![r.kind.to_string(), id.clone()])
            .collect();
        out.push_str(&table(&rows));
    }
    out.push_str("\nSubnets:\n");
    out.push_str(&table(&subnet_rows(config, env)));
    out.push_str("\nSecurity group rules:\n");
    out.push_str(&table(&rule_rows(env)));
    out.push_str("  Private: egress left at the AWS default\n");
    out.push_str("\nServices:\n");
    out.push_str(&services_text(config, env));
    out.push_str(&format!(
        "\nPipeline: {} branch {} → build (image tagged with the commit) → {}deploy\n",
        config.source.repository,
        env.branch,
        if env.approval {
            "manual approval → "
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "\nValidation: {} stacks, {} findings\n",
        bp.stacks.len(),
        bp.findings().len()
    ));
    out
}

fn header(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn stack_rows(bp: &EnvBlueprint) -> Vec<Vec<String>> {
    let mut rows = vec![header(&["WAVE", "STACK", "RESOURCES", "IMPORTS FROM"])];
    for (wave, s) in in_order(bp) {
        let deps = bp
            .dependencies
            .get(&s.name)
            .map(|d| d.join(", "))
            .unwrap_or_default();
        let name = if s.kind.per_account() {
            format!("{} (shared by the account)", s.name)
        } else {
            s.name.clone()
        };
        rows.push(vec![
            wave.to_string(),
            name,
            s.template.resources.len().to_string(),
            if deps.is_empty() { "-".into() } else { deps },
        ]);
    }
    rows
}

fn subnet_rows(config: &Config, env: &Env) -> Vec<Vec<String>> {
    let mut rows = vec![header(&["TIER", "ZONE", "CIDR", "EXPORT"])];
    for s in &env.subnets.subnets {
        rows.push(vec![
            s.tier.name().into(),
            format!("{}{}", config.system.region, s.zone),
            s.cidr.to_string(),
            format!("{}-{}-{}", config.system.id, env.name, s.logical_id()),
        ]);
    }
    rows
}

fn rule_rows(env: &Env) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "GROUP",
        "DIRECTION",
        "PROTOCOL",
        "PORTS",
        "CIDR",
        "WHY",
    ])];
    for r in security_group_rules(&env.subnets) {
        let ports = if r.from_port == r.to_port {
            r.from_port.to_string()
        } else {
            format!("{}-{}", r.from_port, r.to_port)
        };
        let direction = match r.direction {
            apprun_blueprint::Direction::Ingress => "in",
            apprun_blueprint::Direction::Egress => "out",
        };
        rows.push(vec![
            r.group.into(),
            direction.into(),
            r.protocol.into(),
            ports,
            r.cidr,
            r.description,
        ]);
    }
    rows
}

/// What a service runs with in the env besides its size: variable names,
/// secrets with where they are read from (never a value: the config holds
/// none), the custom domain, scaling bounds and tracing.
fn settings_json(
    compute: Compute,
    settings: &ServiceSettings,
) -> serde_json::Map<String, serde_json::Value> {
    let secrets: Vec<_> = settings
        .runtime
        .secrets
        .iter()
        .map(|(name, secret)| {
            let mut v = json!({
                "name": name,
                "source": apprun_deploy::describe_source(secret),
            });
            if let Some(k) = &secret.kms_key {
                v["kms_key"] = json!(k);
            }
            v
        })
        .collect();
    let mut out = serde_json::Map::new();
    out.insert(
        "env".into(),
        json!(settings.runtime.env.keys().collect::<Vec<_>>()),
    );
    out.insert("secrets".into(), json!(secrets));
    out.insert(
        "domain".into(),
        match &settings.domain {
            Some(d) => json!({ "name": d.name, "hosted_zone": d.hosted_zone }),
            None => serde_json::Value::Null,
        },
    );
    out.insert("scaling".into(), scaling_json(compute, settings));
    out.insert("tracing".into(), json!(settings.tracing));
    out
}

/// The scaling bounds the service's stack deploys: App Runner's auto
/// scaling configuration (its defaults when no key sets one), or the ECS
/// Express task bounds and metric.
fn scaling_json(compute: Compute, settings: &ServiceSettings) -> serde_json::Value {
    match compute {
        Compute::AppRunner => {
            let (c, source) = match settings.app_runner_scaling {
                Some(c) => (c, "config"),
                None => (AppRunnerScaling::DEFAULT, "app_runner_default"),
            };
            json!({
                "min": c.min_instances,
                "max": c.max_instances,
                "unit": "instances",
                "max_concurrency": c.max_concurrency,
                "source": source,
            })
        }
        Compute::EcsExpress => json!({
            "min": settings.scaling.min_tasks,
            "max": settings.scaling.max_tasks,
            "unit": "tasks",
            "metric": settings.scaling.on.metric(),
            "target": settings.scaling.target,
            "source": "config",
        }),
    }
}

/// [`settings_json`] as indented text lines.
fn settings_text(compute: Compute, settings: &ServiceSettings) -> String {
    let list = |names: Vec<String>| {
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        }
    };
    let mut out = format!(
        "    env: {}\n",
        list(settings.runtime.env.keys().cloned().collect())
    );
    out.push_str(&format!(
        "    secrets: {}\n",
        list(
            settings
                .runtime
                .secrets
                .iter()
                .map(|(n, s)| format!("{n} ({})", apprun_deploy::describe_source(s)))
                .collect()
        )
    ));
    let domain = match &settings.domain {
        Some(d) => match &d.hosted_zone {
            Some(z) => format!("{} (records in hosted zone {z})", d.name),
            None => format!("{} (records printed for you to create)", d.name),
        },
        None => "-".to_owned(),
    };
    out.push_str(&format!("    domain: {domain}\n"));
    let scaling = match compute {
        Compute::AppRunner => {
            let (c, note) = match settings.app_runner_scaling {
                Some(c) => (c, ""),
                None => (AppRunnerScaling::DEFAULT, " (App Runner's default)"),
            };
            format!(
                "{}-{} instances, {} concurrent requests per instance{note}",
                c.min_instances, c.max_instances, c.max_concurrency
            )
        }
        Compute::EcsExpress => format!(
            "{}-{} tasks, on {} {}",
            settings.scaling.min_tasks,
            settings.scaling.max_tasks,
            settings.scaling.on.metric(),
            settings.scaling.target
        ),
    };
    out.push_str(&format!("    scaling: {scaling}\n"));
    out.push_str(&format!(
        "    tracing: {}\n",
        if settings.tracing { "X-Ray" } else { "off" }
    ));
    out
}

fn services_text(config: &Config, env: &Env) -> String {
    let mut out = String::new();
    for s in config.services.values() {
        out.push_str(&format!(
            "  {}: {} {} / {}, port {}, health {} every {}s, ingress {}, WAF {}, image tag pinned by the {} parameter\n",
            s.name,
            s.compute.as_str(),
            env.cpu,
            env.memory,
            s.port,
            s.health.path,
            s.health.interval,
            if env.ingress == Ingress::Private { "private (VPC only)" } else { "public" },
            if env.waf { "on" } else { "off" },
            apprun_blueprint::outputs::IMAGE_TAG,
        ));
        if let Some(settings) = config.service_settings(&env.name, &s.name) {
            out.push_str(&settings_text(s.compute, settings));
        }
    }
    out
}
