//! The trace store: the most recent spans in a bounded ring, queried by the
//! HTTP endpoints. Memory is bounded by the span capacity, not by traffic.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::id::{SpanId, TraceId};
use super::span::SpanRecord;

/// Spans kept by default.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// Spans kept per trace; further spans of one trace are dropped and counted.
pub const MAX_SPANS_PER_TRACE: usize = 1_000;

/// Traces kept whatever the sampling decision when at least this slow.
pub const DEFAULT_SLOW_THRESHOLD_NS: u64 = 500_000_000;
/// Spans of unsampled traces held while their root has not finished.
pub const MAX_PENDING_SPANS: usize = 20_000;
/// Inserts (ticks) an unsampled trace may wait for its root before it is dropped.
const PENDING_TICKS: u64 = 60;

/// The most recent spans, oldest evicted first.
///
/// Sampled traces are stored as their spans arrive. Spans of unsampled
/// traces wait until the trace's local root finishes; the trace is then kept
/// after all if any span failed or the root took at least the slow threshold
/// (tail retention), and dropped otherwise. Every drop is counted.
pub struct TraceStore {
    spans: VecDeque<SpanRecord>,
    capacity: usize,
    slow_threshold_ns: u64,
    per_trace: HashMap<TraceId, usize>,
    pending: HashMap<TraceId, Pending>,
    pending_spans: usize,
    inserts: u64,
    evicted: u64,
    over_trace_cap: u64,
    sampled_out: u64,
    kept_by_tail: u64,
}

/// An unsampled trace waiting for its root.
struct Pending {
    spans: Vec<SpanRecord>,
    since: u64,
}

/// Which traces to list.
#[derive(Clone, Debug, Default)]
pub struct TraceQuery {
    /// Only traces with a span whose name contains this.
    pub name: Option<String>,
    /// Only traces at least this long, in nanoseconds.
    pub min_duration_ns: Option<u64>,
    /// Only traces with (true) or without (false) an error.
    pub error: Option<bool>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// One trace in a listing.
#[derive(Clone, Debug, Serialize)]
pub struct TraceSummary {
    /// The trace.
    pub trace_id: TraceId,
    /// Name of the earliest span without a parent in the store.
    pub root: &'static str,
    /// Start of the earliest span, nanoseconds since the Unix epoch.
    pub start_unix_ns: u64,
    /// From the first span's start to the last span's end.
    pub duration_ns: u64,
    /// Spans stored.
    pub spans: usize,
    /// Whether any span recorded an error.
    pub error: bool,
}

/// A span with its children, for `/api/v1/traces/{id}`.
#[derive(Clone, Debug, Serialize)]
pub struct SpanNode {
    /// The span.
    #[serde(flatten)]
    pub span: SpanRecord,
    /// Spans whose parent is this one, by start time.
    pub children: Vec<SpanNode>,
}

/// A whole trace as a tree.
#[derive(Clone, Debug, Serialize)]
pub struct TraceTree {
    /// Listing figures.
    #[serde(flatten)]
    pub summary: TraceSummary,
    /// Spans whose parent is not in the store (normally one root).
    pub roots: Vec<SpanNode>,
}

/// Counters for the snapshot.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct TraceStoreStats {
    /// Spans held now.
    pub spans: usize,
    /// Spans evicted to make room.
    pub evicted: u64,
    /// Spans refused because their trace reached the per-trace cap.
    pub over_trace_cap: u64,
    /// Spans of unsampled traces dropped (not failed, not slow, or never finished).
    pub sampled_out: u64,
    /// Unsampled traces kept because they failed or were slow.
    pub kept_by_tail: u64,
}

impl TraceStore {
    /// A store keeping at most `capacity` spans, with the default slow threshold.
    pub fn new(capacity: usize) -> Self {
        Self::with_slow_threshold(capacity, DEFAULT_SLOW_THRESHOLD_NS)
    }

    /// A store keeping at most `capacity` spans, and unsampled traces whose
    /// root takes at least `slow_threshold_ns`.
    pub fn with_slow_threshold(capacity: usize, slow_threshold_ns: u64) -> Self {
        Self {
            spans: VecDeque::new(),
            capacity: capacity.max(1),
            slow_threshold_ns,
            per_trace: HashMap::new(),
            pending: HashMap::new(),
            pending_spans: 0,
            inserts: 0,
            evicted: 0,
            over_trace_cap: 0,
            sampled_out: 0,
            kept_by_tail: 0,
        }
    }

    /// Adds finished spans (one tick's worth), evicting the oldest beyond the
    /// capacity and deciding on unsampled traces whose root has finished.
    pub fn insert(&mut self, spans: impl IntoIterator<Item = SpanRecord>) {
        self.inserts += 1;
        for span in spans {
            if span.sampled {
                self.store(span);
            } else {
                self.hold(span);
            }
        }
        self.expire_pending();
    }

