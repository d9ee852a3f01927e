//! The server side of a run, when the target runs in this process with a
//! monitor: what its profiled functions did during the run.

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

/// What the in-process monitor saw.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerSide {
    /// Functions called during the run, busiest first.
    pub functions: Vec<ServerFunction>,
    /// Monitor tick of the last snapshot used.
    pub tick: u64,
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
        tick: after.tick,
    }
}
