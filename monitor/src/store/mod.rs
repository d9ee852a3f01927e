//! SQLite persistence: history points, per-minute aggregates, key/value
//! state and an append-only audit trail, in `<data_dir>/history.db`.
//!
//! [`Store`] is synchronous and owns its connection; the monitor drives it
//! from a dedicated thread (`monitor-store`) so the monitor thread, which also
//! serves HTTP, never waits for the disk. Other modules (alert state, the
//! audit trail) persist through the same API.
//!
//! Durability: WAL with `synchronous = NORMAL`, one transaction per tick, so
//! a kill -9 loses at most the tick being written (and any still queued for
//! the store thread, normally none); see `open.rs` for the
//! power-loss trade-off. Retention folds points older than the raw window
//! into per-minute min/max/avg/last aggregates and drops everything older
//! than the retention.

mod error;
mod open;
mod points;
mod retention;
pub mod schema;
mod state;
pub(crate) mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use error::StoreError;
pub use open::FILE_NAME;
pub use points::StoredPoint;
pub use retention::{MinuteAggregate, RetentionReport};
pub use state::AuditEntry;
pub use worker::{PersistState, PersistStatus};

use error::Doing;

/// An open history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    moved_aside: Option<PathBuf>,
    /// Series name to row id, filled as series are written or read.
    series_ids: HashMap<String, i64>,
}

impl Store {
    /// Opens or creates `<dir>/history.db`. A corrupt file is moved aside
    /// (see [`Store::moved_aside`]) and a fresh database created.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let opened = open::open(dir)?;
        Ok(Self {
            conn: opened.conn,
            path: opened.path,
            moved_aside: opened.moved_aside,
            series_ids: HashMap::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a corrupt file found at open was renamed to.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.moved_aside.as_deref()
    }

    /// The database's size in bytes (pages in use, WAL excluded).
    pub fn size_bytes(&self) -> Result<u64, StoreError> {
        let pages: i64 = self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .doing("reading the size")?;
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .doing("reading the size")?;
        Ok((pages.max(0) as u64).saturating_mul(page.max(0) as u64))
    }

    /// Caps the database file at about `bytes`; writes beyond fail with
    /// [`StoreError::Full`], as on a full disk.
    pub fn set_size_limit(&self, bytes: u64) -> Result<(), StoreError> {
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .doing("setting the size limit")?;
        let pages = (bytes / page.max(1) as u64).max(1) as i64;
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .doing("setting the size limit")
    }
}
