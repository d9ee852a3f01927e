//! `#[monitor::traced]` spans land in the store with the right parents,
//! attributes and errors, for sync calls and async work across tasks.

use std::time::Duration;

use monitor::trace::{self, SpanNode, TraceId, TraceQuery, WithContext};

#[monitor::traced(name = "shop::checkout", fields(items = cart.len()))]
async fn checkout(cart: Vec<u32>, customer: &str) -> Result<u32, String> {
    let total = price(&cart)?;
    // Work handed to another task keeps the trace when its context goes along.
    let receipt = tokio::spawn(WithContext::new(
        trace::current(),
        send_receipt(customer.to_string()),
    ));
    receipt.await.map_err(|e| e.to_string())??;
    Ok(total)
}

#[monitor::traced(name = "shop::price", err)]
fn price(cart: &[u32]) -> Result<u32, String> {
    if cart.is_empty() {
        return Err("empty cart".into());
    }
    Ok(cart.iter().sum())
}

#[monitor::traced(name = "shop::send_receipt", skip_all)]
async fn send_receipt(customer: String) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if customer.is_empty() {
        return Err("no customer".into());
    }
    Ok(())
}

fn find<'a>(node: &'a SpanNode, name: &str) -> Option<&'a SpanNode> {
    if node.span.name == name {
        return Some(node);
    }
    node.children.iter().find_map(|child| find(child, name))
}

#[test]
fn spans_form_trees_across_tasks() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(trees_across_tasks());
}

async fn trees_across_tasks() {
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");
    assert_eq!(checkout(vec![2, 3], "ada").await, Ok(5));
    assert_eq!(checkout(vec![], "bob").await, Err("empty cart".into()));
    monitor.collect_now();

    let traces = monitor.find_traces(&TraceQuery {
        name: Some("shop::checkout".into()),
        limit: 10,
        ..TraceQuery::default()
    });
    assert_eq!(traces.len(), 2, "{traces:?}");
    let ok = traces
        .iter()
        .find(|t| !t.error)
        .expect("the successful checkout");
    assert_eq!(ok.spans, 3, "checkout, price, send_receipt");
    let tree = monitor.trace(ok.trace_id).expect("stored");
    assert_eq!(tree.roots.len(), 1);
    let root = &tree.roots[0];
    assert_eq!(root.span.name, "shop::checkout");
    let attributes: Vec<(&str, &str)> = root
        .span
        .attributes
        .iter()
        .map(|a| (a.key, a.value.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [("cart", "[2, 3]"), ("customer", "\"ada\""), ("items", "2")]
    );
    let price = find(root, "shop::price").expect("price is a child");
    assert_eq!(price.span.parent_span_id, Some(root.span.span_id));
    let receipt = find(root, "shop::send_receipt").expect("the spawned task joined the trace");
    assert_eq!(receipt.span.parent_span_id, Some(root.span.span_id));
    assert!(receipt.span.attributes.is_empty(), "skip_all");
    assert!(receipt.span.duration_ns >= 5_000_000);
    assert!(root.span.duration_ns >= receipt.span.duration_ns);

    let failed = traces
        .iter()
        .find(|t| t.error)
        .expect("the failed checkout");
    let tree = monitor.trace(failed.trace_id).expect("stored");
    let price = find(&tree.roots[0], "shop::price").expect("price");
    assert_eq!(
        price.span.error.as_deref(),
        Some("empty cart"),
        "`err` records the Display text"
    );
    assert_eq!(
        tree.roots[0].span.error.as_deref(),
        Some("error"),
        "an Err without `err` is an error"
    );
    assert_ne!(failed.trace_id, ok.trace_id);

    // A remote parent: the context extracted from a request.
    let remote = trace::TraceContext::new_root(true);
    {
        let _inside = trace::enter_context((&remote).into());
        assert_eq!(monitor_workspace_price(), Ok(1));
    }
    monitor.collect_now();
    let continued: TraceId = remote.trace_id;
    let tree = monitor
        .trace(continued)
        .expect("the remote trace continued here");
    assert_eq!(tree.roots[0].span.parent_span_id, Some(remote.span_id));
    assert!(tree.roots[0].span.remote_parent);
}

#[monitor::traced(name = "shop::batch")]
fn batch() -> trace::SpanContext {
    let here = trace::current().expect("inside the span");
    // Work on another thread joins the trace through an explicit handle.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _inside = trace::enter_context(here);
            price(&[4]).expect("priced");
        });
    });
    here
}

#[test]
fn a_context_handle_carries_the_trace_to_another_thread() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let monitor = monitor::builder()
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");
    let here = batch();
    monitor.collect_now();
    let tree = monitor.trace(here.trace_id).expect("stored");
    let price = find(&tree.roots[0], "shop::price").expect("the thread's span joined");
    assert_eq!(price.span.parent_span_id, Some(here.span_id));
}

/// One monitor per process at a time: the tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn monitor_workspace_price() -> Result<u32, String> {
    price(&[1])
}
