//! Retention: raw points older than the raw window become per-minute
//! aggregates; aggregates older than the retention are dropped.

use std::time::Duration;

use rusqlite::params;

use super::error::{Doing, StoreError};
use super::Store;

const MINUTE_MS: i64 = 60_000;

/// One series' values in one minute, after downsampling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinuteAggregate {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Mean value.
    pub avg: f64,
    /// The minute's last value.
    pub last: f64,
    /// Values folded in.
    pub count: i64,
}

/// What one retention pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw points folded into minutes (and deleted).
    pub folded: usize,
    /// Minute aggregates dropped as older than the retention.
    pub expired: usize,
}

impl Store {
    /// Folds raw points older than `now_ms - raw_window` (whole minutes only)
    /// into per-minute min/max/avg/last, then drops aggregates older than
    /// `now_ms - retention`. One transaction.
    pub fn run_retention(
        &mut self,
        now_ms: i64,
        raw_window: Duration,
        retention: Duration,
    ) -> Result<RetentionReport, StoreError> {
        let ms = |d: Duration| d.as_millis().min(i64::MAX as u128) as i64;
        let fold_before = (now_ms.saturating_sub(ms(raw_window))).div_euclid(MINUTE_MS) * MINUTE_MS;
        let expire_before = now_ms.saturating_sub(ms(retention));
        let tx = self.conn.transaction().doing("starting retention")?;
        // A minute folded twice (points written late) merges with the
        // aggregate already there.
        tx.execute(
            "INSERT INTO minutes (series_id, minute_ms, min, max, avg, last, count)
             SELECT g.series_id, g.minute, g.lo, g.hi, g.mean, p.value, g.n
               FROM (SELECT series_id, (ts_ms / 60000) * 60000 AS minute,
                            MIN(value) AS lo, MAX(value) AS hi, AVG(value) AS mean,
                            MAX(ts_ms) AS last_ts, COUNT(*) AS n
                       FROM points WHERE ts_ms < ?1
                      GROUP BY series_id, minute) AS g
               JOIN points AS p ON p.series_id = g.series_id AND p.ts_ms = g.last_ts
              WHERE true
             ON CONFLICT (series_id, minute_ms) DO UPDATE SET
                 min = MIN(min, excluded.min),
                 max = MAX(max, excluded.max),
                 avg = (avg * count + excluded.avg * excluded.count) / (count + excluded.count),
                 last = excluded.last,
                 count = count + excluded.count",
            params![fold_before],
        )
        .doing("folding points into minutes")?;
        let folded = tx
            .execute("DELETE FROM points WHERE ts_ms < ?1", params![fold_before])
            .doing("deleting folded points")?;
        let expired = tx
            .execute(
                "DELETE FROM minutes WHERE minute_ms < ?1",
                params![expire_before],
            )
            .doing("expiring old minutes")?;
        tx.commit().doing("committing retention")?;
        Ok(RetentionReport { folded, expired })
    }

    /// The per-minute aggregate of `series` at `minute_ms`.
    pub fn minute(
        &self,
        series: &str,
        minute_ms: i64,
    ) -> Result<Option<MinuteAggregate>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT m.min, m.max, m.avg, m.last, m.count FROM minutes AS m
                   JOIN series AS s ON s.id = m.series_id
                  WHERE s.name = ?1 AND m.minute_ms = ?2",
                params![series, minute_ms],
                |r| {
                    Ok(MinuteAggregate {
                        min: r.get(0)?,
                        max: r.get(1)?,
                        avg: r.get(2)?,
                        last: r.get(3)?,
                        count: r.get(4)?,
                    })
                },
            )
            .optional()
            .doing("reading a minute aggregate")
    }

    /// Raw points stored (all series).
    pub fn raw_points(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM points", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .doing("counting points")
    }
}
