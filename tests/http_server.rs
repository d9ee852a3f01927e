//! The HTTP endpoint under hostile or careless clients: half-sent requests,
//! many idle sockets, too many connections, large bodies, missing tokens,
//! unknown paths. Everything on loopback; every wait is bounded.
//!
//! Only one monitor runs per process, so the tests take `SERIAL` and each
//! starts (and drops) its own.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use monitor::Monitor;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Longest wait for anything that should be immediate.
const PROMPT: Duration = Duration::from_secs(2);

fn start(builder: monitor::Builder) -> (Monitor, SocketAddr) {
    let monitor = builder
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("monitor starts");
    assert!(
        monitor.is_running(),
        "MONITOR_DISABLE must not be set for these tests"
    );
    let addr = monitor.dashboard_addr().expect("the dashboard is on");
    (monitor, addr)
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Option<Reply> {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some(Reply {
            status,
            head: head.to_string(),
            body: body.to_string(),
        })
    }

    /// The value of a header (names compared without case).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, PROMPT).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(15)))
        .expect("write timeout");
    stream
}

/// Reads until the server closes the connection (or resets it, after what
/// was received). Bounded by the stream's read timeout.
fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, Option<ErrorKind>) {
    let mut received = Vec::new();
    let mut chunk = [0; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (received, None),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return (received, Some(e.kind())),
        }
    }
}

/// Sends `raw` (which should ask for `Connection: close`) and reads the reply.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("request sent");
    let (received, error) = read_to_close(&mut stream);
    Reply::parse(&received).unwrap_or_else(|| {
        panic!(
            "no HTTP response ({error:?}): {:?}",
            String::from_utf8_lossy(&received)
        )
    })
}

fn get(addr: SocketAddr, path: &str, headers: &str) -> Reply {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

/// Threads of this process, from /proc/self/status.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads line")
}

/// A client that connected and sent the start of a request, then nothing.
fn half_open(addr: SocketAddr) -> TcpStream {
    let mut stream = connect(addr);
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: slow").as_bytes())
        .expect("partial request sent");
    stream
}

/// The value of an unlabelled sample in an exposition.
fn sample(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{exposition}"))
}

#[test]
fn a_half_sent_request_is_dropped_within_the_header_timeout() {
    let _serial = serial();
    let timeout = Duration::from_millis(500);
    let (_monitor, addr) = start(monitor::builder().header_timeout(timeout));

    type Client = fn(SocketAddr) -> TcpStream;
    let clients: [(&str, Client); 2] = [("half a request", half_open), ("nothing", connect)];
    for (what, client) in clients {
        let begin = Instant::now();
        let mut stream = client(addr);
        let (received, _) = read_to_close(&mut stream);
        let waited = begin.elapsed();
        assert!(
            waited >= timeout - Duration::from_millis(100),
            "{what}: closed too early, after {waited:?}"
        );
        assert!(
            waited < timeout + PROMPT,
            "{what}: still open after {waited:?}"
        );
        // Either closed without a word or with an error status, never a 200.
        if let Some(reply) = Reply::parse(&received) {
            assert_ne!(reply.status, 200, "{what}: {reply:?}");
        }
    }

    // A kept-alive connection that goes quiet after a request is closed too.
    let mut stream = connect(addr);
    stream
        .write_all(format!("GET /api/v1/functions HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .expect("request sent");
    let begin = Instant::now();
    let (received, _) = read_to_close(&mut stream);
    let reply = Reply::parse(&received).expect("a response before the close");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        begin.elapsed() < timeout + PROMPT,
        "idle keep-alive open after {:?}",
        begin.elapsed()
    );

    let metrics = get(addr, "/metrics", "");
    assert!(
        sample(&metrics.body, "monitor_http_timeouts_total") >= 2.0,
        "{}",
        metrics.body
    );
}

#[test]
fn two_hundred_half_open_sockets_block_nobody_and_take_no_threads() {
    let _serial = serial();
    let (_monitor, addr) = start(monitor::builder());
    let threads_before = threads();

    let idle: Vec<TcpStream> = (0..200).map(|_| half_open(addr)).collect();
    // Give the monitor a moment to accept them all.
    std::thread::sleep(Duration::from_millis(200));

    let begin = Instant::now();
    let reply = get(addr, "/metrics", "");
    let took = begin.elapsed();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        took < PROMPT,
        "/metrics took {took:?} with 200 idle clients"
    );
    assert!(
        sample(&reply.body, "monitor_http_connections_open") >= 201.0,
        "{}",
        reply.body
    );
    let threads_after = threads();
    assert!(
        threads_after <= threads_before + 2,
        "threads grew from {threads_before} to {threads_after} with {} idle clients",
        idle.len()
    );
    // They are still connected, not refused: the server holds them, cheaply.
    let reply = get(addr, "/api/v1/snapshot", "");
    assert_eq!(reply.status, 200, "{reply:?}");
    drop(idle);
}

