//! What the HTTP server itself did: connections admitted and refused,
//! timeouts, responses by status. Exposed after the snapshot's families on
//! `/metrics`, so refused and timed-out clients are counted and shown.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hyper::StatusCode;

use super::exposition::{push_label, Kind, Writer};

/// Statuses counted one by one; any other is counted under `other`.
const STATUSES: [u16; 8] = [200, 400, 401, 404, 405, 408, 413, 500];

/// The families [`ServerStats::render`] writes, reserved in the snapshot's
/// exposition so that no facade metric takes their names.
pub(super) const FAMILIES: [&str; 7] = [
    "monitor_http_connections_accepted_total",
    "monitor_http_connections_refused_total",
    "monitor_http_connections_open",
    "monitor_http_connections_max",
    "monitor_http_timeouts_total",
    "monitor_http_accept_errors_total",
    "monitor_http_responses_total",
];

/// Counters of the HTTP server, updated by its tasks.
#[derive(Default)]
pub(super) struct ServerStats {
    accepted: AtomicU64,
    refused: AtomicU64,
    accept_errors: AtomicU64,
    timeouts: AtomicU64,
    responses: [AtomicU64; STATUSES.len()],
    other_responses: AtomicU64,
}

impl ServerStats {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// A connection got a permit.
    pub(super) fn accepted(&self) {
        self.accepted.fetch_add(1, Relaxed);
    }

    /// A connection over the cap was refused.
    pub(super) fn refused(&self) {
        self.refused.fetch_add(1, Relaxed);
    }

    /// `accept` failed (out of file descriptors, say).
    pub(super) fn accept_error(&self) {
        self.accept_errors.fetch_add(1, Relaxed);
    }

    /// A client was too slow sending its request or reading the response.
    pub(super) fn timed_out(&self) {
        self.timeouts.fetch_add(1, Relaxed);
    }

    /// A response is about to be sent.
    pub(super) fn responded(&self, status: StatusCode) {
        match STATUSES.iter().position(|&s| s == status.as_u16()) {
            Some(i) => self.responses[i].fetch_add(1, Relaxed),
            None => self.other_responses.fetch_add(1, Relaxed),
        };
    }

    /// Appends the server's families to an exposition.
    pub(super) fn render(&self, open: usize, max: usize, out: &mut String) {
        let mut w = Writer::new(out);
        let [accepted, refused, open_name, max_name, timeouts, accept_errors, responses] = FAMILIES;
        w.family(
            accepted,
            Kind::Counter,
            "HTTP connections the monitor admitted.",
        );
        w.sample(accepted, "", "", self.accepted.load(Relaxed));
        w.family(
            refused,
            Kind::Counter,
            "HTTP connections refused at once because max_connections were open.",
        );
        w.sample(refused, "", "", self.refused.load(Relaxed));
        w.family(open_name, Kind::Gauge, "HTTP connections open now.");
        w.sample(open_name, "", "", open);
        w.family(
            max_name,
            Kind::Gauge,
            "The most HTTP connections open at once (max_connections).",
        );
        w.sample(max_name, "", "", max);
        w.family(
            timeouts,
            Kind::Counter,
            "HTTP connections closed because the client was too slow sending a request or reading a response.",
        );
        w.sample(timeouts, "", "", self.timeouts.load(Relaxed));
        w.family(
            accept_errors,
            Kind::Counter,
            "Failed accepts of HTTP connections (such as running out of file descriptors).",
        );
        w.sample(accept_errors, "", "", self.accept_errors.load(Relaxed));
        w.family(responses, Kind::Counter, "HTTP responses by status code.");
        let mut labels = String::new();
        for (status, count) in STATUSES.iter().zip(&self.responses) {
            labels.clear();
            push_label(&mut labels, "code", &status.to_string());
            w.sample(responses, &labels, "", count.load(Relaxed));
        }
        w.sample(
            responses,
            "code=\"other\"",
            "",
            self.other_responses.load(Relaxed),
        );
    }
}
