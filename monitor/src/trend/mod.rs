//! Trends over the history rings, computed on the monitor thread after each
//! tick (so the snapshot's findings lag one tick): per-series EWMA (kept by
//! the history), least-squares slopes with r², forecasts of when a
//! threshold is reached ([`forecast`]), level changes ([`change`]) and leak
//! detection ([`leak`]).

pub mod change;
pub mod config;
pub mod fit;
pub mod forecast;
pub mod leak;

use serde::Serialize;

use crate::history::{History, Kind, DISK_USED_PCT};
pub use change::Change;
pub use config::{ForecastTarget, TrendConfig};
pub use forecast::Forecast;
pub use leak::Leak;

/// Built-in series watched for leaks: the process's resident memory and,
/// with the counting allocator, its live heap; `trend.leak_series` adds more.
pub const LEAK_SERIES: &[&str] = &["process_rss_bytes", "heap_live_bytes"];

/// Seconds of 1 s history the change detector looks at: a baseline, then
/// the recent part it searches for a shift.
const CHANGE_BASELINE_SECS: i64 = 90;
const CHANGE_RECENT_SECS: i64 = 30;
/// Findings of each kind kept in the snapshot.
const MAX_FINDINGS: usize = 20;

/// What the trends say at this tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrendReport {
    /// Series growing like a leak.
    pub leaks: Vec<Leak>,
    /// Thresholds expected to be reached.
    pub forecasts: Vec<Forecast>,
    /// Gauges whose level shifted in the last 30 s, largest shift first.
    pub changes: Vec<Change>,
}

