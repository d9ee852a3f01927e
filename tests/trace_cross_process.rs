//! Two processes, one trace: a client calls a server over loopback with a
//! `traceparent` header, and both record the same trace id, the server's
//! span a child of the client's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use monitor::trace::{self, TraceId};
use monitor_workspace::http_get;
use serde_json::Value;

/// Set in the child process, which then plays the server.
const ROLE: &str = "MONITOR_TRACE_TEST_ROLE";
const TIMEOUT: Duration = Duration::from_secs(20);

#[monitor::traced(name = "server::handle", skip_all)]
fn handle(path: &str) -> String {
    format!("handled {path}")
}

/// The server: answers one request inside the caller's trace, then serves
/// its dashboard until its standard input closes.
#[test]
fn server_process() {
    if std::env::var(ROLE).as_deref() != Ok("server") {
        return; // only the child process plays the server
    }
    let monitor = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("starts");
    let app = TcpListener::bind("127.0.0.1:0").expect("bind app port");
    println!(
        "ports {} {}",
        app.local_addr().expect("addr"),
        monitor.dashboard_addr().expect("dashboard")
    );
    let mut stream = accept_within(&app, TIMEOUT);
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let head = read_head(&mut stream);
    let mut headers = http::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.trim().as_bytes()),
                http::HeaderValue::from_str(value.trim()),
            ) {
                headers.append(name, value);
            }
        }
    }
    let body = {
        let _caller = trace::continue_from(&headers).expect("a valid traceparent");
        handle("/work")
    };
    monitor.collect_now();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("respond");
    drop(stream);
    // Serve the dashboard until the client is done (stdin closes).
    let _ = std::io::stdin().read_line(&mut String::new());
}

/// One connection, or a panic (ending this process) after `timeout`, so an
/// orphaned server never lingers.
fn accept_within(listener: &TcpListener, timeout: Duration) -> TcpStream {
    listener.set_nonblocking(true).expect("non-blocking");
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                return stream;
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("no client within {timeout:?}: {e}"),
        }
    }
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[monitor::traced(name = "client::call", skip_all)]
fn call(server: SocketAddr) -> (TraceId, String) {
    let mut headers = http::HeaderMap::new();
    assert!(trace::inject(&mut headers), "inside a span");
    let traceparent = headers[trace::TRACEPARENT]
        .to_str()
        .expect("ASCII")
        .to_string();
    let me = trace::current().expect("current span");
    let mut stream = TcpStream::connect(server).expect("connect to the server");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    write!(stream, "GET /work HTTP/1.1\r\nHost: {server}\r\ntraceparent: {traceparent}\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(response.ends_with("handled /work"), "{response}");
    (me.trace_id, me.span_id.to_string())
}

#[test]
fn client_and_server_record_one_trace() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");
    let mut server = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "server_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server process starts");
    // The harness prints "test server_process ... " before the line, so look
    // for the marker anywhere; read on a thread so a silent child cannot hang us.
    let stdout = server.stdout.take().expect("stdout");
    let (found, ports) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take(50)
            .find_map(|line| line.split_once("ports ").map(|(_, rest)| rest.to_string()));
        let _ = found.send(line);
    });
    let ports = match ports.recv_timeout(TIMEOUT) {
        Ok(Some(ports)) => ports,
        other => {
            let _ = server.kill();
            panic!("the server did not announce its ports: {other:?}");
        }
    };
    let (app, dashboard) = ports.split_once(' ').expect("two addresses");
    let (app, dashboard): (SocketAddr, SocketAddr) = (
        app.parse().expect("app"),
        dashboard.parse().expect("dashboard"),
    );

    let (trace_id, client_span) = call(app);

    let (status, body) =
        http_get(dashboard, &format!("/api/v1/traces/{trace_id}")).expect("the server's dashboard");
    drop(server.stdin.take()); // lets the server exit
    let _ = server.wait();
    assert_eq!(
        status, 200,
        "the server recorded the client's trace: {body}"
    );
    let tree: Value = serde_json::from_str(&body).expect("JSON");
    let root = &tree["roots"][0];
    assert_eq!(root["name"], "server::handle");
    assert_eq!(root["trace_id"], trace_id.to_string());
    assert_eq!(
        root["parent_span_id"], client_span,
        "the server span's parent is the client span"
    );
    assert_eq!(root["remote_parent"], true);

    monitor.collect_now();
    let client_tree = monitor
        .trace(trace_id)
        .expect("the client recorded the same trace");
    assert_eq!(client_tree.roots[0].span.name, "client::call");
    assert_eq!(client_tree.roots[0].span.span_id.to_string(), client_span);
}
