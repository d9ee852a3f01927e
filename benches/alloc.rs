//! What the counting allocator adds per allocation: the system allocator
//! and `monitor::alloc::Counting` wrapping it, called the same way in the same
//! run (an allocation and its free per iteration). Target: <= 5 ns added.
//!
//! `cargo bench --bench alloc`

// Calling `GlobalAlloc` directly is unsafe by definition.
#![allow(unsafe_code)]
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use monitor::alloc::Counting;

static COUNTING: Counting = Counting::system();

/// Allocates and frees one block of `layout` through `allocator`.
fn round_trip(allocator: &impl GlobalAlloc, layout: Layout) {
    // SAFETY: `layout` has a non-zero size; the block is freed once, with
    // the layout it was allocated with, by the allocator that returned it.
    unsafe {
        let ptr = allocator.alloc(layout);
        assert!(!ptr.is_null());
        black_box(ptr).write(1);
        allocator.dealloc(ptr, layout);
    }
}

fn allocations(c: &mut Criterion) {
    for size in [64usize, 4096] {
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        let mut group = c.benchmark_group(format!("alloc+free {size} B"));
        group.bench_function("system", |b| b.iter(|| round_trip(&System, layout)));
        group.bench_function("counting", |b| b.iter(|| round_trip(&COUNTING, layout)));
        group.finish();
    }
}

criterion_group!(benches, allocations);
criterion_main!(benches);
