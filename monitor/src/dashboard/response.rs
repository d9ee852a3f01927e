//! Building responses. Every header value here is static, so building
//! cannot fail.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{
    HeaderName, HeaderValue, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use hyper::{Response, StatusCode};

use super::{exposition, json};

/// The body of every response: built whole before it is sent.
pub(super) type Body = Full<Bytes>;

fn with(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Figures change every tick; caches must not serve old ones.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 200 with a JSON body.
pub(super) fn json(body: Bytes) -> Response<Body> {
    with(StatusCode::OK, "application/json", body)
}

/// `status` with a JSON body.
pub(super) fn json_with_status(status: StatusCode, body: Bytes) -> Response<Body> {
    with(status, "application/json", body)
}

/// 200 with the Prometheus exposition.
pub(super) fn exposition(body: Bytes) -> Response<Body> {
    with(StatusCode::OK, exposition::CONTENT_TYPE, body)
}

/// An error with a JSON body `{"error": message}`.
pub(super) fn error(status: StatusCode, message: &str) -> Response<Body> {
    with(status, "application/json", json::error(message))
}

/// Adds a header with a static value.
pub(super) fn header(
    mut response: Response<Body>,
    name: HeaderName,
    value: &'static str,
) -> Response<Body> {
    response
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
    response
}

/// An error after which the connection is closed (the request body may be
/// left unread, so the connection cannot carry another request).
pub(super) fn error_and_close(status: StatusCode, message: &str) -> Response<Body> {
    header(error(status, message), CONNECTION, "close")
}

/// 405 naming the allowed methods.
pub(super) fn method_not_allowed(
    method: &hyper::Method,
    path: &str,
    allow: &'static str,
) -> Response<Body> {
    let message = format!("{method} is not allowed on {path}; use {allow}");
    header(
        error(StatusCode::METHOD_NOT_ALLOWED, &message),
        ALLOW,
        allow,
    )
}

/// 401 asking for a bearer token.
pub(super) fn unauthorized(message: &str, challenge: &'static str) -> Response<Body> {
    header(
        error(StatusCode::UNAUTHORIZED, message),
        WWW_AUTHENTICATE,
        challenge,
    )
}
