//! Outgoing calls with `reqwest` (feature `reqwest`): trace context
//! injected, and host, route template, status and latency recorded as a
//! dependency series.
//!
//! ```no_run
//! use monitor::http::client::TrackedRequest as _;
//!
//! async fn load(client: &reqwest::Client, id: u64) -> reqwest::Result<String> {
//!     client
//!         .get(format!("http://users.internal:8080/users/{id}"))
//!         .send_tracked("/users/{id}") // the template, not the raw path
//!         .await?
//!         .text()
//!         .await
//! }
//! ```
//!
//! A call that gets no response (connection refused, timeout) counts as
//! failed (status 0). The latency ends when the response head arrives.

use std::future::Future;

use ::reqwest::{RequestBuilder, Response};

use super::record::{client_endpoint, RequestGuard};
use crate::profile::is_enabled;
use crate::trace::RequestBuilderExt as _;

/// Sends a `reqwest` request as a tracked dependency call.
///
/// Implemented for [`reqwest::RequestBuilder`];
/// sealed so that methods can be added.
pub trait TrackedRequest: sealed::Sealed {
    /// Adds the current span's trace context (see
    /// [`with_trace_context`](crate::trace::RequestBuilderExt::with_trace_context)),
    /// sends the request and records it under the URL's `host:port`, the
    /// method and `route` (a template such as `/users/{id}`).
    fn send_tracked(self, route: &str) -> impl Future<Output = ::reqwest::Result<Response>> + Send;
}

impl TrackedRequest for RequestBuilder {
    fn send_tracked(self, route: &str) -> impl Future<Output = ::reqwest::Result<Response>> + Send {
        let (client, request) = self.with_trace_context().build_split();
        let route = route.to_string();
        async move {
            let request = request?;
            let url = request.url();
            let host = match (url.host_str(), url.port_or_known_default()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_string(),
                (None, _) => String::from("<no host>"),
            };
            // In flight until the response head arrives; dropped before,
            // the call counts as cancelled.
            let call = if is_enabled() {
                RequestGuard::begin(client_endpoint(request.method().as_str(), &host, &route))
            } else {
                RequestGuard::inactive()
            };
            let result = client.execute(request).await;
            call.finish(result.as_ref().map_or(0, |r| r.status().as_u16()));
            result
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for ::reqwest::RequestBuilder {}
}
