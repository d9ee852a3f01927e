//! Watches a run once a second: throughput timeline, aborting thresholds,
//! and a progress line on a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::profile::Shape;
use super::report::{evaluate, ms, Timeline};
use super::stats::{self, Recorder};
use super::threshold::{Metric, Threshold};

/// Aborting thresholds are not judged before this much load nor on fewer
/// samples, so the first slow requests of a warm-up cannot stop a run.
const MIN_ABORT_AFTER: Duration = Duration::from_secs(1);
const MIN_ABORT_SAMPLES: u64 = 20;

/// What the watcher found.
#[derive(Default)]
pub(crate) struct Watched {
    pub timeline: Timeline,
    /// The failed threshold and the target when it stopped the run.
    pub aborted: Option<(String, f64)>,
}

pub(crate) struct Watcher {
    pub recorder: Arc<Recorder>,
    pub names: Vec<String>,
    pub thresholds: Vec<(Threshold, bool)>,
    pub stop: Arc<AtomicBool>,
    pub start: Instant,
    pub shape: Shape,
}

impl Watcher {
    pub async fn run(self, mut done: watch::Receiver<bool>) -> Watched {
        let terminal = std::io::stderr().is_terminal();
        let mut watched = Watched {
            timeline: Timeline::new(),
            aborted: None,
        };
        let mut ticks = tokio::time::interval_at(
            (self.start + Duration::from_secs(1)).into(),
            Duration::from_secs(1),
        );
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut second, mut last_done, mut last_errors) = (0u64, 0u64, 0u64);
        loop {
            let finished = tokio::select! {
                _ = ticks.tick() => false,
                _ = done.changed() => true,
            };
            let (completed, errors) = self.recorder.counts();
            watched
                .timeline
                .push_second(second, completed - last_done, errors - last_errors);
            (last_done, last_errors) = (completed, errors);
            second += 1;
            if finished {
                break;
            }
            let elapsed = self.start.elapsed();
            // Merging the histograms costs: only when something reads them.
            let judge = watched.aborted.is_none()
                && self.thresholds.iter().any(|(_, abort)| *abort)
                && elapsed >= MIN_ABORT_AFTER
                && completed >= MIN_ABORT_SAMPLES;
            if !(judge || terminal) {
                continue;
            }
            let per_name = self.recorder.merged();
            let total = stats::total(&per_name);
            if judge {
                let failed = self
                    .thresholds
                    .iter()
                    // A rate is only known at the end of the run.
                    .filter(|(t, abort)| *abort && t.metric != Metric::Rps)
                    .map(|(t, abort)| {
                        evaluate(
                            t,
                            *abort,
                            &self.names,
                            &per_name,
                            &total,
                            elapsed.as_secs_f64(),
                        )
                    })
                    .find(|r| !r.passed);
                if let Some(result) = failed {
                    let target = self.shape.target_at(elapsed);
                    watched.aborted = Some((
                        format!("{} (actual {:.3})", result.threshold, result.actual),
                        target,
                    ));
                    self.stop.store(true, Relaxed);
                }
            }
            if terminal {
                draw(
                    elapsed,
                    self.shape.duration(),
                    &total,
                    last_done_rate(&watched.timeline),
                );
            }
        }
        if terminal {
            eprint!("\r{:79}\r", "");
        }
        watched
    }
}

fn last_done_rate(t: &Timeline) -> u64 {
    t.completed.last().copied().unwrap_or(0) / t.interval_secs.max(1)
}

fn draw(elapsed: Duration, planned: Duration, total: &stats::NameStats, rate: u64) {
    const WIDTH: usize = 24;
    let share = (elapsed.as_secs_f64() / planned.as_secs_f64().max(1e-9)).min(1.0);
    let filled = (share * WIDTH as f64) as usize;
    let p95 = if total.corrected.is_empty() {
        0.0
    } else {
        total.corrected.value_at_quantile(0.95) as f64 / 1e3
    };
    eprint!(
        "\r[{}{}] {:>5.0}s/{:.0}s {:>7}/s p95 {:>9} errors {:<8}",
        "=".repeat(filled),
        " ".repeat(WIDTH - filled),
        elapsed.as_secs_f64(),
        planned.as_secs_f64(),
        rate,
        ms(p95),
        total.errors.total() + total.not_started
    );
}
