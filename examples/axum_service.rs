//! An axum service with request tracking and health checks.
//!
//! `cargo run --example axum_service` starts the monitor and a small user
//! service on loopback, registers health checks (one of them on the
//! service itself), sends it some traffic, including calls tracked as a
//! dependency, and prints `/api/v1/endpoints` and `/health`. Pass
//! `--serve` to keep both running until Ctrl-C.

use std::time::Duration;

use axum::extract::{MatchedPath, Path};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use monitor::health::{self, checks};
use monitor::http::client::TrackedRequest as _;
use monitor::http::TrackLayer;

async fn user(Path(id): Path<u32>) -> Result<String, StatusCode> {
    tokio::time::sleep(Duration::from_millis(u64::from(id % 7))).await;
    match id {
        0 => Err(StatusCode::NOT_FOUND),
        13 => Err(StatusCode::INTERNAL_SERVER_ERROR),
        _ => Ok(format!("user {id}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let monitor = monitor::builder().dashboard_addr("127.0.0.1:0").start()?;
    let dashboard = monitor
        .dashboard_addr()
        .ok_or("the dashboard is turned off")?;

    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/ping", get(|| async { "pong" }))
        .layer(TrackLayer::new(|extensions| {
            extensions.get::<MatchedPath>().map(MatchedPath::as_str)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let service = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    health::register_async(
        "users-api",
        checks::http_get(format!("http://{service}/ping")),
    )
    .interval(Duration::from_secs(1));
    health::register(
        "disk",
        checks::disk_space(".", checks::MinFree::Percent(5.0)),
    )
    .critical(false);

    let client = reqwest::Client::new();
    for id in 0..200u32 {
        client
            .get(format!("http://{service}/users/{id}"))
            .send_tracked("/users/{id}")
            .await?;
    }
    // Wait for the first health round, then take a snapshot.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let _ = tokio::task::spawn_blocking(move || {
        monitor.collect_now();
        for path in ["/api/v1/endpoints", "/health"] {
            match monitor_workspace::http_get(dashboard, path) {
                Ok((status, body)) => println!("GET {path} -> {status}\n{body}\n"),
                Err(e) => eprintln!("GET {path}: {e}"),
            }
        }
        if std::env::args().any(|a| a == "--serve") {
            println!("dashboard: http://{dashboard}/  service: http://{service}/  (Ctrl-C stops)");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    })
    .await;
    Ok(())
}
