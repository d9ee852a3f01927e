//! The process-wide list of components and their latest results, and the
//! bounded list of health events.
//!
//! Registering works before the monitor starts and while it runs: the
//! runner reads this list every pass. Every lock here is held only to copy
//! or update a few fields, never while a check runs.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::outcome::{Outcome, Status};

/// A check's future, boxed.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// How a component is checked.
#[derive(Clone)]
pub(crate) enum CheckFn {
    /// Run on a thread of its own, so it may block.
    Blocking(Arc<dyn Fn() -> Outcome + Send + Sync>),
    /// Run as a task on the monitor thread's runtime; must not block.
    Async(Arc<dyn Fn() -> BoxFuture + Send + Sync>),
}

/// How a component is checked, as set on its [`Registration`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) depends_on: Vec<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) interval: Option<Duration>,
    pub(crate) critical: bool,
}

/// A change of a component's own status, with when it happened.
#[derive(Clone, Debug, Serialize)]
pub struct Transition {
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// Transitions kept per component.
const TRANSITIONS_KEPT: usize = 16;

/// The latest result of a component's check.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) status: Status,
    /// The message of the last degraded or down result.
    pub(crate) last_error: Option<String>,
    pub(crate) last_duration: Option<Duration>,
    pub(crate) checked_at_unix_ms: Option<u64>,
    pub(crate) since_unix_ms: u64,
    pub(crate) last_started: Option<Instant>,
    pub(crate) runs: u64,
    pub(crate) failures: u64,
    pub(crate) transitions: VecDeque<Transition>,
}

/// What [`Component::claim`] found.
pub(crate) enum Claim {
    /// A run is claimed; the next is due at this time.
    Started(Instant),
    /// The previous run has not returned; [`Component::release`] wakes the
    /// runner when it does.
    Busy,
    /// The next run is due at this time.
    NotBefore(Instant),
}

