//! Per-thread allocation counters that the monitor thread can read.
//!
//! A thread claims one slot of a fixed static table the first time it
//! allocates and gives it back when it exits; while it owns the slot it is the
//! only writer, so counting is plain loads and stores on relaxed atomics (no
//! read-modify-write). Threads beyond the table's size, and allocations made
//! while a thread claims or gives back its slot, go to one shared slot with
//! atomic adds. Nothing here allocates: this code runs inside the allocator.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Slots in the table: threads allocating at the same time beyond this share
/// the overflow slot (correct, only slower).
const SLOTS: usize = 512;

/// The thread has not allocated yet.
const UNCLAIMED: u32 = u32::MAX;
/// The thread counts into the shared slot (claiming, exiting, or no slot free).
const SHARED: u32 = u32::MAX - 1;

/// Cumulative counters. A slot's figures include those of threads that owned
/// it before: only sums over all slots, and differences on one thread, are
/// meaningful.
#[repr(align(128))] // one slot per cache line pair: owners never share a line
struct Slot {
    owned: AtomicBool,
    allocations: AtomicU64,
    frees: AtomicU64,
    allocated_bytes: AtomicU64,
    freed_bytes: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Self {
            owned: AtomicBool::new(false),
            allocations: AtomicU64::new(0),
            frees: AtomicU64::new(0),
            allocated_bytes: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// Set by the first allocation counted: until then [`Counting`](super::Counting)
/// is not the global allocator and profiled calls skip allocation figures.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static OVERFLOW: Slot = Slot::new();

thread_local! {
    /// This thread's slot index, or [`UNCLAIMED`] / [`SHARED`]. Const and
    /// without a destructor, so reading it never allocates or fails.
    static MY_SLOT: Cell<u32> = const { Cell::new(UNCLAIMED) };
    /// Gives the slot back when the thread exits.
    static RELEASE: Release = const { Release };
}

struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        let index = MY_SLOT.with(|slot| slot.replace(SHARED));
        if let Some(slot) = TABLE.get(index as usize) {
            // Release: the next owner starts from this thread's last figures.
            slot.owned.store(false, Ordering::Release);
        }
    }
}

/// Adds `n` to a counter only this thread writes.
#[inline(always)]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// Applies `count` to this thread's slot, or atomically to the shared one.
#[inline(always)]
fn with_slot(count: impl Fn(&Slot, fn(&AtomicU64, u64))) {
    let index = MY_SLOT.with(Cell::get);
    match TABLE.get(index as usize) {
        Some(slot) => count(slot, bump),
        None => {
            if index == UNCLAIMED {
                claim();
            }
            count(&OVERFLOW, |counter, n| {
                counter.fetch_add(n, Ordering::Relaxed);
            });
        }
    }
}

/// Takes a free slot for this thread (its first allocation is counted in
/// the shared slot). Registering the exit hook may allocate: that allocation
/// finds the slot already claimed, so there is no recursion.
#[cold]
#[inline(never)]
fn claim() {
    ACTIVE.store(true, Ordering::Relaxed);
    MY_SLOT.with(|slot| slot.set(SHARED));
    let Some(index) = TABLE.iter().position(|slot| {
        slot.owned
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }) else {
        return;
    };
    MY_SLOT.with(|slot| slot.set(index as u32));
    if RELEASE.try_with(|_| ()).is_err() {
        // The thread is exiting: no hook can run later, give the slot back now.
        MY_SLOT.with(|slot| slot.set(SHARED));
        TABLE[index].owned.store(false, Ordering::Release);
    }
}

#[inline(always)]
pub(super) fn allocated(bytes: usize) {
    with_slot(|slot, add| {
        add(&slot.allocations, 1);
        add(&slot.allocated_bytes, bytes as u64);
    });
}

#[inline(always)]
pub(super) fn freed(bytes: usize) {
    with_slot(|slot, add| {
        add(&slot.frees, 1);
        add(&slot.freed_bytes, bytes as u64);
    });
}

/// A `realloc` from `old` to `new` bytes: one allocation of `new`, one free of `old`.
#[inline(always)]
pub(super) fn reallocated(old: usize, new: usize) {
    with_slot(|slot, add| {
        add(&slot.allocations, 1);
        add(&slot.allocated_bytes, new as u64);
        add(&slot.frees, 1);
        add(&slot.freed_bytes, old as u64);
    });
}

/// Whether the counting allocator has counted anything in this process.
#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// What the calling thread has allocated so far (allocations, bytes), or
/// `None` when it has no slot of its own (then per-call figures are skipped).
#[inline]
pub(crate) fn thread_allocated() -> Option<(u64, u64)> {
    let index = MY_SLOT.with(Cell::get);
    let slot = TABLE.get(index as usize)?;
    Some((
        slot.allocations.load(Ordering::Relaxed),
        slot.allocated_bytes.load(Ordering::Relaxed),
    ))
}

/// Process-wide sums since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) allocations: u64,
    pub(crate) frees: u64,
    pub(crate) allocated_bytes: u64,
    pub(crate) freed_bytes: u64,
    /// Slots owned by a live thread now.
    pub(crate) threads: usize,
}

/// Sums every slot. Slots are read one after another while threads keep
/// allocating, so the figures are a consistent-enough view, not an atomic one.
pub(crate) fn totals() -> Totals {
    let mut totals = Totals::default();
    for slot in TABLE.iter().chain(std::iter::once(&OVERFLOW)) {
        totals.allocations += slot.allocations.load(Ordering::Relaxed);
        totals.frees += slot.frees.load(Ordering::Relaxed);
        totals.allocated_bytes += slot.allocated_bytes.load(Ordering::Relaxed);
        totals.freed_bytes += slot.freed_bytes.load(Ordering::Relaxed);
        totals.threads += usize::from(slot.owned.load(Ordering::Relaxed));
    }
    totals
}
