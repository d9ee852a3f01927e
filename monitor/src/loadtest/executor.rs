//! The two ways of generating load. Open model: requests are scheduled at
//! the profile's rate from the start instant whatever the latency, so a slow
//! answer cannot hold back the next send (no coordinated omission). Closed
//! model: each virtual user sends, waits for the answer, thinks, repeats.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use super::profile::{Settings, Shape};
use super::scenario::{Mix, Shared};
use super::schedule::ArrivalSchedule;
use super::stats::{micros, new_histogram, Recorder, Sample};

/// How often an idle virtual user looks again at the target.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Everything an executor needs.
pub(crate) struct Run {
    pub mix: Arc<Mix>,
    pub shared: Arc<Shared>,
    pub recorder: Arc<Recorder>,
    /// Set to end the run early (an aborting threshold failed).
    pub stop: Arc<AtomicBool>,
    pub start: Instant,
    pub shape: Shape,
    pub settings: Settings,
}

/// What an executor reports besides the recorded samples.
pub(crate) struct Executed {
    /// How long load was applied (the planned duration unless stopped early).
    pub active: Duration,
    /// Open model: delay between the scheduled and the actual send.
    pub send_lag: Option<Histogram<u64>>,
}

impl Run {
    fn active(&self) -> Duration {
        if self.stop.load(Relaxed) {
            self.start.elapsed().min(self.shape.duration())
        } else {
            self.shape.duration()
        }
    }
}

/// Open model. A request whose turn comes while `max_in_flight` requests are
/// running waits for a slot at most `start_timeout`; its latency counts from
/// its scheduled time. If no slot frees up, it is counted as not started.
pub(crate) async fn open(run: &Run) -> Executed {
    let cap = run
        .settings
        .max_in_flight
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize) as u32;
    let slots = Arc::new(Semaphore::new(cap as usize));
    let mut send_lag = new_histogram();
    // Since when the scheduler has been free to send: lag behind that is
    // the generator's own, not the in-flight cap's.
    let mut free_since = run.start;
    for (iteration, offset) in (0u64..).zip(ArrivalSchedule::new(&run.shape)) {
        if run.stop.load(Relaxed) {
            break;
        }
        let due = run.start + offset;
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        send_lag.saturating_record(micros(
            Instant::now().saturating_duration_since(due.max(free_since)),
        ));
        let scenario = run.mix.pick(iteration);
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let deadline = due + run.settings.start_timeout;
                tokio::time::timeout_at(deadline.into(), Arc::clone(&slots).acquire_owned())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
        };
        free_since = Instant::now();
        let Some(permit) = permit else {
            run.recorder.not_started(iteration as usize, scenario);
            continue;
        };
        let (mix, shared, recorder) = (
            Arc::clone(&run.mix),
            Arc::clone(&run.shared),
            Arc::clone(&run.recorder),
        );
        tokio::spawn(async move {
            let sent = Instant::now();
            let outcome = mix.execute(scenario, &shared, iteration).await;
            let sample = Sample {
                scenario,
                scheduled: due,
                sent,
                done: Instant::now(),
                outcome,
            };
            recorder.record(iteration as usize, sample);
            drop(permit);
        });
    }
    let active = run.active();
    // Wait for the requests still in flight; each is bounded by its timeout.
    let drain = run.settings.request_timeout + Duration::from_secs(1);
    let _ = tokio::time::timeout(drain, slots.acquire_many(cap)).await;
    Executed {
        active,
        send_lag: Some(send_lag),
    }
}

/// Closed model: as many virtual users as the profile's peak; user `i` is
/// active while the target is above `i`.
pub(crate) async fn closed(run: &Run) -> Executed {
    let users = run.shape.max_target().ceil().max(1.0) as usize;
    let iterations = Arc::new(AtomicU64::new(0));
    let end = run.start + run.shape.duration();
    let handles: Vec<_> = (0..users)
        .map(|user| {
            let user_run = UserRun {
                user,
                mix: Arc::clone(&run.mix),
                shared: Arc::clone(&run.shared),
                recorder: Arc::clone(&run.recorder),
                stop: Arc::clone(&run.stop),
                start: run.start,
                end,
                shape: run.shape.clone(),
                think: run.settings.think_time,
                iterations: Arc::clone(&iterations),
            };
            tokio::spawn(user_run.run())
        })
        .collect();
    for handle in handles {
        let _ = handle.await;
    }
    Executed {
        active: run.active(),
        send_lag: None,
    }
}

/// One virtual user.
struct UserRun {
    user: usize,
    mix: Arc<Mix>,
    shared: Arc<Shared>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    start: Instant,
    end: Instant,
    shape: Shape,
    think: (Duration, Duration),
    iterations: Arc<AtomicU64>,
}

impl UserRun {
    async fn run(self) {
        let mut rng = SplitMix(0x9e37_79b9_7f4a_7c15 ^ self.user as u64);
        loop {
            let now = Instant::now();
            if now >= self.end || self.stop.load(Relaxed) {
                return;
            }
            let target = self.shape.target_at(now - self.start).round();
            if self.user as f64 >= target {
                tokio::time::sleep(IDLE_POLL.min(self.end - now)).await;
                continue;
            }
            let iteration = self.iterations.fetch_add(1, Relaxed);
            let scenario = self.mix.pick(iteration);
            let sent = Instant::now();
            let outcome = self.mix.execute(scenario, &self.shared, iteration).await;
            let sample = Sample {
                scenario,
                scheduled: sent,
                sent,
                done: Instant::now(),
                outcome,
            };
            self.recorder.record(self.user, sample);
            let (min, max) = self.think;
            if !max.is_zero() {
                let pause = min + (max - min).mul_f64(rng.unit());
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// A small deterministic generator for think times (splitmix64).
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
