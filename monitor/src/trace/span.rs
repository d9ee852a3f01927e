//! Recording spans: the current span of a thread, the guard a `#[traced]`
//! call holds, and the finished [`SpanRecord`].
//!
//! The current span lives in a thread-local; a span started while another is
//! current becomes its child. `async fn` spans are made current during each
//! poll of their future, so they stay correct across `.await` and across
//! threads. A finished span is sent to the monitor thread over a lock-free
//! channel (see `collect`).

use std::cell::Cell;
use std::fmt::{self, Debug, Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use super::collect::submit;
use super::context::{TraceContext, TraceState};
use super::id::{SpanId, TraceId};
use crate::profile::{clock, is_enabled, Callsite};

/// The identity of the span running on this thread now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanContext {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span itself.
    pub span_id: SpanId,
    /// Whether the trace is being recorded.
    pub sampled: bool,
    /// Whether the span was started in this process (false for a context
    /// extracted from a request: its span is the remote parent).
    pub local: bool,
}

impl From<&TraceContext> for SpanContext {
    /// A context extracted from a request: its span is the remote parent of
    /// the spans this process starts under it.
    fn from(remote: &TraceContext) -> Self {
        Self {
            trace_id: remote.trace_id,
            span_id: remote.span_id,
            sampled: remote.sampled,
            local: false,
        }
    }
}

impl From<SpanContext> for TraceContext {
    /// The context to send on an outgoing request made inside this span.
    fn from(span: SpanContext) -> Self {
        Self {
            trace_id: span.trace_id,
            span_id: span.span_id,
            sampled: span.sampled,
            trace_state: TraceState::default(),
        }
    }
}

/// New local traces are head-sampled when the low 64 bits of their trace id
/// are below this (`ratio * 2^64`; `u64::MAX` keeps all). Deciding on the id
/// means every process that sees the trace decides alike.
static SAMPLE_BELOW: AtomicU64 = AtomicU64::new(u64::MAX);

/// Sets the share of new traces that are sampled (0.0 to 1.0).
pub(crate) fn set_sample_ratio(ratio: f64) {
    let below = if ratio >= 1.0 {
        u64::MAX
    } else {
        (ratio.max(0.0) * 2f64.powi(64)) as u64
    };
    SAMPLE_BELOW.store(below, Relaxed);
}

fn head_sampled(trace_id: TraceId) -> bool {
    let below = SAMPLE_BELOW.load(Relaxed);
    below == u64::MAX || (trace_id.to_u128() as u64) < below
}

thread_local! {
    static CURRENT: Cell<Option<SpanContext>> = const { Cell::new(None) };
}

/// The span current on this thread, if any.
pub fn current() -> Option<SpanContext> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

/// Makes `context` current until the returned guard is dropped; used to
/// continue a remote trace (from [`super::extract`]) or to carry a span to
/// another thread.
pub fn enter_context(context: SpanContext) -> ContextGuard {
    ContextGuard {
        previous: replace_current(Some(context)),
    }
}

/// Restores the previous current span when dropped.
#[must_use = "the context is current only while the guard lives"]
pub struct ContextGuard {
    previous: Option<SpanContext>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        replace_current(self.previous);
    }
}

pub(crate) fn replace_current(context: Option<SpanContext>) -> Option<SpanContext> {
    CURRENT
        .try_with(|current| current.replace(context))
        .ok()
        .flatten()
}

/// One key and value recorded on a span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// The field name.
    pub key: &'static str,
    /// The value, formatted.
    pub value: String,
}

/// Longest attribute value kept; longer ones are cut at a char boundary.
const MAX_VALUE_LEN: usize = 1024;

