//! History and trend families: the store's health, and the leaks and
//! forecasts found, so Prometheus rules can alert on them.

use super::text::{push_label, Kind, Value, Writer};
use crate::snapshot::Snapshot;
use crate::store::PersistState;

/// Writes the history families of `snapshot`.
pub(super) fn history(w: &mut Writer<'_>, snapshot: &Snapshot) {
    let h = &snapshot.history;
    let up = u64::from(h.store.state == PersistState::Ok);
    let single: [(&str, Kind, &str, Value); 6] = [
        (
            "monitor_history_series",
            Kind::Gauge,
            "Series held in the history rings.",
            h.series.into(),
        ),
        (
            "monitor_history_series_refused_total",
            Kind::Counter,
            "Series left out of history because history.max_series was reached (counted per tick).",
            h.refused_series.into(),
        ),
        (
            "monitor_history_store_up",
            Kind::Gauge,
            "1 when history is being written to SQLite, else 0 (see /api/v1/snapshot history.store.reason).",
            up.into(),
        ),
        (
            "monitor_history_persisted_ticks_total",
            Kind::Counter,
            "Ticks committed to the history database.",
            h.store.persisted_ticks.into(),
        ),
        (
            "monitor_history_dropped_ticks_total",
            Kind::Counter,
            "Ticks not written to the history database (queue full or store unavailable).",
            h.store.dropped_ticks.into(),
        ),
        (
            "monitor_history_db_bytes",
            Kind::Gauge,
            "Size of the history database.",
            h.store.db_bytes.into(),
        ),
    ];
    for (name, kind, help, value) in single {
        w.family(name, kind, help);
        w.sample(name, "", "", value);
    }

    let mut labels = String::new();
    let name = "monitor_leak_growth_per_hour";
    w.family(
        name,
        Kind::Gauge,
        "Growth per hour of a series flagged as a suspected leak (its floor rises steadily).",
    );
    for leak in &snapshot.trends.leaks {
        labels.clear();
        push_label(&mut labels, "series", &leak.series);
        w.sample(name, &labels, "", leak.per_hour);
    }
    let name = "monitor_forecast_seconds";
    w.family(
        name,
        Kind::Gauge,
        "Seconds until a series reaches its threshold at its current trend (0: reached).",
    );
    for forecast in &snapshot.trends.forecasts {
        labels.clear();
        push_label(&mut labels, "series", &forecast.series);
        push_label(&mut labels, "what", &forecast.what);
        w.sample(name, &labels, "", forecast.eta_secs);
    }
}

#[cfg(test)]
mod tests {
    use crate::snapshot::Snapshot;
    use crate::trend::{Leak, TrendReport};

    #[test]
    fn leaks_and_store_health_are_exposed() {
        let snapshot = Snapshot {
            trends: TrendReport {
                leaks: vec![Leak {
                    series: "rss \"main\"".into(),
                    per_hour: 4e7,
                    window_secs: 600.0,
                    r2: 0.99,
                    start_value: 1.0,
                    end_value: 2.0,
                    text: String::new(),
                }],
                ..TrendReport::default()
            },
            ..Snapshot::default()
        };
        let mut out = String::new();
        super::super::render(&snapshot, &[], &mut out);
        assert!(out.contains("monitor_history_store_up 0\n"), "{out}");
        assert!(
            out.contains("monitor_leak_growth_per_hour{series=\"rss \\\"main\\\"\"} 40000000"),
            "{out}"
        );
    }
}
