//! Merging the per-thread shards into [`FunctionStats`], on the monitor thread.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;

use super::callsite::{registry, Callsite, UNREGISTERED};
use super::histogram::Histogram;
use super::shard::Shard;
use crate::snapshot::FunctionStats;

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
        self.min_ns = self.min_ns.min(shard.min_ns.load(Relaxed));
        self.max_ns = self.max_ns.max(shard.max_ns.load(Relaxed));
    }
}

/// Figures of threads that have exited, and the last result per function.
#[derive(Default)]
struct Function {
    retired: Totals,
    retired_histogram: Histogram,
    last: Option<FunctionStats>,
}

/// Builds the function part of each snapshot. Owned by the monitor thread.
#[derive(Default)]
pub struct FunctionCollector {
    functions: Vec<Function>,
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
        let live: Vec<(&'static Callsite, Vec<Arc<Shard>>)> = {
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
                    (entry.callsite, entry.shards.clone())
                })
                .collect()
        };
        self.functions.resize_with(live.len(), Function::default);
        for (index, shard) in retired {
            let function = &mut self.functions[index];
            function.retired.add(&shard);
            shard.histogram.add_to(&mut function.retired_histogram);
        }
        self.live_shards = live.iter().map(|(_, shards)| shards.len()).sum();
        live.iter()
            .zip(&mut self.functions)
            .filter_map(|((callsite, shards), function)| function.update(callsite, shards))
            .collect()
    }
}

impl Function {
    fn update(&mut self, callsite: &'static Callsite, shards: &[Arc<Shard>]) -> Option<FunctionStats> {
        let mut totals = self.retired;
        for shard in shards {
            totals.add(shard);
        }
        if totals.started == 0 && totals.calls == 0 {
            return None;
        }
        // Re-merge the histogram only when calls finished since last time.
        let histogram = match &self.last {
            Some(last) if last.calls == totals.calls => Arc::clone(&last.histogram),
            _ => {
                let mut merged = self.retired_histogram.clone();
                for shard in shards {
                    shard.histogram.add_to(&mut merged);
                }
                Arc::new(merged)
            }
        };
        let stats = stats(callsite, &totals, histogram);
        self.last = Some(stats.clone());
        Some(stats)
    }
}

fn stats(callsite: &'static Callsite, t: &Totals, histogram: Arc<Histogram>) -> FunctionStats {
    // A shard read mid-call may show the call counted but min not yet set.
    let (min_ns, max_ns) = if t.calls == 0 || t.min_ns > t.max_ns { (0, t.max_ns) } else { (t.min_ns, t.max_ns) };
    let quantile = |q| histogram.quantile(q).max(min_ns).min(max_ns);
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
        min_ns,
        max_ns,
        mean_ns: t.wall_ns.checked_div(t.calls).unwrap_or(0),
        p50_ns: quantile(0.50),
        p90_ns: quantile(0.90),
        p95_ns: quantile(0.95),
        p99_ns: quantile(0.99),
        histogram,
    }
}
