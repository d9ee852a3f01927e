//! Leak detection on the series it watches by default: a process whose heap
//! keeps growing has its live heap (and its RSS) flagged; a process whose
//! heap rises and falls in a sawtooth has neither flagged. The heap is
//! per process, so each workload runs in a child process (this test binary
//! re-run with `LEAK_HEAP_WORKLOAD` set), which prints what the monitor said.

use std::process::Command;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: monitor::alloc::Counting = monitor::alloc::Counting::system();

const WINDOW_SECS: f64 = 20.0;
const CHUNK: usize = 64 * 1024;
const VAR: &str = "LEAK_HEAP_WORKLOAD";

/// The child's side: runs the workload named by `LEAK_HEAP_WORKLOAD` under a
/// monitor and prints one line per series flagged, then `done`. Does nothing
/// in a normal test run.
#[test]
fn heap_workload_child() {
    let Ok(workload) = std::env::var(VAR) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("monitor.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ntick = \"100ms\"\n[dashboard]\nenabled = false\n\
             [trend]\nleak_window = \"{WINDOW_SECS}s\"\nleak_min_per_minute = 1000000\n",
            dir.path().join("data")
        ),
    )
    .expect("config");
    let monitor = monitor::builder()
        .config_file(config)
        .install_recorder(false)
        .start()
        .expect("monitor starts");
    // Sawtooth: 64 KiB every 100 ms, all freed every second (the leak's
    // growth while it lasts, but the floor stays put).
    let free_every = if workload == "sawtooth" { 10 } else { 0 };
    // Let the process's own start-up growth (runtime, store, rings) settle
    // first: over a short test window it would look like growth.
    std::thread::sleep(Duration::from_secs(3));
    let began = Instant::now();
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut flagged = Vec::new();
    let mut step = 0;
    while began.elapsed() < Duration::from_secs(50) {
        held.push(vec![step as u8; CHUNK]);
        step += 1;
        if free_every > 0 && step % free_every == 0 {
            held = Vec::new();
        }
        for leak in &monitor.snapshot().trends.leaks {
            if !flagged.contains(&leak.series) {
                println!(
                    "flagged {} {:.0} {:.2}",
                    leak.series, leak.per_hour, leak.r2
                );
                flagged.push(leak.series.clone());
            }
        }
        let watched_long_enough = began.elapsed().as_secs_f64() > WINDOW_SECS + 8.0;
        if flagged.len() == 2 || (workload == "sawtooth" && watched_long_enough) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let real_per_hour = (held.len() * CHUNK) as f64 / began.elapsed().as_secs_f64() * 3600.0;
    println!("real {real_per_hour:.0}");
    println!("done");
}

/// What one child printed: flagged series with their rate, and the real rate.
struct Outcome {
    flagged: Vec<(String, f64)>,
    real_per_hour: f64,
    output: String,
}

fn run_child(workload: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "heap_workload_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(VAR, workload)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("child starts")
}

fn outcome(child: std::process::Child) -> Outcome {
    let output = child.wait_with_output().expect("child runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && text.contains("done"), "{text}");
    let mut outcome = Outcome {
        flagged: Vec::new(),
        real_per_hour: 0.0,
        output: text.to_string(),
    };
    for line in text.lines() {
        // The harness prints "test <name> ... " before the child's first line.
        let line = line.find("flagged ").map_or(line, |at| &line[at..]);
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["flagged", series, per_hour, _r2] => outcome
                .flagged
                .push((series.to_string(), per_hour.parse().expect("rate"))),
            ["real", per_hour] => outcome.real_per_hour = per_hour.parse().expect("rate"),
            _ => {}
        }
    }
    outcome
}

#[test]
fn a_growing_heap_is_flagged_and_a_sawtooth_heap_is_not() {
    // Both children at once: the test takes one window, not two.
    let leaking = run_child("leaking");
    let sawtooth = run_child("sawtooth");
    let leaking = outcome(leaking);
    let sawtooth = outcome(sawtooth);

    assert!(sawtooth.flagged.is_empty(), "{}", sawtooth.output);
    let series: Vec<&str> = leaking.flagged.iter().map(|f| f.0.as_str()).collect();
    assert!(series.contains(&"heap_live_bytes"), "{}", leaking.output);
    assert!(series.contains(&"process_rss_bytes"), "{}", leaking.output);
    // The live heap's rate is the rate the workload really kept memory at.
    let heap = leaking.flagged.iter().find(|f| f.0 == "heap_live_bytes");
    let ratio = heap.map_or(0.0, |f| f.1) / leaking.real_per_hour;
    assert!(
        (0.6..1.4).contains(&ratio),
        "{ratio}: {:?}",
        leaking.flagged
    );
}
