//! The merge on the monitor thread: cumulative counters of every series
//! into [`EndpointStats`], with request rates over 1 s and 1 min windows
//! computed from the counts of earlier ticks.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::endpoint::{Direction, Endpoint, CLASSES, FAILED};
use super::table::{self, Table};
use crate::profile::Histogram;
use crate::snapshot::DURATION_BOUNDS_SECONDS;

/// Requests of one series by status class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// 1xx responses.
    pub informational: u64,
    /// 2xx responses.
    pub success: u64,
    /// 3xx responses.
    pub redirection: u64,
    /// 4xx responses (the client's fault; not errors).
    pub client_error: u64,
    /// 5xx responses.
    pub server_error: u64,
    /// Requests that got no valid status (connection error, service error).
    pub failed: u64,
}

/// Figures of one endpoint served, or one dependency called, since start.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointStats {
    /// Served by this service, or called by it.
    pub direction: Direction,
    /// HTTP method (`OTHER` for methods outside the standard ones).
    pub method: &'static str,
    /// The dependency's `host:port` (outgoing calls only).
    pub host: Option<String>,
    /// Route template, `<unmatched>`, or `<overflow>` beyond the cap.
    pub route: String,
    /// Requests that finished.
    pub requests: u64,
    /// Finished requests by status class.
    pub status: StatusCounts,
    /// 5xx and failed requests.
    pub errors: u64,
    /// `errors / requests` since start (0 without requests).
    pub error_rate: f64,
    /// `4xx / requests` since start, counted apart from errors.
    pub client_error_rate: f64,
    /// `errors / requests` over the last minute (0 without requests).
    pub error_rate_1m: f64,
    /// Requests per second over the last second (the last tick when ticks
    /// are longer).
    pub rate_1s: f64,
    /// Requests per second over the last minute (since start when younger).
    pub rate_1m: f64,
    /// Requests running now.
    pub in_flight: u64,
    /// Requests abandoned before they finished (not in `requests`).
    pub cancelled: u64,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Sum of durations.
    pub total_ns: u64,
    /// Mean duration.
    pub mean_ns: u64,
    /// Median duration (within 1%).
    pub p50_ns: u64,
    /// 95th percentile duration (within 1%).
    pub p95_ns: u64,
    /// 99th percentile duration (within 1%).
    pub p99_ns: u64,
    /// Slowest request, exact.
    pub max_ns: u64,
    /// Requests at most as long as each of [`DURATION_BOUNDS_SECONDS`], cumulative.
    pub duration_buckets: [u64; DURATION_BOUNDS_SECONDS.len()],
}

/// Counts of one series at one tick.
#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    requests: u64,
    errors: u64,
}

/// The longest window kept.
const LONG_WINDOW: Duration = Duration::from_secs(60);
/// Samples kept per series at most, whatever the tick.
const MAX_SAMPLES: usize = 128;

/// Earlier ticks' counts of one series.
#[derive(Default)]
struct Window {
    samples: VecDeque<Sample>,
}

impl Window {
    /// A window whose series had no requests at `at`.
    fn starting_at(at: Instant) -> Self {
        let mut samples = VecDeque::new();
        samples.push_back(Sample {
            at,
            requests: 0,
            errors: 0,
        });
        Self { samples }
    }

    /// Adds `now` and drops samples no window needs any more.
    fn push(&mut self, now: Sample) {
        // Keep one sample older than the long window, so it spans a minute.
        while self.samples.len() >= 2 && now.at.duration_since(self.samples[1].at) >= LONG_WINDOW {
            self.samples.pop_front();
        }
        if self.samples.len() >= MAX_SAMPLES {
            // Ticks faster than the cap covers: drop the sample whose
            // neighbours are closest, so the rest stay evenly spread.
            let closest = (1..self.samples.len() - 1).min_by_key(|&i| {
                self.samples[i + 1]
                    .at
                    .duration_since(self.samples[i - 1].at)
            });
            if let Some(i) = closest {
                self.samples.remove(i);
            }
        }
        self.samples.push_back(now);
    }

    /// The newest earlier sample about `window` older than the last one
    /// (at least 90% of it, so tick jitter does not double the span), else
    /// the oldest one; `None` with fewer than two samples.
    fn base(&self, window: Duration) -> Option<Sample> {
        let window = window.mul_f64(0.9);
        let last = self.samples.back()?;
        let earlier = self.samples.len().checked_sub(1).filter(|n| *n > 0)?;
        self.samples
            .iter()
            .take(earlier)
            .rev()
            .find(|s| last.at.duration_since(s.at) >= window)
            .or(self.samples.front())
            .copied()
    }

    /// Requests per second and error share since `window` ago.
    fn rates(&self, window: Duration) -> (f64, f64) {
        let (Some(base), Some(last)) = (self.base(window), self.samples.back()) else {
            return (0.0, 0.0);
        };
        let seconds = last.at.duration_since(base.at).as_secs_f64();
        let requests = last.requests.saturating_sub(base.requests);
        let errors = last.errors.saturating_sub(base.errors);
        let rate = if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        };
        (rate, share(errors, requests))
    }
}