    fn hold(&mut self, span: SpanRecord) {
        let local_root = span.parent_span_id.is_none() || span.remote_parent;
        let trace_id = span.trace_id;
        if self.pending_spans >= MAX_PENDING_SPANS && !local_root {
            self.sampled_out += 1;
            return;
        }
        let since = self.inserts;
        let pending = self.pending.entry(trace_id).or_insert_with(|| Pending {
            spans: Vec::new(),
            since,
        });
        pending.spans.push(span);
        self.pending_spans += 1;
        if !local_root {
            return;
        }
        let Some(Pending { spans, .. }) = self.pending.remove(&trace_id) else {
            return;
        };
        self.pending_spans -= spans.len();
        let root_duration = spans.last().map_or(0, |root| root.duration_ns);
        if root_duration >= self.slow_threshold_ns || spans.iter().any(|s| s.error.is_some()) {
            self.kept_by_tail += 1;
            for span in spans {
                self.store(span);
            }
        } else {
            self.sampled_out += spans.len() as u64;
        }
    }

    /// Drops unsampled traces whose root has not finished in time.
    fn expire_pending(&mut self) {
        let now = self.inserts;
        let mut expired = 0;
        self.pending.retain(|_, pending| {
            let keep = now - pending.since < PENDING_TICKS;
            if !keep {
                expired += pending.spans.len();
            }
            keep
        });
        self.pending_spans -= expired;
        self.sampled_out += expired as u64;
    }

    fn store(&mut self, span: SpanRecord) {
        let count = self.per_trace.entry(span.trace_id).or_insert(0);
        if *count >= MAX_SPANS_PER_TRACE {
            self.over_trace_cap += 1;
            return;
        }
        *count += 1;
        if self.spans.len() == self.capacity {
            self.evict_oldest();
        }
        self.spans.push_back(span);
    }

    fn evict_oldest(&mut self) {
        let Some(old) = self.spans.pop_front() else {
            return;
        };
        self.evicted += 1;
        if let Some(count) = self.per_trace.get_mut(&old.trace_id) {
            *count -= 1;
            if *count == 0 {
                self.per_trace.remove(&old.trace_id);
            }
        }
    }

    /// Counters for the snapshot.
    pub fn stats(&self) -> TraceStoreStats {
        TraceStoreStats {
            spans: self.spans.len(),
            evicted: self.evicted,
            over_trace_cap: self.over_trace_cap,
            sampled_out: self.sampled_out,
            kept_by_tail: self.kept_by_tail,
        }
    }

    /// Traces matching `query`, newest first.
    pub fn query(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        let mut traces: HashMap<TraceId, Vec<&SpanRecord>> = HashMap::new();
        for span in &self.spans {
            traces.entry(span.trace_id).or_default().push(span);
        }
        let mut summaries: Vec<TraceSummary> = traces
            .into_iter()
            .filter(|(_, spans)| match &query.name {
                Some(name) => spans.iter().any(|s| s.name.contains(name.as_str())),
                None => true,
            })
            .map(|(id, spans)| summarize(id, &spans))
            .filter(|t| query.min_duration_ns.is_none_or(|min| t.duration_ns >= min))
            .filter(|t| query.error.is_none_or(|error| t.error == error))
            .collect();
        summaries.sort_by_key(|t| std::cmp::Reverse(t.start_unix_ns));
        summaries.truncate(query.limit);
        summaries
    }

    /// The trace `id` as a tree, if any of its spans are stored.
    pub fn trace(&self, id: TraceId) -> Option<TraceTree> {
        let mut spans: Vec<&SpanRecord> = self.spans.iter().filter(|s| s.trace_id == id).collect();
        if spans.is_empty() {
            return None;
        }
        spans.sort_by_key(|s| s.start_unix_ns);
        let summary = summarize(id, &spans);
        let present: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
        let mut children: HashMap<SpanId, Vec<&SpanRecord>> = HashMap::new();
        let mut roots = Vec::new();
        for span in &spans {
            match span.parent_span_id.filter(|p| present.contains(p)) {
                Some(parent) => children.entry(parent).or_default().push(span),
                None => roots.push(*span),
            }
        }
        let roots = roots.into_iter().map(|s| node(s, &children, 0)).collect();
        Some(TraceTree { summary, roots })
    }
}

/// Nesting deeper than this is cut (a cycle in bad data cannot recurse forever).
const MAX_DEPTH: usize = 256;

fn node(span: &SpanRecord, children: &HashMap<SpanId, Vec<&SpanRecord>>, depth: usize) -> SpanNode {
    let kids = match children.get(&span.span_id) {
        Some(kids) if depth < MAX_DEPTH => {
            kids.iter().map(|k| node(k, children, depth + 1)).collect()
        }
        _ => Vec::new(),
    };
    SpanNode {
        span: span.clone(),
        children: kids,
    }
}

