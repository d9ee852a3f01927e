//! Fixed log-linear histograms for durations in nanoseconds.
//!
//! Values below 64 are counted exactly; above that each power of two (an
//! octave) is split into 64 equal sub-buckets, so a bucket's midpoint is within
//! 0.8% of every value in it, from 100 ns to 100 s and beyond.
//!
//! Memory is what shapes this design: the full range is ~2,300 buckets, 18 KiB
//! a histogram, far too much for every (function, thread) pair. So:
//! - a thread's [`ShardHistogram`] holds a 512-byte chunk only for the octaves
//!   where a good share of its calls fall (at least 1/16), written with plain
//!   stores to memory no other thread writes;
//! - a value in any other octave (the odd preempted call) goes with one atomic
//!   add to the function's [`SharedHistogram`], a fixed-size table that is
//!   also the home of exited threads' counts. Rare outliers therefore neither
//!   grow memory nor cost shared writes on the common path;
//! - the merge adds both into one reusable dense [`Histogram`] and keeps only a
//!   summary (percentiles and Prometheus bucket counts) in the snapshot.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// Sub-buckets per octave, as a power of two.
const SUB_BITS: u32 = 6;
/// Sub-buckets per octave.
pub const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Octave 0 is the exact range `[0, 64)`; octave `k` is `[2^(k+5), 2^(k+6))`.
/// 36 octaves reach 2^41 ns (about 36 minutes); larger values are clamped.
pub const OCTAVES: usize = 36;
/// All buckets.
const BUCKETS: usize = OCTAVES * SUB_BUCKETS;

/// The bucket `(octave, sub_bucket)` that holds `value`.
#[inline]
pub fn bucket_of(value: u64) -> (usize, usize) {
    if value < SUB_BUCKETS as u64 {
        return (0, value as usize);
    }
    let exponent = 63 - value.leading_zeros();
    let octave = (exponent - SUB_BITS + 1) as usize;
    if octave >= OCTAVES {
        return (OCTAVES - 1, SUB_BUCKETS - 1);
    }
    let sub = (value >> (exponent - SUB_BITS)) as usize - SUB_BUCKETS;
    (octave, sub)
}

/// The smallest value in a bucket and the bucket's width.
#[inline]
pub fn bucket_bounds(octave: usize, sub: usize) -> (u64, u64) {
    if octave == 0 {
        return (sub as u64, 1);
    }
    let shift = octave as u32 - 1;
    (((SUB_BUCKETS + sub) as u64) << shift, 1u64 << shift)
}

/// The value reported for a bucket: its midpoint (exact in octave 0).
#[inline]
pub fn bucket_value(octave: usize, sub: usize) -> u64 {
    let (low, width) = bucket_bounds(octave, sub);
    low + (width - 1) / 2
}

type AtomicChunk = [AtomicU64; SUB_BUCKETS];

fn new_chunk() -> Box<AtomicChunk> {
    Box::new([const { AtomicU64::new(0) }; SUB_BUCKETS])
}

/// An octave gets a chunk in a thread's histogram once it has seen this many
/// values there...
const PROMOTE_AFTER: u32 = 8;
/// ...and holds at least 1/16 of the thread's calls.
const PROMOTE_SHARE: u64 = 16;

/// The per-thread histogram: written by its owning thread only, read by the
/// monitor thread. Counts are plain load-and-store (no read-modify-write),
/// which is correct because there is a single writer.
pub(crate) struct ShardHistogram {
    octaves: [OnceLock<Box<AtomicChunk>>; OCTAVES],
    /// Values of each chunk-less octave sent to `shared`.
    rare: [AtomicU32; OCTAVES],
    /// The function's histogram for values outside this thread's chunks.
    shared: Arc<SharedHistogram>,
}

impl ShardHistogram {
    pub(crate) fn new(shared: Arc<SharedHistogram>) -> Self {
        Self {
            octaves: [const { OnceLock::new() }; OCTAVES],
            rare: [const { AtomicU32::new(0) }; OCTAVES],
            shared,
        }
    }

