//! The families recorded through the `metrics` facade.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::text::{push_label, sanitize_name, Kind, Writer};
use crate::snapshot::{HistogramSummary, MetricFamily, MetricKind, MetricValue};

/// The label a facade histogram's own `le` label is renamed to, as Prometheus
/// renames a target label that clashes (`exported_<name>`).
const EXPORTED_LE: &str = "exported_le";

/// The name a facade family is exposed under.
pub(super) fn facade_name(family: &MetricFamily) -> String {
    let mut name = sanitize_name(&family.name);
    // Prometheus counters are named `<name>_total` (OpenMetrics requires it,
    // promtool flags counters without it), so the suffix is appended when
    // the recorded name lacks it: `metrics::counter!("orders")` is exposed as
    // `orders_total`.
    if family.kind == MetricKind::Counter && !name.ends_with("_total") {
        name.push_str("_total");
    }
    name
}

/// The help text of a facade family: its description (or where it came
/// from) and its unit.
fn facade_help(family: &MetricFamily) -> String {
    let mut help = match family.help.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => text.to_string(),
        _ => format!("Recorded through the metrics facade as {:?}.", family.name),
    };
    if let Some(unit) = family
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let _ = write!(help, " (unit: {unit})");
    }
    help
}

/// The facade families. Returns how many were dropped for a taken name.
pub(super) fn facade(w: &mut Writer<'_>, families: &[MetricFamily]) -> u64 {
    let mut dropped = 0;
    // Label lists already written in the current family.
    let mut seen: HashSet<String> = HashSet::new();
    let mut labels = String::new();
    for family in families {
        let name = facade_name(family);
        let kind = match family.kind {
            MetricKind::Counter => Kind::Counter,
            MetricKind::Gauge => Kind::Gauge,
            MetricKind::Histogram => Kind::Histogram,
        };
        if !w.family(&name, kind, &facade_help(family)) {
            dropped += 1;
            w.comment(&format!(
                "monitor: {} {:?} left out: the name {name} is already taken",
                kind.as_str(),
                family.name
            ));
            continue;
        }
        seen.clear();
        for series in &family.series {
            facade_labels(&series.labels, kind, &mut labels);
            // Two label sets can be equal once sanitised and sorted; a
            // series may appear only once.
            if !seen.insert(labels.clone()) {
                continue;
            }
            match (&series.value, kind) {
                (MetricValue::Counter(v), Kind::Counter) => w.sample(&name, &labels, "", *v),
                (MetricValue::Gauge(v), Kind::Gauge) => w.sample(&name, &labels, "", *v),
                (MetricValue::Histogram(h), Kind::Histogram) => {
                    facade_histogram(w, &name, &labels, h)
                }
                // A value of another kind than its family cannot be written
                // under it; the registry does not produce these.
                _ => {}
            }
        }
    }
    dropped
}

/// Writes a facade series' label list into `out`: names sanitised, sorted by
/// name, a repeated name kept once (the first), and for histograms a label
/// called `le` renamed to [`EXPORTED_LE`].
fn facade_labels(raw: &[(String, String)], kind: Kind, out: &mut String) {
    out.clear();
    let mut labels: Vec<(String, &str)> = raw
        .iter()
        .map(|(name, value)| {
            let mut name = sanitize_name(name);
            if kind == Kind::Histogram && name == "le" {
                name = EXPORTED_LE.to_string();
            }
            (name, value.as_str())
        })
        .collect();
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels.dedup_by(|later, earlier| later.0 == earlier.0);
    for (name, value) in &labels {
        push_label(out, name, value);
    }
}

