//! The generator's own health: how late it sends (open model), how late its
//! runtime wakes a timer, and how much CPU the process uses. A generator
//! that cannot keep up measures itself, not the target, so its run is
//! inconclusive.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::stats::{micros, new_histogram};

/// Send lag p99 above this means the generator fell behind its schedule.
const MAX_SEND_LAG_P99_MS: f64 = 20.0;
/// Timer wake-up lag p99 above this means the runtime is starved.
const MAX_WAKE_LAG_P99_MS: f64 = 20.0;
/// Process CPU above this share of all cores leaves no room to measure.
const MAX_CPU_SHARE: f64 = 0.95;
/// How often the wake-lag probe sleeps.
const PROBE_PERIOD: Duration = Duration::from_millis(10);

/// What the generator measured about itself.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct GeneratorHealth {
    /// Open model: median delay from a request's scheduled time to its send,
    /// when not waiting for the in-flight cap, in ms.
    pub send_lag_p50_ms: f64,
    /// Open model: 99th percentile of that delay, in ms.
    pub send_lag_p99_ms: f64,
    /// How late a 10 ms timer fired on the test's runtime, 99th percentile, ms.
    pub wake_lag_p99_ms: f64,
    /// Process CPU time over wall time and cores (0-1), when known (Linux).
    pub cpu_share: Option<f64>,
    /// Why the generator counts as overloaded; empty when healthy.
    pub overloaded: Vec<String>,
}

impl GeneratorHealth {
    /// Whether the figures can be trusted.
    pub fn is_healthy(&self) -> bool {
        self.overloaded.is_empty()
    }
}

/// Watches the generator during a run.
pub(crate) struct HealthProbe {
    wake_lag: Arc<Mutex<Histogram<u64>>>,
    task: tokio::task::JoinHandle<()>,
    cpu_start: Option<Duration>,
    wall_start: Instant,
}

impl HealthProbe {
    pub fn start() -> Self {
        let wake_lag = Arc::new(Mutex::new(new_histogram()));
        let lag = Arc::clone(&wake_lag);
        let task = tokio::spawn(async move {
            loop {
                let due = Instant::now() + PROBE_PERIOD;
                tokio::time::sleep_until(due.into()).await;
                let late = micros(Instant::now().saturating_duration_since(due));
                lag.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .saturating_record(late);
            }
        });
        Self {
            wake_lag,
            task,
            cpu_start: process_cpu(),
            wall_start: Instant::now(),
        }
    }

    /// Stops the probe and judges the run; `send_lag` is the open model's.
    pub fn finish(self, send_lag: Option<&Histogram<u64>>) -> GeneratorHealth {
        self.task.abort();
        let wall = self.wall_start.elapsed().as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let cpu_share = match (self.cpu_start, process_cpu()) {
            (Some(a), Some(b)) if wall > 0.0 => {
                Some((b.saturating_sub(a).as_secs_f64() / wall / cores).min(1.0))
            }
            _ => None,
        };
        let ms = |h: &Histogram<u64>, q: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(q) as f64 / 1e3
            }
        };
        let wake = self.wake_lag.lock().unwrap_or_else(PoisonError::into_inner);
        let mut health = GeneratorHealth {
            send_lag_p50_ms: send_lag.map_or(0.0, |h| ms(h, 0.5)),
            send_lag_p99_ms: send_lag.map_or(0.0, |h| ms(h, 0.99)),
            wake_lag_p99_ms: ms(&wake, 0.99),
            cpu_share,
            overloaded: Vec::new(),
        };
        if health.send_lag_p99_ms > MAX_SEND_LAG_P99_MS {
            health.overloaded.push(format!(
                "send lag p99 {:.1} ms > {MAX_SEND_LAG_P99_MS} ms: the generator fell behind its schedule",
                health.send_lag_p99_ms
            ));
        }
        if health.wake_lag_p99_ms > MAX_WAKE_LAG_P99_MS {
            health.overloaded.push(format!(
                "timer wake-up lag p99 {:.1} ms > {MAX_WAKE_LAG_P99_MS} ms: the test's runtime is starved",
                health.wake_lag_p99_ms
            ));
        }
        if let Some(cpu) = cpu_share.filter(|c| *c > MAX_CPU_SHARE) {
            health.overloaded.push(format!(
                "process CPU {:.0}% of all cores > {:.0}%",
                cpu * 100.0,
                MAX_CPU_SHARE * 100.0
            ));
        }
        health
    }
}

/// CPU time (user + system) of this process so far (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux platform Rust supports.
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_cpu_grows_with_work() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let before = process_cpu().expect("/proc/self/stat readable");
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = process_cpu().unwrap();
        assert!(
            after >= before + Duration::from_millis(30),
            "{before:?} {after:?}"
        );
    }

    #[test]
    fn a_late_schedule_is_overloaded() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let health = rt.block_on(async {
            let probe = HealthProbe::start();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut lag = new_histogram();
            for _ in 0..100 {
                lag.saturating_record(50_000);
            }
            probe.finish(Some(&lag))
        });
        assert!(!health.is_healthy());
        assert!(
            health.overloaded[0].contains("send lag"),
            "{:?}",
            health.overloaded
        );
    }
}
