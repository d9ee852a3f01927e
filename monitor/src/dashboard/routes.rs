//! Requests to responses: the token, the body limit, then the route.

use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};

use super::response::{self, Body};
use super::{auth, body, endpoints, health, history, traces, State};

/// The paths served, for the 404 message.
const PATHS: &str =
    "/metrics, /api/v1/functions, /api/v1/snapshot, /api/v1/traces, /api/v1/traces/{trace_id}, /api/v1/system, /api/v1/endpoints, /api/v1/history, /health, /health/live, /health/ready";

/// Methods every route accepts (hyper leaves the body out for `HEAD`).
const READ_ONLY: &str = "GET, HEAD";

/// The hyper service: answers every request, never fails.
pub(super) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let response = respond(&state, request).await;
    state.stats.responded(response.status());
    Ok(response)
}

async fn respond(state: &State, request: Request<Incoming>) -> Response<Body> {
    if let Err(denied) = auth::check(state.token.as_deref(), request.headers()) {
        return denied.response();
    }
    let (parts, body) = request.into_parts();
    // No route takes a body yet; reading it anyway (bounded) keeps the
    // connection usable for the next request and applies the limit to all.
    if let Err(error) = body::read(&parts.headers, body, state.max_body_bytes, state.timeout).await
    {
        return error.response();
    }
    // History may wait for the store thread, so it is answered here, async.
    if parts.uri.path() == "/api/v1/history" {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return response::method_not_allowed(&parts.method, parts.uri.path(), READ_ONLY);
        }
        return history::answer(state.history.as_ref(), parts.uri.query())
            .await
            .map_or_else(
                |(status, message)| response::error(status, &message),
                response::json,
            );
    }
    // Building a response is synchronous; a bug there answers 500 instead of
    // dropping the connection.
    catch_unwind(AssertUnwindSafe(|| route(state, &parts))).unwrap_or_else(|_| {
        response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the monitor failed to build this response; this is a bug in the monitor crate",
        )
    })
}

/// The resources served.
enum Resource<'a> {
    Metrics,
    Functions,
    Snapshot,
    Traces,
    Trace(&'a str),
    System,
    Endpoints,
    Health,
    Live,
    Ready,
}

fn route(state: &State, parts: &Parts) -> Response<Body> {
    let path = parts.uri.path();
    let resource = match path {
        "/metrics" => Resource::Metrics,
        "/api/v1/functions" => Resource::Functions,
        "/api/v1/snapshot" => Resource::Snapshot,
        "/api/v1/traces" => Resource::Traces,
        "/api/v1/system" => Resource::System,
        "/api/v1/endpoints" => Resource::Endpoints,
        "/health" => Resource::Health,
        "/health/live" => Resource::Live,
        "/health/ready" => Resource::Ready,
        _ if path.starts_with("/api/v1/traces/") => {
            Resource::Trace(&path["/api/v1/traces/".len()..])
        }
        _ => {
            let message = format!("no such path: {path}; the monitor serves {PATHS}");
            return response::error(StatusCode::NOT_FOUND, &message);
        }
    };
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return response::method_not_allowed(&parts.method, path, READ_ONLY);
    }
    let snapshot = state.snapshots.load();
    let encoded = match resource {
        Resource::Live => return response::json(health::live()),
        Resource::Health => match health::aggregate(&snapshot.health) {
            (status, Ok(body)) => return response::json_with_status(status, body),
            (_, Err(e)) => Err(e),
        },
        Resource::Ready => {
            let (status, body) = health::ready(&snapshot.health);
            return response::json_with_status(status, body);
        }
        Resource::Endpoints => {
            return endpoints::list(&snapshot, parts.uri.query()).map_or_else(
                |(status, message)| response::error(status, &message),
                response::json,
            )
        }
        Resource::Metrics => {
            let open = state.open_connections();
            let body = state.cache.exposition(&snapshot, |out| {
                state.stats.render(open, state.max_connections, out);
            });
            return response::exposition(body);
        }
        Resource::Functions => state.cache.functions(&snapshot),
        Resource::Snapshot => state.cache.snapshot(&snapshot),
        Resource::System => super::json::system(&snapshot),
        Resource::Traces => {
            return traces::list(&state.traces, parts.uri.query()).map_or_else(
                |(status, message)| response::error(status, &message),
                response::json,
            )
        }
        Resource::Trace(id) => {
            return traces::one(&state.traces, id).map_or_else(
                |(status, message)| response::error(status, &message),
                response::json,
            )
        }
    };
    match encoded {
        Ok(body) => response::json(body),
        Err(error) => response::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the snapshot could not be encoded as JSON: {error}"),
        ),
    }
}
