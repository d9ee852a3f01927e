//! `/metrics` with real figures in it: profiled calls and facade metrics,
//! awkward names and label values included. `promtool check metrics` (the
//! Prometheus project's own checker and linter) must accept it, and the
//! expected series must carry the recorded values.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_histogram, gauge, histogram, Unit};
use monitor::__private::{Call, Callsite};
use monitor_workspace::{http_get, promtool_check};

static WORK: Callsite = Callsite::new("demo::work", "demo", 0, false);
/// A budget of 1 µs, which every call below exceeds.
static BUDGETED: Callsite = Callsite::new("demo::budgeted", "demo", 1_000, false);
/// A name that needs escaping in a label value.
static ODD: Callsite = Callsite::new("demo::\"odd\"\\name\n", "demo", 0, false);

fn scrape(addr: SocketAddr) -> String {
    let (status, body) = http_get(addr, "/metrics").expect("/metrics answers");
    assert_eq!(status, 200, "{body}");
    body
}

/// The value of the sample written exactly as `series` (name and labels).
fn value(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{exposition}"))
}

fn sleep_call(callsite: &'static Callsite, sleep: Duration, is_err: bool) {
    let call = Call::enter(callsite);
    std::thread::sleep(sleep);
    call.exit(is_err);
}

#[test]
fn the_exposition_passes_promtool_and_carries_what_was_recorded() {
    let monitor = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .max_series_per_metric(3)
        .start()
        .expect("monitor starts (is another `metrics` recorder installed?)");
    assert!(
        monitor.is_running(),
        "MONITOR_DISABLE must not be set for this test"
    );
    let addr = monitor.dashboard_addr().expect("the dashboard is on");

    // Before anything is recorded: families with no series still check.
    monitor.collect_now();
    promtool_check(&scrape(addr));

    // Profiled calls: 5 ok and 2 errors, one of them slow.
    for i in 0..7 {
        let call = Call::enter(&WORK);
        call.exit(i >= 5);
    }
    sleep_call(&WORK, Duration::from_millis(30), false);
    for _ in 0..3 {
        sleep_call(&BUDGETED, Duration::from_millis(1), false);
    }
    let call = Call::enter(&ODD);
    call.exit(false);
    // Dropped without exit: recorded as a panic (and an error).
    drop(Call::enter(&WORK));

    // Facade metrics, with names and labels that need care.
    describe_counter!(
        "demo_orders",
        Unit::Count,
        "Orders placed.\nBy region, with a \\ in it."
    );
    counter!("demo_orders", "region" => "eu").increment(3);
    counter!("demo_orders", "region" => "us \"west\"\n\\").increment(1);
    gauge!("demo.queue-depth", "shard-id" => "7").set(4.5);
    gauge!("demo_temperature_celsius").set(f64::NEG_INFINITY);
    describe_histogram!(
        "demo_latency_seconds",
        Unit::Seconds,
        "Latency of demo requests."
    );
    for v in [0.002, 0.2, 0.2, 3.0] {
        histogram!("demo_latency_seconds", "route" => "/a").record(v);
    }
    // Five label sets under a cap of three: two are folded.
    for user in ["a", "b", "c", "d", "e"] {
        counter!("demo_logins", "user" => user).increment(1);
    }
    // A name that clashes with a built-in family once sanitised.
    gauge!("function_calls_concurrent").set(1.0);

    monitor.collect_now();
    let text = scrape(addr);
    promtool_check(&text);

    // Autometrics names and values.
    let work = r#"function="demo::work",module="demo""#;
    assert_eq!(
        value(
            &text,
            &format!("function_calls_total{{{work},result=\"ok\"}}")
        ),
        6.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_total{{{work},result=\"error\"}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_duration_seconds_count{{{work}}}")
        ),
        9.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_duration_seconds_bucket{{{work},le=\"+Inf\"}}")
        ),
        9.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_duration_seconds_bucket{{{work},le=\"0.005\"}}")
        ),
        8.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_duration_seconds_bucket{{{work},le=\"0.025\"}}")
        ),
        8.0
    );
    assert_eq!(
        value(
            &text,
            &format!("function_calls_duration_seconds_bucket{{{work},le=\"10\"}}")
        ),
        9.0
    );
    let sum = value(
        &text,
        &format!("function_calls_duration_seconds_sum{{{work}}}"),
    );
    assert!((0.03..1.0).contains(&sum), "sum {sum}");
    assert_eq!(
        value(&text, &format!("function_calls_concurrent{{{work}}}")),
        0.0
    );
    assert_eq!(
        value(&text, &format!("monitor_function_panics_total{{{work}}}")),
        1.0
    );
    assert!(
        value(
            &text,
            &format!("monitor_function_self_seconds_total{{{work}}}")
        ) >= 0.03
    );
    let budgeted = r#"function="demo::budgeted",module="demo""#;
    assert_eq!(
        value(
            &text,
            &format!("monitor_function_over_budget_total{{{budgeted}}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("monitor_function_budget_seconds{{{budgeted}}}")
        ),
        0.000001
    );
    let odd = r#"function="demo::\"odd\"\\name\n",module="demo""#;
    assert_eq!(
        value(
            &text,
            &format!("function_calls_total{{{odd},result=\"ok\"}}")
        ),
        1.0
    );
    for family in [
        "# TYPE function_calls_total counter",
        "# TYPE function_calls_duration_seconds histogram",
        "# TYPE function_calls_concurrent gauge",
        "# TYPE monitor_collect_seconds gauge",
        "# TYPE monitor_callsites gauge",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    assert!(value(&text, "monitor_callsites") >= 3.0);

    // Facade families: counters suffixed, names and labels sanitised,
    // label values and help escaped, the unit in the help.
    assert!(
        text.contains("# TYPE demo_orders_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("# HELP demo_orders_total Orders placed.\\nBy region, with a \\\\ in it. (unit: count)\n"),
        "{text}"
    );
    assert_eq!(value(&text, r#"demo_orders_total{region="eu"}"#), 3.0);
    assert_eq!(
        value(&text, r#"demo_orders_total{region="us \"west\"\n\\"}"#),
        1.0
    );
    assert_eq!(value(&text, r#"demo_queue_depth{shard_id="7"}"#), 4.5);
    assert!(text.contains("demo_temperature_celsius -Inf\n"), "{text}");
    assert!(
        text.contains("# TYPE demo_latency_seconds histogram\n"),
        "{text}"
    );
    assert_eq!(
        value(&text, r#"demo_latency_seconds_count{route="/a"}"#),
        4.0
    );
    assert_eq!(
        value(
            &text,
            r#"demo_latency_seconds_bucket{route="/a",le="+Inf"}"#
        ),
        4.0
    );
    let sum = value(&text, r#"demo_latency_seconds_sum{route="/a"}"#);
    assert!((sum - 3.402).abs() < 1e-9, "sum {sum}");
    assert_eq!(
        value(
            &text,
            r#"monitor_metric_overflowed_label_sets{metric="demo_logins_total"}"#
        ),
        2.0
    );
    assert_eq!(
        value(&text, r#"demo_logins_total{monitor_overflow="true"}"#),
        2.0
    );
    // The clashing facade gauge is left out, and counted.
    assert_eq!(value(&text, "monitor_metric_families_dropped"), 1.0);
    assert!(!text.contains("\nfunction_calls_concurrent 1\n"), "{text}");
}
