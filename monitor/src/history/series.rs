//! The one place that turns a [`Snapshot`] into named history series.
//! Adding a series is one `push` here.
//!
//! Names follow the Prometheus selector syntax: `name{label="value",...}`.

use std::fmt::Write;

use crate::snapshot::{MetricKind, MetricValue, Snapshot};

/// How a series behaves, for trend analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only goes up (a cumulative count).
    Counter,
    /// Goes up and down.
    Gauge,
}

/// One value of one series at this tick.
pub(crate) struct SeriesValue {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) value: f64,
}

/// Every series of `snapshot`.
pub(crate) fn series(snapshot: &Snapshot) -> Vec<SeriesValue> {
    let mut out = Vec::with_capacity(8 + 4 * snapshot.functions.len());
    let mut push = |name: String, kind: Kind, value: f64| {
        out.push(SeriesValue { name, kind, value });
    };
    use Kind::{Counter, Gauge};
    push(
        "monitor_collect_us".into(),
        Gauge,
        snapshot.monitor.collect_us as f64,
    );
    push("traces_spans".into(), Gauge, snapshot.traces.spans as f64);
    push(
        "traces_dropped".into(),
        Counter,
        snapshot.traces.dropped as f64,
    );
    system(snapshot, &mut push);
    if let Some(alloc) = &snapshot.alloc {
        push("heap_live_bytes".into(), Gauge, alloc.live_bytes as f64);
        push("heap_allocations".into(), Counter, alloc.allocations as f64);
        push(
            "heap_allocated_bytes".into(),
            Counter,
            alloc.allocated_bytes as f64,
        );
    }
    for e in &snapshot.endpoints {
        let label = labelled("", &[("method", e.method), ("route", &e.route)]);
        push(format!("http_requests{label}"), Counter, e.requests as f64);
        push(format!("http_errors{label}"), Counter, e.errors as f64);
        push(format!("http_p99_ns{label}"), Gauge, e.p99_ns as f64);
    }
    for f in &snapshot.functions {
        let label = labelled("", &[("function", f.name)]);
        push(format!("function_calls{label}"), Counter, f.calls as f64);
        push(format!("function_errors{label}"), Counter, f.errors as f64);
        push(format!("function_p99_ns{label}"), Gauge, f.p99_ns as f64);
        push(format!("function_mean_ns{label}"), Gauge, f.mean_ns as f64);
    }
    for family in &snapshot.metrics {
        let kind = match family.kind {
            MetricKind::Counter => Counter,
            MetricKind::Gauge => Gauge,
            MetricKind::Histogram => continue,
        };
        for s in &family.series {
            let value = match s.value {
                MetricValue::Counter(v) => v as f64,
                MetricValue::Gauge(v) => v,
                MetricValue::Histogram(_) => continue,
            };
            let labels: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            push(labelled(&family.name, &labels), kind, value);
        }
    }
    out
}

/// The system and process readings that are available at this tick.
fn system(snapshot: &Snapshot, push: &mut impl FnMut(String, Kind, f64)) {
    let system = &snapshot.system;
    let (process, memory) = (&system.process, &system.memory);
    let gauges = [
        ("process_rss_bytes", process.rss_bytes.map(|v| v as f64)),
        ("process_cpu_pct", process.cpu_pct_of_core),
        ("process_open_fds", process.open_fds.map(|v| v as f64)),
        ("process_threads", process.threads.map(|v| v as f64)),
        ("system_cpu_pct", system.cpu.total_pct),
        (
            "system_memory_available_bytes",
            memory.available_bytes.map(|v| v as f64),
        ),
        (
            "system_memory_total_bytes",
            memory.total_bytes.map(|v| v as f64),
        ),
        ("monitor_cpu_pct", system.monitor_cpu_pct),
    ];
    for (name, value) in gauges {
        if let Some(value) = value {
            push(name.into(), Kind::Gauge, value);
        }
    }
    for disk in &system.disks {
        if let Some(used) = disk.used_pct {
            let name = labelled(DISK_USED_PCT, &[("mount", &disk.mount)]);
            push(name, Kind::Gauge, used);
        }
    }
}

/// The family of per-mount disk use series, forecast to reach 100%.
pub(crate) const DISK_USED_PCT: &str = "system_disk_used_pct";

/// `name{k="v",...}` with `\` and `"` escaped; `name` alone without labels.
pub(crate) fn labelled(name: &str, labels: &[(&str, &str)]) -> String {
    let mut out = name.to_string();
    if labels.is_empty() {
        return out;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{MetricFamily, MetricSeries};

    #[test]
    fn facade_gauges_and_counters_become_labelled_series() {
        let snapshot = Snapshot {
            metrics: vec![MetricFamily {
                name: "queue_depth".into(),
                kind: MetricKind::Gauge,
                help: None,
                unit: None,
                overflowed: 0,
                series: vec![MetricSeries {
                    labels: vec![("queue".into(), "a\"b".into())],
                    value: MetricValue::Gauge(3.5),
                }],
            }],
            ..Snapshot::default()
        };
        let all = series(&snapshot);
        let depth = all
            .iter()
            .find(|s| s.name.starts_with("queue_depth"))
            .expect("the gauge is a series");
        assert_eq!(depth.name, r#"queue_depth{queue="a\"b"}"#);
        assert_eq!(depth.value, 3.5);
        assert_eq!(depth.kind, Kind::Gauge);
        assert!(all.iter().any(|s| s.name == "monitor_collect_us"));
    }
}
