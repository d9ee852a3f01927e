//! Starting, restarting and refusing to start the monitor.
//!
//! One test: the monitor and the environment are process-wide.

use std::time::Duration;

use monitor::Error;

#[monitor::profile(name = "lifecycle::work")]
fn work() -> u32 {
    7
}

#[test]
fn start_refuse_stop_restart_disable() {
    let first = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .tick(Duration::from_millis(50))
        .start()
        .expect("first start");
    assert!(first.is_running());
    let addr = first.dashboard_addr().expect("bound address");
    assert_ne!(addr.port(), 0, "port 0 resolves to the real port");

    // A second monitor in the same process is an error, not a panic.
    let second = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start();
    assert!(
        matches!(second, Err(Error::AlreadyRunning)),
        "{:?}",
        second.err()
    );

    // Calls are recorded and published by the periodic tick.
    work();
    std::thread::sleep(Duration::from_millis(200));
    let calls = first
        .snapshot()
        .functions
        .iter()
        .find(|f| f.name == "lifecycle::work")
        .map(|f| f.calls);
    assert_eq!(calls, Some(1));

    // Dropping the guard stops the thread and frees the port; recording stops.
    drop(first);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server is gone"
    );
    let restarted = monitor::builder()
        .dashboard_addr(addr.to_string())
        .install_recorder(false)
        .start()
        .expect("restart on the same address");
    work();
    let stats = restarted.collect_now();
    let work_stats = stats
        .functions
        .iter()
        .find(|f| f.name == "lifecycle::work")
        .expect("still known");
    assert_eq!(
        work_stats.calls, 2,
        "figures survive a restart; calls while stopped are not recorded"
    );
    drop(restarted);
    work();

    // Bad settings name the key and the reason.
    let bad = monitor::builder().dashboard_addr("localhost:99999").start();
    let message = bad.err().expect("bad address refused").to_string();
    assert!(
        message.contains("dashboard.addr") && message.contains("not a socket address"),
        "{message}"
    );
    let exposed = monitor::builder().dashboard_addr("0.0.0.0:0").start();
    let message = exposed
        .err()
        .expect("non-loopback without token refused")
        .to_string();
    assert!(message.contains("not a loopback address"), "{message}");

    // MONITOR_DISABLE=1 starts nothing.
    std::env::set_var("MONITOR_DISABLE", "1");
    let disabled = monitor::init().expect("a disabled monitor is not an error");
    std::env::remove_var("MONITOR_DISABLE");
    assert!(!disabled.is_running());
    assert_eq!(disabled.dashboard_addr(), None);
    work();
    assert!(disabled.collect_now().functions.is_empty());

    // A bad MONITOR_* value is a clear error too.
    std::env::set_var("MONITOR_TICK", "soon");
    let message = monitor::init().err().expect("bad tick refused").to_string();
    std::env::remove_var("MONITOR_TICK");
    assert!(
        message.contains("MONITOR_TICK") && message.contains("tick"),
        "{message}"
    );
}
