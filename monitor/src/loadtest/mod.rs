//! Load tests from ordinary `#[tokio::test]`s: drive a service with
//! realistic load, assert thresholds, and fail the build on a real
//! performance regression without false alarms on a noisy CI machine.
//!
//! ```no_run
//! use monitor::loadtest::{LoadTest, Profile};
//!
//! # async fn example() {
//! let report = LoadTest::new("checkout")
//!     .base_url("http://127.0.0.1:8080")
//!     .profile(Profile::load().rate(200).ramp_up_secs(5).hold_secs(30).ramp_down_secs(5))
//!     .request("buy", |c| c.post("/checkout").body("{}"))
//!     .call("price", || async { Ok::<_, std::io::Error>(42) })
//!     .threshold("p95 < 150ms")
//!     .threshold("buy: error_rate < 1%")
//!     .run()
//!     .await
//!     .expect("load test ran");
//! report.assert_ok(); // thresholds and baseline comparison
//! # }
//! ```
//!
//! # Models
//!
//! [`Profile::rate`] is the open model: requests are scheduled at fixed
//! times from the start whatever the latency, and each request's latency
//! is counted from its scheduled time (corrected for coordinated omission)
//! as well as from its actual send (uncorrected). At most
//! [`Profile::max_in_flight`] requests run at once; a request that cannot
//! get a slot within [`Profile::start_timeout`] is counted as not started
//! (and in the error rate). [`Profile::vus`] is the closed model: virtual
//! users that send, wait, think and repeat; there, both latencies are the same.
//!
//! # Thresholds
//!
//! `"[name:] metric op value"`: metric `p50`, `p90`, `p95`, `p99`, `p99.9`
//! (any `pNN`), `mean`, `min`, `max` with a unit (`ns`, `us`, `ms`, `s`);
//! `error_rate` as `1%` or `0.01`; `rps` in requests per second. Operators
//! `<`, `<=`, `>`, `>=`. With `name:` the threshold applies to that request
//! only. Latency thresholds use the corrected latency.
//! [`LoadTest::threshold_abort`] stops the run as soon as it fails.
//!
//! # Reports and baselines
//!
//! Each run prints a table and writes `latest.json` and appends a line to
//! `history.jsonl` under `target/monitor/loadtest/<name>/`. With
//! `MONITOR_BASELINE=save` the run is added to
//! `loadtest-baselines/<name>.json` (in the package's directory; meant for
//! version control); by default later runs are compared with it when it
//! exists: see [`baseline`] for how noise is estimated. An overloaded
//! generator (late sends, starved runtime, CPU saturated) makes the verdict
//! [`Verdict::Inconclusive`] instead of a false result.

pub mod baseline;
mod error;
mod executor;
mod health;
mod profile;
mod progress;
mod report;
mod scenario;
mod schedule;
mod server;
mod stats;
mod threshold;
mod urls;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

pub use baseline::{BaselineMode, Comparison, ComparisonVerdict};
pub use error::LoadTestError;
pub use health::GeneratorHealth;
pub use profile::{Model, Profile, SOAK_SECS_VAR};
pub use report::{
    Latency, ProfileSummary, Report, RequestReport, ThresholdResult, Timeline, Verdict,
};
pub use scenario::{CallOutcome, Client};
pub use server::{ServerEndpoint, ServerFunction, ServerSide, ServerSystem};
pub use stats::ErrorCounts;
pub use threshold::{Metric, Op, Threshold};

use executor::Run;
use progress::Watcher;
use scenario::{Action, Mix, Scenario, Shared};
use stats::Recorder;

/// A load test: scenarios, a profile, thresholds. See the [module docs](self).
#[must_use]
pub struct LoadTest {
    name: String,
    base_url: Option<String>,
    profile: Profile,
    scenarios: Vec<Scenario>,
    thresholds: Vec<(String, bool)>,
    baseline_mode: Option<BaselineMode>,
    baseline_dir: Option<PathBuf>,
    report_dir: Option<PathBuf>,
    quiet: bool,
    client: Option<reqwest::Client>,
}

