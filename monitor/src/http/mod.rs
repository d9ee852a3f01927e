//! Request tracking: per-endpoint throughput, errors and latency of the
//! requests a service answers, and of the calls it makes to dependencies.
//!
//! Record a request with [`record`] (or [`start`] and
//! [`RequestGuard::finish`] to count it in flight and its body sizes), put
//! `TrackLayer` on a tower service (feature `tower`; works with axum), or
//! send outgoing `reqwest` calls with `client::TrackedRequest::send_tracked`
//! (feature `reqwest`).
//!
//! ```
//! use std::time::Instant;
//!
//! let began = Instant::now();
//! // ... answer GET /users/42 ...
//! monitor::http::record("GET", "/users/{id}", 200, began.elapsed());
//! ```
//!
//! Each tick the monitor turns the counters into
//! [`EndpointStats`] (requests/s over 1 s and 1 min, error rate with 5xx
//! apart from 4xx, latency mean/p50/p95/p99/max, in flight, bytes), served
//! at `/api/v1/endpoints` (ranked by total time, error rate and p99) and as
//! `http_server_*`/`http_client_*` families at `/metrics`.
//!
//! # Bounded cardinality
//!
//! A series is a (method, route template) pair. Pass templates
//! (`/users/{id}`), never raw paths: the tower layer takes the route from a
//! closure (axum's `MatchedPath`) and counts requests no route matched as
//! [`UNMATCHED_ROUTE`]. At most `http.max_routes` (default 200) templates
//! get a series per direction; the rest share [`OVERFLOW_ROUTE`]. Methods
//! outside the standard ones are `OTHER`.
//!
//! # Cost
//!
//! Before [`init`](crate::init) or with `MONITOR_DISABLE=1` a call costs
//! one relaxed load. Otherwise: a lock-free lookup of the template in an
//! immutable map (no allocation once the route has a series), and a few
//! relaxed atomic adds on the series, the duration going to a lock-free
//! histogram.

mod cache;
mod collect;
mod endpoint;
mod record;
mod table;

#[cfg(feature = "reqwest")]
pub mod client;
#[cfg(feature = "tower")]
mod tower;

pub(crate) use collect::EndpointCollector;
pub use collect::{EndpointStats, StatusCounts};
pub use endpoint::Direction;
pub use record::{record, record_client, start, RequestGuard};
pub(crate) use table::set_max_routes;
pub use table::{DEFAULT_MAX_ROUTES, OVERFLOW_ROUTE, UNMATCHED_ROUTE};
#[cfg(feature = "tower")]
pub use tower::{Track, TrackFuture, TrackLayer};
