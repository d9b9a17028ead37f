//! Serves the app on $PORT (default 3000), logs JSON lines to stdout and
//! stops gracefully on SIGTERM (how App Runner and ECS stop containers) or
//! Ctrl-C. `hello-app job tick` runs one job instead: it writes one line
//! with the time and exits 0 (apprun's scheduled job in apprun.toml).

use hello_app::{AppInfo, Command, now_iso8601, router, tick_line};

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    match Command::parse(&args) {
        Command::Serve => serve().await,
        Command::Job(_) => {
            // The only job, `tick`: one line, exit 0.
            println!("{}", tick_line(&AppInfo::from_env(), &now_iso8601()));
            std::process::ExitCode::SUCCESS
        }
        Command::Usage(message) => {
            eprintln!("{message}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn serve() -> std::process::ExitCode {
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