/// The `_bucket`, `_sum` and `_count` lines of one facade histogram series.
fn facade_histogram(w: &mut Writer<'_>, name: &str, labels: &str, h: &HistogramSummary) {
    w.histogram_series(name, labels, h.buckets.iter().copied(), h.count, h.sum);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_well_formed, family, function, rendered, series};
    use crate::snapshot::{HistogramSummary, MetricKind, MetricValue, Snapshot};

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut odd = family(
            "odd",
            MetricKind::Gauge,
            vec![series(
                &[("path", "C:\\dir \"quoted\"\nnext")],
                MetricValue::Gauge(1.5),
            )],
        );
        odd.help = Some("Back\\slash and\nnew line".into());
        odd.unit = Some("bytes".into());
        let snapshot = Snapshot {
            functions: vec![function("we\"ird\\fn\n", "m", &[5], 0)],
            metrics: vec![odd],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        assert!(
            text.contains(r#"odd{path="C:\\dir \"quoted\"\nnext"} 1.5"#),
            "{text}"
        );
        assert!(
            text.contains("# HELP odd Back\\\\slash and\\nnew line (unit: bytes)\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"function_calls_concurrent{function="we\"ird\\fn\n",module="m"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn names_and_label_names_are_sanitised() {
        let snapshot = Snapshot {
            metrics: vec![family(
                "app.queue depth",
                MetricKind::Gauge,
                vec![series(
                    &[("shard-id", "1"), ("0zone", "eu")],
                    MetricValue::Gauge(3.0),
                )],
            )],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        assert!(text.contains("# TYPE app_queue_depth gauge\n"), "{text}");
        assert!(
            text.contains(r#"app_queue_depth{_0zone="eu",shard_id="1"} 3"#),
            "{text}"
        );
        assert!(
            text.contains("# HELP app_queue_depth Recorded through the metrics facade as \"app.queue depth\".\n"),
            "{text}"
        );
    }

    #[test]
    fn counters_get_total_and_a_family_is_written_once() {
        let snapshot = Snapshot {
            metrics: vec![
                family(
                    "orders",
                    MetricKind::Counter,
                    vec![series(&[("region", "eu")], MetricValue::Counter(7))],
                ),
                // Sanitises and suffixes to the same name: left out.
                family(
                    "orders.total",
                    MetricKind::Counter,
                    vec![series(&[], MetricValue::Counter(1))],
                ),
                // Clashes with the counter above.
                family(
                    "orders_total",
                    MetricKind::Gauge,
                    vec![series(&[], MetricValue::Gauge(1.0))],
                ),
                // Clashes with a built-in family.
                family(
                    "function_calls",
                    MetricKind::Counter,
                    vec![series(&[], MetricValue::Counter(1))],
                ),
                // Clashes with the `_count` series of a built-in histogram.
                family(
                    "function_calls_duration_seconds_count",
                    MetricKind::Gauge,
                    vec![],
                ),
                // Already ends in `_total`.
                family(
                    "jobs_total",
                    MetricKind::Counter,
                    vec![series(&[], MetricValue::Counter(2))],
                ),
            ],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        assert!(text.contains("# TYPE orders_total counter\n"), "{text}");
        assert!(text.contains("orders_total{region=\"eu\"} 7\n"), "{text}");
        assert!(!text.contains("orders_total 1"), "{text}");
        assert!(text.contains("jobs_total 2\n"), "{text}");
        assert!(!text.contains("jobs_total_total"), "{text}");
        assert!(
            text.contains("monitor_metric_families_dropped 4\n"),
            "{text}"
        );
    }

    #[test]
    fn equal_label_sets_are_written_once() {
        let snapshot = Snapshot {
            metrics: vec![family(
                "g",
                MetricKind::Gauge,
                vec![
                    series(&[("a", "1"), ("b", "2")], MetricValue::Gauge(1.0)),
                    series(&[("b", "2"), ("a", "1")], MetricValue::Gauge(2.0)),
                    series(&[("a-b", "x")], MetricValue::Gauge(3.0)),
                    series(&[("a_b", "x")], MetricValue::Gauge(4.0)),
                    series(&[("k", "first"), ("k", "second")], MetricValue::Gauge(5.0)),
                ],
            )],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        let samples: Vec<&str> = text.lines().filter(|l| l.starts_with("g{")).collect();
        assert_eq!(
            samples,
            ["g{a=\"1\",b=\"2\"} 1", "g{a_b=\"x\"} 3", "g{k=\"first\"} 5"],
            "{text}"
        );
    }

    #[test]
    fn facade_histograms_and_special_floats() {
        let h = HistogramSummary {
            count: 5,
            sum: f64::NAN,
            min: 0.0,
            max: 0.0,
            p50: 0.0,
            p90: 0.0,
            p95: 0.0,
            p99: 0.0,
            buckets: vec![
                (0.1, 1),
                (0.1, 1),
                (1e-7, 0),
                (1.0, 3),
                (1e20, 9),
                (f64::INFINITY, 5),
            ],
        };
        let snapshot = Snapshot {
            uptime_secs: f64::INFINITY,
            metrics: vec![
                family(
                    "latency",
                    MetricKind::Histogram,
                    vec![series(
                        &[("le", "user"), ("route", "/a")],
                        MetricValue::Histogram(h),
                    )],
                ),
                family(
                    "temps",
                    MetricKind::Gauge,
                    vec![
                        series(&[("at", "hi")], MetricValue::Gauge(f64::INFINITY)),
                        series(&[("at", "lo")], MetricValue::Gauge(f64::NEG_INFINITY)),
                        series(&[("at", "none")], MetricValue::Gauge(f64::NAN)),
                        series(&[("at", "tiny")], MetricValue::Gauge(1.25e-9)),
                        // A value of the wrong kind is left out.
                        series(&[("at", "wrong")], MetricValue::Counter(1)),
                    ],
                ),
            ],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        let buckets: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("latency_bucket"))
            .collect();
        assert_eq!(
            buckets,
            [
                "latency_bucket{exported_le=\"user\",route=\"/a\",le=\"0.1\"} 1",
                "latency_bucket{exported_le=\"user\",route=\"/a\",le=\"1\"} 3",
                "latency_bucket{exported_le=\"user\",route=\"/a\",le=\"1e20\"} 5",
                "latency_bucket{exported_le=\"user\",route=\"/a\",le=\"+Inf\"} 5",
            ],
            "{text}"
        );
        assert!(
            text.contains("latency_sum{exported_le=\"user\",route=\"/a\"} NaN\n"),
            "{text}"
        );
        assert!(
            text.contains("latency_count{exported_le=\"user\",route=\"/a\"} 5\n"),
            "{text}"
        );
        assert!(text.contains("temps{at=\"hi\"} +Inf\n"));
        assert!(text.contains("temps{at=\"lo\"} -Inf\n"));
        assert!(text.contains("temps{at=\"none\"} NaN\n"));
        assert!(text.contains("temps{at=\"tiny\"} 1.25e-9\n"), "{text}");
        assert!(!text.contains("wrong"));
        assert!(text.contains("monitor_uptime_seconds +Inf\n"));
    }
}
