//! OTLP export (feature `otlp`, enabled for the workspace's tests): spans
//! reach a real receiver (`tests/support/otlp_receiver.py`) that decodes
//! them with the official OpenTelemetry protobuf definitions, with the ids,
//! parents, names, attributes, timestamps and status the store shows; a
//! refused request is retried; a dead endpoint never blocks the application.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use monitor::trace::{self, SpanNode, SpanRecord, TraceId};
use serde_json::Value;

#[monitor::traced(name = "otlp::handle", skip(user), fields(user = %user))]
fn handle(user: &str) -> TraceId {
    let id = trace::current().expect("traced").trace_id;
    let _ = lookup(1);
    let _ = lookup(0);
    id
}

#[monitor::traced(name = "otlp::lookup", err)]
fn lookup(key: u32) -> Result<u32, String> {
    if key == 0 {
        return Err(format!("key {key} not found"));
    }
    Ok(cache(key) + 1)
}

#[monitor::traced(name = "otlp::cache", fields(hit = true))]
fn cache(key: u32) -> u32 {
    // A `tracing` span with an event joins the tree through the layer.
    let span = tracing::info_span!("otlp::backend", provider = "acme");
    let _entered = span.enter();
    tracing::warn!(retry = 1, "slow cache");
    key * 2
}