/// The series the detectors read: leak series and forecast series.
pub(crate) fn watched_series(config: &TrendConfig) -> Vec<String> {
    let mut names: Vec<String> = LEAK_SERIES
        .iter()
        .map(|s| s.to_string())
        .chain(config.leak_series.iter().cloned())
        .chain(forecast::BUILT_IN.iter().map(|t| t.0.to_string()))
        .chain(config.forecasts.iter().map(|t| t.series.clone()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Runs every detector over `history`.
pub fn analyse(history: &History, config: &TrendConfig) -> TrendReport {
    let now = history.now_secs();
    let leak_rule = leak::LeakRule {
        window_secs: config.leak_window.as_secs_f64(),
        min_per_minute: config.leak_min_per_minute,
        min_r2: config.leak_min_r2,
    };
    let leak_window = config.leak_window.as_secs() as i64;
    let leaks = LEAK_SERIES
        .iter()
        .copied()
        .chain(config.leak_series.iter().map(String::as_str))
        .filter_map(|name| {
            let points = history.get(name)?.window(now, leak_window);
            leak::detect(name, &points, now as f64, &leak_rule)
        })
        .take(MAX_FINDINGS)
        .collect();

    let forecast_window = config.forecast_window.as_secs() as i64;
    let latest = |name: &str| {
        let series = history.get(name)?;
        series.window(now, 60).last().map(|p| p.1)
    };
    let built_in = forecast::BUILT_IN
        .iter()
        .filter_map(|&(series, limit, direction, what)| {
            let threshold = match limit {
                forecast::Limit::Value(v) => v,
                forecast::Limit::Series(other) => latest(other)?,
            };
            Some(forecast::Target {
                series,
                threshold,
                direction,
                what,
            })
        });
    // One forecast per mounted file system.
    let disks: Vec<(&str, String)> = history
        .all()
        .filter_map(|s| {
            let mount = s
                .name
                .strip_prefix(DISK_USED_PCT)?
                .strip_prefix("{mount=\"")?;
            Some((
                &*s.name,
                format!("disk {} full", mount.strip_suffix("\"}")?),
            ))
        })
        .collect();
    let disks = disks.iter().map(|(series, what)| forecast::Target {
        series,
        threshold: 100.0,
        direction: forecast::Direction::Up,
        what,
    });
    let configured = config.forecasts.iter().map(|t| forecast::Target {
        series: &t.series,
        threshold: t.threshold,
        direction: t.direction,
        what: &t.what,
    });
    let forecasts = built_in
        .chain(disks)
        .chain(configured)
        .filter_map(|target| {
            let points = history.get(target.series)?.window(now, forecast_window);
            forecast::forecast(&target, &points, now as f64)
        })
        .take(MAX_FINDINGS)
        .collect();

    let mut changes: Vec<Change> = history
        .all()
        .filter(|s| s.kind == Kind::Gauge)
        .filter_map(|s| {
            let points = s.window(now, CHANGE_BASELINE_SECS + CHANGE_RECENT_SECS);
            let split = points.partition_point(|p| p.0 < (now - CHANGE_RECENT_SECS) as f64);
            let (baseline, recent) = points.split_at(split);
            change::detect(&s.name, baseline, recent)
        })
        .collect();
    changes.sort_by(|a, b| b.sigmas.total_cmp(&a.sigmas));
    changes.truncate(MAX_FINDINGS);
    TrendReport {
        leaks,
        forecasts,
        changes,
    }
}

/// `"9h"`, `"50m"`, `"2d 3h"`, `"40s"`.
pub(crate) fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 if s % 3600 >= 60 && s < 10 * 3600 => {
            format!("{}h {}m", s / 3600, s % 3600 / 60)
        }
        3600..86_400 => format!("{}h", s / 3600),
        _ if s % 86_400 >= 3600 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::series::SeriesValue;
    use std::time::Duration;

    fn gauge(name: &str, value: f64) -> SeriesValue {
        SeriesValue {
            name: name.into(),
            kind: Kind::Gauge,
            value,
        }
    }

    #[test]
    fn built_in_targets_watch_the_system_and_heap_series() {
        use crate::history::series::series;
        use crate::snapshot::{AllocStats, Snapshot};
        use crate::system::{DiskSpace, SystemStats};

        let mut history = History::new(64);
        let t0 = 1_700_000_000;
        for s in 0..=600u32 {
            let t = f64::from(s);
            let mut system = SystemStats::default();
            system.process.rss_bytes = Some((100e6 + 2e6 * t / 60.0) as u64);
            system.memory.total_bytes = Some(8e9 as u64);
            system.memory.available_bytes = Some((2e9 - 2e6 * t) as u64);
            system.disks = vec![DiskSpace {
                mount: "/data".into(),
                device: "vdb".into(),
                file_system: "ext4".into(),
                total_bytes: Some(1 << 40),
                free_bytes: None,
                used_pct: Some(40.0 + t / 60.0),
            }];
            let snapshot = Snapshot {
                system,
                alloc: Some(AllocStats {
                    live_bytes: (10e6 + 1e6 * t / 60.0) as u64,
                    ..AllocStats::default()
                }),
                ..Snapshot::default()
            };
            history.record((t0 + i64::from(s)) * 1000, series(&snapshot));
        }
        let config = TrendConfig {
            forecast_window: Duration::from_secs(600),
            ..TrendConfig::default()
        };
        let report = analyse(&history, &config);
        let leaked: Vec<&str> = report.leaks.iter().map(|l| l.series.as_str()).collect();
        assert_eq!(leaked, ["process_rss_bytes", "heap_live_bytes"]);
        let texts: Vec<&str> = report.forecasts.iter().map(|f| f.text.as_str()).collect();
        assert!(texts.contains(&"memory exhausted in 6m"), "{texts:?}");
        assert!(texts.contains(&"disk /data full in 50m"), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("process memory reaches the machine's in ")),
            "{texts:?}"
        );
    }

    #[test]
    fn analyse_reads_the_configured_series_from_the_rings() {
        let mut history = History::new(10);
        let t0 = 1_700_000_000;
        for s in 0..=600 {
            let t = f64::from(s);
            history.record(
                (t0 + i64::from(s)) * 1000,
                vec![
                    gauge("heap", 50e6 + 3e6 * t / 60.0),
                    gauge("disk_used_percent", 40.0 + t / 60.0),
                    gauge("latency", if s < 590 { 10.0 } else { 30.0 }),
                ],
            );
        }
        let config = TrendConfig {
            leak_series: vec!["heap".into()],
            forecasts: vec![ForecastTarget {
                series: "disk_used_percent".into(),
                threshold: 100.0,
                direction: forecast::Direction::Up,
                what: "disk / full".into(),
            }],
            forecast_window: Duration::from_secs(600),
            ..TrendConfig::default()
        };
        let report = analyse(&history, &config);
        let leak = report.leaks.first().expect("heap leaks");
        assert!((leak.per_hour / 1e6 - 180.0).abs() < 1.0, "{leak:?}");
        let forecast = report.forecasts.first().expect("disk forecast");
        assert_eq!(forecast.text, "disk / full in 50m");
        let change = report
            .changes
            .iter()
            .find(|c| c.series == "latency")
            .expect("latency change");
        assert_eq!(change.at_secs, (t0 + 590) as f64);
        // Steady ramps (the heap, the disk) are trends, not changes.
        assert_eq!(report.changes.len(), 1, "{:?}", report.changes);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(40.0), "40s");
        assert_eq!(human_duration(3000.0), "50m");
        assert_eq!(human_duration(9.0 * 3600.0), "9h");
        assert_eq!(human_duration(2.0 * 3600.0 + 300.0), "2h 5m");
        assert_eq!(human_duration(2.0 * 86_400.0 + 3.0 * 3600.0), "2d 3h");
    }
}
