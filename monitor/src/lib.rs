//! In-process monitoring for Rust services.
//!
//! Put `#[monitor::profile]` on functions, call [`init`] in `main`, and read
//! per-function statistics at `/metrics` (Prometheus) and `/api/v1/functions`
//! on `127.0.0.1:9184`.
//!
//! ```no_run
//! #[monitor::profile]
//! fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
//!     input.trim().parse()
//! }
//!
//! fn main() -> Result<(), monitor::Error> {
//!     let monitor = monitor::init()?;
//!     println!("dashboard: http://{}/", monitor.dashboard_addr().unwrap());
//!     let _ = parse("42");
//!     Ok(())
//! }
//! ```
//!
//! # The hot path and the monitor thread
//!
//! A profiled call reads the clock twice and adds to counters that belong to
//! the calling thread: no lock, allocation, hash lookup or system call after a
//! thread's first call of a function. A background thread (`monitor`) merges
//! the per-thread figures once a tick into an immutable [`Snapshot`], which the
//! HTTP endpoints serve. Before [`init`], after the guard is dropped, or with
//! `MONITOR_DISABLE=1`, a profiled call costs one relaxed atomic load.
//!
//! # System metrics
//!
//! Each snapshot also carries [`system::SystemStats`]: CPU, memory, this
//! process and its threads, disks, networks, TCP states, probes and watched
//! processes (`[system]` in the configuration), served at `/api/v1/system`
//! and in `/metrics`. A reading that cannot be taken is listed with the
//! reason in `snapshot.system.unavailable`; the others are unaffected.
//!
//! # Requests and health
//!
//! [`http::record`] (or the tower layer `http::TrackLayer`) counts each request
//! under its route template; `/api/v1/endpoints` ranks the endpoints.
//! [`health::register`] adds a component check, run in the background with
//! its own timeout; `/health`, `/health/live` and `/health/ready` answer
//! from the latest results.
//!
//! # History and trends
//!
//! Each snapshot's series go into in-memory rings (1 s for an hour, 1 min
//! for a day) and, on a thread of their own, into SQLite under
//! `MONITOR_DATA_DIR` ([`store`]); `/api/v1/history` serves them
//! ([`history`]). [`trend`] finds leaks, forecasts thresholds and spots
//! level changes; its findings are in [`Snapshot::trends`]. A data
//! directory that cannot be used only marks persistence unavailable.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `reqwest` | `trace::RequestBuilderExt::with_trace_context` for outgoing requests |
//! | `otlp` | export of spans over OTLP/HTTP protobuf to an OpenTelemetry collector |
//! | `alloc` | `alloc::Counting`, a counting global allocator: live heap, allocation rate, bytes per profiled call |
//! | `tower` | `http::TrackLayer`, request tracking middleware for tower services (axum) |
//! | `loadtest` | `loadtest`: load tests with thresholds and baselines, from integration tests |
//!
//! # Configuration
//!
//! Defaults, then `monitor.toml` (or the file named by `MONITOR_CONFIG`), then
//! `MONITOR_*` environment variables (`MONITOR_ADDR`, `MONITOR_TOKEN`,
//! `MONITOR_DATA_DIR`, `MONITOR_TICK`, `MONITOR_DISABLE`); values set on the
//! [`builder`] win over all of them, except `MONITOR_DISABLE`.

// Library code never unwraps what a user or the network controls.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

#[cfg(feature = "alloc")]
pub mod alloc;
mod builder;
pub mod config;
mod dashboard;
mod error;
pub mod health;
pub mod history;
pub mod http;
#[cfg(feature = "loadtest")]
pub mod loadtest;
pub mod profile;
mod publish;
mod registry;
mod runtime;
pub mod snapshot;
pub mod store;
pub mod system;
pub mod trace;
pub mod trend;

pub use builder::{builder, Builder};
pub use config::{Config, ConfigError};
pub use error::Error;
pub use monitor_macros::{profile, traced};
pub use publish::{current_snapshot, SnapshotCell};
pub use runtime::Monitor;
pub use snapshot::Snapshot;

/// Starts the monitor with defaults, `./monitor.toml` if present, and the
/// `MONITOR_*` environment. Keep the returned guard alive for as long as the
/// monitor should run.
pub fn init() -> Result<Monitor, Error> {
    builder().start()
}

/// Items the attribute macros expand to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::profile::{
        fn_once, is_enabled, Call, Callsite, Instrumented, OtherOutcome, ResultOutcome,
    };
    pub use crate::trace::{SpanGuard, WithContext};
}
