//! `GET /api/v1/traces` and `GET /api/v1/traces/{trace_id}`: read straight
//! from the trace store (too large to copy into every snapshot).

use std::sync::{PoisonError, RwLock};

use bytes::Bytes;
use hyper::StatusCode;

use crate::trace::{TraceId, TraceQuery, TraceStore};

/// Traces listed when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;
/// The largest `limit` accepted.
const MAX_LIMIT: usize = 1_000;

/// Why a traces request could not be answered: the status and a message.
pub(super) type Failure = (StatusCode, String);

/// The listing for a query string such as `name=db&min_duration_ms=5&error=true&limit=20`.
pub(super) fn list(store: &RwLock<TraceStore>, query: Option<&str>) -> Result<Bytes, Failure> {
    let query = parse_query(query.unwrap_or(""))?;
    let traces = store
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .query(&query);
    encode(&traces)
}

/// One trace as a tree of spans.
pub(super) fn one(store: &RwLock<TraceStore>, id: &str) -> Result<Bytes, Failure> {
    let id: TraceId = id.parse().map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a trace id ({e}); expected 32 lower-case hex digits"),
        )
    })?;
    let tree = store
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .trace(id);
    match tree {
        Some(tree) => encode(&tree),
        None => Err((
            StatusCode::NOT_FOUND,
            format!("trace {id} is not in the store (never recorded, or evicted)"),
        )),
    }
}

fn encode(value: &impl serde::Serialize) -> Result<Bytes, Failure> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the traces could not be encoded as JSON: {e}"),
        )
    })
}

fn parse_query(query: &str) -> Result<TraceQuery, Failure> {
    let bad = |key: &str, value: &str, expected: &str| {
        (
            StatusCode::BAD_REQUEST,
            format!("query parameter {key}={value:?} is invalid: expected {expected}"),
        )
    };
    let mut parsed = TraceQuery {
        limit: DEFAULT_LIMIT,
        ..TraceQuery::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(raw).ok_or_else(|| bad(key, raw, "valid percent-encoding"))?;
        match key {
            "name" => parsed.name = Some(value).filter(|v| !v.is_empty()),
            "min_duration_ms" => {
                let ms: f64 = value
                    .parse()
                    .ok()
                    .filter(|ms: &f64| ms.is_finite() && *ms >= 0.0)
                    .ok_or_else(|| bad(key, &value, "a number of milliseconds >= 0"))?;
                parsed.min_duration_ns = Some((ms * 1e6) as u64);
            }
            "error" => {
                parsed.error = Some(match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad(key, &value, "true or false")),
                })
            }
            "limit" => {
                parsed.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad(key, &value, "a whole number from 1 to 1000"))?;
            }
            _ => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!(
                    "unknown query parameter {key:?}; use name, min_duration_ms, error or limit"
                ),
                ))
            }
        }
    }
    Ok(parsed)
}

/// Decodes `%XX` escapes and `+` (space); `None` when malformed or not UTF-8.
pub(super) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_and_bad_ones_name_the_parameter() {
        let q =
            parse_query("name=db%20query&min_duration_ms=2.5&error=true&limit=7").expect("valid");
        assert_eq!(q.name.as_deref(), Some("db query"));
        assert_eq!(q.min_duration_ns, Some(2_500_000));
        assert_eq!(q.error, Some(true));
        assert_eq!(q.limit, 7);
        assert_eq!(parse_query("").expect("empty").limit, DEFAULT_LIMIT);
        for (query, names) in [
            ("limit=0", "limit"),
            ("limit=lots", "limit"),
            ("min_duration_ms=-1", "min_duration_ms"),
            ("error=maybe", "error"),
            ("colour=red", "colour"),
            ("name=%zz", "name"),
        ] {
            let (status, message) = parse_query(query).expect_err(query);
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(message.contains(names), "{query}: {message}");
        }
    }
}
