//! The HTTP endpoint: a hyper server on the monitor thread's runtime that
//! serves the latest published [`Snapshot`](crate::Snapshot).
//!
//! Every connection is a task on the monitor thread's current-thread runtime,
//! never a thread of its own, so no client can make the monitor take threads
//! from the host. What bounds each connection:
//!
//! | what | bound |
//! |---|---|
//! | connections open at once | `max_connections`; one more is answered 503 and closed at once, never queued |
//! | a client sending its headers (first request or the next on a kept-alive connection) | `header_timeout`, by hyper |
//! | a client sending a request body | `header_timeout` again, then 408 |
//! | a request body | `max_body_bytes`, by `Content-Length` and while streaming, then 413 |
//! | a client not reading the response | `header_timeout` without write progress, then the connection is closed |
//! | shutdown | stop accepting, let requests in flight finish for up to [`server::SHUTDOWN_GRACE`], then drop the rest |
//!
//! The responses are pure functions of the snapshot, so they are built at
//! most once per snapshot ([`cache`]) and scrapes cannot make the monitor
//! thread render the same figures over and over.
//!
//! One concept per file: [`server`] accepts, [`connection`] serves one
//! connection, [`io`] times out stalled writes, [`auth`] checks the token,
//! [`body`] bounds request bodies, [`routes`] maps requests to responses,
//! [`response`] builds them, [`cache`] keeps them per snapshot, [`exposition`]
//! writes the Prometheus text format, [`json`] the JSON API, [`endpoints`]
//! and [`health`] the request-tracking and health bodies, and [`stats`]
//! counts what the server did.

mod auth;
mod body;
mod cache;
mod connection;
mod endpoints;
mod exposition;
mod health;
mod history;
mod io;
mod json;
mod response;
mod routes;
mod server;
mod stats;
mod traces;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::config::DashboardConfig;
use crate::history::recorder::HistoryAccess;
use crate::publish::SnapshotCell;
use crate::trace::TraceStore;

/// Serves the published snapshots over HTTP.
pub struct Server {
    settings: DashboardConfig,
    snapshots: SnapshotCell,
    traces: Arc<RwLock<TraceStore>>,
    history: Option<HistoryAccess>,
}

impl Server {
    /// A server for `snapshots` with `settings`.
    pub fn new(
        settings: DashboardConfig,
        snapshots: SnapshotCell,
        traces: Arc<RwLock<TraceStore>>,
    ) -> Self {
        Self {
            settings,
            snapshots,
            traces,
            history: None,
        }
    }

    /// Serves `/api/v1/history` from `history` (404 without it).
    pub(crate) fn with_history(mut self, history: Option<HistoryAccess>) -> Self {
        self.history = history;
        self
    }

    /// Accepts connections until `stop` becomes true (or its sender is
    /// dropped), then lets requests in flight finish, within a bound.
    pub async fn run(self, listener: TcpListener, stop: watch::Receiver<bool>) {
        let mut state = State::new(&self.settings, self.snapshots, self.traces);
        state.history = self.history;
        let state = Arc::new(state);
        server::run(state, listener, stop).await;
    }
}

/// The longest timeout accepted; longer settings are cut to this (a timer
/// far in the future would overflow `Instant` arithmetic).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// What every connection task shares.
struct State {
    /// The bearer token; `None` when no token is required.
    token: Option<String>,
    /// Bounds the time to receive headers, to receive a body, and to make
    /// write progress.
    timeout: Duration,
    /// Largest accepted request body, in bytes.
    max_body_bytes: usize,
    /// Largest number of connections open at once.
    max_connections: usize,
    /// One permit per open connection.
    permits: Arc<Semaphore>,
    snapshots: SnapshotCell,
    traces: Arc<RwLock<TraceStore>>,
    /// The rings and the store; `None` when history is off.
    history: Option<HistoryAccess>,
    cache: cache::Cache,
    stats: stats::ServerStats,
}

impl State {
    fn new(
        settings: &DashboardConfig,
        snapshots: SnapshotCell,
        traces: Arc<RwLock<TraceStore>>,
    ) -> Self {
        // The configuration validates these; clamp anyway so that no setting
        // can make the server panic (the semaphore has a maximum, timers too).
        let max_connections = settings.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let timeout = settings
            .header_timeout
            .clamp(Duration::from_millis(1), MAX_TIMEOUT);
        Self {
            // An empty token is no token, as in the configuration's check.
            token: settings.token.clone().filter(|t| !t.is_empty()),
            timeout,
            max_body_bytes: settings.max_body_bytes,
            max_connections,
            permits: Arc::new(Semaphore::new(max_connections)),
            snapshots,
            traces,
            history: None,
            cache: cache::Cache::new(),
            stats: stats::ServerStats::new(),
        }
    }

    /// Connections open now.
    fn open_connections(&self) -> usize {
        self.max_connections
            .saturating_sub(self.permits.available_permits())
    }
}
