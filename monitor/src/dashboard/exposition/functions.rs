//! The per-function families: the autometrics names
//! (`function_calls_total`, `function_calls_duration_seconds`,
//! `function_calls_concurrent`) and the monitor's extras.

use super::text::{push_label, Kind, Value, Writer};
use crate::snapshot::{FunctionStats, DURATION_BOUNDS_SECONDS};

/// Nanoseconds as seconds.
fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The label list identifying a function.
fn function_labels(f: &FunctionStats) -> String {
    let mut labels = String::with_capacity(f.name.len() + f.module.len() + 24);
    push_label(&mut labels, "function", f.name);
    push_label(&mut labels, "module", f.module);
    labels
}

/// One family with one sample per function (those `keep` selects).
fn per_function(
    w: &mut Writer<'_>,
    functions: &[FunctionStats],
    labels: &[String],
    (name, kind, help): (&str, Kind, &str),
    keep: impl Fn(&FunctionStats) -> bool,
    value: impl Fn(&FunctionStats) -> Value,
) {
    w.family(name, kind, help);
    for (f, labels) in functions.iter().zip(labels) {
        if keep(f) {
            w.sample(name, labels, "", value(f));
        }
    }
}

/// The per-function families; `counted_heap` when the counting allocator
/// runs, so per-call allocations mean something.
pub(super) fn functions(w: &mut Writer<'_>, functions: &[FunctionStats], counted_heap: bool) {
    let labels: Vec<String> = functions.iter().map(function_labels).collect();

    w.family(
        "function_calls_total",
        Kind::Counter,
        "Calls of profiled functions that finished, by result (ok, or error: returned Err or panicked).",
    );
    for (f, labels) in functions.iter().zip(&labels) {
        let errors = f.errors.min(f.calls);
        w.sample(
            "function_calls_total",
            labels,
            "result=\"ok\"",
            f.calls - errors,
        );
        w.sample("function_calls_total", labels, "result=\"error\"", errors);
    }

    let name = "function_calls_duration_seconds";
    w.family(
        name,
        Kind::Histogram,
        "Wall time of profiled function calls, in seconds.",
    );
    for (f, labels) in functions.iter().zip(&labels) {
        let buckets = DURATION_BOUNDS_SECONDS.into_iter().zip(f.duration_buckets);
        w.histogram_series(name, labels, buckets, f.calls, seconds(f.total_ns));
    }

    let all = |_: &FunctionStats| true;
    per_function(
        w,
        functions,
        &labels,
        (
            "function_calls_concurrent",
            Kind::Gauge,
            "Calls of profiled functions running now.",
        ),
        all,
        |f| f.in_flight.into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_self_seconds_total",
            Kind::Counter,
            "Self time of profiled functions (wall or busy time minus nested profiled calls), in seconds.",
        ),
        all,
        |f| seconds(f.self_ns).into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_busy_seconds_total",
            Kind::Counter,
            "Time async profiled functions spent inside poll, excluding time suspended, in seconds.",
        ),
        |f| f.is_async,
        |f| seconds(f.busy_ns).into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_max_seconds",
            Kind::Gauge,
            "Slowest call of profiled functions since the monitor started, in seconds.",
        ),
        all,
        |f| seconds(f.max_ns).into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_budget_seconds",
            Kind::Gauge,
            "Per-call time budget of profiled functions that set one, in seconds.",
        ),
        |f| f.budget_ns.is_some(),
        |f| seconds(f.budget_ns.unwrap_or(0)).into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_over_budget_total",
            Kind::Counter,
            "Calls of profiled functions slower than their budget (0 without a budget).",
        ),
        all,
        |f| f.over_budget.into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_panics_total",
            Kind::Counter,
            "Calls of profiled functions that panicked (also counted as errors).",
        ),
        all,
        |f| f.panics.into(),
    );
    per_function(
        w,
        functions,
        &labels,
        (
            "monitor_function_cancelled_total",
            Kind::Counter,
            "Futures of async profiled functions dropped before they finished.",
        ),
        all,
        |f| f.cancelled.into(),
    );
    if counted_heap {
        allocations(w, functions, &labels);
    }
}

/// Allocations made by each function's own body.
fn allocations(w: &mut Writer<'_>, functions: &[FunctionStats], labels: &[String]) {
    let all = |_: &FunctionStats| true;
    per_function(
        w,
        functions,
        labels,
        (
            "monitor_function_self_allocations_total",
            Kind::Counter,
            "Heap allocations made by profiled functions' own bodies (nested profiled calls excluded).",
        ),
        all,
        |f| f.self_allocations.into(),
    );
    per_function(
        w,
        functions,
        labels,
        (
            "monitor_function_self_allocated_bytes_total",
            Kind::Counter,
            "Heap bytes allocated by profiled functions' own bodies (nested profiled calls excluded).",
        ),
        all,
        |f| f.self_alloc_bytes.into(),
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_well_formed, function, line, rendered};
    use crate::snapshot::Snapshot;

    #[test]
    fn functions_follow_the_autometrics_names() {
        let snapshot = Snapshot {
            functions: vec![function(
                "demo::work",
                "demo",
                &[1_000_000, 20_000_000, 300_000_000, 20_000_000_000],
                1,
            )],
            ..Snapshot::default()
        };
        let text = rendered(&snapshot);
        assert_well_formed(&text);
        let id = r#"function="demo::work",module="demo""#;
        assert!(
            text.contains(&format!("function_calls_total{{{id},result=\"ok\"}} 3\n")),
            "{text}"
        );
        assert!(text.contains(&format!(
            "function_calls_total{{{id},result=\"error\"}} 1\n"
        )));
        let bucket = |le: &str| {
            line(
                &text,
                &format!("function_calls_duration_seconds_bucket{{{id},le=\"{le}\"}}"),
            )
        };
        assert!(bucket("0.005").ends_with(" 1"), "{text}");
        assert!(bucket("0.025").ends_with(" 2"));
        assert!(bucket("0.5").ends_with(" 3"));
        assert!(bucket("10").ends_with(" 3"));
        assert!(bucket("+Inf").ends_with(" 4"));
        assert!(line(&text, "function_calls_duration_seconds_count{").ends_with(" 4"));
        assert!(line(&text, "function_calls_duration_seconds_sum{").ends_with(" 20.321"));
        assert!(text.contains(&format!("function_calls_concurrent{{{id}}} 1\n")));
        assert!(text.contains(&format!("monitor_function_max_seconds{{{id}}} 20\n")));
        // Only async functions have busy time; only budgeted ones a budget.
        assert!(!text.contains("monitor_function_busy_seconds_total{"));
        assert!(!text.contains("monitor_function_budget_seconds{"));
        assert!(text.contains("# TYPE function_calls_duration_seconds histogram\n"));
    }

    #[test]
    fn buckets_stay_cumulative_when_the_histogram_runs_ahead_of_calls() {
        let mut f = function("f", "m", &[1_000, 2_000, 3_000], 0);
        f.calls = 2;
        let text = rendered(&Snapshot {
            functions: vec![f],
            ..Snapshot::default()
        });
        assert!(line(
            &text,
            "function_calls_duration_seconds_bucket{function=\"f\",module=\"m\",le=\"0.005\"}"
        )
        .ends_with(" 2"));
        assert!(line(
            &text,
            "function_calls_duration_seconds_bucket{function=\"f\",module=\"m\",le=\"+Inf\"}"
        )
        .ends_with(" 2"));
    }
}
