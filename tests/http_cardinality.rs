//! 10,000 distinct raw paths never make 10,000 series: through the tower
//! layer they are one `<unmatched>` series; recorded as routes, the table
//! stops at `http.max_routes` (set from a config file here) and the rest
//! share one `<overflow>` series.

use std::io::Write as _;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use monitor::http::{OVERFLOW_ROUTE, UNMATCHED_ROUTE};
use monitor_workspace::{http_get, serve_on_loopback, track_routes};

const RAW_PATHS: usize = 10_000;
const MAX_ROUTES: usize = 50;

#[test]
fn ten_thousand_raw_paths_stay_bounded() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(file, "[http]\nmax_routes = {MAX_ROUTES}").expect("config written");
    let monitor = monitor::builder()
        .config_file(file.path())
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("monitor starts");
    assert_eq!(monitor.config().http.max_routes, MAX_ROUTES);

    // Through the layer: a real axum server, raw paths no route matches.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let app = Router::new()
            .route("/items/{id}", get(|| async { "item" }))
            .layer(track_routes());
        let addr = serve_on_loopback(app).await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        for i in 0..RAW_PATHS {
            // Half match the template with a distinct id, half match nothing.
            let path = if i % 2 == 0 {
                format!("/items/{i}")
            } else {
                format!("/raw/{i}/x")
            };
            let response = client
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .expect("response");
            assert_eq!(response.status(), if i % 2 == 0 { 200 } else { 404 });
        }
    });
    let snapshot = monitor.collect_now();
    assert_eq!(
        snapshot.endpoints.len(),
        2,
        "one template and the unmatched series: {:?}",
        snapshot
            .endpoints
            .iter()
            .map(|e| &e.route)
            .collect::<Vec<_>>()
    );
    let count = |route: &str| {
        snapshot
            .endpoints
            .iter()
            .find(|e| e.route == route)
            .map_or(0, |e| e.requests)
    };
    assert_eq!(count("/items/{id}"), (RAW_PATHS / 2) as u64);
    assert_eq!(count(UNMATCHED_ROUTE), (RAW_PATHS / 2) as u64);

    // Recorded as if each raw path were a template: capped.
    for i in 0..RAW_PATHS {
        monitor::http::record(
            "GET",
            &format!("/orders/{i}"),
            200,
            Duration::from_micros(50),
        );
    }
    let snapshot = monitor.collect_now();
    assert_eq!(
        snapshot.endpoints.len(),
        MAX_ROUTES + 1,
        "the cap and one overflow series"
    );
    let overflow = snapshot
        .endpoints
        .iter()
        .find(|e| e.route == OVERFLOW_ROUTE)
        .expect("an overflow series");
    // Two series were taken by the layer's requests.
    assert_eq!(overflow.requests, (RAW_PATHS - (MAX_ROUTES - 2)) as u64);
    let total: u64 = snapshot.endpoints.iter().map(|e| e.requests).sum();
    assert_eq!(total, 2 * RAW_PATHS as u64, "every request counted once");

    // The exposition stays small too.
    let addr = monitor.dashboard_addr().expect("dashboard on");
    let (status, text) = http_get(addr, "/metrics").expect("GET /metrics");
    assert_eq!(status, 200);
    let series = text
        .lines()
        .filter(|l| l.starts_with("http_server_requests_total{"))
        .count();
    assert!(series <= 2 * (MAX_ROUTES + 1), "{series} series");
}
