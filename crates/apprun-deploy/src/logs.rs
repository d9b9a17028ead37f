//! `apprun logs`: where an env's logs are (the service's application log
//! group on its backend, the pipeline's last CodeBuild builds), reading them
//! page by page (CloudWatch Logs FilterLogEvents and its nextToken), merged
//! by time, and following them with backoff.

use std::collections::HashMap;
use std::time::Duration;

use apprun_blueprint::{EnvBlueprint, StackKind, outputs};
use apprun_config::Compute;
use serde::Serialize;

use crate::api::logs::FilterLogEvents;
use crate::clients::Clients;
use crate::error::DeployError;
use crate::ops::OpsClients;
use crate::pipeline_runs::pipeline_name;
use crate::stack::describe;

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// A service's application logs (`None`: the first service).
    Service(Option<String>),
    /// The pipeline's last build of each service (or of the one named).
    Build(Option<String>),
}

/// One log group to read, and which of its streams (all when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogTarget {
    pub group: String,
    pub streams: Vec<String>,
    /// What it holds, for messages: `service web`, `build of web`.
    pub what: String,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// Milliseconds since the epoch, as CloudWatch Logs gives it.
    pub timestamp: i64,
    /// The same instant in RFC 3339, UTC, milliseconds.
    pub time: String,
    pub group: String,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    pub event_id: String,
}

/// The service stacks of the env (service name, backend, stack name), in
/// blueprint order.
fn service_stacks(bp: &EnvBlueprint) -> Vec<(&str, Compute, &apprun_blueprint::Stack)> {
    bp.stacks
        .iter()
        .filter_map(|s| match &s.kind {
            StackKind::Service { name, backend } => Some((name.as_str(), *backend, s)),
            _ => None,
        })
        .collect()
}

/// The service a `--service` names, or the env's first.
fn pick_service<'a>(
    bp: &'a EnvBlueprint,
    service: Option<&str>,
) -> Result<(&'a str, Compute, &'a apprun_blueprint::Stack), DeployError> {
    let stacks = service_stacks(bp);
    let unknown = |name: &str| DeployError::ServiceNotInEnv {
        service: name.to_owned(),
        env: bp.env.clone(),
        known: stacks.iter().map(|(n, _, _)| (*n).to_owned()).collect(),
    };
    match service {
        Some(name) => stacks
            .iter()
            .find(|(n, _, _)| *n == name)
            .copied()
            .ok_or_else(|| unknown(name)),
        None => stacks.first().copied().ok_or_else(|| unknown("(none)")),
    }
}

/// Where the logs of `source` are. A service's location comes from its
/// deployed stack (App Runner names its log group after the service's id);
/// a build's from the pipeline's last run of its build action.
pub async fn log_targets(
    clients: &Clients,
    ops: &OpsClients,
    bp: &EnvBlueprint,
    source: &LogSource,
) -> Result<Vec<LogTarget>, DeployError> {
    match source {
        LogSource::Service(service) => {
            let (name, backend, stack) = pick_service(bp, service.as_deref())?;
            let target = match backend {
                Compute::AppRunner => apprunner_target(clients, &bp.env, name, &stack.name).await?,
                Compute::EcsExpress => ecs_target(name, stack)?,
            };
            Ok(vec![target])
        }
        LogSource::Build(service) => {
            if let Some(s) = service {
                pick_service(bp, Some(s))?;
            }
            build_targets(ops, bp, service.as_deref()).await
        }
    }
}

/// App Runner writes a service's application logs to
/// `/aws/apprunner/<service-name>/<service-id>/application`; name and id
/// are the last two parts of the service ARN (`…:service/<name>/<id>`).
async fn apprunner_target(
    clients: &Clients,
    env: &str,
    service: &str,
    stack: &str,
) -> Result<LogTarget, DeployError> {
    let deployed = describe(clients, stack)
        .await?
        .ok_or_else(|| DeployError::NotDeployed {
            stack: stack.to_owned(),
            advice: format!(
                "there are no logs yet; release the service first (`apprun release --env {env} --service {service}`)"
            ),
        })?;
    let arn =
        deployed
            .outputs
            .get(outputs::SERVICE_ARN)
            .ok_or_else(|| DeployError::NotDeployed {
                stack: stack.to_owned(),
                advice: format!(
                    "there are no logs yet; it has no {} output yet",
                    outputs::SERVICE_ARN
                ),
            })?;
    let group = apprunner_log_group(arn).ok_or_else(|| DeployError::Aws {
        operation: "DescribeStacks",
        stack: Some(stack.to_owned()),
        message: format!("stack {stack}'s ServiceArn `{arn}` is not an App Runner service ARN"),
    })?;
    Ok(LogTarget {
        group,
        streams: Vec::new(),
        what: format!("service {service}"),
    })
}

/// `/aws/apprunner/<name>/<id>/application` from an App Runner service ARN.
pub fn apprunner_log_group(arn: &str) -> Option<String> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    if fields.len() != 6 || fields[0] != "arn" || fields[2] != "apprunner" {
        return None;
    }
    let resource = fields[5];
    let mut parts = resource.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(name), Some(id), None) if !name.is_empty() && !id.is_empty() => {
            Some(format!("/aws/apprunner/{name}/{id}/application"))
        }
        _ => None,
    }
}

