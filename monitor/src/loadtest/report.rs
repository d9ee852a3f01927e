//! The run's report: per-request figures, thresholds, generator health,
//! server side and baseline verdict; printed as a table and kept as JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::baseline::Comparison;
use super::health::GeneratorHealth;
use super::profile::Model;
use super::server::ServerSide;
use super::stats::{ErrorCounts, NameStats};
use super::threshold::{Metric, Threshold};
use super::LoadTestError;

/// The outcome of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Thresholds hold; no baseline, or no significant change from it.
    Pass,
    /// Faster than the baseline beyond its noise (thresholds hold).
    Improved,
    /// A threshold failed.
    Failed,
    /// Slower than the baseline beyond its noise.
    Regressed,
    /// The figures cannot be trusted (overloaded generator, too few samples).
    Inconclusive,
}

/// Latency figures in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Fastest.
    pub min_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let q = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
        Self {
            min_ms: h.min() as f64 / 1e3,
            mean_ms: h.mean() / 1e3,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: h.max() as f64 / 1e3,
        }
    }
}

/// The figures of one request name (or of all together).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RequestReport {
    /// The scenario's name (`"all"` for the total).
    pub name: String,
    /// Finished requests, whatever the outcome.
    pub completed: u64,
    /// Successful ones.
    pub ok: u64,
    /// Failures by kind.
    pub errors: ErrorCounts,
    /// Scheduled but never started because of the in-flight cap.
    pub not_started: u64,
    /// (Failures + not started) / (finished + not started).
    pub error_rate: f64,
    /// Finished requests per second of load.
    pub rps: f64,
    /// Response bytes received.
    pub bytes_received: u64,
    /// The first error's text.
    pub first_error: Option<String>,
    /// Latency from the scheduled send (open model; same as uncorrected in
    /// the closed model): what a user arriving on schedule waits.
    pub corrected: Latency,
    /// Latency from the actual send.
    pub uncorrected: Latency,
    /// Mean corrected latency of each twentieth of the run, in ms (NaN-free:
    /// empty slices are left out); the baseline's noise estimate.
    pub slice_means_ms: Vec<f64>,
}

impl RequestReport {
    pub(crate) fn of(name: &str, stats: &NameStats, active_secs: f64) -> Self {
        let completed = stats.completed();
        let attempts = completed + stats.not_started;
        let failed = stats.errors.total() + stats.not_started;
        Self {
            name: name.to_string(),
            completed,
            ok: stats.ok,
            errors: stats.errors.clone(),
            not_started: stats.not_started,
            error_rate: if attempts == 0 {
                0.0
            } else {
                failed as f64 / attempts as f64
            },
            rps: if active_secs > 0.0 {
                completed as f64 / active_secs
            } else {
                0.0
            },
            bytes_received: stats.bytes,
            first_error: stats.first_error.clone(),
            corrected: Latency::of(&stats.corrected),
            uncorrected: Latency::of(&stats.uncorrected),
            slice_means_ms: stats
                .slices
                .iter()
                .filter(|s| s.0 > 0)
                .map(|s| s.1 as f64 / s.0 as f64 / 1e3)
                .collect(),
        }
    }
}

/// A threshold's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The threshold as written.
    pub threshold: String,
    /// The measured value (ms, fraction or per second).
    pub actual: f64,
    /// Whether it held.
    pub passed: bool,
    /// Whether a failure stops the run.
    pub abort: bool,
}

/// Measures `metric` on `stats` (`active_secs` of load).
pub(crate) fn measure(metric: Metric, stats: &NameStats, active_secs: f64) -> f64 {
    let ms = |v: u64| v as f64 / 1e3;
    let h = &stats.corrected;
    match metric {
        Metric::Percentile(p) => ms(h.value_at_percentile(p)),
        Metric::Mean => h.mean() / 1e3,
        Metric::Min => ms(h.min()),
        Metric::Max => ms(h.max()),
        Metric::ErrorRate => RequestReport::of("", stats, active_secs).error_rate,
        Metric::Rps => stats.completed() as f64 / active_secs.max(1e-9),
    }
}

/// Evaluates a threshold: `names` are the scenario names in order.
pub(crate) fn evaluate(
    threshold: &Threshold,
    abort: bool,
    names: &[String],
    per_name: &[NameStats],
    total: &NameStats,
    active_secs: f64,
) -> ThresholdResult {
    let stats = match &threshold.scope {
        Some(scope) => names
            .iter()
            .position(|n| n == scope)
            .and_then(|i| per_name.get(i))
            .unwrap_or(total),
        None => total,
    };
    // No latency sample is no evidence: such a threshold fails (NaN).
    if threshold.is_latency() && stats.corrected.is_empty() {
        return ThresholdResult {
            threshold: threshold.source.clone(),
            actual: f64::NAN,
            passed: false,
            abort,
        };
    }
    let actual = measure(threshold.metric, stats, active_secs);
    ThresholdResult {
        threshold: threshold.source.clone(),
        actual,
        passed: threshold.holds(actual),
        abort,
    }
}

