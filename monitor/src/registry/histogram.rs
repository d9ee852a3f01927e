//! Fixed-memory, lock-free histograms for `f64` observations.
//!
//! # Layout
//!
//! Positive values are bucketed log-linearly: every power of two (an
//! *octave*) `[2^e, 2^(e+1))` is split into 64 equal sub-buckets, read
//! straight from the exponent and the top six mantissa bits of the `f64`. A
//! bucket is 1/64 of its octave wide, so its midpoint is within 1/128 (0.78%)
//! of every value in it, which bounds the error of the reported percentiles.
//!
//! Octaves cover `2^-64` (about 5.4e-20) to `2^64` (about 1.8e19): 128 octaves
//! of 64 counters. Only the octaves that values land in are allocated (512
//! bytes each), plus a 2 KiB table of octave pointers allocated on the first
//! observation; a latency histogram spanning 1 µs – 10 s touches about 24
//! octaves. The worst case, values spread over every octave, is 66 KiB per
//! series, whatever the traffic. Values beyond the range are counted in the
//! first or last bucket; their percentiles are then clamped to the exact
//! min/max, which keeps single-valued or narrow out-of-range data exact.
//!
//! Zero and negative values (including `-inf`) are counted in one extra
//! bucket that sorts before every positive bucket; a percentile that falls in
//! it reports `0.0` (or the exact max, when every value is negative). `NaN` is
//! ignored: it is not counted and does not touch sum, min or max. `+inf` is
//! counted in the last bucket and makes the sum and max infinite, as it should.
//!
//! Count, sum, min and max are exact. The count is the total of the buckets,
//! so the Prometheus buckets never exceed it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

use crate::snapshot::HistogramSummary;

/// Sub-buckets per octave, as a power of two.
const SUB_BITS: u32 = 6;
/// Sub-buckets per octave.
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Exponent of the first octave.
const MIN_EXP: i32 = -64;
/// Octaves: exponents `MIN_EXP .. MIN_EXP + OCTAVES`.
const OCTAVES: usize = 128;

/// The Prometheus client libraries' default bucket bounds, used for the
/// exposition.
pub(crate) const PROMETHEUS_BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Chunk = [AtomicU64; SUB_BUCKETS];
type OctaveTable = [OnceLock<Box<Chunk>>; OCTAVES];

/// The bucket `(octave, sub_bucket)` of a positive value (`+inf` included).
#[inline]
fn bucket_of(value: f64) -> (usize, usize) {
    let bits = value.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    if exp < MIN_EXP {
        return (0, 0);
    }
    if exp >= MIN_EXP + OCTAVES as i32 {
        return (OCTAVES - 1, SUB_BUCKETS - 1);
    }
    let sub = ((bits >> (52 - SUB_BITS)) as usize) & (SUB_BUCKETS - 1);
    ((exp - MIN_EXP) as usize, sub)
}

/// The smallest value of a bucket.
#[inline]
fn lower_bound(octave: usize, sub: usize) -> f64 {
    2f64.powi(octave as i32 + MIN_EXP) * (1.0 + sub as f64 / SUB_BUCKETS as f64)
}

/// The value reported for a bucket: its midpoint.
#[inline]
fn midpoint(octave: usize, sub: usize) -> f64 {
    2f64.powi(octave as i32 + MIN_EXP) * (1.0 + (sub as f64 + 0.5) / SUB_BUCKETS as f64)
}

