//! What one instrumented call costs, `#[monitor::profile]` against its peers,
//! all in the same run so the results compare as ratios.
//!
//! `cargo bench --bench overhead`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

#[inline(never)]
fn bare(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[monitor::profile]
#[inline(never)]
fn profiled(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[monitor::traced(skip_all)]
#[inline(never)]
fn monitor_traced(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[tracing::instrument(skip_all)]
#[inline(never)]
fn traced_by_tracing(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[autometrics::autometrics]
#[inline(never)]
fn autometricised(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[fastrace::trace]
#[inline(never)]
fn fastraced(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
fn metrics_facade(x: u64) -> u64 {
    let start = Instant::now();
    let result = black_box(x).wrapping_mul(3);
    metrics::counter!("calls_total", "function" => "metrics_facade").increment(1);
    metrics::histogram!("call_duration_seconds", "function" => "metrics_facade")
        .record(start.elapsed().as_secs_f64());
    result
}

/// Discards spans, so fastrace pays for recording and reporting, not printing.
struct NullReporter;

impl fastrace::collector::Reporter for NullReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        black_box(spans);
    }
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(1))));
    group.bench_function("bare_two_threads", |b| {
        b.iter_custom(|iters| two_threads(iters, || bare(black_box(1))))
    });
    // The floor of any timing instrumentation: two clock reads.
    group.bench_function("quanta_now_twice", |b| {
        b.iter(|| {
            (
                black_box(quanta::Instant::now()),
                black_box(quanta::Instant::now()),
            )
        })
    });
    group.bench_function("monitor_disabled", |b| b.iter(|| profiled(black_box(1))));
    // Started only now, so the case above measured the monitor not running.
    monitor_workspace::shared_monitor();
    group.bench_function("monitor_profile", |b| b.iter(|| profiled(black_box(1))));
    group.bench_function("monitor_traced_span_stored", |b| {
        // The monitor thread drains the spans into the store every tick.
        b.iter(|| monitor_traced(black_box(1)))
    });
    group.bench_function("monitor_profile_two_threads", |b| {
        b.iter_custom(|iters| two_threads(iters, || profiled(black_box(1))))
    });
    group.bench_function("tracing_instrument_registry", |b| {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            b.iter(|| traced_by_tracing(black_box(1)))
        });
    });
    autometrics::prometheus_exporter::init(); // once: it panics when called again
    group.bench_function("autometrics_prometheus", |b| {
        b.iter(|| autometricised(black_box(1)))
    });
    fastrace::set_reporter(NullReporter, fastrace::collector::Config::default());
    group.bench_function("fastrace_trace_reported", |b| {
        // One root span per 100 calls, as a request would hold them.
        b.iter_custom(|iters| {
            let start = Instant::now();
            let mut left = iters;
            while left > 0 {
                let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                let _guard = root.set_local_parent();
                for _ in 0..left.min(100) {
                    fastraced(black_box(1));
                }
                left -= left.min(100);
            }
            start.elapsed()
        });
        fastrace::flush();
    });
    group.bench_function("metrics_prometheus", |b| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || b.iter(|| metrics_facade(black_box(1))));
    });
    group.finish();
}

/// Runs `iters` calls on each of two threads at once; returns the slower
/// thread's time, so the figure is the per-call cost when both run together.
fn two_threads(iters: u64, call: fn() -> u64) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(call());
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
    targets = overhead
}
criterion_main!(benches);
