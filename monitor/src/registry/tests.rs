use std::sync::Arc;

use metrics::{
    counter, describe_counter, describe_histogram, gauge, histogram, with_local_recorder, Unit,
};

use super::*;

fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    families.iter().find(|f| f.name == name).unwrap_or_else(|| {
        panic!(
            "no family {name} in {:?}",
            families.iter().map(|f| &f.name).collect::<Vec<_>>()
        )
    })
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn counter_value(series: &MetricSeries) -> u64 {
    match series.value {
        MetricValue::Counter(n) => n,
        ref other => panic!("not a counter: {other:?}"),
    }
}

fn gauge_value(series: &MetricSeries) -> f64 {
    match series.value {
        MetricValue::Gauge(v) => v,
        ref other => panic!("not a gauge: {other:?}"),
    }
}

#[test]
fn counters_gauges_and_histograms_with_labels() {
    let registry = Registry::new(100);
    with_local_recorder(&registry, || {
        counter!("requests_total", "method" => "GET", "status" => "200").increment(3);
        counter!("requests_total", "method" => "GET", "status" => "200").increment(2);
        counter!("requests_total", "method" => "POST", "status" => "500").increment(1);
        counter!("bytes_total").absolute(40);
        counter!("bytes_total").absolute(30); // absolute never goes down
        gauge!("queue_depth", "queue" => "a").set(10.0);
        gauge!("queue_depth", "queue" => "a").increment(2.5);
        gauge!("queue_depth", "queue" => "a").decrement(0.5);
        gauge!("queue_depth", "queue" => "b").decrement(4.0);
        for v in [0.1, 0.2, 0.3] {
            histogram!("latency_seconds", "route" => "/").record(v);
        }
    });
    let snapshot = registry.snapshot();
    let names: Vec<&str> = snapshot.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bytes_total",
            "latency_seconds",
            "queue_depth",
            "requests_total"
        ]
    );

    let requests = family(&snapshot, "requests_total");
    assert_eq!(requests.kind, MetricKind::Counter);
    assert_eq!(requests.overflowed, 0);
    assert_eq!(requests.series.len(), 2);
    assert_eq!(
        requests.series[0].labels,
        labels(&[("method", "GET"), ("status", "200")])
    );
    assert_eq!(counter_value(&requests.series[0]), 5);
    assert_eq!(
        requests.series[1].labels,
        labels(&[("method", "POST"), ("status", "500")])
    );
    assert_eq!(counter_value(&requests.series[1]), 1);

    let bytes = family(&snapshot, "bytes_total");
    assert_eq!(bytes.series[0].labels, Vec::new());
    assert_eq!(counter_value(&bytes.series[0]), 40);

    let queue = family(&snapshot, "queue_depth");
    assert_eq!(queue.kind, MetricKind::Gauge);
    assert_eq!(gauge_value(&queue.series[0]), 12.0);
    assert_eq!(gauge_value(&queue.series[1]), -4.0);

    let latency = family(&snapshot, "latency_seconds");
    assert_eq!(latency.kind, MetricKind::Histogram);
    let MetricValue::Histogram(h) = &latency.series[0].value else {
        panic!("not a histogram")
    };
    assert_eq!((h.count, h.min, h.max), (3, 0.1, 0.3));
    assert!((h.sum - 0.6).abs() < 1e-12);
    assert_eq!(h.buckets.iter().find(|b| b.0 == 0.25).map(|b| b.1), Some(2));
}

#[test]
fn kept_handles_and_macros_share_one_series() {
    let registry = Registry::new(10);
    let handle = with_local_recorder(&registry, || counter!("jobs_total", "kind" => "a"));
    handle.increment(7);
    with_local_recorder(&registry, || {
        counter!("jobs_total", "kind" => "a").increment(1)
    });
    let snapshot = registry.snapshot();
    assert_eq!(counter_value(&family(&snapshot, "jobs_total").series[0]), 8);
}

#[test]
fn label_order_does_not_make_a_new_series() {
    let registry = Registry::new(10);
    with_local_recorder(&registry, || {
        counter!("hits_total", "a" => "1", "b" => "2").increment(1);
        counter!("hits_total", "b" => "2", "a" => "1").increment(1);
    });
    let snapshot = registry.snapshot();
    let hits = family(&snapshot, "hits_total");
    assert_eq!(hits.series.len(), 1);
    assert_eq!(
        hits.series[0].labels,
        labels(&[("a", "1"), ("b", "2")]),
        "first order kept"
    );
    assert_eq!(counter_value(&hits.series[0]), 2);
}

