//! Reading a request body within a size and a time limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::header::CONTENT_LENGTH;
use hyper::{HeaderMap, Response, StatusCode};

use super::response::{self, Body};

/// Why a body was not read.
#[derive(Debug)]
pub(super) enum BodyError {
    /// Longer than the limit, by `Content-Length` or once streamed.
    TooLarge { limit: usize },
    /// Not received in time.
    TimedOut { timeout: Duration },
    /// The client sent a broken body or went away.
    Invalid(String),
}

impl BodyError {
    /// 413, 408 or 400; the connection is closed after it, since the rest of
    /// the body is left unread.
    pub(super) fn response(&self) -> Response<Body> {
        match self {
            BodyError::TooLarge { limit } => response::error_and_close(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than {limit} bytes (dashboard.max_body_bytes)"
                ),
            ),
            BodyError::TimedOut { timeout } => response::error_and_close(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {timeout:?} (dashboard.header_timeout)"
                ),
            ),
            BodyError::Invalid(reason) => response::error_and_close(
                StatusCode::BAD_REQUEST,
                &format!("the request body could not be read: {reason}"),
            ),
        }
    }
}

/// Reads the whole body if it is at most `limit` bytes and arrives within
/// `timeout`. A `Content-Length` over the limit is refused before reading.
pub(super) async fn read(
    headers: &HeaderMap,
    body: Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    if let Some(length) = headers.get(CONTENT_LENGTH) {
        // hyper has already refused a malformed Content-Length.
        let length = length
            .to_str()
            .ok()
            .and_then(|l| l.trim().parse::<u64>().ok());
        if length.is_some_and(|length| length > limit as u64) {
            return Err(BodyError::TooLarge { limit });
        }
    }
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge { limit })
        }
        Ok(Err(error)) => Err(BodyError::Invalid(error.to_string())),
        Err(_) => Err(BodyError::TimedOut { timeout }),
    }
}
