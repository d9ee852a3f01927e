//! [`WriteTimeout`]: fails a write that makes no progress for too long, so a
//! client that stops reading cannot hold a connection (and its permit)
//! forever. hyper bounds reading the request head; this bounds the other
//! direction.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An I/O object whose writes fail with [`io::ErrorKind::TimedOut`] after
/// `timeout` without progress. Reads pass through untouched.
pub(super) struct WriteTimeout<S> {
    inner: S,
    timeout: Duration,
    /// Boxed so that the wrapper stays `Unpin`, as hyper needs.
    deadline: Pin<Box<Sleep>>,
    /// Whether `deadline` is counting: from the first write that could not
    /// proceed until the next one that did.
    armed: bool,
}

impl<S> WriteTimeout<S> {
    /// Wraps `inner`. Must be called within a tokio runtime with timers.
    pub(super) fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
        }
    }

    /// Turns a pending write into a timeout once the deadline passes; a
    /// write that proceeds disarms the deadline.
    fn bound<T>(&mut self, poll: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !self.armed {
                    self.armed = true;
                    self.deadline.as_mut().reset(Instant::now() + self.timeout);
                }
                match self.deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the client read nothing for {:?}", self.timeout),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.bound(poll, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.bound(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.bound(poll, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.bound(poll, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_write_nobody_reads_times_out() {
        let (near, _far) = tokio::io::duplex(16);
        let mut writer = WriteTimeout::new(near, Duration::from_millis(50));
        let begin = std::time::Instant::now();
        let error = writer
            .write_all(&[0; 64])
            .await
            .expect_err("the far end never reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert!(
            begin.elapsed() < Duration::from_secs(5),
            "{:?}",
            begin.elapsed()
        );
    }

    #[tokio::test]
    async fn slow_but_steady_progress_does_not_time_out() {
        let (near, mut far) = tokio::io::duplex(16);
        let mut writer = WriteTimeout::new(near, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0; 16];
            // Each read comes well within the timeout; the whole write takes longer.
            while got.len() < 160 {
                tokio::time::sleep(Duration::from_millis(40)).await;
                let n = far.read(&mut chunk).await.expect("reads");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
            }
            got.len()
        });
        writer
            .write_all(&[7; 160])
            .await
            .expect("no timeout while the reader keeps up");
        assert_eq!(reader.await.expect("reader task"), 160);
    }
}
