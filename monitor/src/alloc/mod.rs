//! A counting global allocator (feature `alloc`): live heap, allocation
//! rate, and bytes allocated per `#[profile]`d call.
//!
//! Managed runtimes report their garbage collector; a Rust service's
//! equivalent is its allocator. Wrap the system allocator (or any other) once
//! in the binary:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: monitor::alloc::Counting = monitor::alloc::Counting::system();
//! # fn main() {}
//! ```
//!
//! Every allocation, free and reallocation then adds to counters owned by
//! the calling thread (plain stores, no atomic read-modify-write, nothing
//! shared), which the monitor thread sums once a tick into
//! [`Snapshot::alloc`](crate::Snapshot::alloc). Profiled functions also
//! record the allocations made by their own body, excluding nested profiled
//! calls (like self time).

#![allow(unsafe_code)] // implementing `GlobalAlloc` is unsafe by definition

mod slots;

use std::alloc::{GlobalAlloc, Layout, System};
use std::time::Instant;

use crate::snapshot::AllocStats;

pub(crate) use slots::{active, thread_allocated};

/// A [`GlobalAlloc`] that counts what `A` allocates and frees.
#[derive(Debug, Default)]
pub struct Counting<A = System> {
    inner: A,
}

impl Counting<System> {
    /// Counts the system allocator.
    pub const fn system() -> Self {
        Self { inner: System }
    }
}

impl<A> Counting<A> {
    /// Counts `inner` (e.g. a jemalloc or mimalloc allocator).
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments
// unchanged and returns its result unchanged, so `inner`'s guarantees hold;
// the counting around it never allocates (static slots and const
// thread-locals only) and never unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's contract.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            slots::allocated(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's contract.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            slots::allocated(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's contract.
        unsafe { self.inner.dealloc(ptr, layout) };
        slots::freed(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's contract.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            slots::reallocated(layout.size(), new_size);
        }
        new
    }
}

/// Turns the cumulative counters into the snapshot's figures, with rates
/// over the time since the previous tick. Owned by the monitor thread.
#[derive(Default)]
pub(crate) struct AllocCollector {
    previous: Option<(Instant, slots::Totals)>,
}

impl AllocCollector {
    /// `None` while nothing was ever counted: [`Counting`] is not the
    /// global allocator.
    pub(crate) fn collect(&mut self) -> Option<AllocStats> {
        let now = Instant::now();
        let totals = slots::totals();
        if totals.allocations == 0 {
            return None;
        }
        let rates = self.previous.map(|(then, before)| {
            let secs = now.duration_since(then).as_secs_f64().max(1e-9);
            let per_sec = |after: u64, before: u64| after.saturating_sub(before) as f64 / secs;
            (
                per_sec(totals.allocations, before.allocations),
                per_sec(totals.allocated_bytes, before.allocated_bytes),
            )
        });
        self.previous = Some((now, totals));
        Some(AllocStats {
            allocations: totals.allocations,
            frees: totals.frees,
            allocated_bytes: totals.allocated_bytes,
            freed_bytes: totals.freed_bytes,
            live_bytes: totals.allocated_bytes.saturating_sub(totals.freed_bytes),
            live_allocations: totals.allocations.saturating_sub(totals.frees),
            allocations_per_sec: rates.map(|r| r.0),
            bytes_per_sec: rates.map(|r| r.1),
            threads: totals.threads,
        })
    }
}
