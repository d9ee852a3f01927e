//! What the harness does besides measuring: bad thresholds, errors by
//! kind, requests that could not start, aborting thresholds, weights and
//! async-closure scenarios, ramping virtual users.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use monitor::loadtest::{BaselineMode, LoadTest, LoadTestError, Profile, Report, Verdict};
use monitor_workspace::delay_server::DelayServer;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn hold(profile: Profile, millis: u64) -> Profile {
    profile
        .ramp_up_secs(0)
        .hold(Duration::from_millis(millis))
        .ramp_down_secs(0)
}

fn quiet(test: LoadTest) -> LoadTest {
    let dir = std::env::temp_dir().join(format!("monitor-lt-behaviour-{}", std::process::id()));
    test.baseline_mode(BaselineMode::Off)
        .report_dir(dir)
        .quiet()
}

async fn run(test: LoadTest) -> Report {
    quiet(test).run().await.expect("load test runs")
}

#[tokio::test]
async fn a_bad_threshold_is_an_error_naming_it() {
    let test = || {
        quiet(LoadTest::new("bad").call("noop", || async {})).profile(hold(Profile::smoke(), 100))
    };
    let e = test().threshold("p95 < 150").run().await.unwrap_err();
    assert!(matches!(e, LoadTestError::Threshold { .. }), "{e}");
    assert!(
        e.to_string().contains("\"p95 < 150\"") && e.to_string().contains("no unit"),
        "{e}"
    );
    let e = test().threshold("buy: p95 < 1s").run().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("no request or call is named \"buy\""),
        "{e}"
    );
    let e = quiet(LoadTest::new("no/slash").call("noop", || async {}))
        .run()
        .await
        .unwrap_err();
    assert!(matches!(e, LoadTestError::Name(_)), "{e}");
    let e = quiet(LoadTest::new("nothing")).run().await.unwrap_err();
    assert!(matches!(e, LoadTestError::NoScenario), "{e}");
    let e = quiet(LoadTest::new("no-url").request("get", |c| c.get("/")))
        .run()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("base URL"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_counted_by_kind() {
    let _serial = SERIAL.lock().await;
    let server = DelayServer::start(|_| Duration::from_millis(200))
        .await
        .unwrap();
    // A port nobody listens on: bind, note it, close.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = run(LoadTest::new("errors")
        .base_url(server.url())
        .profile(hold(Profile::load().vus(5), 1_000).request_timeout(Duration::from_millis(50)))
        .request("missing", |c| c.get("/status/404"))
        .request("broken", |c| c.get("/status/503"))
        .request("refused", move |c| {
            c.get(&format!("http://127.0.0.1:{closed_port}/"))
        })
        .request("slow", |c| c.get("/"))
        .call("failing", || async { Err::<(), _>("out of stock") })
        .threshold("error_rate < 1%"))
    .await;
    let r = |name| report.request(name).unwrap();
    assert_eq!(
        r("missing").errors.status,
        vec![(404, r("missing").completed)]
    );
    assert_eq!(
        r("broken").errors.status,
        vec![(503, r("broken").completed)]
    );
    assert!(r("refused").errors.connect > 0, "{}", report.table());
    assert!(r("slow").errors.timeout > 0, "{}", report.table());
    assert_eq!(r("failing").errors.call, r("failing").completed);
    assert_eq!(r("failing").first_error.as_deref(), Some("out of stock"));
    for name in ["missing", "broken", "refused", "slow", "failing"] {
        assert!(r(name).completed > 0 && r(name).error_rate == 1.0, "{name}");
    }
    assert_eq!(report.verdict, Verdict::Failed);
    assert!(!report.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_cannot_start_are_counted() {
    let _serial = SERIAL.lock().await;
    let server = DelayServer::fixed(Duration::from_millis(100))
        .await
        .unwrap();
    // 2 slots of 100 ms serve ~20/s; 200/s are scheduled.
    let report = run(LoadTest::new("capped")
        .base_url(server.url())
        .profile(
            hold(Profile::load().rate(200), 1_000)
                .max_in_flight(2)
                .start_timeout(Duration::from_millis(10)),
        )
        .request("get", |c| c.get("/")))
    .await;
    let r = report.request("get").unwrap();
    assert!(r.not_started > 100, "{}", report.table());
    assert_eq!(r.completed + r.not_started, 200, "{}", report.table());
    assert!(r.error_rate > 0.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborting_threshold_stops_a_breakpoint_run() {
    let _serial = SERIAL.lock().await;
    // The server slows down as time passes: 10 ms more per second.
    let server = DelayServer::start(|at| Duration::from_millis(1 + at.as_millis() as u64 / 100))
        .await
        .unwrap();
    let report = run(LoadTest::new("breakpoint")
        .base_url(server.url())
        .profile(Profile::breakpoint().stages(&[(Duration::from_secs(8), 200)]))
        .request("get", |c| c.get("/"))
        .threshold("p95 < 15ms"))
    .await;
    let why = report
        .aborted
        .as_deref()
        .expect("the threshold aborts the run");
    assert!(why.contains("p95 < 15ms"), "{why}");
    assert!(report.active_secs < 6.0, "{}", report.table());
    let at = report.breaking_point.unwrap();
    assert!(at > 0.0 && at < 200.0, "{at}");
    // A latency failure on an overloaded generator is inconclusive instead.
    assert!(
        report.verdict == Verdict::Failed
            || (report.verdict == Verdict::Inconclusive && !report.generator.is_healthy()),
        "{}",
        report.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_calls_and_ramping_users() {
    let _serial = SERIAL.lock().await;
    let running = Arc::new(AtomicU64::new(0));
    let most = Arc::new(AtomicU64::new(0));
    let (r, m) = (Arc::clone(&running), Arc::clone(&most));
    let report = run(LoadTest::new("calls")
        .profile(
            Profile::load()
                .stages(&[
                    (Duration::from_millis(500), 4),
                    (Duration::from_millis(1_000), 4),
                ])
                .vus(4),
        )
        .call("work", move || {
            let (running, most) = (Arc::clone(&r), Arc::clone(&m));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            }
        })
        .weight(3)
        .call("rare", || async { Ok::<_, std::io::Error>(1) }))
    .await;
    let (work, rare) = (
        report.request("work").unwrap(),
        report.request("rare").unwrap(),
    );
    let all = work.completed + rare.completed;
    assert!(all > 100, "{}", report.table());
    // Exact mix, give or take the iterations in flight at the end.
    assert!(
        work.completed.abs_diff(3 * all / 4) <= 4,
        "{}",
        report.table()
    );
    assert_eq!(most.load(Ordering::SeqCst), 4, "peak users");
    assert!(report.is_ok(), "{}", report.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_volume_preset_sends_its_payload() {
    let _serial = SERIAL.lock().await;
    let server = DelayServer::fixed(Duration::ZERO).await.unwrap();
    let report = run(LoadTest::new("volume")
        .base_url(server.url())
        .profile(hold(Profile::volume().vus(2), 500))
        .request("upload", |c| c.post("/").body(c.payload())))
    .await;
    let r = report.request("upload").unwrap();
    assert!(
        r.completed > 0 && r.errors.total() == 0,
        "{}",
        report.table()
    );
    // Each answer is the size the server received: "1048576".
    assert_eq!(r.bytes_received, r.completed * 7, "{}", report.table());
    assert_eq!(report.profile.kind, "volume");
}
