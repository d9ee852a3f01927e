//! `GET /api/v1/history` against a running monitor: listing, recent ranges
//! from the rings, and bad parameters answered 400 with the reason.

use std::sync::OnceLock;
use std::time::Duration;

use monitor_workspace::http_get;

const SERIES_QUERY: &str = "function_calls%7Bfunction%3D%22history_api%3A%3Awork%22%7D";

#[monitor::profile]
fn work() {}

/// One monitor for the binary, with its own data directory, and the unix
/// second after its first tick.
fn monitor() -> &'static monitor::Monitor {
    &shared().1
}

fn started_secs() -> u64 {
    shared().2
}

fn shared() -> &'static (tempfile::TempDir, monitor::Monitor, u64) {
    static MONITOR: OnceLock<(tempfile::TempDir, monitor::Monitor, u64)> = OnceLock::new();
    MONITOR.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            // History left by an earlier run, ten minutes ago.
            let mut store = monitor::store::Store::open(&dir.path().join("data")).expect("store");
            let earlier = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis() as i64
                - 600_000;
            store
                .write_tick(earlier, [("from_a_previous_run", 7.0)])
                .expect("write");
            drop(store);
            let config = dir.path().join("monitor.toml");
            std::fs::write(
                &config,
                format!(
                    "data_dir = {:?}\ntick = \"1h\"\n[dashboard]\naddr = \"127.0.0.1:0\"\n[metrics]\ninstall_recorder = false\n",
                    dir.path().join("data")
                ),
            )
            .expect("config");
            let monitor = monitor::builder()
                .config_file(config)
                .start()
                .expect("monitor starts");
            let first = monitor.collect_now().taken_at_unix_ms / 1000;
            (dir, monitor, first + 1)
        })
}

fn get(path: &str) -> (u16, serde_json::Value) {
    let addr = monitor().dashboard_addr().expect("dashboard");
    let (status, body) = http_get(addr, path).expect("GET");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

#[test]
fn recent_ranges_come_from_the_one_second_ring() {
    for _ in 0..3 {
        work();
        monitor().collect_now();
    }
    // Since this process started: the rings cover it (earlier would ask the
    // store, which may hold a previous run's history).
    std::thread::sleep(Duration::from_millis(1100));
    work();
    monitor().collect_now();
    let from = started_secs();
    let (status, answer) = get(&format!(
        "/api/v1/history?series={SERIES_QUERY}&from={from}"
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["source"], "memory-1s", "{answer}");
    let points = answer["points"].as_array().expect("points");
    let last = points.last().expect("a point")[1].as_f64().expect("value");
    assert!(last >= 1.0, "{answer}");
    assert!(answer["ewma"].as_f64().is_some(), "{answer}");

    let (status, listing) = get("/api/v1/history");
    assert_eq!(status, 200);
    let names = listing["series"].as_array().expect("names");
    assert!(
        names
            .iter()
            .any(|n| n == r#"function_calls{function="history_api::work"}"#),
        "{listing}"
    );
    assert!(names.iter().any(|n| n == "monitor_collect_us"), "{listing}");
}

#[test]
fn history_from_an_earlier_run_is_listed_and_served_from_the_store() {
    monitor().collect_now();
    let (status, listing) = get("/api/v1/history");
    assert_eq!(status, 200);
    let names = listing["series"].as_array().expect("names");
    assert!(
        names.iter().any(|n| n == "from_a_previous_run"),
        "{listing}"
    );
    let (status, answer) = get("/api/v1/history?series=from_a_previous_run&from=-1h");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["source"], "store", "{answer}");
    let points = answer["points"].as_array().expect("points");
    assert_eq!(points.len(), 1, "{answer}");
    assert_eq!(points[0][1], 7.0, "{answer}");
}

#[test]
fn an_unknown_series_is_404() {
    monitor().collect_now();
    let (status, answer) = get("/api/v1/history?series=no_such_series&from=-1m");
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"]
        .as_str()
        .expect("error")
        .contains("no_such_series"));
}

#[test]
fn bad_parameters_are_400_naming_the_parameter() {
    for (query, names) in [
        ("series=x&from=yesterday", "from"),
        ("series=x&to=soon", "to"),
        ("series=x&step=fast", "step"),
        ("series=x&from=-30d&step=1s", "step"),
        ("series=x&from=200&to=100", "from"),
        ("series=x&colour=red", "colour"),
        ("series=%zz", "series"),
    ] {
        let (status, answer) = get(&format!("/api/v1/history?{query}"));
        assert_eq!(status, 400, "{query}: {answer}");
        let message = answer["error"].as_str().expect("error message");
        assert!(message.contains(names), "{query}: {message}");
    }
}

#[test]
fn only_get_and_head_are_allowed() {
    use std::io::{Read, Write};
    let addr = monitor().dashboard_addr().expect("dashboard");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /api/v1/history HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 405"), "{response}");
}
