//! Merging the per-thread shards into [`FunctionStats`], on the monitor thread.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;

use super::callsite::{registry, Callsite, UNREGISTERED};
use super::histogram::{Histogram, SharedHistogram};
use super::shard::Shard;
use crate::snapshot::{FunctionStats, DURATION_BOUNDS_SECONDS};

/// Scalar figures of one function, summed over shards.
#[derive(Clone, Copy)]
struct Totals {
    started: u64,
    calls: u64,
    errors: u64,
    panics: u64,
    cancelled: u64,
    over_budget: u64,
    wall_ns: u64,
    self_ns: u64,
    busy_ns: u64,
    self_allocations: u64,
    self_alloc_bytes: u64,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Totals {
    fn default() -> Self {
        Self {
            started: 0,
            calls: 0,
            errors: 0,
            panics: 0,
            cancelled: 0,
            over_budget: 0,
            wall_ns: 0,
            self_ns: 0,
            busy_ns: 0,
            self_allocations: 0,
            self_alloc_bytes: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl Totals {
    fn add(&mut self, shard: &Shard) {
        self.calls += shard.calls.load(Relaxed);
        self.started += shard.started.load(Relaxed);
        self.errors += shard.errors.load(Relaxed);
        self.panics += shard.panics.load(Relaxed);
        self.cancelled += shard.cancelled.load(Relaxed);
        self.over_budget += shard.over_budget.load(Relaxed);
        self.wall_ns += shard.wall_ns.load(Relaxed);
        self.self_ns += shard.self_ns.load(Relaxed);
        self.busy_ns += shard.busy_ns.load(Relaxed);
        self.self_allocations += shard.self_allocations.load(Relaxed);
        self.self_alloc_bytes += shard.self_alloc_bytes.load(Relaxed);
        self.min_ns = self.min_ns.min(shard.min_ns.load(Relaxed));
        self.max_ns = self.max_ns.max(shard.max_ns.load(Relaxed));
    }
}

/// What the monitor keeps per function between ticks.
#[derive(Default)]
struct Function {
    /// Figures of threads that have exited (their durations are in the
    /// function's shared histogram).
    retired: Totals,
    last: Option<FunctionStats>,
}

/// Builds the function part of each snapshot. Owned by the monitor thread.
#[derive(Default)]
pub struct FunctionCollector {
    functions: Vec<Function>,
    scratch: Histogram,
    live_shards: usize,
}

impl FunctionCollector {
    /// A collector that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Per-thread shards that were alive at the last collection.
    pub fn live_shards(&self) -> usize {
        self.live_shards
    }

    /// Callsites refused because the registry was full.
    pub fn unregistered(&self) -> u64 {
        UNREGISTERED.load(Relaxed)
    }

    /// Merges every shard into one entry per called function.
    pub fn collect(&mut self) -> Vec<FunctionStats> {
        // Hold the registry lock only to copy the shard list, so a thread
        // calling a function for the first time never waits for a merge.
        let mut retired = Vec::new();
        let live: Vec<Live> = {
            let mut registry = registry();
            registry
                .iter_mut()
                .enumerate()
                .map(|(index, entry)| {
                    entry.shards.retain(|shard| {
                        let gone = shard.retired.load(Acquire);
                        if gone {
                            retired.push((index, Arc::clone(shard)));
                        }
                        !gone
                    });
                    Live {
                        callsite: entry.callsite,
                        shards: entry.shards.clone(),
                        shared: Arc::clone(&entry.shared),
                    }
                })
                .collect()
        };
        self.functions.resize_with(live.len(), Function::default);
        for (index, shard) in retired {
            self.functions[index].retired.add(&shard);
            shard.histogram.retire();
        }
        self.live_shards = live.iter().map(|l| l.shards.len()).sum();
        let scratch = &mut self.scratch;
        live.iter()
            .zip(&mut self.functions)
            .filter_map(|(live, function)| function.update(live, scratch))
            .collect()
    }
}

/// A callsite's live shards, copied out of the registry.
struct Live {
    callsite: &'static Callsite,
    shards: Vec<Arc<Shard>>,
    shared: Arc<SharedHistogram>,
}

impl Function {
    fn update(&mut self, live: &Live, scratch: &mut Histogram) -> Option<FunctionStats> {
        let mut totals = self.retired;
        for shard in &live.shards {
            totals.add(shard);
        }
        if totals.started == 0 && totals.calls == 0 {
            return None;
        }
        let mut stats = stats(live.callsite, &totals);
        match &self.last {
            // No call finished since last time: the distribution is the same.
            Some(last) if last.calls == totals.calls => {
                (stats.p50_ns, stats.p90_ns, stats.p95_ns, stats.p99_ns) =
                    (last.p50_ns, last.p90_ns, last.p95_ns, last.p99_ns);
                stats.duration_buckets = last.duration_buckets;
            }
            _ => {
                for shard in &live.shards {
                    shard.histogram.add_to(scratch);
                }
                live.shared.add_to(scratch);
                let [p50, p90, p95, p99] = scratch.quantiles([0.50, 0.90, 0.95, 0.99]);
                // Percentiles are bucket midpoints: keep them inside the exact range.
                let exact = |q: u64| q.max(stats.min_ns).min(stats.max_ns);
                (stats.p50_ns, stats.p90_ns, stats.p95_ns, stats.p99_ns) =
                    (exact(p50), exact(p90), exact(p95), exact(p99));
                stats.duration_buckets =
                    scratch.counts_at_most(DURATION_BOUNDS_SECONDS.map(|s| (s * 1e9) as u64));
                scratch.clear();
            }
        }
        self.last = Some(stats.clone());
        Some(stats)
    }
}

/// Everything but the distribution.
fn stats(callsite: &'static Callsite, t: &Totals) -> FunctionStats {
    // A shard read mid-call may show the call counted but min not yet set.
    let (min_ns, max_ns) = if t.calls == 0 || t.min_ns > t.max_ns {
        (0, t.max_ns)
    } else {
        (t.min_ns, t.max_ns)
    };
    FunctionStats {
        name: callsite.name(),
        module: callsite.module(),
        is_async: callsite.is_async(),
        calls: t.calls,
        errors: t.errors,
        panics: t.panics,
        cancelled: t.cancelled,
        // Shards are read one after another, so a call may have finished in
        // a shard read after the one where it started: never go below zero.
        in_flight: t.started.saturating_sub(t.calls + t.cancelled),
        over_budget: t.over_budget,
        budget_ns: (callsite.budget_ns() != 0).then_some(callsite.budget_ns()),
        total_ns: t.wall_ns,
        self_ns: t.self_ns,
        busy_ns: t.busy_ns,
        self_allocations: t.self_allocations,
        self_alloc_bytes: t.self_alloc_bytes,
        min_ns,
        max_ns,
        mean_ns: t.wall_ns.checked_div(t.calls).unwrap_or(0),
        p50_ns: 0,
        p90_ns: 0,
        p95_ns: 0,
        p99_ns: 0,
        duration_buckets: [0; DURATION_BOUNDS_SECONDS.len()],
    }
}
