//! Serves the app on $PORT (default 3000), logs JSON lines to stdout and
//! stops gracefully on SIGTERM (how App Runner and ECS stop containers) or
//! Ctrl-C.

use hello_app::{AppInfo, now_iso8601, router};

fn log(level: &str, message: &str) {
    println!(
        "{}",
        serde_json::json!({ "time": now_iso8601(), "level": level, "message": message })
    );
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => log("info", "SIGTERM received, draining connections"),
        _ = tokio::signal::ctrl_c() => log("info", "interrupt received, draining connections"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let port: u16 = match std::env::var("PORT").map(|p| p.parse()) {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => {
            log("error", "PORT is not a port number");
            return std::process::ExitCode::from(2);
        }
        Err(_) => 3000,
    };
    let info = AppInfo::from_env();
    // Every interface by default (a container's own namespace, where App
    // Runner and ECS reach it); `HOST=127.0.0.1` keeps it on loopback, as
    // `apprun local` runs it.
    let host = std::env::var("HOST").unwrap_or_else(|_| "0.0.0.0".into());
    let listener = match tokio::net::TcpListener::bind((host.as_str(), port)).await {
        Ok(l) => l,
        Err(e) => {
            log("error", &format!("cannot listen on {host}:{port}: {e}"));
            return std::process::ExitCode::from(1);
        }
    };
    log(
        "info",
        &format!(
            "listening on :{port} (env {}, system {})",
            info.env, info.system_id
        ),
    );
    if let Err(e) = axum::serve(listener, router(info))
        .with_graceful_shutdown(shutdown())
        .await
    {
        log("error", &format!("server error: {e}"));
        return std::process::ExitCode::from(1);
    }
    log("info", "stopped");
    std::process::ExitCode::SUCCESS
}
