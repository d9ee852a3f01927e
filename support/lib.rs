//! Helpers shared by the workspace's integration tests, examples and benches.

pub mod delay_server;
pub mod orders;

/// The monitor's request-tracking layer, keyed by axum's matched route
/// template (requests no route matched go to one series).
pub fn track_routes() -> monitor::http::TrackLayer {
    monitor::http::TrackLayer::new(|extensions| {
        extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str)
    })
}

/// Serves `app` on a free port of 127.0.0.1, as a task of the current tokio
/// runtime, and returns its address.
pub async fn serve_on_loopback(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// One monitor for a whole test binary with the dashboard on a free
/// loopback port, leaving the global `metrics` recorder alone.
pub fn dashboard_monitor() -> &'static monitor::Monitor {
    static MONITOR: std::sync::OnceLock<monitor::Monitor> = std::sync::OnceLock::new();
    MONITOR.get_or_init(|| {
        monitor::builder()
            .dashboard_addr("127.0.0.1:0")
            .install_recorder(false)
            .start()
            .expect("monitor starts")
    })
}

/// Sends a raw HTTP/1.1 request to `addr` and returns the status code and body.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// One monitor for a whole test binary (only one may run per process), with
/// the dashboard off and the global `metrics` recorder left alone.
pub fn shared_monitor() -> &'static monitor::Monitor {
    static MONITOR: std::sync::OnceLock<monitor::Monitor> = std::sync::OnceLock::new();
    MONITOR.get_or_init(|| {
        monitor::builder()
            .dashboard(false)
            .install_recorder(false)
            .start()
            .expect("monitor starts")
    })
}

/// The latest figures of the profiled function called `name`, collected now.
pub fn function_stats(name: &str) -> Option<monitor::snapshot::FunctionStats> {
    shared_monitor()
        .collect_now()
        .functions
        .iter()
        .find(|f| f.name == name)
        .cloned()
}

/// Resident set size of this process in bytes (Linux).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs `promtool check metrics` on `exposition`; panics with its findings
/// unless it exits 0.
pub fn promtool_check(exposition: &str) {
    use std::io::Write as _;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "promtool is not installed, so the exposition cannot be checked; run scripts/test, \
             which installs it (Debian package `prometheus`)"
        ),
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("exposition written to promtool");
    let output = child.wait_with_output().expect("promtool ran");
    assert!(
        output.status.success(),
        "promtool check metrics failed ({}):\n{}{}\n--- exposition ---\n{exposition}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