/// A histogram written by any number of threads with relaxed atomics only.
pub(crate) struct AtomicHistogram {
    octaves: OnceLock<Box<OctaveTable>>,
    /// Observations `<= 0`.
    non_positive: AtomicU64,
    /// Bits of the `f64` sum.
    sum: AtomicU64,
    /// Bits of the `f64` minimum (`+inf` while empty).
    min: AtomicU64,
    /// Bits of the `f64` maximum (`-inf` while empty).
    max: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicHistogram {
    pub(crate) fn new() -> Self {
        Self {
            octaves: OnceLock::new(),
            non_positive: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
            min: AtomicU64::new(f64::INFINITY.to_bits()),
            max: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
        }
    }

    /// Counts `value` `n` times.
    pub(crate) fn record_n(&self, value: f64, n: u64) {
        if value.is_nan() || n == 0 {
            return;
        }
        if value <= 0.0 {
            self.non_positive.fetch_add(n, Relaxed);
        } else {
            let (octave, sub) = bucket_of(value);
            let table = self.octaves.get_or_init(new_table);
            let chunk = table[octave].get_or_init(new_chunk);
            chunk[sub].fetch_add(n, Relaxed);
        }
        let add = if n == 1 { value } else { value * n as f64 };
        let _ = self.sum.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + add).to_bits())
        });
        if value < f64::from_bits(self.min.load(Relaxed)) {
            let _ = self.min.fetch_update(Relaxed, Relaxed, |bits| {
                (value < f64::from_bits(bits)).then_some(value.to_bits())
            });
        }
        if value > f64::from_bits(self.max.load(Relaxed)) {
            let _ = self.max.fetch_update(Relaxed, Relaxed, |bits| {
                (value > f64::from_bits(bits)).then_some(value.to_bits())
            });
        }
    }

    /// Non-empty positive buckets in ascending order as `(octave, sub, count)`.
    fn positive_buckets(&self) -> Vec<(usize, usize, u64)> {
        let mut out = Vec::new();
        let Some(table) = self.octaves.get() else {
            return out;
        };
        for (octave, chunk) in table.iter().enumerate() {
            let Some(chunk) = chunk.get() else { continue };
            for (sub, slot) in chunk.iter().enumerate() {
                let n = slot.load(Relaxed);
                if n != 0 {
                    out.push((octave, sub, n));
                }
            }
        }
        out
    }

    /// The figures as they are now.
    pub(crate) fn summary(&self) -> HistogramSummary {
        let non_positive = self.non_positive.load(Relaxed);
        let buckets = self.positive_buckets();
        let count = non_positive
            .saturating_add(buckets.iter().map(|b| b.2).fold(0u64, u64::saturating_add));
        if count == 0 {
            return HistogramSummary {
                count: 0,
                sum: 0.0,
                min: 0.0,
                max: 0.0,
                p50: 0.0,
                p90: 0.0,
                p95: 0.0,
                p99: 0.0,
                buckets: PROMETHEUS_BOUNDS.iter().map(|&b| (b, 0)).collect(),
            };
        }
        let sum = f64::from_bits(self.sum.load(Relaxed));
        let (min, max) = (
            f64::from_bits(self.min.load(Relaxed)),
            f64::from_bits(self.max.load(Relaxed)),
        );
        // A value can be in a bucket a moment before min and max show it.
        let (min, max) = if min <= max { (min, max) } else { (0.0, 0.0) };
        let clamp = |v: f64| if min < max { v.clamp(min, max) } else { min };
        let quantile = |q: f64| {
            let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
            if rank <= non_positive {
                return clamp(0.0);
            }
            let mut seen = non_positive;
            for &(octave, sub, n) in &buckets {
                seen = seen.saturating_add(n);
                if seen >= rank {
                    // The last bucket also holds everything beyond the range.
                    let last = (octave, sub) == (OCTAVES - 1, SUB_BUCKETS - 1);
                    return clamp(if last { max } else { midpoint(octave, sub) });
                }
            }
            max
        };
        // A fine bucket counts towards a bound when its lower edge is at most
        // the bound, so a value equal to a bound is always counted in it; a
        // value up to 1/64 above a bound may be too.
        let mut cumulative = non_positive;
        let mut next = 0;
        let prometheus = PROMETHEUS_BOUNDS
            .iter()
            .map(|&bound| {
                while let Some(&(octave, sub, n)) = buckets.get(next) {
                    if lower_bound(octave, sub) > bound {
                        break;
                    }
                    cumulative = cumulative.saturating_add(n);
                    next += 1;
                }
                (bound, cumulative)
            })
            .collect();
        HistogramSummary {
            count,
            sum,
            min,
            max,
            p50: quantile(0.50),
            p90: quantile(0.90),
            p95: quantile(0.95),
            p99: quantile(0.99),
            buckets: prometheus,
        }
    }
}

fn new_table() -> Box<OctaveTable> {
    Box::new([const { OnceLock::new() }; OCTAVES])
}

#[cold]
fn new_chunk() -> Box<Chunk> {
    Box::new([const { AtomicU64::new(0) }; SUB_BUCKETS])
}

