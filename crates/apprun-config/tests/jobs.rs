//! `[jobs.NAME]`: good jobs load with their defaults; every bad one gets an
//! error naming the file, line, key and what is allowed.

use apprun_config::{
    Config, ConfigError, Cpu, JobImage, JobTrigger, LoadError, Memory, PatternValue, SnsTopic,
};

const BASE: &str = r#"[system]
id = "apprunner-nuxt3"
region = "ap-northeast-1"

[source]
type = "codecommit"
repository = "apprunner-nuxt3"

[services.web]
port = 3000

[services.api]
compute = "ecs-express"
port = 8080

[env.dev]
network = "10.0.0.0/24"
branch = "main"
cpu = "1 vCPU"
memory = "2 GB"

[env.prod]
network = "10.0.1.0/24"
branch = "prod"
cpu = "1 vCPU"
memory = "2 GB"
"#;

/// BASE followed by `jobs` (so a job's first line is line 28).
fn with(jobs: &str) -> String {
    format!("{BASE}\n{jobs}")
}

const FIRST_JOB_LINE: usize = 28;

fn errors(text: &str) -> Vec<ConfigError> {
    match Config::parse(text, "apprun.toml") {
        Err(LoadError::Invalid { errors, .. }) => errors,
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("config was accepted:\n{text}"),
    }
}

/// The single error of `jobs`, at `line` (relative to the first job line,
/// 0-based) and `key`; returns its message.
fn one_error(jobs: &str, line: usize, key: &str) -> String {
    let errs = errors(&with(jobs));
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    let e = &errs[0];
    let line = FIRST_JOB_LINE + line;
    assert_eq!((e.line, e.key.as_str()), (line, key), "{e}");
    assert!(
        e.to_string().starts_with(&format!("apprun.toml:{line}:")),
        "{e}"
    );
    e.message.clone()
}

#[test]
fn base_line_numbers_hold() {
    let text = with("[jobs.x]");
    assert_eq!(
        text.lines().nth(FIRST_JOB_LINE - 1),
        Some("[jobs.x]"),
        "the helper's line arithmetic"
    );
}

#[test]
fn a_schedule_job_loads_with_defaults() {
    let c = Config::parse(
        &with(
            r#"[jobs.daily-analysis]
command = ["job", "tick"]
schedule = "cron(0 9 * * ? *)"
timezone = "Asia/Tokyo"
"#,
        ),
        "apprun.toml",
    )
    .expect("valid");
    let j = &c.jobs["daily-analysis"];
    assert_eq!(
        j.image,
        JobImage::Service("web".into()),
        "the primary service"
    );
    assert_eq!(j.command, ["job", "tick"]);
    assert_eq!((j.cpu, j.memory), (Cpu(256), Memory(512)));
    assert_eq!(j.timeout_seconds, 3600);
    assert_eq!(j.retries, 2);
    assert_eq!(
        j.trigger,
        JobTrigger::Schedule {
            expression: "cron(0 9 * * ? *)".into(),
            timezone: "Asia/Tokyo".into()
        }
    );
    assert!(j.runs_in("dev") && j.runs_in("prod"));
}

