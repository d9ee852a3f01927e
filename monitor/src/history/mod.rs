//! History: every series of every snapshot in fixed-size in-memory rings
//! (1 s for an hour, 1 min for a day), persisted to the [`store`](crate::store)
//! by its own thread.
//!
//! `GET /api/v1/history?series=<name>&from=<t>&to=<t>&step=<d>` answers from
//! the rings when they cover `from` (always for the last hour of a running
//! monitor) and from SQLite otherwise (older ranges, or after a restart).
//! SQLite is only touched by the store thread: the HTTP handler sends it the
//! query and awaits the answer with a timeout, and every answer is capped at
//! 10,000 points, so no request can hold up the monitor
//! thread. Without `series`, the known series names are listed (in memory
//! and in the store).
//!
//! At startup the series the trend detectors watch are reloaded from the
//! store into the rings (once it is open), so a restart does not reset the
//! leak detector's window.

pub mod config;
pub(crate) mod query;
pub(crate) mod recorder;
mod ring;
pub(crate) mod series;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::store::worker::PersistStatus;
use ring::Ring;
pub(crate) use series::{Kind, DISK_USED_PCT};

/// Slots of the 1 s ring: an hour.
pub const SECONDS_KEPT: usize = 3600;
/// Slots of the 1 min ring: a day.
pub const MINUTES_KEPT: usize = 1440;
/// Time constant of each series' exponentially weighted moving average.
pub const EWMA_TAU_SECS: f64 = 60.0;

/// History's figures in the snapshot.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HistoryStats {
    /// Series held in the rings.
    pub series: usize,
    /// Series refused because `history.max_series` was reached.
    pub refused_series: u64,
    /// Time the monitor thread spent on history this tick (rings, hand-over
    /// to the store thread, trends), microseconds.
    pub record_us: u64,
    /// The SQLite store.
    pub store: PersistStatus,
}

/// One series: rings, kind and its moving average.
pub(crate) struct Series {
    pub(crate) name: Arc<str>,
    pub(crate) kind: Kind,
    seconds: Ring,
    minutes: Ring,
    /// `(value, seconds)` of the EWMA and when it was last updated.
    ewma: Option<(f64, f64)>,
    /// The earliest time (seconds) the rings were given: they know nothing
    /// before it (this process's start, or what was reloaded from the store).
    since_secs: i64,
}

impl Series {
    fn new(name: Arc<str>, kind: Kind, since_secs: i64) -> Self {
        Self {
            name,
            kind,
            seconds: Ring::new(1, SECONDS_KEPT),
            minutes: Ring::new(60, MINUTES_KEPT),
            ewma: None,
            since_secs,
        }
    }

    fn record(&mut self, t_secs: f64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let whole = t_secs.floor() as i64;
        self.seconds.record(whole, value);
        self.minutes.record(whole, value);
        self.ewma = Some(match self.ewma {
            // Weighted by the time since the last value, so the tick
            // length does not change the average's memory.
            Some((mean, at)) => {
                let alpha = 1.0 - (-(t_secs - at).max(0.0) / EWMA_TAU_SECS).exp();
                (mean + alpha * (value - mean), t_secs)
            }
            None => (value, t_secs),
        });
    }

    /// The moving average (time constant [`EWMA_TAU_SECS`]).
    pub(crate) fn ewma(&self) -> Option<f64> {
        self.ewma.map(|(mean, _)| mean)
    }

    /// `(seconds, value)` over the last `window_secs` up to `now_secs`:
    /// the 1 s ring for windows up to an hour, the 1 min ring beyond.
    pub(crate) fn window(&self, now_secs: i64, window_secs: i64) -> Vec<(f64, f64)> {
        let ring = if window_secs <= SECONDS_KEPT as i64 {
            &self.seconds
        } else {
            &self.minutes
        };
        ring.points(now_secs - window_secs, now_secs)
            .into_iter()
            .map(|(t, v)| (t as f64, v))
            .collect()
    }
}

/// All series, bounded by `max_series`.
pub struct History {
    series: Vec<Series>,
    index: HashMap<Arc<str>, usize>,
    max_series: usize,
    refused: u64,
    /// The first time recorded by this process (seconds).
    since_secs: Option<i64>,
    now_secs: i64,
}

impl History {
    /// Empty history holding at most `max_series` series.
    pub fn new(max_series: usize) -> Self {
        Self {
            series: Vec::new(),
            index: HashMap::new(),
            max_series,
            refused: 0,
            since_secs: None,
            now_secs: 0,
        }
    }

    /// Records one tick at `t_ms`; returns the values to persist (the
    /// series held, with their shared names).
    pub(crate) fn record(
        &mut self,
        t_ms: i64,
        values: Vec<series::SeriesValue>,
    ) -> Vec<(Arc<str>, f64)> {
        let t_secs = t_ms as f64 / 1000.0;
        let whole = t_ms.div_euclid(1000);
        self.since_secs.get_or_insert(whole);
        self.now_secs = self.now_secs.max(whole);
        let mut persist = Vec::with_capacity(values.len());
        for v in values {
            let i = match self.index.get(v.name.as_str()) {
                Some(&i) => i,
                None if self.series.len() >= self.max_series => {
                    self.refused += 1;
                    continue;
                }
                None => {
                    let since = self.since_secs.unwrap_or(whole);
                    self.insert(v.name.into(), v.kind, since)
                }
            };
            let series = &mut self.series[i];
            series.kind = v.kind;
            series.record(t_secs, v.value);
            persist.push((Arc::clone(&series.name), v.value));
        }
        persist
    }

