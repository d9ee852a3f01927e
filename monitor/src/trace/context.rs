//! The propagated trace context: `traceparent` and `tracestate`.

use std::fmt;

use super::error::{Field, ParseError};
use super::id::{parse_hex, SpanId, TraceId};

/// Longest `traceparent` that is looked at; anything longer is rejected from
/// its length alone.
pub(crate) const MAX_TRACEPARENT_LEN: usize = 512;
/// Length of a version `00` `traceparent`, and the minimum for later versions.
const TRACEPARENT_LEN: usize = 55;
/// The only version this crate writes.
const VERSION: u8 = 0;
/// The `sampled` bit of `trace-flags`.
const FLAG_SAMPLED: u8 = 0x01;

/// Where a request sits in a distributed trace, as carried by the W3C
/// `traceparent` and `tracestate` headers.
///
/// An incoming context names the caller's span ([`span_id`](Self::span_id)
/// is the parent span id as received); [`child`](Self::child) gives the
/// context of a span started under it.
///
/// ```
/// use monitor::trace::TraceContext;
///
/// let parent = TraceContext::parse_traceparent(
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// )
/// .unwrap();
/// assert!(parent.sampled);
///
/// let child = parent.child();
/// assert_eq!(child.trace_id, parent.trace_id);
/// assert_ne!(child.span_id, parent.span_id);
/// assert!(child.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The trace every span of the request belongs to.
    pub trace_id: TraceId,
    /// The span this context names: for an extracted context, the caller's
    /// (parent) span as received.
    pub span_id: SpanId,
    /// Whether the caller recorded (sampled) its span; the `sampled` bit of
    /// `trace-flags`.
    pub sampled: bool,
    /// Vendor-specific data carried alongside (`tracestate`).
    pub trace_state: TraceState,
}

impl TraceContext {
    /// The context of a new trace: a random trace id and span id, empty
    /// `tracestate`.
    pub fn new_root(sampled: bool) -> Self {
        TraceContext {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            sampled,
            trace_state: TraceState::new(),
        }
    }

    /// The context of a span started under this one: the same trace id,
    /// sampling decision and `tracestate`, and a new random span id.
    #[must_use]
    pub fn child(&self) -> Self {
        TraceContext {
            trace_id: self.trace_id,
            span_id: SpanId::random(),
            sampled: self.sampled,
            trace_state: self.trace_state.clone(),
        }
    }

    /// The `trace-flags` byte this context is written with.
    pub fn flags(&self) -> u8 {
        if self.sampled {
            FLAG_SAMPLED
        } else {
            0
        }
    }

    /// The `traceparent` header value, version `00`:
    /// `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        format!(
            "{VERSION:02x}-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            self.flags()
        )
    }

    /// Parses a `traceparent` header value (with an empty `tracestate`).
    ///
    /// Follows the W3C Trace Context rules: two lower-case hex digits of
    /// version, not `ff`; version `00` is exactly 55 characters; a later
    /// version is read as far as version `00` defines, provided the next
    /// character, if any, is `-`. Ids and flags are lower-case hex, and
    /// neither id may be all zeros. Input longer than 512 bytes is rejected
    /// without being scanned. Only the `sampled` bit of the flags is kept.
    pub fn parse_traceparent(header: &str) -> Result<Self, ParseError> {
        let bytes = header.as_bytes();
        if bytes.len() > MAX_TRACEPARENT_LEN {
            return Err(ParseError::TooLong { found: bytes.len() });
        }
        if bytes.len() < 2 {
            return Err(ParseError::TraceparentLength { found: bytes.len() });
        }
        let version = parse_hex::<2>(&bytes[..2], Field::TraceparentVersion)?;
        if version == 0xff {
            return Err(ParseError::ForbiddenVersion);
        }
        let length_ok = if version == u128::from(VERSION) {
            bytes.len() == TRACEPARENT_LEN
        } else {
            bytes.len() >= TRACEPARENT_LEN
        };
        if !length_ok {
            return Err(ParseError::TraceparentLength { found: bytes.len() });
        }
        // From here on the input is at least 55 bytes long.
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return Err(ParseError::Delimiter);
        }
        if bytes.len() > TRACEPARENT_LEN && bytes[TRACEPARENT_LEN] != b'-' {
            return Err(ParseError::FutureVersionTrailer);
        }
        let trace_id = TraceId::parse_field(&bytes[3..35], Field::TraceparentTraceId)?;
        let span_id = SpanId::parse_field(&bytes[36..52], Field::TraceparentParentId)?;
        let flags = parse_hex::<2>(&bytes[53..55], Field::TraceparentFlags)?;
        Ok(TraceContext {
            trace_id,
            span_id,
            sampled: flags & u128::from(FLAG_SAMPLED) != 0,
            trace_state: TraceState::new(),
        })
    }
}

