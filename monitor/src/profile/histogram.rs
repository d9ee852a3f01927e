//! Fixed log-linear histograms for durations in nanoseconds.
//!
//! Values below 64 are counted exactly; above that each power of two is split
//! into 64 equal sub-buckets, so a bucket's midpoint is within 0.8% of every
//! value in it. Octaves are allocated only when a value lands in them: a
//! function whose calls all take 1–4 µs holds three 512-byte chunks, not the
//! ~2,000 buckets that the full 100 ns – 100 s range would need.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// Sub-buckets per octave, as a power of two.
const SUB_BITS: u32 = 6;
/// Sub-buckets per octave.
pub const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Octave 0 is the exact range `[0, 64)`; octave `k` is `[2^(k+5), 2^(k+6))`.
/// 36 octaves reach 2^41 ns (about 36 minutes); larger values are clamped.
pub const OCTAVES: usize = 36;

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

/// The per-thread histogram: written by its owning thread only, read by the
/// monitor thread. Counts are plain load-and-store (no read-modify-write),
/// which is correct because there is a single writer.
pub struct ShardHistogram {
    octaves: [OnceLock<Box<AtomicChunk>>; OCTAVES],
}

impl ShardHistogram {
    pub(crate) const fn new() -> Self {
        Self {
            octaves: [const { OnceLock::new() }; OCTAVES],
        }
    }

    /// Counts one value. Must only be called by the owning thread.
    #[inline]
    pub(crate) fn record(&self, value: u64) {
        let (octave, sub) = bucket_of(value);
        let chunk = match self.octaves[octave].get() {
            Some(chunk) => chunk,
            None => self.allocate(octave),
        };
        let slot = &chunk[sub];
        slot.store(slot.load(Relaxed) + 1, Relaxed);
    }

    #[cold]
    #[inline(never)]
    fn allocate(&self, octave: usize) -> &AtomicChunk {
        self.octaves[octave].get_or_init(|| Box::new([const { AtomicU64::new(0) }; SUB_BUCKETS]))
    }

    /// Adds this shard's counts into `into`.
    pub(crate) fn add_to(&self, into: &mut Histogram) {
        for (octave, chunk) in self.octaves.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (sub, slot) in chunk.iter().enumerate() {
                let n = slot.load(Relaxed);
                if n != 0 {
                    into.add_bucket(octave, sub, n);
                }
            }
        }
    }
}

/// A merged histogram owned by one reader (the monitor thread, a snapshot).
#[derive(Clone, Default, Debug)]
pub struct Histogram {
    octaves: Vec<Option<Box<[u64; SUB_BUCKETS]>>>,
    count: u64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one value.
    pub fn record(&mut self, value: u64) {
        let (octave, sub) = bucket_of(value);
        self.add_bucket(octave, sub, 1);
    }

    fn add_bucket(&mut self, octave: usize, sub: usize, n: u64) {
        if self.octaves.len() <= octave {
            self.octaves.resize_with(octave + 1, || None);
        }
        self.octaves[octave].get_or_insert_with(|| Box::new([0; SUB_BUCKETS]))[sub] += n;
        self.count += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (octave, sub, n) in other.buckets() {
            self.add_bucket(octave, sub, n);
        }
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Non-empty buckets in ascending order as `(octave, sub_bucket, count)`.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, usize, u64)> + '_ {
        self.octaves.iter().enumerate().flat_map(|(octave, chunk)| {
            chunk
                .iter()
                .flat_map(|c| c.iter().enumerate())
                .filter(|(_, n)| **n != 0)
                .map(move |(sub, n)| (octave, sub, *n))
        })
    }

    /// The value at quantile `q` (0.0–1.0): the midpoint of the bucket that
    /// holds the `ceil(q * count)`-th smallest value, or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (octave, sub, n) in self.buckets() {
            seen += n;
            if seen >= rank {
                return bucket_value(octave, sub);
            }
        }
        0
    }

    /// How many values are at most `limit`, counting a bucket only when all
    /// of it is at most `limit` (the error is below one bucket, < 1.6%).
    pub fn count_at_most(&self, limit: u64) -> u64 {
        self.buckets()
            .take_while(|&(octave, sub, _)| {
                let (low, width) = bucket_bounds(octave, sub);
                low + width - 1 <= limit
            })
            .map(|(_, _, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_inside_its_bucket() {
        for value in (0..100_000u64).chain([1 << 20, (1 << 33) + 12_345, u64::MAX >> 24]) {
            let (octave, sub) = bucket_of(value);
            let (low, width) = bucket_bounds(octave, sub);
            assert!(low <= value && value < low + width, "{value}: [{low}, +{width})");
            let mid = bucket_value(octave, sub) as f64;
            assert!((mid - value as f64).abs() <= value as f64 * 0.008 + 0.5, "{value} -> {mid}");
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
}