#[test]
fn event_and_sns_jobs_load() {
    let c = Config::parse(
        &with(
            r#"[jobs.ingest]
service = "api"
command = ["ingest"]
cpu = "1 vCPU"
memory = "4 GB"
timeout = "1h30m"
retries = 0
envs = ["prod"]
on = { source = ["aws.s3"], detail-type = ["Object Created"], detail = { bucket = { name = ["uploads"] } } }

[jobs.notify]
command = ["notify"]
sns = "create"

[jobs.mirror]
command = ["mirror"]
sns = "arn:aws:sns:ap-northeast-1:123456789012:orders"
"#,
        ),
        "apprun.toml",
    )
    .expect("valid");
    let ingest = &c.jobs["ingest"];
    assert_eq!(ingest.image, JobImage::Service("api".into()));
    assert_eq!((ingest.cpu, ingest.memory), (Cpu(1024), Memory(4096)));
    assert_eq!((ingest.timeout_seconds, ingest.retries), (5400, 0));
    assert!(ingest.runs_in("prod") && !ingest.runs_in("dev"));
    let JobTrigger::Event(p) = &ingest.trigger else {
        panic!("{:?}", ingest.trigger)
    };
    assert_eq!(
        p.0["detail-type"],
        PatternValue::List(vec![PatternValue::String("Object Created".into())])
    );
    assert_eq!(c.jobs["notify"].trigger, JobTrigger::Sns(SnsTopic::Create));
    assert_eq!(
        c.jobs["mirror"].trigger,
        JobTrigger::Sns(SnsTopic::Existing(
            "arn:aws:sns:ap-northeast-1:123456789012:orders".into()
        ))
    );
}

#[test]
fn bad_cron_and_rate_expressions_name_the_field() {
    let job = |schedule: &str| format!("[jobs.x]\ncommand = [\"x\"]\nschedule = \"{schedule}\"\n");
    for (schedule, says) in [
        ("cron(0 9 * * *)", "has 5 field(s)"),
        ("cron(0 9 * * * *)", "one of them must be `?`"),
        ("cron(0 25 * * ? *)", "`25` is not a value; allowed: 0-23"),
        ("cron(0 9 ? * MON#6 *)", "instance 1-5"),
        ("rate(1 hours)", "singular"),
        ("rate(2 hour)", "plural"),
        ("at 9", "a schedule is"),
    ] {
        let m = one_error(&job(schedule), 2, "jobs.x.schedule");
        assert!(m.contains(says), "{schedule}: {m}");
    }
}

#[test]
fn unknown_time_zones_are_errors() {
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\ntimezone = \"Asia/Tokio\"\n",
        3,
        "jobs.x.timezone",
    );
    assert!(
        m.contains("`Asia/Tokio` is not an IANA time zone name"),
        "{m}"
    );
    // Links of the tz database (old names) are accepted as Scheduler does.
    Config::parse(
        &with("[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\ntimezone = \"Asia/Calcutta\"\n"),
        "apprun.toml",
    )
    .expect("a link name");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nsns = \"create\"\ntimezone = \"UTC\"\n",
        3,
        "jobs.x.timezone",
    );
    assert!(m.contains("applies to a `schedule`"), "{m}");
}