impl metrics::HistogramFn for AtomicHistogram {
    fn record(&self, value: f64) {
        self.record_n(value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.record_n(value, count as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_inside_its_bucket_and_near_its_midpoint() {
        let mut v = 1e-19;
        while v < 1e19 {
            let (octave, sub) = bucket_of(v);
            let low = lower_bound(octave, sub);
            let high = if sub + 1 < SUB_BUCKETS {
                lower_bound(octave, sub + 1)
            } else {
                lower_bound(octave + 1, 0)
            };
            assert!(low <= v && v < high, "{v}: [{low}, {high})");
            let mid = midpoint(octave, sub);
            assert!((mid - v).abs() <= v / 128.0, "{v} -> {mid}");
            v *= 1.0137;
        }
    }

    #[test]
    fn buckets_are_contiguous_across_octaves() {
        assert_eq!(lower_bound(0, 0), 2f64.powi(MIN_EXP));
        for octave in 0..OCTAVES - 1 {
            let last = lower_bound(octave, SUB_BUCKETS - 1);
            let width = last - lower_bound(octave, SUB_BUCKETS - 2);
            assert_eq!(last + width, lower_bound(octave + 1, 0), "octave {octave}");
        }
    }

    #[test]
    fn extreme_values_are_clamped_not_lost() {
        assert_eq!(bucket_of(f64::MIN_POSITIVE / 4.0), (0, 0));
        assert_eq!(bucket_of(f64::MAX), (OCTAVES - 1, SUB_BUCKETS - 1));
        assert_eq!(bucket_of(f64::INFINITY), (OCTAVES - 1, SUB_BUCKETS - 1));
        let h = AtomicHistogram::new();
        h.record_n(1e300, 3);
        let s = h.summary();
        assert_eq!(
            (s.count, s.min, s.max, s.p50, s.p99),
            (3, 1e300, 1e300, 1e300, 1e300)
        );
    }

    #[test]
    fn empty_histogram_is_all_zero() {
        let s = AtomicHistogram::new().summary();
        assert_eq!(
            (s.count, s.sum, s.min, s.max, s.p50, s.p99),
            (0, 0.0, 0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(s.buckets.len(), PROMETHEUS_BOUNDS.len());
        assert!(s.buckets.iter().all(|&(_, n)| n == 0));
    }

    #[test]
    fn exact_count_sum_min_max_and_known_quantiles() {
        let h = AtomicHistogram::new();
        for v in 1..=100 {
            h.record_n(v as f64, 1);
        }
        let s = h.summary();
        assert_eq!((s.count, s.sum, s.min, s.max), (100, 5050.0, 1.0, 100.0));
        for (got, want) in [(s.p50, 50.0), (s.p90, 90.0), (s.p95, 95.0), (s.p99, 99.0)] {
            assert!((got - want).abs() <= want / 128.0, "{got} vs {want}");
        }
    }

    #[test]
    fn zero_negative_nan_and_infinity_do_not_break_anything() {
        let h = AtomicHistogram::new();
        for v in [0.0, -0.0, -5.0, f64::NEG_INFINITY, f64::NAN, 2.0] {
            h.record_n(v, 1);
        }
        let s = h.summary();
        assert_eq!(s.count, 5, "NaN is ignored");
        assert_eq!((s.min, s.max), (f64::NEG_INFINITY, 2.0));
        assert_eq!(s.sum, f64::NEG_INFINITY);
        assert_eq!(s.p50, 0.0);
        assert_eq!(s.p99, 2.0);
        assert!(s.buckets.iter().all(|&(_, n)| n >= 4));
        h.record_n(f64::INFINITY, 1);
        let s = h.summary();
        assert!(s.sum.is_nan(), "-inf + inf");
        assert_eq!((s.count, s.max, s.p99), (6, f64::INFINITY, f64::INFINITY));

        let negative = AtomicHistogram::new();
        negative.record_n(-3.0, 1);
        negative.record_n(-1.0, 1);
        let s = negative.summary();
        assert_eq!((s.min, s.max, s.p50, s.p99), (-3.0, -1.0, -1.0, -1.0));
    }

    #[test]
    fn prometheus_buckets_are_cumulative_and_include_values_on_the_bound() {
        let h = AtomicHistogram::new();
        for v in [0.001, 0.005, 0.1, 0.1, 0.3, 7.0, 20.0, -1.0] {
            h.record_n(v, 1);
        }
        h.record_n(1.0, 5);
        let s = h.summary();
        let expected = [3, 3, 3, 3, 5, 5, 6, 11, 11, 11, 12];
        let got: Vec<u64> = s.buckets.iter().map(|b| b.1).collect();
        assert_eq!(got, expected);
        assert_eq!(
            s.buckets.iter().map(|b| b.0).collect::<Vec<_>>(),
            PROMETHEUS_BOUNDS
        );
        assert_eq!(s.count, 13);
        assert!(
            (s.sum - (0.001 + 0.005 + 0.2 + 0.3 + 7.0 + 20.0 - 1.0 + 5.0)).abs() < 1e-9,
            "{}",
            s.sum
        );
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let h = std::sync::Arc::new(AtomicHistogram::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let h = std::sync::Arc::clone(&h);
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        h.record_n((t * 10_000 + i + 1) as f64, 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("recording thread");
        }
        let s = h.summary();
        assert_eq!((s.count, s.min, s.max), (40_000, 1.0, 40_000.0));
        assert_eq!(s.sum, (40_000.0 * 40_001.0) / 2.0);
    }
}
