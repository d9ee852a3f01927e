//! Hands the latest snapshot from the monitor thread to its readers.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::snapshot::Snapshot;

/// A shared slot holding the latest [`Snapshot`]. Readers never block the
/// writer: a read is a lock-free pointer load.
#[derive(Clone)]
pub struct SnapshotCell(Arc<ArcSwap<Snapshot>>);

impl SnapshotCell {
    /// A cell holding the empty snapshot.
    pub fn new() -> Self {
        Self(Arc::new(ArcSwap::from_pointee(Snapshot::default())))
    }

    /// The latest snapshot.
    pub fn load(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    pub(crate) fn publish(&self, snapshot: Arc<Snapshot>) {
        self.0.store(snapshot);
    }
}

impl Default for SnapshotCell {
    fn default() -> Self {
        Self::new()
    }
}

/// The snapshots of the monitor running in this process, if any: lets a
/// reader without the guard (the load-test harness) see the server side.
static CURRENT: std::sync::RwLock<Option<SnapshotCell>> = std::sync::RwLock::new(None);

pub(crate) fn set_current(cell: Option<SnapshotCell>) {
    *CURRENT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = cell;
}

/// The latest snapshot of the monitor running in this process (at most one
/// tick old), or `None` when no monitor runs.
pub fn current_snapshot() -> Option<Arc<Snapshot>> {
    CURRENT
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .map(SnapshotCell::load)
}
