//! `GET /api/v1/endpoints`: per-endpoint and per-dependency figures, sorted
//! by a chosen figure, with the top endpoints by total time, error rate
//! and p99.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

use crate::http::EndpointStats;
use crate::snapshot::Snapshot;

/// Entries in each ranking.
const RANKED: usize = 10;

/// Why the request could not be answered: the status and a message.
pub(super) type Failure = (StatusCode, String);

/// A figure endpoints are ranked by, highest first.
#[derive(Clone, Copy)]
enum Key {
    TotalTime,
    ErrorRate,
    P99,
    Requests,
}

impl Key {
    const NAMES: &'static str = "total_time, error_rate, p99, requests";

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "total_time" => Key::TotalTime,
            "error_rate" => Key::ErrorRate,
            "p99" => Key::P99,
            "requests" => Key::Requests,
            _ => return None,
        })
    }

    fn value(self, e: &EndpointStats) -> f64 {
        match self {
            Key::TotalTime => e.total_ns as f64,
            Key::ErrorRate => e.error_rate,
            Key::P99 => e.p99_ns as f64,
            Key::Requests => e.requests as f64,
        }
    }
}

/// One line of a ranking.
#[derive(Serialize)]
struct Ranked<'a> {
    method: &'static str,
    route: &'a str,
    value: f64,
}

#[derive(Serialize)]
struct Rankings<'a> {
    total_time_ns: Vec<Ranked<'a>>,
    error_rate: Vec<Ranked<'a>>,
    p99_ns: Vec<Ranked<'a>>,
}

#[derive(Serialize)]
struct Body<'a> {
    sorted_by: &'a str,
    endpoints: Vec<&'a EndpointStats>,
    dependencies: Vec<&'a EndpointStats>,
    top: Rankings<'a>,
}

fn sorted(list: &[EndpointStats], key: Key) -> Vec<&EndpointStats> {
    let mut sorted: Vec<&EndpointStats> = list.iter().collect();
    sorted.sort_by(|a, b| key.value(b).total_cmp(&key.value(a)));
    sorted
}

fn top(list: &[EndpointStats], key: Key) -> Vec<Ranked<'_>> {
    sorted(list, key)
        .into_iter()
        .filter(|e| e.requests > 0)
        .take(RANKED)
        .map(|e| Ranked {
            method: e.method,
            route: &e.route,
            value: key.value(e),
        })
        .collect()
}

/// The body for a query such as `sort=p99` (default `total_time`).
pub(super) fn list(snapshot: &Snapshot, query: Option<&str>) -> Result<Bytes, Failure> {
    let mut sort = "total_time";
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sort", value)) => sort = value,
            _ => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!(
                        "unknown query parameter {pair:?}; use sort=<{}>",
                        Key::NAMES
                    ),
                ))
            }
        }
    }
    let key = Key::parse(sort).ok_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            format!("cannot sort by {sort:?}; use one of {}", Key::NAMES),
        )
    })?;
    let body = Body {
        sorted_by: sort,
        endpoints: sorted(&snapshot.endpoints, key),
        dependencies: sorted(&snapshot.dependencies, key),
        top: Rankings {
            total_time_ns: top(&snapshot.endpoints, Key::TotalTime),
            error_rate: top(&snapshot.endpoints, Key::ErrorRate),
            p99_ns: top(&snapshot.endpoints, Key::P99),
        },
    };
    serde_json::to_vec(&body).map(Bytes::from).map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the endpoints could not be encoded as JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sort_keys_and_parameters_are_explained() {
        let snapshot = Snapshot::default();
        let (status, message) = list(&snapshot, Some("sort=speed")).unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains("total_time, error_rate, p99"), "{message}");
        let (_, message) = list(&snapshot, Some("limit=3")).unwrap_err();
        assert!(message.contains("unknown query parameter"), "{message}");
        let body = list(&snapshot, Some("sort=p99")).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["sorted_by"], "p99");
    }
}
