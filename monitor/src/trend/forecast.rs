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

/// Whether the series reaches its threshold by rising or by falling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Rising to the threshold (disk used % to 100, RSS to total memory).
    Up,
    /// Falling to the threshold (memory available to 0).
    Down,
}

/// Built-in forecasts: `(series, limit, direction, what reaching it means)`.
/// Each mounted file system's use reaching 100% is forecast too (one
/// series per mount, see [`analyse`](super::analyse)).
pub const BUILT_IN: &[(&str, Limit, Direction, &str)] = &[
    (
        "system_memory_available_bytes",
        Limit::Value(0.0),
        Direction::Down,
        "memory exhausted",
    ),
    (
        "process_rss_bytes",
        Limit::Series("system_memory_total_bytes"),
        Direction::Up,
        "process memory reaches the machine's",
    ),
];

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

/// What to forecast: a series reaching `threshold` going `direction`.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The history series.
    pub series: &'a str,
    /// The value it must not reach.
    pub threshold: f64,
    /// Reached by rising or by falling.
    pub direction: Direction,
    /// What reaching it means, e.g. `"disk / full"`.
    pub what: &'a str,
}

/// Fits `points` (`(seconds, value)`) and projects when the line reaches
/// the target's threshold from now; "reached" when the latest value is
/// already past it. `None` when the trend points away from it, is flat, or
/// fits worse than [`MIN_R2`].
pub fn forecast(target: &Target<'_>, points: &[(f64, f64)], now: f64) -> Option<Forecast> {
    let Target {
        series,
        threshold,
        direction,
        what,
    } = *target;
    let latest = points.last()?.1;
    let fit = least_squares(points)?;
    let current = fit.at(now);
    let reached = match direction {
        Direction::Up => latest >= threshold,
        Direction::Down => latest <= threshold,
    };
    let eta_secs = if reached {
        0.0
    } else {
        let towards = match direction {
            Direction::Up => fit.slope > 0.0,
            Direction::Down => fit.slope < 0.0,
        };
        let eta = (threshold - current) / fit.slope;
        if !towards || fit.r2 < MIN_R2 || !eta.is_finite() {
            return None;
        }
        eta.max(0.0)
    };
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

    fn up(what: &'static str, threshold: f64) -> Target<'static> {
        Target {
            series: "disk_used",
            threshold,
            direction: Direction::Up,
            what,
        }
    }

    #[test]
    fn rising_and_falling_series_reach_their_thresholds() {
        // Disk at 50 %, +1 %/min: 100 % in 50 min.
        let disk: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 49.0 + f64::from(s) / 60.0))
            .collect();
        let f = forecast(&up("disk / full", 100.0), &disk, 60.0).expect("forecast");
        assert!((f.eta_secs - 3000.0).abs() < 1.0, "{f:?}");
        assert_eq!(f.text, "disk / full in 50m");
        // Available memory falling 1 MB/s from 100 MB: exhausted in ~40 s.
        let mem: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 160e6 - 1e6 * f64::from(s)))
            .collect();
        let target = Target {
            series: "mem_available",
            threshold: 0.0,
            direction: Direction::Down,
            what: "memory exhausted",
        };
        let f = forecast(&target, &mem, 60.0).expect("forecast");
        assert!((f.eta_secs - 100.0).abs() < 1.0, "{f:?}");
        // Already past the threshold: reached, whatever the trend.
        let full: Vec<_> = (0..=60).map(|s| (f64::from(s), 100.0)).collect();
        let f = forecast(&up("disk / full", 100.0), &full, 60.0).expect("reached");
        assert_eq!((f.eta_secs, f.text.as_str()), (0.0, "disk / full: reached"));
    }

    #[test]
    fn no_forecast_when_moving_away_flat_or_noisy() {
        let falling: Vec<_> = (0..=60)
            .map(|s| (f64::from(s), 90.0 - f64::from(s) / 60.0))
            .collect();
        assert!(forecast(&up("full", 100.0), &falling, 60.0).is_none());
        let flat: Vec<_> = (0..=60).map(|s| (f64::from(s), 50.0)).collect();
        assert!(forecast(&up("full", 100.0), &flat, 60.0).is_none());
        let noisy: Vec<_> = (0..=60)
            .map(|s| {
                (
                    f64::from(s),
                    50.0 + if s % 2 == 0 { 20.0 } else { -20.0 } + f64::from(s) * 0.01,
                )
            })
            .collect();
        assert!(forecast(&up("full", 100.0), &noisy, 60.0).is_none());
    }
}