/// ECS Express: the log group apprun's service template creates (the
/// container's awslogs configuration points at it).
fn ecs_target(service: &str, stack: &apprun_blueprint::Stack) -> Result<LogTarget, DeployError> {
    let group = stack
        .template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::Logs::LogGroup")
        .find_map(|r| r.properties.get("LogGroupName").and_then(|v| v.as_str()))
        .ok_or_else(|| {
            // apprun's own ECS template always names its log group.
            DeployError::Internal(format!(
                "the template of {} has no named log group",
                stack.name
            ))
        })?;
    Ok(LogTarget {
        group: group.to_owned(),
        streams: Vec::new(),
        what: format!("service {service}"),
    })
}

/// The last build of each service's build action (`Build-<service>` in
/// stage `Build`): CodePipeline gives its CodeBuild build id
/// (`<project>:<uuid>`); without a LogsConfig, CodeBuild writes it to group
/// `/aws/codebuild/<project>`, stream `<uuid>`.
async fn build_targets(
    ops: &OpsClients,
    bp: &EnvBlueprint,
    service: Option<&str>,
) -> Result<Vec<LogTarget>, DeployError> {
    let pipeline = pipeline_name(bp).ok_or_else(|| DeployError::NoPipeline {
        pipeline: format!("of env `{}`", bp.env),
        env: bp.env.clone(),
    })?;
    let state = crate::pipeline_runs::pipeline_state(ops, &pipeline, &bp.env).await?;
    let mut targets: Vec<LogTarget> = state
        .stage_states
        .iter()
        .filter(|s| s.stage_name.as_deref() == Some("Build"))
        .flat_map(|s| &s.action_states)
        .filter_map(|a| {
            let action = a.action_name.as_deref()?;
            let svc = action.strip_prefix("Build-")?;
            if service.is_some_and(|s| s != svc) {
                return None;
            }
            let build_id = a
                .latest_execution
                .as_ref()?
                .external_execution_id
                .as_deref()?;
            let (project, uuid) = build_id.split_once(':')?;
            Some(LogTarget {
                group: format!("/aws/codebuild/{project}"),
                streams: vec![uuid.to_owned()],
                what: format!("build of {svc}"),
            })
        })
        .collect();
    targets.sort_by(|a, b| a.what.cmp(&b.what));
    if targets.is_empty() {
        return Err(DeployError::NoBuild {
            pipeline,
            service: service.map(str::to_owned),
        });
    }
    Ok(targets)
}

/// What to read from the targets.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Events at or after this instant (milliseconds since the epoch).
    pub start_ms: i64,
    /// A CloudWatch Logs filter pattern.
    pub filter: Option<String>,
}

/// The events of every target since `query.start_ms`, every page of each
/// (FilterLogEvents until no nextToken), merged by time. A log group that
/// does not exist yet (App Runner creates it on the first line) has none;
/// its name is returned in the second list.
pub async fn read_logs(
    ops: &OpsClients,
    targets: &[LogTarget],
    query: &LogQuery,
) -> Result<(Vec<LogEvent>, Vec<String>), DeployError> {
    let mut events = Vec::new();
    let mut missing = Vec::new();
    for target in targets {
        match read_target(ops, target, query).await? {
            Some(mut found) => events.append(&mut found),
            None => missing.push(target.group.clone()),
        }
    }
    sort_events(&mut events);
    Ok((events, missing))
}

/// By time, then group, stream and id: one deterministic interleaving.
fn sort_events(events: &mut [LogEvent]) {
    events.sort_by(|a, b| {
        (a.timestamp, &a.group, &a.stream, &a.event_id).cmp(&(
            b.timestamp,
            &b.group,
            &b.stream,
            &b.event_id,
        ))
    });
}

/// All pages of one target; `None` when its log group does not exist.
async fn read_target(
    ops: &OpsClients,
    target: &LogTarget,
    query: &LogQuery,
) -> Result<Option<Vec<LogEvent>>, DeployError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = FilterLogEvents {
            log_group_name: target.group.clone(),
            log_stream_names: target.streams.clone(),
            start_time: Some(query.start_ms),
            filter_pattern: query.filter.clone(),
            next_token: token.take(),
        };
        let page = match ops.api.call(&request).await {
            Ok(page) => page,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(e.into_deploy("FilterLogEvents", None)),
        };
        events.extend(page.events.into_iter().map(|e| {
            let timestamp = e.timestamp.unwrap_or_default();
            LogEvent {
                timestamp,
                time: time_of(timestamp),
                group: target.group.clone(),
                stream: e.log_stream_name.unwrap_or_default(),
                message: e
                    .message
                    .unwrap_or_default()
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                event_id: e.event_id.unwrap_or_default(),
            }
        }));
        // An empty page can still carry a token (the search went on).
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(Some(events)),
        }
    }
}

