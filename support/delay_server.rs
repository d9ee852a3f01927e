//! A loopback HTTP server with a latency the test chooses, for load-test
//! tests: `GET /` answers `ok` after `delay(time since start)`;
//! `GET /status/{code}` answers that status at once; `POST /` answers the
//! size of the body it got. It keeps the arrival time and handler time of
//! every `GET /`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

type DelayFn = dyn Fn(Duration) -> Duration + Send + Sync;

struct Shared {
    started: Instant,
    delay: Box<DelayFn>,
    arrivals: Mutex<Vec<Duration>>,
    /// How long each request to `/` took inside the handler.
    served: Mutex<Vec<Duration>>,
}

/// A running delay server.
pub struct DelayServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

async fn delayed(State(shared): State<Arc<Shared>>) -> &'static str {
    let at = shared.started.elapsed();
    shared
        .arrivals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(at);
    let delay = (shared.delay)(at);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let took = shared.started.elapsed() - at;
    shared
        .served
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(took);
    "ok"
}

/// `POST /`: answers the size of the body it received.
async fn body_size(body: axum::body::Bytes) -> String {
    body.len().to_string()
}

async fn status(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

impl DelayServer {
    /// Starts on 127.0.0.1 (a free port) on the current runtime; `delay`
    /// gets the time since start of each request's arrival.
    pub async fn start(
        delay: impl Fn(Duration) -> Duration + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            delay: Box::new(delay),
            arrivals: Mutex::new(Vec::new()),
            served: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/", get(delayed).post(body_size))
            .route("/status/{code}", get(status))
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// A server that always takes `delay`.
    pub async fn fixed(delay: Duration) -> std::io::Result<Self> {
        Self::start(move |_| delay).await
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Arrival times of the requests to `/`, since the server started.
    pub fn arrivals(&self) -> Vec<Duration> {
        self.shared
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl DelayServer {
    /// Median time the handler of `/` took (the sleep overshoots its
    /// delay on a busy machine: this is the latency the server really had).
    pub fn served_median(&self) -> Duration {
        let mut served = self
            .shared
            .served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        served.sort();
        served.get(served.len() / 2).copied().unwrap_or_default()
    }

    /// Forgets the arrivals and handler times recorded so far.
    pub fn reset(&self) {
        self.shared
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.shared
            .served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Drop for DelayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