/// The W3C `tracestate` list: vendor keys and opaque values, in order, the
/// most recently updated first.
///
/// Parsing is lenient, as the specification asks: members that break the
/// grammar are dropped one by one rather than losing the whole header, a
/// repeated key keeps its first value, at most 32 members are kept, and a
/// list longer than 512 characters is cut down (members over 128 characters
/// first, then from the end).
///
/// ```
/// use monitor::trace::TraceState;
///
/// let state = TraceState::parse("rojo=00f067aa0ba902b7, bad key=x ,congo=t61rcWkgMzE,rojo=2");
/// assert_eq!(state.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// assert_eq!(state.get("congo"), Some("t61rcWkgMzE"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TraceState {
    members: Vec<(String, String)>,
}

impl TraceState {
    /// Most members kept.
    pub const MAX_MEMBERS: usize = 32;
    /// Longest list kept, in characters of its header form.
    pub const MAX_LEN: usize = 512;
    /// Members longer than this are the first dropped when the list is too long.
    const LARGE_MEMBER: usize = 128;

    /// An empty list.
    pub const fn new() -> Self {
        TraceState {
            members: Vec::new(),
        }
    }

    /// Parses a `tracestate` header value (several headers joined with `,`),
    /// dropping invalid members; see the type's docs for the rules.
    pub fn parse(header: &str) -> Self {
        let mut state = TraceState::new();
        for member in header.split(',') {
            if state.members.len() == Self::MAX_MEMBERS {
                break;
            }
            let member = member.trim_matches(|c| c == ' ' || c == '\t');
            let Some((key, value)) = member.split_once('=') else {
                continue;
            };
            if is_valid_key(key) && is_valid_value(value) && state.get(key).is_none() {
                state.members.push((key.to_owned(), value.to_owned()));
            }
        }
        state.truncate();
        state
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key` to `value` and moves it to the front, as a vendor does when
    /// it updates its entry. The last members are dropped if the list
    /// grows past its limits.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        if !is_valid_key(key) {
            return Err(ParseError::TraceStateKey {
                key: key.to_owned(),
            });
        }
        if !is_valid_value(value) {
            return Err(ParseError::TraceStateValue {
                value: value.to_owned(),
            });
        }
        self.remove(key);
        self.members.insert(0, (key.to_owned(), value.to_owned()));
        self.members.truncate(Self::MAX_MEMBERS);
        self.truncate();
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.members.iter().position(|(k, _)| k == key)?;
        Some(self.members.remove(index).1)
    }

    /// The members, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.members.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members (no `tracestate` header is written).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The length of the header form.
    fn header_len(&self) -> usize {
        let members: usize = self.members.iter().map(|(k, v)| member_len(k, v)).sum();
        members + self.members.len().saturating_sub(1)
    }

    /// Drops members until the header form fits in [`Self::MAX_LEN`].
    fn truncate(&mut self) {
        while self.header_len() > Self::MAX_LEN {
            let large = self
                .members
                .iter()
                .rposition(|(k, v)| member_len(k, v) > Self::LARGE_MEMBER);
            match large {
                Some(index) => {
                    self.members.remove(index);
                }
                None => {
                    self.members.pop();
                }
            }
        }
    }
}

impl fmt::Display for TraceState {
    /// The `tracestate` header value: `key=value` members joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

fn member_len(key: &str, value: &str) -> usize {
    key.len() + 1 + value.len()
}

fn is_key_char(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/')
}

/// `key = simple-key / multi-tenant-key` (W3C Trace Context, level 1):
/// `simple-key = lcalpha 0*255(keychar)`,
/// `multi-tenant-key = (lcalpha / DIGIT) 0*240(keychar) "@" lcalpha 0*13(keychar)`.
fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    match key.split_once('@') {
        None => {
            matches!(bytes.first(), Some(b'a'..=b'z'))
                && bytes.len() <= 256
                && bytes.iter().all(|&b| is_key_char(b))
        }
        Some((tenant, system)) => {
            let (tenant, system) = (tenant.as_bytes(), system.as_bytes());
            matches!(tenant.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
                && tenant.len() <= 241
                && tenant.iter().all(|&b| is_key_char(b))
                && matches!(system.first(), Some(b'a'..=b'z'))
                && system.len() <= 14
                && system.iter().all(|&b| is_key_char(b))
        }
    }
}

/// `value = 0*255(chr) nblk-chr`, `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`,
/// `chr = %x20 / nblk-chr`.
fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 256
        && bytes.last() != Some(&b' ')
        && bytes
            .iter()
            .all(|&b| matches!(b, 0x20..=0x7e) && b != b',' && b != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";
    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn parse(s: &str) -> Result<TraceContext, ParseError> {
        TraceContext::parse_traceparent(s)
    }

    #[test]
    fn traceparent_round_trips() {
        let context = parse(VALID).unwrap();
        assert_eq!(context.trace_id.to_string(), TRACE);
        assert_eq!(context.span_id.to_string(), SPAN);
        assert!(context.sampled);
        assert!(context.trace_state.is_empty());
        assert_eq!(context.traceparent(), VALID);

        let unsampled = format!("00-{TRACE}-{SPAN}-00");
        let context = parse(&unsampled).unwrap();
        assert!(!context.sampled);
        assert_eq!(context.traceparent(), unsampled);

        let root = TraceContext::new_root(true);
        assert_eq!(parse(&root.traceparent()).unwrap(), root);
    }

    #[test]
    fn unknown_flag_bits_are_ignored() {
        let context = parse(&format!("00-{TRACE}-{SPAN}-ff")).unwrap();
        assert!(context.sampled);
        assert_eq!(context.flags(), 0x01);
        let context = parse(&format!("00-{TRACE}-{SPAN}-02")).unwrap();
        assert!(!context.sampled);
    }

    #[test]
    fn wrong_length_is_rejected() {
        for header in [
            "",
            "0",
            "00",
            &VALID[..54],
            &format!("{VALID}0"),
            &format!("{VALID}-"),
            &format!("00-{TRACE}0-{SPAN}-01"),
            &format!("00-{TRACE}-{SPAN}0-01"),
            &format!("00-{TRACE}-{SPAN}-011"),
        ] {
            assert!(parse(header).is_err(), "{header:?} was accepted");
        }
        assert_eq!(
            parse(&VALID[..54]),
            Err(ParseError::TraceparentLength { found: 54 })
        );
    }

    #[test]
    fn extra_data_after_version_00_is_rejected() {
        assert_eq!(
            parse(&format!("{VALID}-what-the-future-will-be-like")),
            Err(ParseError::TraceparentLength { found: 84 })
        );
    }

    #[test]
    fn non_hex_and_upper_case_are_rejected() {
        let cases = [
            (format!("0g-{TRACE}-{SPAN}-01"), Field::TraceparentVersion),
            (
                format!("00-4BF92F3577B34DA6A3CE929D0E0E4736-{SPAN}-01"),
                Field::TraceparentTraceId,
            ),
            (
                format!("00-4bf92f3577b34da6a3ce929d0e0e473.-{SPAN}-01"),
                Field::TraceparentTraceId,
            ),
            (
                format!("00-{TRACE}-00F067AA0BA902B7-01"),
                Field::TraceparentParentId,
            ),
            (
                format!("00-{TRACE}-00f067aa0ba902bz-01"),
                Field::TraceparentParentId,
            ),
            (format!("00-{TRACE}-{SPAN}-0x"), Field::TraceparentFlags),
            (format!("00-{TRACE}-{SPAN}-0A"), Field::TraceparentFlags),
            (format!("00-{TRACE}-{SPAN}-.1"), Field::TraceparentFlags),
            (format!("0A-{TRACE}-{SPAN}-01"), Field::TraceparentVersion),
        ];
        for (header, field) in cases {
            assert_eq!(
                parse(&header),
                Err(ParseError::NotLowerHex { field }),
                "{header}"
            );
        }
    }

    #[test]
    fn version_ff_is_rejected() {
        assert_eq!(
            parse(&format!("ff-{TRACE}-{SPAN}-01")),
            Err(ParseError::ForbiddenVersion)
        );
    }

    #[test]
    fn all_zero_ids_are_rejected() {
        let err = parse(&format!("00-{}-{SPAN}-01", "0".repeat(32))).unwrap_err();
        assert_eq!(
            err,
            ParseError::AllZeros {
                field: Field::TraceparentTraceId
            }
        );
        assert!(
            err.to_string()
                .starts_with("traceparent trace-id is all zeros"),
            "{err}"
        );
        assert_eq!(
            parse(&format!("00-{TRACE}-{}-01", "0".repeat(16))),
            Err(ParseError::AllZeros {
                field: Field::TraceparentParentId
            })
        );
    }

    #[test]
    fn delimiters_are_required() {
        for header in [
            format!("00_{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}_{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}_01"),
            format!("00 {TRACE} {SPAN} 01"),
        ] {
            assert_eq!(parse(&header), Err(ParseError::Delimiter), "{header}");
        }
    }

    #[test]
    fn future_versions_are_read_as_far_as_version_00_goes() {
        let context = parse(&format!(
            "cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like"
        ))
        .unwrap();
        assert_eq!(context.trace_id.to_string(), TRACE);
        assert!(context.sampled);
        // Exactly 55 characters is fine too.
        assert!(parse(&format!("01-{TRACE}-{SPAN}-00")).is_ok());
        // But the first 55 must still parse, and extra data needs a '-'.
        assert_eq!(
            parse(&format!(
                "cc-{TRACE}-{SPAN}-01.what-the-future-will-be-like"
            )),
            Err(ParseError::FutureVersionTrailer)
        );
        assert_eq!(
            parse(&format!("cc-{TRACE}-{SPAN}-0")),
            Err(ParseError::TraceparentLength { found: 54 })
        );
        assert!(parse(&format!("cc-{TRACE}-{SPAN}-0X-future")).is_err());
    }

    #[test]
    fn oversized_input_is_rejected_from_its_length() {
        let header = format!("{VALID}-{}", "a".repeat(1000));
        assert_eq!(
            parse(&header),
            Err(ParseError::TooLong {
                found: header.len()
            })
        );
        // 512 bytes of a future version is still read.
        let header = format!("01-{TRACE}-{SPAN}-01-{}", "a".repeat(512 - 56));
        assert_eq!(header.len(), 512);
        assert!(parse(&header).is_ok());
    }

    #[test]
    fn multi_byte_input_does_not_panic() {
        for header in [
            "é",
            "0é",
            "00-é",
            &format!("00-{}", "é".repeat(26)),
            &"€".repeat(18),
        ] {
            assert!(parse(header).is_err());
        }
    }

    #[test]
    fn child_keeps_the_trace_and_gets_a_new_span() {
        let mut parent = parse(VALID).unwrap();
        parent.trace_state = TraceState::parse("congo=t61rcWkgMzE");
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        assert_eq!(child.sampled, parent.sampled);
        assert_eq!(child.trace_state, parent.trace_state);

        let a = TraceContext::new_root(false);
        let b = TraceContext::new_root(false);
        assert!(!a.sampled);
        assert_ne!(a.trace_id, b.trace_id);
    }

    #[test]
    fn tracestate_round_trips() {
        let header = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=a b*c";
        let state = TraceState::parse(header);
        assert_eq!(state.len(), 3);
        assert_eq!(state.to_string(), header);
        assert_eq!(state.get("tenant@vendor"), Some("a b*c"));
        assert_eq!(TraceState::parse(&state.to_string()), state);
    }

    #[test]
    fn tracestate_whitespace_and_empty_members_are_tolerated() {
        let state = TraceState::parse(" \t rojo=1 ,, ,\tcongo=2\t, ");
        assert_eq!(state.to_string(), "rojo=1,congo=2");
        assert!(TraceState::parse("").is_empty());
        assert!(TraceState::parse(" , ,").is_empty());
    }

    #[test]
    fn invalid_tracestate_members_are_dropped_one_by_one() {
        let state = TraceState::parse(
            "ok=1,Upper=2,9digit=3,noequals,=4,empty=,bad=a=b,sp ace=5,ok2=v,\
             t@Vendor=6,t@toolongsystemid=7,@v=8,t@=9,trailing=x ,ctl=a\u{7f},uni=é,last=ok",
        );
        // "trailing=x " keeps its value "x" once the member's OWS is trimmed.
        assert_eq!(state.to_string(), "ok=1,ok2=v,trailing=x,last=ok");
    }

    #[test]
    fn tracestate_key_and_value_limits() {
        let key256 = format!("a{}", "b".repeat(255));
        let key257 = format!("a{}", "b".repeat(256));
        let value256 = "v".repeat(256);
        let value257 = "v".repeat(257);
        assert!(is_valid_key(&key256));
        assert!(!is_valid_key(&key257));
        assert!(is_valid_key(&format!(
            "{}@{}",
            "1".repeat(241),
            "s".repeat(14)
        )));
        assert!(!is_valid_key(&format!("{}@s", "1".repeat(242))));
        assert!(!is_valid_key(&format!("t@{}", "s".repeat(15))));
        assert!(!is_valid_key("t@v@w"));
        assert!(is_valid_key("a0_-*/"));
        assert!(is_valid_value(&value256));
        assert!(!is_valid_value(&value257));
        assert!(is_valid_value(" leading"));
        assert!(!is_valid_value("trailing "));
        assert!(!is_valid_value(""));
    }

    #[test]
    fn tracestate_duplicates_keep_the_first() {
        let state = TraceState::parse("a=1,b=2,a=3");
        assert_eq!(state.to_string(), "a=1,b=2");
    }

    #[test]
    fn tracestate_keeps_at_most_32_members() {
        let header: Vec<String> = (0..40).map(|i| format!("k{i}=v")).collect();
        let state = TraceState::parse(&header.join(","));
        assert_eq!(state.len(), TraceState::MAX_MEMBERS);
        assert_eq!(state.get("k31"), Some("v"));
        assert_eq!(state.get("k32"), None);
        // Invalid members do not count towards the limit.
        let header = format!("BAD=1,{}", header[..32].join(","));
        assert_eq!(TraceState::parse(&header).len(), 32);
    }

    #[test]
    fn tracestate_longer_than_512_drops_large_members_first_then_from_the_end() {
        // 5 members of 100 characters, 1 of 200: 5*100 + 200 + 5 commas.
        let small: Vec<String> = (0..5).map(|i| format!("s{i}={}", "x".repeat(97))).collect();
        let large = format!("large={}", "y".repeat(194));
        let header = format!("{},{large},{}", small[..2].join(","), small[2..].join(","));
        let state = TraceState::parse(&header);
        assert_eq!(state.len(), 5);
        assert_eq!(state.get("large"), None);
        assert_eq!(state.to_string().len(), 504);

        let many: Vec<String> = (0..10)
            .map(|i| format!("m{i}={}", "x".repeat(97)))
            .collect();
        let state = TraceState::parse(&many.join(","));
        assert_eq!(state.to_string(), many[..5].join(","));
        assert!(state.to_string().len() <= TraceState::MAX_LEN);
    }

    #[test]
    fn tracestate_insert_moves_to_the_front() {
        let mut state = TraceState::parse("rojo=1,congo=2");
        state.insert("congo", "3").unwrap();
        assert_eq!(state.to_string(), "congo=3,rojo=1");
        state.insert("new", "4").unwrap();
        assert_eq!(state.to_string(), "new=4,congo=3,rojo=1");
        assert_eq!(state.remove("rojo"), Some("1".to_owned()));
        assert_eq!(state.remove("rojo"), None);

        let err = state.insert("Bad", "x").unwrap_err();
        assert!(matches!(err, ParseError::TraceStateKey { .. }));
        assert!(err.to_string().contains("\"Bad\""), "{err}");
        assert!(matches!(
            state.insert("ok", "a,b"),
            Err(ParseError::TraceStateValue { .. })
        ));
        assert_eq!(state.len(), 2);

        let mut full = TraceState::parse(
            &(0..32)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(","),
        );
        full.insert("first", "v").unwrap();
        assert_eq!(full.len(), 32);
        assert_eq!(full.iter().next(), Some(("first", "v")));
        assert_eq!(full.get("k31"), None);
    }
}
