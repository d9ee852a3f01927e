//! OTLP export (feature `otlp`): finished spans sent to an OpenTelemetry
//! collector as OTLP/HTTP protobuf (`POST <endpoint>/v1/traces`,
//! `Content-Type: application/x-protobuf`).
//!
//! Set `trace.otlp_endpoint` in `monitor.toml` or `MONITOR_OTLP_ENDPOINT`
//! to the collector's base URL, such as `http://127.0.0.1:4318` (plain HTTP
//! only in this version). Nothing here runs on application threads: each
//! tick, the monitor thread hands the spans it drains to a bounded queue
//! ([`MAX_QUEUED_SPANS`], the oldest dropped and counted when full), and a
//! task on the monitor thread's runtime sends them in batches of at most
//! [`MAX_BATCH_SPANS`], each request with a timeout, retried with exponential
//! backoff on connection errors, timeouts, 429 and 5xx. [`otlp_stats`] counts
//! what was exported, dropped and given up on.
//!
//! Only spans of sampled traces are exported (the W3C `sampled` flag);
//! unsampled traces the store keeps because they failed or were slow stay
//! local. Each span carries its attributes as string values, its module as
//! `code.namespace`, an error as status `ERROR` with the message, its
//! `tracing` events, and the W3C flags with the "parent is remote" bits.

mod proto;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use prost::Message as _;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::span::SpanRecord;

/// Spans waiting to be sent, at most; beyond it the oldest are dropped.
pub const MAX_QUEUED_SPANS: usize = 10_000;
/// Spans per export request, at most.
pub const MAX_BATCH_SPANS: usize = 512;
/// How long one request (connect, send, read the answer) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per batch before it is given up and counted as failed.
pub const MAX_ATTEMPTS: u32 = 5;
/// The wait before the first retry; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long stopping the monitor waits for queued spans to go out.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest collector answer read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

static EXPORTED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);
static REJECTED: AtomicU64 = AtomicU64::new(0);
static RETRIES: AtomicU64 = AtomicU64::new(0);
static QUEUED: AtomicU64 = AtomicU64::new(0);

/// What the OTLP exporter has done since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OtlpStats {
    /// Spans the collector accepted.
    pub exported: u64,
    /// Spans dropped because the queue was full (or still queued when the
    /// monitor stopped).
    pub dropped: u64,
    /// Spans given up on: every attempt failed, or the collector answered
    /// with a status that is not worth retrying.
    pub failed: u64,
    /// Spans the collector reported as rejected in a partial success.
    pub rejected: u64,
    /// Requests sent again after a failed attempt.
    pub retries: u64,
    /// Spans waiting to be sent now.
    pub queued: u64,
}

/// The exporter's counters (see [`OtlpStats`]).
pub fn otlp_stats() -> OtlpStats {
    OtlpStats {
        exported: EXPORTED.load(Relaxed),
        dropped: DROPPED.load(Relaxed),
        failed: FAILED.load(Relaxed),
        rejected: REJECTED.load(Relaxed),
        retries: RETRIES.load(Relaxed),
        queued: QUEUED.load(Relaxed),
    }
}

/// The monitor thread's handle on the export task.
pub(crate) struct OtlpExporter {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    queue: Mutex<VecDeque<SpanRecord>>,
    wake: Notify,
    closed: AtomicBool,
}

impl Shared {
    fn take(&self, max: usize) -> Vec<SpanRecord> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let n = queue.len().min(max);
        let batch: Vec<SpanRecord> = queue.drain(..n).collect();
        QUEUED.store(queue.len() as u64, Relaxed);
        batch
    }
}

impl OtlpExporter {
    /// Starts the export task on the current tokio runtime (the monitor
    /// thread's). `endpoint` was checked by the configuration.
    pub(crate) fn start(endpoint: &http::Uri) -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(REQUEST_TIMEOUT));
        connector.set_nodelay(true);
        let sender = Sender {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(1)
                .build(connector),
            url: traces_url(endpoint),
            service_name: service_name(),
        };
        let task = tokio::spawn(export(Arc::clone(&shared), sender));
        Self { shared, task }
    }

    /// Queues the sampled spans among `spans`, dropping the oldest queued
    /// ones beyond [`MAX_QUEUED_SPANS`].
    pub(crate) fn push(&self, spans: &[SpanRecord]) {
        let mut sampled = spans.iter().filter(|s| s.sampled).peekable();
        if sampled.peek().is_none() {
            return;
        }
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut dropped = 0;
        for span in sampled {
            if queue.len() >= MAX_QUEUED_SPANS {
                queue.pop_front();
                dropped += 1;
            }
            queue.push_back(span.clone());
        }
        DROPPED.fetch_add(dropped, Relaxed);
        QUEUED.store(queue.len() as u64, Relaxed);
        drop(queue);
        self.shared.wake.notify_one();
    }

    /// Sends what is queued (waiting at most a few seconds), then stops.
    pub(crate) async fn shutdown(mut self) {
        self.shared.closed.store(true, Relaxed);
        self.shared.wake.notify_one();
        if tokio::time::timeout(FLUSH_TIMEOUT, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
        let left = self.shared.take(usize::MAX);
        DROPPED.fetch_add(left.len() as u64, Relaxed);
    }
}

