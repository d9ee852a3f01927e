//! The Prometheus text exposition format, version 0.0.4, of a [`Snapshot`].
//!
//! Per-function figures use the names of the autometrics specification
//! (`function_calls_total`, `function_calls_duration_seconds`,
//! `function_calls_concurrent`), so its dashboards and SLO rules apply; the
//! monitor's extras are prefixed `monitor_`. Then come the families recorded
//! through the `metrics` facade.
//!
//! Whatever the names, labels and values in the snapshot, the output parses:
//! names are sanitised, label values and help texts escaped, each family is
//! written once with `# HELP` and `# TYPE`, a label set at most once per
//! family, and floats in the forms Prometheus reads (`+Inf`, `-Inf`, `NaN`).
//!
//! [`text`] writes the format's pieces, [`functions`] and [`facade`] the
//! families of each source; this file puts them together with the monitor's
//! own figures.

mod facade;
mod functions;
mod heap;
mod history;
mod http;
mod system;
mod text;

pub(crate) use text::{push_label, Kind, Writer};

use text::Value;

use crate::snapshot::Snapshot;

/// The `Content-Type` of the exposition.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Facade families dropped because their name was taken.
const DROPPED_FAMILIES: &str = "monitor_metric_families_dropped";

/// Writes the exposition of `snapshot` to `out`. `later` names families the
/// caller appends afterwards; facade families may not take those names.
pub(super) fn render(snapshot: &Snapshot, later: &[&str], out: &mut String) {
    let mut w = Writer::new(out);
    for name in later.iter().copied().chain([DROPPED_FAMILIES]) {
        w.reserve(name);
    }
    functions::functions(&mut w, &snapshot.functions, snapshot.alloc.is_some());
    if let Some(alloc) = &snapshot.alloc {
        heap::heap(&mut w, alloc);
    }
    monitor(&mut w, snapshot);
    system::system(&mut w, &snapshot.system);
    http::families(&mut w, snapshot);
    history::history(&mut w, snapshot);
    let dropped = facade::facade(&mut w, &snapshot.metrics);
    w.family_reserved(
        DROPPED_FAMILIES,
        Kind::Gauge,
        "Facade metric families left out of this exposition because their (sanitised) name was already taken.",
    );
    w.sample(DROPPED_FAMILIES, "", "", dropped);
}

/// The monitor's own figures.
fn monitor(w: &mut Writer<'_>, snapshot: &Snapshot) {
    let stats = &snapshot.monitor;
    let single: [(&str, Kind, &str, Value); 7] = [
        (
            "monitor_ticks_total",
            Kind::Counter,
            "Snapshots the monitor has built.",
            snapshot.tick.into(),
        ),
        (
            "monitor_uptime_seconds",
            Kind::Gauge,
            "Seconds since the monitor started, at the last snapshot.",
            snapshot.uptime_secs.into(),
        ),
        (
            "monitor_snapshot_timestamp_seconds",
            Kind::Gauge,
            "Wall-clock time of the last snapshot, in seconds since the Unix epoch.",
            (snapshot.taken_at_unix_ms as f64 / 1e3).into(),
        ),
        (
            "monitor_collect_seconds",
            Kind::Gauge,
            "How long building the last snapshot took, in seconds.",
            (stats.collect_us as f64 / 1e6).into(),
        ),
        (
            "monitor_callsites",
            Kind::Gauge,
            "Profiled functions known to the monitor.",
            stats.callsites.into(),
        ),
        (
            "monitor_live_shards",
            Kind::Gauge,
            "Per-thread shards alive (one per thread and profiled function it called).",
            stats.live_shards.into(),
        ),
        (
            "monitor_callsites_unregistered_total",
            Kind::Counter,
            "Profiled functions that record nothing because the callsite limit was reached.",
            stats.unregistered_callsites.into(),
        ),
    ];
    for (name, kind, help, value) in single {
        w.family(name, kind, help);
        w.sample(name, "", "", value);
    }

    let name = "monitor_metric_overflowed_label_sets";
    w.family(
        name,
        Kind::Gauge,
        "Label sets of a facade metric beyond the cardinality cap, folded into its overflow series.",
    );
    let mut labels = String::new();
    for family in snapshot.metrics.iter().filter(|f| f.overflowed > 0) {
        labels.clear();
        push_label(&mut labels, "metric", &facade::facade_name(family));
        w.sample(name, &labels, "", family.overflowed);
    }
}