/// Requests (or errors) finished in each interval of the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// Width of each interval in seconds; doubles when the run is long so the
    /// series stays within `MAX_POINTS`.
    pub interval_secs: u64,
    /// Finished requests per interval.
    pub completed: Vec<u64>,
    /// Failed requests per interval.
    pub errors: Vec<u64>,
}

impl Timeline {
    /// Points kept at most.
    pub const MAX_POINTS: usize = 600;

    pub(crate) fn new() -> Self {
        Self {
            interval_secs: 1,
            ..Self::default()
        }
    }

    /// Adds one second's counts.
    pub(crate) fn push_second(&mut self, second: u64, completed: u64, errors: u64) {
        let index = (second / self.interval_secs.max(1)) as usize;
        if index >= Self::MAX_POINTS {
            self.completed = halve(&self.completed);
            self.errors = halve(&self.errors);
            self.interval_secs *= 2;
            return self.push_second(second, completed, errors);
        }
        while self.completed.len() <= index {
            self.completed.push(0);
            self.errors.push(0);
        }
        self.completed[index] += completed;
        self.errors[index] += errors;
    }
}

fn halve(v: &[u64]) -> Vec<u64> {
    v.chunks(2).map(|c| c.iter().sum()).collect()
}

/// How the run was set up.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileSummary {
    /// The preset.
    pub kind: String,
    /// Open or closed.
    pub model: Model,
    /// Peak rate or users.
    pub peak: f64,
    /// Planned duration in seconds.
    pub planned_secs: f64,
}

/// Everything a run found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The test's name.
    pub name: String,
    /// How it was set up.
    pub profile: ProfileSummary,
    /// `debug` or `release`.
    pub build_profile: String,
    /// CPU model, cores, OS and architecture.
    pub machine_class: String,
    /// When the run started, ms since the Unix epoch.
    pub started_at_unix_ms: u64,
    /// Seconds of load applied.
    pub active_secs: f64,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// The target (rate or users) when an aborting threshold stopped the run.
    pub breaking_point: Option<f64>,
    /// Per request name.
    pub requests: Vec<RequestReport>,
    /// All requests together.
    pub total: RequestReport,
    /// Thresholds and their results.
    pub thresholds: Vec<ThresholdResult>,
    /// The generator's own health.
    pub generator: GeneratorHealth,
    /// Throughput over time.
    pub timeline: Timeline,
    /// The in-process monitor's view, when one runs in this process.
    pub server: Option<ServerSide>,
    /// The comparison with the saved baseline, if any.
    pub baseline: Option<Comparison>,
    /// Changes detected against the recent history of this test.
    pub history_changes: Vec<String>,
    /// The overall outcome.
    pub verdict: Verdict,
    /// Why the verdict is what it is.
    pub reasons: Vec<String>,
    /// Where the JSON report was written.
    pub json_path: Option<PathBuf>,
}

impl Report {
    /// The figures of request `name`.
    pub fn request(&self, name: &str) -> Option<&RequestReport> {
        self.requests.iter().find(|r| r.name == name)
    }

    /// Whether the run neither failed a threshold nor regressed.
    pub fn is_ok(&self) -> bool {
        !matches!(self.verdict, Verdict::Failed | Verdict::Regressed)
    }

