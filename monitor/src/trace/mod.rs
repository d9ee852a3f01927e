//! Distributed tracing: W3C Trace Context identifiers and propagation.
//!
//! What exists now is the part every other piece builds on:
//!
//! - [`TraceId`] and [`SpanId`], random without locks (a generator per
//!   thread), never zero, written as lower-case hex;
//! - [`TraceContext`]: a trace id, the parent span id, the sampling flag and
//!   the vendor [`TraceState`], parsed from and written to the W3C
//!   [`traceparent`](https://www.w3.org/TR/trace-context/#traceparent-header)
//!   and [`tracestate`](https://www.w3.org/TR/trace-context/#tracestate-header)
//!   headers;
//! - [`inject`] (the current span) and [`inject_context`], [`extract`] and
//!   [`continue_from`], which carry a context in an [`http::HeaderMap`].
//!
//! - span recording: [`SpanGuard`] (what `#[monitor::traced]` expands to),
//!   the current span per thread ([`current`], [`enter_context`]) and per
//!   future ([`WithContext`]); finished spans are sent to the monitor
//!   thread, which keeps the most recent ones in a bounded [`TraceStore`]
//!   served at `/api/v1/traces`.
//! - the `tracing` bridge: [`layer()`] records `tracing` spans
//!   (`#[tracing::instrument]`, `span!`) and their events as monitor spans in
//!   the same trees; starting the monitor installs it when no global
//!   subscriber is set.
//!
//! - OTLP export (feature `otlp`, module `trace::otlp`):
//!   with `trace.otlp_endpoint` or `MONITOR_OTLP_ENDPOINT` set, the monitor
//!   thread also sends the spans of sampled traces to an OpenTelemetry
//!   collector over OTLP/HTTP protobuf.
//!
//! # In a service
//!
//! ```
//! use monitor::trace::{extract, inject_context, TraceContext};
//!
//! # let incoming = http::HeaderMap::new();
//! // On an incoming request: continue the caller's trace, or start one.
//! let context = match extract(&incoming) {
//!     Some(parent) => parent.child(),
//!     None => TraceContext::new_root(true),
//! };
//!
//! // On an outgoing request: pass it on.
//! let mut outgoing = http::HeaderMap::new();
//! inject_context(&context, &mut outgoing);
//! assert_eq!(extract(&outgoing).unwrap().trace_id, context.trace_id);
//! ```
//!
//! A malformed incoming `traceparent` is not an error: [`extract`] returns
//! `None` and a new trace starts, as the specification asks. The parsers
//! never panic; [`ParseError`] says what was wrong for those who parse
//! directly.

mod collect;
mod context;
mod error;
mod id;
mod layer;
#[cfg(feature = "otlp")]
pub mod otlp;
mod propagate;
#[cfg(feature = "reqwest")]
mod reqwest;
mod span;
mod store;

#[cfg(feature = "reqwest")]
pub use self::reqwest::RequestBuilderExt;
pub(crate) use collect::{drain, dropped, submit};
pub use context::{TraceContext, TraceState};
pub use error::{Field, ParseError};
pub use id::{SpanId, TraceId};
pub(crate) use layer::install_if_unset;
pub use layer::{layer, MonitorLayer};
#[cfg(feature = "otlp")]
pub(crate) use otlp::OtlpExporter;
#[cfg(feature = "otlp")]
pub use otlp::{otlp_stats, OtlpStats};
pub use propagate::{continue_from, extract, inject, inject_context, TRACEPARENT, TRACESTATE};
pub(crate) use span::set_sample_ratio;
pub use span::{
    current, enter_context, Attribute, ContextGuard, SpanContext, SpanEvent, SpanGuard, SpanRecord,
    WithContext, MAX_EVENTS_PER_SPAN,
};
pub use store::{
    SpanNode, TraceQuery, TraceStore, TraceStoreStats, TraceSummary, TraceTree, DEFAULT_CAPACITY,
    DEFAULT_SLOW_THRESHOLD_NS, MAX_PENDING_SPANS, MAX_SPANS_PER_TRACE,
};
