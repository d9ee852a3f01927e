//! Self time excludes nested profiled calls on the same thread.

use std::time::{Duration, Instant};

use monitor_workspace::{function_stats, shared_monitor};

fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[monitor::profile(name = "self_time::leaf")]
fn leaf() {
    spin(Duration::from_millis(3));
}

#[monitor::profile(name = "self_time::middle")]
fn middle() {
    spin(Duration::from_millis(2));
    leaf();
    leaf();
}

#[monitor::profile(name = "self_time::outer")]
fn outer() {
    spin(Duration::from_millis(1));
    middle();
    // Not profiled: counts as the outer function's own time.
    spin(Duration::from_millis(1));
}

#[test]
fn nested_calls_give_correct_self_time() {
    shared_monitor();
    for _ in 0..10 {
        outer();
    }
    let outer = function_stats("self_time::outer").unwrap();
    let middle = function_stats("self_time::middle").unwrap();
    let leaf = function_stats("self_time::leaf").unwrap();
    assert_eq!((outer.calls, middle.calls, leaf.calls), (10, 10, 20));

    // Self time is wall time minus the wall time of direct profiled children,
    // up to the bookkeeping between a parent's and a child's clock reads
    // (microseconds, or a few milliseconds when the thread is preempted there
    // on a busy machine). Not subtracting the children would be off by more
    // than 20 ms here.
    let slack = |total: u64| 5_000_000 + total / 50;
    let close = |a: u64, b: u64, total: u64| a.abs_diff(b) <= slack(total);
    assert!(
        close(leaf.self_ns, leaf.total_ns, leaf.total_ns),
        "leaf {} vs {}",
        leaf.self_ns,
        leaf.total_ns
    );
    assert!(
        close(
            middle.self_ns,
            middle.total_ns - leaf.total_ns,
            middle.total_ns
        ),
        "middle self {} vs {}",
        middle.self_ns,
        middle.total_ns - leaf.total_ns
    );
    assert!(
        close(
            outer.self_ns,
            outer.total_ns - middle.total_ns,
            outer.total_ns
        ),
        "outer self {} vs {}",
        outer.self_ns,
        outer.total_ns - middle.total_ns
    );

    // And each is at least the time spent spinning in its own body.
    assert!(leaf.self_ns >= 20 * 3_000_000);
    assert!(middle.self_ns >= 10 * 2_000_000);
    assert!(outer.self_ns >= 10 * 2_000_000);
    assert!(outer.total_ns >= 10 * 10_000_000);
}

#[test]
fn recursion_counts_every_level() {
    shared_monitor();
    #[monitor::profile(name = "self_time::depth")]
    fn depth(n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            1 + depth(n - 1)
        }
    }
    assert_eq!(depth(50), 50);
    let stats = function_stats("self_time::depth").unwrap();
    assert_eq!(stats.calls, 51);
    // Every level's self time is its own share: they add up to the outermost call.
    assert!(
        stats.self_ns <= stats.max_ns + 51 * 1_000,
        "{} > {}",
        stats.self_ns,
        stats.max_ns
    );
}
