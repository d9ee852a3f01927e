//! Per-request-name statistics: two HdrHistograms (latency from the
//! scheduled time and from the actual send), outcome counters and time
//! slices, in fixed memory whatever the run's length. Writers spread over
//! a few shards so concurrent requests rarely meet on a lock.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::scenario::Failure;

/// Latencies are recorded in microseconds, 1 µs to 1 h, 3 significant digits.
const MAX_MICROS: u64 = 3_600_000_000;
/// A run is cut into this many equal slices of its planned duration; their
/// means feed the baseline's noise estimate.
pub(crate) const SLICES: usize = 20;

pub(crate) fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that satisfy the constructor's rules.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Counts of failures by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorCounts {
    /// Answers with a 4xx or 5xx status, by status code.
    pub status: Vec<(u16, u64)>,
    /// Requests or calls that did not finish within the timeout.
    pub timeout: u64,
    /// Connections that could not be made.
    pub connect: u64,
    /// Other transport errors.
    pub transport: u64,
    /// Calls that returned an error.
    pub call: u64,
    /// Calls or request builders that panicked.
    pub panic: u64,
}

impl ErrorCounts {
    /// All failures.
    pub fn total(&self) -> u64 {
        self.status.iter().map(|s| s.1).sum::<u64>()
            + self.timeout
            + self.connect
            + self.transport
            + self.call
            + self.panic
    }

    fn add(&mut self, failure: &Failure) {
        match failure {
            Failure::Status(code) => match self.status.iter_mut().find(|s| s.0 == *code) {
                Some(s) => s.1 += 1,
                None => {
                    self.status.push((*code, 1));
                    self.status.sort_unstable();
                }
            },
            Failure::Timeout => self.timeout += 1,
            Failure::Connect => self.connect += 1,
            Failure::Transport(_) => self.transport += 1,
            Failure::Call(_) => self.call += 1,
            Failure::Panic => self.panic += 1,
        }
    }

    fn merge(&mut self, other: &ErrorCounts) {
        for &(code, n) in &other.status {
            match self.status.iter_mut().find(|s| s.0 == code) {
                Some(s) => s.1 += n,
                None => self.status.push((code, n)),
            }
        }
        self.status.sort_unstable();
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.transport += other.transport;
        self.call += other.call;
        self.panic += other.panic;
    }
}

/// Everything measured for one request name.
#[derive(Clone)]
pub(crate) struct NameStats {
    /// From the scheduled send time (open model) to the answer.
    pub corrected: Histogram<u64>,
    /// From the actual send to the answer.
    pub uncorrected: Histogram<u64>,
    pub ok: u64,
    pub errors: ErrorCounts,
    /// Scheduled but never started (in-flight cap).
    pub not_started: u64,
    pub bytes: u64,
    /// The first error's text, to tell the user what went wrong.
    pub first_error: Option<String>,
    /// Per slice: completed requests and their summed corrected latency (µs).
    pub slices: [(u64, u64); SLICES],
}

impl NameStats {
    pub(crate) fn new() -> Self {
        Self {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            ok: 0,
            errors: ErrorCounts::default(),
            not_started: 0,
            bytes: 0,
            first_error: None,
            slices: [(0, 0); SLICES],
        }
    }

    /// Requests that finished, whatever the outcome.
    pub fn completed(&self) -> u64 {
        self.ok + self.errors.total()
    }

    fn merge(&mut self, other: &NameStats) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.corrected.add(&other.corrected);
        let _ = self.uncorrected.add(&other.uncorrected);
        self.ok += other.ok;
        self.errors.merge(&other.errors);
        self.not_started += other.not_started;
        self.bytes += other.bytes;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        for (mine, theirs) in self.slices.iter_mut().zip(other.slices.iter()) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
    }
}

/// One timestamped outcome.
pub(crate) struct Sample {
    pub scenario: usize,
    pub scheduled: Instant,
    pub sent: Instant,
    pub done: Instant,
    pub outcome: Result<u64, Failure>,
}

/// The shared recorder.
pub(crate) struct Recorder {
    shards: Box<[Mutex<Vec<NameStats>>]>,
    start: Instant,
    planned: Duration,
}

