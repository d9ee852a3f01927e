//! Baselines: a run's figures saved in a JSON file meant for version
//! control, and later runs compared with them.
//!
//! Where the noise comes from: a verdict must tell a real change from
//! run-to-run noise, and one run says little about the next. Each saved run
//! keeps the mean latency of each twentieth of its duration ("slices"); the
//! spread of those slice means (their coefficient of variation, not divided
//! by the square root of their count, so it stands for the noise of a whole
//! short run; robust: 1.4826 x MAD / median, so a warm-up slice does not
//! dominate) and, once several runs are saved, the spread of the runs'
//! means (standard deviation over mean) give the observed variation. A change counts when it exceeds the
//! larger of 10 % and three times that variation, and the near end of a
//! bootstrap interval of the ratio still does.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::executor::SplitMix;
use super::report::RequestReport;
use super::LoadTestError;

/// The variable that picks the baseline mode.
pub const BASELINE_VAR: &str = "MONITOR_BASELINE";
/// Runs kept per baseline file.
const MAX_RUNS: usize = 10;
/// Smallest relative change ever reported.
const MIN_CHANGE: f64 = 0.10;
/// A change must exceed this many times the observed variation.
const NOISE_FACTOR: f64 = 3.0;
/// Bootstrap resamples.
const RESAMPLES: usize = 2_000;
/// Fewer slices than this on either side is too little to judge.
const MIN_SLICES: usize = 5;
/// History lines kept.
const MAX_HISTORY: usize = 1_000;
/// History entries the change detection looks back on.
const HISTORY_WINDOW: usize = 20;

/// What to do with the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineMode {
    /// Add this run to the baseline (replacing one that is not comparable).
    Save,
    /// Compare with the baseline when one exists (the default).
    Compare,
    /// Neither.
    Off,
}

impl BaselineMode {
    /// `MONITOR_BASELINE`: `save`, `compare` or `off`; `compare` when unset.
    pub fn from_env() -> Result<Self, LoadTestError> {
        match std::env::var(BASELINE_VAR) {
            Err(_) => Ok(Self::Compare),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "save" => Ok(Self::Save),
                "compare" | "" => Ok(Self::Compare),
                "off" => Ok(Self::Off),
                _ => Err(LoadTestError::Env {
                    var: BASELINE_VAR,
                    value: v,
                    reason: "expected save, compare or off",
                }),
            },
        }
    }
}

/// What must match for two runs to be compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparability {
    /// Preset, model, peak and planned duration.
    pub profile: String,
    /// `debug` or `release`.
    pub build_profile: String,
    /// CPU model, cores, OS and architecture.
    pub machine_class: String,
}

impl Comparability {
    /// Why `other` cannot be compared with `self`, if it cannot.
    fn mismatch(&self, other: &Self) -> Option<String> {
        [
            ("profile", &self.profile, &other.profile),
            ("build profile", &self.build_profile, &other.build_profile),
            ("machine class", &self.machine_class, &other.machine_class),
        ]
        .into_iter()
        .find(|(_, a, b)| a != b)
        .map(|(what, a, b)| format!("{what} differs: baseline {b:?}, this run {a:?}"))
    }
}

/// `debug` or `release`, as this crate was built.
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// CPU model, core count, OS and architecture.
pub fn machine_class() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {}-{}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// One request name's figures in one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NameFigures {
    /// Scenario name.
    pub name: String,
    /// Mean corrected latency, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// Finished requests per second.
    pub rps: f64,
    /// Error rate (fraction).
    pub error_rate: f64,
    /// Mean latency of each slice of the run, ms.
    pub slice_means_ms: Vec<f64>,
}

impl NameFigures {
    pub(crate) fn of(r: &RequestReport) -> Self {
        Self {
            name: r.name.clone(),
            mean_ms: r.corrected.mean_ms,
            p50_ms: r.corrected.p50_ms,
            p95_ms: r.corrected.p95_ms,
            rps: r.rps,
            error_rate: r.error_rate,
            slice_means_ms: r.slice_means_ms.clone(),
        }
    }
}

/// One saved run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFigures {
    /// When it ran, ms since the Unix epoch.
    pub at_unix_ms: u64,
    /// Per request name.
    pub requests: Vec<NameFigures>,
}

/// The baseline file.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    name: String,
    comparability: Comparability,
    runs: Vec<RunFigures>,
}

/// The comparison's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonVerdict {
    /// Within the noise.
    Pass,
    /// Faster beyond the noise.
    Improved,
    /// Slower beyond the noise.
    Regressed,
    /// Too few samples, or an overloaded generator.
    Inconclusive,
    /// Different profile, build profile or machine class.
    NotComparable,
    /// This run was saved as (part of) the baseline.
    Saved,
}

