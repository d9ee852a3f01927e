//! The recording API: [`record`] for a finished request, and the
//! [`RequestGuard`] that counts a request while it runs.

use std::time::Duration;

use super::cache;
use super::endpoint::Endpoint;
use super::table::{self, method_index};
use crate::profile::clock;
use crate::profile::is_enabled;

/// Nanoseconds of a duration, saturating.
#[inline]
fn nanos(duration: Duration) -> u64 {
    duration.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// Records one request this service answered: its method, route template
/// (such as `/users/{id}`, never the raw path), status and duration.
///
/// Does nothing before [`init`](crate::init) or with `MONITOR_DISABLE=1`.
/// After the first request of a route it takes no lock and allocates
/// nothing. Routes beyond `http.max_routes` share one series
/// ([`OVERFLOW_ROUTE`](super::OVERFLOW_ROUTE)).
///
/// ```
/// use std::time::Duration;
/// monitor::http::record("GET", "/users/{id}", 200, Duration::from_millis(3));
/// ```
#[inline]
pub fn record(method: &str, route: &str, status: u16, duration: Duration) {
    if !is_enabled() {
        return;
    }
    server_endpoint(method, route).finish(status, nanos(duration), 0, 0);
}

/// The series of a served request.
#[inline]
fn server_endpoint(method: &str, route: &str) -> &'static Endpoint {
    cache::server_endpoint(method_index(method), route)
}

/// Starts counting a request this service is answering; finish it with
/// [`RequestGuard::finish`]. It counts as in flight until then; dropped
/// unfinished (a cancelled handler future), it counts as cancelled.
///
/// ```
/// let request = monitor::http::start("POST", "/orders").bytes_in(512);
/// // ... handle it ...
/// request.bytes_out(128).finish(201);
/// ```
#[inline]
pub fn start(method: &str, route: &str) -> RequestGuard {
    if !is_enabled() {
        return RequestGuard::inactive();
    }
    RequestGuard::begin(server_endpoint(method, route))
}

/// A request being counted; see [`start`].
#[must_use = "a request guard dropped at once counts as a cancelled request"]
#[derive(Debug)]
pub struct RequestGuard {
    endpoint: Option<&'static Endpoint>,
    /// Clock ticks at the start (the profile module's TSC clock).
    began: u64,
    bytes_in: u64,
    bytes_out: u64,
}

impl RequestGuard {
    /// A guard that records nothing (monitor not running).
    pub(crate) fn inactive() -> Self {
        Self {
            endpoint: None,
            began: 0,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    pub(crate) fn begin(endpoint: &'static Endpoint) -> Self {
        endpoint.start();
        Self {
            endpoint: Some(endpoint),
            began: clock::now(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// Adds `bytes` to the request body size received.
    pub fn bytes_in(mut self, bytes: u64) -> Self {
        self.bytes_in = self.bytes_in.saturating_add(bytes);
        self
    }

    /// Adds `bytes` to the response body size sent.
    pub fn bytes_out(mut self, bytes: u64) -> Self {
        self.bytes_out = self.bytes_out.saturating_add(bytes);
        self
    }

    /// Ends the request with `status` (0, or any value outside 100–599,
    /// counts as failed: no valid response).
    pub fn finish(mut self, status: u16) {
        if let Some(endpoint) = self.endpoint.take() {
            endpoint.finish(
                status,
                clock::nanos_between(self.began, clock::now()),
                self.bytes_in,
                self.bytes_out,
            );
            endpoint.end();
        }
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if let Some(endpoint) = self.endpoint.take() {
            endpoint.cancel();
        }
    }
}

/// Records one call this service made to a dependency at `host`; used by
/// the `reqwest` helper, and usable by hand for other clients. Status 0
/// means the call got no response (connection error, timeout).
pub fn record_client(method: &str, host: &str, route: &str, status: u16, duration: Duration) {
    if !is_enabled() {
        return;
    }
    client_endpoint(method, host, route).finish(status, nanos(duration), 0, 0);
}

/// The series of an outgoing call. Builds a key (one allocation): a
/// network call costs far more.
pub(crate) fn client_endpoint(method: &str, host: &str, route: &str) -> &'static Endpoint {
    let key = format!("{host} {route}");
    table::client().get(method_index(method), &key, Some(host), route)
}
