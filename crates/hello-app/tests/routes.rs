//! Every route over HTTP, in-process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hello_app::{AppInfo, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, String, String) {
    let app = router(AppInfo {
        env: "dev".into(),
        system_id: "apprunner-nuxt3".into(),
    });
    let res = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, ctype, body)
}

fn is_iso8601_utc(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && s.ends_with('Z')
}

#[tokio::test]
async fn page_says_hello_world_with_the_time_env_and_system() {
    let (status, ctype, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(body.contains("<h1>Hello world</h1>"));
    assert!(body.contains(r#"<span id="env">dev</span>"#) && body.contains("apprunner-nuxt3"));
    let start = body.find(r#"datetime=""#).unwrap() + 10;
    assert!(
        is_iso8601_utc(&body[start..start + 24]),
        "{}",
        &body[start..start + 24]
    );
    assert!(
        body.contains("fetch('/api/date'"),
        "the script refreshes the time"
    );
}

#[tokio::test]
async fn api_date_is_iso8601_utc_and_not_cached() {
    let app = router(AppInfo::default());
    let res = app
        .oneshot(Request::get("/api/date").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let json: serde_json::Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let date = json["date"].as_str().unwrap();
    assert!(is_iso8601_utc(date), "{date}");
    let year: i32 = date[..4].parse().unwrap();
    assert!(year >= 2024, "the clock is converted correctly: {date}");
}

#[tokio::test]
async fn health_and_unknown_paths() {
    assert_eq!(get("/healthz").await.0, StatusCode::OK);
    assert_eq!(get("/nope").await.0, StatusCode::NOT_FOUND);
}

#[test]
fn iso8601_matches_known_instants() {
    // Expected values computed independently (Python's datetime, UTC).
    assert_eq!(hello_app::iso8601(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        hello_app::iso8601(951_782_400, 5),
        "2000-02-29T00:00:00.005Z"
    );
    assert_eq!(
        hello_app::iso8601(1_709_164_800 + 3_723, 999),
        "2024-02-29T01:02:03.999Z"
    );
    assert_eq!(
        hello_app::iso8601(1_795_645_034, 120),
        "2026-11-25T22:17:14.120Z"
    );
}
