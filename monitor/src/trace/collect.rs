//! Finished spans on their way from application threads to the store.
//!
//! Each finished span is sent at once over a lock-free channel to the
//! monitor thread. (Batching per thread would save a send per span, but a
//! span finished on a thread that then goes idle, such as a task's on a
//! runtime worker, would wait in its batch indefinitely.) What is queued is
//! bounded: past [`MAX_QUEUED`] spans, spans are dropped and counted.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::span::SpanRecord;

/// Spans waiting for the monitor thread, at most.
pub const MAX_QUEUED: usize = 200_000;

static QUEUED: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

struct Queue {
    sender: Sender<SpanRecord>,
    receiver: Mutex<Receiver<SpanRecord>>,
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = channel();
        Queue {
            sender,
            receiver: Mutex::new(receiver),
        }
    })
}

/// Hands a finished span to the monitor thread, or counts it as dropped.
pub(crate) fn submit(record: SpanRecord) {
    if QUEUED.fetch_add(1, Relaxed) >= MAX_QUEUED || queue().sender.send(record).is_err() {
        QUEUED.fetch_sub(1, Relaxed);
        DROPPED.fetch_add(1, Relaxed);
    }
}

/// Every span sent so far, oldest first. Monitor thread.
pub(crate) fn drain() -> Vec<SpanRecord> {
    let receiver = queue()
        .receiver
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let spans: Vec<SpanRecord> = receiver.try_iter().collect();
    QUEUED.fetch_sub(spans.len(), Relaxed);
    spans
}

/// Spans dropped because the queue was full.
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Relaxed)
}
