//! `async fn`: wall time from start to finish, busy time spent in `poll`.

use std::time::{Duration, Instant};

use monitor_workspace::{function_stats, shared_monitor};

fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[monitor::profile(name = "async::sleepy")]
async fn sleepy() -> Result<u32, String> {
    spin(Duration::from_millis(5));
    tokio::time::sleep(Duration::from_millis(50)).await;
    spin(Duration::from_millis(5));
    Ok(7)
}

#[monitor::profile(name = "async::failing")]
async fn failing(fail: bool) -> Result<(), std::io::Error> {
    tokio::task::yield_now().await;
    if fail {
        return Err(std::io::Error::other("no"));
    }
    Ok(())
}

#[monitor::profile(name = "async::never")]
async fn never() {
    std::future::pending::<()>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_time_excludes_sleeping() {
    shared_monitor();
    let tasks: Vec<_> = (0..4).map(|_| tokio::spawn(sleepy())).collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(7));
    }
    let stats = function_stats("async::sleepy").unwrap();
    assert!(stats.is_async);
    assert_eq!((stats.calls, stats.errors, stats.in_flight), (4, 0, 0));
    assert!(
        stats.min_ns >= 60_000_000,
        "wall {} includes the sleep",
        stats.min_ns
    );
    assert!(
        stats.busy_ns >= 4 * 10_000_000,
        "busy {} includes the spinning",
        stats.busy_ns
    );
    assert!(
        stats.busy_ns + 4 * 45_000_000 <= stats.total_ns,
        "busy {} excludes the 50 ms sleeps (wall {})",
        stats.busy_ns,
        stats.total_ns
    );
    assert!(stats.self_ns <= stats.busy_ns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_cancellation() {
    shared_monitor();
    for i in 0..10 {
        let _ = failing(i % 2 == 0).await;
    }
    let stats = function_stats("async::failing").unwrap();
    assert_eq!((stats.calls, stats.errors), (10, 5));

    let running = tokio::spawn(never());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(function_stats("async::never").unwrap().in_flight, 1);
    running.abort();
    let _ = running.await;
    let stats = function_stats("async::never").unwrap();
    assert_eq!((stats.calls, stats.cancelled, stats.in_flight), (0, 1, 0));
}
