//! `RequestBuilderExt::with_trace_context` carries the current span to a
//! real HTTP server over loopback: the server sees a `traceparent` naming
//! the calling span; outside any span, the request carries none.

use std::net::SocketAddr;
use std::time::Duration;

use monitor::trace::{self, RequestBuilderExt as _, SpanContext, TraceQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::timeout;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one request on loopback with `200 OK`; the receiver gets the
/// request's headers.
async fn serve_once() -> (SocketAddr, oneshot::Receiver<http::HeaderMap>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen, received) = oneshot::channel();
    tokio::spawn(async move {
        let exchange = async {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let head = read_head(&mut stream).await;
            let _ = seen.send(parse_headers(&head));
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await
                .expect("respond");
            stream.shutdown().await.expect("close");
        };
        // Bounded: a client that never comes must not keep the task alive.
        let _ = timeout(TIMEOUT, exchange).await;
    });
    (addr, received)
}

async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn parse_headers(head: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.trim().as_bytes()),
                http::HeaderValue::from_str(value.trim()),
            ) {
                headers.append(name, value);
            }
        }
    }
    headers
}

fn client() -> reqwest::Client {
    // No proxy from the environment: the request must reach our loopback
    // server directly.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .expect("client")
}

/// Calls `url` inside a span; returns that span and the response status.
#[monitor::traced(name = "client::fetch", skip_all)]
async fn fetch(url: String) -> (SpanContext, reqwest::StatusCode) {
    let span = trace::current().expect("inside the span");
    let response = client()
        .get(url)
        .with_trace_context()
        .send()
        .await
        .expect("request succeeds");
    (span, response.status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_names_the_calling_span() {
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");

    // Inside a span: the server sees that span as the parent.
    let (addr, received) = serve_once().await;
    let (span, status) = timeout(TIMEOUT, fetch(format!("http://{addr}/work")))
        .await
        .expect("request within the timeout");
    assert_eq!(status, reqwest::StatusCode::OK);
    let headers = timeout(TIMEOUT, received)
        .await
        .expect("server answered within the timeout")
        .expect("server saw the request");
    assert_eq!(headers.get_all(trace::TRACEPARENT).iter().count(), 1);
    let sent = trace::extract(&headers).expect("a valid traceparent");
    assert_eq!(sent.trace_id, span.trace_id, "{headers:?}");
    assert_eq!(sent.span_id, span.span_id, "{headers:?}");
    assert_eq!(sent.sampled, span.sampled);

    // That span is the one recorded for the call.
    monitor.collect_now();
    let traces = monitor.find_traces(&TraceQuery {
        name: Some("client::fetch".into()),
        limit: 10,
        ..TraceQuery::default()
    });
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(traces[0].trace_id, span.trace_id);
    let tree = monitor.trace(span.trace_id).expect("the trace is stored");
    assert_eq!(tree.roots.len(), 1, "{tree:?}");
    assert_eq!(tree.roots[0].span.span_id, span.span_id);

    // Outside any span: nothing is added.
    assert!(trace::current().is_none());
    let (addr, received) = serve_once().await;
    let response = timeout(
        TIMEOUT,
        client()
            .get(format!("http://{addr}/plain"))
            .with_trace_context()
            .send(),
    )
    .await
    .expect("request within the timeout")
    .expect("request succeeds");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let headers = timeout(TIMEOUT, received)
        .await
        .expect("server answered within the timeout")
        .expect("server saw the request");
    assert!(headers.get(trace::TRACEPARENT).is_none(), "{headers:?}");
    assert!(headers.get(trace::TRACESTATE).is_none(), "{headers:?}");
    assert!(headers.contains_key(http::header::HOST), "{headers:?}");
}
