//! `/health`, `/health/live` and `/health/ready` over HTTP: a component
//! registered before the monitor starts, readiness only once every
//! component has a result, DEGRADED (200) for a non-critical component
//! DOWN, 503 for a critical one, impairment in the JSON, and liveness that
//! never depends on the components.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use monitor::health::{self, Outcome};
use monitor_workspace::http_get;
use serde_json::Value;

const FAST: Duration = Duration::from_millis(50);

/// `GET path` as (status, JSON).
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = http_get(addr, path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

/// Polls (bounded: 15 s) until `GET path` answers `status` and `done`.
fn wait_for(
    monitor: &monitor::Monitor,
    path: &str,
    status: u16,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let addr = monitor.dashboard_addr().expect("dashboard on");
    let mut last = (0, Value::Null);
    for _ in 0..750 {
        monitor.collect_now();
        last = get(addr, path);
        if last.0 == status && done(&last.1) {
            return last.1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{path} never answered {status} as expected; last: {last:?}");
}

fn component<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["components"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("{name} missing from {body}"))
}

#[test]
fn probes_follow_the_components() {
    // Registered before the monitor starts; the first run waits for the
    // test, so there is a time with no result.
    let db_gate = Arc::new(AtomicBool::new(false));
    let db_up = Arc::new(AtomicBool::new(true));
    let (gate, up) = (Arc::clone(&db_gate), Arc::clone(&db_up));
    health::register("db", move || {
        for _ in 0..1_000 {
            if gate.load(SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if up.load(SeqCst) {
            Ok(())
        } else {
            Err("connection refused by db")
        }
    })
    .interval(FAST)
    .timeout(Duration::from_secs(15));
    let cache_ok = Arc::new(AtomicBool::new(true));
    let ok = Arc::clone(&cache_ok);
    health::register("cache", move || {
        if ok.load(SeqCst) {
            Outcome::Up
        } else {
            Outcome::Degraded("evicting".into())
        }
    })
    .critical(false)
    .interval(FAST);
    health::register("api", || Ok::<(), String>(()))
        .depends_on(["db"])
        .interval(FAST);

    let monitor = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("monitor starts");
    let addr = monitor.dashboard_addr().expect("dashboard on");

    // db has no result yet: not ready, status UNKNOWN, but alive.
    monitor.collect_now();
    let (status, body) = get(addr, "/health/ready");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "not every component has been checked yet");
    let (status, body) = get(addr, "/health");
    assert_eq!(
        (status, &body["status"]),
        (200, &Value::from("UNKNOWN")),
        "{body}"
    );
    assert_eq!(get(addr, "/health/live").0, 200);

    // All checked and up.
    db_gate.store(true, SeqCst);
    wait_for(&monitor, "/health/ready", 200, |b| b["ready"] == true);
    let body = wait_for(&monitor, "/health", 200, |b| b["status"] == "UP");
    let db = component(&body, "db");
    assert_eq!(db["critical"], true);
    assert!(db["duration_ms"].as_f64().is_some(), "{db}");
    assert_eq!(
        component(&body, "api")["dependencies"],
        serde_json::json!(["db"])
    );

    // A non-critical component degraded: DEGRADED, still 200 and ready.
    cache_ok.store(false, SeqCst);
    let body = wait_for(&monitor, "/health", 200, |b| b["status"] == "DEGRADED");
    assert_eq!(component(&body, "cache")["details"], "evicting");
    assert_eq!(get(addr, "/health/ready").0, 200);

    // The critical db DOWN: 503 on /health and /health/ready, api impaired,
    // live still 200.
    db_up.store(false, SeqCst);
    let body = wait_for(&monitor, "/health", 503, |b| b["status"] == "DOWN");
    let db = component(&body, "db");
    assert_eq!(db["status"], "DOWN");
    assert_eq!(db["details"], "connection refused by db");
    let api = component(&body, "api");
    assert_eq!(
        (&api["status"], &api["impaired"]),
        (&Value::from("UP"), &Value::from(true))
    );
    assert_eq!(api["impaired_by"], serde_json::json!(["db"]));
    let (status, body) = get(addr, "/health/ready");
    assert_eq!(status, 503);
    assert_eq!(body["reason"], "a critical component is DOWN");
    assert_eq!(get(addr, "/health/live").0, 200);
    let events = &monitor.collect_now().health.events;
    assert!(
        events.iter().any(|e| e.component == "db"
            && e.to == health::Status::Down
            && e.severity == health::Severity::Critical
            && e.message.as_deref() == Some("connection refused by db")),
        "{events:?}"
    );

    // Recovered.
    db_up.store(true, SeqCst);
    cache_ok.store(true, SeqCst);
    wait_for(&monitor, "/health", 200, |b| b["status"] == "UP");
    wait_for(&monitor, "/health/ready", 200, |_| true);
    // An unknown path under /health names the ones served.
    let (status, body) = http_get(addr, "/health/nope").expect("GET");
    assert_eq!(status, 404);
    assert!(body.contains("/health/ready"), "{body}");

    // Stopped in the middle of a run, a check still runs under the next
    // monitor.
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    health::register_async("slow-async", move || {
        // The first run outlasts the monitor; later ones are quick.
        let first = calls.fetch_add(1, SeqCst) == 0;
        async move {
            if first {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            Ok::<(), String>(())
        }
    })
    .timeout(Duration::from_secs(60))
    .interval(FAST);
    let running = |monitor: &monitor::Monitor| {
        let health = monitor.collect_now().health.clone();
        health
            .components
            .into_iter()
            .find(|c| c.name == "slow-async")
            .expect("registered")
    };
    let mut before = running(&monitor);
    for _ in 0..750 {
        if before.running {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        before = running(&monitor);
    }
    assert!(before.running, "{before:?}");
    drop(monitor);
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("a second monitor starts");
    let mut after = running(&monitor);
    for _ in 0..750 {
        if after.runs > before.runs {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        after = running(&monitor);
    }
    assert!(
        after.runs > before.runs,
        "ran again: {before:?} then {after:?}"
    );
}