/// `<endpoint>/v1/traces`, unless the endpoint already names that path.
fn traces_url(endpoint: &http::Uri) -> http::Uri {
    let text = endpoint.to_string();
    let base = text.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        return endpoint.clone();
    }
    format!("{base}/v1/traces")
        .parse()
        .unwrap_or_else(|_| endpoint.clone())
}

/// `unknown_service:<executable>`, as OpenTelemetry names a service that
/// did not name itself.
fn service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    format!("unknown_service:{exe}")
}

struct Sender {
    client: Client<HttpConnector, Full<Bytes>>,
    url: http::Uri,
    service_name: String,
}

/// The export task: sends batches while there are spans, waits otherwise.
async fn export(shared: Arc<Shared>, sender: Sender) {
    loop {
        let batch = shared.take(MAX_BATCH_SPANS);
        if batch.is_empty() {
            if shared.closed.load(Relaxed) {
                return;
            }
            shared.wake.notified().await;
            continue;
        }
        sender.send(&batch).await;
    }
}

/// How one attempt ended.
enum Attempt {
    /// Accepted; the number of spans the collector rejected.
    Accepted(u64),
    /// Worth another try.
    Retry,
    /// Not worth another try.
    GiveUp,
}

impl Sender {
    /// Sends one batch, retrying with backoff, and counts the outcome.
    async fn send(&self, batch: &[SpanRecord]) {
        let body = Bytes::from(proto::request(&self.service_name, batch).encode_to_vec());
        let spans = batch.len() as u64;
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            match self.attempt(body.clone()).await {
                Attempt::Accepted(rejected) => {
                    let rejected = rejected.min(spans);
                    EXPORTED.fetch_add(spans - rejected, Relaxed);
                    REJECTED.fetch_add(rejected, Relaxed);
                    return;
                }
                Attempt::GiveUp => break,
                Attempt::Retry if attempt < MAX_ATTEMPTS => {
                    RETRIES.fetch_add(1, Relaxed);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Attempt::Retry => {}
            }
        }
        FAILED.fetch_add(spans, Relaxed);
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        let request = http::Request::post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(Full::new(body));
        let Ok(request) = request else {
            return Attempt::GiveUp;
        };
        let exchange = async {
            let response = self.client.request(request).await.ok()?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .ok()?
                .to_bytes();
            Some((status, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Some((status, body))) if status.is_success() => Attempt::Accepted(
                proto::ExportTraceServiceResponse::decode(body)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| u64::try_from(p.rejected_spans).unwrap_or(0)),
            ),
            Ok(Some((status, _)))
                if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS =>
            {
                Attempt::Retry
            }
            Ok(Some(_)) => Attempt::GiveUp,
            // Connection refused or reset, or the timeout.
            Ok(None) | Err(_) => Attempt::Retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_appended_once() {
        let url = |s: &str| traces_url(&s.parse().expect("uri")).to_string();
        assert_eq!(
            url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("http://collector:4318/otel/"),
            "http://collector:4318/otel/v1/traces"
        );
        assert_eq!(
            url("http://collector:4318/v1/traces"),
            "http://collector:4318/v1/traces"
        );
    }

    #[test]
    fn endpoints_are_configured_and_checked() {
        use crate::config::{Config, Origin};
        let load = |text: &str| {
            let mut config = Config::default();
            config
                .apply_toml(text, Origin::File("monitor.toml".into()))
                .map(|()| config)
        };
        let config = load("[trace]\notlp_endpoint = \"http://127.0.0.1:4318\"\n").expect("valid");
        assert_eq!(
            config.trace.otlp_endpoint.map(|u| u.to_string()),
            Some("http://127.0.0.1:4318/".to_owned())
        );
        let e = load("[trace]\notlp_endpoint = \"https://collector:4318\"\n").unwrap_err();
        assert_eq!(e.key, "trace.otlp_endpoint");
        assert!(e.reason.contains("https"), "{e}");
        let e = load("[trace]\notlp_endpoint = \"not a url\"\n").unwrap_err();
        assert!(e.reason.contains("not a URL"), "{e}");

        let e = Config::load_from(None, |name| {
            (name == "MONITOR_OTLP_ENDPOINT").then(|| "ftp://host".to_owned())
        })
        .unwrap_err();
        assert_eq!(e.origin, Origin::Env("MONITOR_OTLP_ENDPOINT"));
        assert!(e.reason.contains("not an http:// URL"), "{e}");
    }
}
