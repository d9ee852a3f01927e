//! Scenarios: named HTTP requests or async calls, with weights, and how one
//! execution ends (ok, or an error of some kind).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use super::urls::UrlCache;

/// What a request closure gets: the HTTP client, with paths relative to
/// the test's base URL.
pub struct Client<'a> {
    http: &'a reqwest::Client,
    urls: &'a UrlCache,
    payload: &'a Bytes,
    iteration: u64,
}

impl Client<'_> {
    /// A request with `method` to `path` (relative to the base URL unless it
    /// starts with `http://` or `https://`).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        if path.starts_with("http://") || path.starts_with("https://") {
            self.http.request(method, path)
        } else {
            match self.urls.resolve(path) {
                Ok(url) => self.http.request(method, url),
                Err(text) => self.http.request(method, text),
            }
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::DELETE, path)
    }

    /// The profile's payload ([`Profile::payload_bytes`](super::Profile::payload_bytes)
    /// bytes, shared: cloning it does not copy).
    pub fn payload(&self) -> Bytes {
        self.payload.clone()
    }

    /// The number of this execution across the whole test, from 0: picks a
    /// record when walking a data set.
    pub fn iteration(&self) -> u64 {
        self.iteration
    }

    /// The underlying `reqwest` client.
    pub fn http(&self) -> &reqwest::Client {
        self.http
    }
}

/// What a call closure's future may return: `()` is a success, a `Result`
/// fails with its error's text.
pub trait CallOutcome {
    /// `Ok` or the error's text.
    fn into_outcome(self) -> Result<(), String>;
}

impl CallOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: std::fmt::Display> CallOutcome for Result<T, E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map(|_| ()).map_err(|e| e.to_string())
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type HttpFn = dyn Fn(&Client<'_>) -> reqwest::RequestBuilder + Send + Sync;
type CallFn = dyn Fn() -> BoxFuture + Send + Sync;

/// What a scenario does.
#[derive(Clone)]
pub(crate) enum Action {
    Http(Arc<HttpFn>),
    Call(Arc<CallFn>),
}

impl Action {
    pub fn http<F>(f: F) -> Self
    where
        F: Fn(&Client<'_>) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        Self::Http(Arc::new(f))
    }

    pub fn call<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: CallOutcome,
    {
        Self::Call(Arc::new(move || {
            let fut = f();
            Box::pin(async move { fut.await.into_outcome() })
        }))
    }
}

/// A named action with a weight.
#[derive(Clone)]
pub(crate) struct Scenario {
    pub name: String,
    pub weight: u32,
    pub action: Action,
}

/// Why one execution failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server answered 4xx or 5xx.
    Status(u16),
    /// No answer within the request timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// Another transport error (reset, bad response, body).
    Transport(String),
    /// A call returned an error.
    Call(String),
    /// A call panicked.
    Panic,
}

/// What every execution shares.
pub(crate) struct Shared {
    pub http: reqwest::Client,
    /// The base URL, and the paths requested so far parsed against it.
    pub urls: UrlCache,
    pub payload: Bytes,
    pub timeout: Duration,
}

/// The scenarios with their weights; picks by iteration number so the mix
/// is exact and needs no random numbers.
pub(crate) struct Mix {
    pub scenarios: Vec<Scenario>,
    /// Cumulative weights.
    cumulative: Vec<u64>,
}

impl Mix {
    pub fn new(scenarios: Vec<Scenario>) -> Self {
        let mut total = 0;
        let cumulative = scenarios
            .iter()
            .map(|s| {
                total += u64::from(s.weight.max(1));
                total
            })
            .collect();
        Self {
            scenarios,
            cumulative,
        }
    }

    /// The index of the scenario for `iteration`.
    pub fn pick(&self, iteration: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let slot = iteration % total;
        self.cumulative.partition_point(|&c| c <= slot)
    }

    /// Runs scenario `index` once; `Ok` carries the bytes received.
    pub async fn execute(
        &self,
        index: usize,
        ctx: &Shared,
        iteration: u64,
    ) -> Result<u64, Failure> {
        match &self.scenarios[index].action {
            Action::Http(f) => {
                let client = Client {
                    http: &ctx.http,
                    urls: &ctx.urls,
                    payload: &ctx.payload,
                    iteration,
                };
                let request = catch_unwind(AssertUnwindSafe(|| f(&client)))
                    .map_err(|_| Failure::Panic)?
                    .timeout(ctx.timeout);
                send(request).await
            }
            Action::Call(f) => {
                let fut = catch_unwind(AssertUnwindSafe(|| f())).map_err(|_| Failure::Panic)?;
                match tokio::time::timeout(ctx.timeout, CatchPanic(fut)).await {
                    Err(_) => Err(Failure::Timeout),
                    Ok(Err(())) => Err(Failure::Panic),
                    Ok(Ok(Err(message))) => Err(Failure::Call(message)),
                    Ok(Ok(Ok(()))) => Ok(0),
                }
            }
        }
    }
}

async fn send(request: reqwest::RequestBuilder) -> Result<u64, Failure> {
    let mut response = request.send().await.map_err(classify)?;
    let status = response.status();
    // Read the whole body so the connection can be reused.
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        received += chunk.len() as u64;
    }
    if status.is_client_error() || status.is_server_error() {
        return Err(Failure::Status(status.as_u16()));
    }
    Ok(received)
}

fn classify(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect
    } else {
        Failure::Transport(e.to_string())
    }
}

/// Turns a panic while polling into `Err(())` so one bad call cannot take
/// a virtual user down.
struct CatchPanic(BoxFuture);

impl Future for CatchPanic {
    type Output = Result<Result<(), String>, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(outcome)) => Poll::Ready(Ok(outcome)),
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(weights: &[u32]) -> Mix {
        Mix::new(
            weights
                .iter()
                .enumerate()
                .map(|(i, &weight)| Scenario {
                    name: format!("s{i}"),
                    weight,
                    action: Action::call(|| async {}),
                })
                .collect(),
        )
    }

    #[test]
    fn picks_follow_the_weights_exactly() {
        let mix = mix(&[3, 1, 6]);
        let mut counts = [0; 3];
        for i in 0..1000 {
            counts[mix.pick(i)] += 1;
        }
        assert_eq!(counts, [300, 100, 600]);
    }

    #[tokio::test]
    async fn a_panicking_call_is_a_failure_not_a_crash() {
        let mix = Mix::new(vec![
            Scenario {
                name: "boom".into(),
                weight: 1,
                action: Action::call(|| async {
                    if true {
                        panic!("boom");
                    }
                }),
            },
            Scenario {
                name: "err".into(),
                weight: 1,
                action: Action::call(|| async { Err::<(), _>("no stock") }),
            },
        ]);
        let ctx = Shared {
            http: reqwest::Client::new(),
            urls: UrlCache::new(""),
            payload: Bytes::new(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(mix.execute(0, &ctx, 0).await, Err(Failure::Panic));
        assert_eq!(
            mix.execute(1, &ctx, 0).await,
            Err(Failure::Call("no stock".into()))
        );
    }
}
