//! Metrics recorded through the `metrics` facade reach the monitor's snapshot.
//!
//! The global recorder and the monitor are per process, so the tests take
//! `SERIAL` and use metric names of their own: the registry outlives each
//! monitor and is reused by the next one.

use std::sync::{Mutex, MutexGuard, PoisonError};

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};
use monitor::snapshot::{MetricFamily, MetricKind, MetricSeries, MetricValue};
use monitor::{Monitor, Snapshot};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn start(max_series: usize) -> Monitor {
    let monitor = monitor::builder()
        .dashboard(false)
        .max_series_per_metric(max_series)
        .start()
        .expect("monitor starts");
    assert!(
        monitor.is_running(),
        "MONITOR_DISABLE must not be set for these tests"
    );
    monitor
}

fn family<'a>(snapshot: &'a Snapshot, name: &str) -> &'a MetricFamily {
    snapshot
        .metrics
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no metric {name}; have {:?}",
                snapshot.metrics.iter().map(|f| &f.name).collect::<Vec<_>>()
            )
        })
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn series<'a>(family: &'a MetricFamily, pairs: &[(&str, &str)]) -> &'a MetricSeries {
    let wanted = labels(pairs);
    family
        .series
        .iter()
        .find(|s| s.labels == wanted)
        .unwrap_or_else(|| panic!("no series {wanted:?} in {}", family.name))
}

fn counter_value(series: &MetricSeries) -> u64 {
    match series.value {
        MetricValue::Counter(n) => n,
        ref other => panic!("not a counter: {other:?}"),
    }
}

