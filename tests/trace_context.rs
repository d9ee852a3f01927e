//! W3C Trace Context parsing and propagation under arbitrary input.

use monitor::trace::{extract, inject_context, SpanId, TraceContext, TraceId, TraceState};
use proptest::prelude::*;

/// An empty `http::HeaderMap`. Only `monitor` depends on `http`, not this
/// package, so the type is taken from `extract`'s signature.
macro_rules! header_map {
    () => {{
        let map = Default::default();
        let _ = extract(&map);
        map
    }};
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A valid context with a tracestate built from valid members.
fn context() -> impl Strategy<Value = TraceContext> {
    (
        1..=u128::MAX,
        1..=u64::MAX,
        any::<bool>(),
        prop::collection::vec(
            (
                "[a-z][a-z0-9_*/-]{0,20}(@[a-z][a-z0-9]{0,5})?",
                r"[\x21-\x2b\x2d-\x3c\x3e-\x7e]( ?[\x21-\x2b\x2d-\x3c\x3e-\x7e]){0,30}",
            ),
            0..40,
        ),
    )
        .prop_map(|(trace, span, sampled, members)| {
            let header: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
            TraceContext {
                trace_id: TraceId::from_u128(trace).expect("non-zero"),
                span_id: SpanId::from_u64(span).expect("non-zero"),
                sampled,
                trace_state: TraceState::parse(&header.join(",")),
            }
        })
}

/// Whatever a parser accepted must itself be valid and write back to a
/// header that parses to the same context.
fn assert_valid(context: &TraceContext) -> Result<(), TestCaseError> {
    let header = context.traceparent();
    prop_assert_eq!(header.len(), 55);
    prop_assert!(TraceId::is_valid(&header[3..35]));
    prop_assert!(SpanId::is_valid(&header[36..52]));
    prop_assert_eq!(
        &TraceContext::parse_traceparent(&header)?,
        &TraceContext {
            trace_state: TraceState::new(),
            ..context.clone()
        }
    );
    let state = &context.trace_state;
    prop_assert!(state.len() <= TraceState::MAX_MEMBERS);
    prop_assert!(state.to_string().len() <= TraceState::MAX_LEN);
    prop_assert_eq!(&TraceState::parse(&state.to_string()), state);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        if let Ok(context) = TraceContext::parse_traceparent(&s) {
            assert_valid(&context)?;
        }
        let state = TraceState::parse(&s);
        prop_assert!(state.len() <= TraceState::MAX_MEMBERS);
        let _ = s.parse::<TraceId>();
        let _ = s.parse::<SpanId>();
    }

    #[test]
    fn traceparent_shaped_strings_never_panic(s in "[0-9a-fA-F-]{0,70}") {
        if let Ok(context) = TraceContext::parse_traceparent(&s) {
            assert_valid(&context)?;
        }
    }

    #[test]
    fn arbitrary_header_bytes_never_panic(
        traceparent in prop::collection::vec(any::<u8>(), 0..80),
        tracestate in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut headers = header_map!();
        if let Ok(value) = traceparent.as_slice().try_into() {
            headers.insert("traceparent", value);
        }
        if let Ok(value) = tracestate.as_slice().try_into() {
            headers.insert("tracestate", value);
        }
        if let Some(context) = extract(&headers) {
            assert_valid(&context)?;
        }
    }

    #[test]
    fn valid_contexts_round_trip_through_headers(context in context()) {
        assert_valid(&context)?;
        let mut headers = header_map!();
        inject_context(&context, &mut headers);
        prop_assert_eq!(headers.contains_key("tracestate"), !context.trace_state.is_empty());
        prop_assert_eq!(extract(&headers), Some(context.clone()));
        let child = context.child();
        prop_assert_eq!(child.trace_id, context.trace_id);
        prop_assert_ne!(child.span_id, context.span_id);
    }

    #[test]
    fn mutated_headers_parse_to_valid_contexts_or_are_rejected(
        context in context(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let mut bytes = context.traceparent().into_bytes();
        for (index, byte, kind) in edits {
            match kind {
                0 if !bytes.is_empty() => {
                    let i = index.index(bytes.len());
                    bytes[i] = byte;
                }
                1 => {
                    let i = index.index(bytes.len() + 1);
                    bytes.insert(i, byte);
                }
                _ if !bytes.is_empty() => {
                    let i = index.index(bytes.len());
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(parsed) = TraceContext::parse_traceparent(&text) {
            assert_valid(&parsed)?;
            // Lower-case hex in the id positions is all a version-00 header
            // can hold, so what parsed is what the text says.
            prop_assert_eq!(parsed.trace_id.to_string(), &text[3..35]);
            prop_assert_eq!(parsed.span_id.to_string(), &text[36..52]);
        }
    }
}

#[test]
fn every_single_byte_substitution_is_handled() {
    let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for i in 0..valid.len() {
        for byte in 0u8..=127 {
            let mut bytes = valid.as_bytes().to_vec();
            bytes[i] = byte;
            let text = String::from_utf8(bytes).expect("ASCII");
            let result = TraceContext::parse_traceparent(&text);
            let digit = matches!(byte, b'0'..=b'9' | b'a'..=b'f');
            let expected_ok = match i {
                2 | 35 | 52 => byte == b'-',
                // Version ff is forbidden; any other lower-case hex version
                // of exactly 55 characters is a valid (future) header.
                0 | 1 => digit && !(text.starts_with("ff")),
                _ => digit,
            };
            assert_eq!(result.is_ok(), expected_ok, "{text:?}: {result:?}");
        }
    }
}
