//! Cost of persisting one tick: `Store::write_tick` (one transaction, a
//! cached prepared insert per value) against the naive peer in the same
//! run, one autocommitted insert per value, on the same kind of file
//! (WAL, synchronous = NORMAL).
//!
//! `cargo bench --bench history_store -- --warm-up-time 1 --measurement-time 3`

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use monitor::store::{Store, FILE_NAME};

const T0: i64 = 1_700_000_000_000;

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("function_calls{{function=\"app::handler_{i}\"}}"))
        .collect()
}

fn write_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("persist_one_tick");
    for series in [32, 256] {
        let names = names(series);

        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path()).expect("store");
        let mut t = T0;
        group.bench_with_input(
            BenchmarkId::new("store_write_tick", series),
            &series,
            |b, _| {
                b.iter(|| {
                    t += 1;
                    store
                        .write_tick(t, names.iter().map(|n| (n.as_str(), 42.0)))
                        .expect("write")
                })
            },
        );

        // The peer: the same table, one autocommitted insert per value.
        let dir = tempfile::tempdir().expect("tempdir");
        drop(Store::open(dir.path()).expect("schema"));
        let conn = rusqlite::Connection::open(dir.path().join(FILE_NAME)).expect("sqlite");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .expect("normal");
        for (id, name) in names.iter().enumerate() {
            conn.execute(
                "INSERT INTO series (id, name) VALUES (?1, ?2)",
                rusqlite::params![id as i64, name],
            )
            .expect("series");
        }
        let mut t = T0;
        group.bench_with_input(
            BenchmarkId::new("autocommit_per_value", series),
            &series,
            |b, _| {
                b.iter(|| {
                    t += 1;
                    let mut insert = conn
                        .prepare_cached(
                            "INSERT OR REPLACE INTO points (series_id, ts_ms, value) VALUES (?1, ?2, ?3)",
                        )
                        .expect("prepare");
                    for id in 0..series {
                        insert
                            .execute(rusqlite::params![id as i64, t, 42.0])
                            .expect("insert");
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, write_tick);
criterion_main!(benches);