/// Tests of the whole exposition, and helpers for the tests of the parts.
#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::profile::Histogram;
    use crate::snapshot::{
        FunctionStats, MetricFamily, MetricKind, MetricSeries, MetricValue, DURATION_BOUNDS_SECONDS,
    };

    pub(super) fn function(
        name: &'static str,
        module: &'static str,
        durations_ns: &[u64],
        errors: u64,
    ) -> FunctionStats {
        let mut histogram = Histogram::new();
        for &d in durations_ns {
            histogram.record(d);
        }
        let duration_buckets =
            DURATION_BOUNDS_SECONDS.map(|s| histogram.count_at_most((s * 1e9) as u64));
        let calls = durations_ns.len() as u64;
        let total_ns = durations_ns.iter().sum();
        FunctionStats {
            name,
            module,
            is_async: false,
            calls,
            errors,
            panics: 0,
            cancelled: 0,
            in_flight: 1,
            over_budget: 0,
            budget_ns: None,
            total_ns,
            self_ns: total_ns,
            busy_ns: 0,
            self_allocations: 0,
            self_alloc_bytes: 0,
            min_ns: durations_ns.iter().copied().min().unwrap_or(0),
            max_ns: durations_ns.iter().copied().max().unwrap_or(0),
            mean_ns: total_ns.checked_div(calls).unwrap_or(0),
            p50_ns: 0,
            p90_ns: 0,
            p95_ns: 0,
            p99_ns: 0,
            duration_buckets,
        }
    }

    pub(super) fn family(name: &str, kind: MetricKind, series: Vec<MetricSeries>) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            kind,
            help: None,
            unit: None,
            overflowed: 0,
            series,
        }
    }

    pub(super) fn series(labels: &[(&str, &str)], value: MetricValue) -> MetricSeries {
        MetricSeries {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    pub(super) fn rendered(snapshot: &Snapshot) -> String {
        let mut out = String::new();
        render(snapshot, &[], &mut out);
        out
    }

    /// Every sample line `name{labels} value` whose name and labels start so.
    pub(super) fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
    }

    /// Structural checks any exposition must pass (promtool does the rest in
    /// the integration test): every sample belongs to a family declared once,
    /// with HELP before TYPE.
    pub(super) fn assert_well_formed(text: &str) {
        let mut declared: Vec<(String, String)> = Vec::new();
        let mut helped = HashSet::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap_or_default();
                assert!(helped.insert(name.to_string()), "HELP twice for {name}");
            } else if let Some(rest) = l.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                let name = parts.next().unwrap_or_default().to_string();
                assert!(helped.contains(&name), "TYPE without HELP for {name}");
                assert!(
                    !declared.iter().any(|(n, _)| *n == name),
                    "TYPE twice for {name}"
                );
                declared.push((name, parts.next().unwrap_or_default().to_string()));
            } else if l.starts_with('#') {
                continue;
            } else {
                let name = l.split(['{', ' ']).next().unwrap_or_default();
                let (family, kind) = declared.last().expect("a sample before any TYPE");
                let ok = match kind.as_str() {
                    "histogram" => [
                        format!("{family}_bucket"),
                        format!("{family}_sum"),
                        format!("{family}_count"),
                    ]
                    .contains(&name.to_string()),
                    _ => name == family,
                };
                assert!(ok, "sample {name} under family {family} ({kind})");
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "bad name {name}"
                );
            }
        }
    }

    #[test]
    fn every_family_has_help_and_type_even_when_empty() {
        let text = rendered(&Snapshot::default());
        assert_well_formed(&text);
        for name in [
            "function_calls_total",
            "function_calls_duration_seconds",
            "function_calls_concurrent",
            "monitor_function_self_seconds_total",
            "monitor_function_over_budget_total",
            "monitor_function_panics_total",
            "monitor_function_cancelled_total",
            "monitor_collect_seconds",
            "monitor_callsites",
            DROPPED_FAMILIES,
        ] {
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} in\n{text}"
            );
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} in\n{text}"
            );
        }
    }

    #[test]
    fn names_reserved_for_later_families_are_not_taken() {
        let snapshot = Snapshot {
            metrics: vec![family(
                "later_family",
                MetricKind::Gauge,
                vec![series(&[], MetricValue::Gauge(1.0))],
            )],
            ..Snapshot::default()
        };
        let mut out = String::new();
        render(&snapshot, &["later_family"], &mut out);
        assert!(!out.contains("# TYPE later_family"), "{out}");
        assert!(out.contains("monitor_metric_families_dropped 1\n"));
    }
}
