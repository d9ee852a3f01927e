//! Request tracking through `TrackLayer` on a real axum server over
//! loopback, and through `monitor::http::record`: percentiles against
//! known injected latencies, status classes, in-flight requests, body
//! sizes, unmatched paths, `/api/v1/endpoints` rankings and the
//! `/metrics` families (checked by promtool).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use monitor::http::{EndpointStats, UNMATCHED_ROUTE};
use monitor_workspace::{
    dashboard_monitor, http_get, promtool_check, serve_on_loopback, track_routes,
};
use serde_json::Value;

/// The figures of `method route` after a fresh tick.
fn endpoint(method: &str, route: &str) -> Option<EndpointStats> {
    dashboard_monitor()
        .collect_now()
        .endpoints
        .iter()
        .find(|e| e.method == method && e.route == route)
        .cloned()
}

/// Polls (bounded: 10 s) until `method route` satisfies `done`.
fn wait_for(method: &str, route: &str, done: impl Fn(&EndpointStats) -> bool) -> EndpointStats {
    for _ in 0..500 {
        if let Some(e) = endpoint(method, route).filter(|e| done(e)) {
            return e;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{method} {route} never got there: {:?}",
        endpoint(method, route)
    );
}

/// An axum app with the layer, served on loopback.
async fn serve() -> SocketAddr {
    let app = Router::new()
        .route(
            "/sleep/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slept"
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow"
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .layer(track_routes());
    serve_on_loopback(app).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

const MS: u64 = 1_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentiles_match_injected_latencies() {
    let _ = dashboard_monitor();
    let addr = serve().await;
    let client = client();
    // 60 requests of 5 ms, 30 of 20 ms, 10 of 50 ms, ten at a time.
    for (ms, batches) in [(5u64, 6), (20, 3), (50, 1)] {
        for _ in 0..batches {
            let mut requests = tokio::task::JoinSet::new();
            for _ in 0..10 {
                let request = client.get(format!("http://{addr}/sleep/{ms}")).send();
                requests.spawn(async move { request.await.map(|r| r.status()) });
            }
            while let Some(done) = requests.join_next().await {
                assert_eq!(done.expect("task").expect("response"), 200);
            }
        }
    }
    let e = tokio::task::spawn_blocking(|| wait_for("GET", "/sleep/{ms}", |e| e.requests == 100))
        .await
        .expect("collected");
    assert_eq!(e.status.success, 100);
    assert_eq!(e.errors, 0);
    assert_eq!(e.in_flight, 0);
    // A handler sleeps at least as long as asked; the histogram's buckets
    // are within 1%; scheduling on a shared machine adds up to ~25 ms.
    let within = |value: u64, ms: u64, what: &str| {
        assert!(
            value as f64 >= (ms * MS) as f64 * 0.99 && value <= (ms + 25) * MS,
            "{what} = {:.2} ms, expected {ms} ms: {e:?}",
            value as f64 / MS as f64
        );
    };
    within(e.p50_ns, 5, "p50");
    within(e.p95_ns, 50, "p95");
    within(e.p99_ns, 50, "p99");
    within(e.max_ns, 50, "max");
    // Mean: (60*5 + 30*20 + 10*50) / 100 = 14 ms.
    within(e.mean_ns, 14, "mean");
    assert!(e.total_ns >= 1_400 * MS, "{e:?}");
    assert!(e.rate_1m > 0.0, "{e:?}");
    // Prometheus buckets: none at or under 5 ms (every sleep is longer),
    // all under 100 ms, cumulative in between.
    assert_eq!(e.duration_buckets[0], 0, "{e:?}");
    assert_eq!(e.duration_buckets[5], 100, "{e:?}");
    assert!(e.duration_buckets.windows(2).all(|w| w[0] <= w[1]), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_classes_bodies_and_unmatched_paths() {
    let _ = dashboard_monitor();
    let addr = serve().await;
    let client = client();
    for code in [200, 200, 200, 200, 200, 404, 404, 404, 503, 500] {
        let status = client
            .get(format!("http://{addr}/status/{code}"))
            .send()
            .await
            .expect("response")
            .status();
        assert_eq!(status, code);
    }
    let body = client
        .post(format!("http://{addr}/echo"))
        .body("hello, monitor")
        .send()
        .await
        .expect("response")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "hello, monitor");
    for i in 0..5 {
        let status = client
            .get(format!("http://{addr}/no/such/path/{i}"))
            .send()
            .await
            .expect("response")
            .status();
        assert_eq!(status, 404);
    }

    tokio::task::spawn_blocking(move || {
        let e = wait_for("GET", "/status/{code}", |e| e.requests >= 10);
        assert_eq!(e.requests, 10);
        assert_eq!(e.status.success, 5);
        assert_eq!(e.status.client_error, 3, "4xx are counted apart");
        assert_eq!(e.status.server_error, 2);
        assert_eq!(e.errors, 2, "only 5xx are errors");
        assert!((e.error_rate - 0.2).abs() < 1e-9, "{e:?}");
        assert!((e.client_error_rate - 0.3).abs() < 1e-9, "{e:?}");

        let echo = wait_for("POST", "/echo", |e| e.requests == 1);
        assert_eq!(echo.bytes_in, 14);
        assert_eq!(echo.bytes_out, 14);

        let unmatched = wait_for("GET", UNMATCHED_ROUTE, |e| e.requests >= 5);
        assert!(unmatched.status.client_error >= 5, "{unmatched:?}");
        let snapshot = dashboard_monitor().collect_now();
        assert!(
            !snapshot
                .endpoints
                .iter()
                .any(|e| e.route.contains("/no/such")),
            "raw paths never become series"
        );
    })
    .await
    .expect("checks ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_in_flight_until_it_ends() {
    let _ = dashboard_monitor();
    let addr = serve().await;
    let client = client();
    let pending = tokio::spawn(client.get(format!("http://{addr}/slow")).send());
    let seen = tokio::task::spawn_blocking(|| wait_for("GET", "/slow", |e| e.in_flight == 1))
        .await
        .expect("collected");
    assert_eq!(seen.requests, 0);
    let response = pending.await.expect("task").expect("response");
    assert_eq!(response.status(), 200);
    let done = tokio::task::spawn_blocking(|| wait_for("GET", "/slow", |e| e.requests == 1))
        .await
        .expect("collected");
    assert_eq!(done.in_flight, 0);
    assert!(done.max_ns >= 400 * MS, "{done:?}");
}

#[test]
fn record_and_the_guard_count_requests() {
    let monitor = dashboard_monitor();
    for ms in [1, 2, 3] {
        monitor::http::record("get", "/guarded/{id}", 200, Duration::from_millis(ms));
    }
    monitor::http::record("BREW", "/guarded/{id}", 418, Duration::from_millis(1));
    let guard = monitor::http::start("PUT", "/guarded/{id}").bytes_in(10);
    let e = wait_for("PUT", "/guarded/{id}", |e| e.in_flight == 1);
    assert_eq!(e.requests, 0);
    guard.bytes_out(20).finish(201);
    let e = wait_for("PUT", "/guarded/{id}", |e| e.requests == 1);
    assert_eq!((e.in_flight, e.bytes_in, e.bytes_out), (0, 10, 20));
    drop(monitor::http::start("PUT", "/guarded/{id}"));
    let e = wait_for("PUT", "/guarded/{id}", |e| e.cancelled == 1);
    assert_eq!((e.in_flight, e.requests), (0, 1));
    let get = wait_for("GET", "/guarded/{id}", |e| e.requests == 3);
    assert_eq!(get.max_ns, 3 * MS);
    let other = wait_for("OTHER", "/guarded/{id}", |e| e.requests == 1);
    assert_eq!(other.status.client_error, 1);
    let _ = monitor;
}

/// Ranks as served: the position of `route` in the ranking `key`.
fn rank(body: &Value, key: &str, route: &str) -> usize {
    body["top"][key]
        .as_array()
        .and_then(|list| list.iter().position(|r| r["route"] == route))
        .unwrap_or_else(|| panic!("{route} not in top.{key}: {body}"))
}

#[test]
fn the_endpoints_api_ranks_and_metrics_pass_promtool() {
    let monitor = dashboard_monitor();
    let addr = monitor.dashboard_addr().expect("dashboard on");
    for _ in 0..20 {
        monitor::http::record("GET", "/rank/slow", 200, Duration::from_millis(80));
        monitor::http::record("GET", "/rank/failing", 500, Duration::from_millis(1));
    }
    monitor.collect_now();
    let (status, body) = http_get(addr, "/api/v1/endpoints").expect("GET /api/v1/endpoints");
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["sorted_by"], "total_time");
    assert!(
        rank(&body, "total_time_ns", "/rank/slow") < rank(&body, "total_time_ns", "/rank/failing")
    );
    assert!(rank(&body, "p99_ns", "/rank/slow") < rank(&body, "p99_ns", "/rank/failing"));
    assert!(rank(&body, "error_rate", "/rank/failing") < rank(&body, "error_rate", "/rank/slow"));
    let failing = body["endpoints"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["route"] == "/rank/failing"))
        .expect("listed");
    assert_eq!(failing["error_rate"], 1.0);
    assert_eq!(failing["status"]["server_error"], 20);

    let (status, body) = http_get(addr, "/api/v1/endpoints?sort=p99").expect("GET");
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let p99s: Vec<u64> = body["endpoints"]
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["p99_ns"].as_u64().expect("p99_ns"))
        .collect();
    assert!(p99s.windows(2).all(|w| w[0] >= w[1]), "{p99s:?}");
    let (status, body) = http_get(addr, "/api/v1/endpoints?sort=fastest").expect("GET");
    assert_eq!(status, 400);
    assert!(body.contains("total_time, error_rate, p99"), "{body}");

    let (status, text) = http_get(addr, "/metrics").expect("GET /metrics");
    assert_eq!(status, 200);
    assert!(
        text.contains(
            "http_server_requests_total{method=\"GET\",route=\"/rank/failing\",status_class=\"5xx\"} 20\n"
        ),
        "{text}"
    );
    assert!(text.contains(
        "http_server_request_duration_seconds_bucket{method=\"GET\",route=\"/rank/slow\",le=\"0.1\"} 20\n"
    ));
    promtool_check(&text);
}
