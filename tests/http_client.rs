//! Outgoing calls with `send_tracked`: a real axum server on loopback sees
//! the caller's `traceparent`, and the call is recorded as a dependency
//! series (host, method, route template, status, latency); a refused
//! connection counts as failed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use monitor::http::client::TrackedRequest as _;
use monitor::http::EndpointStats;
use monitor::trace;
use monitor_workspace::{serve_on_loopback, shared_monitor};

type Seen = Arc<Mutex<Vec<Option<String>>>>;

/// A server answering `/users/{id}` after 10 ms (id 0 is a 500), noting
/// each request's `traceparent`.
async fn serve(seen: Seen) -> SocketAddr {
    let app = Router::new().route(
        "/users/{id}",
        get(move |Path(id): Path<u32>, headers: HeaderMap| {
            let seen = Arc::clone(&seen);
            async move {
                let parent = headers
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                seen.lock().expect("lock").push(parent);
                tokio::time::sleep(Duration::from_millis(10)).await;
                if id == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    serve_on_loopback(app).await
}

fn dependency(host: &str, route: &str) -> Option<EndpointStats> {
    shared_monitor()
        .collect_now()
        .dependencies
        .iter()
        .find(|d| d.host.as_deref() == Some(host) && d.route == route)
        .cloned()
}

#[monitor::traced(name = "client::load_users")]
async fn load_users(client: &reqwest::Client, addr: SocketAddr) -> Vec<u16> {
    let mut statuses = Vec::new();
    for id in [1, 2, 0] {
        let response = client
            .get(format!("http://{addr}/users/{id}"))
            .send_tracked("/users/{id}")
            .await
            .expect("a response");
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_recorded_with_trace_context() {
    let _ = shared_monitor();
    let seen = Seen::default();
    let addr = serve(Arc::clone(&seen)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    assert_eq!(load_users(&client, addr).await, vec![200, 200, 500]);

    let parents = seen.lock().expect("lock").clone();
    assert_eq!(parents.len(), 3);
    let trace_ids: Vec<_> = parents
        .iter()
        .map(|parent| {
            let parent = parent.as_deref().expect("every call carries traceparent");
            let mut headers = http::HeaderMap::new();
            headers.insert("traceparent", parent.parse().expect("header value"));
            trace::extract(&headers)
                .unwrap_or_else(|| panic!("invalid traceparent {parent}"))
                .trace_id
        })
        .collect();
    assert!(
        trace_ids.iter().all(|id| *id == trace_ids[0]),
        "the three calls belong to the caller's trace: {trace_ids:?}"
    );
    let host = addr.to_string();
    let d = tokio::task::spawn_blocking(move || dependency(&host, "/users/{id}"))
        .await
        .expect("collected")
        .expect("the dependency series");
    assert_eq!(d.method, "GET");
    assert_eq!(d.requests, 3);
    assert_eq!(d.status.success, 2);
    assert_eq!(d.status.server_error, 1);
    assert!((d.error_rate - 1.0 / 3.0).abs() < 1e-9, "{d:?}");
    assert!(d.p50_ns >= 9_900_000, "each call takes over 10 ms: {d:?}");
    assert_eq!(
        serde_json::to_value(&d).expect("JSON")["direction"],
        "client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_counts_as_failed() {
    let _ = shared_monitor();
    // A port nothing listens on: bind, note it, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let client = reqwest::Client::new();
    let result = client
        .get(format!("http://{addr}/ping"))
        .send_tracked("/ping")
        .await;
    assert!(result.is_err(), "nothing listens on {addr}");
    let host = addr.to_string();
    let d = tokio::task::spawn_blocking(move || dependency(&host, "/ping"))
        .await
        .expect("collected")
        .expect("the dependency series");
    assert_eq!((d.requests, d.status.failed, d.errors), (1, 1, 1));
}
