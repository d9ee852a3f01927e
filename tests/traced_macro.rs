//! `#[monitor::traced]` at run time: nested calls are children of the
//! current span (same trace, new span), the parent becomes current again
//! when a call returns or unwinds, `async fn` spans follow their future
//! across `.await` and threads, and the `#[profile]` figures are recorded as
//! well.

use std::sync::Mutex;

use monitor::trace::{current, enter_context, SpanContext, WithContext};
use monitor_workspace::{function_stats, shared_monitor};

/// The current span, which every traced function below must have.
fn here() -> SpanContext {
    current().expect("a traced call has a current span")
}

#[monitor::traced(name = "traced::inner", fields(doubled = n * 2))]
fn inner(n: u32) -> SpanContext {
    here()
}

/// Returns its own span and the one `inner` saw.
#[monitor::traced(name = "traced::outer", skip(label), fields(label = %label), err)]
fn outer(label: &str, n: u32) -> Result<(SpanContext, SpanContext), String> {
    let mine = here();
    let child = inner(n);
    assert_eq!(current(), Some(mine), "the parent is current again");
    if n == 0 {
        return Err(format!("{label}: zero"));
    }
    Ok((mine, child))
}

#[monitor::traced(name = "traced::fragile")]
fn fragile(fail: bool) -> u32 {
    if fail {
        panic!("fragile failed");
    }
    1
}

#[test]
fn nested_sync_calls_are_children() {
    shared_monitor();
    assert_eq!(current(), None);

    let (parent, child) = outer("a", 3).expect("ok");
    assert_eq!(child.trace_id, parent.trace_id);
    assert_ne!(child.span_id, parent.span_id);
    assert!(parent.sampled && parent.local && child.local);
    assert_eq!(current(), None, "nothing is current after the call");

    // Every call at the top level starts its own trace.
    let (again, _) = outer("b", 4).expect("ok");
    assert_ne!(again.trace_id, parent.trace_id);

    // `Err` returns end the span too.
    assert_eq!(outer("c", 0), Err("c: zero".to_owned()));
    assert_eq!(current(), None);
}

#[test]
fn a_call_continues_the_entered_context() {
    shared_monitor();
    let (_, remote) = outer("r", 1).expect("ok");
    let remote = SpanContext {
        local: false,
        ..remote
    };
    {
        let _entered = enter_context(remote);
        let (parent, child) = outer("r", 2).expect("ok");
        assert_eq!(parent.trace_id, remote.trace_id);
        assert_eq!(child.trace_id, remote.trace_id);
        assert_ne!(parent.span_id, remote.span_id);
        assert_eq!(current(), Some(remote));
    }
    assert_eq!(current(), None);
}

#[test]
fn a_panic_restores_the_parent_and_keeps_unwinding() {
    shared_monitor();
    let seen = Mutex::new(None);
    let caught = std::panic::catch_unwind(|| {
        inner_then_panic(&seen);
    });
    let message = caught.expect_err("the panic unwinds through the span");
    assert_eq!(message.downcast_ref::<&str>(), Some(&"fragile failed"));
    let (before, after) = seen.lock().unwrap().expect("recorded");
    assert_eq!(
        before, after,
        "the caller's span was current again after the panic"
    );
    assert_eq!(current(), None);
}

#[monitor::traced(name = "traced::catcher", skip_all)]
fn inner_then_panic(seen: &Mutex<Option<(SpanContext, SpanContext)>>) {
    let before = here();
    let caught = std::panic::catch_unwind(|| fragile(true));
    let after = here();
    *seen.lock().unwrap() = Some((before, after));
    if let Err(panic) = caught {
        std::panic::resume_unwind(panic);
    }
}

#[monitor::traced(name = "traced::leaf_async")]
async fn leaf(n: u32) -> SpanContext {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let _ = n;
    here()
}

/// Its span before and after awaiting, the awaited child's, and a spawned
/// task's that was handed the context.
#[monitor::traced(name = "traced::root_async", err)]
async fn root(n: u32) -> Result<[SpanContext; 5], std::io::Error> {
    let before = here();
    let child = leaf(n).await;
    tokio::task::yield_now().await;
    let after = here();
    let spawned = tokio::spawn(WithContext::new(current(), leaf(n + 1)))
        .await
        .map_err(std::io::Error::other)?;
    // A sync traced call inside an async one is its child too.
    let sync_child = inner(n);
    Ok([before, child, after, spawned, sync_child])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_async_calls_follow_their_future() {
    shared_monitor();
    let tasks: Vec<_> = (0..8).map(|n| tokio::spawn(root(n))).collect();
    let mut traces = Vec::new();
    for task in tasks {
        let [before, child, after, spawned, sync_child] = task.await.unwrap().unwrap();
        assert_eq!(before, after, "the span is current across `.await`");
        for other in [child, spawned, sync_child] {
            assert_eq!(other.trace_id, before.trace_id);
            assert_ne!(other.span_id, before.span_id);
        }
        assert_ne!(child.span_id, spawned.span_id);
        traces.push(before.trace_id);
    }
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 8, "each task is its own trace");
    assert_eq!(current(), None, "no span leaks into the test's task");
}

#[monitor::traced(name = "traced::stuck")]
async fn stuck() {
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_future_leaves_no_current_span() {
    let monitor = shared_monitor();
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(5), stuck()).await;
    assert!(timed_out.is_err(), "stuck() never finishes");
    assert_eq!(
        current(),
        None,
        "the cancelled span was only current in poll"
    );
    monitor.collect_now();
    let stuck = function_stats("traced::stuck").expect("stuck was recorded");
    assert_eq!(stuck.cancelled, 1, "{stuck:?}");
}

#[test]
fn profile_figures_are_recorded_too() {
    let monitor = shared_monitor();
    for n in 0..10 {
        let _ = outer("p", n % 5);
    }
    assert!(std::panic::catch_unwind(|| fragile(true)).is_err());
    assert_eq!(fragile(false), 1);
    monitor.collect_now();
    let outer = function_stats("traced::outer").expect("outer was recorded");
    assert!(outer.calls >= 10, "{outer:?}");
    assert!(outer.errors >= 2, "{outer:?}");
    let inner = function_stats("traced::inner").expect("inner was recorded");
    assert!(inner.calls >= 10, "{inner:?}");
    let fragile = function_stats("traced::fragile").expect("fragile was recorded");
    assert!(fragile.panics >= 1 && fragile.calls >= 2, "{fragile:?}");
}
