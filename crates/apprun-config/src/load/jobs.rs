//! `[jobs.NAME]`: the raw form of a job and its validation.
//!
//! A job runs a service's image on a schedule or on an event; see
//! [`crate::job`] for the validated model.

mod pattern;
mod schedule;
mod zones;

use indexmap::IndexMap;
use serde::Deserialize;

use super::{Validator, is_slug};
use crate::job::{EventPattern, Job, JobImage, JobTrigger, SnsTopic};
use crate::model::{Compute, Env, Service};
use crate::runtime::Runtime;
use crate::size::{Cpu, Memory, valid_pairs};

/// The longest job name: it is part of the schedule, rule, pipe and role
/// names (64 characters at most) with the system id and the env.
const MAX_NAME: usize = 24;
/// Fargate's smallest size, enough for a short batch command.
const DEFAULT_CPU: Cpu = Cpu(256);
const DEFAULT_MEMORY: Memory = Memory(512);
const DEFAULT_TIMEOUT_SECONDS: u32 = 3600;
/// Bounds of `timeout`: a minute to a day.
const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// Scheduler's and EventBridge's `RetryPolicy.MaximumRetryAttempts` default
/// is 185 over 24 hours; a job that cannot start is better reported soon.
const DEFAULT_RETRIES: u32 = 2;
const MAX_RETRIES: u32 = 185;

/// The variables apprun gives every job's container (besides a service's
/// `ENV` and `SYSTEM_ID`).
pub(crate) const JOB_VARIABLES: &[&str] = &["APPRUN_EVENT", "APPRUN_JOB", "APPRUN_JOB_TIMEOUT"];

/// `[jobs.NAME]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJob {
    /// The service whose image runs (default: the primary service).
    service: Option<String>,
    /// A Dockerfile of the job's own: not supported yet (a clear error).
    dockerfile: Option<String>,
    command: Option<Vec<String>>,
    cpu: Option<String>,
    memory: Option<String>,
    timeout: Option<String>,
    retries: Option<i64>,
    schedule: Option<String>,
    timezone: Option<String>,
    on: Option<toml::Table>,
    sns: Option<String>,
    /// Only these envs (default: every env).
    envs: Option<Vec<String>>,
    /// Plain variables and secrets, as a service's.
    #[serde(default)]
    env: IndexMap<String, toml::Value>,
    #[serde(default)]
    secrets: IndexMap<String, toml::Value>,
}

impl Validator {
    /// Validates every `[jobs.NAME]` against the services and envs it names.
    pub(super) fn jobs(
        &mut self,
        raw: IndexMap<String, RawJob>,
        services: &IndexMap<String, Service>,
        envs: &IndexMap<String, Env>,
    ) -> IndexMap<String, Job> {
        raw.into_iter()
            .map(|(name, r)| {
                let job = self.job(&name, r, services, envs);
                (name, job)
            })
            .collect()
    }

    fn job(
        &mut self,
        name: &str,
        r: RawJob,
        services: &IndexMap<String, Service>,
        envs: &IndexMap<String, Env>,
    ) -> Job {
        let key = format!("jobs.{name}");
        if !is_slug(name, true) || name.len() > MAX_NAME {
            self.err_key(&key, format!("`{name}` is not a valid job name; use 1 to {MAX_NAME} lowercase letters, digits and single hyphens, starting with a letter (it becomes part of the job's stack, schedule and role names)"));
        }
        let image = self.job_image(&key, &r, services);
        let command = r.command.unwrap_or_default();
        if command.is_empty() || command.iter().any(|a| a.is_empty()) {
            self.err_key(&key, "a job needs `command`, the container's arguments as a list (they replace the image's CMD; its ENTRYPOINT stays), e.g. command = [\"job\", \"tick\"]");
        }
        let (cpu, memory) = self.job_size(&key, r.cpu.as_deref(), r.memory.as_deref());
        let timeout_seconds = match r.timeout.as_deref() {
            None => DEFAULT_TIMEOUT_SECONDS,
            Some(t) => match parse_duration(t).filter(|s| TIMEOUT_RANGE.contains(s)) {
                Some(s) => s,
                None => {
                    self.err(&format!("{key}.timeout"), format!("`{t}` is not a timeout from 1 minute to 24 hours; write it like \"15m\", \"2h\" or \"1h30m\""));
                    DEFAULT_TIMEOUT_SECONDS
                }
            },
        };
        let retries = match r.retries {
            None => DEFAULT_RETRIES,
            Some(n) if (0..=i64::from(MAX_RETRIES)).contains(&n) => n as u32,
            Some(n) => {
                self.err(
                    &format!("{key}.retries"),
                    format!("{n} is out of range; allowed: 0 to {MAX_RETRIES} (EventBridge's retry limit)"),
                );
                DEFAULT_RETRIES
            }
        };
        let trigger = self.trigger(&key, r.schedule, r.timezone, r.on, r.sns);
        let envs_list = r.envs.unwrap_or_default();
        for (i, e) in envs_list.iter().enumerate() {
            if !envs.contains_key(e) {
                let defined: Vec<&str> = envs.keys().map(String::as_str).collect();
                self.err(
                    &format!("{key}.envs[{i}]"),
                    format!(
                        "`{e}` is not an environment of this file; defined: {}",
                        defined.join(", ")
                    ),
                );
            }
        }
        let runtime = self.job_runtime(&key, &r.env, &r.secrets);
        Job {
            name: name.to_owned(),
            image,
            command,
            cpu,
            memory,
            timeout_seconds,
            retries,
            trigger,
            envs: envs_list,
            runtime,
        }
    }

