//! The runner: a task on the monitor thread's runtime that starts due
//! checks, all in parallel, each under its own timeout.
//!
//! - A blocking check runs on a thread of its own (never on the runtime,
//!   which it could stall), under `catch_unwind`. When it times out the
//!   thread is left to finish (its late result is stored then), and the
//!   component is not started again until it has: at most one thread per
//!   component.
//! - An async check runs as a task; a panic ends the task and is read from
//!   its `JoinError`; a timeout aborts it.
//!
//! Either way the result (UP, DEGRADED, or DOWN with the error, the panic
//! message or "timed out") is stored in the registry, which the tick copies
//! into the snapshot: `/health` never waits for a check.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::outcome::{panicked, Outcome};
use super::registry::{components, CheckFn, Claim, Component, WAKE};
use crate::config::HealthConfig;

/// The longest the runner sleeps between passes (it also wakes when a
/// check is due, a component is added, or a run returns).
const IDLE_PASS: Duration = Duration::from_secs(1);

/// Set once the runner has made its first pass: from then on every
/// component registered has been started at least once.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Whether a runner has made its first pass in this process.
pub(crate) fn started() -> bool {
    STARTED.load(SeqCst)
}

/// Runs checks until `stop` turns true or its sender is dropped.
pub(crate) async fn run(defaults: HealthConfig, mut stop: watch::Receiver<bool>) {
    loop {
        let now = Instant::now();
        let mut next = now + IDLE_PASS;
        for component in components() {
            let settings = component.settings();
            let interval = settings.interval.unwrap_or(defaults.default_interval);
            match component.claim(now, interval) {
                Claim::Started(due) => {
                    next = next.min(due);
                    let timeout = settings.timeout.unwrap_or(defaults.default_timeout);
                    tokio::spawn(run_once(Claimed(component), timeout));
                }
                Claim::NotBefore(due) => next = next.min(due),
                Claim::Busy => {}
            }
        }
        STARTED.store(true, SeqCst);
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = WAKE.notified() => {}
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
        }
    }
}

/// A claimed run: the component's claim is released when this is dropped,
/// whether the run ended, its thread finished, or the monitor stopped and
/// dropped the task (so that a later monitor can run the check again).
struct Claimed(Arc<Component>);

impl Drop for Claimed {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// One run of a claimed component, its result stored.
async fn run_once(claimed: Claimed, timeout: Duration) {
    let component = Arc::clone(&claimed.0);
    let began = Instant::now();
    let outcome = match component.check.clone() {
        CheckFn::Blocking(check) => blocking(claimed, check, timeout).await,
        CheckFn::Async(check) => {
            let outcome = asynchronous(check, timeout).await;
            drop(claimed);
            outcome
        }
    };
    component.complete(outcome, began.elapsed());
}

fn timed_out(timeout: Duration) -> Outcome {
    Outcome::Down(format!("the check timed out after {timeout:?}"))
}

/// Runs `check` on a thread of its own, which holds the claim until the
/// check returns, however long after the timeout that is.
async fn blocking(
    claimed: Claimed,
    check: Arc<dyn Fn() -> Outcome + Send + Sync>,
    timeout: Duration,
) -> Outcome {
    let (send, receive) = oneshot::channel();
    let began = Instant::now();
    // On failure the closure, and the claim with it, is dropped.
    let thread = std::thread::Builder::new()
        .name(String::from("monitor-health"))
        .spawn(move || {
            let outcome =
                catch_unwind(AssertUnwindSafe(|| check())).unwrap_or_else(|p| panicked(p.as_ref()));
            // After a timeout nobody waits for the result; it is still the
            // newest news about the component.
            if let Err(late) = send.send(outcome) {
                claimed.0.complete(late, began.elapsed());
            }
            drop(claimed);
        });
    if let Err(e) = thread {
        return Outcome::Down(format!("no thread could be started for the check: {e}"));
    }
    match tokio::time::timeout(timeout, receive).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Outcome::Down(String::from("the check's thread ended without a result")),
        Err(_) => timed_out(timeout),
    }
}

async fn asynchronous(
    check: Arc<dyn Fn() -> super::registry::BoxFuture + Send + Sync>,
    timeout: Duration,
) -> Outcome {
    // Making the future runs user code too.
    let future = match catch_unwind(AssertUnwindSafe(|| check())) {
        Ok(future) => future,
        Err(payload) => return panicked(payload.as_ref()),
    };
    let mut task = tokio::spawn(future);
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) if error.is_panic() => panicked(error.into_panic().as_ref()),
        Ok(Err(_)) => Outcome::Down(String::from("the check's task was cancelled")),
        Err(_) => {
            task.abort();
            timed_out(timeout)
        }
    }
}
