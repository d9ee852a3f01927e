//! A data directory that cannot be used, a corrupt database, and a full
//! disk: persistence is marked unavailable with the reason, the monitor and
//! history in memory keep working, and no file is lost.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use monitor::store::PersistState;
use monitor::Snapshot;
use monitor_workspace::http_get;

/// One monitor per process at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

#[monitor::profile]
fn work() {}

fn start(dir: &Path, data_dir: &Path, extra: &str) -> monitor::Monitor {
    let config = dir.join("monitor.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data_dir:?}\ntick = \"20ms\"\n[dashboard]\naddr = \"127.0.0.1:0\"\n[metrics]\ninstall_recorder = false\n{extra}"
        ),
    )
    .expect("config");
    monitor::builder()
        .config_file(config)
        .start()
        .expect("the monitor starts whatever the data directory")
}

/// Waits (at most 20 s) for a snapshot that satisfies `done`.
fn wait_for(
    monitor: &monitor::Monitor,
    done: impl Fn(&Snapshot) -> bool,
) -> std::sync::Arc<Snapshot> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        work();
        let snapshot = monitor.snapshot();
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            Instant::now() < deadline,
            "condition never met; last status {:?}",
            snapshot.history.store
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// History still answers; with no store open, from memory, saying why
/// the store could not.
fn history_still_answers(monitor: &monitor::Monitor, store_open: bool) {
    let addr = monitor.dashboard_addr().expect("dashboard");
    let (status, body) =
        http_get(addr, "/api/v1/history?series=monitor_collect_us&from=-2h").expect("GET");
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        !answer["points"].as_array().expect("points").is_empty(),
        "{body}"
    );
    if !store_open {
        assert_eq!(answer["source"], "memory-1m", "{body}");
        let note = answer["note"].as_str().expect("a note");
        assert!(note.contains("the history store is unavailable"), "{body}");
    }
}

fn unavailable(snapshot: &Snapshot) -> bool {
    snapshot.history.store.state == PersistState::Unavailable
}

#[test]
fn a_data_dir_that_is_a_file_makes_persistence_unavailable() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("data");
    std::fs::write(&file, b"a file, not a directory").expect("write");
    let monitor = start(dir.path(), &file, "");
    let snapshot = wait_for(&monitor, unavailable);
    let reason = snapshot.history.store.reason.clone().expect("a reason");
    assert!(
        reason.contains("data directory") && reason.contains("data"),
        "{reason}"
    );
    history_still_answers(&monitor, false);
    assert_eq!(
        std::fs::read(&file).expect("kept"),
        b"a file, not a directory"
    );
}

#[test]
fn a_data_dir_that_cannot_be_written_makes_persistence_unavailable() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("readonly");
    std::fs::create_dir(&data).expect("mkdir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores permissions; /proc refuses new files even to root.
    let data = if std::fs::write(data.join("probe"), b"x").is_ok() {
        Path::new("/proc/self/monitor-data").to_path_buf()
    } else {
        data
    };
    let monitor = start(dir.path(), &data, "");
    let snapshot = wait_for(&monitor, unavailable);
    let reason = snapshot.history.store.reason.clone().expect("a reason");
    assert!(!reason.is_empty());
    history_still_answers(&monitor, false);
    drop(monitor);
    let _ = std::fs::set_permissions(
        dir.path().join("readonly"),
        std::fs::Permissions::from_mode(0o755),
    );
}

#[test]
fn a_corrupt_database_is_moved_aside_and_history_goes_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    let garbage = b"garbage bytes where a database should be\n".repeat(100);
    std::fs::write(data.join("history.db"), &garbage).expect("write");
    let monitor = start(dir.path(), &data, "");
    let snapshot = wait_for(&monitor, |s| s.history.store.persisted_ticks > 0);
    let moved = snapshot
        .history
        .store
        .moved_aside
        .clone()
        .expect("moved aside");
    assert!(moved.contains("history.db.corrupt-"), "{moved}");
    assert_eq!(std::fs::read(&moved).expect("kept"), garbage);
    assert_eq!(snapshot.history.store.state, PersistState::Ok);
}

#[test]
fn a_full_disk_mid_run_marks_persistence_unavailable_and_the_monitor_runs_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    // The database may not grow past its initial size: the disk is "full"
    // as soon as a tick needs a new page.
    let monitor = start(
        dir.path(),
        &dir.path().join("data"),
        "[history]\nmax_db_bytes = 1\n",
    );
    let snapshot = wait_for(&monitor, unavailable);
    let reason = snapshot.history.store.reason.clone().expect("a reason");
    assert!(reason.contains("disk is full"), "{reason}");
    let tick = snapshot.tick;
    let later = wait_for(&monitor, |s| {
        s.tick > tick + 5 && s.history.store.dropped_ticks > 0
    });
    assert!(later.history.series > 0);
    history_still_answers(&monitor, true);
}

#[test]
fn with_persistence_off_nothing_is_written_and_memory_answers() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let monitor = start(dir.path(), &data, "[history]\npersist = false\n");
    let snapshot = wait_for(&monitor, |s| s.tick > 3 && s.history.series > 0);
    assert_eq!(snapshot.history.store.state, PersistState::Off);
    let addr = monitor.dashboard_addr().expect("dashboard");
    let (status, body) =
        http_get(addr, "/api/v1/history?series=monitor_collect_us&from=-2h").expect("GET");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("persistence is off"), "{body}");
    drop(monitor);
    assert!(!data.exists(), "no data directory is created");
}