    /// `env` and `secrets` with the services' rules for ECS (jobs run on
    /// Fargate), and the variables apprun sets for a job reserved.
    fn job_runtime(
        &mut self,
        key: &str,
        env: &IndexMap<String, toml::Value>,
        secrets: &IndexMap<String, toml::Value>,
    ) -> Runtime {
        let (env_key, secrets_key) = (format!("{key}.env"), format!("{key}.secrets"));
        let runtime = Runtime {
            env: self.env_vars(&env_key, env, Compute::EcsExpress),
            secrets: self.secrets(&secrets_key, secrets, Compute::EcsExpress),
        };
        self.runtime_overlap(&env_key, &secrets_key, &runtime);
        for (table, names) in [(&env_key, env.keys()), (&secrets_key, secrets.keys())] {
            for name in names.filter(|n| JOB_VARIABLES.contains(&n.as_str())) {
                self.err_key(
                    &format!("{table}.{name}"),
                    format!(
                        "`{name}` is set by apprun for every job ({}); choose another name",
                        JOB_VARIABLES.join(", ")
                    ),
                );
            }
        }
        runtime
    }

    fn job_image(
        &mut self,
        key: &str,
        r: &RawJob,
        services: &IndexMap<String, Service>,
    ) -> JobImage {
        let primary = services.keys().next().cloned().unwrap_or_default();
        if r.dockerfile.is_some() {
            self.err(
                &format!("{key}.dockerfile"),
                "not yet: a job runs a service's image (its repository at the tag the pipeline deploys); remove `dockerfile` and set `service = \"NAME\"` (default: the first service), adding the job's command to that image",
            );
        }
        match &r.service {
            None => JobImage::Service(primary),
            Some(s) if services.contains_key(s) => JobImage::Service(s.clone()),
            Some(s) => {
                let defined: Vec<&str> = services.keys().map(String::as_str).collect();
                self.err(
                    &format!("{key}.service"),
                    format!(
                        "`{s}` is not a service of this file; defined: {}",
                        defined.join(", ")
                    ),
                );
                JobImage::Service(primary)
            }
        }
    }

    /// A Fargate size: jobs run on Fargate whatever the service's backend.
    fn job_size(&mut self, key: &str, cpu: Option<&str>, memory: Option<&str>) -> (Cpu, Memory) {
        let c = match cpu {
            None => Some(DEFAULT_CPU),
            Some(t) => Cpu::parse(t).or_else(|| {
                self.err(
                    &format!("{key}.cpu"),
                    format!("`{t}` is not a CPU size; write it like \"0.25 vCPU\" or \"1 vCPU\""),
                );
                None
            }),
        };
        let m = match memory {
            None => Some(DEFAULT_MEMORY),
            Some(t) => Memory::parse(t).or_else(|| {
                self.err(
                    &format!("{key}.memory"),
                    format!("`{t}` is not a memory size; write it like \"512 MB\" or \"2 GB\""),
                );
                None
            }),
        };
        let (Some(c), Some(m)) = (c, m) else {
            return (DEFAULT_CPU, DEFAULT_MEMORY);
        };
        let pairs = valid_pairs(Compute::EcsExpress);
        if !pairs.contains(&(c, m)) {
            let with_cpu: Vec<String> = pairs
                .iter()
                .filter(|(pc, _)| *pc == c)
                .map(|(_, pm)| pm.to_string())
                .collect();
            let hint = if with_cpu.is_empty() {
                "allowed cpu: 0.25, 0.5, 1, 2, 4, 8, 16 vCPU".to_owned()
            } else {
                format!("with {c} it allows memory {}", with_cpu.join(", "))
            };
            let at = if memory.is_some() { "memory" } else { "cpu" };
            self.err(
                &format!("{key}.{at}"),
                format!("{c} / {m} is not a size Fargate offers; {hint}"),
            );
        }
        (c, m)
    }

