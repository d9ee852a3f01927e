//! The leak detector on real workloads: one keeps every buffer it
//! allocates (flagged, with its growth rate), the other allocates and frees
//! in a sawtooth (never flagged). Each reports the bytes it holds through a
//! `metrics` gauge that `trend.leak_series` points the detector at.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEAKING: &str = r#"leak_test_bytes{workload="leaking"}"#;
const SAWTOOTH: &str = r#"leak_test_bytes{workload="sawtooth"}"#;
const CHUNK: usize = 64 * 1024;
const WINDOW_SECS: f64 = 20.0;

/// Allocates a chunk every 100 ms and touches it; `free_every` steps it
/// frees everything (0: never). Reports the bytes held.
fn workload(
    name: &'static str,
    free_every: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(usize, Duration)> {
    std::thread::spawn(move || {
        let began = Instant::now();
        let mut held: Vec<Vec<u8>> = Vec::new();
        let mut step = 0;
        let mut most = 0;
        while !stop.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(90) {
            held.push(vec![step as u8; CHUNK]);
            step += 1;
            if free_every > 0 && step % free_every == 0 {
                held.clear();
                held.shrink_to_fit();
            }
            let bytes: usize = held.iter().map(Vec::len).sum();
            most = most.max(bytes);
            metrics::gauge!("leak_test_bytes", "workload" => name).set(bytes as f64);
            std::thread::sleep(Duration::from_millis(100));
        }
        (held.iter().map(Vec::len).sum(), began.elapsed())
    })
}

#[test]
fn a_leaking_workload_is_flagged_and_a_sawtooth_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("monitor.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = {:?}
tick = "100ms"
[dashboard]
enabled = false
[trend]
leak_window = "{WINDOW_SECS}s"
leak_min_per_minute = 1000000
leak_min_r2 = 0.8
leak_series = [{LEAKING:?}, {SAWTOOTH:?}]
"#,
            dir.path().join("data")
        ),
    )
    .expect("config");
    let monitor = monitor::builder()
        .config_file(config)
        .start()
        .expect("monitor starts");
    let stop = Arc::new(AtomicBool::new(false));
    let leaking = workload("leaking", 0, Arc::clone(&stop));
    // Grows 640 KB/s for 3 s, then frees it all: a faster growth than the
    // leak, but the floor stays at zero.
    let sawtooth = workload("sawtooth", 30, Arc::clone(&stop));

    let began = Instant::now();
    let mut flagged = None;
    // Until the leak is flagged and the sawtooth has had a full window
    // plus a margin to be (wrongly) flagged.
    while began.elapsed() < Duration::from_secs(60)
        && (flagged.is_none() || began.elapsed().as_secs_f64() < WINDOW_SECS + 8.0)
    {
        let snapshot = monitor.snapshot();
        let leaks = &snapshot.trends.leaks;
        assert!(
            leaks.iter().all(|l| l.series != SAWTOOTH),
            "the sawtooth was flagged: {leaks:?}"
        );
        if flagged.is_none() {
            flagged = leaks.iter().find(|l| l.series == LEAKING).cloned();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    let (held, elapsed) = leaking.join().expect("leaking workload");
    sawtooth.join().expect("sawtooth workload");
    let leak = flagged.expect("the leaking workload was flagged within 60 s");

    // The rate it reports is the rate the workload really leaked at.
    let real_per_hour = held as f64 / elapsed.as_secs_f64() * 3600.0;
    let ratio = leak.per_hour / real_per_hour;
    assert!(
        (0.6..1.4).contains(&ratio),
        "{leak:?} vs {real_per_hour} B/h"
    );
    assert!(leak.r2 >= 0.8, "{leak:?}");
    assert_eq!(leak.window_secs, WINDOW_SECS);
    assert!(leak.end_value > leak.start_value, "{leak:?}");
    assert!(
        leak.text.contains("MB/h") && leak.text.contains("leak suspected"),
        "{}",
        leak.text
    );
}