    /// Counts one value; `calls` is how many calls this thread has finished.
    /// Must only be called by the owning thread.
    #[inline]
    pub(crate) fn record(&self, value: u64, calls: u64) {
        let (octave, sub) = bucket_of(value);
        match self.octaves[octave].get() {
            Some(chunk) => {
                let slot = &chunk[sub];
                slot.store(slot.load(Relaxed) + 1, Relaxed);
            }
            None => self.record_rare(octave, sub, calls),
        }
    }

    #[cold]
    #[inline(never)]
    fn record_rare(&self, octave: usize, sub: usize, calls: u64) {
        let rare = self.rare[octave].load(Relaxed).saturating_add(1);
        self.rare[octave].store(rare, Relaxed);
        if rare >= PROMOTE_AFTER && u64::from(rare) * PROMOTE_SHARE >= calls {
            // A busy octave: from now on it is counted in this thread's
            // memory. Its neighbours too: latencies drift across an octave
            // boundary as load changes, and allocating them now keeps memory
            // from creeping up later.
            for neighbour in octave.saturating_sub(1)..=(octave + 1).min(OCTAVES - 1) {
                self.octaves[neighbour].get_or_init(new_chunk);
            }
            let chunk = self.octaves[octave].get_or_init(new_chunk);
            chunk[sub].store(chunk[sub].load(Relaxed) + 1, Relaxed);
        } else {
            self.shared.add(octave, sub, 1);
        }
    }

    /// Adds the counts of the allocated octaves into `into`.
    pub(crate) fn add_to(&self, into: &mut Histogram) {
        for (octave, chunk) in self.octaves.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (sub, slot) in chunk.iter().enumerate() {
                into.add(octave, sub, slot.load(Relaxed));
            }
        }
    }

    /// Moves the counts into the function's shared histogram, for a thread
    /// that has exited (its shard is then dropped).
    pub(crate) fn retire(&self) {
        for (octave, chunk) in self.octaves.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (sub, slot) in chunk.iter().enumerate() {
                self.shared.add(octave, sub, slot.load(Relaxed));
            }
        }
    }
}

/// Entries of one [`SharedHistogram`] table.
const TABLE_SLOTS: usize = 64;
/// An entry holds `(bucket index + 1) << KEY_SHIFT | count`; 0 is empty.
const KEY_SHIFT: u32 = 52;
const COUNT_MASK: u64 = (1 << KEY_SHIFT) - 1;

/// One function's histogram for the values that no thread keeps a chunk for
/// (a thread's rare latencies) and for threads that have exited: an
/// insert-only hash table from bucket to count, each entry one atomic word.
/// A new bucket takes a free entry, not new memory, so the scattered tail of
/// a function's latencies keeps its footprint fixed; a full table chains a
/// further one.
pub(crate) struct SharedHistogram {
    slots: [AtomicU64; TABLE_SLOTS],
    next: OnceLock<Box<SharedHistogram>>,
}

impl SharedHistogram {
    pub(crate) fn new() -> Self {
        Self {
            slots: [const { AtomicU64::new(0) }; TABLE_SLOTS],
            next: OnceLock::new(),
        }
    }

    /// Counts one value with one atomic add (more when the table must
    /// claim a new entry); safe from any thread.
    pub(crate) fn record(&self, value: u64) {
        let (octave, sub) = bucket_of(value);
        self.add(octave, sub, 1);
    }

    fn add(&self, octave: usize, sub: usize, n: u64) {
        if n == 0 {
            return;
        }
        let index = octave * SUB_BUCKETS + sub;
        let key = (index as u64 + 1) << KEY_SHIFT;
        let mut table = self;
        loop {
            for probe in 0..TABLE_SLOTS {
                let slot = &table.slots[(index + probe) % TABLE_SLOTS];
                let mut entry = slot.load(Relaxed);
                if entry == 0 {
                    match slot.compare_exchange(0, key | n, Relaxed, Relaxed) {
                        Ok(_) => return,
                        Err(taken) => entry = taken,
                    }
                }
                if entry & !COUNT_MASK == key {
                    slot.fetch_add(n, Relaxed);
                    return;
                }
            }
            table = table.next.get_or_init(|| Box::new(SharedHistogram::new()));
        }
    }

