//! `GET /api/v1/history`: from the rings when they cover the range, else
//! from the store thread, awaited with a timeout (see [`crate::history`]).

use std::sync::PoisonError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

use super::traces::{percent_decode, Failure};
use crate::history::query::{self, HistoryRequest, MAX_POINTS};
use crate::history::recorder::HistoryAccess;
use crate::store::worker::Query;
use crate::trend::fit::least_squares;

/// How long a request waits for the store thread.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Listing {
    series: Vec<String>,
    refused_series: u64,
}

#[derive(Serialize)]
struct Answer<'a> {
    series: &'a str,
    from: i64,
    to: i64,
    step: i64,
    /// `memory-1s`, `memory-1m` or `store`.
    source: &'static str,
    /// Why the store could not answer, when the rings answered instead.
    note: Option<String>,
    /// `[unix seconds, value]`, oldest first.
    points: Vec<(i64, f64)>,
    /// The series' moving average now.
    ewma: Option<f64>,
    /// Least-squares trend over the points returned.
    trend: Option<Trend>,
}

#[derive(Serialize)]
struct Trend {
    per_hour: f64,
    r2: f64,
}

/// Answers the query string `query`.
pub(super) async fn answer(
    access: Option<&HistoryAccess>,
    query: Option<&str>,
) -> Result<Bytes, Failure> {
    let Some(access) = access else {
        return Err((
            StatusCode::NOT_FOUND,
            "history is disabled (history.enabled = false)".into(),
        ));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut pairs = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(raw).ok_or_else(|| {
            bad(format!(
                "parameter {key}={raw:?} is not valid percent-encoding"
            ))
        })?;
        pairs.push((key.to_string(), value));
    }
    let request = query::parse(pairs, now).map_err(bad)?;
    let Some(name) = request.series.clone() else {
        return list(access).await;
    };
    // From the rings, if they cover the range: no waiting.
    let (from_rings, known, ewma) = {
        let history = access
            .history
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let known = history.get(&name);
        let ewma = known.and_then(|s| s.ewma());
        let points = history.covering(&name, request.from).map(|view| {
            let step = request.step_for(view.resolution());
            let source = if view.resolution() == 1 {
                "memory-1s"
            } else {
                "memory-1m"
            };
            (source, step, view.points(request.from, request.to, step))
        });
        (points, known.is_some(), ewma)
    };
    if let Some((source, step, points)) = from_rings {
        return respond(&name, &request, step, source, None, points, ewma);
    }
    let step = request.step_for(1);
    let stored = match &access.store {
        Some(store) => {
            let answer = store.query(Query {
                series: name.clone(),
                from_ms: request.from.saturating_mul(1000),
                to_ms: request.to.saturating_mul(1000).saturating_add(999),
                step_ms: step.saturating_mul(1000),
                max_points: MAX_POINTS as usize,
            });
            match tokio::time::timeout(STORE_TIMEOUT, answer).await {
                Ok(Ok(Ok(points))) => Ok(points),
                Ok(Ok(Err(reason))) => Err(reason),
                Ok(Err(_)) => Err("the history store stopped".to_string()),
                Err(_) => Err(format!(
                    "the history store did not answer within {STORE_TIMEOUT:?}"
                )),
            }
        }
        None => Err("persistence is off (history.persist = false)".to_string()),
    };
    match stored {
        Ok(points) if !points.is_empty() || known => {
            let points = points.iter().map(|p| (p.t_ms / 1000, p.value)).collect();
            respond(&name, &request, step, "store", None, points, ewma)
        }
        Ok(_) => Err((
            StatusCode::NOT_FOUND,
            format!("no series named {name:?}; GET /api/v1/history lists the series"),
        )),
        Err(reason) if known => {
            // The rings answer with what they still hold.
            let history = access
                .history
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(view) = history.best_effort(&name, request.from) else {
                return Err((StatusCode::SERVICE_UNAVAILABLE, reason));
            };
            let step = request.step_for(view.resolution());
            let source = if view.resolution() == 1 {
                "memory-1s"
            } else {
                "memory-1m"
            };
            let points = view.points(request.from, request.to, step);
            drop(history);
            respond(&name, &request, step, source, Some(reason), points, ewma)
        }
        Err(reason) => Err((
            StatusCode::NOT_FOUND,
            format!("no series named {name:?} in memory, and the store cannot be asked: {reason}"),
        )),
    }
}

/// The series in memory and, when the store answers in time, those only
/// stored (from before a restart).
async fn list(access: &HistoryAccess) -> Result<Bytes, Failure> {
    let (mut series, refused_series) = {
        let history = access
            .history
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        (history.names(), history.refused())
    };
    if let Some(store) = &access.store {
        let (reply, stored) = tokio::sync::oneshot::channel();
        let queued = store.run(move |store| {
            let names = store.and_then(|s| s.series_names().ok());
            let _ = reply.send(names.unwrap_or_default());
        });
        if queued {
            if let Ok(Ok(stored)) = tokio::time::timeout(STORE_TIMEOUT, stored).await {
                series.extend(stored);
                series.sort_unstable();
                series.dedup();
            }
        }
    }
    encode(&Listing {
        series,
        refused_series,
    })
}

fn respond(
    name: &str,
    request: &HistoryRequest,
    step: i64,
    source: &'static str,
    note: Option<String>,
    points: Vec<(i64, f64)>,
    ewma: Option<f64>,
) -> Result<Bytes, Failure> {
    let xy: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (t as f64, v)).collect();
    let trend = least_squares(&xy).map(|fit| Trend {
        per_hour: fit.slope * 3600.0,
        r2: fit.r2,
    });
    encode(&Answer {
        series: name,
        from: request.from,
        to: request.to,
        step,
        source,
        note,
        points,
        ewma,
        trend,
    })
}

fn bad(message: String) -> Failure {
    (StatusCode::BAD_REQUEST, message)
}

fn encode(value: &impl Serialize) -> Result<Bytes, Failure> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the history could not be encoded as JSON: {e}"),
        )
    })
}
