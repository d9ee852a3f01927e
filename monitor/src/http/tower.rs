//! Tower middleware (feature `tower`): [`TrackLayer`] records every request
//! a service answers, under its route template.
//!
//! The monitor does not depend on any router. The layer asks a closure for
//! the route template of each request, from the request's extensions; with
//! axum that is `MatchedPath`, which axum inserts before the middleware
//! added with `Router::layer` runs:
//!
//! ```ignore
//! use axum::extract::MatchedPath;
//!
//! let app = axum::Router::new()
//!     .route("/users/{id}", axum::routing::get(user))
//!     .layer(monitor::http::TrackLayer::new(|extensions| {
//!         extensions.get::<MatchedPath>().map(MatchedPath::as_str)
//!     }));
//! ```
//!
//! A request without a template (the closure returns `None`, such as a
//! request for a path no route matched) counts as
//! [`UNMATCHED_ROUTE`](super::UNMATCHED_ROUTE): raw paths never become
//! series. Body sizes are the bodies' exact size hints (or the request's
//! `Content-Length`); streamed bodies of unknown length count as 0 bytes.
//! The duration ends when the inner service returns the response head.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::CONTENT_LENGTH;
use http::{Extensions, Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::record::{start, RequestGuard};
use super::table::UNMATCHED_ROUTE;
use crate::profile::is_enabled;

/// Finds the route template of a request in its extensions.
type RouteOf = Arc<dyn for<'a> Fn(&'a Extensions) -> Option<&'a str> + Send + Sync>;

/// A [`Layer`] that records each request's method, route template, status,
/// duration and body sizes.
///
/// The route template comes from a closure over the request's extensions;
/// with axum, from `MatchedPath` (add the layer with `Router::layer`, so it
/// runs after routing):
///
/// ```ignore
/// use axum::extract::MatchedPath;
///
/// let app = axum::Router::new()
///     .route("/users/{id}", axum::routing::get(user))
///     .layer(monitor::http::TrackLayer::new(|extensions| {
///         extensions.get::<MatchedPath>().map(MatchedPath::as_str)
///     }));
/// ```
///
/// Requests without a template count as
/// [`UNMATCHED_ROUTE`](super::UNMATCHED_ROUTE). Body sizes are the bodies'
/// exact size hints (else the request's `Content-Length`); streamed bodies
/// of unknown length count 0 bytes. The duration ends when the inner
/// service returns the response head.
#[derive(Clone)]
pub struct TrackLayer {
    route_of: RouteOf,
}

impl std::fmt::Debug for TrackLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackLayer").finish_non_exhaustive()
    }
}

impl TrackLayer {
    /// A layer that takes each request's route template from `route_of`
    /// (such as axum's `MatchedPath` extension).
    pub fn new<F>(route_of: F) -> Self
    where
        F: for<'a> Fn(&'a Extensions) -> Option<&'a str> + Send + Sync + 'static,
    {
        Self {
            route_of: Arc::new(route_of),
        }
    }
}

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Track {
            inner,
            route_of: Arc::clone(&self.route_of),
        }
    }
}

/// The service [`TrackLayer`] wraps around another.
#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    route_of: RouteOf,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Track<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Track")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for Track<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    B: Body,
    RB: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let guard = is_enabled().then(|| {
            let route = (self.route_of)(request.extensions()).unwrap_or(UNMATCHED_ROUTE);
            let bytes_in = request.body().size_hint().exact().or_else(|| {
                request
                    .headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
            });
            start(request.method().as_str(), route).bytes_in(bytes_in.unwrap_or(0))
        });
        TrackFuture {
            inner: self.inner.call(request),
            guard,
        }
    }
}

pin_project! {
    /// The response future of [`Track`]: records the request when the
    /// response is ready, or as cancelled when dropped before.
    pub struct TrackFuture<F> {
        #[pin]
        inner: F,
        guard: Option<RequestGuard>,
    }
}

impl<F, RB, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
    RB: Body,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        if let Some(guard) = this.guard.take() {
            match &output {
                Ok(response) => {
                    let bytes_out = response.body().size_hint().exact().unwrap_or(0);
                    guard
                        .bytes_out(bytes_out)
                        .finish(response.status().as_u16());
                }
                // The service failed: no response at all.
                Err(_) => guard.finish(0),
            }
        }
        Poll::Ready(output)
    }
}