/// `part / whole`, 0 when `whole` is 0.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Turns one table's counters into stats each tick; owned by the monitor
/// thread.
pub(crate) struct EndpointCollector {
    table: &'static Table,
    /// Per series, in the table's creation order.
    windows: Vec<Window>,
    /// Reused for every series' merge.
    histogram: Histogram,
    /// When the previous collection ran (or the collector was made): a
    /// series new since then had no requests at that time.
    previous: Instant,
}

impl EndpointCollector {
    /// The collector of requests served.
    pub(crate) fn server() -> Self {
        Self::new(table::server())
    }

    /// The collector of calls made.
    pub(crate) fn client() -> Self {
        Self::new(table::client())
    }

    pub(crate) fn new(table: &'static Table) -> Self {
        Self {
            table,
            windows: Vec::new(),
            histogram: Histogram::new(),
            previous: Instant::now(),
        }
    }

    /// The stats of every series now.
    pub(crate) fn collect(&mut self) -> Vec<EndpointStats> {
        let now = Instant::now();
        let list = self.table.list();
        let previous = std::mem::replace(&mut self.previous, now);
        // A new series starts from zero at the previous collection, so its
        // first requests count towards the rates at once.
        self.windows
            .resize_with(list.len(), || Window::starting_at(previous));
        list.iter()
            .zip(&mut self.windows)
            .map(|(endpoint, window)| stats(endpoint, window, &mut self.histogram, now))
            .collect()
    }
}

fn stats(
    endpoint: &Endpoint,
    window: &mut Window,
    histogram: &mut Histogram,
    now: Instant,
) -> EndpointStats {
    let classes: [u64; CLASSES] = std::array::from_fn(|i| endpoint.classes[i].load(Relaxed));
    let requests = classes.iter().sum();
    let status = StatusCounts {
        informational: classes[0],
        success: classes[1],
        redirection: classes[2],
        client_error: classes[3],
        server_error: classes[4],
        failed: classes[FAILED],
    };
    let errors = status.server_error + status.failed;
    window.push(Sample {
        at: now,
        requests,
        errors,
    });
    let (rate_1s, _) = window.rates(Duration::from_secs(1));
    let (rate_1m, error_rate_1m) = window.rates(LONG_WINDOW);
    histogram.clear();
    endpoint.histogram.add_to(histogram);
    let [p50_ns, p95_ns, p99_ns] = histogram.quantiles([0.5, 0.95, 0.99]);
    let duration_buckets =
        DURATION_BOUNDS_SECONDS.map(|s| histogram.count_at_most((s * 1e9) as u64));
    let total_ns = endpoint.total_ns.load(Relaxed);
    EndpointStats {
        direction: endpoint.direction,
        method: endpoint.method,
        host: endpoint.host.as_deref().map(String::from),
        route: String::from(&*endpoint.route),
        requests,
        status,
        errors,
        error_rate: share(errors, requests),
        client_error_rate: share(status.client_error, requests),
        error_rate_1m,
        rate_1s,
        rate_1m,
        in_flight: endpoint.in_flight(),
        cancelled: endpoint.cancelled.load(Relaxed),
        bytes_in: endpoint.bytes_in.load(Relaxed),
        bytes_out: endpoint.bytes_out.load(Relaxed),
        total_ns,
        mean_ns: total_ns.checked_div(requests).unwrap_or(0),
        p50_ns,
        p95_ns,
        p99_ns,
        max_ns: endpoint.max_ns.load(Relaxed),
        duration_buckets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Instant, requests: u64, errors: u64) -> Sample {
        Sample {
            at,
            requests,
            errors,
        }
    }

    #[test]
    fn rates_use_the_sample_one_window_back() {
        let start = Instant::now();
        let mut w = Window::default();
        // 10 requests a second for 70 s, one error in ten over the last 30 s.
        for s in 0..=70u64 {
            let errors = s.saturating_sub(40);
            w.push(sample(start + Duration::from_secs(s), s * 10, errors));
        }
        let (rate_1s, _) = w.rates(Duration::from_secs(1));
        let (rate_1m, errors_1m) = w.rates(LONG_WINDOW);
        assert!((rate_1s - 10.0).abs() < 1e-9, "{rate_1s}");
        assert!((rate_1m - 10.0).abs() < 1e-9, "{rate_1m}");
        // The minute window starts at the newest sample at least 54 s old.
        assert!((errors_1m - 30.0 / 540.0).abs() < 1e-9, "{errors_1m}");
        assert!(w.samples.len() <= 62, "{}", w.samples.len());
    }

    #[test]
    fn fast_ticks_stay_bounded() {
        let start = Instant::now();
        let mut w = Window::default();
        for i in 0..10_000u64 {
            w.push(sample(start + Duration::from_millis(i), i, 0));
        }
        assert!(w.samples.len() <= MAX_SAMPLES);
        let (rate, _) = w.rates(Duration::from_secs(1));
        assert!((rate - 1_000.0).abs() < 1.0, "{rate}");
    }

    #[test]
    fn one_sample_has_no_rate() {
        let mut w = Window::default();
        w.push(sample(Instant::now(), 5, 0));
        assert_eq!(w.rates(LONG_WINDOW), (0.0, 0.0));
    }
}