#[test]
fn descriptions_and_units_land_in_help_and_unit() {
    let registry = Registry::new(10);
    with_local_recorder(&registry, || {
        describe_counter!("requests_total", "Requests served.");
        describe_histogram!("latency_seconds", Unit::Seconds, "Time to answer.");
        describe_counter!("described_only", "Never registered.");
        counter!("requests_total").increment(1);
        histogram!("latency_seconds").record(0.5);
        counter!("undescribed_total").increment(1);
    });
    let snapshot = registry.snapshot();
    let requests = family(&snapshot, "requests_total");
    assert_eq!(
        (requests.help.as_deref(), requests.unit.as_deref()),
        (Some("Requests served."), None)
    );
    let latency = family(&snapshot, "latency_seconds");
    assert_eq!(
        (latency.help.as_deref(), latency.unit.as_deref()),
        (Some("Time to answer."), Some("seconds"))
    );
    let undescribed = family(&snapshot, "undescribed_total");
    assert_eq!(
        (undescribed.help.as_deref(), undescribed.unit.as_deref()),
        (None, None)
    );
    assert!(
        snapshot.iter().all(|f| f.name != "described_only"),
        "a description alone is not a metric"
    );
}

#[test]
fn label_sets_beyond_the_cap_fold_into_one_overflow_series() {
    let registry = Registry::new(3);
    with_local_recorder(&registry, || {
        for round in 0..2 {
            for user in 0..10 {
                counter!("logins_total", "user" => user.to_string()).increment(1);
            }
            let snapshot = registry.snapshot();
            let logins = family(&snapshot, "logins_total");
            assert_eq!(
                logins.series.len(),
                4,
                "3 series and the overflow, round {round}"
            );
            assert_eq!(
                logins.overflowed, 7,
                "distinct label sets, not recordings, round {round}"
            );
        }
    });
    let snapshot = registry.snapshot();
    let logins = family(&snapshot, "logins_total");
    let overflow = labels(&[OVERFLOW_LABEL]);
    let folded: Vec<&MetricSeries> = logins
        .series
        .iter()
        .filter(|s| s.labels == overflow)
        .collect();
    assert_eq!(folded.len(), 1);
    assert_eq!(counter_value(folded[0]), 14);
    let kept: u64 = logins
        .series
        .iter()
        .filter(|s| s.labels != overflow)
        .map(counter_value)
        .sum();
    assert_eq!(kept, 6);
    let sorted: Vec<_> = logins.series.iter().map(|s| s.labels.clone()).collect();
    let mut expected = sorted.clone();
    expected.sort();
    assert_eq!(
        sorted, expected,
        "series sorted by labels, overflow included"
    );
    // Other names have their own cap.
    with_local_recorder(&registry, || gauge!("other", "k" => "v").set(1.0));
    assert_eq!(family(&registry.snapshot(), "other").overflowed, 0);
}

#[test]
fn the_cap_applies_to_new_label_sets_when_changed() {
    let registry = Registry::new(2);
    with_local_recorder(&registry, || {
        for i in 0..3 {
            counter!("c", "i" => i.to_string()).increment(1);
        }
        registry.set_max_series_per_metric(4);
        for i in 3..6 {
            counter!("c", "i" => i.to_string()).increment(1);
        }
    });
    let snapshot = registry.snapshot();
    let c = family(&snapshot, "c");
    // i=0,1 kept; i=2 folded; cap raised to 4: i=3,4 kept; i=5 folded.
    assert_eq!(c.series.len(), 5);
    assert_eq!(c.overflowed, 2);
}

#[test]
fn a_second_kind_for_a_name_is_refused_and_reported() {
    let registry = Registry::new(10);
    with_local_recorder(&registry, || {
        counter!("mixed").increment(5);
        gauge!("mixed").set(100.0);
        gauge!("mixed", "l" => "new").set(1.0);
        histogram!("mixed").record(1.0);
        counter!("mixed").increment(1);
    });
    let snapshot = registry.snapshot();
    let mixed = family(&snapshot, "mixed");
    assert_eq!(mixed.kind, MetricKind::Counter);
    assert_eq!(mixed.series.len(), 1);
    assert_eq!(counter_value(&mixed.series[0]), 6);
    let conflicts = family(&snapshot, KIND_CONFLICTS_METRIC);
    assert_eq!(conflicts.kind, MetricKind::Counter);
    assert_eq!(conflicts.series.len(), 2);
    assert_eq!(
        conflicts.series[0].labels,
        labels(&[("metric", "mixed"), ("kind", "gauge")])
    );
    assert_eq!(counter_value(&conflicts.series[0]), 2);
    assert_eq!(
        conflicts.series[1].labels,
        labels(&[("metric", "mixed"), ("kind", "histogram")])
    );
    assert_eq!(counter_value(&conflicts.series[1]), 1);
}

#[test]
fn own_families_are_absent_while_zero() {
    let registry = Registry::new(10);
    with_local_recorder(&registry, || counter!("x").increment(1));
    let names: Vec<String> = registry.snapshot().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["x"]);
}

