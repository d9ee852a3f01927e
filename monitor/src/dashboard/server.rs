//! The accept loop: admits connections under the cap, refuses the rest at
//! once, and stops gracefully.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{connection, State};

/// How long a stopping server lets requests in flight finish before it drops
/// their connections.
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long to wait after a failed `accept` (out of file descriptors, say)
/// before trying again, so that a persistent failure cannot spin the thread.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The answer to a connection over the cap. Written with one non-blocking
/// write, then the socket is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 80\r\n\
\r\n\
{\"error\":\"too many connections to the monitor; close idle ones or retry later\"}\n";

/// Accepts connections until `stop` turns true, then drains them.
pub(super) async fn run(state: Arc<State>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    // Each connection watches `stop` through its own receiver.
    let for_connections = stop.clone();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            // Reap finished connection tasks so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => admit(&state, stream, &for_connections, &mut connections),
                Err(_) => {
                    state.stats.accept_error();
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    // Stop accepting: new connections are refused by the OS from here on.
    drop(listener);
    // Each connection sees `stop` itself, closes when idle and finishes the
    // request it is serving; whatever is left after the grace is dropped.
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        connections.shutdown().await;
    }
}

/// Resolves once `stop` is true, or its sender is gone (stop as well then).
/// Returns nothing, so that no borrow of the channel is held across an await.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Starts a task for `stream` if a connection permit is free, else refuses it.
fn admit(
    state: &Arc<State>,
    stream: TcpStream,
    stop: &watch::Receiver<bool>,
    connections: &mut JoinSet<()>,
) {
    match Arc::clone(&state.permits).try_acquire_owned() {
        Ok(permit) => {
            state.stats.accepted();
            let task = connection::serve(Arc::clone(state), stream, stop.clone(), permit);
            connections.spawn(task);
        }
        Err(_) => {
            state.stats.refused();
            refuse(stream);
        }
    }
}

/// Answers 503 without waiting and closes the socket. The send buffer of a
/// fresh socket is empty, so the short answer goes out whole; if it does not,
/// the client sees the connection closed, which also says "refused".
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(REFUSAL);
    drop(stream);
}

#[cfg(test)]
mod tests {
    use super::REFUSAL;

    #[test]
    fn the_refusal_has_the_right_content_length() {
        let text = std::str::from_utf8(REFUSAL).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|n| n.parse().ok())
            .expect("a content-length");
        assert_eq!(length, body.len(), "{body:?}");
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_ok(),
            "{body}"
        );
    }
}
