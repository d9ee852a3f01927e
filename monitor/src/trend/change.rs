//! Change detection: a two-sided tabular CUSUM on the recent part of a
//! window, against the trend and spread of its earlier part (the baseline's
//! least-squares line, projected forward), so a steady ramp is not a change
//! but a step or a break in the slope is.
//!
//! Sensitivity: deviations from the projected line are standardised by the
//! baseline's residual standard deviation σ (at least 0.1% of its mean, so
//! a flat series is not flagged for jitter); the CUSUM allows a drift of `K = 0.5 σ` and signals at
//! `H = 5 σ`. A sustained shift of one σ is found within about 10 points;
//! with no shift a false signal comes about once in 500 points for normal
//! noise (the textbook average run length for K = 0.5, H = 5 is 465).

use serde::Serialize;

use super::fit::least_squares;

/// Drift allowed per point, in baseline standard deviations.
pub const K: f64 = 0.5;
/// Cumulative deviation that signals a change, in standard deviations.
pub const H: f64 = 5.0;

/// A shift in a series' level.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// The history series.
    pub series: String,
    /// When the new level started, seconds since the Unix epoch.
    pub at_secs: f64,
    /// What the baseline's trend expected since then (its mean when flat).
    pub before: f64,
    /// Mean since.
    pub after: f64,
    /// Size of the shift in the baseline's residual standard deviations.
    pub sigmas: f64,
    /// Human summary: "x rose from 10 to 25".
    pub text: String,
}

/// Looks for a level shift in `recent` relative to `baseline`
/// (`(seconds, value)`, oldest first).
pub fn detect(series: &str, baseline: &[(f64, f64)], recent: &[(f64, f64)]) -> Option<Change> {
    if baseline.len() < 10 || recent.is_empty() {
        return None;
    }
    let fit = least_squares(baseline)?;
    let n = baseline.len() as f64;
    let mean = baseline.iter().map(|p| p.1).sum::<f64>() / n;
    let residual = baseline
        .iter()
        .map(|&(t, v)| (v - fit.at(t)).powi(2))
        .sum::<f64>()
        / (n - 2.0);
    let sigma = residual.sqrt().max(mean.abs() * 1e-3).max(1e-9);
    let z: Vec<f64> = recent
        .iter()
        .map(|&(t, v)| (v - fit.at(t)) / sigma)
        .collect();
    let (mut up, mut down) = (0.0_f64, 0.0_f64);
    let alarm = z.iter().position(|&z| {
        up = (up + z - K).max(0.0);
        down = (down - z - K).max(0.0);
        up > H || down > H
    })?;
    let start = onset(&z, alarm);
    let since = &recent[start..];
    let after = since.iter().map(|p| p.1).sum::<f64>() / since.len() as f64;
    // What the baseline's trend expected over the same points.
    let expected = since.iter().map(|&(t, _)| fit.at(t)).sum::<f64>() / since.len() as f64;
    let verb = if after > expected { "rose" } else { "fell" };
    Some(Change {
        series: series.to_string(),
        at_secs: since[0].0,
        before: expected,
        after,
        sigmas: (after - expected).abs() / sigma,
        text: format!(
            "{series} {verb} from {} to {}",
            short(expected),
            short(after)
        ),
    })
}

/// The likeliest start of a shift signalled at `alarm`: the `k <= alarm`
/// whose suffix `z[k..]` deviates most, `|sum| / sqrt(len)`.
fn onset(z: &[f64], alarm: usize) -> usize {
    let mut best = (0, f64::MIN);
    let mut sum = 0.0;
    for k in (0..z.len()).rev() {
        sum += z[k];
        let score = sum.abs() / ((z.len() - k) as f64).sqrt();
        if k <= alarm && score > best.1 {
            best = (k, score);
        }
    }
    best.0
}

/// A number with at most 4 significant digits.
fn short(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if v.abs() >= 1e4 {
        format!("{v:.0}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trend::fit::noise;

    fn points(range: std::ops::Range<i32>, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        range.map(|s| (f64::from(s), f(f64::from(s)))).collect()
    }

    #[test]
    fn a_step_is_found_where_it_happened() {
        let baseline = points(0..90, |s| 10.0 + noise(s));
        let recent = points(90..120, |s| {
            if s < 100.0 {
                10.0 + noise(s)
            } else {
                20.0 + noise(s)
            }
        });
        let change = detect("latency", &baseline, &recent).expect("found");
        assert!((100.0..=102.0).contains(&change.at_secs), "{change:?}");
        assert!((change.after - 20.0).abs() < 1.0, "{change:?}");
        assert!(
            change.text.starts_with("latency rose from 10"),
            "{}",
            change.text
        );
        let fall = points(90..120, |s| 2.0 + noise(s));
        assert!(detect("latency", &baseline, &fall)
            .expect("found")
            .text
            .contains("fell"));
    }

    #[test]
    fn noise_and_a_flat_series_show_no_change() {
        let baseline = points(0..90, |s| 10.0 + noise(s));
        let recent = points(90..120, |s| 10.0 + noise(s));
        assert!(detect("latency", &baseline, &recent).is_none());
        let flat = points(0..90, |_| 5.0);
        assert!(detect("x", &flat, &points(90..120, |_| 5.0)).is_none());
        // A steady ramp continues its trend: no change.
        let ramp = |s: f64| 100.0 + 3.0 * s + noise(s);
        assert!(detect("x", &points(0..90, ramp), &points(90..120, ramp)).is_none());
        // A ramp that stops is one.
        let stops = |s: f64| ramp(s.min(100.0));
        let change = detect("x", &points(0..90, ramp), &points(90..120, stops)).expect("break");
        assert!(change.text.contains("fell"), "{}", change.text);
    }
}
