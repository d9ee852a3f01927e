//! What recording one served request costs: `monitor::http::record`
//! against the usual `metrics` facade pair (a counter and a histogram
//! labelled by method, route and status) with the Prometheus recorder,
//! in the same run so the results compare as ratios.
//!
//! `cargo bench --bench http_record -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const ELAPSED: Duration = Duration::from_micros(1_250);

#[inline(never)]
fn monitor_record() {
    monitor::http::record(
        black_box("GET"),
        black_box("/users/{id}"),
        black_box(200),
        ELAPSED,
    );
}

#[inline(never)]
fn monitor_guard() {
    let request = monitor::http::start(black_box("GET"), black_box("/users/{id}"));
    request.bytes_out(black_box(512)).finish(black_box(200));
}

#[inline(never)]
fn metrics_facade() {
    let status = black_box(200u16);
    metrics::counter!(
        "http_requests_total",
        "method" => "GET",
        "route" => "/users/{id}",
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => "GET",
        "route" => "/users/{id}"
    )
    .record(ELAPSED.as_secs_f64());
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_record");
    group.bench_function("monitor_disabled", |b| b.iter(monitor_record));
    // Started only now, so the case above measured the monitor not running.
    monitor_workspace::shared_monitor();
    group.bench_function("monitor_record", |b| b.iter(monitor_record));
    group.bench_function("monitor_guard", |b| b.iter(monitor_guard));
    group.bench_function("monitor_record_two_threads", |b| {
        b.iter_custom(|iters| two_threads(iters, monitor_record))
    });
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    group.bench_function("metrics_prometheus", |b| {
        metrics::with_local_recorder(&recorder, || b.iter(metrics_facade));
    });
    group.finish();
}

/// Runs `iters` calls on each of two threads at once; returns the slower
/// thread's time, so the figure is the per-call cost when both run together.
fn two_threads(iters: u64, call: fn()) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        call();
                    }
                    start.elapsed()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = record
}
criterion_main!(benches);
