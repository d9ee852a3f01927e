//! Trace and span identifiers, and the per-thread generator that makes them.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::{NonZeroU128, NonZeroU64};
use std::str::FromStr;

use super::error::{Field, ParseError};

/// A W3C trace id: 128 bits, never all zeros.
///
/// Displayed and parsed as 32 lower-case hex digits, and serialized with serde
/// as that string. The all-zero id is invalid in the W3C Trace Context, so it
/// cannot be represented: parsing rejects it and [`TraceId::random`] never
/// returns it.
///
/// ```
/// use monitor::trace::TraceId;
///
/// let id: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!("00000000000000000000000000000000".parse::<TraceId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(NonZeroU128);

/// A W3C span id (the `parent-id` of a `traceparent`): 64 bits, never zero.
///
/// Displayed and parsed as 16 lower-case hex digits, and serialized with serde
/// as that string.
///
/// ```
/// use monitor::trace::SpanId;
///
/// let id: SpanId = "00f067aa0ba902b7".parse().unwrap();
/// assert_eq!(id.to_u64(), 0x00f0_67aa_0ba9_02b7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(NonZeroU64);

impl TraceId {
    /// Length of the hex form.
    pub const HEX_LEN: usize = 32;

    /// A new random trace id from this thread's generator (no lock, no
    /// system call after the thread's first id).
    pub fn random() -> Self {
        loop {
            let value = (u128::from(next_u64()) << 64) | u128::from(next_u64());
            if let Some(value) = NonZeroU128::new(value) {
                return TraceId(value);
            }
        }
    }

    /// The id with this value, or `None` for zero.
    pub const fn from_u128(value: u128) -> Option<Self> {
        match NonZeroU128::new(value) {
            Some(value) => Some(TraceId(value)),
            None => None,
        }
    }

    /// The id as a number.
    pub const fn to_u128(self) -> u128 {
        self.0.get()
    }

    /// The id from its 16 big-endian bytes, or `None` if they are all zero.
    pub const fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        Self::from_u128(u128::from_be_bytes(bytes))
    }

    /// The id's 16 big-endian bytes (the order of the hex form).
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.get().to_be_bytes()
    }

    /// Whether `hex` is a valid trace id: exactly 32 lower-case hex digits,
    /// not all zero.
    pub fn is_valid(hex: &str) -> bool {
        Self::parse_field(hex.as_bytes(), Field::TraceId).is_ok()
    }

    pub(crate) fn parse_field(hex: &[u8], field: Field) -> Result<Self, ParseError> {
        let value = parse_hex::<{ Self::HEX_LEN }>(hex, field)?;
        NonZeroU128::new(value)
            .map(TraceId)
            .ok_or(ParseError::AllZeros { field })
    }
}

impl SpanId {
    /// Length of the hex form.
    pub const HEX_LEN: usize = 16;

    /// A new random span id from this thread's generator (no lock, no
    /// system call after the thread's first id).
    pub fn random() -> Self {
        loop {
            if let Some(value) = NonZeroU64::new(next_u64()) {
                return SpanId(value);
            }
        }
    }

    /// The id with this value, or `None` for zero.
    pub const fn from_u64(value: u64) -> Option<Self> {
        match NonZeroU64::new(value) {
            Some(value) => Some(SpanId(value)),
            None => None,
        }
    }

    /// The id as a number.
    pub const fn to_u64(self) -> u64 {
        self.0.get()
    }

    /// The id from its 8 big-endian bytes, or `None` if they are all zero.
    pub const fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        Self::from_u64(u64::from_be_bytes(bytes))
    }

    /// The id's 8 big-endian bytes (the order of the hex form).
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0.get().to_be_bytes()
    }

    /// Whether `hex` is a valid span id: exactly 16 lower-case hex digits,
    /// not all zero.
    pub fn is_valid(hex: &str) -> bool {
        Self::parse_field(hex.as_bytes(), Field::SpanId).is_ok()
    }

    pub(crate) fn parse_field(hex: &[u8], field: Field) -> Result<Self, ParseError> {
        let value = parse_hex::<{ Self::HEX_LEN }>(hex, field)?;
        let value = u64::try_from(value).map_err(|_| ParseError::NotLowerHex { field })?;
        NonZeroU64::new(value)
            .map(SpanId)
            .ok_or(ParseError::AllZeros { field })
    }
}

/// Parses exactly `N` (at most 32) lower-case hex digits. Works on bytes, so
/// no input can split a UTF-8 character or panic.
pub(crate) fn parse_hex<const N: usize>(hex: &[u8], field: Field) -> Result<u128, ParseError> {
    if hex.len() != N {
        return Err(ParseError::Length {
            field,
            expected: N,
            found: hex.len(),
        });
    }
    let mut value: u128 = 0;
    for &byte in hex {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            _ => return Err(ParseError::NotLowerHex { field }),
        };
        value = (value << 4) | u128::from(digit);
    }
    Ok(value)
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0.get())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0.get())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl FromStr for TraceId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_field(s.as_bytes(), Field::TraceId)
    }
}

impl FromStr for SpanId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_field(s.as_bytes(), Field::SpanId)
    }
}