/// Wakes the runner: a component was added or a run returned.
pub(crate) static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// One registered component.
pub(crate) struct Component {
    pub(crate) name: String,
    pub(crate) check: CheckFn,
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// Set while a run is going on, cleared when the check returns (not
    /// when it times out): a stuck check is never started again.
    pub(crate) busy: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only plain field updates happen under these locks.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Component {
    fn new(name: String, check: CheckFn) -> Self {
        Self {
            name,
            check,
            settings: Mutex::new(Settings {
                critical: true,
                ..Settings::default()
            }),
            state: Mutex::new(State {
                since_unix_ms: now_unix_ms(),
                ..State::default()
            }),
            busy: AtomicBool::new(false),
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub(crate) fn state(&self) -> State {
        lock(&self.state).clone()
    }

    /// Claims the next run when the previous one has returned and the
    /// interval has passed since it started.
    pub(crate) fn claim(&self, now: Instant, interval: Duration) -> Claim {
        let mut state = lock(&self.state);
        if let Some(due) = state.last_started.map(|started| started + interval) {
            if due > now {
                return Claim::NotBefore(due);
            }
        }
        if self.busy.swap(true, SeqCst) {
            return Claim::Busy;
        }
        state.last_started = Some(now);
        Claim::Started(now + interval)
    }

    /// Marks the run over, and wakes the runner for the next one.
    pub(crate) fn release(&self) {
        self.busy.store(false, SeqCst);
        WAKE.notify_one();
    }

    /// Stores the result of a run, and an event when the status changed.
    pub(crate) fn complete(&self, outcome: Outcome, took: Duration) {
        let critical = lock(&self.settings).critical;
        let now = now_unix_ms();
        let mut state = lock(&self.state);
        let from = state.status;
        let to = outcome.status();
        state.runs += 1;
        state.last_duration = Some(took);
        state.checked_at_unix_ms = Some(now);
        if let Some(message) = outcome.message() {
            state.failures += 1;
            state.last_error = Some(message.to_string());
        }
        if from == to {
            return;
        }
        state.status = to;
        state.since_unix_ms = now;
        if state.transitions.len() == TRANSITIONS_KEPT {
            state.transitions.pop_front();
        }
        state.transitions.push_back(Transition {
            from,
            to,
            at_unix_ms: now,
        });
        drop(state);
        // The first result of a healthy component is no news.
        if !(from == Status::Unknown && to == Status::Up) {
            push_event(HealthEvent {
                seq: 0,
                component: self.name.clone(),
                from,
                to,
                at_unix_ms: now,
                severity: Severity::of(to, critical),
                message: outcome.message().map(String::from),
            });
        }
    }
}

/// How urgent a health event is, for the alert engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A critical component went DOWN: page at once.
    Critical,
    /// A non-critical component went DOWN, or any went DEGRADED.
    Warning,
    /// A recovery.
    Info,
}

impl Severity {
    fn of(to: Status, critical: bool) -> Self {
        match to {
            Status::Down if critical => Severity::Critical,
            Status::Down | Status::Degraded => Severity::Warning,
            Status::Up | Status::Unknown => Severity::Info,
        }
    }
}

/// A component's status changed.
#[derive(Clone, Debug, Serialize)]
pub struct HealthEvent {
    /// Counts events from 1 since the process started; consumers remember
    /// the last one they handled.
    pub seq: u64,
    /// The component's name.
    pub component: String,
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// How urgent it is.
    pub severity: Severity,
    /// The check's message when it went DOWN or DEGRADED.
    pub message: Option<String>,
}

/// Events kept; older ones are dropped (their `seq` shows the gap).
pub(crate) const EVENTS_KEPT: usize = 256;

struct Events {
    list: VecDeque<HealthEvent>,
    total: u64,
}

static EVENTS: Mutex<Events> = Mutex::new(Events {
    list: VecDeque::new(),
    total: 0,
});

fn push_event(mut event: HealthEvent) {
    let mut events = lock(&EVENTS);
    events.total += 1;
    event.seq = events.total;
    if events.list.len() == EVENTS_KEPT {
        events.list.pop_front();
    }
    events.list.push_back(event);
}

/// The events kept, oldest first.
pub(crate) fn events() -> Vec<HealthEvent> {
    lock(&EVENTS).list.iter().cloned().collect()
}

static COMPONENTS: Mutex<Vec<Arc<Component>>> = Mutex::new(Vec::new());

/// Every registered component, in registration order.
pub(crate) fn components() -> Vec<Arc<Component>> {
    lock(&COMPONENTS).clone()
}

/// Adds a component, replacing one of the same name.
pub(crate) fn add(name: String, check: CheckFn) -> Registration {
    let component = Arc::new(Component::new(name, check));
    let mut list = lock(&COMPONENTS);
    list.retain(|c| c.name != component.name);
    list.push(Arc::clone(&component));
    drop(list);
    WAKE.notify_one();
    Registration { component }
}

/// Removes the component `name`; returns whether there was one.
pub fn unregister(name: &str) -> bool {
    let mut list = lock(&COMPONENTS);
    let before = list.len();
    list.retain(|c| c.name != name);
    list.len() != before
}

/// A registered component; its methods change how it is checked.
///
/// ```
/// use std::time::Duration;
///
/// monitor::health::register("cache", || Ok::<(), String>(()))
///     .depends_on(["network"])
///     .critical(false)
///     .timeout(Duration::from_secs(1))
///     .interval(Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct Registration {
    component: Arc<Component>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.component.name)
            .field("settings", &self.component.settings())
            .finish()
    }
}

impl Registration {
    fn with(self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut lock(&self.component.settings));
        self
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.component.name
    }

    /// Components this one needs: when one of them is DOWN, this one is
    /// shown as impaired (its own status stays what its check says).
    /// Replaces earlier dependencies.
    pub fn depends_on<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names = names.into_iter().map(Into::into).collect();
        self.with(|s| s.depends_on = names)
    }

    /// Longest a run may take; a slower run counts as DOWN (default
    /// `health.default_timeout`).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.timeout = Some(timeout))
    }

    /// Time from the start of one run to the start of the next (default
    /// `health.default_interval`).
    pub fn interval(self, interval: Duration) -> Self {
        self.with(|s| s.interval = Some(interval))
    }

    /// Whether the service is DOWN (and `/health` answers 503) when this
    /// component is DOWN. Default `true`; a non-critical component that is
    /// DOWN makes the service DEGRADED.
    pub fn critical(self, critical: bool) -> Self {
        self.with(|s| s.critical = critical)
    }
}