/// One request name against the baseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    /// Scenario name.
    pub name: String,
    /// Mean latency of the baseline runs, ms.
    pub baseline_ms: f64,
    /// This run's, ms.
    pub current_ms: f64,
    /// Relative change (0.3 is 30 % slower).
    pub change: f64,
    /// The change needed to count: max(10 %, 3 x variation).
    pub limit: f64,
    /// The observed variation (coefficient of variation).
    pub variation: f64,
    /// 95 % bootstrap interval of the relative change.
    pub interval: (f64, f64),
    /// The outcome for this name.
    pub verdict: ComparisonVerdict,
}

/// The comparison with the baseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    /// The overall outcome.
    pub verdict: ComparisonVerdict,
    /// One line for people.
    pub summary: String,
    /// The baseline file.
    pub path: PathBuf,
    /// Per request name.
    pub changes: Vec<Change>,
}

/// The baseline file of test `name` in `dir`.
pub(crate) fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

fn read(path: &Path) -> Result<Option<BaselineFile>, LoadTestError> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LoadTestError::Io {
            path: path.to_path_buf(),
            source,
        }),
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| LoadTestError::Baseline {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
        }
    }
}

/// Adds `run` to the baseline at `path` (a non-comparable one is replaced).
pub(crate) fn save(
    path: &Path,
    name: &str,
    comparability: &Comparability,
    run: RunFigures,
) -> Result<Comparison, LoadTestError> {
    let mut file = match read(path) {
        Ok(Some(f)) if f.comparability.mismatch(comparability).is_none() => f,
        _ => BaselineFile {
            version: 1,
            name: name.to_string(),
            comparability: comparability.clone(),
            runs: Vec::new(),
        },
    };
    file.runs.push(run);
    let excess = file.runs.len().saturating_sub(MAX_RUNS);
    file.runs.drain(..excess);
    let io = |source| LoadTestError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let json = serde_json::to_vec_pretty(&file).map_err(|e| io(e.into()))?;
    std::fs::write(path, json).map_err(io)?;
    Ok(Comparison {
        verdict: ComparisonVerdict::Saved,
        summary: format!("saved; the baseline holds {} run(s)", file.runs.len()),
        path: path.to_path_buf(),
        changes: Vec::new(),
    })
}

