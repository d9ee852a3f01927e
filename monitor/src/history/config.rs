//! The `[history]` settings: rings and the SQLite store.

use std::time::Duration;

use serde::Deserialize;

use crate::config::parse_duration;

/// Settings of the in-memory rings and the SQLite store under `data_dir`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HistoryConfig {
    /// Whether to keep history at all (rings, store, trends).
    pub enabled: bool,
    /// Whether to write history to `<data_dir>/history.db`.
    pub persist: bool,
    /// How long the store keeps history (per-minute aggregates after `raw_window`).
    pub retention: Duration,
    /// How long the store keeps every point before folding it into per-minute
    /// aggregates (min, max, avg, last).
    pub raw_window: Duration,
    /// Series kept; more are refused and counted (a full series costs about
    /// 50 KB of rings).
    pub max_series: usize,
    /// Caps the database file; beyond it writes fail as on a full disk
    /// (persistence is marked unavailable until retention frees room).
    pub max_db_bytes: Option<u64>,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            persist: true,
            retention: Duration::from_secs(7 * 24 * 3600),
            raw_window: Duration::from_secs(3600),
            max_series: 256,
            max_db_bytes: None,
        }
    }
}

/// The `[history]` table of the file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileHistory {
    enabled: Option<bool>,
    persist: Option<bool>,
    retention: Option<String>,
    raw_window: Option<String>,
    max_series: Option<usize>,
    max_db_bytes: Option<u64>,
}

impl FileHistory {
    /// Sets the values present; an error is `(dotted key, reason)`.
    pub(crate) fn apply(self, to: &mut HistoryConfig) -> Result<(), (&'static str, String)> {
        if let Some(v) = self.enabled {
            to.enabled = v;
        }
        if let Some(v) = self.persist {
            to.persist = v;
        }
        if let Some(v) = self.retention {
            to.retention = parse_long_duration(&v).map_err(|r| ("history.retention", r))?;
        }
        if let Some(v) = self.raw_window {
            to.raw_window = parse_long_duration(&v).map_err(|r| ("history.raw_window", r))?;
        }
        if let Some(v) = self.max_series {
            to.max_series = v;
        }
        if let Some(v) = self.max_db_bytes {
            to.max_db_bytes = Some(v);
        }
        Ok(())
    }
}

impl HistoryConfig {
    /// Checks the values together; an error is `(dotted key, reason)`.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_series == 0 {
            return Err(("history.max_series", "must be at least 1".into()));
        }
        if self.retention < Duration::from_secs(60) {
            return Err(("history.retention", "must be at least 1m".into()));
        }
        if self.raw_window > self.retention {
            return Err((
                "history.raw_window",
                format!(
                    "{:?} is longer than history.retention ({:?}); raw points cannot outlive the retention",
                    self.raw_window, self.retention
                ),
            ));
        }
        Ok(())
    }
}

/// Like [`parse_duration`], also accepting days (`"7d"`).
pub(crate) fn parse_long_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    match trimmed.strip_suffix('d') {
        Some(days) => {
            let days: f64 = days
                .trim()
                .parse()
                .ok()
                .filter(|d: &f64| d.is_finite() && *d >= 0.0)
                .ok_or_else(|| format!("{text:?} is not a number of days such as 7d"))?;
            Duration::try_from_secs_f64(days * 86_400.0)
                .map_err(|_| format!("{text:?} is out of range"))
        }
        None => parse_duration(trimmed),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Origin};
    use std::time::Duration;

    fn load(text: &str) -> Result<Config, crate::ConfigError> {
        let mut c = Config::default();
        c.apply_toml(text, Origin::File("monitor.toml".into()))
            .map(|_| c)
    }

    #[test]
    fn history_and_trend_tables_are_read() {
        let c = load(
            "[history]\nretention = \"2d\"\nraw_window = \"30m\"\nmax_series = 10\npersist = false\n\
             [trend]\nleak_window = \"5m\"\nleak_min_per_minute = 2e6\nleak_min_r2 = 0.9\nleak_series = [\"rss\"]\n\
             [[trend.forecast]]\nseries = \"mem_available\"\nthreshold = 0\ndirection = \"down\"\nwhat = \"memory exhausted\"\n",
        )
        .expect("valid");
        assert_eq!(c.history.retention, Duration::from_secs(2 * 86_400));
        assert_eq!(c.history.raw_window, Duration::from_secs(1800));
        assert_eq!(c.history.max_series, 10);
        assert!(!c.history.persist);
        assert_eq!(c.trend.leak_window, Duration::from_secs(300));
        assert_eq!(c.trend.leak_series, vec!["rss".to_string()]);
        assert_eq!(c.trend.forecasts[0].what, "memory exhausted");
        assert_eq!(
            c.trend.forecasts[0].direction,
            crate::trend::forecast::Direction::Down
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            ("[history]\nretention = \"forever\"\n", "history.retention"),
            ("[history]\nmax_series = 0\n", "history.max_series"),
            (
                "[history]\nretention = \"1h\"\nraw_window = \"2h\"\n",
                "history.raw_window",
            ),
            ("[history]\nkeep = 3\n", "history.keep"),
            ("[trend]\nleak_min_r2 = 1.5\n", "trend.leak_min_r2"),
            ("[trend]\nleak_window = \"2d\"\n", "trend.leak_window"),
            (
                "[trend]\nleak_min_per_minute = -1\n",
                "trend.leak_min_per_minute",
            ),
        ] {
            let e = load(text).expect_err(text);
            assert_eq!(e.key, key, "{text}: {e}");
            assert!(!e.reason.is_empty());
        }
    }
}