/// A finished span.
#[derive(Clone, Debug, Serialize)]
pub struct SpanRecord {
    /// The trace.
    pub trace_id: TraceId,
    /// The span.
    pub span_id: SpanId,
    /// Its parent, local or remote; `None` for a root.
    pub parent_span_id: Option<SpanId>,
    /// Whether the parent is in another process.
    pub remote_parent: bool,
    /// The trace's head-sampling decision (the W3C `sampled` flag).
    pub sampled: bool,
    /// The span name (the function name unless `name = ` was given).
    pub name: &'static str,
    /// The module of the function.
    pub module: &'static str,
    /// Start, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// Wall time from start to end.
    pub duration_ns: u64,
    /// Recorded arguments and fields.
    pub attributes: Vec<Attribute>,
    /// The error message, when the call returned `Err` or panicked.
    pub error: Option<String>,
    /// Events recorded inside the span (from `tracing`), oldest first, at
    /// most [`MAX_EVENTS_PER_SPAN`].
    pub events: Vec<SpanEvent>,
    /// Events beyond [`MAX_EVENTS_PER_SPAN`], counted and dropped.
    pub dropped_events: u32,
}

/// Events kept per span.
pub const MAX_EVENTS_PER_SPAN: usize = 128;

/// Something that happened inside a span, such as a `tracing` event.
#[derive(Clone, Debug, Serialize)]
pub struct SpanEvent {
    /// When, nanoseconds since the Unix epoch.
    pub unix_ns: u64,
    /// Severity (`ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`).
    pub level: &'static str,
    /// The message and fields.
    pub attributes: Vec<Attribute>,
}

/// A span being recorded: what a `#[traced]` call holds from entry to exit.
/// Dropped without [`SpanGuard::exit`] means the function unwound: the span
/// is recorded with the error "panicked".
#[must_use]
pub struct SpanGuard {
    active: Option<Active>,
}

struct Active {
    callsite: &'static Callsite,
    context: SpanContext,
    parent: Option<SpanContext>,
    /// Start, in ticks of the profiling clock.
    start: u64,
    attributes: Vec<Attribute>,
    /// Whether this span is the thread's current one (sync calls); async
    /// spans are made current only while their future is polled.
    entered: bool,
}

impl SpanGuard {
    /// Starts a span for `callsite` as a child of the current span (or a new
    /// root) and makes it current. Records nothing when the monitor is off.
    #[inline]
    pub fn enter(callsite: &'static Callsite) -> Self {
        let mut guard = Self::start(callsite);
        if let Some(active) = &mut guard.active {
            replace_current(Some(active.context));
            active.entered = true;
        }
        guard
    }

    /// Starts a span without making it current (for `async fn`: the future
    /// wrapper enters it around each poll).
    #[inline]
    pub fn start(callsite: &'static Callsite) -> Self {
        if !is_enabled() {
            return Self { active: None };
        }
        Self::start_recording(callsite)
    }

    #[inline(never)]
    fn start_recording(callsite: &'static Callsite) -> Self {
        let parent = current();
        let context = new_context(parent);
        // Spans of unsampled traces are recorded too: the store keeps such a
        // trace after all when it holds an error or is slow (tail retention).
        Self {
            active: Some(Active {
                callsite,
                context,
                parent,
                start: clock::now(),
                attributes: Vec::new(),
                entered: false,
            }),
        }
    }