#[test]
fn metric_names_beyond_the_limit_are_dropped_and_counted() {
    let registry = Registry::new(10);
    with_local_recorder(&registry, || {
        for i in 0..MAX_METRIC_NAMES + 5 {
            counter!(format!("name_{i}")).increment(1);
        }
        counter!("name_0").increment(1); // still recorded
        counter!(format!("name_{}", MAX_METRIC_NAMES + 1)).increment(1); // still dropped
    });
    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), MAX_METRIC_NAMES + 1);
    assert_eq!(counter_value(&family(&snapshot, "name_0").series[0]), 2);
    assert_eq!(
        counter_value(&family(&snapshot, DROPPED_NAMES_METRIC).series[0]),
        6
    );
}

#[test]
fn odd_input_never_panics() {
    let registry = Registry::new(2);
    let huge = "x".repeat(1 << 20);
    with_local_recorder(&registry, || {
        counter!("").increment(1);
        counter!("", "" => "").increment(u64::MAX);
        counter!("", "" => "").increment(2); // wraps, does not panic
        counter!("huge", "v" => huge.clone()).increment(1);
        gauge!("g").set(f64::NAN);
        gauge!("g2").set(f64::INFINITY);
        gauge!("g2").increment(f64::NEG_INFINITY);
        histogram!("h").record(f64::NAN);
        histogram!("h").record(f64::INFINITY);
        histogram!("h").record(f64::NEG_INFINITY);
        histogram!("h").record(-0.0);
        histogram!("h").record(f64::MIN_POSITIVE / 2.0);
        histogram!("h").record_many(1.0, usize::MAX);
        metrics::describe_gauge!("g", Unit::Bytes, "");
        metrics::describe_gauge!("never", "");
    });
    let snapshot = registry.snapshot();
    assert_eq!(family(&snapshot, "").series.len(), 2);
    assert_eq!(
        family(&snapshot, "huge").series[0].labels[0].1.len(),
        1 << 20
    );
    let g = family(&snapshot, "g");
    assert!(gauge_value(&g.series[0]).is_nan());
    assert_eq!(
        (g.help.as_deref(), g.unit.as_deref()),
        (None, Some("bytes"))
    );
    assert!(gauge_value(&family(&snapshot, "g2").series[0]).is_nan());
    let MetricValue::Histogram(h) = &family(&snapshot, "h").series[0].value else {
        panic!("not a histogram")
    };
    assert_eq!(
        h.count,
        4u64.saturating_add(usize::MAX as u64),
        "saturates, does not wrap"
    );
    // The snapshot serialises (NaN becomes null).
    assert!(serde_json::to_string(&snapshot).is_ok());
}

#[test]
fn concurrent_registration_respects_the_cap_exactly() {
    let registry = Arc::new(Registry::new(50));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                with_local_recorder(&*registry, || {
                    for i in 0..400 {
                        // Threads overlap on half of their label sets.
                        let id = (t / 2) * 400 + i;
                        counter!("shared_total", "id" => id.to_string()).increment(1);
                        counter!("shared_total", "id" => "common").increment(1);
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().expect("recording thread");
    }
    let snapshot = registry.snapshot();
    let shared = family(&snapshot, "shared_total");
    assert_eq!(shared.series.len(), 51);
    let total: u64 = shared.series.iter().map(counter_value).sum();
    assert_eq!(total, 8 * 400 * 2, "no recording lost");
    // 4 groups of 400 ids, plus "common": 1,601 label sets, 50 kept.
    assert_eq!(shared.overflowed, 1_601 - 50);
}

#[test]
fn install_twice_returns_the_same_registry() {
    let first = install(5).expect("our recorder, or nothing, is installed in the lib test binary");
    let second = install(7).expect("second install");
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(second.max_series_per_metric.load(Relaxed), 7);
}

#[test]
fn label_set_hashes_are_distinct_and_ignore_label_order() {
    let mut seen = std::collections::HashSet::new();
    for i in 0..100_000 {
        let key = Key::from_parts("m", vec![metrics::Label::new("id", i.to_string())]);
        assert!(seen.insert(label_set_hash(&key)), "collision at {i}");
    }
    let ab = Key::from_parts(
        "m",
        vec![metrics::Label::new("a", "1"), metrics::Label::new("b", "2")],
    );
    let ba = Key::from_parts(
        "m",
        vec![metrics::Label::new("b", "2"), metrics::Label::new("a", "1")],
    );
    assert_eq!(label_set_hash(&ab), label_set_hash(&ba));
    let swapped = Key::from_parts(
        "m",
        vec![metrics::Label::new("a", "2"), metrics::Label::new("b", "1")],
    );
    assert_ne!(label_set_hash(&ab), label_set_hash(&swapped));
}
