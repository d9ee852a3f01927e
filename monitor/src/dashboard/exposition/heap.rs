//! The process heap as the counting allocator sees it.

use super::text::{Kind, Writer};
use crate::snapshot::AllocStats;

/// The heap families.
pub(super) fn heap(w: &mut Writer<'_>, alloc: &AllocStats) {
    let families = [
        (
            "process_heap_live_bytes",
            Kind::Gauge,
            "Heap bytes allocated and not yet freed.",
            alloc.live_bytes,
        ),
        (
            "process_heap_live_allocations",
            Kind::Gauge,
            "Heap allocations not yet freed.",
            alloc.live_allocations,
        ),
        (
            "process_heap_allocations_total",
            Kind::Counter,
            "Heap allocations since the process started (a reallocation counts as one).",
            alloc.allocations,
        ),
        (
            "process_heap_allocated_bytes_total",
            Kind::Counter,
            "Heap bytes allocated since the process started.",
            alloc.allocated_bytes,
        ),
        (
            "process_heap_freed_bytes_total",
            Kind::Counter,
            "Heap bytes freed since the process started.",
            alloc.freed_bytes,
        ),
    ];
    for (name, kind, help, value) in families {
        w.family(name, kind, help);
        w.sample(name, "", "", value);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_well_formed, function, rendered};
    use crate::snapshot::{AllocStats, Snapshot};

    #[test]
    fn heap_families_appear_only_with_the_counting_allocator() {
        let mut snapshot = Snapshot {
            functions: vec![function("f", "m", &[1_000], 0)],
            ..Snapshot::default()
        };
        let without = rendered(&snapshot);
        assert!(!without.contains("process_heap_"));
        assert!(!without.contains("monitor_function_self_allocat"));
        snapshot.alloc = Some(AllocStats {
            allocations: 10,
            frees: 4,
            allocated_bytes: 1_000,
            freed_bytes: 400,
            live_bytes: 600,
            live_allocations: 6,
            ..AllocStats::default()
        });
        snapshot.functions[0].self_alloc_bytes = 96;
        let with = rendered(&snapshot);
        assert_well_formed(&with);
        assert!(with.contains("\nprocess_heap_live_bytes 600\n"), "{with}");
        assert!(with.contains("\nprocess_heap_allocations_total 10\n"));
        assert!(with.contains(
            "monitor_function_self_allocated_bytes_total{function=\"f\",module=\"m\"} 96\n"
        ));
    }
}