    /// Whether the span is being recorded (worth formatting attributes for).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.active.is_some()
    }

    /// The span's identity, when recording.
    pub fn context(&self) -> Option<SpanContext> {
        self.active.as_ref().map(|a| a.context)
    }

    /// Records `key = value` with `Display`.
    pub fn record_display(&mut self, key: &'static str, value: &dyn Display) {
        self.record(key, format_args!("{value}"));
    }

    /// Records `key = value` with `Debug`.
    pub fn record_debug(&mut self, key: &'static str, value: &dyn Debug) {
        self.record(key, format_args!("{value:?}"));
    }

    fn record(&mut self, key: &'static str, value: fmt::Arguments<'_>) {
        if let Some(active) = &mut self.active {
            let mut text = String::new();
            let _ = text.write_fmt(value);
            truncate(&mut text, MAX_VALUE_LEN);
            active.attributes.push(Attribute { key, value: text });
        }
    }

    /// The profiling-clock reading at the span's start, when recording (for
    /// the call's timing to reuse).
    #[inline]
    pub fn start_ticks(&self) -> Option<u64> {
        self.active.as_ref().map(|a| a.start)
    }

    /// Ends the span; `error` is the message of an `Err` return, if any.
    pub fn exit(self, error: Option<&dyn Display>) {
        self.exit_at(None, error);
    }

    /// Ends the span at `end` (a clock reading already taken) or now.
    pub fn exit_at(mut self, end: Option<u64>, error: Option<&dyn Display>) {
        let message = error.map(|e| {
            let mut text = e.to_string();
            truncate(&mut text, MAX_VALUE_LEN);
            text
        });
        self.finish(end, message);
    }

    /// Ends the span with an error whose message is not known (an `Err`
    /// whose type is not `Display`).
    pub fn exit_with_error(self) {
        self.exit_with_error_at(None);
    }

    /// [`SpanGuard::exit_with_error`] at `end` (a clock reading) or now.
    pub fn exit_with_error_at(mut self, end: Option<u64>) {
        self.finish(end, Some("error".to_string()));
    }

    fn finish(&mut self, end: Option<u64>, error: Option<String>) {
        let Some(active) = self.active.take() else {
            return;
        };
        if active.entered {
            replace_current(active.parent);
        }
        let record = SpanRecord {
            trace_id: active.context.trace_id,
            span_id: active.context.span_id,
            parent_span_id: active.parent.map(|p| p.span_id),
            remote_parent: active.parent.is_some_and(|p| !p.local),
            sampled: active.context.sampled,
            name: active.callsite.name(),
            module: active.callsite.module(),
            start_unix_ns: clock::unix_nanos(active.start),
            duration_ns: clock::nanos_between(active.start, end.unwrap_or_else(clock::now)),
            attributes: active.attributes,
            error,
            events: Vec::new(),
            dropped_events: 0,
        };
        submit(record);
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.active.is_some() {
            // Unwinding, or an `async fn` future dropped before it finished.
            let why = if std::thread::panicking() {
                "panicked"
            } else {
                "cancelled"
            };
            self.finish(None, Some(why.to_string()));
        }
    }
}

pin_project_lite::pin_project! {
    /// A future that makes `context` the current span while it is polled, so
    /// spans started inside it (on whatever thread polls it) are its children.
    #[must_use = "futures do nothing unless polled"]
    pub struct WithContext<F> {
        #[pin]
        inner: F,
        context: Option<SpanContext>,
    }
}

impl<F> WithContext<F> {
    /// Wraps `inner`; `None` leaves the current span alone.
    pub fn new(context: Option<SpanContext>, inner: F) -> Self {
        Self { inner, context }
    }
}

impl<F: std::future::Future> std::future::Future for WithContext<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        match *this.context {
            Some(context) => {
                let _current = enter_context(context);
                this.inner.poll(cx)
            }
            None => this.inner.poll(cx),
        }
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// Formats an attribute value, cut at the length every span keeps (for the
/// `tracing` layer).
pub(crate) fn attribute_value(value: fmt::Arguments<'_>) -> String {
    let mut text = String::new();
    let _ = text.write_fmt(value);
    truncate(&mut text, MAX_VALUE_LEN);
    text
}

/// The context of a new local span: a child of `parent`, or the root of a
/// new, head-sampled trace. Used by [`SpanGuard`] and the `tracing` layer.
pub(crate) fn new_context(parent: Option<SpanContext>) -> SpanContext {
    match parent {
        Some(parent) => SpanContext {
            trace_id: parent.trace_id,
            span_id: SpanId::random(),
            sampled: parent.sampled,
            local: true,
        },
        None => {
            let trace_id = TraceId::random();
            SpanContext {
                trace_id,
                span_id: SpanId::random(),
                sampled: head_sampled(trace_id),
                local: true,
            }
        }
    }
}