#[test]
fn bad_sizes_timeouts_and_retries() {
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\ncpu = \"0.25 vCPU\"\nmemory = \"4 GB\"\n",
        4,
        "jobs.x.memory",
    );
    assert!(
        m.contains("not a size Fargate offers; with 0.25 vCPU it allows memory 0.5 GB, 1 GB, 2 GB"),
        "{m}"
    );
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\ncpu = \"3 vCPU\"\n",
        3,
        "jobs.x.cpu",
    );
    assert!(m.contains("allowed cpu"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nmemory = \"lots\"\n",
        3,
        "jobs.x.memory",
    );
    assert!(m.contains("not a memory size"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\ntimeout = \"2d\"\n",
        3,
        "jobs.x.timeout",
    );
    assert!(m.contains("from 1 minute to 24 hours"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nretries = 186\n",
        3,
        "jobs.x.retries",
    );
    assert!(m.contains("allowed: 0 to 185"), "{m}");
}

#[test]
fn unknown_services_and_envs() {
    let m = one_error(
        "[jobs.x]\nservice = \"worker\"\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\n",
        1,
        "jobs.x.service",
    );
    assert!(
        m.contains("`worker` is not a service of this file; defined: web, api"),
        "{m}"
    );
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nenvs = [\"dev\", \"stg\"]\n",
        3,
        "jobs.x.envs[1]",
    );
    assert!(m.contains("`stg` is not an environment"), "{m}");
    let m = one_error(
        "[jobs.x]\ndockerfile = \"Dockerfile.job\"\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\n",
        1,
        "jobs.x.dockerfile",
    );
    assert!(
        m.starts_with("not yet: a job runs a service's image"),
        "{m}"
    );
}

#[test]
fn exactly_one_trigger() {
    let m = one_error("[jobs.x]\ncommand = [\"x\"]\n", 0, "jobs.x");
    assert!(m.contains("a job needs one trigger"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nsns = \"create\"\n",
        0,
        "jobs.x",
    );
    assert!(m.contains("this one has schedule, sns: keep one"), "{m}");
    let m = one_error("[jobs.x]\nschedule = \"rate(1 hour)\"\n", 0, "jobs.x");
    assert!(m.contains("a job needs `command`"), "{m}");
}

#[test]
fn event_patterns_and_topics_are_checked() {
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\non = { source = \"aws.s3\" }\n",
        2,
        "jobs.x.on.source",
    );
    assert!(m.contains("EventBridge matches values in arrays"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\n[jobs.x.on]\nsource = [\"aws.s3\"]\ndetail = { key = [{ begins = \"in/\" }] }\n",
        4,
        "jobs.x.on.detail.key[0]",
    );
    assert!(m.contains("a content filter has exactly one of"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nsns = \"arn:aws:sns:ap-northeast-1:123:orders\"\n",
        2,
        "jobs.x.sns",
    );
    assert!(m.contains("not an SNS topic ARN"), "{m}");
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nsns = \"arn:aws:sns:ap-northeast-1:123456789012:orders.fifo\"\n",
        2,
        "jobs.x.sns",
    );
    assert!(m.contains("FIFO"), "{m}");
}

#[test]
fn job_names_are_checked() {
    let m = one_error(
        "[jobs.Daily]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\n",
        0,
        "jobs.Daily",
    );
    assert!(m.contains("is not a valid job name"), "{m}");
}

#[test]
fn the_shipped_config_has_the_reference_authors_job() {
    let c = Config::parse(include_str!("../../../apprun.toml"), "apprun.toml").expect("valid");
    let j = &c.jobs["daily-analysis"];
    assert_eq!(
        j.trigger,
        JobTrigger::Schedule {
            expression: "cron(0 9 * * ? *)".into(),
            timezone: "Asia/Tokyo".into()
        }
    );
    assert_eq!(j.command, ["job", "tick"]);
}

#[test]
fn env_and_secrets_follow_the_services_rules() {
    let c = Config::parse(
        &with(
            "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nenv = { LOG_LEVEL = \"info\" }\nsecrets = { DB_PASSWORD = \"ssm:/app/db\" }\n",
        ),
        "apprun.toml",
    )
    .expect("valid");
    let j = &c.jobs["x"];
    assert_eq!(j.runtime.env["LOG_LEVEL"], "info");
    assert!(j.runtime.secrets.contains_key("DB_PASSWORD"));
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nenv = { APPRUN_JOB = \"y\" }\n",
        3,
        "jobs.x.env.APPRUN_JOB",
    );
    assert!(m.contains("set by apprun for every job"), "{m}");
    // The event of a triggered run arrives in APPRUN_EVENT: not the user's.
    let m = one_error(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nsecrets = { APPRUN_EVENT = \"ssm:/app/e\" }\n",
        3,
        "jobs.x.secrets.APPRUN_EVENT",
    );
    assert!(m.contains("APPRUN_EVENT"), "{m}");
    let errs = errors(&with(
        "[jobs.x]\ncommand = [\"x\"]\nschedule = \"rate(1 hour)\"\nenv = { API_TOKEN = \"plain\" }\n",
    ));
    assert!(
        errs.iter()
            .any(|e| e.key.starts_with("jobs.x.env") && e.line == FIRST_JOB_LINE + 3),
        "a secret-looking plain variable is refused at its key: {errs:#?}"
    );
}
