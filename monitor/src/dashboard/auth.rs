//! The bearer token: when one is configured, every request must carry
//! `Authorization: Bearer <token>`.

use hyper::header::AUTHORIZATION;
use hyper::{HeaderMap, Response};

use super::response::{self, Body};

/// Why a request was turned away.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Denied {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A bearer token that is not the configured one.
    Invalid,
}

impl Denied {
    /// 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750).
    pub(super) fn response(&self) -> Response<Body> {
        match self {
            Denied::Missing => response::unauthorized(
                "this monitor requires a token: send the header `Authorization: Bearer <token>` with the value of dashboard.token (MONITOR_TOKEN)",
                "Bearer realm=\"monitor\"",
            ),
            Denied::Invalid => response::unauthorized(
                "the bearer token is not the one set in dashboard.token (MONITOR_TOKEN)",
                "Bearer realm=\"monitor\", error=\"invalid_token\"",
            ),
        }
    }
}

/// Checks the request's headers against `expected` (`None`: no token needed).
pub(super) fn check(expected: Option<&str>, headers: &HeaderMap) -> Result<(), Denied> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|value| bearer(value.as_bytes()))
        .ok_or(Denied::Missing)?;
    if constant_time_eq(presented, expected.as_bytes()) {
        Ok(())
    } else {
        Err(Denied::Invalid)
    }
}

/// The token of a `Bearer <token>` credential (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    if value.len() < SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let token = value[SCHEME.len()..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Compares without returning early: the time taken depends on the length
/// of `presented` (which the client knows) and never on where the first
/// difference is, nor on the contents of `expected`.
fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(presented.len() != expected.len());
    for (i, &byte) in presented.iter().enumerate() {
        // Past the end of `expected`, compare with 0; the length difference
        // above already makes the result false.
        let other = expected.get(i).copied().unwrap_or(0);
        difference |= byte ^ other;
    }
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(authorization: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn no_token_configured_lets_everything_in() {
        assert_eq!(check(None, &headers(None)), Ok(()));
        assert_eq!(check(None, &headers(Some("Bearer whatever"))), Ok(()));
    }

    #[test]
    fn the_token_must_match_exactly() {
        let token = Some("s3cret");
        assert_eq!(check(token, &headers(None)), Err(Denied::Missing));
        assert_eq!(
            check(token, &headers(Some("Basic czNjcmV0"))),
            Err(Denied::Missing)
        );
        assert_eq!(check(token, &headers(Some("Bearer"))), Err(Denied::Missing));
        assert_eq!(
            check(token, &headers(Some("Bearer "))),
            Err(Denied::Missing)
        );
        assert_eq!(
            check(token, &headers(Some("Bearer s3cre"))),
            Err(Denied::Invalid)
        );
        assert_eq!(
            check(token, &headers(Some("Bearer s3cret!"))),
            Err(Denied::Invalid)
        );
        assert_eq!(
            check(token, &headers(Some("Bearer S3CRET"))),
            Err(Denied::Invalid)
        );
        assert_eq!(check(token, &headers(Some("Bearer s3cret"))), Ok(()));
        assert_eq!(check(token, &headers(Some("bearer  s3cret "))), Ok(()));
    }

    #[test]
    fn comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abc\0", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn the_challenge_is_sent() {
        let response = Denied::Missing.response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"monitor\""
        );
    }
}
