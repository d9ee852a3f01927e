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
