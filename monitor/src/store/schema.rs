//! The schema and its migrations: version `n` is reached by applying
//! `MIGRATIONS[..n]` in order, each in its own transaction.

use rusqlite::{Connection, OptionalExtension};

use super::error::{Doing, StoreError};

/// One entry per schema version; append, never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: history points, per-minute aggregates, key/value state, audit trail.
    "CREATE TABLE series (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     );
     -- Keyed by time first: a tick's rows are appended to one or two
     -- pages, where (series, time) would dirty a page per series per tick.
     CREATE TABLE points (
         ts_ms INTEGER NOT NULL,
         series_id INTEGER NOT NULL,
         value REAL NOT NULL,
         PRIMARY KEY (ts_ms, series_id)
     ) WITHOUT ROWID;
     CREATE TABLE minutes (
         series_id INTEGER NOT NULL,
         minute_ms INTEGER NOT NULL,
         min REAL NOT NULL,
         max REAL NOT NULL,
         avg REAL NOT NULL,
         last REAL NOT NULL,
         count INTEGER NOT NULL,
         PRIMARY KEY (series_id, minute_ms)
     ) WITHOUT ROWID;
     CREATE INDEX minutes_by_time ON minutes (minute_ms);
     CREATE TABLE state (
         namespace TEXT NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         updated_ms INTEGER NOT NULL,
         PRIMARY KEY (namespace, key)
     ) WITHOUT ROWID;
     CREATE TABLE audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         ts_ms INTEGER NOT NULL,
         kind TEXT NOT NULL,
         detail TEXT NOT NULL
     );",
];

/// The version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to [`VERSION`]; refuses a newer file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .doing("creating the schema version table")?;
    let found: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .doing("reading the schema version")?
        .unwrap_or(0);
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: VERSION,
        });
    }
    for (done, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().doing("starting a migration")?;
        tx.execute_batch(sql).doing("migrating the schema")?;
        tx.execute("DELETE FROM schema_version", [])
            .doing("migrating the schema")?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [done as i64 + 1],
        )
        .doing("migrating the schema")?;
        tx.commit().doing("committing a migration")?;
    }
    Ok(())
}