    fn insert(&mut self, name: Arc<str>, kind: Kind, since_secs: i64) -> usize {
        self.series
            .push(Series::new(Arc::clone(&name), kind, since_secs));
        self.index.insert(name, self.series.len() - 1);
        self.series.len() - 1
    }

    /// Reloads `points` (`(ms, value)`) of `name`, everything the store
    /// holds since `since_secs`, so trends carry on across a restart; they
    /// fill the slots the rings still hold.
    pub(crate) fn backfill(&mut self, name: &str, since_secs: i64, points: &[(i64, f64)]) {
        if points.is_empty() {
            return;
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None if self.series.len() >= self.max_series => return,
            // Until live values say otherwise.
            None => self.insert(name.into(), Kind::Gauge, since_secs),
        };
        let series = &mut self.series[i];
        for &(t_ms, value) in points {
            let whole = t_ms.div_euclid(1000);
            series.seconds.record(whole, value);
            series.minutes.record(whole, value);
        }
        series.since_secs = series.since_secs.min(since_secs);
        self.now_secs = self
            .now_secs
            .max(points.last().map_or(0, |p| p.0.div_euclid(1000)));
    }

    /// Series held now.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series is held.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Series refused over the cap, counted once per tick.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The series names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.series.iter().map(|s| s.name.to_string()).collect();
        names.sort_unstable();
        names
    }

    /// The newest time recorded, seconds since the epoch.
    pub(crate) fn now_secs(&self) -> i64 {
        self.now_secs
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Series> {
        self.index.get(name).map(|&i| &self.series[i])
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &Series> {
        self.series.iter()
    }

    /// The ring that covers `from_secs` for `name` (the 1 s ring if it
    /// does, else the 1 min ring), or `None` when neither reaches back that
    /// far (before this process started recording, or older than a day).
    pub(crate) fn covering(&self, name: &str, from_secs: i64) -> Option<RingView<'_>> {
        let series = self.get(name)?;
        let since = series.since_secs;
        [&series.seconds, &series.minutes]
            .into_iter()
            .find(|ring| ring.horizon().is_some_and(|h| from_secs >= h.max(since)))
            .map(|ring| RingView { ring })
    }

    /// The finest ring holding anything for `name`, whatever its reach.
    pub(crate) fn best_effort(&self, name: &str, from_secs: i64) -> Option<RingView<'_>> {
        let series = self.get(name)?;
        let ring = match series.seconds.horizon() {
            Some(h) if from_secs >= h => &series.seconds,
            _ => &series.minutes,
        };
        Some(RingView { ring })
    }
}

/// Read access to one ring of one series.
pub(crate) struct RingView<'a> {
    ring: &'a Ring,
}

impl RingView<'_> {
    /// Seconds per slot.
    pub(crate) fn resolution(&self) -> i64 {
        self.ring.step()
    }

    /// `(seconds, mean)` per `step_secs` bucket in `[from, to]`.
    pub(crate) fn points(&self, from_secs: i64, to_secs: i64, step_secs: i64) -> Vec<(i64, f64)> {
        bucket(self.ring.points(from_secs, to_secs), step_secs)
    }
}

/// Averages `(t, v)` points (sorted by time) per `step` bucket.
pub(crate) fn bucket(points: Vec<(i64, f64)>, step: i64) -> Vec<(i64, f64)> {
    let step = step.max(1);
    let mut out: Vec<(i64, f64)> = Vec::new();
    let mut n = 0.0;
    for (t, v) in points {
        let b = t.div_euclid(step) * step;
        match out.last_mut() {
            Some((last, mean)) if *last == b => {
                n += 1.0;
                *mean += (v - *mean) / n;
            }
            _ => {
                out.push((b, v));
                n = 1.0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::series::{Kind, SeriesValue};
    use super::*;

    fn value(name: &str, value: f64) -> SeriesValue {
        SeriesValue {
            name: name.into(),
            kind: Kind::Gauge,
            value,
        }
    }

    #[test]
    fn series_over_the_cap_are_refused_and_counted() {
        let mut history = History::new(2);
        let kept = history.record(
            1_000,
            vec![value("a", 1.0), value("b", 2.0), value("c", 3.0)],
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(history.len(), 2);
        assert_eq!(history.refused(), 1);
        assert!(history.get("c").is_none());
    }

    #[test]
    fn rings_answer_recent_ranges_only() {
        let mut history = History::new(10);
        for s in 0..120 {
            history.record((10_000 + s) * 1000, vec![value("a", s as f64)]);
        }
        let view = history
            .covering("a", 10_060)
            .expect("the 1 s ring covers it");
        assert_eq!(view.resolution(), 1);
        let points = view.points(10_060, 10_119, 30);
        assert_eq!(
            points,
            vec![(10_050, 69.5), (10_080, 94.5), (10_110, 114.5)]
        );
        // Before this process started: the store must answer.
        assert!(history.covering("a", 9_000).is_none());
        assert!(history.best_effort("a", 9_000).is_some());
        // The EWMA trails a rising series.
        let ewma = history.get("a").and_then(Series::ewma).expect("ewma");
        assert!(ewma > 50.0 && ewma < 119.0, "{ewma}");
    }
}
