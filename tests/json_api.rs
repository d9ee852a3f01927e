//! The JSON endpoints return what was recorded.

use std::time::Duration;

use monitor_workspace::http_get;
use serde_json::Value;

#[monitor::profile(name = "json::lookup", budget = "1ms")]
fn lookup(key: u32) -> Result<u32, String> {
    if key == 0 {
        return Err("no key 0".into());
    }
    if key == 3 {
        std::thread::sleep(Duration::from_millis(3));
    }
    Ok(key * 10)
}

#[test]
fn functions_and_snapshot_carry_the_recorded_figures() {
    let monitor = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .start()
        .expect("monitor starts");
    let addr = monitor.dashboard_addr().expect("listening");
    for key in 0..10 {
        let _ = lookup(key);
    }
    metrics::counter!("json_orders_total", "region" => "eu").increment(3);
    metrics::gauge!("json_queue_depth").set(4.5);
    monitor.collect_now();

    let (status, body) = http_get(addr, "/api/v1/functions").expect("GET /api/v1/functions");
    assert_eq!(status, 200, "{body}");
    let functions: Value = serde_json::from_str(&body).expect("JSON");
    let lookup = functions
        .as_array()
        .and_then(|all| all.iter().find(|f| f["name"] == "json::lookup"))
        .unwrap_or_else(|| panic!("json::lookup missing from {functions}"));
    assert_eq!(lookup["module"], "json_api");
    assert_eq!(lookup["calls"], 10);
    assert_eq!(lookup["errors"], 1);
    assert_eq!(lookup["panics"], 0);
    assert_eq!(lookup["in_flight"], 0);
    assert_eq!(lookup["over_budget"], 1, "only the 3 ms call exceeds 1 ms");
    assert_eq!(lookup["budget_ns"], 1_000_000);
    assert_eq!(lookup["is_async"], false);
    let max = lookup["max_ns"].as_u64().expect("max_ns");
    assert!(max >= 3_000_000, "the slow call is the max: {max}");
    assert!(lookup["p50_ns"].as_u64() < Some(1_000_000), "{lookup}");
    // p99 of 10 calls is the slowest one, within the histogram's 1%.
    let p99 = lookup["p99_ns"].as_u64().expect("p99_ns");
    assert!(
        p99 <= max && p99 as f64 >= max as f64 * 0.99,
        "p99 {p99}, max {max}"
    );

    let (status, body) = http_get(addr, "/api/v1/snapshot").expect("GET /api/v1/snapshot");
    assert_eq!(status, 200, "{body}");
    let snapshot: Value = serde_json::from_str(&body).expect("JSON");
    assert!(snapshot["tick"].as_u64() >= Some(1));
    assert!(snapshot["functions"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["name"] == "json::lookup")));
    let metric = |name: &str| {
        snapshot["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing from {snapshot}"))
    };
    let orders = metric("json_orders_total");
    assert_eq!(orders["kind"], "counter");
    assert_eq!(
        orders["series"][0]["labels"][0],
        serde_json::json!(["region", "eu"])
    );
    assert_eq!(orders["series"][0]["value"]["counter"], 3);
    assert_eq!(
        metric("json_queue_depth")["series"][0]["value"]["gauge"],
        4.5
    );
}
