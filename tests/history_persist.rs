//! History survives the monitor: a restart shows the earlier history again
//! (from SQLite, through `/api/v1/history`), and a kill -9 loses at most
//! the tick being written.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use monitor::store::Store;
use monitor_workspace::http_get;

const SERIES: &str = r#"function_calls{function="history_persist::work"}"#;
/// `SERIES`, percent-encoded for a query string.
const SERIES_QUERY: &str = "function_calls%7Bfunction%3D%22history_persist%3A%3Awork%22%7D";

#[monitor::profile]
fn work() {}

/// Called with `work`, and watched by the leak detector.
#[monitor::profile]
fn watched() {}

const WATCHED: &str = r#"function_calls{function="history_persist::watched"}"#;
const WATCHED_QUERY: &str = "function_calls%7Bfunction%3D%22history_persist%3A%3Awatched%22%7D";

/// A monitor whose data directory is `dir/data`, ticking only on demand.
fn start(dir: &Path) -> monitor::Monitor {
    let config = dir.join("monitor.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ntick = \"1h\"\n[dashboard]\naddr = \"127.0.0.1:0\"\n[metrics]\ninstall_recorder = false\n[trend]\nleak_series = [{WATCHED:?}]\n",
            dir.join("data")
        ),
    )
    .expect("config");
    monitor::builder()
        .config_file(config)
        .start()
        .expect("monitor starts")
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

#[test]
fn history_is_visible_again_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let began = unix_secs();
    {
        let monitor = start(dir.path());
        // One tick per second, so each value has its own one-second point.
        for _ in 0..3 {
            work();
            watched();
            let snapshot = monitor.collect_now();
            assert_ne!(
                snapshot.history.store.state,
                monitor::store::PersistState::Unavailable,
                "{:?}",
                snapshot.history.store
            );
            std::thread::sleep(Duration::from_millis(1050));
        }
    } // Dropping the monitor writes the queued ticks.
    let ended = unix_secs();
    std::thread::sleep(Duration::from_millis(1100));

    let monitor = start(dir.path());
    monitor.collect_now();
    let addr = monitor.dashboard_addr().expect("dashboard");
    let path = format!("/api/v1/history?series={SERIES_QUERY}&from={began}&to={ended}&step=1s");
    let (status, body) = http_get(addr, &path).expect("GET");
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["source"], "store", "{answer}");
    assert_eq!(distinct_values(&answer), vec![1.0, 2.0, 3.0], "{answer}");

    // A series the trends watch is reloaded into memory once the store is
    // open, so the leak detector carries on where it was.
    let path = format!("/api/v1/history?series={WATCHED_QUERY}&from={began}&to={ended}&step=1s");
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        monitor.collect_now();
        let (status, body) = http_get(addr, &path).expect("GET");
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        if answer["source"] == "memory-1s" {
            break answer;
        }
        assert!(Instant::now() < deadline, "never reloaded: {answer}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(distinct_values(&answer), vec![1.0, 2.0, 3.0], "{answer}");
}

/// The values of a history answer, runs of one value counted once (the
/// flush on drop repeats the last value a second later).
fn distinct_values(answer: &serde_json::Value) -> Vec<f64> {
    let mut values: Vec<f64> = answer["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p[1].as_f64().expect("value"))
        .collect();
    values.dedup();
    values
}

/// Not a test on its own: the child process of the kill -9 test, which
/// re-runs this binary with `HISTORY_KILL_CHILD` set. It records one tick
/// at a time and reports each once SQLite has committed it.
#[test]
fn kill_child_records_until_killed() {
    let Some(dir) = std::env::var_os("HISTORY_KILL_CHILD") else {
        return;
    };
    let dir = Path::new(&dir);
    let monitor = start(dir);
    let mut reader: Option<Store> = None;
    for i in 1..=1000 {
        work();
        monitor.collect_now();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "tick {i} was never committed");
            if reader.is_none() {
                reader = Store::open(&dir.join("data")).ok();
            }
            let newest = reader.as_mut().and_then(|store| {
                let points = store.query(SERIES, 0, i64::MAX / 2, 1, 100_000).ok()?;
                points.last().map(|p| p.value)
            });
            if newest.is_some_and(|v| v >= f64::from(i)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        println!("committed {i}");
    }
}

#[test]
fn a_kill_9_loses_at_most_the_tick_being_written() {
    const KILL_AFTER: u32 = 30;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "kill_child_records_until_killed", "--nocapture"])
        .env("HISTORY_KILL_CHILD", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, committed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("committed ") {
                if lines.send(n.parse::<u32>().unwrap_or(0)).is_err() {
                    break;
                }
            }
        }
    });
    let mut last = 0;
    while last < KILL_AFTER {
        match committed.recv_timeout(Duration::from_secs(60)) {
            Ok(n) => last = n,
            Err(e) => {
                let _ = child.kill();
                panic!("the child stopped reporting after tick {last}: {e}");
            }
        }
    }
    // SIGKILL while the child keeps ticking.
    child.kill().expect("kill -9");
    child.wait().expect("reaped");

    let mut store = Store::open(&dir.path().join("data")).expect("reopens after kill -9");
    assert!(
        store.moved_aside().is_none(),
        "the database must not be damaged by a kill"
    );
    let values: Vec<f64> = store
        .query(SERIES, 0, i64::MAX / 2, 1, 100_000)
        .expect("query")
        .iter()
        .map(|p| p.value)
        .collect();
    for i in 1..=KILL_AFTER {
        assert!(
            values.contains(&f64::from(i)),
            "tick {i} was committed before the kill but is missing: {values:?}"
        );
    }
}