#[test]
fn connections_over_the_cap_are_refused_at_once() {
    let _serial = serial();
    let (_monitor, addr) = start(monitor::builder().max_connections(8));

    let mut held: Vec<TcpStream> = (0..8).map(|_| half_open(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));

    // The ninth: the kernel completes the handshake, the monitor answers
    // 503 (or just closes) without waiting for anything.
    let mut ninth = connect(addr);
    let begin = Instant::now();
    let (received, error) = read_to_close(&mut ninth);
    let took = begin.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the ninth connection waited {took:?}"
    );
    match Reply::parse(&received) {
        Some(reply) => {
            assert_eq!(reply.status, 503, "{reply:?}");
            assert!(reply.body.contains("too many connections"), "{reply:?}");
        }
        None => assert!(
            received.is_empty() && matches!(error, None | Some(ErrorKind::ConnectionReset)),
            "neither a 503 nor a close: {error:?} {received:?}"
        ),
    }
    // The held ones are still there, and still served once they finish.
    let mut first = held.remove(0);
    first
        .write_all(b"\r\nConnection: close\r\n\r\n")
        .expect("rest of the request");
    let (received, _) = read_to_close(&mut first);
    let reply = Reply::parse(&received).expect("the held client gets its answer");
    assert_eq!(reply.status, 200, "{reply:?}");

    // Its permit is free again: a new client gets in (the monitor notices
    // the close within a moment, so retry briefly).
    let deadline = Instant::now() + PROMPT;
    let reply = loop {
        let mut stream = connect(addr);
        let _ = stream.write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let (received, _) = read_to_close(&mut stream);
        match Reply::parse(&received) {
            Some(reply) if reply.status == 200 => break reply,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => panic!("no free connection after one closed: {other:?}"),
        }
    };
    assert!(
        sample(&reply.body, "monitor_http_connections_refused_total") >= 1.0,
        "{}",
        reply.body
    );
    assert_eq!(sample(&reply.body, "monitor_http_connections_max"), 8.0);
    drop(held);
}

