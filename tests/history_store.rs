//! The SQLite store on real files: ticks survive a reopen, retention folds
//! old points into per-minute aggregates, state and the audit trail
//! persist, and bad files are never lost.

use std::time::Duration;

use monitor::store::{schema, Store, StoreError, FILE_NAME};
use serde_json::json;

const T0: i64 = 1_700_000_000_000;

#[test]
fn ticks_survive_a_reopen_and_queries_average_per_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = Store::open(dir.path()).expect("opens");
        for s in 0..10 {
            let t = T0 + s * 1000;
            let written = store
                .write_tick(t, [("a", s as f64), ("b", 100.0), ("nan", f64::NAN)])
                .expect("writes");
            assert_eq!(written, 2, "NaN is skipped");
        }
    }
    let mut store = Store::open(dir.path()).expect("reopens");
    assert!(store.moved_aside().is_none());
    let points = store.query("a", T0, T0 + 9_999, 5_000, 100).expect("query");
    let values: Vec<(i64, f64)> = points.iter().map(|p| (p.t_ms, p.value)).collect();
    assert_eq!(values, vec![(T0, 2.0), (T0 + 5_000, 7.0)]);
    assert_eq!(
        store
            .query("a", T0, T0 + 9_999, 1_000, 3)
            .expect("capped")
            .len(),
        3
    );
    assert!(store
        .query("unknown", T0, T0 + 9_999, 1_000, 10)
        .expect("empty")
        .is_empty());
    assert_eq!(store.series_names().expect("names"), vec!["a", "b"]);
}

#[test]
fn retention_folds_old_points_into_minutes_and_expires_the_oldest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("opens");
    // Three minutes of points, 10 s apart, starting on a minute boundary.
    let start = T0 - T0 % 60_000;
    for i in 0..18 {
        store
            .write_tick(start + i * 10_000, [("mem", i as f64)])
            .expect("writes");
    }
    // Keep one minute raw: minutes 0 and 1 fold, minute 2 stays raw.
    let now = start + 3 * 60_000 + 30_000;
    let report = store
        .run_retention(now, Duration::from_secs(90), Duration::from_secs(3600))
        .expect("retention");
    assert_eq!(report.folded, 12);
    assert_eq!(store.raw_points().expect("count"), 6);
    let first = store
        .minute("mem", start)
        .expect("read")
        .expect("aggregated");
    assert_eq!(
        (first.min, first.max, first.last, first.count),
        (0.0, 5.0, 5.0, 6)
    );
    assert!((first.avg - 2.5).abs() < 1e-9);
    let second = store
        .minute("mem", start + 60_000)
        .expect("read")
        .expect("aggregated");
    assert_eq!((second.min, second.max, second.last), (6.0, 11.0, 11.0));
    // Queries span both: minute averages, then raw points.
    let points = store.query("mem", start, now, 60_000, 100).expect("query");
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    assert_eq!(values, vec![2.5, 8.5, 14.5]);
    // A later pass past the retention drops the oldest minute.
    let later = start + 61 * 60_000;
    let report = store
        .run_retention(later, Duration::from_secs(90), Duration::from_secs(3600))
        .expect("retention");
    assert_eq!(report.expired, 1);
    assert!(store.minute("mem", start).expect("read").is_none());
    assert!(store.minute("mem", start + 60_000).expect("read").is_some());
}

#[test]
fn state_and_audit_persist() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = Store::open(dir.path()).expect("opens");
        store
            .put_state("alerts", "high_cpu", &json!({"state": "firing"}), T0)
            .expect("put");
        store
            .put_state("alerts", "high_cpu", &json!({"state": "resolved"}), T0 + 1)
            .expect("replace");
        let id = store
            .append_audit("alert.fired", &json!({"rule": "high_cpu"}), T0)
            .expect("append");
        store
            .append_audit("alert.resolved", &json!({"rule": "high_cpu"}), T0 + 5)
            .expect("append");
        assert!(id > 0);
    }
    let store = Store::open(dir.path()).expect("reopens");
    assert_eq!(
        store.get_state("alerts", "high_cpu").expect("get"),
        Some(json!({"state": "resolved"}))
    );
    assert_eq!(store.get_state("alerts", "nothing").expect("get"), None);
    let audit = store.audit_after(0, 10).expect("audit");
    let kinds: Vec<&str> = audit.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, vec!["alert.fired", "alert.resolved"]);
    assert_eq!(store.audit_after(audit[0].id, 10).expect("audit").len(), 1);
}

#[test]
fn a_corrupt_file_is_moved_aside_and_a_fresh_database_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = b"this is not a SQLite database, but someone's data".repeat(200);
    std::fs::write(dir.path().join(FILE_NAME), &garbage).expect("write garbage");
    let mut store = Store::open(dir.path()).expect("opens anyway");
    let moved = store.moved_aside().expect("moved aside").to_path_buf();
    let name = moved
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("history.db.corrupt-"), "{name}");
    assert_eq!(
        std::fs::read(&moved).expect("kept"),
        garbage,
        "never deleted"
    );
    store
        .write_tick(T0, [("a", 1.0)])
        .expect("fresh database works");
}

#[test]
fn a_damaged_database_is_moved_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = Store::open(dir.path()).expect("opens");
        for s in 0..2000 {
            store
                .write_tick(T0 + s * 1000, [("a", s as f64), ("b", s as f64)])
                .expect("writes");
        }
    }
    // Overwrite pages in the middle of the file, keeping the header valid.
    let path = dir.path().join(FILE_NAME);
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 16_384, "{} bytes", bytes.len());
    for b in &mut bytes[8192..16_384] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).expect("damage");
    let store = Store::open(dir.path()).expect("opens anyway");
    let moved = store
        .moved_aside()
        .expect("damage detected and moved aside");
    assert_eq!(std::fs::read(moved).expect("kept"), bytes);
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = Store::open(dir.path()).expect("opens");
        store.put_state("x", "y", &json!(1), T0).expect("put");
    }
    // What a newer monitor would leave behind.
    let path = dir.path().join(FILE_NAME);
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute(
        "UPDATE schema_version SET version = ?1",
        [schema::VERSION + 1],
    )
    .expect("bump");
    drop(conn);
    match Store::open(dir.path()) {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (schema::VERSION + 1, schema::VERSION));
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
    assert!(path.exists(), "left in place");
}

#[test]
fn a_data_dir_that_is_a_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let error = Store::open(&file).err().expect("refused");
    assert!(matches!(error, StoreError::DataDir { .. }), "{error}");
    assert!(error.to_string().contains("not-a-dir"), "{error}");
}

#[test]
fn a_full_disk_fails_the_tick_whole_and_keeps_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("opens");
    store.write_tick(T0, [("kept", 1.0)]).expect("writes");
    let size = store.size_bytes().expect("size");
    store.set_size_limit(size).expect("limit");
    let many: Vec<(String, f64)> = (0..5000).map(|i| (format!("series_{i}"), 1.0)).collect();
    let error = store
        .write_tick(T0 + 1000, many.iter().map(|(n, v)| (n.as_str(), *v)))
        .expect_err("the disk is full");
    assert!(matches!(error, StoreError::Full { .. }), "{error}");
    assert!(error.to_string().contains("disk is full"), "{error}");
    // All or nothing: none of the failed tick's series exist.
    assert_eq!(store.series_names().expect("names"), vec!["kept"]);
    assert_eq!(
        store.query("kept", T0, T0, 1000, 10).expect("query").len(),
        1
    );
}
