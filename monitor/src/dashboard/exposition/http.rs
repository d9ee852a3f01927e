//! The request-tracking and health families: `http_server_*` per served
//! (method, route), `http_client_*` per called (method, host, route), and
//! `monitor_health_*` per component.

use super::text::{push_label, Kind, Writer};
use crate::health::{HealthSnapshot, Status};
use crate::http::EndpointStats;
use crate::snapshot::{Snapshot, DURATION_BOUNDS_SECONDS};

/// The status classes in the order of `StatusCounts`' fields.
const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "failed"];

/// The label list identifying a series.
fn labels(e: &EndpointStats) -> String {
    let mut labels = String::with_capacity(e.route.len() + 32);
    push_label(&mut labels, "method", e.method);
    if let Some(host) = &e.host {
        push_label(&mut labels, "host", host);
    }
    push_label(&mut labels, "route", &e.route);
    labels
}

fn class_counts(e: &EndpointStats) -> [u64; 6] {
    let s = &e.status;
    [
        s.informational,
        s.success,
        s.redirection,
        s.client_error,
        s.server_error,
        s.failed,
    ]
}

/// The families of one direction; `side` is `server` or `client`.
fn direction(w: &mut Writer<'_>, side: &str, list: &[EndpointStats], what: &str) {
    let labels: Vec<String> = list.iter().map(labels).collect();
    let name = format!("http_{side}_requests_total");
    if w.family(
        &name,
        Kind::Counter,
        &format!("HTTP {what} that finished, by status class (failed: no valid status)."),
    ) {
        let mut extra = String::new();
        for (e, labels) in list.iter().zip(&labels) {
            for (class, count) in CLASSES.iter().zip(class_counts(e)) {
                if count > 0 {
                    extra.clear();
                    push_label(&mut extra, "status_class", class);
                    w.sample(&name, labels, &extra, count);
                }
            }
        }
    }
    let name = format!("http_{side}_request_duration_seconds");
    if w.family(
        &name,
        Kind::Histogram,
        &format!("Duration of HTTP {what}, in seconds."),
    ) {
        for (e, labels) in list.iter().zip(&labels) {
            let buckets = DURATION_BOUNDS_SECONDS.into_iter().zip(e.duration_buckets);
            w.histogram_series(&name, labels, buckets, e.requests, e.total_ns as f64 / 1e9);
        }
    }
    let name = format!("http_{side}_active_requests");
    if w.family(&name, Kind::Gauge, &format!("HTTP {what} in flight.")) {
        for (e, labels) in list.iter().zip(&labels) {
            w.sample(&name, labels, "", e.in_flight);
        }
    }
    for (name, help, value) in [
        (
            format!("http_{side}_request_body_bytes_total"),
            format!("Request body bytes of HTTP {what} (known sizes only)."),
            (|e: &EndpointStats| e.bytes_in) as fn(&EndpointStats) -> u64,
        ),
        (
            format!("http_{side}_response_body_bytes_total"),
            format!("Response body bytes of HTTP {what} (known sizes only)."),
            |e: &EndpointStats| e.bytes_out,
        ),
    ] {
        if w.family(&name, Kind::Counter, &help) {
            for (e, labels) in list.iter().zip(&labels) {
                w.sample(&name, labels, "", value(e));
            }
        }
    }
}

const STATUSES: [Status; 4] = [Status::Up, Status::Degraded, Status::Down, Status::Unknown];

