//! Load generator throughput against one loopback server, peers in the
//! same run: a bare reqwest loop over the harness's own client (URL given
//! as text, and parsed once), the harness with full accounting
//! (closed model, HDR histograms, health probe), and goose. Each gets the
//! same client runtime (one tokio worker), 32 concurrent users and the same
//! duration; rounds are interleaved and the median of each is reported,
//! with the ratios the performance targets are about.
//!
//! `cargo bench --bench loadtest` (`LOADTEST_BENCH_SECS`, default 2, and
//! `LOADTEST_BENCH_ROUNDS`, default 5, shorten or lengthen it; `-- --test`
//! runs one 1 s round; `LOADTEST_BENCH_ONLY=harness` runs one generator
//! alone, e.g. under `perf` or `valgrind --tool=callgrind`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goose::config::GooseConfiguration;
use goose::prelude::*;
use monitor::loadtest::{http_client_builder, BaselineMode, LoadTest, Profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USERS: usize = 32;
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A minimal keep-alive HTTP/1.1 server answering 200 to every request, on
/// its own thread and runtime.
fn start_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream));
            }
        });
    });
    addr
}

async fn serve(mut stream: tokio::net::TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0;
    let mut out = Vec::new();
    loop {
        let n = match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        filled += n;
        let mut start = 0;
        while let Some(end) = buf[start..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            start += end + 4;
            out.extend_from_slice(RESPONSE);
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            return;
        }
        if stream.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
    }
}

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime")
}

/// Requests per second of 32 tasks looping on one reqwest client built
/// like the harness's own (`http_client_builder`), each request from the
/// URL text as a plain loop would write it.
fn bare_loop(url: &str, secs: u64) -> f64 {
    bare(url, secs, |client, url| client.get(url.as_str()))
}

/// The same loop with the URL parsed once: the harness parses each
/// distinct path once too, so this is the loop to be within 5% of.
fn bare_loop_parsed(url: &str, secs: u64) -> f64 {
    bare(url, secs, |client, url| client.get(url.clone()))
}

fn bare(
    url: &str,
    secs: u64,
    get: fn(&reqwest::Client, &reqwest::Url) -> reqwest::RequestBuilder,
) -> f64 {
    let url = reqwest::Url::parse(url).expect("url");
    client_runtime().block_on(async {
        let client = http_client_builder().build().expect("client");
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..USERS)
            .map(|_| {
                let (client, url, done) = (client.clone(), url.clone(), Arc::clone(&done));
                tokio::spawn(async move {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        if let Ok(response) = get(&client, &url).send().await {
                            let _ = response.bytes().await;
                            n += 1;
                        }
                    }
                    done.fetch_add(n, Ordering::Relaxed);
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
    })
}

/// Requests per second of the harness, closed model, 32 users.
fn harness(url: &str, secs: u64) -> f64 {
    let dir = std::env::temp_dir().join(format!("monitor-bench-loadtest-{}", std::process::id()));
    client_runtime().block_on(async {
        let report = LoadTest::new("bench")
            .base_url(url)
            .profile(
                Profile::load()
                    .vus(USERS as u32)
                    .ramp_up_secs(0)
                    .hold_secs(secs)
                    .ramp_down_secs(0),
            )
            .request("get", |c| c.get("/"))
            .baseline_mode(BaselineMode::Off)
            .report_dir(&dir)
            .quiet()
            .run()
            .await
            .expect("harness runs");
        report.total.completed as f64 / report.active_secs
    })
}

async fn goose_get(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get("/").await?;
    Ok(())
}

/// Requests per second of goose, 32 users started at once.
fn goose(url: &str, secs: u64) -> f64 {
    client_runtime().block_on(async {
        let metrics = GooseAttack::initialize_with_config(GooseConfiguration::default())
            .expect("goose")
            .register_scenario(scenario!("get").register_transaction(transaction!(goose_get)))
            .set_default(GooseDefault::Host, url)
            .expect("host")
            .set_default(GooseDefault::Users, USERS)
            .expect("users")
            .set_default(GooseDefault::IncreaseRate, "10000")
            .expect("rate")
            .set_default(GooseDefault::RunTime, secs as usize)
            .expect("run time")
            .set_default(GooseDefault::Quiet, 1)
            .expect("quiet")
            .set_default(GooseDefault::NoPrintMetrics, true)
            .expect("no print")
            .set_default(GooseDefault::NoTelnet, true)
            .expect("no telnet")
            .execute()
            .await
            .expect("goose runs");
        let requests: usize = metrics
            .requests
            .values()
            .map(|r| r.success_count + r.fail_count)
            .sum();
        requests as f64 / (metrics.duration.max(1)) as f64
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours skips the run.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.iter().any(|a| !"loadtest".contains(a.as_str())) {
        return;
    }
    // `-- --test` (scripts/test): one short round, to show it runs.
    let smoke = std::env::args().any(|a| a == "--test");
    let secs = if smoke {
        1
    } else {
        env_u64("LOADTEST_BENCH_SECS", 2)
    };
    let rounds = if smoke {
        1
    } else {
        env_u64("LOADTEST_BENCH_ROUNDS", 5).max(1) as usize
    };
    let url = format!("http://{}", start_server());
    // `LOADTEST_BENCH_ONLY=harness` runs one generator alone, for profiling.
    let only = std::env::var("LOADTEST_BENCH_ONLY").ok();
    type Generator = fn(&str, u64) -> f64;
    let generators: [(&str, Generator); 4] = [
        ("bare", bare_loop),
        ("harness", harness),
        ("goose", goose),
        ("bare-parsed", bare_loop_parsed),
    ];
    // One rate per generator per round; the order rotates each round so
    // a slow moment of a shared machine does not always hit the same one.
    let mut rps: Vec<[f64; 4]> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut this = [0.0; 4];
        for k in 0..generators.len() {
            let g = (round + k) % generators.len();
            if only.as_deref().is_none_or(|o| o == generators[g].0) {
                this[g] = (generators[g].1)(&url, secs);
            }
        }
        println!(
            "round {}: bare {:.0}/s, bare parsed {:.0}/s, harness {:.0}/s, goose {:.0}/s",
            round + 1,
            this[0],
            this[3],
            this[1],
            this[2]
        );
        rps.push(this);
    }
    // Ratios within a round compare runs seconds apart; their median is the figure.
    let ratio = |a: usize, b: usize| median(rps.iter().map(|r| r[a] / r[b]).collect());
    let of = |g: usize| median(rps.iter().map(|r| r[g]).collect());
    let (bare, parsed, ours, peer) = (of(0), of(3), of(1), of(2));
    println!("\nloopback, {USERS} users, {secs} s x {rounds} rounds, 1 client worker");
    println!("| generator | requests/s (median) | ratio to bare loop (median of rounds) |");
    println!("|---|---|---|");
    println!("| bare reqwest loop | {bare:.0} | 1.00 |");
    println!(
        "| bare reqwest loop, URL parsed once | {parsed:.0} | {:.2} |",
        ratio(3, 0)
    );
    println!(
        "| harness, full accounting | {ours:.0} | {:.2} |",
        ratio(1, 0)
    );
    println!("| goose 0.19 | {peer:.0} | {:.2} |", ratio(2, 0));
    println!("\nharness / bare = {:.2} (target >= 0.95)", ratio(1, 0));
    println!(
        "harness / bare with the URL parsed once = {:.2} (target >= 0.95)",
        ratio(1, 3)
    );
    println!(
        "bare / goose = {:.2} (the client's own margin)",
        ratio(0, 2)
    );
    println!("harness / goose = {:.2} (target >= 1.2)", ratio(1, 2));
}
