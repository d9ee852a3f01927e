//! One HTTP/1.1 connection, served by hyper with every wait bounded.

use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::io::WriteTimeout;
use super::server::stopped;
use super::{routes, State};

/// Largest buffer hyper keeps per connection (request head included; a
/// larger head is answered 431). hyper's default of ~400 KiB times a
/// thousand connections would be a lot of memory for a monitoring port.
const MAX_BUF_SIZE: usize = 64 * 1024;

/// Serves requests on `stream` until the client leaves, a timeout fires, or
/// `stop` turns true (then the request in flight finishes first). Holding
/// `permit` is what counts this connection against the cap.
pub(super) async fn serve(
    state: Arc<State>,
    stream: TcpStream,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    // Responses are small and written whole: do not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let timeout = state.timeout;
    let io = TokioIo::new(WriteTimeout::new(stream, timeout));
    let service_state = Arc::clone(&state);
    let service = service_fn(move |request| routes::handle(Arc::clone(&service_state), request));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(MAX_BUF_SIZE)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped(&mut stop) => {
            // Closes the connection now if it is idle, else after the
            // response in flight; the server bounds how long that may take.
            connection.as_mut().graceful_shutdown();
            connection.as_mut().await
        }
    };
    if let Err(error) = result {
        if error.is_timeout() || is_timed_out_io(&error) {
            state.stats.timed_out();
        }
    }
    drop(permit);
}

/// Whether hyper gave up because of our write timeout.
fn is_timed_out_io(error: &hyper::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::TimedOut;
        }
        source = cause.source();
    }
    false
}
