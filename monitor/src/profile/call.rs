//! The code that instrumented functions run: a guard for synchronous calls and
//! a future wrapper for `async fn`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::{Context, Poll};

use super::alloc_mark::{AllocMark, Reading};
use super::callsite::Callsite;
use super::clock;
use super::shard::{with_thread, Outcome};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns recording on or off for every callsite.
pub(crate) fn set_enabled(on: bool) {
    if on {
        clock::calibrate(); // once, now, not inside the first profiled call
    }
    ENABLED.store(on, Relaxed);
}

/// Whether profiled calls are being recorded.
#[inline]
pub fn is_enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// One call of a synchronous profiled function, from entry to exit.
///
/// Dropped without [`Call::exit`] means the function unwound: the call is
/// recorded as a panic (and an error).
#[must_use]
pub struct Call {
    callsite: &'static Callsite,
    start: u64,
    parent_child_ns: u64,
    alloc: AllocMark,
    armed: bool,
}

impl Call {
    /// Starts timing a call.
    #[inline]
    pub fn enter(callsite: &'static Callsite) -> Self {
        Self::enter_at(callsite, None)
    }

    /// Starts timing a call that began at `start` (a reading of the
    /// profiling clock already taken, by a span) or now when `None`.
    #[inline]
    pub fn enter_at(callsite: &'static Callsite, start: Option<u64>) -> Self {
        let mut call = Self {
            callsite,
            start: 0,
            parent_child_ns: 0,
            alloc: AllocMark::default(),
            armed: false,
        };
        if !is_enabled() {
            return call;
        }
        let parent = with_thread(|thread| {
            let before = Reading::now();
            if let Some(shard) = thread.shard(callsite) {
                shard.start();
            }
            (thread.child_ns.replace(0), AllocMark::begin(thread, before))
        });
        if let Some((parent_child_ns, alloc)) = parent {
            call.parent_child_ns = parent_child_ns;
            call.alloc = alloc;
            call.armed = true;
            call.start = start.unwrap_or_else(clock::now);
        }
        call
    }

    /// Ends the call; `is_err` when it returned an `Err`.
    #[inline]
    pub fn exit(self, is_err: bool) {
        self.exit_timed(is_err);
    }

    /// Ends the call and returns the clock reading taken at its end (for a
    /// span to reuse), or `None` when nothing was recorded.
    #[inline]
    pub fn exit_timed(mut self, is_err: bool) -> Option<u64> {
        self.finish(if is_err { Outcome::Error } else { Outcome::Ok })
    }

    #[inline]
    fn finish(&mut self, outcome: Outcome) -> Option<u64> {
        if !self.armed {
            return None;
        }
        self.armed = false;
        let end = clock::now();
        let wall_ns = clock::nanos_between(self.start, end);
        let (callsite, parent_child_ns, alloc) = (self.callsite, self.parent_child_ns, self.alloc);
        with_thread(|thread| {
            let child_ns = thread.child_ns.replace(parent_child_ns + wall_ns);
            let shard = thread.shard(callsite);
            let end = alloc.end(thread, shard);
            if let Some(shard) = shard {
                shard.add_self(wall_ns.saturating_sub(child_ns));
                shard.finish(wall_ns, callsite.budget_ns(), outcome);
            }
            end.settle(thread);
        });
        Some(end)
    }

    #[cold]
    #[inline(never)]
    fn unwound(&mut self) {
        self.finish(Outcome::Panic);
    }
}

impl Drop for Call {
    // Inlined so that the common case, already exited, costs one branch.
    #[inline]
    fn drop(&mut self) {
        if self.armed {
            self.unwound();
        }
    }
}

/// Passes a function body through unchanged. Taking `FnOnce` explicitly
/// makes the closure `FnOnce`, so the body can move out of captured
/// arguments and return borrows of them, as the plain body could.
#[inline(always)]
pub fn fn_once<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    NotStarted,
    Running,
    Untracked,
    Done,
}

pin_project_lite::pin_project! {
    /// An `async fn` body being profiled: wall time from first poll to
    /// completion, busy time spent inside `poll`, self time excluding nested
    /// profiled calls. Dropped before completion, the call counts as cancelled
    /// (or as a panic when dropped while unwinding).
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        callsite: &'static Callsite,
        start: u64,
        state: State,
    }

    impl<F> PinnedDrop for Instrumented<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.state == State::Running {
                let wall_ns = clock::nanos_between(*this.start, clock::now());
                let outcome = if std::thread::panicking() { Outcome::Panic } else { Outcome::Cancelled };
                let callsite = *this.callsite;
                with_thread(|thread| {
                    if let Some(shard) = thread.shard(callsite) {
                        shard.finish(wall_ns, callsite.budget_ns(), outcome);
                    }
                });
            }
        }
    }
}

impl<F> Instrumented<F> {
    /// Wraps a future whose output is `(value, is_err)`.
    pub fn new(callsite: &'static Callsite, inner: F) -> Self {
        Self {
            inner,
            callsite,
            start: 0,
            state: State::NotStarted,
        }
    }
}

impl<F, T> Future for Instrumented<F>
where
    F: Future<Output = (T, bool)>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        let callsite = *this.callsite;
        if *this.state == State::NotStarted {
            *this.state = State::Untracked;
            if is_enabled() {
                let started = with_thread(|thread| thread.shard(callsite).map(|s| s.start()));
                if matches!(started, Some(Some(()))) {
                    *this.state = State::Running;
                    *this.start = clock::now();
                }
            }
        }
        if *this.state != State::Running {
            return this.inner.poll(cx).map(|(value, _)| value);
        }
        let (parent_child_ns, alloc) = with_thread(|thread| {
            (
                thread.child_ns.replace(0),
                AllocMark::begin(thread, Reading::now()),
            )
        })
        .unwrap_or_default();
        let poll_start = clock::now();
        let result = this.inner.poll(cx);
        let poll_end = clock::now();
        let poll_ns = clock::nanos_between(poll_start, poll_end);
        let finished = match &result {
            Poll::Ready((_, is_err)) => {
                *this.state = State::Done;
                Some(if *is_err { Outcome::Error } else { Outcome::Ok })
            }
            Poll::Pending => None,
        };
        let wall_ns = clock::nanos_between(*this.start, poll_end);
        with_thread(|thread| {
            let child_ns = thread.child_ns.replace(parent_child_ns + poll_ns);
            let shard = thread.shard(callsite);
            let end = alloc.end(thread, shard);
            if let Some(shard) = shard {
                shard.add_busy(poll_ns);
                shard.add_self(poll_ns.saturating_sub(child_ns));
                if let Some(outcome) = finished {
                    shard.finish(wall_ns, callsite.budget_ns(), outcome);
                }
            }
            end.settle(thread);
        });
        result.map(|(value, _)| value)
    }
}

/// Picked by method resolution when the return value is a `Result`.
pub trait ResultOutcome {
    /// Whether the value is an `Err`.
    fn __monitor_is_err(&self) -> bool;
}

impl<T, E> ResultOutcome for Result<T, E> {
    #[inline(always)]
    fn __monitor_is_err(&self) -> bool {
        self.is_err()
    }
}

/// The fallback for every other return type (one auto-ref further away, so
/// [`ResultOutcome`] wins when both apply).
pub trait OtherOutcome {
    /// Always false.
    fn __monitor_is_err(&self) -> bool;
}

impl<T: ?Sized> OtherOutcome for &T {
    #[inline(always)]
    fn __monitor_is_err(&self) -> bool {
        false
    }
}
