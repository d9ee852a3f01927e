//! The trace store stays at its configured size however many spans arrive.

use monitor_workspace::rss_bytes;

#[monitor::traced(name = "memory::span", skip_all)]
fn span(i: u64) -> u64 {
    i ^ 0x55
}

const MIB: u64 = 1 << 20;

#[test]
fn ten_million_spans_keep_the_store_at_its_cap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("monitor.toml");
    std::fs::write(&file, "[trace]\nmax_spans = 10000\n").expect("config written");
    let monitor = monitor::builder()
        .config_file(&file)
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");

    let record = |count: u64| {
        for i in 0..count {
            std::hint::black_box(span(i));
            if i % 50_000 == 49_999 {
                monitor.collect_now(); // the monitor thread drains every tick
            }
        }
        monitor.collect_now()
    };
    // Warm-up: the store fills up to its cap and the allocator settles (the
    // hand-over queue holds up to 50,000 spans between ticks here).
    record(1_000_000);
    let before = rss_bytes();
    let snapshot = record(9_000_000);
    let after = rss_bytes();

    assert_eq!(snapshot.traces.spans, 10_000);
    assert_eq!(snapshot.traces.evicted, 9_990_000, "10 M spans in all");
    assert_eq!(snapshot.traces.dropped, 0, "the hand-over queue kept up");
    assert!(
        after <= before + 2 * MIB,
        "RSS grew from {before} to {after} bytes over 9 M spans after warm-up"
    );
}