    /// Adds every count into `into`.
    pub(crate) fn add_to(&self, into: &mut Histogram) {
        let mut table = Some(self);
        while let Some(t) = table {
            for slot in &t.slots {
                let entry = slot.load(Relaxed);
                if entry != 0 {
                    let index = (entry >> KEY_SHIFT) as usize - 1;
                    into.add(index / SUB_BUCKETS, index % SUB_BUCKETS, entry & COUNT_MASK);
                }
            }
            table = t.next.get().map(|next| &**next);
        }
    }
}

/// A dense histogram over the full range (18 KiB), owned by one reader. The
/// monitor thread reuses one to merge each function's shards, so a merge is
/// additions into a flat array and allocates nothing.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    /// Bit `k` set when octave `k` holds counts, so clearing and scanning
    /// touch only those.
    touched: u64,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            touched: 0,
            total: 0,
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .finish_non_exhaustive()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one value.
    pub fn record(&mut self, value: u64) {
        let (octave, sub) = bucket_of(value);
        self.add(octave, sub, 1);
    }

    #[inline]
    fn add(&mut self, octave: usize, sub: usize, n: u64) {
        if n != 0 {
            self.counts[octave * SUB_BUCKETS + sub] += n;
            self.touched |= 1 << octave;
            self.total += n;
        }
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Non-empty buckets in ascending order as `(octave, sub_bucket, count)`.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, usize, u64)> + '_ {
        (0..OCTAVES)
            .filter(|octave| self.touched & (1 << octave) != 0)
            .flat_map(|octave| (0..SUB_BUCKETS).map(move |sub| (octave, sub)))
            .map(|(octave, sub)| (octave, sub, self.counts[octave * SUB_BUCKETS + sub]))
            .filter(|(_, _, n)| *n != 0)
    }

    /// The value at quantile `q` (0.0–1.0): the midpoint of the bucket that
    /// holds the `ceil(q * count)`-th smallest value, or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        self.quantiles([q])[0]
    }

    /// The values at each of `quantiles` (ascending), in one pass.
    pub fn quantiles<const N: usize>(&self, quantiles: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        let mut next = 0;
        let mut seen = 0;
        for (octave, sub, n) in self.buckets() {
            seen += n;
            while next < N && seen >= rank_of(quantiles[next], self.total) {
                out[next] = bucket_value(octave, sub);
                next += 1;
            }
            if next == N {
                break;
            }
        }
        out
    }

    /// How many values are at most `limit`. A bucket counts only when all of
    /// it is at most `limit`, so the error is below one bucket (< 1.6%).
    pub fn count_at_most(&self, limit: u64) -> u64 {
        self.counts_at_most([limit])[0]
    }

    /// [`Histogram::count_at_most`] for each of `limits` (ascending), in one pass.
    pub fn counts_at_most<const N: usize>(&self, limits: [u64; N]) -> [u64; N] {
        let mut out = [0; N];
        let mut seen = 0;
        let mut next = 0;
        for (octave, sub, n) in self.buckets() {
            let (low, width) = bucket_bounds(octave, sub);
            while next < N && low + width - 1 > limits[next] {
                out[next] = seen;
                next += 1;
            }
            seen += n;
        }
        for slot in &mut out[next..] {
            *slot = seen;
        }
        out
    }

    /// Empties the histogram, keeping its memory.
    pub fn clear(&mut self) {
        for octave in 0..OCTAVES {
            if self.touched & (1 << octave) != 0 {
                self.counts[octave * SUB_BUCKETS..(octave + 1) * SUB_BUCKETS].fill(0);
            }
        }
        self.touched = 0;
        self.total = 0;
    }
}

