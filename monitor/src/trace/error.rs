//! What can be wrong with a trace id, a `traceparent` or a `tracestate` member.

use std::fmt;

/// Why a trace id, span id, `traceparent` header or `tracestate` member was
/// rejected.
///
/// [`extract`](super::extract) never returns these: a malformed incoming
/// header means a new trace starts. They are for code that parses directly
/// and wants to log why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is longer than any valid `traceparent`; it was not scanned.
    #[error("traceparent is {found} bytes long; at most {max} are accepted, so start a new trace", max = super::context::MAX_TRACEPARENT_LEN)]
    TooLong {
        /// The input's length in bytes.
        found: usize,
    },
    /// The `traceparent` has the wrong length for its version.
    #[error("traceparent is {found} characters long; version 00 must be exactly 55 and later versions at least 55")]
    TraceparentLength {
        /// The input's length in bytes.
        found: usize,
    },
    /// A hex field has the wrong number of digits.
    #[error("{field} is {found} characters long; it must be {expected} lower-case hex digits")]
    Length {
        /// The field.
        field: Field,
        /// The required number of hex digits.
        expected: usize,
        /// The number of bytes found.
        found: usize,
    },
    /// A hex field contains something other than `0-9a-f` (upper case
    /// included).
    #[error("{field} must be lower-case hex digits (0-9, a-f)")]
    NotLowerHex {
        /// The field.
        field: Field,
    },
    /// A trace id or span id is all zeros.
    #[error("{field} is all zeros, which W3C Trace Context forbids; start a new trace instead")]
    AllZeros {
        /// The field.
        field: Field,
    },
    /// The `traceparent` version is `ff`, which the specification forbids.
    #[error("traceparent version ff is forbidden")]
    ForbiddenVersion,
    /// A `-` is missing between the `traceparent` fields.
    #[error("traceparent fields must be separated by '-' (version-traceid-parentid-flags)")]
    Delimiter,
    /// A `traceparent` of a later version has data after its first 55
    /// characters that does not start with `-`.
    #[error("traceparent of a later version continues after the flags without a '-'")]
    FutureVersionTrailer,
    /// A `tracestate` key does not follow the specification's grammar.
    #[error("tracestate key {key:?} is invalid; keys are lower-case letters, digits and _-*/ (optionally tenant@system), starting with a letter, at most 256 characters")]
    TraceStateKey {
        /// The rejected key.
        key: String,
    },
    /// A `tracestate` value does not follow the specification's grammar.
    #[error("tracestate value {value:?} is invalid; values are 1 to 256 printable ASCII characters without ',' or '=' and not ending in a space")]
    TraceStateValue {
        /// The rejected value.
        value: String,
    },
}

/// The field a [`ParseError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// A trace id parsed on its own.
    TraceId,
    /// A span id parsed on its own.
    SpanId,
    /// The `version` field of a `traceparent`.
    TraceparentVersion,
    /// The `trace-id` field of a `traceparent`.
    TraceparentTraceId,
    /// The `parent-id` field of a `traceparent`.
    TraceparentParentId,
    /// The `trace-flags` field of a `traceparent`.
    TraceparentFlags,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::TraceId => "trace-id",
            Field::SpanId => "span-id",
            Field::TraceparentVersion => "traceparent version",
            Field::TraceparentTraceId => "traceparent trace-id",
            Field::TraceparentParentId => "traceparent parent-id",
            Field::TraceparentFlags => "traceparent trace-flags",
        })
    }
}