#[test]
fn counters_gauges_and_histograms_land_exactly() {
    let _serial = serial();
    let monitor = start(1_000);
    for _ in 0..3 {
        counter!("facade_requests_total", "method" => "GET", "status" => "200").increment(1);
    }
    counter!("facade_requests_total", "method" => "POST", "status" => "201").increment(5);
    counter!("facade_bytes_total").absolute(1_234);
    gauge!("facade_in_flight", "pool" => "db").set(8.0);
    gauge!("facade_in_flight", "pool" => "db").decrement(3.0);
    gauge!("facade_in_flight", "pool" => "http").increment(2.5);
    let kept = histogram!("facade_latency_seconds", "route" => "/users");
    for v in [0.004, 0.02, 0.02, 0.3, 4.0] {
        kept.record(v);
    }
    // Recordings from other threads go to the same series.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                (0..1_000).for_each(|_| counter!("facade_threads_total").increment(1))
            })
        })
        .collect();
    for t in threads {
        t.join().expect("recording thread");
    }

    let snapshot = monitor.collect_now();
    let requests = family(&snapshot, "facade_requests_total");
    assert_eq!(requests.kind, MetricKind::Counter);
    assert_eq!(requests.series.len(), 2);
    assert_eq!(
        counter_value(series(requests, &[("method", "GET"), ("status", "200")])),
        3
    );
    assert_eq!(
        counter_value(series(requests, &[("method", "POST"), ("status", "201")])),
        5
    );
    assert_eq!(
        counter_value(series(family(&snapshot, "facade_bytes_total"), &[])),
        1_234
    );
    assert_eq!(
        counter_value(series(family(&snapshot, "facade_threads_total"), &[])),
        4_000
    );

    let in_flight = family(&snapshot, "facade_in_flight");
    assert_eq!(in_flight.kind, MetricKind::Gauge);
    assert!(
        matches!(series(in_flight, &[("pool", "db")]).value, MetricValue::Gauge(v) if v == 5.0)
    );
    assert!(
        matches!(series(in_flight, &[("pool", "http")]).value, MetricValue::Gauge(v) if v == 2.5)
    );

    let latency = family(&snapshot, "facade_latency_seconds");
    assert_eq!(latency.kind, MetricKind::Histogram);
    let MetricValue::Histogram(h) = &series(latency, &[("route", "/users")]).value else {
        panic!("not a histogram")
    };
    assert_eq!((h.count, h.min, h.max), (5, 0.004, 4.0));
    assert!((h.sum - 4.344).abs() < 1e-12, "{}", h.sum);
    let cumulative: Vec<(f64, u64)> = h.buckets.clone();
    assert_eq!(
        cumulative,
        [
            (0.005, 1),
            (0.01, 1),
            (0.025, 3),
            (0.05, 3),
            (0.1, 3),
            (0.25, 3),
            (0.5, 4),
            (1.0, 4),
            (2.5, 4),
            (5.0, 5),
            (10.0, 5)
        ]
    );

    // Deterministic order: families by name, series by labels.
    let names: Vec<&String> = snapshot.metrics.iter().map(|f| &f.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn descriptions_and_units_appear() {
    let _serial = serial();
    let monitor = start(1_000);
    describe_counter!("facade_described_total", "Jobs finished.");
    describe_gauge!(
        "facade_described_bytes",
        Unit::Bytes,
        "Memory held by the cache."
    );
    describe_histogram!(
        "facade_described_seconds",
        Unit::Seconds,
        "Time to finish a job."
    );
    counter!("facade_described_total").increment(1);
    gauge!("facade_described_bytes").set(4096.0);
    histogram!("facade_described_seconds").record(0.25);

    let snapshot = monitor.collect_now();
    let described = |name: &str| {
        let f = family(&snapshot, name);
        (f.help.clone(), f.unit.clone())
    };
    assert_eq!(
        described("facade_described_total"),
        (Some("Jobs finished.".into()), None)
    );
    assert_eq!(
        described("facade_described_bytes"),
        (
            Some("Memory held by the cache.".into()),
            Some("bytes".into())
        )
    );
    assert_eq!(
        described("facade_described_seconds"),
        (Some("Time to finish a job.".into()), Some("seconds".into()))
    );
}

#[test]
fn label_sets_beyond_the_cap_fold_into_the_overflow_series() {
    let _serial = serial();
    let monitor = start(100);
    for round in 0..2 {
        for user in 0..5_000 {
            counter!("facade_capped_total", "user" => user.to_string()).increment(1);
        }
        let snapshot = monitor.collect_now();
        let capped = family(&snapshot, "facade_capped_total");
        assert_eq!(
            capped.series.len(),
            101,
            "100 series and the overflow series, round {round}"
        );
        assert_eq!(
            capped.overflowed, 4_900,
            "distinct label sets folded, round {round}"
        );
        let overflow = series(capped, &[("monitor_overflow", "true")]);
        assert_eq!(counter_value(overflow), 4_900 * (round + 1));
        let total: u64 = capped.series.iter().map(counter_value).sum();
        assert_eq!(total, 5_000 * (round + 1), "nothing lost, round {round}");
    }
}

#[test]
fn histogram_percentiles_are_within_one_percent() {
    let _serial = serial();
    let monitor = start(1_000);
    let mut rng = StdRng::seed_from_u64(0x5eed);
    // Log-uniform over 0.1 ms – 10 s, like latencies in seconds.
    let values: Vec<f64> = (0..100_000)
        .map(|_| 10f64.powf(rng.gen_range(-4.0..1.0)))
        .collect();
    let h = histogram!("facade_random_seconds");
    for &v in &values {
        h.record(v);
    }

    let snapshot = monitor.collect_now();
    let MetricValue::Histogram(summary) =
        &series(family(&snapshot, "facade_random_seconds"), &[]).value
    else {
        panic!("not a histogram")
    };
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let exact =
        |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    for (q, got) in [
        (0.5, summary.p50),
        (0.9, summary.p90),
        (0.95, summary.p95),
        (0.99, summary.p99),
    ] {
        let want = exact(q);
        assert!(
            (got - want).abs() <= want * 0.01,
            "p{}: {got} vs exact {want}",
            q * 100.0
        );
    }
    assert_eq!(summary.count, values.len() as u64);
    assert_eq!(summary.min, sorted[0]);
    assert_eq!(summary.max, sorted[sorted.len() - 1]);
    let sum: f64 = values.iter().sum();
    assert!(
        (summary.sum - sum).abs() <= sum * 1e-12,
        "{} vs {sum}",
        summary.sum
    );
}

#[test]
fn a_name_keeps_its_first_kind_and_the_conflict_is_reported() {
    let _serial = serial();
    let monitor = start(1_000);
    counter!("facade_kind_clash").increment(2);
    gauge!("facade_kind_clash").set(99.0);

    let snapshot = monitor.collect_now();
    let clash = family(&snapshot, "facade_kind_clash");
    assert_eq!(clash.kind, MetricKind::Counter);
    assert_eq!(counter_value(series(clash, &[])), 2);
    let conflicts = family(&snapshot, "monitor_metrics_kind_conflicts_total");
    assert_eq!(
        counter_value(series(
            conflicts,
            &[("metric", "facade_kind_clash"), ("kind", "gauge")]
        )),
        1
    );
}

#[test]
fn a_restarted_monitor_keeps_the_recorder_and_its_values() {
    let _serial = serial();
    let first = start(1_000);
    counter!("facade_restart_total").increment(1);
    assert_eq!(
        counter_value(series(
            family(&first.collect_now(), "facade_restart_total"),
            &[]
        )),
        1
    );
    drop(first);

    counter!("facade_restart_total").increment(1); // recorded while stopped
    let second = start(2);
    counter!("facade_restart_total").increment(1);
    for i in 0..5 {
        gauge!("facade_restart_capped", "i" => i.to_string()).set(1.0);
    }
    let snapshot = second.collect_now();
    assert_eq!(
        counter_value(series(family(&snapshot, "facade_restart_total"), &[])),
        3
    );
    let capped = family(&snapshot, "facade_restart_capped");
    assert_eq!(
        (capped.series.len(), capped.overflowed),
        (3, 3),
        "the new cap is in force"
    );
}