/// RFC 3339 in UTC with exactly three decimals, so that lines align.
fn time_of(ms: i64) -> String {
    let whole = aws_smithy_types::DateTime::from_secs(ms.div_euclid(1000))
        .fmt(aws_smithy_types::date_time::Format::DateTime);
    match whole {
        Ok(text) => format!("{}.{:03}Z", text.trim_end_matches('Z'), ms.rem_euclid(1000)),
        Err(_) => ms.to_string(),
    }
}

/// How following polls: the first wait, and the longest one it backs off to
/// while nothing new arrives.
#[derive(Debug, Clone, Copy)]
pub struct FollowTiming {
    pub first: Duration,
    pub longest: Duration,
    /// Stop after this many polls (tests); `None` until interrupted.
    pub max_polls: Option<usize>,
}

impl FollowTiming {
    /// The wait after a poll: back to `first` when it brought events,
    /// otherwise doubled up to `longest`.
    pub fn next_wait(&self, current: Duration, got_events: bool) -> Duration {
        if got_events {
            self.first
        } else {
            (current * 2).min(self.longest)
        }
    }
}

/// Events arrive in CloudWatch Logs up to a few seconds after their
/// timestamp; each poll reads again from this far before the newest event
/// seen, and drops the ids it already printed.
const LATE_ARRIVAL_MS: i64 = 30_000;

/// Why following stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowEnd {
    Interrupted,
    /// `max_polls` reached.
    Polls,
}

/// Prints (through `sink`) what arrives after the events already read, until
/// `interrupt` turns true (Ctrl-C) or `timing.max_polls` polls.
pub async fn follow_logs(
    ops: &OpsClients,
    targets: &[LogTarget],
    query: &LogQuery,
    already: &[LogEvent],
    timing: FollowTiming,
    mut interrupt: tokio::sync::watch::Receiver<bool>,
    mut sink: impl FnMut(&LogEvent),
) -> Result<FollowEnd, DeployError> {
    let mut newest = already
        .iter()
        .map(|e| e.timestamp)
        .max()
        .unwrap_or(query.start_ms);
    // Printed events by (group, id), with their timestamp: a poll reads
    // the late-arrival window again and drops these.
    let mut seen: HashMap<(String, String), i64> = already
        .iter()
        .map(|e| ((e.group.clone(), e.event_id.clone()), e.timestamp))
        .collect();
    let mut wait = timing.first;
    let mut polls = 0usize;
    loop {
        if *interrupt.borrow() {
            return Ok(FollowEnd::Interrupted);
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = interrupt.changed() => return Ok(FollowEnd::Interrupted),
        }
        let from = (newest - LATE_ARRIVAL_MS).max(query.start_ms);
        let poll = LogQuery {
            start_ms: from,
            filter: query.filter.clone(),
        };
        let (events, _) = read_logs(ops, targets, &poll).await?;
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|e| {
                seen.insert((e.group.clone(), e.event_id.clone()), e.timestamp)
                    .is_none()
            })
            .collect();
        for e in &fresh {
            sink(e);
            newest = newest.max(e.timestamp);
        }
        // Forget ids that fell out of the window a poll reads again.
        let cutoff = newest - LATE_ARRIVAL_MS;
        seen.retain(|_, t| *t >= cutoff);
        wait = timing.next_wait(wait, !fresh.is_empty());
        polls += 1;
        if timing.max_polls.is_some_and(|max| polls >= max) {
            return Ok(FollowEnd::Polls);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apprunner_log_group_from_the_service_arn() {
        assert_eq!(
            apprunner_log_group(
                "arn:aws:apprunner:ap-northeast-1:123456789012:service/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa"
            )
            .as_deref(),
            Some("/aws/apprunner/apprunner-nuxt3-dev-web/8fe1e10304f84fd2b0df550fe98a71fa/application")
        );
        assert_eq!(
            apprunner_log_group("arn:aws:ecs:ap-northeast-1:123456789012:service/c/s"),
            None,
            "an ECS service ARN is not App Runner's"
        );
        assert_eq!(apprunner_log_group("not-an-arn"), None);
        assert_eq!(
            apprunner_log_group("arn:aws:apprunner:r:1:connection/x/y"),
            None
        );
    }

    #[test]
    fn backoff_doubles_while_idle_and_resets_on_events() {
        let t = FollowTiming {
            first: Duration::from_secs(1),
            longest: Duration::from_secs(10),
            max_polls: None,
        };
        let mut w = t.first;
        let mut seen = Vec::new();
        for _ in 0..5 {
            w = t.next_wait(w, false);
            seen.push(w.as_secs());
        }
        assert_eq!(seen, [2, 4, 8, 10, 10]);
        assert_eq!(t.next_wait(w, true), Duration::from_secs(1));
    }

    #[test]
    fn time_is_rfc3339_utc_with_milliseconds() {
        assert_eq!(time_of(1_764_149_400_123), "2025-11-26T09:30:00.123Z");
        assert_eq!(time_of(1_764_149_400_000), "2025-11-26T09:30:00.000Z");
        assert_eq!(time_of(500), "1970-01-01T00:00:00.500Z");
    }
}
