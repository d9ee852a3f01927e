//! Counting the distinct label sets folded into a metric's overflow series,
//! in fixed memory and without locks.
//!
//! Each folded label set is remembered by a 64-bit SipHash of its labels in an
//! open-addressing table of atomics, sized once from the cardinality cap when
//! the metric first overflows: `32 × cap` slots rounded up to a power of two,
//! at least 8,192 and at most 131,072 (64 KiB – 1 MiB). The count is exact
//! until the table is three quarters full (at least 6,144 label sets, and
//! `24 × cap` for caps from 256 up to 4,096); past that, new label sets are
//! no longer counted, so the figure is a lower bound. A folded label set that
//! is seen again is never counted twice.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const MIN_SLOTS: usize = 1 << 13;
const MAX_SLOTS: usize = 1 << 17;

/// A fixed-size set of 64-bit hashes that only counts first insertions.
pub(crate) struct FoldedSet {
    slots: Box<[AtomicU64]>,
    /// Insertions stop at this many entries, so probes stay short.
    limit: u64,
    count: AtomicU64,
}

impl FoldedSet {
    /// A set sized for a metric capped at `max_series` series.
    pub(crate) fn for_cap(max_series: usize) -> Self {
        let slots = max_series
            .saturating_mul(32)
            .clamp(MIN_SLOTS, MAX_SLOTS)
            .next_power_of_two();
        Self {
            slots: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            limit: (slots / 4 * 3) as u64,
            count: AtomicU64::new(0),
        }
    }

    /// Remembers `hash`; counts it if it is new and the set is not full.
    pub(crate) fn insert(&self, hash: u64) {
        if self.count.load(Relaxed) >= self.limit {
            return;
        }
        // 0 marks an empty slot.
        let fingerprint = super::mix(hash).max(1);
        let mask = self.slots.len() - 1;
        let mut index = (fingerprint >> 17) as usize & mask;
        for _ in 0..self.slots.len() {
            let slot = &self.slots[index];
            let current = slot.load(Relaxed);
            if current == fingerprint {
                return;
            }
            if current == 0 {
                match slot.compare_exchange(0, fingerprint, Relaxed, Relaxed) {
                    Ok(_) => {
                        self.count.fetch_add(1, Relaxed);
                        return;
                    }
                    Err(taken) if taken == fingerprint => return,
                    Err(_) => {}
                }
            }
            index = (index + 1) & mask;
        }
    }

    /// Distinct hashes counted.
    pub(crate) fn len(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_hash_once() {
        let set = FoldedSet::for_cap(100);
        for round in 0..3 {
            for h in 0..5_000u64 {
                set.insert(h);
            }
            assert_eq!(set.len(), 5_000, "round {round}");
        }
    }

    #[test]
    fn size_follows_the_cap_within_bounds() {
        assert_eq!(FoldedSet::for_cap(1).slots.len(), MIN_SLOTS);
        assert_eq!(FoldedSet::for_cap(1_000).slots.len(), 32_768);
        assert_eq!(FoldedSet::for_cap(usize::MAX).slots.len(), MAX_SLOTS);
    }

    #[test]
    fn stops_counting_when_full_without_spinning() {
        let set = FoldedSet::for_cap(1);
        for h in 0..20_000u64 {
            set.insert(h);
        }
        assert_eq!(set.len(), set.limit);
    }

    #[test]
    fn concurrent_inserts_of_the_same_hashes_count_once() {
        let set = std::sync::Arc::new(FoldedSet::for_cap(100));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let set = std::sync::Arc::clone(&set);
                std::thread::spawn(move || {
                    (0..3_000u64).for_each(|h| set.insert(h.wrapping_mul(0x9E37_79B9)))
                })
            })
            .collect();
        for t in threads {
            t.join().expect("inserting thread");
        }
        assert_eq!(set.len(), 3_000);
    }
}
