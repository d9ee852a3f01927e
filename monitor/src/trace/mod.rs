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
//! - [`inject`] and [`extract`], which carry a context in an
//!   [`http::HeaderMap`].
//!
//! Span recording (`#[monitor::traced]`, the trace store, sampling and the
//! `tracing` layer) comes next; until then a service can already pass trace
//! ids through, so its callers' and callees' traces stay connected.
//!
//! # In a service
//!
//! ```
//! use monitor::trace::{extract, inject, TraceContext};
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
//! inject(&context, &mut outgoing);
//! assert_eq!(extract(&outgoing).unwrap().trace_id, context.trace_id);
//! ```
//!
//! A malformed incoming `traceparent` is not an error: [`extract`] returns
//! `None` and a new trace starts, as the specification asks. The parsers
//! never panic; [`ParseError`] says what was wrong for those who parse
//! directly.

mod context;
mod error;
mod id;
mod propagate;

pub use context::{TraceContext, TraceState};
pub use error::{Field, ParseError};
pub use id::{SpanId, TraceId};
pub use propagate::{extract, inject, TRACEPARENT, TRACESTATE};
