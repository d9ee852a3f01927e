//! The crate's top-level error.

use std::io;
use std::net::SocketAddr;

use crate::config::ConfigError;

/// Why the monitor could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration (file, environment or builder) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `init()` was called while a monitor is already running in this process.
    #[error("the monitor is already running in this process; keep the guard from the first init() and drop it before starting another")]
    AlreadyRunning,
    /// Another `metrics` recorder was installed before the monitor.
    #[error("another `metrics` recorder is already installed, so facade metrics cannot reach the monitor; remove the other recorder or set metrics.install_recorder = false")]
    RecorderAlreadyInstalled,
    /// The dashboard address could not be bound.
    #[error("cannot listen on {addr}: {source}; set MONITOR_ADDR (or dashboard.addr) to a free address, port 0 picks any")]
    Bind {
        /// The address that was tried.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// The background thread could not be started.
    #[error("cannot start the monitor thread: {0}")]
    Thread(#[source] io::Error),
}
