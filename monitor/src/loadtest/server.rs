//! The server side of a run, when the target runs in this process with a
//! monitor: what its profiled functions and HTTP endpoints did during the
//! run, and what the process used meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;

/// How long to wait for the monitor to publish a snapshot taken after the
/// run, so the figures include its last requests.
const FRESH_WAIT: Duration = Duration::from_millis(1_500);

/// One profiled function during the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerFunction {
    /// Function name.
    pub name: String,
    /// Calls that finished during the run.
    pub calls: u64,
    /// Of which failed.
    pub errors: u64,
    /// Median wall time since the monitor started (the monitor keeps
    /// cumulative histograms), ms.
    pub p50_ms: f64,
    /// 99th percentile, same caveat, ms.
    pub p99_ms: f64,
}

/// One served HTTP route during the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerEndpoint {
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Requests that finished during the run.
    pub requests: u64,
    /// Of which failed (5xx or no answer).
    pub errors: u64,
    /// `errors / requests` during the run.
    pub error_rate: f64,
    /// 99th percentile since the monitor started (cumulative histogram), ms.
    pub p99_ms: f64,
}

/// What the process used, from the monitor's system readings (each `None`
/// where the platform does not tell).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ServerSystem {
    /// Process CPU during the run, % of one core (CPU time over the
    /// monitor's uptime between the two snapshots).
    pub cpu_pct_of_core: Option<f64>,
    /// Resident memory before the run, bytes.
    pub rss_bytes_before: Option<u64>,
    /// Resident memory after the run, bytes.
    pub rss_bytes_after: Option<u64>,
    /// Threads before the run.
    pub threads_before: Option<u64>,
    /// Threads after the run.
    pub threads_after: Option<u64>,
    /// Open file descriptors before the run.
    pub open_fds_before: Option<u64>,
    /// Open file descriptors after the run.
    pub open_fds_after: Option<u64>,
    /// The monitor thread's own CPU at the end of the run, % of one core.
    pub monitor_cpu_pct: Option<f64>,
}

/// What the in-process monitor saw.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerSide {
    /// Functions called during the run, busiest first.
    pub functions: Vec<ServerFunction>,
    /// Served routes with requests during the run, busiest first.
    #[serde(default)]
    pub endpoints: Vec<ServerEndpoint>,
    /// Process resources.
    #[serde(default)]
    pub system: ServerSystem,
    /// Monitor tick of the last snapshot used.
    pub tick: u64,
}

impl ServerSide {
    /// The report table's line for the process resources.
    pub(crate) fn system_line(&self) -> String {
        let s = &self.system;
        let pct = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.0}%"));
        let pair = |a: Option<u64>, b: Option<u64>, unit: fn(u64) -> String| match (a, b) {
            (Some(a), Some(b)) => format!("{} -> {}", unit(a), unit(b)),
            (None, Some(b)) => unit(b),
            _ => "n/a".into(),
        };
        format!(
            "  server process cpu {} rss {} threads {} fds {} monitor thread cpu {}",
            pct(s.cpu_pct_of_core),
            pair(s.rss_bytes_before, s.rss_bytes_after, |b| format!(
                "{:.1}MiB",
                b as f64 / (1024.0 * 1024.0)
            )),
            pair(s.threads_before, s.threads_after, |n| n.to_string()),
            pair(s.open_fds_before, s.open_fds_after, |n| n.to_string()),
            pct(s.monitor_cpu_pct)
        )
    }
}

/// The monitor's latest snapshot, if one runs in this process.
pub(crate) fn before() -> Option<Arc<Snapshot>> {
    crate::current_snapshot()
}

/// Compares the snapshot from before the run with one taken after it.
pub(crate) async fn after(before: Option<Arc<Snapshot>>, ended_unix_ms: u64) -> Option<ServerSide> {
    let before = before?;
    let waited = Instant::now();
    let mut after = crate::current_snapshot()?;
    while after.taken_at_unix_ms < ended_unix_ms && waited.elapsed() < FRESH_WAIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = crate::current_snapshot()?;
    }
    Some(diff(&before, &after))
}

fn diff(before: &Snapshot, after: &Snapshot) -> ServerSide {
    let mut functions: Vec<ServerFunction> = after
        .functions
        .iter()
        .filter_map(|f| {
            let old = before.functions.iter().find(|o| o.name == f.name);
            let calls = f.calls - old.map_or(0, |o| o.calls.min(f.calls));
            let errors = f.errors - old.map_or(0, |o| o.errors.min(f.errors));
            (calls > 0).then(|| ServerFunction {
                name: f.name.to_string(),
                calls,
                errors,
                p50_ms: f.p50_ns as f64 / 1e6,
                p99_ms: f.p99_ns as f64 / 1e6,
            })
        })
        .collect();
    functions.sort_by_key(|f| std::cmp::Reverse(f.calls));
    ServerSide {
        functions,
        endpoints: endpoints(before, after),
        system: system(before, after),
        tick: after.tick,
    }
}

