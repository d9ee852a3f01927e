//! History points: one transaction per tick, range queries by step.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Transaction};

use super::error::{Doing, StoreError};
use super::Store;

/// One point read back: the start of its step and the mean value in it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoredPoint {
    /// Milliseconds since the Unix epoch.
    pub t_ms: i64,
    /// Mean of the stored values in the step.
    pub value: f64,
}

impl Store {
    /// Writes one tick's values at `t_ms`, all or nothing, in one
    /// transaction. Non-finite values are skipped (SQLite cannot hold NaN).
    pub fn write_tick<'a>(
        &mut self,
        t_ms: i64,
        values: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction().doing("starting a tick")?;
        let mut new_ids = HashMap::new();
        let mut written = 0;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO points (series_id, ts_ms, value) VALUES (?1, ?2, ?3)",
                )
                .doing("preparing the tick insert")?;
            for (name, value) in values {
                if !value.is_finite() {
                    continue;
                }
                let id = match self.series_ids.get(name).or_else(|| new_ids.get(name)) {
                    Some(&id) => id,
                    None => {
                        let id = series_id(&tx, name)?;
                        new_ids.insert(name.to_string(), id);
                        id
                    }
                };
                insert
                    .execute(params![id, t_ms, value])
                    .doing("writing a tick")?;
                written += 1;
            }
        }
        tx.commit().doing("committing a tick")?;
        // Only ids that are now committed may be remembered.
        self.series_ids.extend(new_ids);
        Ok(written)
    }

    /// The points of `series` in `[from_ms, to_ms]`, averaged per `step_ms`,
    /// oldest first, at most `max_points`. Raw points where they are kept,
    /// per-minute averages before them. Raw points are keyed by time, so a
    /// range costs a scan of every series' points in it (bounded by the raw
    /// window); that is the price of cheap tick writes.
    pub fn query(
        &mut self,
        series: &str,
        from_ms: i64,
        to_ms: i64,
        step_ms: i64,
        max_points: usize,
    ) -> Result<Vec<StoredPoint>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT id FROM series WHERE name = ?1", [series], |r| {
                r.get(0)
            })
            .optional()
            .doing("looking up a series")?;
        let Some(id) = id else {
            return Ok(Vec::new());
        };
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT (t / ?4) * ?4 AS bucket, AVG(v) FROM (
                     SELECT ts_ms AS t, value AS v FROM points
                      WHERE series_id = ?1 AND ts_ms BETWEEN ?2 AND ?3
                     UNION ALL
                     SELECT minute_ms, avg FROM minutes
                      WHERE series_id = ?1 AND minute_ms BETWEEN ?2 AND ?3
                        AND minute_ms < COALESCE(
                            (SELECT MIN(ts_ms) FROM points), 9223372036854775807)
                 ) GROUP BY bucket ORDER BY bucket LIMIT ?5",
            )
            .doing("preparing a history query")?;
        let rows = statement
            .query_map(
                params![id, from_ms, to_ms, step_ms.max(1), max_points as i64],
                |r| {
                    Ok(StoredPoint {
                        t_ms: r.get(0)?,
                        value: r.get(1)?,
                    })
                },
            )
            .doing("querying history")?;
        rows.collect::<Result<Vec<_>, _>>()
            .doing("reading history rows")
    }

    /// Every series name stored.
    pub fn series_names(&self) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT name FROM series ORDER BY name")
            .doing("listing series")?;
        let rows = statement
            .query_map([], |r| r.get(0))
            .doing("listing series")?;
        rows.collect::<Result<Vec<_>, _>>().doing("listing series")
    }
}

/// The id of `name`, created if new (inside the tick's transaction).
fn series_id(tx: &Transaction<'_>, name: &str) -> Result<i64, StoreError> {
    tx.execute("INSERT OR IGNORE INTO series (name) VALUES (?1)", [name])
        .doing("adding a series")?;
    tx.query_row("SELECT id FROM series WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .doing("adding a series")
}
