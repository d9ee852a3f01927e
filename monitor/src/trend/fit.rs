//! Least-squares line fit with its goodness of fit (r²).

/// A straight line fitted to points, `y = intercept + slope * (x - x0)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Change of y per unit of x (per second for time series).
    pub slope: f64,
    /// y at `x0`.
    pub intercept: f64,
    /// The x the intercept refers to (the first point's), kept so large
    /// x values (unix seconds) lose no precision.
    pub x0: f64,
    /// Share of y's variance the line explains, 0 to 1 (1 for a constant y).
    pub r2: f64,
    /// Points fitted.
    pub n: usize,
}

impl Fit {
    /// The line's value at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * (x - self.x0)
    }
}

/// The least-squares line through `points`; `None` with fewer than three
/// points or when all x are equal.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let x0 = points[0].0;
    let count = n as f64;
    let mean_x = points.iter().map(|p| p.0 - x0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        let (dx, dy) = (x - x0 - mean_x, y - mean_y);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy <= f64::EPSILON * mean_y.abs().max(1.0) {
        1.0
    } else {
        (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0)
    };
    Some(Fit {
        slope,
        intercept: mean_y - slope * mean_x,
        x0,
        r2,
        n,
    })
}

/// Deterministic, serially independent noise in [-1, 1] (splitmix64), for
/// the detectors' tests.
#[cfg(test)]
pub(crate) fn noise(s: f64) -> f64 {
    let mut x = (s as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x as f64 / u64::MAX as f64) * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_fits_exactly_and_noise_lowers_r2() {
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (1.7e9 + f64::from(i), 5.0 + 2.0 * f64::from(i)))
            .collect();
        let fit = least_squares(&line).expect("fits");
        assert!((fit.slope - 2.0).abs() < 1e-9, "{fit:?}");
        assert!((fit.r2 - 1.0).abs() < 1e-9);
        assert!((fit.at(1.7e9 + 20.0) - 45.0).abs() < 1e-6);
        let zigzag: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), if i % 2 == 0 { 0.0 } else { 10.0 }))
            .collect();
        assert!(least_squares(&zigzag).expect("fits").r2 < 0.1);
        assert!(least_squares(&line[..2]).is_none());
    }
}
