//! The few OTLP protobuf messages the exporter sends, written by hand with
//! `prost` (the generated `opentelemetry-proto` crate pulls in the whole
//! OpenTelemetry SDK for its trace types).
//!
//! Field numbers and types follow `opentelemetry/proto/collector/trace/v1/
//! trace_service.proto`, `trace/v1/trace.proto`, `common/v1/common.proto`
//! and `resource/v1/resource.proto` of opentelemetry-proto 1.x. Fields the
//! monitor never sets (links, trace state, entity refs) are left out: a
//! decoder sees them as absent, which protobuf defines as their default.

use crate::trace::span::{Attribute, SpanEvent, SpanRecord};

/// `ExportTraceServiceRequest`: the body of `POST /v1/traces`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

/// `ExportTraceServiceResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ExportTraceServiceResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportTracePartialSuccess>,
}

/// `ExportTracePartialSuccess`.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ExportTracePartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected_spans: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "2")]
    pub dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct InstrumentationScope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Span {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    pub name: String,
    /// `SpanKind`.
    #[prost(int32, tag = "6")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(message, repeated, tag = "11")]
    pub events: Vec<Event>,
    #[prost(uint32, tag = "12")]
    pub dropped_events_count: u32,
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
    /// W3C trace flags in bits 0-7, "has is-remote" in bit 8, "is remote"
    /// in bit 9.
    #[prost(fixed32, tag = "16")]
    pub flags: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Event {
    #[prost(fixed64, tag = "1")]
    pub time_unix_nano: u64,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Status {
    #[prost(string, tag = "2")]
    pub message: String,
    /// `StatusCode`.
    #[prost(int32, tag = "3")]
    pub code: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `AnyValue` with its `string_value` case only: the monitor records
/// attributes as formatted text.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct AnyValue {
    #[prost(string, optional, tag = "1")]
    pub string_value: Option<String>,
}

/// `SPAN_KIND_INTERNAL`: the monitor does not know whether a function served
/// or made a request.
pub(super) const SPAN_KIND_INTERNAL: i32 = 1;
/// `STATUS_CODE_ERROR`.
pub(super) const STATUS_CODE_ERROR: i32 = 2;
const FLAG_SAMPLED: u32 = 0x01;
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
const FLAG_IS_REMOTE: u32 = 0x200;

/// The span attribute that carries [`SpanRecord::module`].
pub(super) const MODULE_KEY: &str = "code.namespace";
/// The event attribute that carries [`SpanEvent::level`].
pub(super) const LEVEL_KEY: &str = "level";

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            string_value: Some(value.to_owned()),
        }),
    }
}

fn attributes(attributes: &[Attribute]) -> impl Iterator<Item = KeyValue> + '_ {
    attributes.iter().map(|a| string(a.key, &a.value))
}

/// One span as OTLP: ids as big-endian bytes, the end as start plus
/// duration, the module as `code.namespace`, an error as status `ERROR`.
pub(super) fn span(record: &SpanRecord) -> Span {
    let mut flags = FLAG_HAS_IS_REMOTE;
    if record.sampled {
        flags |= FLAG_SAMPLED;
    }
    if record.remote_parent {
        flags |= FLAG_IS_REMOTE;
    }
    let mut attrs: Vec<KeyValue> = attributes(&record.attributes).collect();
    attrs.push(string(MODULE_KEY, record.module));
    Span {
        trace_id: record.trace_id.to_bytes().to_vec(),
        span_id: record.span_id.to_bytes().to_vec(),
        parent_span_id: record
            .parent_span_id
            .map(|p| p.to_bytes().to_vec())
            .unwrap_or_default(),
        name: record.name.to_owned(),
        kind: SPAN_KIND_INTERNAL,
        start_time_unix_nano: record.start_unix_ns,
        end_time_unix_nano: record.start_unix_ns.saturating_add(record.duration_ns),
        attributes: attrs,
        events: record.events.iter().map(event).collect(),
        dropped_events_count: record.dropped_events,
        status: record.error.as_ref().map(|message| Status {
            message: message.clone(),
            code: STATUS_CODE_ERROR,
        }),
        flags,
    }
}

/// An event: named by its `message` field when it has one, else by its
/// level; the level is an attribute as well.
fn event(event: &SpanEvent) -> Event {
    let message = event.attributes.iter().find(|a| a.key == "message");
    let mut attrs: Vec<KeyValue> = event
        .attributes
        .iter()
        .filter(|a| a.key != "message")
        .map(|a| string(a.key, &a.value))
        .collect();
    attrs.push(string(LEVEL_KEY, event.level));
    Event {
        time_unix_nano: event.unix_ns,
        name: message.map_or_else(|| event.level.to_owned(), |m| m.value.clone()),
        attributes: attrs,
    }
}

/// One request carrying `spans` for the resource `service_name`.
pub(super) fn request(service_name: &str, spans: &[SpanRecord]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", service_name),
                    string("telemetry.sdk.name", "monitor"),
                    string("telemetry.sdk.language", "rust"),
                    string("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
                ],
                dropped_attributes_count: 0,
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "monitor".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                }),
                spans: spans.iter().map(span).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::trace::{SpanId, TraceId};

    #[test]
    fn spans_encode_ids_times_attributes_and_status() {
        let record = SpanRecord {
            trace_id: TraceId::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10).expect("id"),
            span_id: SpanId::from_u64(0x1112_1314_1516_1718).expect("id"),
            parent_span_id: SpanId::from_u64(7),
            remote_parent: true,
            sampled: true,
            name: "db::query",
            module: "app::db",
            start_unix_ns: 1_000,
            duration_ns: 250,
            attributes: vec![Attribute {
                key: "table",
                value: "users".into(),
            }],
            error: Some("connection reset".into()),
            events: vec![SpanEvent {
                unix_ns: 1_100,
                level: "WARN",
                attributes: vec![Attribute {
                    key: "message",
                    value: "slow".into(),
                }],
            }],
            dropped_events: 3,
        };
        let bytes = request("svc", std::slice::from_ref(&record)).encode_to_vec();
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("decodes");
        let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id, (1..=16).collect::<Vec<u8>>());
        assert_eq!(span.span_id, (0x11..=0x18).collect::<Vec<u8>>());
        assert_eq!(span.parent_span_id, vec![0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (1_000, 1_250)
        );
        assert_eq!(span.attributes[0], string("table", "users"));
        assert_eq!(span.attributes[1], string(MODULE_KEY, "app::db"));
        assert_eq!(
            span.status.as_ref().map(|s| (s.code, s.message.as_str())),
            Some((STATUS_CODE_ERROR, "connection reset"))
        );
        assert_eq!(span.flags, 0x301);
        assert_eq!(span.events[0].name, "slow");
        assert_eq!(span.events[0].attributes, vec![string(LEVEL_KEY, "WARN")]);
        assert_eq!(span.dropped_events_count, 3);

        let root = SpanRecord {
            parent_span_id: None,
            remote_parent: false,
            error: None,
            ..record
        };
        let span = self::span(&root);
        assert!(span.parent_span_id.is_empty() && span.status.is_none());
        assert_eq!(span.flags, 0x101);
    }
}
