//! Allocations made by a profiled call's own body (feature `alloc`): like
//! self time, the call's allocations minus those of nested profiled calls.
//! The monitor's own bookkeeping (a thread's first shard, a histogram chunk)
//! is handed to the enclosing call as if it were a nested call, so it counts
//! against no function.

use super::shard::{Shard, ThreadState};

/// A reading of the calling thread's counters, taken before the monitor's
/// own work around a call.
#[derive(Clone, Copy, Default)]
pub(crate) struct Reading {
    #[cfg(feature = "alloc")]
    counters: Option<(u64, u64)>,
}

/// The counters at a call's start.
#[derive(Clone, Copy, Default)]
pub(crate) struct AllocMark {
    /// Whether the call counts allocations (the counting allocator runs).
    #[cfg(feature = "alloc")]
    armed: bool,
    #[cfg(feature = "alloc")]
    start: Option<(u64, u64)>,
    #[cfg(feature = "alloc")]
    parent_child: (u64, u64),
}

#[cfg(feature = "alloc")]
fn since(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> (u64, u64) {
    match (before, after) {
        (Some(b), Some(a)) => (a.0.wrapping_sub(b.0), a.1.wrapping_sub(b.1)),
        _ => (0, 0),
    }
}

#[cfg(feature = "alloc")]
fn plus(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    (a.0.wrapping_add(b.0), a.1.wrapping_add(b.1))
}

#[cfg(feature = "alloc")]
impl Reading {
    #[inline]
    pub(crate) fn now() -> Self {
        Self {
            counters: crate::alloc::active()
                .then(crate::alloc::thread_allocated)
                .flatten(),
        }
    }

    /// Hands what was allocated since this reading to the enclosing call.
    #[inline]
    pub(crate) fn settle(self, thread: &ThreadState) {
        if self.counters.is_none() {
            return;
        }
        let own = since(self.counters, crate::alloc::thread_allocated());
        thread.child_alloc.set(plus(thread.child_alloc.get(), own));
    }
}

#[cfg(feature = "alloc")]
impl AllocMark {
    /// Marks a call's start; `before` was read before the monitor's entry
    /// bookkeeping.
    #[inline]
    pub(crate) fn begin(thread: &ThreadState, before: Reading) -> Self {
        if !crate::alloc::active() {
            return Self::default();
        }
        let start = crate::alloc::thread_allocated();
        let entry_bookkeeping = since(before.counters, start);
        let parent_child = thread.child_alloc.replace((0, 0));
        Self {
            armed: true,
            start,
            parent_child: plus(parent_child, entry_bookkeeping),
        }
    }

    /// Records the call's own allocations on `shard`, hands the call's whole
    /// allocations to the enclosing call, and returns a reading to
    /// [`Reading::settle`] after the exit bookkeeping.
    #[inline]
    pub(crate) fn end(self, thread: &ThreadState, shard: Option<&Shard>) -> Reading {
        if !self.armed {
            return Reading::default();
        }
        let end = Reading::now();
        let delta = since(self.start, end.counters);
        let child = thread.child_alloc.replace(plus(self.parent_child, delta));
        if let Some(shard) = shard {
            shard.add_self_alloc(
                delta.0.saturating_sub(child.0),
                delta.1.saturating_sub(child.1),
            );
        }
        end
    }
}

#[cfg(not(feature = "alloc"))]
impl Reading {
    #[inline(always)]
    pub(crate) fn now() -> Self {
        Self {}
    }

    #[inline(always)]
    pub(crate) fn settle(self, _: &ThreadState) {}
}

#[cfg(not(feature = "alloc"))]
impl AllocMark {
    #[inline(always)]
    pub(crate) fn begin(_: &ThreadState, _: Reading) -> Self {
        Self {}
    }

    #[inline(always)]
    pub(crate) fn end(self, _: &ThreadState, _: Option<&Shard>) -> Reading {
        Reading {}
    }
}