impl LoadTest {
    /// A test called `name` (it names the report directory and the baseline
    /// file), with the [`Profile::smoke`] profile until one is set.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            base_url: None,
            profile: Profile::smoke(),
            scenarios: Vec::new(),
            thresholds: Vec::new(),
            baseline_mode: None,
            baseline_dir: None,
            report_dir: None,
            quiet: false,
            client: None,
        }
    }

    /// The URL request paths are relative to, e.g. `http://127.0.0.1:8080`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The load profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// An HTTP request scenario, weight 1: `f` builds the request from a
    /// [`Client`] whose paths are relative to the base URL.
    pub fn request<F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(&Client<'_>) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        self.scenarios.push(Scenario {
            name: name.into(),
            weight: 1,
            action: Action::http(f),
        });
        self
    }

    /// An async-closure scenario, weight 1, to load-test in-process code.
    /// The future may return `()` or a `Result` (an `Err` counts as a failure).
    pub fn call<F, Fut>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: CallOutcome,
    {
        self.scenarios.push(Scenario {
            name: name.into(),
            weight: 1,
            action: Action::call(f),
        });
        self
    }

    /// Sets the weight of the last added scenario: scenarios are picked in
    /// proportion to their weights.
    pub fn weight(mut self, weight: u32) -> Self {
        if let Some(last) = self.scenarios.last_mut() {
            last.weight = weight.max(1);
        }
        self
    }

    /// A threshold, checked at the end (see the [module docs](self) for the
    /// syntax); a bad string makes [`run`](Self::run) fail naming it.
    pub fn threshold(mut self, threshold: impl Into<String>) -> Self {
        self.thresholds.push((threshold.into(), false));
        self
    }

    /// A threshold that also stops the run as soon as it fails.
    pub fn threshold_abort(mut self, threshold: impl Into<String>) -> Self {
        self.thresholds.push((threshold.into(), true));
        self
    }

    /// Overrides `MONITOR_BASELINE`.
    pub fn baseline_mode(mut self, mode: BaselineMode) -> Self {
        self.baseline_mode = Some(mode);
        self
    }

    /// Where baseline files live (default `loadtest-baselines/` in the
    /// package's directory).
    pub fn baseline_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.baseline_dir = Some(dir.into());
        self
    }

    /// Where the JSON report and history go (default
    /// `target/monitor/loadtest/<name>/`).
    pub fn report_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.report_dir = Some(dir.into());
        self
    }

    /// Do not print the table.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Use this `reqwest` client (default: one built by [`http_client_builder`]).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    fn check(&self) -> Result<Vec<(threshold::Threshold, bool)>, LoadTestError> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !self.name.starts_with('.');
        if !name_ok {
            return Err(LoadTestError::Name(self.name.clone()));
        }
        if self.scenarios.is_empty() {
            return Err(LoadTestError::NoScenario);
        }
        for (i, s) in self.scenarios.iter().enumerate() {
            if self.scenarios[..i].iter().any(|o| o.name == s.name) {
                return Err(LoadTestError::DuplicateScenario(s.name.clone()));
            }
            if matches!(s.action, Action::Http(_)) && self.base_url.is_none() {
                return Err(LoadTestError::NoBaseUrl(s.name.clone()));
            }
        }
        self.thresholds
            .iter()
            .map(|(text, abort)| {
                let t = threshold::Threshold::parse(text)?;
                if let Some(scope) = &t.scope {
                    if !self.scenarios.iter().any(|s| &s.name == scope) {
                        return Err(LoadTestError::Threshold {
                            input: text.clone(),
                            reason: format!(
                                "no request or call is named {scope:?}; known: {}",
                                self.scenarios
                                    .iter()
                                    .map(|s| s.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        });
                    }
                }
                Ok((t, *abort || self.profile.settings().abort_on_fail))
            })
            .collect()
    }

    /// Runs the test on the caller's tokio runtime and returns its report
    /// (also printed, and written as JSON). `Err` means the test could not
    /// run or its files could not be written, not that it failed: call
    /// [`Report::assert_ok`] for that.
    pub async fn run(self) -> Result<Report, LoadTestError> {
        let thresholds = self.check()?;
        let shape = self.profile.resolve()?;
        let settings = self.profile.settings();
        let mode = match self.baseline_mode {
            Some(mode) => mode,
            None => BaselineMode::from_env()?,
        };
        let http = match self.client {
            Some(client) => client,
            None => http_client_builder()
                .build()
                .map_err(LoadTestError::Client)?,
        };
        let names: Vec<String> = self.scenarios.iter().map(|s| s.name.clone()).collect();
        let shared = Arc::new(Shared {
            http,
            urls: urls::UrlCache::new(self.base_url.as_deref().unwrap_or_default()),
            payload: Bytes::from(vec![b'x'; settings.payload_bytes]),
            timeout: settings.request_timeout,
        });
        let server_before = server::before();
        let started_at_unix_ms = unix_ms();
        let start = Instant::now();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let recorder = Arc::new(Recorder::new(
            names.len(),
            (cores * 2).min(8),
            start,
            shape.duration(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let probe = health::HealthProbe::start();
        let (done, watching) = tokio::sync::watch::channel(false);
        let watcher = tokio::spawn(
            Watcher {
                recorder: Arc::clone(&recorder),
                names: names.clone(),
                thresholds: thresholds.clone(),
                stop: Arc::clone(&stop),
                start,
                shape: shape.clone(),
            }
            .run(watching),
        );
        let run = Run {
            mix: Arc::new(Mix::new(self.scenarios)),
            shared,
            recorder: Arc::clone(&recorder),
            stop,
            start,
            shape: shape.clone(),
            settings,
        };
        let executed = match self.profile.model() {
            Model::Open => executor::open(&run).await,
            Model::Closed => executor::closed(&run).await,
        };
        let _ = done.send(true);
        let watched = watcher.await.unwrap_or_default();
        let generator = probe.finish(executed.send_lag.as_ref());
        let server = server::after(server_before, unix_ms()).await;

        let active_secs = executed.active.as_secs_f64();
        let per_name = recorder.merged();
        let total = stats::total(&per_name);
        let results: Vec<ThresholdResult> = thresholds
            .iter()
            .map(|(t, abort)| report::evaluate(t, *abort, &names, &per_name, &total, active_secs))
            .collect();
        let requests: Vec<RequestReport> = names
            .iter()
            .zip(&per_name)
            .map(|(name, stats)| RequestReport::of(name, stats, active_secs))
            .collect();
        let comparability = baseline::Comparability {
            profile: format!(
                "{} {:?} peak {} for {:.0} s",
                self.profile.kind(),
                self.profile.model(),
                self.profile.peak(),
                shape.duration().as_secs_f64()
            ),
            build_profile: baseline::build_profile().into(),
            machine_class: baseline::machine_class(),
        };
        let mut report = Report {
            name: self.name.clone(),
            profile: ProfileSummary {
                kind: self.profile.kind().into(),
                model: self.profile.model(),
                peak: self.profile.peak(),
                planned_secs: shape.duration().as_secs_f64(),
            },
            build_profile: comparability.build_profile.clone(),
            machine_class: comparability.machine_class.clone(),
            started_at_unix_ms,
            active_secs,
            aborted: watched.aborted.as_ref().map(|a| a.0.clone()),
            breaking_point: watched.aborted.as_ref().map(|a| a.1),
            total: RequestReport::of("all", &total, active_secs),
            requests,
            thresholds: results,
            generator,
            timeline: watched.timeline,
            server,
            baseline: None,
            history_changes: Vec::new(),
            verdict: Verdict::Pass,
            reasons: Vec::new(),
            json_path: None,
        };
        let figures = baseline::RunFigures {
            at_unix_ms: started_at_unix_ms,
            requests: report
                .requests
                .iter()
                .map(baseline::NameFigures::of)
                .collect(),
        };
        let baseline_dir = self.baseline_dir.unwrap_or_else(default_baseline_dir);
        let baseline_path = baseline::path(&baseline_dir, &self.name);
        report.baseline = match mode {
            BaselineMode::Off => None,
            BaselineMode::Compare => baseline::compare(&baseline_path, &comparability, &figures)?,
            BaselineMode::Save if report.generator.is_healthy() && report.aborted.is_none() => {
                Some(baseline::save(
                    &baseline_path,
                    &self.name,
                    &comparability,
                    figures.clone(),
                )?)
            }
            BaselineMode::Save => {
                report.reasons.push(
                    "baseline not saved: the generator was overloaded or the run aborted".into(),
                );
                None
            }
        };
        let (verdict, reasons) = judge(
            &report.thresholds,
            report.baseline.as_ref(),
            &report.generator,
        );
        report.verdict = verdict;
        report.reasons.extend(reasons);
        let report_dir = self
            .report_dir
            .unwrap_or_else(|| default_report_root().join(&self.name));
        report.history_changes = baseline::append_history(
            &report_dir,
            baseline::HistoryEntry {
                at_unix_ms: started_at_unix_ms,
                comparability,
                verdict: format!("{:?}", report.verdict),
                requests: figures.requests,
                changes: Vec::new(),
            },
        )?;
        report.write_json(&report_dir)?;
        if !self.quiet {
            println!("{}", report.table());
        }
        Ok(report)
    }
}

/// The builder of the client a test uses unless given one with
/// [`LoadTest::http_client`]: `TCP_NODELAY` (small requests are not held
/// back waiting for an ACK) and no proxy (a load test measures its target,
/// not a proxy from the environment; and reqwest would match every request
/// against the system proxy settings, about 5% of its work per request);
/// reqwest's defaults otherwise (an unbounded idle pool, so every virtual
/// user keeps its connection). Start from it to adjust the client (add a
/// `.proxy(...)` to go through one), or to compare with a plain loop over
/// the same client.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tcp_nodelay(true).no_proxy()
}

/// The overall verdict and its reasons.
fn judge(
    thresholds: &[ThresholdResult],
    baseline: Option<&Comparison>,
    generator: &GeneratorHealth,
) -> (Verdict, Vec<String>) {
    let mut verdict = Verdict::Pass;
    let mut reasons = Vec::new();
    for t in thresholds.iter().filter(|t| !t.passed) {
        reasons.push(format!(
            "threshold {} failed: actual {:.3}",
            t.threshold, t.actual
        ));
        verdict = Verdict::Failed;
    }
    if let Some(b) = baseline {
        reasons.push(format!("baseline {:?}: {}", b.verdict, b.summary));
        if verdict == Verdict::Pass {
            verdict = match b.verdict {
                ComparisonVerdict::Regressed => Verdict::Regressed,
                ComparisonVerdict::Improved => Verdict::Improved,
                ComparisonVerdict::Inconclusive => Verdict::Inconclusive,
                _ => Verdict::Pass,
            };
        }
    }
    if !generator.is_healthy() {
        reasons.extend(
            generator
                .overloaded
                .iter()
                .map(|r| format!("generator overloaded: {r}")),
        );
        // A failed error-rate threshold is the target's, whatever the generator.
        let errors_failed = thresholds
            .iter()
            .any(|t| !t.passed && t.threshold.contains("error_rate"));
        if !errors_failed {
            verdict = Verdict::Inconclusive;
        }
    }
    (verdict, reasons)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `loadtest-baselines/` in the package being tested (cargo sets
/// `CARGO_MANIFEST_DIR` for tests), else in the current directory.
fn default_baseline_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("loadtest-baselines")
}

/// `<target>/monitor/loadtest`: the target directory is the first ancestor of
/// the test binary holding cargo's `CACHEDIR.TAG`, else `CARGO_TARGET_DIR`,
/// else `./target`.
fn default_report_root() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .map(Path::to_path_buf)
    });
    from_exe
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("monitor")
        .join("loadtest")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threshold(text: &str, passed: bool) -> ThresholdResult {
        ThresholdResult {
            threshold: text.into(),
            actual: 1.0,
            passed,
            abort: false,
        }
    }

    fn comparison(verdict: ComparisonVerdict) -> Comparison {
        Comparison {
            verdict,
            summary: String::new(),
            path: PathBuf::new(),
            changes: Vec::new(),
        }
    }

    #[test]
    fn verdicts_combine_thresholds_baseline_and_health() {
        let healthy = GeneratorHealth::default();
        let overloaded = GeneratorHealth {
            overloaded: vec!["send lag".into()],
            ..GeneratorHealth::default()
        };
        let ok = [threshold("p95 < 1ms", true)];
        let slow = [threshold("p95 < 1ms", false)];
        let errors = [threshold("error_rate < 1%", false)];
        let regressed = comparison(ComparisonVerdict::Regressed);
        let other = comparison(ComparisonVerdict::NotComparable);
        let v =
            |t: &[ThresholdResult], b: Option<&Comparison>, g: &GeneratorHealth| judge(t, b, g).0;
        assert_eq!(v(&ok, None, &healthy), Verdict::Pass);
        assert_eq!(v(&slow, None, &healthy), Verdict::Failed);
        assert_eq!(v(&ok, Some(&regressed), &healthy), Verdict::Regressed);
        assert_eq!(v(&ok, Some(&other), &healthy), Verdict::Pass);
        // An overloaded generator cannot tell a slow target from itself...
        assert_eq!(v(&slow, None, &overloaded), Verdict::Inconclusive);
        assert_eq!(v(&ok, Some(&regressed), &overloaded), Verdict::Inconclusive);
        // ...but errors are the target's.
        assert_eq!(v(&errors, None, &overloaded), Verdict::Failed);
        let (_, reasons) = judge(&slow, None, &overloaded);
        assert!(reasons
            .iter()
            .any(|r| r.contains("generator overloaded: send lag")));
    }
}
