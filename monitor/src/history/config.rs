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
