//! Component health: checks of what the service depends on, run in the
//! background, served at `/health`, `/health/live` and `/health/ready`.
//!
//! ```
//! use std::time::Duration;
//! use monitor::health::{self, checks};
//!
//! fn ping_db() -> Result<(), std::io::Error> { Ok(()) }
//!
//! health::register("db", ping_db)
//!     .timeout(Duration::from_secs(2))
//!     .interval(Duration::from_secs(10));
//! health::register_async("search", checks::http_get("http://127.0.0.1:9200/_cluster/health"))
//!     .depends_on(["db"])
//!     .critical(false);
//! ```
//!
//! # How checks run
//!
//! Checks run on the monitor thread, all in parallel, each at its own
//! interval and under its own timeout ([`Registration`]). A blocking check
//! ([`register`]) runs on a thread of its own under `catch_unwind`, so a
//! check that hangs or panics cannot stall or crash anything: it is
//! recorded as DOWN with "timed out" or the panic message, and a hung check
//! is not started again until it returns. An async check
//! ([`register_async`]) runs as a task on the monitor's runtime and must
//! not block. Results are kept, so the endpoints answer at once from the
//! latest snapshot.
//!
//! # Statuses
//!
//! Each component has its own [`Status`] (UP, DEGRADED, DOWN, UNKNOWN
//! before its first result), the duration of its last run, its last error
//! and since when its status holds. A component whose dependency (direct
//! or not) is DOWN is shown as *impaired*, apart from its own status.
//! Unknown dependency names and cycles are listed as problems. The
//! service is DOWN when a critical component is DOWN (`/health` answers
//! 503), DEGRADED when any component is DOWN, DEGRADED or impaired.
//!
//! Each change of a component's status is a [`HealthEvent`]; a critical
//! component going DOWN has [`Severity::Critical`], for the alert engine.
//!
//! `/health/live` answers 200 whenever the monitor's server answers: it
//! never depends on outside systems. `/health/ready` answers 503 until
//! every component has a result, and while a critical one is DOWN.

pub mod checks;
mod graph;
mod outcome;
mod registry;
mod run;
mod snapshot;

use std::future::Future;
use std::sync::Arc;

pub use outcome::{IntoOutcome, Outcome, Status};
pub use registry::{unregister, HealthEvent, Registration, Severity, Transition};
pub(crate) use run::run;
pub(crate) use snapshot::collect;
pub use snapshot::{ComponentHealth, HealthSnapshot};

use registry::{BoxFuture, CheckFn};

/// Registers a blocking check named `name` (replacing one of the same
/// name). It returns `Result<T, E>` with a displayable error (or an
/// [`Outcome`]) and runs on a thread of its own.
pub fn register<F, R>(name: impl Into<String>, check: F) -> Registration
where
    F: Fn() -> R + Send + Sync + 'static,
    R: IntoOutcome,
{
    registry::add(
        name.into(),
        CheckFn::Blocking(Arc::new(move || check().into_outcome())),
    )
}

/// Registers an async check named `name` (replacing one of the same name).
/// Its future runs as a task on the monitor thread's runtime: it must not
/// block (use [`register`] for blocking checks).
pub fn register_async<F, Fut>(name: impl Into<String>, check: F) -> Registration
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoOutcome,
{
    registry::add(
        name.into(),
        CheckFn::Async(Arc::new(move || -> BoxFuture {
            let future = check();
            Box::pin(async move { future.await.into_outcome() })
        })),
    )
}