fn summarize(trace_id: TraceId, spans: &[&SpanRecord]) -> TraceSummary {
    let start = spans.iter().map(|s| s.start_unix_ns).min().unwrap_or(0);
    let end = spans
        .iter()
        .map(|s| s.start_unix_ns + s.duration_ns)
        .max()
        .unwrap_or(start);
    let ids: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let root = spans
        .iter()
        .filter(|s| s.parent_span_id.is_none_or(|p| !ids.contains(&p)))
        .min_by_key(|s| s.start_unix_ns)
        .map_or("", |s| s.name);
    TraceSummary {
        trace_id,
        root,
        start_unix_ns: start,
        duration_ns: end - start,
        spans: spans.len(),
        error: spans.iter().any(|s| s.error.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        trace: u128,
        id: u64,
        parent: Option<u64>,
        start: u64,
        duration: u64,
        error: bool,
    ) -> SpanRecord {
        SpanRecord {
            trace_id: TraceId::from_u128(trace).expect("non-zero"),
            span_id: SpanId::from_u64(id).expect("non-zero"),
            parent_span_id: parent.and_then(SpanId::from_u64),
            remote_parent: false,
            sampled: true,
            name: if parent.is_none() { "root" } else { "child" },
            module: "m",
            start_unix_ns: start,
            duration_ns: duration,
            attributes: Vec::new(),
            error: error.then(|| "boom".to_string()),
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    #[test]
    fn trees_and_queries() {
        let mut store = TraceStore::new(100);
        store.insert([
            span(1, 1, None, 100, 50, false),
            span(1, 2, Some(1), 110, 10, false),
            span(1, 3, Some(2), 112, 5, true),
            span(2, 9, None, 500, 5, false),
        ]);
        let tree = store
            .trace(TraceId::from_u128(1).expect("non-zero"))
            .expect("trace 1");
        assert_eq!(tree.summary.spans, 3);
        assert!(tree.summary.error);
        assert_eq!(tree.roots.len(), 1);
        assert_eq!(
            tree.roots[0].children[0].children[0].span.span_id,
            SpanId::from_u64(3).expect("non-zero")
        );

        let all = store.query(&TraceQuery {
            limit: 10,
            ..TraceQuery::default()
        });
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].trace_id,
            TraceId::from_u128(2).expect("non-zero"),
            "newest first"
        );
        let slow = store.query(&TraceQuery {
            limit: 10,
            min_duration_ns: Some(20),
            ..TraceQuery::default()
        });
        assert_eq!(slow.len(), 1);
        let failed = store.query(&TraceQuery {
            limit: 10,
            error: Some(true),
            ..TraceQuery::default()
        });
        assert_eq!(failed.len(), 1);
        assert_eq!(
            store
                .query(&TraceQuery {
                    limit: 1,
                    ..TraceQuery::default()
                })
                .len(),
            1
        );
    }

    #[test]
    fn unsampled_traces_are_kept_only_when_failed_or_slow() {
        let mut store = TraceStore::with_slow_threshold(100, 1_000);
        let unsampled = |trace, id, parent, duration, error| SpanRecord {
            sampled: false,
            ..span(trace, id, parent, 10, duration, error)
        };
        // Children finish first, the root last.
        store.insert([
            unsampled(1, 2, Some(1), 5, false),
            unsampled(1, 1, None, 10, false),
        ]);
        store.insert([
            unsampled(2, 2, Some(1), 5, true),
            unsampled(2, 1, None, 10, false),
        ]);
        store.insert([unsampled(3, 1, None, 5_000, false)]);
        let id = |n| TraceId::from_u128(n).expect("non-zero");
        assert!(store.trace(id(1)).is_none(), "fast and fine: sampled out");
        assert_eq!(
            store.trace(id(2)).map(|t| t.summary.spans),
            Some(2),
            "failed: kept whole"
        );
        assert!(store.trace(id(3)).is_some(), "slow: kept");
        let stats = store.stats();
        assert_eq!((stats.sampled_out, stats.kept_by_tail), (2, 2));

        // A trace whose root never finishes is dropped after a while.
        store.insert([unsampled(4, 2, Some(1), 5, true)]);
        for _ in 0..PENDING_TICKS {
            store.insert([]);
        }
        assert!(store.pending.is_empty());
        assert_eq!(store.stats().sampled_out, 3);
    }

    #[test]
    fn capacity_and_per_trace_cap_bound_memory() {
        let mut store = TraceStore::new(10);
        store.insert((1..=25).map(|i| span(u128::from(i), i, None, i, 1, false)));
        assert_eq!(store.stats().spans, 10);
        assert_eq!(store.stats().evicted, 15);
        assert!(
            store
                .trace(TraceId::from_u128(1).expect("non-zero"))
                .is_none(),
            "oldest evicted"
        );

        let mut store = TraceStore::new(10 * MAX_SPANS_PER_TRACE);
        store
            .insert((1..=MAX_SPANS_PER_TRACE as u64 + 5).map(|i| span(7, i, Some(1), i, 1, false)));
        assert_eq!(store.stats().spans, MAX_SPANS_PER_TRACE);
        assert_eq!(store.stats().over_trace_cap, 5);
    }
}
