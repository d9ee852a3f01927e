//! `tracing` spans and events recorded through `monitor::trace::layer()` join
//! `#[monitor::traced]` spans in one tree, with their fields, bounded events
//! and errors.
//!
//! The global subscriber and the monitor are process-wide, so each test runs
//! in a child process of its own (the test binary, re-run on that test).

use monitor::trace::{SpanNode, TraceId, TraceQuery, TraceTree, MAX_EVENTS_PER_SPAN};
use tracing_subscriber::layer::SubscriberExt;

#[tracing::instrument(fields(region = "eu"))]
fn handle(order: u32) {
    charge(order * 10);
}

#[monitor::traced(name = "shop::charge")]
fn charge(amount: u32) {
    let span = tracing::info_span!("gateway", provider = "acme", status = tracing::field::Empty);
    let _entered = span.enter();
    tracing::info!(amount, "charging");
    tracing::warn!(retry = 1, "slow gateway");
    span.record("status", 200);
}

#[monitor::traced(name = "shop::batch")]
fn batch() {
    tracing::info_span!("noisy").in_scope(|| {
        for i in 0..MAX_EVENTS_PER_SPAN + 5 {
            tracing::debug!(i, "step");
        }
    });
}

#[tracing::instrument(err)]
fn refund(order: u32) -> Result<(), String> {
    Err(format!("order {order} already refunded"))
}

fn failing_span() {
    tracing::info_span!("audit").in_scope(|| {
        tracing::info!("checking");
        tracing::error!(code = 7, "ledger mismatch");
    });
}

fn only_trace(monitor: &monitor::Monitor, name: &str) -> TraceTree {
    let traces = monitor.find_traces(&TraceQuery {
        name: Some(name.into()),
        limit: 10,
        ..TraceQuery::default()
    });
    assert_eq!(traces.len(), 1, "{name}: {traces:?}");
    let id: TraceId = traces[0].trace_id;
    let tree = monitor.trace(id).expect("stored");
    assert_eq!(tree.roots.len(), 1, "{name}: one tree");
    tree
}

fn attributes(node: &SpanNode) -> Vec<(&str, &str)> {
    node.span
        .attributes
        .iter()
        .map(|a| (a.key, a.value.as_str()))
        .collect()
}

fn only_child<'a>(node: &'a SpanNode, name: &str) -> &'a SpanNode {
    assert_eq!(node.children.len(), 1, "{}: {:?}", node.span.name, node);
    let child = &node.children[0];
    assert_eq!(child.span.name, name);
    assert_eq!(child.span.parent_span_id, Some(node.span.span_id));
    assert_eq!(child.span.trace_id, node.span.trace_id);
    child
}

/// Re-runs the test `name` alone in a child process and checks that it
/// passed; returns true in that child, which then runs the test body.
fn in_child_process(name: &str) -> bool {
    const CHILD: &str = "MONITOR_TRACING_LAYER_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .expect("runs the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed in its process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}

#[test]
fn tracing_spans_join_monitor_trees() {
    if !in_child_process("tracing_spans_join_monitor_trees") {
        return;
    }
    // A subscriber of the application's own, set before the monitor starts:
    // the monitor must not replace it.
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(monitor::trace::layer()),
    )
    .expect("first global subscriber");
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");

    handle(3);
    batch();
    assert!(refund(4).is_err());
    failing_span();
    // Outside any span: ignored, and no trace of its own.
    tracing::info!("stray");
    assert!(monitor::trace::current().is_none(), "current restored");
    monitor.collect_now();

    // tracing -> traced -> tracing, one tree.
    let tree = only_trace(&monitor, "handle");
    assert_eq!(tree.summary.spans, 3);
    assert!(!tree.summary.error);
    let root = &tree.roots[0];
    assert_eq!(root.span.name, "handle");
    assert_eq!(root.span.module, module_path!());
    assert_eq!(root.span.parent_span_id, None);
    assert_eq!(attributes(root), [("order", "3"), ("region", "eu")]);
    let charge = only_child(root, "shop::charge");
    let gateway = only_child(charge, "gateway");
    assert_eq!(
        attributes(gateway),
        [("provider", "acme"), ("status", "200")]
    );
    assert!(gateway.span.error.is_none());
    let events: Vec<(&str, Vec<(&str, &str)>)> = gateway
        .span
        .events
        .iter()
        .map(|e| {
            (
                e.level,
                e.attributes
                    .iter()
                    .map(|a| (a.key, a.value.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("INFO", vec![("message", "charging"), ("amount", "30")]),
            ("WARN", vec![("message", "slow gateway"), ("retry", "1")]),
        ]
    );
    assert!(gateway.span.events[0].unix_ns >= gateway.span.start_unix_ns);
    assert_eq!(gateway.span.dropped_events, 0);

    // Events are bounded per span.
    let tree = only_trace(&monitor, "shop::batch");
    let noisy = only_child(&tree.roots[0], "noisy");
    assert_eq!(noisy.span.events.len(), MAX_EVENTS_PER_SPAN);
    assert_eq!(noisy.span.dropped_events, 5);
    assert_eq!(noisy.span.events[0].level, "DEBUG");

    // `#[instrument(err)]` and `error!` mark their span as failed.
    let tree = only_trace(&monitor, "refund");
    assert!(tree.summary.error);
    assert_eq!(
        tree.roots[0].span.error.as_deref(),
        Some("order 4 already refunded")
    );
    let tree = only_trace(&monitor, "audit");
    assert!(tree.summary.error);
    let audit = &tree.roots[0];
    assert_eq!(audit.span.error.as_deref(), Some("ledger mismatch"));
    assert_eq!(audit.span.events.len(), 2);
    assert_eq!(audit.span.events[1].level, "ERROR");

    // Nothing else was recorded: the stray event made no span.
    let all = monitor.find_traces(&TraceQuery {
        limit: 100,
        ..TraceQuery::default()
    });
    assert_eq!(all.len(), 4, "{all:?}");

    // Stopped, the layer records nothing.
    drop(monitor);
    tracing::info_span!("after").in_scope(|| tracing::info!("ignored"));
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("restarts");
    monitor.collect_now();
    assert!(monitor
        .find_traces(&TraceQuery {
            name: Some("after".into()),
            limit: 10,
            ..TraceQuery::default()
        })
        .is_empty());
}

#[test]
fn starting_the_monitor_installs_the_layer_when_no_subscriber_is_set() {
    if !in_child_process("starting_the_monitor_installs_the_layer_when_no_subscriber_is_set") {
        return;
    }
    assert!(!tracing::dispatcher::has_been_set());
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");
    assert!(tracing::dispatcher::has_been_set());
    handle(5);
    monitor.collect_now();
    let tree = only_trace(&monitor, "handle");
    assert_eq!(tree.summary.spans, 3, "handle, shop::charge, gateway");
    // The monitor's subscriber is now the global one.
    assert!(tracing::subscriber::set_global_default(tracing_subscriber::registry()).is_err());
}