    /// Panics with the reasons when a threshold failed or the baseline
    /// comparison found a regression. An inconclusive run (overloaded
    /// generator) does not panic: it prints why on stderr.
    #[track_caller]
    pub fn assert_ok(&self) {
        match self.verdict {
            Verdict::Failed | Verdict::Regressed => panic!(
                "load test {:?}: {:?}\n  {}\n{}",
                self.name,
                self.verdict,
                self.reasons.join("\n  "),
                self.table()
            ),
            Verdict::Inconclusive => eprintln!(
                "load test {:?} is inconclusive:\n  {}",
                self.name,
                self.reasons.join("\n  ")
            ),
            Verdict::Pass | Verdict::Improved => {}
        }
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let unit = match self.profile.model {
            Model::Open => "/s",
            Model::Closed => " VUs",
        };
        let _ = writeln!(
            out,
            "load test {:?}: {} ({:?} model, peak {}{unit}), {:.1} s of load{}",
            self.name,
            self.profile.kind,
            self.profile.model,
            self.profile.peak,
            self.active_secs,
            self.aborted
                .as_ref()
                .map_or(String::new(), |why| format!(", aborted: {why}"))
        );
        let _ = writeln!(
            out,
            "  {:<16} {:>8} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>12}",
            "name", "done", "rps", "err%", "no-start", "p50", "p95", "p99", "max", "p99 uncorr."
        );
        for r in self.requests.iter().chain(std::iter::once(&self.total)) {
            let _ = writeln!(
                out,
                "  {:<16} {:>8} {:>9.1} {:>7.2} {:>7} {:>9} {:>9} {:>9} {:>9} {:>12}",
                truncate(&r.name, 16),
                r.completed,
                r.rps,
                r.error_rate * 100.0,
                r.not_started,
                ms(r.corrected.p50_ms),
                ms(r.corrected.p95_ms),
                ms(r.corrected.p99_ms),
                ms(r.corrected.max_ms),
                ms(r.uncorrected.p99_ms),
            );
        }
        if let Some(e) = &self.total.first_error {
            let _ = writeln!(out, "  first error: {e}");
        }
        for t in &self.thresholds {
            let _ = writeln!(
                out,
                "  {} {} (actual {:.3})",
                if t.passed { "ok  " } else { "FAIL" },
                t.threshold,
                t.actual
            );
        }
        let g = &self.generator;
        let _ = writeln!(
            out,
            "  generator: {} (send lag p99 {}, timer lag p99 {}, cpu {})",
            if g.is_healthy() {
                "healthy"
            } else {
                "OVERLOADED"
            },
            ms(g.send_lag_p99_ms),
            ms(g.wake_lag_p99_ms),
            g.cpu_share
                .map_or("n/a".into(), |c| format!("{:.0}%", c * 100.0))
        );
        if let Some(server) = &self.server {
            let _ = writeln!(out, "{}", server.system_line());
            for e in server.endpoints.iter().take(10) {
                let _ = writeln!(
                    out,
                    "  server {:<7} {:<36} requests {:>8} errors {:>5.2}% p99 {}",
                    e.method,
                    truncate(&e.route, 36),
                    e.requests,
                    e.error_rate * 100.0,
                    ms(e.p99_ms)
                );
            }
            for f in server.functions.iter().take(10) {
                let _ = writeln!(
                    out,
                    "  server {:<44} calls {:>8} errors {:>6} p99 {}",
                    truncate(&f.name, 44),
                    f.calls,
                    f.errors,
                    ms(f.p99_ms)
                );
            }
        }
        if let Some(b) = &self.baseline {
            let _ = writeln!(out, "  baseline: {:?} {}", b.verdict, b.summary);
        }
        for change in &self.history_changes {
            let _ = writeln!(out, "  history: {change}");
        }
        let _ = writeln!(out, "  verdict: {:?}", self.verdict);
        for reason in &self.reasons {
            let _ = writeln!(out, "    {reason}");
        }
        if let Some(path) = &self.json_path {
            let _ = writeln!(out, "  report: {}", path.display());
        }
        out
    }

    /// Writes the report as `latest.json` under `dir`.
    pub(crate) fn write_json(&mut self, dir: &Path) -> Result<(), LoadTestError> {
        let io = |source| LoadTestError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("latest.json");
        self.json_path = Some(path.clone());
        let json = serde_json::to_vec_pretty(self).map_err(|e| io(e.into()))?;
        std::fs::write(&path, json).map_err(|source| LoadTestError::Io { path, source })
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars()
            .take(max - 1)
            .chain(std::iter::once('…'))
            .collect()
    }
}

/// A duration in ms, in the most readable unit.
pub(crate) fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0}µs", v * 1e3)
    } else if v < 1_000.0 {
        format!("{v:.2}ms")
    } else {
        format!("{:.2}s", v / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_stays_bounded_on_long_runs() {
        let mut t = Timeline::new();
        for s in 0..5_000 {
            t.push_second(s, 10, 1);
        }
        assert!(t.completed.len() <= Timeline::MAX_POINTS);
        assert_eq!(t.interval_secs, 16);
        assert_eq!(t.completed.iter().sum::<u64>(), 50_000);
        assert_eq!(t.errors.iter().sum::<u64>(), 5_000);
    }

    #[test]
    fn a_latency_threshold_without_samples_fails() {
        let empty = NameStats::new();
        let t = Threshold::parse("p95 < 150ms").unwrap();
        let r = evaluate(&t, false, &[], &[], &empty, 1.0);
        assert!(!r.passed && r.actual.is_nan());
        let t = Threshold::parse("error_rate < 1%").unwrap();
        assert!(evaluate(&t, false, &[], &[], &empty, 1.0).passed);
    }

    #[test]
    fn readable_durations() {
        assert_eq!(ms(0.25), "250µs");
        assert_eq!(ms(12.5), "12.50ms");
        assert_eq!(ms(1500.0), "1.50s");
    }
}
