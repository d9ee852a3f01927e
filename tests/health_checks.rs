//! Health checks on the monitor thread against real peers on loopback: a
//! dependency going down and up again (and what depends on it impaired
//! meanwhile), checks that hang or panic (recorded as DOWN, nothing else
//! affected, a hung check never started twice), graph problems, and the
//! built-in TCP, disk and process checks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use monitor::health::{self, checks, ComponentHealth, Severity, Status};
use monitor_workspace::{dashboard_monitor, http_get};

const FAST: Duration = Duration::from_millis(50);

fn component(name: &str) -> Option<ComponentHealth> {
    dashboard_monitor()
        .collect_now()
        .health
        .components
        .iter()
        .find(|c| c.name == name)
        .cloned()
}

/// Polls (bounded: 15 s) until component `name` satisfies `done`.
fn wait_for(name: &str, done: impl Fn(&ComponentHealth) -> bool) -> ComponentHealth {
    for _ in 0..750 {
        if let Some(c) = component(name).filter(|c| done(c)) {
            return c;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{name} never got there: {:?}", component(name));
}

/// A loopback HTTP server answering `/health` with 200, or 503 while
/// `failing` is set; stops when `stop` fires.
async fn serve(
    listener: tokio::net::TcpListener,
    failing: Arc<AtomicBool>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let app = Router::new().route(
        "/health",
        get(move || {
            let failing = Arc::clone(&failing);
            async move {
                if failing.load(SeqCst) {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stop.await;
        })
        .await;
}

async fn start_server(
    addr: SocketAddr,
    failing: &Arc<AtomicBool>,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(serve(listener, Arc::clone(failing), stopped));
    (addr, stop, task)
}

/// Runs a blocking wait off the test's runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_goes_down_and_up_again() {
    let _ = dashboard_monitor();
    let failing = Arc::new(AtomicBool::new(false));
    let (addr, stop, server) = start_server("127.0.0.1:0".parse().expect("addr"), &failing).await;
    health::register_async("dep-api", checks::http_get(format!("http://{addr}/health")))
        .interval(FAST)
        .timeout(Duration::from_secs(2));
    health::register("dep-app", || Ok::<(), String>(()))
        .depends_on(["dep-api"])
        .interval(FAST);

    let up = blocking(|| wait_for("dep-api", |c| c.status == Status::Up)).await;
    assert!(
        up.duration_ms.is_some() && up.checked_at_unix_ms.is_some(),
        "{up:?}"
    );
    let app = blocking(|| wait_for("dep-app", |c| c.status == Status::Up)).await;
    assert!(!app.impaired);
    assert_eq!(app.dependencies, vec!["dep-api".to_string()]);

    // The dependency answers 503: DOWN with the reason; the app is impaired
    // but its own status stays UP.
    failing.store(true, SeqCst);
    let down = blocking(|| wait_for("dep-api", |c| c.status == Status::Down)).await;
    let details = down.details.clone().unwrap_or_default();
    assert!(details.contains("answered 503"), "{down:?}");
    let app = blocking(|| wait_for("dep-app", |c| c.impaired)).await;
    assert_eq!(app.status, Status::Up);
    assert_eq!(app.impaired_by, vec!["dep-api".to_string()]);
    let events = dashboard_monitor().collect_now().health.events.clone();
    let went_down = events
        .iter()
        .find(|e| e.component == "dep-api" && e.to == Status::Down)
        .expect("an event for the alert engine");
    assert_eq!(
        went_down.severity,
        Severity::Critical,
        "critical by default"
    );
    assert_eq!(went_down.from, Status::Up);

    // Back to 200: UP again, since a later time, the app no longer impaired.
    failing.store(false, SeqCst);
    let again = blocking(|| wait_for("dep-api", |c| c.status == Status::Up)).await;
    assert!(again.since_unix_ms >= down.since_unix_ms);
    assert_eq!(again.last_error, down.last_error, "the last error is kept");
    assert!(again.details.is_none());
    let statuses: Vec<(Status, Status)> =
        again.transitions.iter().map(|t| (t.from, t.to)).collect();
    assert!(
        statuses.ends_with(&[(Status::Up, Status::Down), (Status::Down, Status::Up)]),
        "{statuses:?}"
    );
    blocking(|| wait_for("dep-app", |c| !c.impaired)).await;

    // The server goes away entirely, then comes back on the same port.
    let _ = stop.send(());
    server.await.expect("server stopped");
    let gone = blocking(|| {
        wait_for("dep-api", |c| {
            c.status == Status::Down
                && c.details
                    .as_deref()
                    .unwrap_or("")
                    .contains("cannot connect")
        })
    })
    .await;
    assert!(gone.failures >= 2, "{gone:?}");
    let (_, stop, server) = start_server(addr, &failing).await;
    blocking(|| wait_for("dep-api", |c| c.status == Status::Up)).await;
    let _ = stop.send(());
    server.await.expect("server stopped");
    health::unregister("dep-app");
    health::unregister("dep-api");
}

#[test]
fn a_hanging_check_times_out_and_is_never_started_twice() {
    let monitor = dashboard_monitor();
    let hang = Arc::new(AtomicBool::new(true));
    let hanging = Arc::clone(&hang);
    let runs = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&runs);
    health::register("hangs", move || {
        counted.fetch_add(1, SeqCst);
        // Bounded (30 s), so a failed test cannot leave the thread forever.
        for _ in 0..3_000 {
            if !hanging.load(SeqCst) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err("still hanging after 30 s")
    })
    .timeout(Duration::from_millis(200))
    .interval(FAST);
    health::register("beside-the-hung-one", || Ok::<(), String>(())).interval(FAST);

    let hung = wait_for("hangs", |c| c.status == Status::Down && c.stuck);
    assert!(
        hung.details
            .as_deref()
            .unwrap_or("")
            .contains("timed out after 200ms"),
        "{hung:?}"
    );
    assert!(hung.running);
    // The other check keeps running meanwhile.
    let before = component("beside-the-hung-one").expect("registered").runs;
    let beside = wait_for("beside-the-hung-one", |c| c.runs >= before + 3);
    assert_eq!(beside.status, Status::Up);
    assert_eq!(runs.load(SeqCst), 1, "never started again while stuck");

    // The endpoints answer from the cache while the check hangs.
    let addr = monitor.dashboard_addr().expect("dashboard on");
    let (_, body) = http_get(addr, "/health").expect("GET /health");
    assert!(
        body.contains("\"hangs\"") && body.contains("timed out"),
        "{body}"
    );
    let (status, _) = http_get(addr, "/health/live").expect("GET /health/live");
    assert_eq!(status, 200);

    // Released, it runs again and recovers.
    hang.store(false, SeqCst);
    let recovered = wait_for("hangs", |c| c.status == Status::Up && c.runs >= 3);
    assert!(!recovered.stuck, "{recovered:?}");
    assert!(runs.load(SeqCst) >= 2);
    health::unregister("hangs");
    health::unregister("beside-the-hung-one");
}

#[test]
fn panicking_checks_are_down_with_their_message() {
    let _ = dashboard_monitor();
    health::register("panics", || -> Result<(), String> {
        panic!("disk on fire")
    })
    .interval(FAST);
    health::register_async("panics-async", || async {
        if true {
            panic!("async boom");
        }
        Ok::<(), String>(())
    })
    .interval(FAST);
    health::register_async("hangs-async", || async {
        std::future::pending::<()>().await;
        Ok::<(), String>(())
    })
    .timeout(Duration::from_millis(100))
    .interval(FAST);
    health::register("steady", || Ok::<(), String>(())).interval(FAST);

    let sync = wait_for("panics", |c| c.status == Status::Down && c.runs >= 2);
    assert_eq!(
        sync.details.as_deref(),
        Some("the check panicked: disk on fire")
    );
    let r#async = wait_for("panics-async", |c| c.status == Status::Down && c.runs >= 2);
    assert_eq!(
        r#async.details.as_deref(),
        Some("the check panicked: async boom")
    );
    // An async check that never ends is aborted at its timeout and run again.
    let hung = wait_for("hangs-async", |c| c.status == Status::Down && c.runs >= 2);
    assert!(
        hung.details.as_deref().unwrap_or("").contains("timed out"),
        "{hung:?}"
    );
    // Nothing else is affected.
    let steady = wait_for("steady", |c| c.runs >= 3);
    assert_eq!((steady.status, steady.failures), (Status::Up, 0));
    for name in ["panics", "panics-async", "hangs-async", "steady"] {
        health::unregister(name);
    }
}

#[test]
fn cycles_and_unknown_dependencies_are_reported() {
    let _ = dashboard_monitor();
    health::register("cyc-a", || Ok::<(), String>(())).depends_on(["cyc-b"]);
    health::register("cyc-b", || Ok::<(), String>(())).depends_on(["cyc-a"]);
    health::register("orphan", || Ok::<(), String>(())).depends_on(["nowhere"]);
    let health = dashboard_monitor().collect_now().health.clone();
    assert!(
        health
            .problems
            .iter()
            .any(|p| p == "dependency cycle: cyc-a -> cyc-b -> cyc-a"),
        "{:?}",
        health.problems
    );
    assert!(
        health
            .problems
            .iter()
            .any(|p| p.contains("\"orphan\" depends on \"nowhere\", which is not registered")),
        "{:?}",
        health.problems
    );
    let orphan = component("orphan").expect("registered");
    assert_eq!(orphan.problems.len(), 1);
    for name in ["cyc-a", "cyc-b", "orphan"] {
        health::unregister(name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_tcp_disk_and_process_checks() {
    let _ = dashboard_monitor();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let open = listener.local_addr().expect("addr");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    health::register_async("tcp-open", checks::tcp_connect(open.to_string())).interval(FAST);
    health::register_async("tcp-closed", checks::tcp_connect(closed.to_string())).interval(FAST);
    health::register_async("https-url", checks::http_get("https://127.0.0.1:1/")).interval(FAST);
    health::register(
        "disk-here",
        checks::disk_space(".", checks::MinFree::Bytes(1)),
    );
    health::register(
        "disk-impossible",
        checks::disk_space(".", checks::MinFree::Percent(100.1)),
    );
    health::register("no-such-process", checks::process_alive("no-such-proc-x"));

    let expect = |name: &'static str, status: Status, text: &'static str| async move {
        let c = blocking(move || wait_for(name, |c| c.status != Status::Unknown)).await;
        assert_eq!(c.status, status, "{c:?}");
        assert!(c.details.as_deref().unwrap_or("").contains(text), "{c:?}");
    };
    expect("tcp-open", Status::Up, "").await;
    expect("tcp-closed", Status::Down, "cannot connect").await;
    expect("https-url", Status::Down, "http:// only").await;
    expect("disk-here", Status::Up, "").await;
    expect("disk-impossible", Status::Down, "below the minimum").await;
    expect("no-such-process", Status::Down, "no process named").await;
    drop(listener);
    for name in [
        "tcp-open",
        "tcp-closed",
        "https-url",
        "disk-here",
        "disk-impossible",
        "no-such-process",
    ] {
        health::unregister(name);
    }
}
