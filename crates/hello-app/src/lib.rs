//! The reference application, rewritten in Rust: a page that says "Hello
//! world" and shows the current time, which a few lines of script refresh
//! from `GET /api/date` (`{"date": "<ISO-8601 UTC>"}`).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json};
use axum::routing::get;
use serde_json::json;

/// What the page shows about where it runs (App Runner passes these).
#[derive(Debug, Clone, Default)]
pub struct AppInfo {
    pub env: String,
    pub system_id: String,
}

impl AppInfo {
    pub fn from_env() -> Self {
        AppInfo {
            env: std::env::var("ENV").unwrap_or_else(|_| "local".into()),
            system_id: std::env::var("SYSTEM_ID").unwrap_or_else(|_| "apprun".into()),
        }
    }
}

pub fn router(info: AppInfo) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/date", get(date))
        .route("/healthz", get(health))
        .with_state(info)
}

/// `2026-11-25T22:17:14.123Z` from the system clock (UTC).
pub fn now_iso8601() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    iso8601(d.as_secs(), d.subsec_millis())
}

/// ISO-8601 UTC of a Unix time, without a date library.
pub fn iso8601(secs: u64, millis: u32) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

async fn date() -> impl IntoResponse {
    let mut response = Json(json!({ "date": now_iso8601() })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn page(State(info): State<AppInfo>) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hello world · {system}</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem}}#now{{font-variant-numeric:tabular-nums}}</style>
</head>
<body>
<h1>Hello world</h1>
<p>It is <time id="now" datetime="{now}" data-source="server">{now}</time></p>
<p><small>{system} · env <span id="env">{env}</span></small></p>
<script>
async function refresh() {{
  const res = await fetch('/api/date', {{ cache: 'no-store' }});
  const {{ date }} = await res.json();
  const el = document.getElementById('now');
  el.textContent = date; el.dateTime = date; el.dataset.source = 'api';
}}
refresh(); setInterval(refresh, 1000);
</script>
</body>
</html>
"#,
        now = now_iso8601(),
        env = escape(&info.env),
        system = escape(&info.system_id),
    ))
}

/// What the command line asks for: the server (no arguments), or one run of
/// a job (`hello-app job NAME`), as apprun's jobs start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve,
    Job(String),
    /// Anything else: the message to print before exiting 2.
    Usage(String),
}

/// The jobs this app knows.
pub const JOBS: &[&str] = &["tick"];

impl Command {
    /// From the arguments after the program name.
    pub fn parse(args: &[String]) -> Command {
        match args {
            [] => Command::Serve,
            [job, name] if job == "job" && JOBS.contains(&name.as_str()) => {
                Command::Job(name.clone())
            }
            [job, name] if job == "job" => {
                Command::Usage(format!("unknown job `{name}`; known: {}", JOBS.join(", ")))
            }
            _ => Command::Usage(format!(
                "usage: hello-app            (serve on $PORT)\n       hello-app job NAME   (run one job: {})",
                JOBS.join(", ")
            )),
        }
    }
}

/// The one line the `tick` job writes: a JSON log line with the time, the
/// job and where it runs (the reference author's "analysis at a given
/// time", reduced to proving that it ran, and when).
pub fn tick_line(info: &AppInfo, time: &str) -> String {
    json!({
        "time": time,
        "level": "info",
        "job": "tick",
        "env": info.env,
        "system": info.system_id,
        "message": format!("tick at {time}"),
    })
    .to_string()
}