fn endpoints(before: &Snapshot, after: &Snapshot) -> Vec<ServerEndpoint> {
    let mut out: Vec<ServerEndpoint> = after
        .endpoints
        .iter()
        .filter_map(|e| {
            let old = before
                .endpoints
                .iter()
                .find(|o| o.method == e.method && o.route == e.route);
            let requests = e.requests - old.map_or(0, |o| o.requests.min(e.requests));
            let errors = e.errors - old.map_or(0, |o| o.errors.min(e.errors));
            (requests > 0).then(|| ServerEndpoint {
                method: e.method.to_string(),
                route: e.route.clone(),
                requests,
                errors,
                error_rate: errors as f64 / requests as f64,
                p99_ms: e.p99_ns as f64 / 1e6,
            })
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(e.requests));
    out
}

fn system(before: &Snapshot, after: &Snapshot) -> ServerSystem {
    let (old, new) = (&before.system.process, &after.system.process);
    let wall = after.uptime_secs - before.uptime_secs;
    let cpu_pct_of_core = match (old.cpu_seconds_total, new.cpu_seconds_total) {
        (Some(a), Some(b)) if wall > 0.0 => Some((b - a).max(0.0) / wall * 100.0),
        // Same snapshot on both sides: the monitor's own last reading.
        _ => new.cpu_pct_of_core,
    };
    ServerSystem {
        cpu_pct_of_core,
        rss_bytes_before: old.rss_bytes,
        rss_bytes_after: new.rss_bytes,
        threads_before: old.threads,
        threads_after: new.threads,
        open_fds_before: old.open_fds,
        open_fds_after: new.open_fds,
        monitor_cpu_pct: after.system.monitor_cpu_pct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Direction, EndpointStats, StatusCounts};
    use crate::snapshot::DURATION_BOUNDS_SECONDS;

    fn endpoint(route: &str, requests: u64, errors: u64) -> EndpointStats {
        EndpointStats {
            direction: Direction::Server,
            method: "GET",
            host: None,
            route: route.into(),
            requests,
            status: StatusCounts::default(),
            errors,
            error_rate: 0.0,
            client_error_rate: 0.0,
            error_rate_1m: 0.0,
            rate_1s: 0.0,
            rate_1m: 0.0,
            in_flight: 0,
            cancelled: 0,
            bytes_in: 0,
            bytes_out: 0,
            total_ns: 0,
            mean_ns: 0,
            p50_ns: 0,
            p95_ns: 0,
            p99_ns: 4_000_000,
            max_ns: 0,
            duration_buckets: [0; DURATION_BOUNDS_SECONDS.len()],
        }
    }

    #[test]
    fn system_and_endpoints_are_figures_over_the_run() {
        let mut before = Snapshot {
            uptime_secs: 10.0,
            ..Snapshot::default()
        };
        before.system.process.cpu_seconds_total = Some(2.0);
        before.system.process.rss_bytes = Some(10 << 20);
        before.system.process.threads = Some(8);
        before.system.process.open_fds = Some(20);
        before.endpoints = vec![endpoint("/orders", 100, 1), endpoint("/idle", 5, 0)];
        let mut after = before.clone();
        after.uptime_secs = 14.0;
        after.system.process.cpu_seconds_total = Some(4.0);
        after.system.process.rss_bytes = Some(12 << 20);
        after.system.process.open_fds = Some(52);
        after.system.monitor_cpu_pct = Some(1.5);
        after.endpoints = vec![endpoint("/orders", 500, 5), endpoint("/idle", 5, 0)];

        let side = diff(&before, &after);
        let s = &side.system;
        // 2 CPU seconds over 4 s of uptime.
        assert_eq!(s.cpu_pct_of_core, Some(50.0));
        assert_eq!(
            (s.rss_bytes_before, s.rss_bytes_after),
            (Some(10 << 20), Some(12 << 20))
        );
        assert_eq!((s.threads_before, s.threads_after), (Some(8), Some(8)));
        assert_eq!((s.open_fds_before, s.open_fds_after), (Some(20), Some(52)));
        assert_eq!(s.monitor_cpu_pct, Some(1.5));
        // Only the route with requests during the run, as deltas.
        assert_eq!(side.endpoints.len(), 1);
        let e = &side.endpoints[0];
        assert_eq!(
            (e.route.as_str(), e.requests, e.errors),
            ("/orders", 400, 4)
        );
        assert!((e.error_rate - 0.01).abs() < 1e-12);
        assert_eq!(e.p99_ms, 4.0);
        let line = side.system_line();
        assert!(
            line.contains("cpu 50%") && line.contains("fds 20 -> 52"),
            "{line}"
        );
    }
}
