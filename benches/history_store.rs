//! Cost of persisting one tick: `Store::write_tick` (one transaction, a
//! cached prepared insert per value) against the naive peer in the same
//! run, one autocommitted insert per value, on the same kind of file
//! (WAL, synchronous = NORMAL).
//!
//! Then what history costs the monitor thread per tick: a tick with 64
//! profiled functions (256 series) with history on, against the same tick
//! with history off, in the same run.
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

/// Reading one series back over the raw window (an hour of 1 s ticks of
/// 256 series): what a `/api/v1/history` request for an older range waits
/// for on the store thread.
fn query_hour(c: &mut Criterion) {
    let names = names(256);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("store");
    for s in 0..3600 {
        store
            .write_tick(T0 + s * 1000, names.iter().map(|n| (n.as_str(), s as f64)))
            .expect("write");
    }
    c.bench_function("query_one_series_of_256_over_an_hour", |b| {
        b.iter(|| {
            store
                .query(&names[100], T0, T0 + 3_600_000, 6_000, 10_000)
                .expect("query")
        })
    });
}

/// Defines profiled functions and a function calling each once.
macro_rules! functions {
    ($($name:ident)*) => {
        $(#[monitor::profile] fn $name() -> u32 { std::hint::black_box(1) })*
        fn call_all() -> u32 { 0 $(+ $name())* }
    };
}

functions!(
    f00 f01 f02 f03 f04 f05 f06 f07 f08 f09 f10 f11 f12 f13 f14 f15
    f16 f17 f18 f19 f20 f21 f22 f23 f24 f25 f26 f27 f28 f29 f30 f31
    f32 f33 f34 f35 f36 f37 f38 f39 f40 f41 f42 f43 f44 f45 f46 f47
    f48 f49 f50 f51 f52 f53 f54 f55 f56 f57 f58 f59 f60 f61 f62 f63
);

fn monitor_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor_tick_64_functions");
    for (label, history) in [("history_off", false), ("history_on", true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("monitor.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ntick = \"1h\"\n[dashboard]\nenabled = false\n[metrics]\ninstall_recorder = false\n[history]\nenabled = {history}\n",
                dir.path().join("data")
            ),
        )
        .expect("config");
        let monitor = monitor::builder()
            .config_file(config)
            .start()
            .expect("monitor");
        call_all();
        monitor.collect_now();
        group.bench_function(label, |b| {
            b.iter(|| {
                call_all();
                monitor.collect_now()
            })
        });
        drop(monitor);
    }
    group.finish();
}

criterion_group!(benches, write_tick, monitor_tick, query_hour);
criterion_main!(benches);
