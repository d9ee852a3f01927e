//! The `[trend]` settings: leak detection and forecasts.

use std::time::Duration;

use serde::Deserialize;

use crate::config::parse_duration;

/// Settings of trends, forecasts and the leak detector.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrendConfig {
    /// The span the leak detector fits (at most 24 h; up to 1 h it uses the
    /// 1 s ring, beyond the 1 min ring).
    pub leak_window: Duration,
    /// Growth, in units (bytes) per minute, above which a series may leak.
    pub leak_min_per_minute: f64,
    /// Goodness of fit (r², 0 to 1) the growth must reach to be flagged.
    pub leak_min_r2: f64,
    /// History series watched for leaks (e.g. process RSS, live heap).
    pub leak_series: Vec<String>,
    /// The span forecasts fit.
    pub forecast_window: Duration,
    /// Extra forecast targets beyond the built-in table.
    pub forecasts: Vec<ForecastTarget>,
}

/// A series and the value whose crossing is forecast ("disk full").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastTarget {
    /// The history series.
    pub series: String,
    /// The value it must not reach.
    pub threshold: f64,
    /// `up` (default) when the series rises to the threshold, `down` when it falls.
    #[serde(default = "rising")]
    pub direction: super::forecast::Direction,
    /// What reaching it means, e.g. `"disk / full"`.
    pub what: String,
}

fn rising() -> super::forecast::Direction {
    super::forecast::Direction::Up
}

impl Default for TrendConfig {
    fn default() -> Self {
        Self {
            leak_window: Duration::from_secs(600),
            leak_min_per_minute: 1_000_000.0,
            leak_min_r2: 0.8,
            leak_series: Vec::new(),
            forecast_window: Duration::from_secs(1800),
            forecasts: Vec::new(),
        }
    }
}

/// The `[trend]` table of the file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileTrend {
    leak_window: Option<String>,
    leak_min_per_minute: Option<f64>,
    leak_min_r2: Option<f64>,
    leak_series: Option<Vec<String>>,
    forecast_window: Option<String>,
    forecast: Option<Vec<ForecastTarget>>,
}

impl FileTrend {
    /// Sets the values present; an error is `(dotted key, reason)`.
    pub(crate) fn apply(self, to: &mut TrendConfig) -> Result<(), (&'static str, String)> {
        if let Some(v) = self.leak_window {
            to.leak_window = parse_duration(&v).map_err(|r| ("trend.leak_window", r))?;
        }
        if let Some(v) = self.leak_min_per_minute {
            to.leak_min_per_minute = v;
        }
        if let Some(v) = self.leak_min_r2 {
            to.leak_min_r2 = v;
        }
        if let Some(v) = self.leak_series {
            to.leak_series = v;
        }
        if let Some(v) = self.forecast_window {
            to.forecast_window = parse_duration(&v).map_err(|r| ("trend.forecast_window", r))?;
        }
        if let Some(v) = self.forecast {
            to.forecasts = v;
        }
        Ok(())
    }
}

impl TrendConfig {
    /// Checks the values together; an error is `(dotted key, reason)`.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        let day = Duration::from_secs(86_400);
        for (key, window) in [
            ("trend.leak_window", self.leak_window),
            ("trend.forecast_window", self.forecast_window),
        ] {
            if window < Duration::from_secs(4) || window > day {
                return Err((key, format!("{window:?} is outside 4s to 24h")));
            }
        }
        if !(self.leak_min_per_minute.is_finite() && self.leak_min_per_minute > 0.0) {
            return Err((
                "trend.leak_min_per_minute",
                "must be a number above 0 (units per minute, e.g. 1000000 bytes)".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.leak_min_r2) {
            return Err(("trend.leak_min_r2", "must be a number from 0 to 1".into()));
        }
        if let Some(t) = self.forecasts.iter().find(|t| !t.threshold.is_finite()) {
            return Err((
                "trend.forecast",
                format!("the threshold of {:?} is not a finite number", t.series),
            ));
        }
        Ok(())
    }
}
