//! What the system readings cost, measured in one run:
//!
//! - the collector's time per fast tick and per slow tick (criterion);
//! - a CPU-bound workload with and without a running monitor at defaults
//!   (criterion, then interleaved rounds that print the ratio);
//! - the monitor thread's own CPU on an idle process at defaults, read from
//!   its `/proc/self/task/<tid>/schedstat` (nanoseconds; `stat` otherwise)
//!   over `MONITOR_IDLE_SECS` (default 15) seconds, printed in % of one core.
//!
//! `cargo bench --bench system -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use monitor::config::SystemConfig;
use monitor::system::SystemCollector;

/// A CPU-bound unit of work of a few milliseconds.
fn workload() -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut sum = 0u64;
    for _ in 0..2_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum = sum.wrapping_add(x);
    }
    black_box(sum)
}

fn start_monitor() -> monitor::Monitor {
    monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("monitor starts")
}

fn collector(slow_interval: Duration) -> SystemCollector {
    let mut config = SystemConfig::default();
    config.slow_interval = slow_interval;
    let mut collector = SystemCollector::new(config);
    collector.collect();
    collector
}

fn collect(c: &mut Criterion) {
    let mut fast = collector(Duration::from_secs(3600));
    c.bench_function("system/collect_fast_tick", |b| {
        b.iter(|| black_box(fast.collect()))
    });
    let mut slow = collector(Duration::from_nanos(1));
    c.bench_function("system/collect_slow_tick", |b| {
        b.iter(|| black_box(slow.collect()))
    });
}

fn workload_with_and_without(c: &mut Criterion) {
    c.bench_function("system/workload_without_monitor", |b| b.iter(workload));
    let monitor = start_monitor();
    c.bench_function("system/workload_with_monitor", |b| b.iter(workload));
    drop(monitor);
}

criterion_group!(benches, collect, workload_with_and_without);

/// Fastest of `n` workloads: on a shared machine the minimum is the run
/// least disturbed by other processes.
fn fastest_workload(n: usize) -> Duration {
    (0..n)
        .map(|_| {
            let begin = Instant::now();
            workload();
            begin.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Rounds alternate without and with a monitor, so drift on a shared
/// machine hits both sides alike; prints the median of the ratios.
fn interleaved_ratio(rounds: usize) {
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| {
            let without = fastest_workload(20);
            let monitor = start_monitor();
            // Let it take its first (slow) readings, as a long-running service would have.
            std::thread::sleep(Duration::from_millis(50));
            let with = fastest_workload(20);
            drop(monitor);
            with.as_secs_f64() / without.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "system/workload ratio with/without monitor: median {:.4} over {rounds} rounds (min {:.4}, max {:.4})",
        ratios[rounds / 2],
        ratios[0],
        ratios[rounds - 1]
    );
}

/// CPU time of thread `tid` of this process, in nanoseconds.
fn thread_cpu_ns(tid: &str) -> Option<u64> {
    let task = format!("/proc/self/task/{tid}");
    if let Ok(text) = std::fs::read_to_string(format!("{task}/schedstat")) {
        return text.split_whitespace().next()?.parse().ok();
    }
    let stat = std::fs::read_to_string(format!("{task}/stat")).ok()?;
    let rest: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks: u64 = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

fn monitor_tid() -> Option<String> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .find_map(|entry| {
            let entry = entry.ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim_end() == "monitor").then(|| entry.file_name().to_string_lossy().into_owned())
        })
}

/// The monitor thread's CPU at defaults (1 s tick, 10 s slow readings) on an
/// otherwise idle process.
fn idle_monitor_cpu(secs: u64) {
    let monitor = start_monitor();
    // Past the first (slow) tick; the thread names itself once it runs.
    std::thread::sleep(Duration::from_millis(1500));
    let Some(tid) = monitor_tid() else {
        println!("system/idle monitor thread: not found (not Linux?)");
        return;
    };
    let (Some(before), begin) = (thread_cpu_ns(&tid), Instant::now()) else {
        println!("system/idle monitor thread: CPU time unreadable");
        return;
    };
    std::thread::sleep(Duration::from_secs(secs));
    let after = thread_cpu_ns(&tid).unwrap_or(before);
    let wall = begin.elapsed().as_secs_f64();
    let snapshot = monitor.snapshot();
    println!(
        "system/idle monitor thread CPU: {:.3}% of one core over {wall:.1} s ({} µs CPU); \
         last tick: collect {} µs, system readings {} µs, last slow readings {} µs; \
         monitor_cpu_pct as shown: {:?}",
        (after - before) as f64 / 1e9 / wall * 100.0,
        (after - before) / 1000,
        snapshot.monitor.collect_us,
        snapshot.system.collect_us,
        snapshot.system.slow_collect_us,
        snapshot.system.monitor_cpu_pct,
    );
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test");
    benches();
    Criterion::default().configure_from_args().final_summary();
    if test_mode {
        interleaved_ratio(1);
        return;
    }
    interleaved_ratio(15);
    let secs = std::env::var("MONITOR_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    idle_monitor_cpu(secs);
}
