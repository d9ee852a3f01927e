//! The immutable [`Snapshot`] built once a tick: every consumer (`/metrics`,
//! the JSON API, later alerts and the analyser) reads this and nothing else.

use serde::Serialize;

pub use crate::health::HealthSnapshot;
pub use crate::http::EndpointStats;
pub use crate::system::SystemStats;

/// Upper bounds, in seconds, of the wall-time buckets of every function: the
/// autometrics defaults, so its dashboards and SLO queries apply unchanged.
pub const DURATION_BOUNDS_SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Everything the monitor knew at one tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Snapshot {
    /// Tick number, counting from 1; 0 is the empty snapshot before the first tick.
    pub tick: u64,
    /// Wall-clock time of the tick, milliseconds since the Unix epoch.
    pub taken_at_unix_ms: u64,
    /// Seconds since the monitor started.
    pub uptime_secs: f64,
    /// One entry per profiled function that has been called.
    pub functions: Vec<FunctionStats>,
    /// Metrics recorded through the `metrics` facade.
    pub metrics: Vec<MetricFamily>,
    /// The monitor's own figures.
    pub monitor: MonitorStats,
    /// The trace store's figures.
    pub traces: TraceStats,
    /// Heap figures from `monitor::alloc::Counting`, when it is the
    /// global allocator (feature `alloc`); `None` otherwise.
    pub alloc: Option<AllocStats>,
    /// System and process figures (see [`crate::system`]).
    pub system: SystemStats,
    /// One entry per (method, route template) served; see [`crate::http`].
    pub endpoints: Vec<EndpointStats>,
    /// One entry per (method, host, route template) called.
    pub dependencies: Vec<EndpointStats>,
    /// Component health as of the tick; see [`crate::health`].
    pub health: HealthSnapshot,
    /// The history rings and the SQLite store.
    pub history: crate::history::HistoryStats,
    /// Leaks, forecasts and level changes (as of the previous tick).
    pub trends: crate::trend::TrendReport,
}

/// What the counting allocator saw, process-wide.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct AllocStats {
    /// Allocations (a reallocation counts as one) since start.
    pub allocations: u64,
    /// Frees (a reallocation counts as one) since start.
    pub frees: u64,
    /// Bytes allocated since start.
    pub allocated_bytes: u64,
    /// Bytes freed since start.
    pub freed_bytes: u64,
    /// Bytes allocated and not yet freed: the live heap.
    pub live_bytes: u64,
    /// Allocations not yet freed.
    pub live_allocations: u64,
    /// Allocations per second since the previous tick (`None` on the first).
    pub allocations_per_sec: Option<f64>,
    /// Bytes allocated per second since the previous tick (`None` on the first).
    pub bytes_per_sec: Option<f64>,
    /// Threads counting into a slot of their own now.
    pub threads: usize,
}

/// How many spans the trace store holds and has lost.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct TraceStats {
    /// Spans stored now.
    pub spans: usize,
    /// Spans evicted (oldest first) to stay within capacity.
    pub evicted: u64,
    /// Spans refused because their trace reached the per-trace cap.
    pub over_trace_cap: u64,
    /// Spans dropped before the store because the hand-over queue was full.
    pub dropped: u64,
    /// Spans of unsampled traces dropped (neither failed nor slow).
    pub sampled_out: u64,
    /// Unsampled traces kept because they failed or were slow.
    pub kept_by_tail: u64,
}

/// Cumulative figures of one `#[profile]`d or `#[traced]` function.
#[derive(Clone, Debug, Serialize)]
pub struct FunctionStats {
    /// Function name (by default `module::path::fn_name`).
    pub name: &'static str,
    /// Module path of the function.
    pub module: &'static str,
    /// Whether it is an `async fn` (then `busy_ns` is meaningful).
    pub is_async: bool,
    /// Calls that finished (returned, or unwound).
    pub calls: u64,
    /// Calls that returned `Err` or panicked.
    pub errors: u64,
    /// Calls that panicked (also counted in `errors`).
    pub panics: u64,
    /// Futures dropped before they finished (not in `calls`).
    pub cancelled: u64,
    /// Calls running now.
    pub in_flight: u64,
    /// Calls slower than the budget.
    pub over_budget: u64,
    /// The budget, when one was set.
    pub budget_ns: Option<u64>,
    /// Sum of wall times.
    pub total_ns: u64,
    /// Sum of self times: wall (or busy) time minus nested profiled calls.
    pub self_ns: u64,
    /// For `async fn`: time spent inside `poll`, excluding time suspended.
    pub busy_ns: u64,
    /// Allocations made by the function's own body (nested profiled calls
    /// excluded), summed over calls; 0 unless `alloc::Counting`
    /// is the global allocator.
    pub self_allocations: u64,
    /// Bytes allocated by the function's own body, like `self_allocations`.
    pub self_alloc_bytes: u64,
    /// Fastest call, exact (0 when no call finished).
    pub min_ns: u64,
    /// Slowest call, exact.
    pub max_ns: u64,
    /// Mean wall time.
    pub mean_ns: u64,
    /// Median wall time (within 1%).
    pub p50_ns: u64,
    /// 90th percentile wall time (within 1%).
    pub p90_ns: u64,
    /// 95th percentile wall time (within 1%).
    pub p95_ns: u64,
    /// 99th percentile wall time (within 1%).
    pub p99_ns: u64,
    /// Calls at most as long as each of [`DURATION_BOUNDS_SECONDS`],
    /// cumulative (a bucket straddling a bound counts above it: < 1.6% off).
    pub duration_buckets: [u64; DURATION_BOUNDS_SECONDS.len()],
}

/// One metric name from the `metrics` facade with all its label sets.
#[derive(Clone, Debug, Serialize)]
pub struct MetricFamily {
    /// Metric name as recorded.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// Description given with `describe_*!`, if any.
    pub help: Option<String>,
    /// Unit given with `describe_*!`, if any (e.g. `seconds`, `bytes`).
    pub unit: Option<String>,
    /// Label sets beyond the cardinality cap, folded into the overflow series.
    pub overflowed: u64,
    /// One entry per label set.
    pub series: Vec<MetricSeries>,
}

/// The kind of a facade metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Monotonic count.
    Counter,
    /// Value that goes up and down.
    Gauge,
    /// Distribution of observed values.
    Histogram,
}

/// One label set of a facade metric and its value.
#[derive(Clone, Debug, Serialize)]
pub struct MetricSeries {
    /// Label pairs, in the order they were recorded.
    pub labels: Vec<(String, String)>,
    /// The current value.
    pub value: MetricValue,
}

/// The value of one series.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricValue {
    /// Counter total.
    Counter(u64),
    /// Gauge value.
    Gauge(f64),
    /// Histogram summary.
    Histogram(HistogramSummary),
}

/// A facade histogram's figures.
#[derive(Clone, Debug, Serialize)]
pub struct HistogramSummary {
    /// Observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Smallest observation.
    pub min: f64,
    /// Largest observation.
    pub max: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Cumulative counts `(upper bound, observations <= bound)` for the
    /// Prometheus exposition, ascending, without `+Inf`.
    pub buckets: Vec<(f64, u64)>,
}

/// The monitor's own figures for the tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MonitorStats {
    /// How long building this snapshot took.
    pub collect_us: u64,
    /// Profiled functions known.
    pub callsites: usize,
    /// Per-thread shards alive (one per thread and function it called).
    pub live_shards: usize,
    /// Callsites that could not be registered (over the limit).
    pub unregistered_callsites: u64,
}
