//! Forecasts: when a series will reach a threshold at its current trend
//! ("disk / full in 9 h", "memory exhausted in 40 min").

use serde::Serialize;

use super::fit::least_squares;

/// The least r² for a forecast: a poor fit says nothing about the future.
pub const MIN_R2: f64 = 0.8;

/// What a built-in forecast watches. The threshold may be another series
/// (RSS reaching total memory).
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// A fixed value.
    Value(f64),
    /// The latest value of another series.
    Series(&'static str),
}

/// Built-in forecasts: `(series, limit, what reaching it means)`.
/// System series (disk used %, memory available, RSS) are added here.
pub const BUILT_IN: &[(&str, Limit, &str)] = &[];

/// When a series is expected to reach its threshold.
#[derive(Clone, Debug, Serialize)]
pub struct Forecast {
    /// The history series.
    pub series: String,
    /// What reaching the threshold means.
    pub what: String,
    /// The threshold.
    pub threshold: f64,
    /// The fitted value now.
    pub current: f64,
    /// Trend, units per hour.
    pub per_hour: f64,
    /// Goodness of fit, 0 to 1.
    pub r2: f64,
    /// Seconds until the threshold is reached (0 when already reached).
    pub eta_secs: f64,
    /// Human summary: "disk / full in 9 h".
    pub text: String,
}

/// Fits `points` (`(seconds, value)`) and projects when the line reaches
/// `threshold` from now. `None` when the trend points away from it, is
/// flat, or fits worse than [`MIN_R2`].
pub fn forecast(
    series: &str,
    what: &str,
    threshold: f64,
    points: &[(f64, f64)],
    now: f64,
) -> Option<Forecast> {
    let fit = least_squares(points)?;
    let current = fit.at(now);
    let latest = points.last()?.1;
    let reached = if fit.slope > 0.0 {
        latest >= threshold
    } else {
        latest <= threshold
    };
    let eta_secs = if reached {
        0.0
    } else {
        let eta = (threshold - current) / fit.slope;
        if fit.r2 < MIN_R2 || fit.slope == 0.0 || !eta.is_finite() || eta <= 0.0 {
            return None;
        }
        eta
    };
    if fit.r2 < MIN_R2 {
        return None;
    }
    let text = if eta_secs == 0.0 {
        format!("{what}: reached")
    } else {
        format!("{what} in {}", super::human_duration(eta_secs))
    };
    Some(Forecast {
        series: series.to_string(),
        what: what.to_string(),
        threshold,
        current,
        per_hour: fit.slope * 3600.0,
        r2: fit.r2,
        eta_secs,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rising_and_falling_series_reach_their_thresholds() {
        // Disk at 50 %, +1 %/min: 100 % in 50 min.
        let disk: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 49.0 + f64::from(s) / 60.0))
            .collect();
        let f = forecast("disk_used", "disk / full", 100.0, &disk, 60.0).expect("forecast");
        assert!((f.eta_secs - 3000.0).abs() < 1.0, "{f:?}");
        assert_eq!(f.text, "disk / full in 50m");
        // Available memory falling 1 MB/s from 100 MB: exhausted in ~40 s.
        let mem: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 160e6 - 1e6 * f64::from(s)))
            .collect();
        let f = forecast("mem_available", "memory exhausted", 0.0, &mem, 60.0).expect("forecast");
        assert!((f.eta_secs - 100.0).abs() < 1.0, "{f:?}");
    }

    #[test]
    fn no_forecast_when_moving_away_flat_or_noisy() {
        let falling: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 90.0 - f64::from(s) / 60.0))
            .collect();
        assert!(forecast("d", "full", 100.0, &falling, 60.0).is_none());
        let flat: Vec<_> = (0..=60).map(|s| (f64::from(s), 50.0)).collect();
        assert!(forecast("d", "full", 100.0, &flat, 60.0).is_none());
        let noisy: Vec<_> = (0..=60)
            .map(|s| {
                (
                    f64::from(s),
                    50.0 + if s % 2 == 0 { 20.0 } else { -20.0 } + f64::from(s) * 0.01,
                )
            })
            .collect();
        assert!(forecast("d", "full", 100.0, &noisy, 60.0).is_none());
    }
}
