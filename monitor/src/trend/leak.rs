//! Leak detection: sustained growth of a memory series.
//!
//! The window is cut into [`SEGMENTS`] equal spans and the line is fitted
//! to each span's minimum, not to every point: memory that is allocated and
//! freed again (a sawtooth, a cache that is trimmed) keeps returning to its
//! floor, so its minima stay flat, while a leak raises the floor itself. A
//! series is flagged when, over a window it covers for at least 80%,
//!
//! - the minima grow faster than `leak_min_per_minute`,
//! - the line fits them with r² of at least `leak_min_r2`, and
//! - at least 3 in 4 consecutive minima rise (a single step, such as a cache
//!   filled once, is growth but not a leak).
//!
//! A sawtooth whose period is longer than the window cannot be told from a
//! leak within that window: choose a window longer than the application's
//! normal cycles.

use serde::Serialize;

use super::fit::least_squares;

/// Spans the window is cut into.
pub const SEGMENTS: usize = 8;
/// Share of the window the points must cover.
const MIN_COVERAGE: f64 = 0.8;
/// Share of consecutive minima that must rise.
const MIN_RISING: f64 = 0.75;

/// What makes growth a leak.
#[derive(Clone, Copy, Debug)]
pub struct LeakRule {
    /// The span fitted, seconds.
    pub window_secs: f64,
    /// Least growth flagged, units per minute.
    pub min_per_minute: f64,
    /// Least r² of the fit of the minima.
    pub min_r2: f64,
}

/// A series flagged as leaking, with the evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Leak {
    /// The history series.
    pub series: String,
    /// Growth of the floor, units (bytes) per hour.
    pub per_hour: f64,
    /// The span fitted, seconds.
    pub window_secs: f64,
    /// Goodness of the fit of the minima, 0 to 1.
    pub r2: f64,
    /// The fitted floor at the window's start.
    pub start_value: f64,
    /// The fitted floor at the window's end.
    pub end_value: f64,
    /// Human summary: "RSS grows 40 MB/h: leak suspected".
    pub text: String,
}

/// Checks `points` (`(seconds, value)`, oldest first, within the window
/// ending at `now`) against `rule`.
pub fn detect(series: &str, points: &[(f64, f64)], now: f64, rule: &LeakRule) -> Option<Leak> {
    let start = now - rule.window_secs;
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(t, v)| t >= start && t <= now && v.is_finite())
        .collect();
    let (first, last) = (points.first()?.0, points.last()?.0);
    if last - first < MIN_COVERAGE * rule.window_secs || points.len() < 2 * SEGMENTS {
        return None;
    }
    let minima = segment_minima(&points, first, last);
    let fit = least_squares(&minima)?;
    let rising = minima.windows(2).filter(|w| w[1].1 > w[0].1).count();
    let rising_share = rising as f64 / (minima.len() - 1) as f64;
    let per_minute = fit.slope * 60.0;
    if per_minute < rule.min_per_minute || fit.r2 < rule.min_r2 || rising_share < MIN_RISING {
        return None;
    }
    let per_hour = fit.slope * 3600.0;
    Some(Leak {
        series: series.to_string(),
        per_hour,
        window_secs: rule.window_secs,
        r2: fit.r2,
        start_value: fit.at(first),
        end_value: fit.at(last),
        text: format!(
            "{series} grows {:.1} MB/h over {}: leak suspected (fit r² {:.2})",
            per_hour / 1e6,
            super::human_duration(rule.window_secs),
            fit.r2
        ),
    })
}

/// The lowest point of each of [`SEGMENTS`] equal spans of `[first, last]`.
fn segment_minima(points: &[(f64, f64)], first: f64, last: f64) -> Vec<(f64, f64)> {
    let span = (last - first) / SEGMENTS as f64;
    let mut minima: Vec<Option<(f64, f64)>> = vec![None; SEGMENTS];
    for &(t, v) in points {
        let i = (((t - first) / span) as usize).min(SEGMENTS - 1);
        if minima[i].is_none_or(|(_, m)| v < m) {
            minima[i] = Some((t, v));
        }
    }
    minima.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trend::fit::noise;

    const RULE: LeakRule = LeakRule {
        window_secs: 600.0,
        min_per_minute: 1e6,
        min_r2: 0.8,
    };

    /// One point a second over the 10 min window ending at 10_600.
    fn series(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..=600)
            .map(|s| (10_000.0 + f64::from(s), f(f64::from(s))))
            .collect()
    }

    #[test]
    fn linear_growth_is_flagged_with_its_rate() {
        // 100 MB + 2 MB/min, with 0.5 MB of noise.
        let points = series(|s| 100e6 + 2e6 * s / 60.0 + 0.5e6 * noise(s));
        let leak = detect("rss", &points, 10_600.0, &RULE).expect("flagged");
        assert!((leak.per_hour / 1e6 - 120.0).abs() < 6.0, "{leak:?}");
        assert!(leak.r2 > 0.95, "{leak:?}");
        assert!(leak.end_value > leak.start_value);
        assert!(leak.text.contains("rss grows 1"), "{}", leak.text);
        assert!(leak.text.contains("MB/h over 10m"), "{}", leak.text);
    }

    #[test]
    fn slow_growth_is_not_a_leak() {
        let points = series(|s| 100e6 + 0.5e6 * s / 60.0);
        assert!(detect("rss", &points, 10_600.0, &RULE).is_none());
    }

    #[test]
    fn a_sawtooth_is_not_flagged() {
        // Grows 10 MB/min for 2 min, then frees back to 100 MB; repeats.
        for period in [30.0, 120.0, 200.0] {
            let points = series(|s| 100e6 + 10e6 * (s % period) / 60.0);
            assert!(
                detect("heap", &points, 10_600.0, &RULE).is_none(),
                "period {period}"
            );
        }
    }

    #[test]
    fn noise_and_a_step_are_not_flagged() {
        let noisy = series(|s| 100e6 + 20e6 * noise(s));
        assert!(detect("rss", &noisy, 10_600.0, &RULE).is_none());
        // A cache filled once, in the middle of the window.
        let step = series(|s| if s < 300.0 { 100e6 } else { 400e6 });
        assert!(detect("rss", &step, 10_600.0, &RULE).is_none());
    }

    #[test]
    fn a_window_not_yet_covered_is_not_judged() {
        let points: Vec<_> = series(|s| 100e6 + 5e6 * s / 60.0)
            .into_iter()
            .skip(300)
            .collect();
        assert!(detect("rss", &points, 10_600.0, &RULE).is_none());
    }
}
