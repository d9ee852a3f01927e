//! Carrying a [`TraceContext`] in HTTP headers.

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::context::{TraceContext, TraceState};
use super::span::{current, enter_context, ContextGuard};

/// The W3C `traceparent` header name.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The W3C `tracestate` header name.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Writes the current span's context into `headers`, for an outgoing
/// request made inside it; returns false (and writes nothing) when no span
/// is current.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert!(!monitor::trace::inject(&mut headers), "no span is current here");
/// ```
pub fn inject(headers: &mut HeaderMap) -> bool {
    match current() {
        Some(span) => {
            inject_context(&span.into(), headers);
            true
        }
        None => false,
    }
}

/// Continues the caller's trace for an incoming request: makes the
/// `traceparent` of `headers` the remote parent of the spans started until
/// the guard is dropped. `None` (a new trace will start) when the header is
/// missing or malformed.
pub fn continue_from(headers: &HeaderMap) -> Option<ContextGuard> {
    extract(headers).map(|remote| enter_context((&remote).into()))
}

/// Writes `context` into `headers` as `traceparent` (version `00`) and, when
/// it has members, `tracestate`, replacing any values already there.
///
/// ```
/// use monitor::trace::{extract, inject_context, TraceContext};
///
/// let context = TraceContext::new_root(true);
/// let mut headers = http::HeaderMap::new();
/// inject_context(&context, &mut headers);
/// assert_eq!(extract(&headers), Some(context));
/// ```
pub fn inject_context(context: &TraceContext, headers: &mut HeaderMap) {
    // Both values are ASCII by construction, so the conversions cannot fail;
    // should they ever, the header is left out rather than the caller hurt.
    if let Ok(value) = HeaderValue::try_from(context.traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    headers.remove(TRACESTATE);
    if !context.trace_state.is_empty() {
        if let Ok(value) = HeaderValue::try_from(context.trace_state.to_string()) {
            headers.insert(TRACESTATE, value);
        }
    }
}

/// Reads the caller's context from `headers`.
///
/// Returns `None` when `traceparent` is missing, repeated or malformed: the
/// request then starts a new trace (for example with
/// [`TraceContext::new_root`]), it is not an error. Several `tracestate`
/// headers are joined; invalid members are dropped, and a `tracestate` that
/// is not visible ASCII is dropped as a whole, keeping the parent.
///
/// ```
/// use monitor::trace::extract;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// headers.insert("tracestate", "congo=t61rcWkgMzE".parse().unwrap());
/// let parent = extract(&headers).unwrap();
/// assert_eq!(parent.span_id.to_string(), "00f067aa0ba902b7");
/// assert_eq!(parent.trace_state.get("congo"), Some("t61rcWkgMzE"));
///
/// headers.insert("traceparent", "00-not-a-trace".parse().unwrap());
/// assert_eq!(extract(&headers), None);
/// ```
pub fn extract(headers: &HeaderMap) -> Option<TraceContext> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let traceparent = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let mut context = TraceContext::parse_traceparent(traceparent.to_str().ok()?).ok()?;
    context.trace_state = extract_trace_state(headers);
    Some(context)
}

fn extract_trace_state(headers: &HeaderMap) -> TraceState {
    let mut values = headers.get_all(TRACESTATE).iter();
    let Some(first) = values.next() else {
        return TraceState::new();
    };
    let Ok(first) = first.to_str() else {
        return TraceState::new();
    };
    let Some(second) = values.next() else {
        return TraceState::parse(first);
    };
    let mut joined = first.to_owned();
    for value in std::iter::once(second).chain(values) {
        let Ok(value) = value.to_str() else {
            return TraceState::new();
        };
        joined.push(',');
        joined.push_str(value);
    }
    TraceState::parse(&joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn inject_then_extract_round_trips() {
        let mut context = TraceContext::new_root(false);
        context.trace_state = TraceState::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        let mut map = HeaderMap::new();
        inject_context(&context, &mut map);
        assert_eq!(
            map.get(TRACEPARENT).unwrap(),
            context.traceparent().as_str()
        );
        assert_eq!(
            map.get(TRACESTATE).unwrap(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
        );
        assert_eq!(extract(&map), Some(context));
    }

    #[test]
    fn inject_replaces_stale_headers() {
        let mut map = headers(&[
            ("traceparent", VALID.as_bytes()),
            ("tracestate", b"stale=1"),
            ("tracestate", b"stale=2"),
        ]);
        let context = TraceContext::new_root(true);
        inject_context(&context, &mut map);
        assert_eq!(map.get_all(TRACEPARENT).iter().count(), 1);
        assert_eq!(
            map.get(TRACEPARENT).unwrap(),
            context.traceparent().as_str()
        );
        assert!(map.get(TRACESTATE).is_none());
    }

    #[test]
    fn missing_or_malformed_traceparent_starts_a_new_trace() {
        assert_eq!(extract(&HeaderMap::new()), None);
        assert_eq!(extract(&headers(&[("tracestate", b"a=1")])), None);
        assert_eq!(extract(&headers(&[("traceparent", b"garbage")])), None);
        assert_eq!(
            extract(&headers(&[(
                "traceparent",
                VALID.to_uppercase().as_bytes()
            )])),
            None
        );
        assert_eq!(extract(&headers(&[("traceparent", b"00-\xff")])), None);
    }

    #[test]
    fn repeated_traceparent_is_rejected() {
        let map = headers(&[
            ("traceparent", VALID.as_bytes()),
            ("traceparent", VALID.as_bytes()),
        ]);
        assert_eq!(extract(&map), None);
    }

    #[test]
    fn malformed_tracestate_keeps_the_parent() {
        let map = headers(&[
            ("traceparent", VALID.as_bytes()),
            ("tracestate", b"a=\xe9t\xe9"),
        ]);
        let context = extract(&map).unwrap();
        assert_eq!(context.traceparent(), VALID);
        assert!(context.trace_state.is_empty());

        let map = headers(&[
            ("traceparent", VALID.as_bytes()),
            ("tracestate", b"not a list"),
        ]);
        assert!(extract(&map).unwrap().trace_state.is_empty());
    }

    #[test]
    fn repeated_tracestate_headers_are_joined() {
        let map = headers(&[
            ("traceparent", VALID.as_bytes()),
            ("tracestate", b"rojo=1"),
            ("tracestate", b"congo=2,rojo=3"),
            ("tracestate", b"blue=4"),
        ]);
        let context = extract(&map).unwrap();
        assert_eq!(context.trace_state.to_string(), "rojo=1,congo=2,blue=4");
    }
}
