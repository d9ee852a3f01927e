//! The counting allocator: live heap, process totals across threads, and
//! allocations per profiled call (self, excluding nested profiled calls).

use std::hint::black_box;

use monitor_workspace::{function_stats, shared_monitor};

#[global_allocator]
static ALLOC: monitor::alloc::Counting = monitor::alloc::Counting::system();

fn alloc_stats() -> monitor::snapshot::AllocStats {
    shared_monitor()
        .collect_now()
        .alloc
        .expect("the counting allocator is installed, so the snapshot has heap figures")
}

#[monitor::profile]
fn child_allocates() {
    black_box(Vec::<u8>::with_capacity(500));
}

#[monitor::profile]
fn parent_allocates() {
    black_box(Vec::<u8>::with_capacity(1_000));
    child_allocates();
    black_box(Vec::<u8>::with_capacity(24));
}

#[monitor::profile]
async fn async_allocates() {
    black_box(Vec::<u8>::with_capacity(300));
    tokio::task::yield_now().await;
    black_box(Vec::<u8>::with_capacity(700));
}

#[test]
fn self_allocations_per_call_exclude_nested_calls() {
    shared_monitor();
    parent_allocates(); // first calls register their shards (allocates)
    let before = (
        function_stats("alloc_counting::parent_allocates").unwrap(),
        function_stats("alloc_counting::child_allocates").unwrap(),
    );
    for _ in 0..1_000 {
        parent_allocates();
    }
    let parent = function_stats("alloc_counting::parent_allocates").unwrap();
    let child = function_stats("alloc_counting::child_allocates").unwrap();
    assert_eq!(parent.self_allocations - before.0.self_allocations, 2_000);
    assert_eq!(
        parent.self_alloc_bytes - before.0.self_alloc_bytes,
        1_024_000
    );
    assert_eq!(child.self_allocations - before.1.self_allocations, 1_000);
    assert_eq!(child.self_alloc_bytes - before.1.self_alloc_bytes, 500_000);
}

#[test]
fn async_calls_count_allocations_across_polls() {
    shared_monitor();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // One `block_on`: the runtime's per-call context allocates once, in the
    // first call (a real allocation made while that poll ran).
    let (before, after) = runtime.block_on(async {
        async_allocates().await;
        let before = function_stats("alloc_counting::async_allocates").unwrap();
        for _ in 0..200 {
            async_allocates().await;
        }
        let after = function_stats("alloc_counting::async_allocates").unwrap();
        (before, after)
    });
    assert_eq!(after.self_alloc_bytes - before.self_alloc_bytes, 200_000);
    assert_eq!(after.self_allocations - before.self_allocations, 400);
}

#[test]
fn live_heap_follows_what_is_kept_and_freed() {
    const SIZE: usize = 64 << 20;
    let before = alloc_stats();
    let kept = black_box(vec![1u8; SIZE]);
    let holding = alloc_stats();
    drop(kept);
    let after = alloc_stats();
    // Other tests run in parallel threads: allow them a few MiB of churn.
    let slack = 8 << 20;
    assert!(holding.live_bytes + slack >= before.live_bytes + SIZE as u64);
    assert!(holding.allocated_bytes - before.allocated_bytes >= SIZE as u64);
    assert!(after.live_bytes + (SIZE as u64) <= holding.live_bytes + slack);
    assert!(after.freed_bytes - holding.freed_bytes >= SIZE as u64);
}

#[test]
fn every_thread_is_counted_including_exited_ones() {
    const THREADS: usize = 16;
    const EACH: u64 = 10_000;
    let before = alloc_stats();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..EACH {
                    black_box(Box::new(0u64));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let after = alloc_stats();
    let allocations = after.allocations - before.allocations;
    assert!(allocations >= THREADS as u64 * EACH, "{allocations}");
    assert!(after.allocated_bytes - before.allocated_bytes >= THREADS as u64 * EACH * 8);
    // Exited threads gave their slots back.
    assert!(after.threads < before.threads + THREADS, "{after:?}");
    assert!(after.allocations_per_sec.is_some());
}