/// The receiver process and the lines it prints.
struct OtlpReceiver {
    child: Child,
    lines: Receiver<String>,
    port: u16,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const INSTALL_HINT: &str = "the OTLP test needs python3 with the `opentelemetry-proto` package; run scripts/test (it installs it) or `pip install opentelemetry-proto`";

fn start_receiver(fail_first: u32) -> OtlpReceiver {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/otlp_receiver.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--fail-first")
        .arg(fail_first.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("the receiver did not start; {INSTALL_HINT}"));
    let port = match first.strip_prefix("PORT ") {
        Some(port) => port.trim().parse().expect("a port number"),
        None => panic!("the receiver said {first:?}; {INSTALL_HINT}"),
    };
    OtlpReceiver { child, lines, port }
}

fn flatten(node: &SpanNode, out: &mut Vec<SpanRecord>) {
    out.push(node.span.clone());
    for child in &node.children {
        flatten(child, out);
    }
}

/// Receiver lines until `done` says enough, for at most `limit`.
fn read_until(
    receiver: &OtlpReceiver,
    limit: Duration,
    mut done: impl FnMut(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match receiver.lines.recv_timeout(left) {
            Ok(line) => {
                let stop = done(&line);
                seen.push(line);
                if stop {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("the receiver did not get everything within {limit:?}; it printed {seen:#?}");
}

/// Starts the monitor with `endpoint` as its OTLP endpoint, set through a
/// configuration file written at `config`.
fn start_exporting_to(config: &std::path::Path, endpoint: &str) -> monitor::Monitor {
    std::fs::write(config, format!("[trace]\notlp_endpoint = \"{endpoint}\"\n"))
        .expect("write config");
    monitor::builder()
        .config_file(config)
        .dashboard(false)
        .install_recorder(false)
        .start()
        .unwrap_or_else(|e| panic!("starts exporting to {endpoint}: {e}"))
}

#[test]
fn spans_reach_an_otlp_receiver_as_the_store_shows_them() {
    // The first request is refused with 503, so the batch must be retried.
    let receiver = start_receiver(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("monitor.toml");
    let monitor = start_exporting_to(&config, &format!("http://127.0.0.1:{}", receiver.port));

    let id = handle("ada");
    monitor.collect_now();
    let tree = monitor.trace(id).expect("the trace is stored");
    let mut stored = Vec::new();
    for root in &tree.roots {
        flatten(root, &mut stored);
    }
    assert_eq!(
        stored.len(),
        5,
        "handle, lookup x2, cache, backend: {stored:#?}"
    );

    // Collect the exported spans of this trace, across requests.
    let want = id.to_string();
    let mut exported: HashMap<String, Value> = HashMap::new();
    let mut requests = Vec::new();
    let lines = read_until(&receiver, Duration::from_secs(20), |line| {
        if let Some(json) = line.strip_prefix("REQUEST ") {
            let request: Value = serde_json::from_str(json).expect("receiver JSON");
            for rs in request["resource_spans"]
                .as_array()
                .expect("resource_spans")
            {
                for ss in rs["scope_spans"].as_array().expect("scope_spans") {
                    for span in ss["spans"].as_array().expect("spans") {
                        if span["trace_id"] == want.as_str() {
                            let key = span["span_id"].as_str().expect("hex").to_owned();
                            exported.insert(key, span.clone());
                        }
                    }
                }
            }
            requests.push(request);
        }
        exported.len() == stored.len()
    });
    assert!(
        lines.iter().any(|l| l == "REFUSED 503"),
        "the first attempt was refused: {lines:#?}"
    );

    let first = &requests[0];
    assert_eq!(first["path"], "/v1/traces");
    assert_eq!(first["content_type"], "application/x-protobuf");
    let resource = &first["resource_spans"][0];
    let service = resource["resource"]
        .as_array()
        .expect("resource attributes")
        .iter()
        .find(|kv| kv[0] == "service.name")
        .expect("service.name");
    assert!(
        service[1]
            .as_str()
            .is_some_and(|s| s.starts_with("unknown_service:")),
        "{service}"
    );
    assert_eq!(resource["scope_spans"][0]["scope"]["name"], "monitor");

    for span in &stored {
        let got = exported
            .get(&span.span_id.to_string())
            .unwrap_or_else(|| panic!("span {} not exported", span.span_id));
        assert_eq!(got["trace_id"], span.trace_id.to_string());
        assert_eq!(
            got["parent_span_id"],
            span.parent_span_id.map_or(String::new(), |p| p.to_string()),
            "{}",
            span.name
        );
        assert_eq!(got["name"], span.name);
        assert_eq!(got["kind"], 1, "SPAN_KIND_INTERNAL");
        assert_eq!(got["start_time_unix_nano"], span.start_unix_ns);
        assert_eq!(
            got["end_time_unix_nano"],
            span.start_unix_ns + span.duration_ns
        );
        let mut attributes: Vec<Value> = span
            .attributes
            .iter()
            .map(|a| serde_json::json!([a.key, a.value]))
            .collect();
        attributes.push(serde_json::json!(["code.namespace", span.module]));
        assert_eq!(got["attributes"], Value::Array(attributes), "{}", span.name);
        match &span.error {
            Some(message) => {
                assert_eq!(got["status"]["code"], 2, "STATUS_CODE_ERROR");
                assert_eq!(got["status"]["message"], message.as_str());
            }
            None => assert_eq!(got["has_status"], false, "{}", span.name),
        }
        assert_eq!(got["flags"], 0x101, "sampled, local parent");
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|e| {
                let message = e.attributes.iter().find(|a| a.key == "message");
                let mut attributes: Vec<Value> = e
                    .attributes
                    .iter()
                    .filter(|a| a.key != "message")
                    .map(|a| serde_json::json!([a.key, a.value]))
                    .collect();
                attributes.push(serde_json::json!(["level", e.level]));
                serde_json::json!({
                    "time_unix_nano": e.unix_ns,
                    "name": message.map_or(e.level, |m| m.value.as_str()),
                    "attributes": attributes,
                })
            })
            .collect();
        assert_eq!(got["events"], Value::Array(events), "{}", span.name);
        assert_eq!(got["dropped_events_count"], span.dropped_events);
    }
    // The call tree as the application made it.
    let by_name = |name: &str| stored.iter().filter(|s| s.name == name).count();
    assert_eq!(
        (
            by_name("otlp::handle"),
            by_name("otlp::lookup"),
            by_name("otlp::cache"),
            by_name("otlp::backend")
        ),
        (1, 2, 1, 1)
    );
    let backend = stored
        .iter()
        .find(|s| s.name == "otlp::backend")
        .expect("backend");
    assert_eq!(backend.events.len(), 1, "{backend:?}");
    let failed: Vec<&SpanRecord> = stored.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_deref(), Some("key 0 not found"));
    assert!(stored
        .iter()
        .any(|s| s.name == "otlp::handle" && s.attributes.iter().any(|a| a.key == "user")));

    // The receiver prints before it answers: wait for the answer to count.
    let deadline = Instant::now() + Duration::from_secs(10);
    while trace::otlp_stats().exported < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = trace::otlp_stats();
    assert!(stats.exported >= 5, "{stats:?}");
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!((stats.failed, stats.dropped), (0, 0), "{stats:?}");
    drop(monitor);
    drop(receiver);

    // A collector that is not there: the application is never held up, the
    // batch is given up after the bounded retries (4 here, 1 above), and
    // stopping the monitor is bounded too.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let monitor = start_exporting_to(&config, &format!("http://127.0.0.1:{port}/"));
    let begin = Instant::now();
    for _ in 0..100 {
        handle("bob");
    }
    let spent = begin.elapsed();
    monitor.collect_now();
    let deadline = Instant::now() + Duration::from_secs(20);
    while trace::otlp_stats().failed < 500 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = trace::otlp_stats();
    assert_eq!(stats.failed, 500, "every span given up on: {stats:?}");
    assert!(stats.retries >= 5, "retried before giving up: {stats:?}");
    assert!(spent < Duration::from_secs(1), "calls took {spent:?}");
    let stopping = Instant::now();
    drop(monitor);
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "stopping took {:?}",
        stopping.elapsed()
    );
}
