//! Passing the current span on outgoing [`reqwest`](::reqwest) requests
//! (feature `reqwest`).
//!
//! [`RequestBuilderExt::with_trace_context`] writes the W3C `traceparent`
//! (and `tracestate`, when the context has one) of the current span into a
//! request, so the server continues the same trace with that span as the
//! remote parent (for example with [`continue_from`](super::continue_from)).
//!
//! Make the call inside a `#[monitor::traced]` function: the request then
//! has a span of its own, its duration and error are recorded, and the
//! server's spans hang under it.
//!
//! ```no_run
//! use monitor::trace::RequestBuilderExt as _;
//!
//! #[monitor::traced(name = "inventory::fetch", err)]
//! async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, reqwest::Error> {
//!     client
//!         .get(url)
//!         .with_trace_context() // traceparent of `inventory::fetch`
//!         .send()
//!         .await?
//!         .error_for_status()?
//!         .text()
//!         .await
//! }
//! ```
//!
//! Outside any span the request is left as it is: no trace is started for
//! it.

use ::reqwest::RequestBuilder;
use http::HeaderMap;

use super::propagate::inject;

/// Adds the current span's trace context to an outgoing `reqwest` request.
///
/// Implemented for [`reqwest::RequestBuilder`](::reqwest::RequestBuilder)
/// only; sealed so that methods can be added.
///
/// ```no_run
/// use monitor::trace::RequestBuilderExt as _;
///
/// #[monitor::traced]
/// async fn ping(client: &reqwest::Client) -> reqwest::Result<reqwest::StatusCode> {
///     let response = client
///         .get("http://127.0.0.1:8080/ping")
///         .with_trace_context()
///         .send()
///         .await?;
///     Ok(response.status())
/// }
/// ```
pub trait RequestBuilderExt: sealed::Sealed {
    /// Sets `traceparent` (and `tracestate`, when the context has members)
    /// to the span current on this thread or future, replacing values set
    /// earlier on the builder. Returns the builder unchanged when no span is
    /// current (or the monitor is not running, so no span is recorded).
    ///
    /// The header values are taken now, when the builder is made, not when
    /// the request is sent: build the request inside the span it belongs to.
    #[must_use]
    fn with_trace_context(self) -> Self;
}

impl RequestBuilderExt for RequestBuilder {
    fn with_trace_context(self) -> Self {
        let mut headers = HeaderMap::new();
        if inject(&mut headers) {
            // `headers` replaces the values of the names it holds.
            self.headers(headers)
        } else {
            self
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for ::reqwest::RequestBuilder {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{enter_context, extract, SpanContext, SpanId, TraceId};

    fn headers_of(builder: RequestBuilder) -> HeaderMap {
        builder.build().expect("a valid request").headers().clone()
    }

    #[test]
    fn outside_a_span_nothing_is_added() {
        let client = ::reqwest::Client::new();
        let headers = headers_of(client.get("http://127.0.0.1:1/").with_trace_context());
        assert!(headers.is_empty(), "{headers:?}");
    }

    #[test]
    fn inside_a_span_its_context_replaces_a_stale_one() {
        let span = SpanContext {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            sampled: true,
            local: true,
        };
        let client = ::reqwest::Client::new();
        let builder = client.get("http://127.0.0.1:1/").header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        let headers = {
            let _current = enter_context(span);
            headers_of(builder.with_trace_context())
        };
        assert_eq!(headers.get_all("traceparent").iter().count(), 1);
        let sent = extract(&headers).expect("a valid traceparent");
        assert_eq!(sent.trace_id, span.trace_id);
        assert_eq!(sent.span_id, span.span_id);
        assert!(sent.sampled);
    }
}
