//! Head sampling with tail retention: with a ratio of 0, only traces that
//! failed or were slow are kept, and every dropped span is counted.

use std::time::Duration;

use monitor::trace::TraceQuery;

#[monitor::traced(name = "sampling::step")]
fn step(fail: bool) -> Result<(), String> {
    if fail {
        Err("step failed".into())
    } else {
        Ok(())
    }
}

#[monitor::traced(name = "sampling::request")]
fn request(fail: bool, slow: bool) -> Result<(), String> {
    if slow {
        std::thread::sleep(Duration::from_millis(30));
    }
    step(false)?;
    step(fail)
}

#[test]
fn unsampled_traces_are_kept_only_when_failed_or_slow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("monitor.toml");
    std::fs::write(&file, "[trace]\nslow_threshold = \"20ms\"\n").expect("config written");
    let monitor = monitor::builder()
        .config_file(&file)
        .trace_sample_ratio(0.0)
        .dashboard(false)
        .install_recorder(false)
        .start()
        .expect("starts");

    for _ in 0..10 {
        request(false, false).expect("fine");
    }
    request(true, false).expect_err("fails");
    request(false, true).expect("slow");
    let snapshot = monitor.collect_now();

    let kept = monitor.find_traces(&TraceQuery {
        limit: 100,
        ..TraceQuery::default()
    });
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept.iter().filter(|t| t.error).count(), 1);
    assert!(kept.iter().any(|t| t.duration_ns >= 20_000_000));
    assert!(kept.iter().all(|t| t.spans == 3), "whole traces are kept");
    assert_eq!(
        snapshot.traces.sampled_out, 30,
        "10 fast, fine traces of 3 spans"
    );
    assert_eq!(snapshot.traces.kept_by_tail, 2);
    // Profiling is not sampled: every call is counted.
    let request_stats = snapshot
        .functions
        .iter()
        .find(|f| f.name == "sampling::request")
        .expect("profiled");
    assert_eq!(request_stats.calls, 12);
}
