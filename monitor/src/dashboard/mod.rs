//! The HTTP server on the monitor thread. (Filled in by the dashboard work.)

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::DashboardConfig;
use crate::publish::SnapshotCell;

/// Serves the published snapshots over HTTP.
pub struct Server {
    settings: DashboardConfig,
    snapshots: SnapshotCell,
}

impl Server {
    /// A server for `snapshots` with `settings`.
    pub fn new(settings: DashboardConfig, snapshots: SnapshotCell) -> Self {
        Self { settings, snapshots }
    }

    /// Accepts connections until `stop` becomes true.
    pub async fn run(self, _listener: TcpListener, mut stop: watch::Receiver<bool>) {
        let _ = (&self.settings, &self.snapshots);
        let _ = stop.wait_for(|s| *s).await;
    }
}
