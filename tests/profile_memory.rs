//! Memory is bounded by the number of (function, thread) pairs, not by calls.
//!
//! The callsites are the statics that `#[monitor::profile]` generates, built
//! directly so that one test can have a thousand of them.

use monitor::__private::{Call, Callsite};
use std::sync::Barrier;

use monitor_workspace::{rss_bytes, shared_monitor};

const FUNCTIONS: usize = 1_000;
static SITES: [Callsite; FUNCTIONS] =
    [const { Callsite::new("memory::f", "memory", 0, false) }; FUNCTIONS];

fn call_all(rounds: usize) {
    for round in 0..rounds {
        for site in &SITES {
            let call = Call::enter(site);
            std::hint::black_box(round);
            call.exit(round % 5 == 0);
        }
    }
}

const MIB: u64 = 1 << 20;

/// The two tests measure the same process's RSS: run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn ten_million_calls_leave_rss_flat() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = shared_monitor();
    // Warm-up: every callsite registered, and a few ticks for each thread's
    // histogram to settle which octaves are busy enough to get a chunk.
    for _ in 0..3 {
        call_all(1_000);
        monitor.collect_now();
    }
    let before = rss_bytes();
    for _ in 0..10 {
        call_all(1_000);
        monitor.collect_now();
    }
    let after = rss_bytes();
    eprintln!(
        "RSS before {} KiB, after {} KiB",
        before / 1024,
        after / 1024
    );
    let calls: u64 = monitor
        .collect_now()
        .functions
        .iter()
        .map(|f| f.calls)
        .sum();
    assert!(calls >= 13_000_000, "{calls} calls");
    assert!(
        after <= before + MIB,
        "RSS grew from {before} to {after} bytes over 10 M calls"
    );
}

#[test]
fn a_thousand_functions_on_eight_threads_stay_small() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = shared_monitor();
    let before = rss_bytes();
    let (called, measured) = (Barrier::new(9), Barrier::new(9));
    let (live, grown) = std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                call_all(200);
                called.wait();
                // Stay alive until measured, so all 8,000 shards are live.
                measured.wait();
            });
        }
        called.wait();
        let live = monitor.collect_now().monitor.live_shards;
        let grown = rss_bytes().saturating_sub(before);
        measured.wait();
        (live, grown)
    });
    eprintln!("8 threads x 1,000 functions: {} KiB", grown / 1024);
    assert!(live >= 8 * FUNCTIONS, "{live} live shards");
    assert!(
        grown <= 32 * MIB,
        "8 threads x 1,000 functions took {} MiB",
        grown / MIB
    );
}
