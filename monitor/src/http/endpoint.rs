//! One series: the cumulative counters of one (method, route) pair, or of
//! one (method, host, route) outgoing call, written from any thread.
//!
//! Requests take microseconds to milliseconds, so a few relaxed atomic adds
//! per request are cheap next to the request itself; the duration goes into
//! the profile module's lock-free [`SharedHistogram`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::profile::SharedHistogram;

/// Which side of a call a series describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A request this service answered.
    Server,
    /// A call this service made to a dependency.
    Client,
}

/// Status classes counted per series: 1xx to 5xx, then "failed" for a
/// request that got no valid status (connection error, service error).
pub(crate) const CLASSES: usize = 6;
/// The index of the "failed" class.
pub(crate) const FAILED: usize = 5;

/// The class index of an HTTP status code.
#[inline]
pub(crate) fn class_of(status: u16) -> usize {
    match status {
        100..=599 => usize::from(status / 100) - 1,
        _ => FAILED,
    }
}

/// The counters of one series. Never freed: the number of series is capped,
/// so they live for the whole process and guards hold plain references.
pub(crate) struct Endpoint {
    pub(crate) direction: Direction,
    pub(crate) method: &'static str,
    pub(crate) host: Option<Box<str>>,
    pub(crate) route: Box<str>,
    /// Requests counted while running ([`RequestGuard`](super::RequestGuard)):
    /// begun, and ended (finished or cancelled). A plain `record` touches
    /// neither, so it costs three atomic adds.
    pub(crate) started: AtomicU64,
    pub(crate) ended: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) classes: [AtomicU64; CLASSES],
    pub(crate) total_ns: AtomicU64,
    pub(crate) max_ns: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) histogram: SharedHistogram,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub(crate) fn new(
        direction: Direction,
        method: &'static str,
        host: Option<&str>,
        route: &str,
    ) -> Self {
        Self {
            direction,
            method,
            host: host.map(Box::from),
            route: Box::from(route),
            started: AtomicU64::new(0),
            ended: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            classes: [const { AtomicU64::new(0) }; CLASSES],
            total_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            histogram: SharedHistogram::new(),
        }
    }

    /// A request began (it is in flight until [`Endpoint::end`]).
    #[inline]
    pub(crate) fn start(&self) {
        self.started.fetch_add(1, Relaxed);
    }

    /// A request that [`Endpoint::start`] counted is over.
    #[inline]
    pub(crate) fn end(&self) {
        self.ended.fetch_add(1, Relaxed);
    }

    /// A request ended with `status` after `ns`.
    #[inline]
    pub(crate) fn finish(&self, status: u16, ns: u64, bytes_in: u64, bytes_out: u64) {
        self.classes[class_of(status)].fetch_add(1, Relaxed);
        self.total_ns.fetch_add(ns, Relaxed);
        // Most requests are not the slowest: skip the locked write then.
        if ns > self.max_ns.load(Relaxed) {
            self.max_ns.fetch_max(ns, Relaxed);
        }
        if bytes_in != 0 {
            self.bytes_in.fetch_add(bytes_in, Relaxed);
        }
        if bytes_out != 0 {
            self.bytes_out.fetch_add(bytes_out, Relaxed);
        }
        self.histogram.record(ns);
    }

    /// A request that began was abandoned (its future dropped).
    #[inline]
    pub(crate) fn cancel(&self) {
        self.cancelled.fetch_add(1, Relaxed);
        self.end();
    }

    /// Requests running now.
    pub(crate) fn in_flight(&self) -> u64 {
        // `ended` first: a request ending between the two loads then
        // shows as still running rather than as a negative count.
        let ended = self.ended.load(Relaxed);
        self.started.load(Relaxed).saturating_sub(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_their_class() {
        assert_eq!(class_of(100), 0);
        assert_eq!(class_of(204), 1);
        assert_eq!(class_of(308), 2);
        assert_eq!(class_of(404), 3);
        assert_eq!(class_of(599), 4);
        assert_eq!(class_of(0), FAILED);
        assert_eq!(class_of(600), FAILED);
        assert_eq!(class_of(99), FAILED);
    }

    #[test]
    fn in_flight_counts_what_began_and_has_not_ended() {
        let e = Endpoint::new(Direction::Server, "GET", None, "/x");
        e.start();
        e.start();
        e.start();
        e.finish(200, 1_000, 10, 20);
        e.end();
        e.cancel();
        // Recorded without a guard: finished, never in flight.
        e.finish(500, 10, 0, 0);
        assert_eq!(e.in_flight(), 1);
        let finished: u64 = e.classes.iter().map(|c| c.load(Relaxed)).sum();
        assert_eq!(finished, 2);
        assert_eq!(e.bytes_in.load(Relaxed), 10);
        assert_eq!(e.bytes_out.load(Relaxed), 20);
        assert_eq!(e.max_ns.load(Relaxed), 1_000);
    }
}
