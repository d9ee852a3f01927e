//! Per-thread shards: where the hot path writes.
//!
//! Each thread owns one [`Shard`] per callsite it has called. Only the owning
//! thread writes a shard, with plain loads and stores on relaxed atomics (no
//! read-modify-write, no shared cache line); the monitor thread reads them once a
//! tick. A thread finds its shard by callsite index in a two-level table of
//! lazily filled pages, so the lookup is two indexed loads, never a hash.

use std::cell::{Cell, OnceCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::Release};
use std::sync::Arc;

use super::callsite::{attach_shard, Callsite};
use super::histogram::{ShardHistogram, SharedHistogram};

/// Adds `n` to a counter that only the calling thread writes.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// One thread's figures for one callsite.
pub(crate) struct Shard {
    pub(crate) started: AtomicU64,
    pub(crate) calls: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) panics: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) over_budget: AtomicU64,
    pub(crate) wall_ns: AtomicU64,
    pub(crate) self_ns: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    pub(crate) self_allocations: AtomicU64,
    pub(crate) self_alloc_bytes: AtomicU64,
    pub(crate) min_ns: AtomicU64,
    pub(crate) max_ns: AtomicU64,
    pub(crate) histogram: ShardHistogram,
    /// Set when the owning thread has exited: the shard will not change again.
    pub(crate) retired: AtomicBool,
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Error,
    Panic,
    Cancelled,
}

impl Shard {
    pub(crate) fn new(shared: Arc<SharedHistogram>) -> Self {
        Self {
            started: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            over_budget: AtomicU64::new(0),
            wall_ns: AtomicU64::new(0),
            self_ns: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            self_allocations: AtomicU64::new(0),
            self_alloc_bytes: AtomicU64::new(0),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
            histogram: ShardHistogram::new(shared),
            retired: AtomicBool::new(false),
        }
    }

    #[inline]
    pub(crate) fn start(&self) {
        bump(&self.started, 1);
    }

    #[inline]
    pub(crate) fn add_self(&self, ns: u64) {
        bump(&self.self_ns, ns);
    }

    #[inline]
    pub(crate) fn add_busy(&self, ns: u64) {
        bump(&self.busy_ns, ns);
    }

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    #[inline]
    pub(crate) fn add_self_alloc(&self, allocations: u64, bytes: u64) {
        bump(&self.self_allocations, allocations);
        bump(&self.self_alloc_bytes, bytes);
    }

    /// Records a finished call that took `wall_ns` from start to end.
    #[inline]
    pub(crate) fn finish(&self, wall_ns: u64, budget_ns: u64, outcome: Outcome) {
        if outcome == Outcome::Cancelled {
            // A dropped future did not finish: it has no duration to record.
            bump(&self.cancelled, 1);
            return;
        }
        let calls = self.calls.load(Relaxed);
        self.calls.store(calls + 1, Relaxed);
        bump(&self.wall_ns, wall_ns);
        self.histogram.record(wall_ns, calls);
        if wall_ns < self.min_ns.load(Relaxed) {
            self.min_ns.store(wall_ns, Relaxed);
        }
        if wall_ns > self.max_ns.load(Relaxed) {
            self.max_ns.store(wall_ns, Relaxed);
        }
        if budget_ns != 0 && wall_ns > budget_ns {
            bump(&self.over_budget, 1);
        }
        match outcome {
            Outcome::Ok | Outcome::Cancelled => {}
            Outcome::Error => bump(&self.errors, 1),
            Outcome::Panic => {
                bump(&self.errors, 1);
                bump(&self.panics, 1);
            }
        }
    }
}

const PAGE: usize = 256;
type Page = [OnceCell<Arc<Shard>>; PAGE];

/// Everything a thread keeps for profiling.
pub(crate) struct ThreadState {
    pages: [OnceCell<Box<Page>>; PAGE],
    /// Time spent in profiled calls nested in the one running now: the running
    /// call subtracts it from its own time to get self time.
    pub(crate) child_ns: Cell<u64>,
    /// Allocations (count, bytes) of profiled calls nested in the running
    /// one, the same way.
    #[cfg(feature = "alloc")]
    pub(crate) child_alloc: Cell<(u64, u64)>,
}

impl ThreadState {
    fn new() -> Self {
        Self {
            pages: [const { OnceCell::new() }; PAGE],
            child_ns: Cell::new(0),
            #[cfg(feature = "alloc")]
            child_alloc: Cell::new((0, 0)),
        }
    }

    /// This thread's shard for `callsite`, created on the thread's first call.
    #[inline]
    pub(crate) fn shard(&self, callsite: &'static Callsite) -> Option<&Shard> {
        let index = callsite.index()?;
        let page = self.pages.get(index / PAGE)?;
        let slot = match page.get() {
            Some(page) => &page[index % PAGE],
            None => &page.get_or_init(|| Box::new([const { OnceCell::new() }; PAGE]))[index % PAGE],
        };
        match slot.get() {
            Some(shard) => Some(shard),
            None => Self::first_call(slot, index),
        }
    }

    #[cold]
    #[inline(never)]
    fn first_call(slot: &OnceCell<Arc<Shard>>, index: usize) -> Option<&Shard> {
        let shard = attach_shard(index)?;
        Some(slot.get_or_init(|| shard))
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        for page in self.pages.iter().filter_map(OnceCell::get) {
            for shard in page.iter().filter_map(OnceCell::get) {
                shard.retired.store(true, Release);
            }
        }
    }
}

thread_local! {
    static STATE: ThreadState = ThreadState::new();
}

/// Runs `f` with this thread's state; does nothing while the thread is being
/// torn down (a profiled call from another thread-local's destructor).
#[inline]
pub(crate) fn with_thread<R>(f: impl FnOnce(&ThreadState) -> R) -> Option<R> {
    STATE.try_with(f).ok()
}
