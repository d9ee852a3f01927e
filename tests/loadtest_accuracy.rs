//! The harness measures what happens: a known latency, a constant arrival
//! rate, and a stalling server seen by the corrected latency only.

use std::time::{Duration, Instant};

use monitor::loadtest::{BaselineMode, LoadTest, Profile, Report};
use monitor_workspace::delay_server::DelayServer;

/// Load tests in one binary run one at a time, so they do not measure each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn hold(profile: Profile, secs: u64) -> Profile {
    profile.ramp_up_secs(0).hold_secs(secs).ramp_down_secs(0)
}

async fn run(test: LoadTest) -> Report {
    let dir = std::env::temp_dir().join(format!("monitor-lt-accuracy-{}", std::process::id()));
    test.baseline_mode(BaselineMode::Off)
        .report_dir(dir)
        .run()
        .await
        .expect("load test runs")
}

/// Median of `n` sequential requests timed with a plain stopwatch.
async fn stopwatch_p50(url: &str, n: usize) -> f64 {
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let response = client.get(url).send().await.expect("server answers");
        let _ = response.bytes().await;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[n / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_latency_is_measured_within_2ms() {
    let _serial = SERIAL.lock().await;
    // The server sleeps 20 ms; on a busy machine the sleep and the loopback
    // add a little, so the truth is a plain stopwatch's median around the
    // same moment (before and after the run), about one request in flight.
    let server = DelayServer::fixed(Duration::from_millis(20)).await.unwrap();
    let open = LoadTest::new("known-latency-open")
        .base_url(server.url())
        .profile(hold(Profile::load().rate(40), 4))
        .request("get", |c| c.get("/"));
    let closed = LoadTest::new("known-latency-closed")
        .base_url(server.url())
        .profile(hold(Profile::load().vus(1), 3))
        .request("get", |c| c.get("/"));
    for test in [open, closed] {
        let before = stopwatch_p50(&server.url(), 50).await;
        let report = run(test).await;
        let after = stopwatch_p50(&server.url(), 50).await;
        let truth = (before + after) / 2.0;
        assert!(truth >= 20.0, "{truth}");
        let r = report.request("get").unwrap();
        assert!(r.completed >= 120, "{}", report.table());
        assert_eq!(r.errors.total(), 0, "{}", report.table());
        for p50 in [r.corrected.p50_ms, r.uncorrected.p50_ms] {
            assert!(
                (p50 - truth).abs() <= 2.0,
                "p50 {p50} ms, stopwatch {before} / {after} ms\n{}",
                report.table()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_is_achieved_within_2_percent() {
    let _serial = SERIAL.lock().await;
    let server = DelayServer::fixed(Duration::from_millis(2)).await.unwrap();
    let report = run(LoadTest::new("arrival-rate")
        .base_url(server.url())
        .profile(hold(Profile::load().rate(300), 3))
        .request("get", |c| c.get("/")))
    .await;
    let r = report.request("get").unwrap();
    assert_eq!(r.not_started, 0, "{}", report.table());
    assert!((r.rps - 300.0).abs() <= 6.0, "{}", report.table());
    // What the server saw: arrivals over 2 s in the middle of the run.
    let arrivals = server.arrivals();
    let first = arrivals.iter().min().copied().unwrap();
    let window = (first + Duration::from_millis(500))..(first + Duration::from_millis(2_500));
    let seen = arrivals.iter().filter(|a| window.contains(a)).count() as f64;
    assert!(
        (seen - 600.0).abs() <= 12.0,
        "{seen} arrivals in 2 s at 300/s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_corrected_p99_not_uncorrected() {
    let _serial = SERIAL.lock().await;
    // Every 5 s, from 2 s to 2.5 s, nothing is answered before 2.5 s.
    let server = DelayServer::start(|at| {
        let phase = Duration::from_nanos((at.as_nanos() % 5_000_000_000) as u64);
        let (from, to) = (Duration::from_millis(2_000), Duration::from_millis(2_500));
        if phase >= from && phase < to {
            to - phase
        } else {
            Duration::ZERO
        }
    })
    .await
    .unwrap();
    // One request in flight at a time, as with a single connection.
    let report = run(LoadTest::new("stall")
        .base_url(server.url())
        .profile(hold(Profile::load().rate(200), 5).max_in_flight(1))
        .request("get", |c| c.get("/")))
    .await;
    let r = report.request("get").unwrap();
    assert_eq!(r.not_started, 0, "{}", report.table());
    assert!(r.corrected.p99_ms > 300.0, "{}", report.table());
    assert!(r.corrected.max_ms > 400.0, "{}", report.table());
    assert!(r.uncorrected.p99_ms < 50.0, "{}", report.table());
    // The stalled request itself is in the uncorrected maximum.
    assert!(r.uncorrected.max_ms > 300.0, "{}", report.table());
}
