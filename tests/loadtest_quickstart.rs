//! Load-tests the quickstart order service in-process and asserts its
//! thresholds; the report carries the monitor's server-side figures.

use monitor::loadtest::{LoadTest, Profile};
use monitor_workspace::orders::{handle_order, OrderService, GOOD_ORDERS};
use monitor_workspace::shared_monitor;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_service_meets_its_thresholds() {
    let monitor = shared_monitor();
    assert!(monitor.is_running());
    let service = OrderService::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let report = LoadTest::new("quickstart-orders")
        .base_url(service.url())
        .profile(
            Profile::load()
                .rate(100)
                .ramp_up_secs(1)
                .hold_secs(3)
                .ramp_down_secs(0),
        )
        .request("order", |c| {
            let order = GOOD_ORDERS[c.iteration() as usize % GOOD_ORDERS.len()];
            c.post("/orders").body(order)
        })
        .weight(4)
        // The same code path without HTTP, as an in-process call.
        .call("handle", || handle_order("ada;book:1,pen:3".into(), 7))
        .threshold("p95 < 250ms")
        .threshold("order: p99 < 500ms")
        .threshold("error_rate < 1%")
        .threshold("rps > 80")
        .run()
        .await
        .expect("load test runs");
    report.assert_ok();

    let order = report.request("order").unwrap();
    assert!(order.completed >= 250, "{}", report.table());
    assert!(order.bytes_received > 0);
    // The server side, from the monitor in this process.
    let server = report.server.as_ref().expect("a monitor runs in-process");
    let handled = server
        .functions
        .iter()
        .find(|f| f.name == "orders::handle")
        .expect("orders::handle was profiled during the run");
    let calls = order.completed + report.request("handle").unwrap().completed;
    assert!(handled.calls >= calls, "{} < {calls}", handled.calls);
    assert!(handled.p99_ms > 0.0);
    // The process's resources over the run, from the monitor's system readings.
    let system = &server.system;
    if cfg!(target_os = "linux") {
        let cpu = system.cpu_pct_of_core.expect("process CPU over the run");
        assert!(cpu > 0.0, "the service used CPU: {cpu}");
        assert!(system.rss_bytes_after.unwrap() > 0);
        assert!(system.threads_after.unwrap() >= 2);
        assert!(system.open_fds_after.unwrap() > 0);
    }
    assert!(
        report.table().contains("server process cpu"),
        "{}",
        report.table()
    );
    // The JSON report is under target/monitor/loadtest/<name>/.
    let path = report.json_path.clone().unwrap();
    assert!(
        path.ends_with("monitor/loadtest/quickstart-orders/latest.json"),
        "{path:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["name"], "quickstart-orders");
    assert_eq!(json["requests"][0]["name"], "order");
    assert!(json["server"]["system"].is_object());
    assert!(json["timeline"]["completed"].as_array().unwrap().len() >= 4);
}