impl Recorder {
    pub fn new(names: usize, shards: usize, start: Instant, planned: Duration) -> Self {
        Self {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new((0..names).map(|_| NameStats::new()).collect()))
                .collect(),
            start,
            planned,
        }
    }

    fn slice_of(&self, at: Instant) -> usize {
        let planned = self.planned.as_secs_f64().max(1e-9);
        let x = at.saturating_duration_since(self.start).as_secs_f64() / planned;
        ((x * SLICES as f64) as usize).min(SLICES - 1)
    }

    /// Records one finished execution; `hint` picks the shard.
    pub fn record(&self, hint: usize, sample: Sample) {
        let corrected = micros(sample.done.saturating_duration_since(sample.scheduled));
        let uncorrected = micros(sample.done.saturating_duration_since(sample.sent));
        let slice = self.slice_of(sample.scheduled);
        let mut shard = self.shards[hint % self.shards.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stats = &mut shard[sample.scenario];
        stats.corrected.saturating_record(corrected);
        stats.uncorrected.saturating_record(uncorrected);
        stats.slices[slice].0 += 1;
        stats.slices[slice].1 += corrected;
        match sample.outcome {
            Ok(bytes) => {
                stats.ok += 1;
                stats.bytes += bytes;
            }
            Err(failure) => {
                if stats.first_error.is_none() {
                    stats.first_error = Some(describe(&failure));
                }
                stats.errors.add(&failure);
            }
        }
    }

    /// Counts a scheduled request that could not start.
    pub fn not_started(&self, hint: usize, scenario: usize) {
        let mut shard = self.shards[hint % self.shards.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        shard[scenario].not_started += 1;
    }

    /// Finished and failed requests over all names and shards: cheap, no
    /// histogram is touched.
    pub fn counts(&self) -> (u64, u64) {
        let (mut completed, mut failed) = (0, 0);
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for stats in shard.iter() {
                completed += stats.completed();
                failed += stats.errors.total();
            }
        }
        (completed, failed)
    }

    /// All shards merged, per name.
    pub fn merged(&self) -> Vec<NameStats> {
        let mut out: Option<Vec<NameStats>> = None;
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            match &mut out {
                None => out = Some(shard.clone()),
                Some(out) => {
                    for (mine, theirs) in out.iter_mut().zip(shard.iter()) {
                        mine.merge(theirs);
                    }
                }
            }
        }
        out.unwrap_or_default()
    }
}

/// Everything of all names together.
pub(crate) fn total(names: &[NameStats]) -> NameStats {
    let mut all = NameStats::new();
    for n in names {
        all.merge(n);
    }
    all
}

fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Status(code) => format!("HTTP status {code}"),
        Failure::Timeout => "timed out".into(),
        Failure::Connect => "connection failed".into(),
        Failure::Transport(e) => e.clone(),
        Failure::Call(e) => e.clone(),
        Failure::Panic => "panicked".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_both_latencies_and_outcomes_across_shards() {
        let start = Instant::now();
        let rec = Recorder::new(2, 4, start, Duration::from_secs(1));
        for i in 0..100u64 {
            let scheduled = start + Duration::from_millis(i * 10);
            rec.record(
                i as usize,
                Sample {
                    scenario: 0,
                    scheduled,
                    sent: scheduled + Duration::from_millis(5),
                    done: scheduled + Duration::from_millis(7),
                    outcome: if i % 10 == 0 {
                        Err(Failure::Status(503))
                    } else {
                        Ok(10)
                    },
                },
            );
        }
        rec.not_started(1, 1);
        let merged = rec.merged();
        assert_eq!(merged[0].ok, 90);
        assert_eq!(merged[0].errors.status, vec![(503, 10)]);
        assert_eq!(merged[0].bytes, 900);
        assert_eq!(merged[1].not_started, 1);
        let c = merged[0].corrected.value_at_quantile(0.5);
        let u = merged[0].uncorrected.value_at_quantile(0.5);
        assert!((6_990..=7_010).contains(&c), "{c}");
        assert!((1_995..=2_005).contains(&u), "{u}");
        assert!(merged[0].slices.iter().all(|s| s.0 == 5));
        assert_eq!(merged[0].first_error.as_deref(), Some("HTTP status 503"));
    }
}
