//! `GET /health`, `/health/live` and `/health/ready`: the snapshot's
//! health as JSON, with the status code probes act on.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Serialize;

use crate::health::{ComponentHealth, HealthSnapshot, Status};

/// The body of `/health`.
#[derive(Serialize)]
struct Aggregate<'a> {
    status: Status,
    ready: bool,
    components: &'a [ComponentHealth],
    problems: &'a [String],
}

/// `/health`: every component; 503 when a critical component is DOWN.
pub(super) fn aggregate(health: &HealthSnapshot) -> (StatusCode, Result<Bytes, serde_json::Error>) {
    let body = serde_json::to_vec(&Aggregate {
        status: health.status,
        ready: health.ready,
        components: &health.components,
        problems: &health.problems,
    })
    .map(Bytes::from);
    (code(health.status != Status::Down), body)
}

/// `/health/live`: the process answers, whatever the components say.
pub(super) fn live() -> Bytes {
    Bytes::from_static(b"{\"status\":\"UP\"}")
}

/// `/health/ready`: 503 until every component has a result, and while a
/// critical component is DOWN.
pub(super) fn ready(health: &HealthSnapshot) -> (StatusCode, Bytes) {
    let reason = if health.ready {
        None
    } else if health.status == Status::Down {
        Some("a critical component is DOWN")
    } else {
        Some("not every component has been checked yet")
    };
    let body = serde_json::json!({
        "status": if health.ready { "UP" } else { "DOWN" },
        "ready": health.ready,
        "reason": reason,
    });
    (code(health.ready), Bytes::from(body.to_string()))
}

fn code(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_is_503_and_the_rest_200() {
        let mut health = HealthSnapshot::default();
        assert_eq!(ready(&health).0, StatusCode::SERVICE_UNAVAILABLE);
        health.ready = true;
        health.status = Status::Degraded;
        assert_eq!(aggregate(&health).0, StatusCode::OK);
        assert_eq!(ready(&health).0, StatusCode::OK);
        health.status = Status::Down;
        health.ready = false;
        let (code, body) = aggregate(&health);
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        assert_eq!(body["status"], "DOWN");
        let (_, body) = ready(&health);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["reason"], "a critical component is DOWN");
    }
}