/// Compares `run` with the baseline at `path`; `None` when there is none.
pub(crate) fn compare(
    path: &Path,
    comparability: &Comparability,
    run: &RunFigures,
) -> Result<Option<Comparison>, LoadTestError> {
    let Some(file) = read(path)? else {
        return Ok(None);
    };
    if let Some(why) = file.comparability.mismatch(comparability) {
        return Ok(Some(Comparison {
            verdict: ComparisonVerdict::NotComparable,
            summary: format!("not comparable: {why}"),
            path: path.to_path_buf(),
            changes: Vec::new(),
        }));
    }
    let changes: Vec<Change> = run
        .requests
        .iter()
        .filter_map(|current| {
            let base: Vec<&NameFigures> = file
                .runs
                .iter()
                .filter_map(|r| r.requests.iter().find(|n| n.name == current.name))
                .collect();
            (!base.is_empty()).then(|| judge(current, &base))
        })
        .collect();
    let any = |v| changes.iter().any(|c| c.verdict == v);
    let verdict = if changes.is_empty() {
        ComparisonVerdict::Inconclusive
    } else if any(ComparisonVerdict::Regressed) {
        ComparisonVerdict::Regressed
    } else if any(ComparisonVerdict::Inconclusive) {
        ComparisonVerdict::Inconclusive
    } else if any(ComparisonVerdict::Improved) {
        ComparisonVerdict::Improved
    } else {
        ComparisonVerdict::Pass
    };
    let summary = changes
        .iter()
        .map(|c| {
            format!(
                "{}: mean {:.2} ms vs {:.2} ms ({:+.1}%, limit ±{:.1}%, interval {:+.1}%..{:+.1}%): {:?}",
                c.name,
                c.current_ms,
                c.baseline_ms,
                c.change * 100.0,
                c.limit * 100.0,
                c.interval.0 * 100.0,
                c.interval.1 * 100.0,
                c.verdict
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Some(Comparison {
        verdict,
        summary: if summary.is_empty() {
            "no request name in common with the baseline".into()
        } else {
            summary
        },
        path: path.to_path_buf(),
        changes,
    }))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Coefficient of variation (0 for fewer than 2 values).
fn cv(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    if m > 0.0 {
        var.sqrt() / m
    } else {
        0.0
    }
}

/// Robust coefficient of variation: 1.4826 x MAD / median, so one odd
/// slice (a warm-up, a hiccup) does not widen the limit by itself.
fn robust_cv(v: &[f64]) -> f64 {
    if v.len() < 3 {
        return cv(v);
    }
    let mut values = v.to_vec();
    let m = median(&mut values);
    let mut deviations: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    let mad = median(&mut deviations) * 1.4826;
    if m > 0.0 {
        mad / m
    } else {
        0.0
    }
}

/// One name: this run against the baseline's runs.
fn judge(current: &NameFigures, base: &[&NameFigures]) -> Change {
    let base_slices: Vec<f64> = base
        .iter()
        .flat_map(|b| b.slice_means_ms.iter().copied())
        .collect();
    let base_means: Vec<f64> = base.iter().map(|b| b.mean_ms).collect();
    let baseline_ms = mean(&base_means);
    let change = if baseline_ms > 0.0 {
        current.mean_ms / baseline_ms - 1.0
    } else {
        0.0
    };
    let variation = robust_cv(&base_slices)
        .max(robust_cv(&current.slice_means_ms))
        .max(cv(&base_means));
    let limit = MIN_CHANGE.max(NOISE_FACTOR * variation);
    let interval = bootstrap(&current.slice_means_ms, &base_slices);
    let verdict = if current.slice_means_ms.len() < MIN_SLICES || base_slices.len() < MIN_SLICES {
        ComparisonVerdict::Inconclusive
    } else if change > limit && interval.0 > limit {
        ComparisonVerdict::Regressed
    } else if change < -limit && interval.1 < -limit {
        ComparisonVerdict::Improved
    } else {
        ComparisonVerdict::Pass
    };
    Change {
        name: current.name.clone(),
        baseline_ms,
        current_ms: current.mean_ms,
        change,
        limit,
        variation,
        interval,
        verdict,
    }
}

/// 95 % bootstrap interval of mean(current) / mean(base) - 1, resampling
/// the slices of each side (deterministic seed: the same data gives the
/// same verdict).
fn bootstrap(current: &[f64], base: &[f64]) -> (f64, f64) {
    if current.is_empty() || base.is_empty() {
        return (0.0, 0.0);
    }
    let mut rng = SplitMix(0x5eed);
    let resample = |v: &[f64], rng: &mut SplitMix| {
        (0..v.len())
            .map(|_| v[(rng.next_u64() % v.len() as u64) as usize])
            .sum::<f64>()
            / v.len() as f64
    };
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let c = resample(current, &mut rng);
            let b = resample(base, &mut rng);
            if b > 0.0 {
                c / b - 1.0
            } else {
                0.0
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

/// One line of the history file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the run started, ms since the Unix epoch.
    pub at_unix_ms: u64,
    /// What it ran on.
    pub comparability: Comparability,
    /// Its overall verdict.
    pub verdict: String,
    /// Per request name (slices left out).
    pub requests: Vec<NameFigures>,
    /// Changes detected against the previous entries.
    pub changes: Vec<String>,
}

/// Appends `entry` to `history.jsonl` in `dir` after detecting changes
/// against the recent comparable entries (median and MAD, so one odd run
/// does not hide or fake a trend). Returns the changes found.
pub(crate) fn append_history(
    dir: &Path,
    mut entry: HistoryEntry,
) -> Result<Vec<String>, LoadTestError> {
    let path = dir.join("history.jsonl");
    let io = |source| LoadTestError::Io {
        path: path.clone(),
        source,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let previous: Vec<HistoryEntry> = lines
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<HistoryEntry>(l).ok())
        .filter(|e| e.comparability == entry.comparability)
        .take(HISTORY_WINDOW)
        .collect();
    for r in &mut entry.requests {
        r.slice_means_ms.clear();
    }
    entry.changes = detect_changes(&entry, &previous);
    let line = serde_json::to_string(&entry).map_err(|e| io(e.into()))?;
    lines.push(&line);
    let excess = lines.len().saturating_sub(MAX_HISTORY);
    let mut out = lines[excess..].join("\n");
    out.push('\n');
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(&path, out).map_err(io)?;
    Ok(entry.changes)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn detect_changes(entry: &HistoryEntry, previous: &[HistoryEntry]) -> Vec<String> {
    entry
        .requests
        .iter()
        .filter_map(|r| {
            let mut past: Vec<f64> = previous
                .iter()
                .filter_map(|e| e.requests.iter().find(|p| p.name == r.name))
                .map(|p| p.mean_ms)
                .collect();
            if past.len() < 3 {
                return None;
            }
            let m = median(&mut past);
            let mut deviations: Vec<f64> = past.iter().map(|x| (x - m).abs()).collect();
            let mad = median(&mut deviations) * 1.4826;
            let limit = (MIN_CHANGE * m).max(NOISE_FACTOR * mad);
            let delta = r.mean_ms - m;
            (delta.abs() > limit && m > 0.0).then(|| {
                format!(
                    "{}: mean {:.2} ms is {:+.0}% from the median {:.2} ms of the last {} runs",
                    r.name,
                    r.mean_ms,
                    delta / m * 100.0,
                    m,
                    past.len()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(name: &str, slices: Vec<f64>) -> NameFigures {
        NameFigures {
            name: name.into(),
            mean_ms: mean(&slices),
            p50_ms: 0.0,
            p95_ms: 0.0,
            rps: 0.0,
            error_rate: 0.0,
            slice_means_ms: slices,
        }
    }

    fn noisy(center: f64, spread: f64, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix(seed);
        (0..20)
            .map(|_| center * (1.0 + spread * (rng.unit() - 0.5)))
            .collect()
    }

    #[test]
    fn same_distribution_passes_and_slower_regresses() {
        let base = figures("a", noisy(20.0, 0.1, 1));
        let same = judge(&figures("a", noisy(20.0, 0.1, 2)), &[&base]);
        assert_eq!(same.verdict, ComparisonVerdict::Pass, "{same:?}");
        let slower = judge(&figures("a", noisy(26.0, 0.1, 3)), &[&base]);
        assert_eq!(slower.verdict, ComparisonVerdict::Regressed, "{slower:?}");
        let faster = judge(&figures("a", noisy(14.0, 0.1, 4)), &[&base]);
        assert_eq!(faster.verdict, ComparisonVerdict::Improved, "{faster:?}");
    }

    #[test]
    fn large_noise_widens_the_limit() {
        let base = figures("a", noisy(20.0, 1.0, 5));
        // 30% slower, but slices vary by about ±50%: not a regression.
        let c = judge(&figures("a", noisy(26.0, 1.0, 6)), &[&base]);
        assert!(c.limit > 0.3, "{c:?}");
        assert_eq!(c.verdict, ComparisonVerdict::Pass, "{c:?}");
    }

    #[test]
    fn too_few_slices_is_inconclusive() {
        let base = figures("a", vec![10.0, 10.0]);
        let c = judge(&figures("a", vec![20.0, 20.0]), &[&base]);
        assert_eq!(c.verdict, ComparisonVerdict::Inconclusive);
    }

    #[test]
    fn save_then_compare_round_trips_and_checks_comparability() {
        let dir = tempfile_dir();
        let p = path(&dir, "t");
        let comp = Comparability {
            profile: "load".into(),
            build_profile: "debug".into(),
            machine_class: "m".into(),
        };
        let run = RunFigures {
            at_unix_ms: 1,
            requests: vec![figures("a", noisy(20.0, 0.1, 7))],
        };
        assert!(compare(&p, &comp, &run).unwrap().is_none());
        save(&p, "t", &comp, run.clone()).unwrap();
        let c = compare(&p, &comp, &run).unwrap().unwrap();
        assert_eq!(c.verdict, ComparisonVerdict::Pass);
        let other = Comparability {
            build_profile: "release".into(),
            ..comp.clone()
        };
        let c = compare(&p, &other, &run).unwrap().unwrap();
        assert_eq!(c.verdict, ComparisonVerdict::NotComparable);
        assert!(c.summary.contains("build profile"), "{}", c.summary);
        std::fs::write(&p, "{").unwrap();
        let e = compare(&p, &comp, &run).unwrap_err().to_string();
        assert!(e.contains("MONITOR_BASELINE=save"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn history_flags_a_jump_over_the_median() {
        let dir = tempfile_dir();
        let comp = Comparability {
            profile: "p".into(),
            build_profile: "b".into(),
            machine_class: "m".into(),
        };
        let entry = |mean_ms: f64| HistoryEntry {
            at_unix_ms: 0,
            comparability: comp.clone(),
            verdict: "pass".into(),
            requests: vec![NameFigures {
                mean_ms,
                ..figures("a", vec![])
            }],
            changes: vec![],
        };
        for m in [20.0, 20.5, 19.8, 20.2] {
            assert!(append_history(&dir, entry(m)).unwrap().is_empty());
        }
        let changes = append_history(&dir, entry(27.0)).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(changes[0].contains("+34%"), "{changes:?}");
        let lines = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "monitor-baseline-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
