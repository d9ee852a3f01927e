//! Exact call, error and panic counts from many threads.

use monitor_workspace::{function_stats, shared_monitor};

#[monitor::profile(name = "counts::parse")]
fn parse(i: u64) -> Result<u64, String> {
    if i.is_multiple_of(7) {
        Err(format!("{i} is a multiple of seven"))
    } else {
        Ok(i * 2)
    }
}

#[monitor::profile(name = "counts::fragile")]
fn fragile(i: u64) -> u64 {
    if i % 1000 == 999 {
        panic!("call {i} fails");
    }
    i + 1
}

#[monitor::profile(name = "counts::plain")]
fn plain(i: u64) -> u64 {
    std::hint::black_box(i) ^ 0x5a
}

const THREADS: u64 = 4;
const CALLS: u64 = 100_000;

#[test]
fn four_threads_give_exact_counts() {
    shared_monitor();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                let mut ok = 0;
                for i in 0..CALLS {
                    if parse(i).is_ok() {
                        ok += 1;
                    }
                    plain(i);
                }
                ok
            })
        })
        .collect();
    let ok: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();

    let parse = function_stats("counts::parse").expect("parse was recorded");
    assert_eq!(parse.calls, THREADS * CALLS);
    assert_eq!(parse.errors, THREADS * CALLS - ok);
    assert_eq!(parse.errors, THREADS * CALLS.div_ceil(7));
    assert_eq!(parse.panics, 0);
    assert_eq!(parse.in_flight, 0);
    assert!(
        parse.min_ns <= parse.p50_ns
            && parse.p50_ns <= parse.p99_ns
            && parse.p99_ns <= parse.max_ns
    );
    assert_eq!(
        parse.duration_buckets.last(),
        Some(&(THREADS * CALLS)),
        "all calls under 10 s"
    );

    let plain = function_stats("counts::plain").expect("plain was recorded");
    assert_eq!((plain.calls, plain.errors), (THREADS * CALLS, 0));
}

#[test]
fn panics_are_errors_and_propagate_unchanged() {
    shared_monitor();
    std::panic::set_hook(Box::new(|_| {})); // keep the test output readable
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(|| {
                let mut caught = 0;
                for i in 0..10_000 {
                    match std::panic::catch_unwind(|| fragile(i)) {
                        Ok(v) => assert_eq!(v, i + 1),
                        Err(payload) => {
                            assert_eq!(
                                payload.downcast_ref::<String>().unwrap(),
                                &format!("call {i} fails")
                            );
                            caught += 1;
                        }
                    }
                }
                caught
            })
        })
        .collect();
    let caught: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let _ = std::panic::take_hook();

    let stats = function_stats("counts::fragile").expect("fragile was recorded");
    assert_eq!(caught, THREADS * 10);
    assert_eq!(stats.calls, THREADS * 10_000);
    assert_eq!(stats.panics, caught);
    assert_eq!(stats.errors, caught);
    assert_eq!(stats.in_flight, 0);
}