/// The 1-based rank of quantile `q` among `count` values.
fn rank_of(q: f64, count: u64) -> u64 {
    ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).clamp(1, count.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_inside_its_bucket() {
        for value in (0..100_000u64).chain([1 << 20, (1 << 33) + 12_345, u64::MAX >> 24]) {
            let (octave, sub) = bucket_of(value);
            let (low, width) = bucket_bounds(octave, sub);
            assert!(
                low <= value && value < low + width,
                "{value}: [{low}, +{width})"
            );
            let mid = bucket_value(octave, sub) as f64;
            assert!(
                (mid - value as f64).abs() <= value as f64 * 0.008 + 0.5,
                "{value} -> {mid}"
            );
        }
    }

    #[test]
    fn buckets_are_ordered_and_contiguous() {
        let mut expected_low = 0;
        for octave in 0..OCTAVES {
            for sub in 0..SUB_BUCKETS {
                let (low, width) = bucket_bounds(octave, sub);
                assert_eq!(low, expected_low, "octave {octave} sub {sub}");
                expected_low = low + width;
            }
        }
    }

    #[test]
    fn huge_values_are_clamped_to_the_last_bucket() {
        assert_eq!(bucket_of(u64::MAX), (OCTAVES - 1, SUB_BUCKETS - 1));
    }

    #[test]
    fn quantiles_of_a_known_set() {
        let mut h = Histogram::new();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), 50);
        assert_eq!(h.quantile(0.99), 99);
        assert_eq!(h.quantile(1.0), 100);
        assert_eq!(h.count_at_most(63), 63);
    }

    #[test]
    fn clearing_keeps_nothing() {
        let mut h = Histogram::new();
        for v in (0..5_000u64).map(|i| i * i * 37 + i) {
            h.record(v);
        }
        let limits = [0, 1_000, 1_000_000, 50_000_000, u64::MAX];
        assert_eq!(h.counts_at_most(limits)[4], 5_000);
        h.clear();
        assert_eq!(h.quantiles([0.5, 0.99]), [0, 0]);
        assert_eq!(h.counts_at_most(limits), [0; 5]);
    }

    #[test]
    fn the_shared_table_chains_when_full() {
        let shared = SharedHistogram::new();
        let mut expected = Histogram::new();
        for (i, value) in (0..500u64).map(|i| 100 + i * 1_013).enumerate() {
            let (octave, sub) = bucket_of(value);
            shared.add(octave, sub, i as u64 + 1);
            for _ in 0..=i {
                expected.record(value);
            }
        }
        assert!(
            shared.next.get().is_some(),
            "500 buckets do not fit one table"
        );
        let mut got = Histogram::new();
        shared.add_to(&mut got);
        assert_eq!(got.count(), expected.count());
        assert_eq!(
            got.quantiles([0.1, 0.5, 0.99]),
            expected.quantiles([0.1, 0.5, 0.99])
        );
    }

    #[test]
    fn rare_octaves_go_to_the_shared_histogram_busy_ones_get_a_chunk() {
        let shared = Arc::new(SharedHistogram::new());
        let shard = ShardHistogram::new(Arc::clone(&shared));
        // 1,000 calls around 1 µs, and a few slow ones around 1 ms.
        for call in 0..1_000u64 {
            let value = if call % 200 == 0 {
                1_000_000
            } else {
                1_000 + call % 7
            };
            shard.record(value, call);
        }
        let busy = bucket_of(1_000).0;
        let rare = bucket_of(1_000_000).0;
        assert!(shard.octaves[busy].get().is_some());
        assert!(shard.octaves[rare].get().is_none());
        let (mut local, mut elsewhere) = (Histogram::new(), Histogram::new());
        shard.add_to(&mut local);
        shared.add_to(&mut elsewhere);
        assert_eq!(
            local.count() + elsewhere.count(),
            1_000,
            "every value counted once"
        );
        assert_eq!(elsewhere.count_at_most(100_000), PROMOTE_AFTER as u64 - 1);
        shard.retire();
        let mut all = Histogram::new();
        shared.add_to(&mut all);
        assert_eq!(all.count(), 1_000);
        assert_eq!(
            all.quantile(1.0),
            bucket_value(rare, bucket_of(1_000_000).1)
        );
    }
}