    /// Exactly one of `schedule` (with an optional `timezone`), `on` and `sns`.
    fn trigger(
        &mut self,
        key: &str,
        schedule: Option<String>,
        timezone: Option<String>,
        on: Option<toml::Table>,
        sns: Option<String>,
    ) -> JobTrigger {
        let given: Vec<&str> = [
            ("schedule", schedule.is_some()),
            ("on", on.is_some()),
            ("sns", sns.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let fallback = JobTrigger::Event(EventPattern(Default::default()));
        if given.len() != 1 {
            let message = if given.is_empty() {
                "a job needs one trigger: `schedule = \"cron(0 9 * * ? *)\"` (or \"rate(1 hour)\"), `on = { source = [...], detail-type = [...] }` (an EventBridge pattern) or `sns = \"arn:aws:sns:...\"` (or \"create\")".to_owned()
            } else {
                format!(
                    "a job has exactly one trigger; this one has {}: keep one",
                    given.join(", ")
                )
            };
            self.err_key(key, message);
            return fallback;
        }
        if timezone.is_some() && schedule.is_none() {
            self.err(&format!("{key}.timezone"), "`timezone` applies to a `schedule`; an event or SNS job runs when its event arrives");
        }
        if let Some(expression) = schedule {
            if let Err(m) = schedule::check(&expression) {
                self.err(&format!("{key}.schedule"), m);
            }
            let timezone = timezone.unwrap_or_else(|| "UTC".into());
            if zones::ZONES.binary_search(&timezone.as_str()).is_err() {
                self.err(
                    &format!("{key}.timezone"),
                    format!("`{timezone}` is not an IANA time zone name (tz database {}); write it like \"Asia/Tokyo\", \"Europe/Paris\" or \"UTC\"", zones::TZDATA_VERSION),
                );
            }
            return JobTrigger::Schedule {
                expression,
                timezone,
            };
        }
        if let Some(table) = on {
            return match pattern::check(&table) {
                Ok(p) => JobTrigger::Event(p),
                Err(errors) => {
                    for e in errors {
                        let at = if e.path.is_empty() {
                            format!("{key}.on")
                        } else {
                            format!("{key}.on.{}", e.path)
                        };
                        self.err(&at, e.message);
                    }
                    fallback
                }
            };
        }
        let topic = sns.unwrap_or_default();
        if topic == "create" {
            return JobTrigger::Sns(SnsTopic::Create);
        }
        if let Err(m) = check_topic_arn(&topic) {
            self.err(&format!("{key}.sns"), m);
        }
        JobTrigger::Sns(SnsTopic::Existing(topic))
    }
}

/// `arn:PARTITION:sns:REGION:ACCOUNT:NAME` of a standard topic.
fn check_topic_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let shape = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && (1..=256).contains(&parts[5].len())
        && parts[5]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !shape {
        return Err(format!(
            "`{arn}` is not an SNS topic ARN; expected arn:aws:sns:REGION:ACCOUNT:NAME, or \"create\" for a topic apprun creates"
        ));
    }
    if parts[5].ends_with(".fifo") {
        return Err(format!(
            "`{arn}` is a FIFO topic; a job subscribes a standard SQS queue, which FIFO topics cannot deliver to: use a standard topic"
        ));
    }
    Ok(())
}

/// `90s`, `15m`, `2h`, `1h30m`, `1d`: whole numbers with units, largest first.
fn parse_duration(text: &str) -> Option<u32> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit = u64::MAX;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        if number.is_empty() || unit >= last_unit {
            return None;
        }
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
        last_unit = unit;
    }
    if !number.is_empty() || last_unit == u64::MAX {
        return None;
    }
    u32::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("15"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("1.5h"), None);
    }
}