#[test]
fn bodies_over_the_limit_get_413() {
    let _serial = serial();
    let (_monitor, addr) = start(monitor::builder());
    const MIB: usize = 1 << 20;

    // Announced: refused before a byte of it is read.
    let reply = exchange(
        addr,
        format!("POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", 2 * MIB).as_bytes(),
    );
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(
        reply.body.contains("larger than 1048576 bytes"),
        "{reply:?}"
    );

    // Streamed in chunks without a length: cut off once past the limit. A
    // second thread writes while this one reads, as a real client would.
    let mut stream = connect(addr);
    let mut writer = stream.try_clone().expect("clone");
    let head = format!(
        "POST /api/v1/snapshot HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let sender = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        let _ = writer.write_all(head.as_bytes());
        // 1.25 MiB; the server stops reading after 1 MiB and closes.
        for _ in 0..20 {
            if writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .is_err()
                || writer.write_all(&chunk).is_err()
                || writer.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n");
    });
    let (received, error) = read_to_close(&mut stream);
    let reply =
        Reply::parse(&received).unwrap_or_else(|| panic!("no response ({error:?}): {received:?}"));
    assert_eq!(reply.status, 413, "{reply:?}");
    sender.join().expect("writer thread");

    // A body within the limit is read, then the route decides.
    let body = "x".repeat(1000);
    let reply = exchange(
        addr,
        format!("POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            .as_bytes(),
    );
    assert_eq!(reply.status, 405, "{reply:?}");
}

#[test]
fn a_token_is_required_when_one_is_set() {
    let _serial = serial();
    let (_monitor, addr) = start(monitor::builder().token("s3cret"));

    let reply = get(addr, "/metrics", "");
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(
        reply
            .header("WWW-Authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{reply:?}"
    );
    assert!(reply.body.contains("Authorization: Bearer"), "{reply:?}");

    let reply = get(addr, "/metrics", "Authorization: Bearer wrong\r\n");
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(
        reply
            .header("WWW-Authenticate")
            .is_some_and(|v| v.contains("invalid_token")),
        "{reply:?}"
    );

    // Unknown paths are not revealed without the token either.
    assert_eq!(get(addr, "/nope", "").status, 401);

    let reply = get(addr, "/metrics", "Authorization: Bearer s3cret\r\n");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.body.contains("# TYPE function_calls_total counter"),
        "{reply:?}"
    );
}

#[test]
fn routes_unknown_paths_and_wrong_methods() {
    let _serial = serial();
    let (monitor, addr) = start(monitor::builder());
    monitor.collect_now();

    let reply = get(addr, "/metrics", "");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );

    let reply = get(addr, "/api/v1/functions", "");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    let functions: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert!(functions.is_array(), "{functions}");

    let reply = get(addr, "/api/v1/snapshot?pretty=no", "");
    assert_eq!(reply.status, 200, "{reply:?}");
    let snapshot: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert!(
        snapshot["tick"].as_u64().is_some_and(|t| t >= 1),
        "{snapshot}"
    );

    let reply = get(addr, "/nope", "");
    assert_eq!(reply.status, 404, "{reply:?}");
    let error: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON error");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("/nope") && e.contains("/metrics")),
        "{error}"
    );

    for method in ["POST", "DELETE", "PUT", "OPTIONS"] {
        let reply = exchange(
            addr,
            format!("{method} /api/v1/snapshot HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(reply.status, 405, "{method}: {reply:?}");
        assert_eq!(
            reply.header("Allow"),
            Some("GET, HEAD"),
            "{method}: {reply:?}"
        );
        assert!(reply.body.contains("not allowed"), "{method}: {reply:?}");
    }

    let reply = exchange(
        addr,
        format!("HEAD /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.is_empty(), "{reply:?}");

    // Two requests on one kept-alive connection.
    let mut stream = connect(addr);
    let twice = format!(
        "GET /api/v1/functions HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /nope HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(twice.as_bytes()).expect("sent");
    let (received, _) = read_to_close(&mut stream);
    let text = String::from_utf8_lossy(&received);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 2, "{text}");
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("HTTP/1.1 404"),
        "{text}"
    );

    // Garbage gets an error status or a close, and the server lives on.
    for garbage in [
        &b"BLAH\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"\x00\xff\xfe\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ] {
        let mut stream = connect(addr);
        let _ = stream.write_all(garbage);
        let (received, _) = read_to_close(&mut stream);
        if let Some(reply) = Reply::parse(&received) {
            assert!(reply.status >= 400, "{garbage:?}: {reply:?}");
        }
    }
    assert_eq!(get(addr, "/metrics", "").status, 200);
}

#[test]
fn stopping_finishes_requests_in_flight_and_is_prompt() {
    let _serial = serial();
    let (monitor, addr) = start(monitor::builder());
    let idle: Vec<TcpStream> = (0..20).map(|_| half_open(addr)).collect();
    // One kept-alive connection that has had its answer.
    let mut kept = connect(addr);
    kept.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .expect("sent");
    let mut first = [0; 12];
    kept.read_exact(&mut first).expect("a response starts");
    assert_eq!(&first, b"HTTP/1.1 200");
    // One request in flight: its head is in, half of its body too.
    let mut in_flight = connect(addr);
    in_flight
        .write_all(
            format!("POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 10\r\n\r\n12345")
                .as_bytes(),
        )
        .expect("sent");
    std::thread::sleep(Duration::from_millis(100));

    let begin = Instant::now();
    let stopping = std::thread::spawn(move || {
        drop(monitor);
        begin.elapsed()
    });
    // The stop is under way; the request in flight may still finish.
    std::thread::sleep(Duration::from_millis(300));
    in_flight.write_all(b"67890").expect("rest of the body");
    let (received, error) = read_to_close(&mut in_flight);
    let reply = Reply::parse(&received)
        .unwrap_or_else(|| panic!("the request in flight got no answer ({error:?}): {received:?}"));
    assert_eq!(reply.status, 405, "{reply:?}");

    let took = stopping.join().expect("stopping thread");
    // The grace for requests in flight is 2 s; idle clients do not extend it.
    assert!(took < Duration::from_secs(4), "stopping took {took:?}");

    // The kept-alive connection was closed, and nobody is accepted any more.
    let (_, _) = read_to_close(&mut kept);
    assert!(
        TcpStream::connect_timeout(&addr, PROMPT).is_err(),
        "still accepting after the stop"
    );
    drop(idle);
}