macro_rules! hex_serde {
    ($ty:ident, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;

                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

hex_serde!(
    TraceId,
    "a trace id: 32 lower-case hex digits, not all zero"
);
hex_serde!(SpanId, "a span id: 16 lower-case hex digits, not all zero");

// The per-thread generator: wyrand, seeded once per thread. Ids need to be
// unique and unpredictable enough to not collide across processes, not
// cryptographically secure.

thread_local! {
    // Zero means "not seeded yet"; a seeded state that happens to reach zero
    // is simply reseeded.
    static STATE: Cell<u64> = const { Cell::new(0) };
}

const WY_ADD: u64 = 0xa076_1d64_78bd_642f;
const WY_XOR: u64 = 0xe703_7ed1_a0b4_28db;

/// The next number from this thread's generator (may be zero).
fn next_u64() -> u64 {
    STATE.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = seed();
        }
        s = s.wrapping_add(WY_ADD);
        state.set(s);
        let t = u128::from(s).wrapping_mul(u128::from(s ^ WY_XOR));
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// A seed from the process's random hasher keys, the thread id, the time and
/// a stack address; never zero.
fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    std::thread::current().id().hash(&mut hasher);
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        now.as_nanos().hash(&mut hasher);
    }
    let local = 0u8;
    (std::ptr::addr_of!(local) as usize).hash(&mut hasher);
    match hasher.finish() {
        0 => WY_XOR,
        seed => seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_round_trips_through_hex() {
        let hex = "4bf92f3577b34da6a3ce929d0e0e4736";
        let id: TraceId = hex.parse().unwrap();
        assert_eq!(id.to_u128(), 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        assert_eq!(id.to_string(), hex);
        assert_eq!(TraceId::from_bytes(id.to_bytes()), Some(id));
        assert_eq!(format!("{id:?}"), format!("TraceId({hex})"));
    }

    #[test]
    fn span_id_round_trips_through_hex() {
        let hex = "00f067aa0ba902b7";
        let id: SpanId = hex.parse().unwrap();
        assert_eq!(id.to_string(), hex);
        assert_eq!(SpanId::from_bytes(id.to_bytes()), Some(id));
        // Leading zeros are kept.
        assert_eq!(SpanId::from_u64(1).unwrap().to_string(), "0000000000000001");
    }

    #[test]
    fn zero_ids_cannot_be_made() {
        assert_eq!(TraceId::from_u128(0), None);
        assert_eq!(SpanId::from_u64(0), None);
        assert_eq!(TraceId::from_bytes([0; 16]), None);
        assert_eq!(
            "0000000000000000".parse::<SpanId>(),
            Err(ParseError::AllZeros {
                field: Field::SpanId
            })
        );
        let err = "00000000000000000000000000000000"
            .parse::<TraceId>()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "trace-id is all zeros, which W3C Trace Context forbids; start a new trace instead"
        );
    }

    #[test]
    fn hex_must_be_exact_length_and_lower_case() {
        assert!(TraceId::is_valid("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!TraceId::is_valid("4BF92F3577B34DA6A3CE929D0E0E4736"));
        assert!(!TraceId::is_valid("4bf92f3577b34da6a3ce929d0e0e473"));
        assert!(!TraceId::is_valid("4bf92f3577b34da6a3ce929d0e0e47360"));
        assert!(!TraceId::is_valid("4bf92f3577b34da6a3ce929d0e0e473g"));
        assert!(!TraceId::is_valid(""));
        assert!(SpanId::is_valid("00f067aa0ba902b7"));
        assert!(!SpanId::is_valid("00F067AA0BA902B7"));
        assert!(!SpanId::is_valid("+0f067aa0ba902b7"));
        // Multi-byte characters are counted in bytes and rejected, not split.
        assert!(!SpanId::is_valid("00f067aa0ba902é"));
        assert_eq!(
            "abc".parse::<SpanId>(),
            Err(ParseError::Length {
                field: Field::SpanId,
                expected: 16,
                found: 3
            })
        );
    }

    #[test]
    fn random_ids_are_non_zero_and_distinct() {
        let traces: std::collections::HashSet<_> = (0..10_000).map(|_| TraceId::random()).collect();
        let spans: std::collections::HashSet<_> = (0..10_000).map(|_| SpanId::random()).collect();
        assert_eq!(traces.len(), 10_000);
        assert_eq!(spans.len(), 10_000);
    }

    #[test]
    fn threads_get_different_sequences() {
        let ids: Vec<SpanId> = (0..4)
            .map(|_| std::thread::spawn(SpanId::random).join().unwrap())
            .collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn ids_serialize_as_hex_strings() {
        let trace: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
        let json = serde_json::to_string(&trace).unwrap();
        assert_eq!(json, "\"4bf92f3577b34da6a3ce929d0e0e4736\"");
        assert_eq!(serde_json::from_str::<TraceId>(&json).unwrap(), trace);

        let span: SpanId = "00f067aa0ba902b7".parse().unwrap();
        let json = serde_json::to_string(&span).unwrap();
        assert_eq!(json, "\"00f067aa0ba902b7\"");
        assert_eq!(serde_json::from_str::<SpanId>(&json).unwrap(), span);

        let err = serde_json::from_str::<SpanId>("\"0000000000000000\"").unwrap_err();
        assert!(err.to_string().contains("all zeros"), "{err}");
        assert!(serde_json::from_str::<SpanId>("42").is_err());
    }
}
