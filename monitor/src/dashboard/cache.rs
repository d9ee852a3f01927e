//! Response bodies built at most once per snapshot.
//!
//! The bodies depend on the snapshot only, and a snapshot changes once a
//! tick, so a scrape storm costs a copy per request rather than a rendering.
//! The Prometheus text is written into one `String` kept across snapshots,
//! so rendering does not grow a fresh buffer each time.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{exposition, json, stats};
use crate::snapshot::Snapshot;

/// The bodies built for the latest snapshot asked for.
pub(super) struct Cache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The snapshot the fields below belong to.
    snapshot: Option<Arc<Snapshot>>,
    /// The exposition of `snapshot` when `exposition_ready`; the buffer is
    /// reused for the next snapshot.
    exposition: String,
    exposition_ready: bool,
    functions: Option<Bytes>,
    snapshot_json: Option<Bytes>,
}

impl Inner {
    /// Forgets the bodies of an older snapshot.
    fn switch_to(&mut self, snapshot: &Arc<Snapshot>) {
        if self
            .snapshot
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, snapshot))
        {
            return;
        }
        self.snapshot = Some(Arc::clone(snapshot));
        self.exposition_ready = false;
        self.functions = None;
        self.snapshot_json = None;
    }
}

impl Cache {
    pub(super) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The lock is only held while building a body, never across an
    /// `.await`. A panic while building leaves the entry marked not ready,
    /// so the poison can be ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The Prometheus exposition of `snapshot`, then `server`'s families.
    pub(super) fn exposition(
        &self,
        snapshot: &Arc<Snapshot>,
        server: impl FnOnce(&mut String),
    ) -> Bytes {
        let mut inner = self.lock();
        inner.switch_to(snapshot);
        if !inner.exposition_ready {
            inner.exposition.clear();
            exposition::render(snapshot, &stats::FAMILIES, &mut inner.exposition);
            inner.exposition_ready = true;
        }
        let mut body = String::with_capacity(inner.exposition.len() + 2048);
        body.push_str(&inner.exposition);
        drop(inner);
        server(&mut body);
        Bytes::from(body)
    }

    /// `snapshot.functions` as JSON.
    pub(super) fn functions(&self, snapshot: &Arc<Snapshot>) -> Result<Bytes, serde_json::Error> {
        let mut inner = self.lock();
        inner.switch_to(snapshot);
        if let Some(body) = &inner.functions {
            return Ok(body.clone());
        }
        let body = json::functions(snapshot)?;
        inner.functions = Some(body.clone());
        Ok(body)
    }

    /// The whole `snapshot` as JSON.
    pub(super) fn snapshot(&self, snapshot: &Arc<Snapshot>) -> Result<Bytes, serde_json::Error> {
        let mut inner = self.lock();
        inner.switch_to(snapshot);
        if let Some(body) = &inner.snapshot_json {
            return Ok(body.clone());
        }
        let body = json::snapshot(snapshot)?;
        inner.snapshot_json = Some(body.clone());
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_reused_for_a_snapshot_and_rebuilt_for_the_next() {
        let cache = Cache::new();
        let first = Arc::new(Snapshot {
            tick: 1,
            ..Snapshot::default()
        });
        let a = cache.snapshot(&first).expect("serialises");
        let b = cache.snapshot(&first).expect("serialises");
        // The same allocation: built once.
        assert_eq!(a.as_ptr(), b.as_ptr());
        let second = Arc::new(Snapshot {
            tick: 2,
            ..Snapshot::default()
        });
        let c = cache.snapshot(&second).expect("serialises");
        assert!(std::str::from_utf8(&c)
            .expect("UTF-8")
            .contains("\"tick\":2"));

        let text = cache.exposition(&second, |out| out.push_str("# tail\n"));
        let text = std::str::from_utf8(&text).expect("UTF-8");
        assert!(text.contains("monitor_ticks_total 2\n"), "{text}");
        assert!(text.ends_with("# tail\n"));
        let capacity = cache.lock().exposition.capacity();
        cache.exposition(&first, |_| {});
        assert!(
            cache.lock().exposition.capacity() >= capacity,
            "the buffer is kept"
        );
    }
}
