//! `apprun logs`: a service's application logs or the pipeline's last build
//! log, merged by time, optionally followed until Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apprun_deploy::{FollowEnd, FollowTiming, LogEvent, LogQuery, LogSource, LogTarget, Tuning};

use crate::cli::LogsArgs;
use crate::diagnostics::Failure;
use crate::output::{Context, write_stdout};
use crate::shared::{aws_runtime, interrupt_watch, session};

pub fn run(ctx: &Context, args: &LogsArgs) -> Result<ExitCode, Failure> {
    aws_runtime()?.block_on(async {
        let s = session(ctx, &args.env, &args.aws).await?;
        let ops = s.clients.ops();
        let source = if args.build {
            LogSource::Build(args.service.clone())
        } else {
            LogSource::Service(args.service.clone())
        };
        let targets = match &args.job {
            Some(job) => vec![crate::commands::job::log_target(&s, &args.env, job).await?],
            None => apprun_deploy::log_targets(&s.clients, &ops, &s.bp, &source).await?,
        };
        for t in &targets {
            ctx.progress(format!("{}: log group {}", t.what, t.group));
        }
        let query = LogQuery {
            start_ms: now_ms().saturating_sub(millis(args.since)),
            filter: args.filter.clone(),
        };
        let printer = Printer::new(ctx, &targets);
        let (events, missing) = apprun_deploy::read_logs(&ops, &targets, &query).await?;
        for group in &missing {
            ctx.progress(format!(
                "log group {group} does not exist yet: nothing was logged there"
            ));
        }
        for e in &events {
            printer.print(e);
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        let tuning = Tuning::from_env();
        let timing = FollowTiming {
            first: tuning.poll,
            longest: (tuning.poll * 10).max(Duration::from_secs(1)),
            max_polls: None,
        };
        let end = apprun_deploy::follow_logs(
            &ops,
            &targets,
            &query,
            &events,
            timing,
            interrupt_watch(),
            |e| printer.print(e),
        )
        .await?;
        match end {
            FollowEnd::Interrupted => Err(Failure::Interrupted(
                "interrupted: stopped following the logs".into(),
            )),
            FollowEnd::Polls => Ok(ExitCode::SUCCESS),
        }
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or_default()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How events reach stdout: JSON lines, or one text line each (JSON
/// messages pretty-printed on a terminal).
struct Printer {
    json: bool,
    pretty: bool,
    /// Several log groups (a build per service): lines name their group.
    name_group: bool,
}

impl Printer {
    fn new(ctx: &Context, targets: &[LogTarget]) -> Printer {
        Printer {
            json: ctx.json(),
            pretty: std::io::stdout().is_terminal(),
            name_group: targets.len() > 1,
        }
    }

    fn print(&self, e: &LogEvent) {
        let line = if self.json {
            let mut text = serde_json::to_string(e).unwrap_or_default();
            text.push('\n');
            text
        } else {
            text_line(e, self.name_group, self.pretty)
        };
        write_stdout(&line);
    }
}

/// `TIME  STREAM  MESSAGE`; the stream prefixed by the group's last part
/// when several groups are read; a JSON object message pretty-printed
/// below the head when `pretty`.
fn text_line(e: &LogEvent, name_group: bool, pretty: bool) -> String {
    let stream = if name_group {
        let group = e.group.rsplit('/').next().unwrap_or_default();
        format!("{group}/{}", e.stream)
    } else {
        e.stream.clone()
    };
    let json = pretty
        .then(|| serde_json::from_str::<serde_json::Value>(e.message.trim()).ok())
        .flatten()
        .filter(serde_json::Value::is_object);
    match json.and_then(|v| serde_json::to_string_pretty(&v).ok()) {
        Some(body) => {
            let indented: Vec<String> = body.lines().map(|l| format!("    {l}")).collect();
            format!("{}  {stream}\n{}\n", e.time, indented.join("\n"))
        }
        None => format!("{}  {stream}  {}\n", e.time, e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> LogEvent {
        LogEvent {
            timestamp: 0,
            time: "2026-11-26T09:30:00.123Z".into(),
            group: "/aws/codebuild/apprunner-nuxt3-dev-web-build".into(),
            stream: "instance/7f3c".into(),
            message: message.into(),
            event_id: "1".into(),
        }
    }

    #[test]
    fn one_line_per_event_with_time_and_stream() {
        assert_eq!(
            text_line(&event("GET / 200"), false, false),
            "2026-11-26T09:30:00.123Z  instance/7f3c  GET / 200\n"
        );
        assert_eq!(
            text_line(&event("x"), true, false),
            "2026-11-26T09:30:00.123Z  apprunner-nuxt3-dev-web-build/instance/7f3c  x\n"
        );
    }

    #[test]
    fn json_messages_are_pretty_on_a_terminal_only() {
        let e = event(r#"{"level":"info","msg":"up"}"#);
        assert_eq!(
            text_line(&e, false, true),
            "2026-11-26T09:30:00.123Z  instance/7f3c\n    {\n      \"level\": \"info\",\n      \"msg\": \"up\"\n    }\n"
        );
        assert_eq!(
            text_line(&e, false, false),
            "2026-11-26T09:30:00.123Z  instance/7f3c  {\"level\":\"info\",\"msg\":\"up\"}\n"
        );
        // A JSON scalar is left as it is.
        assert_eq!(
            text_line(&event("42"), false, true),
            "2026-11-26T09:30:00.123Z  instance/7f3c  42\n"
        );
    }
}
