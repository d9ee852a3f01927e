//! Memory stays flat over an endurance run. The hold lasts
//! `MONITOR_SOAK_SECS` seconds (4 s when unset, so the suite stays quick;
//! `MONITOR_SOAK_SECS=600` is the 10-minute soak).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use monitor::loadtest::{BaselineMode, LoadTest, Profile};
use monitor_workspace::orders::{OrderService, GOOD_ORDERS};
use monitor_workspace::rss_bytes;

const MIB: f64 = 1024.0 * 1024.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_flat_over_an_endurance_run() {
    let service = OrderService::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let samples = Arc::clone(&samples);
        tokio::spawn(async move {
            loop {
                samples.lock().unwrap().push(rss_bytes());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let report = LoadTest::new("soak")
        .base_url(service.url())
        .profile(
            Profile::endurance()
                .rate(200)
                .ramp_up_secs(0)
                .hold_secs(4)
                .ramp_down_secs(0),
        )
        .request("order", |c| {
            c.post("/orders")
                .body(GOOD_ORDERS[c.iteration() as usize % GOOD_ORDERS.len()])
        })
        .threshold("error_rate < 1%")
        .baseline_mode(BaselineMode::Off)
        .report_dir(std::env::temp_dir().join(format!("monitor-lt-soak-{}", std::process::id())))
        .run()
        .await
        .expect("load test runs");
    sampler.abort();
    report.assert_ok();
    let samples = samples.lock().unwrap().clone();
    assert!(samples.len() >= 8, "{samples:?}");
    // After the first quarter (connections, histograms and buffers in
    // place), the resident size must not keep growing.
    let settled = samples[samples.len() / 4] as f64;
    let peak = samples[samples.len() / 4..].iter().copied().max().unwrap() as f64;
    let last = *samples.last().unwrap() as f64;
    println!(
        "soak {:.0} s at 200/s: {} requests, RSS after the first quarter {:.1} MiB, peak {:.1} MiB, last {:.1} MiB",
        report.active_secs,
        report.total.completed,
        settled / MIB,
        peak / MIB,
        last / MIB
    );
    assert!(
        peak - settled < 8.0 * MIB,
        "RSS grew from {settled} to {peak} bytes"
    );
}
