//! Percentiles from the histogram against an exact sort.

use monitor::profile::Histogram;
use rand::{Rng, SeedableRng};

fn exact(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

fn check(samples: Vec<u64>) {
    let mut histogram = Histogram::new();
    for &v in &samples {
        histogram.record(v);
    }
    let mut sorted = samples;
    sorted.sort_unstable();
    for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
        let (want, got) = (exact(&sorted, q) as f64, histogram.quantile(q) as f64);
        let error = (got - want).abs() / want;
        assert!(
            error <= 0.01,
            "p{}: {got} vs exact {want} ({:.3}%)",
            q * 100.0,
            error * 100.0
        );
    }
}

#[test]
fn log_uniform_from_100ns_to_100s() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    check(
        (0..200_000)
            .map(|_| 10f64.powf(rng.gen_range(2.0..11.0)) as u64)
            .collect(),
    );
}

#[test]
fn narrow_latencies() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    check(
        (0..100_000)
            .map(|_| rng.gen_range(150_000..190_000))
            .collect(),
    );
}

#[test]
fn heavy_tail() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    check(
        (0..100_000)
            .map(|_| {
                let base: u64 = rng.gen_range(1_000..2_000);
                if rng.gen_bool(0.02) {
                    base * 1_000
                } else {
                    base
                }
            })
            .collect(),
    );
}