fn health(w: &mut Writer<'_>, health: &HealthSnapshot) {
    let name = "monitor_health_status";
    if w.family(
        name,
        Kind::Gauge,
        "1 for the current status of the service (component=\"\") and of each health component, 0 for the others.",
    ) {
        let mut labels = String::new();
        let overall = std::iter::once(("", health.status));
        let components = health
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.status));
        for (component, current) in overall.chain(components) {
            for status in STATUSES {
                labels.clear();
                push_label(&mut labels, "component", component);
                push_label(&mut labels, "status", status.as_str());
                w.sample(name, &labels, "", u64::from(status == current));
            }
        }
    }
    let name = "monitor_health_impaired";
    if w.family(
        name,
        Kind::Gauge,
        "1 when a dependency of the health component (direct or not) is DOWN.",
    ) {
        let mut labels = String::new();
        for c in &health.components {
            labels.clear();
            push_label(&mut labels, "component", &c.name);
            w.sample(name, &labels, "", u64::from(c.impaired));
        }
    }
    let name = "monitor_health_check_duration_seconds";
    if w.family(
        name,
        Kind::Gauge,
        "How long the last run of each health check took, in seconds.",
    ) {
        let mut labels = String::new();
        for c in &health.components {
            if let Some(ms) = c.duration_ms {
                labels.clear();
                push_label(&mut labels, "component", &c.name);
                w.sample(name, &labels, "", ms / 1e3);
            }
        }
    }
}

/// Every request-tracking and health family of `snapshot`.
pub(super) fn families(w: &mut Writer<'_>, snapshot: &Snapshot) {
    direction(w, "server", &snapshot.endpoints, "requests served");
    direction(w, "client", &snapshot.dependencies, "calls to dependencies");
    health(w, &snapshot.health);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_well_formed, line, rendered};
    use crate::health::{HealthSnapshot, Status};
    use crate::http::{Direction, EndpointStats, StatusCounts};
    use crate::snapshot::Snapshot;

    fn endpoint(route: &str, host: Option<&str>) -> EndpointStats {
        EndpointStats {
            direction: if host.is_some() {
                Direction::Client
            } else {
                Direction::Server
            },
            method: "GET",
            host: host.map(String::from),
            route: route.into(),
            requests: 4,
            status: StatusCounts {
                success: 3,
                server_error: 1,
                ..StatusCounts::default()
            },
            errors: 1,
            error_rate: 0.25,
            client_error_rate: 0.0,
            error_rate_1m: 0.25,
            rate_1s: 1.0,
            rate_1m: 1.0,
            in_flight: 2,
            cancelled: 0,
            bytes_in: 10,
            bytes_out: 20,
            total_ns: 40_000_000,
            mean_ns: 10_000_000,
            p50_ns: 10_000_000,
            p95_ns: 10_000_000,
            p99_ns: 10_000_000,
            max_ns: 10_000_000,
            duration_buckets: [0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
        }
    }

    #[test]
    fn endpoints_and_health_are_exposed_with_escaped_labels() {
        let mut health = HealthSnapshot {
            status: Status::Degraded,
            ..HealthSnapshot::default()
        };
        health.ready = true;
        let snapshot = Snapshot {
            endpoints: vec![endpoint("/users/{id}", None), endpoint("/q\"\n\\", None)],
            dependencies: vec![endpoint("/v1/items", Some("127.0.0.1:8080"))],
            health,
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        let id = r#"method="GET",route="/users/{id}""#;
        assert!(line(
            &text,
            &format!("http_server_requests_total{{{id},status_class=\"2xx\"}}")
        )
        .ends_with(" 3"));
        assert!(line(
            &text,
            &format!("http_server_requests_total{{{id},status_class=\"5xx\"}}")
        )
        .ends_with(" 1"));
        assert!(!text.contains("status_class=\"4xx\""), "only classes seen");
        assert!(line(
            &text,
            &format!("http_server_request_duration_seconds_count{{{id}}}")
        )
        .ends_with(" 4"));
        assert!(line(&text, &format!("http_server_active_requests{{{id}}}")).ends_with(" 2"));
        assert!(text.contains(r#"route="/q\"\n\\""#), "{text}");
        assert!(line(
            &text,
            r#"http_client_requests_total{method="GET",host="127.0.0.1:8080",route="/v1/items",status_class="2xx"}"#
        )
        .ends_with(" 3"));
        assert!(line(
            &text,
            r#"monitor_health_status{component="",status="DEGRADED"}"#
        )
        .ends_with(" 1"));
        assert!(line(&text, r#"monitor_health_status{component="",status="UP"}"#).ends_with(" 0"));
    }
}
