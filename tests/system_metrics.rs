//! System and process metrics of a running monitor, checked against what the
//! test does and reads itself: threads it spawns, memory it touches,
//! connections it opens, probes to ports it controls, a child process it
//! watches, and the `/api/v1/system` and `/metrics` views of them.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use monitor::system::SystemStats;
use monitor::Monitor;
use monitor_workspace::{http_get, promtool_check, rss_bytes};

struct Fixture {
    monitor: Monitor,
    open_target: String,
    closed_target: String,
    /// Kept open so the probe target listens.
    _listener: TcpListener,
    child: Mutex<Child>,
    _dir: tempfile::TempDir,
}

/// One monitor for the binary, with a short slow interval, two probes and
/// two watched processes (this one by pid, a child `sleep` by name).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let open_target = listener.local_addr().expect("addr").to_string();
        let closed_target = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .to_string();
        let child = Command::new("sleep").arg("60").spawn().expect("sleep runs");
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = dir.path().join("monitor.toml");
        let mut file = std::fs::File::create(&config).expect("config file");
        write!(
            file,
            "tick = \"100ms\"\n\
             [dashboard]\naddr = \"127.0.0.1:0\"\n\
             [metrics]\ninstall_recorder = false\n\
             [system]\nslow_interval = \"200ms\"\nprobe_timeout = \"2s\"\n\
             watch = [\"pid:{}\", \"sleep\", \"no-such-process-x\"]\n\
             probes = [\"{open_target}\", \"{closed_target}\"]\n",
            std::process::id()
        )
        .expect("config written");
        let monitor = monitor::builder()
            .config_file(&config)
            .start()
            .expect("monitor starts");
        Fixture {
            monitor,
            open_target,
            closed_target,
            _listener: listener,
            child: Mutex::new(child),
            _dir: dir,
        }
    })
}

fn system_now() -> SystemStats {
    fixture().monitor.collect_now().system.clone()
}

/// Collects until `done` holds (at most 10 s), returning the last figures.
fn collect_until(what: &str, done: impl Fn(&SystemStats) -> bool) -> SystemStats {
    let mut last = system_now();
    for _ in 0..200 {
        if done(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(50));
        last = system_now();
    }
    panic!("{what} never held; last figures: {last:#?}");
}

#[test]
fn a_busy_named_thread_shows_with_its_cpu() {
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("sys-spinner".into())
            .spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
                x
            })
            .expect("thread starts")
    };
    let stats = collect_until("the spinner uses CPU", |s| {
        s.threads
            .iter()
            .any(|t| t.name == "sys-spinner" && t.cpu_pct_of_core.is_some_and(|p| p > 20.0))
    });
    stop.store(true, Ordering::Relaxed);
    spinner.join().expect("spinner ends");
    let spinner = stats
        .threads
        .iter()
        .find(|t| t.name == "sys-spinner")
        .expect("listed");
    assert!(
        spinner.cpu_pct_of_core.is_some_and(|p| p <= 105.0),
        "{spinner:?}"
    );
    assert!(
        stats.threads.iter().any(|t| t.name == "monitor"),
        "{:?}",
        stats.threads
    );
    // The process includes the spinner.
    assert!(
        stats.process.cpu_pct_of_core.is_some_and(|p| p > 20.0),
        "{:?}",
        stats.process
    );
    let cores = stats.cpu.cores.expect("cores known") as f64;
    let of_machine = stats
        .process
        .cpu_pct_of_machine
        .expect("share of the machine");
    let of_core = stats.process.cpu_pct_of_core.expect("share of a core");
    assert!((of_machine * cores - of_core).abs() < 1e-6);
    assert!(
        stats
            .cpu
            .total_pct
            .is_some_and(|p| (0.0..=100.0).contains(&p)),
        "{:?}",
        stats.cpu
    );
    assert_eq!(stats.cpu.per_core_pct.len(), cores as usize);
    assert!(
        stats
            .monitor_cpu_pct
            .is_some_and(|p| (0.0..=100.0).contains(&p)),
        "the monitor thread measures itself: {:?}",
        stats.monitor_cpu_pct
    );
    assert!(stats.process.threads.is_some_and(|n| n >= 3));
}

#[test]
fn rss_grows_after_touching_64_mib() {
    const SIZE: usize = 64 << 20;
    let before = system_now().process.rss_bytes.expect("rss");
    let mut block = vec![0u8; SIZE];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(&block);
    let after = system_now().process.rss_bytes.expect("rss");
    let own_reading = rss_bytes();
    assert!(
        after >= before + (SIZE as u64) * 9 / 10,
        "rss {before} -> {after} after touching {SIZE} bytes"
    );
    // Within 16 MiB of what this test reads from /proc/self/status itself.
    assert!(
        after.abs_diff(own_reading) < 16 << 20,
        "{after} vs {own_reading}"
    );
    drop(block);
    let stats = system_now();
    assert!(stats
        .process
        .virtual_bytes
        .is_some_and(|v| v >= stats.process.rss_bytes.unwrap_or(0)));
    assert!(stats.process.open_fds.is_some_and(|n| n >= 3));
}

#[test]
fn machine_memory_matches_meminfo() {
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let total_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("MemTotal");
    let memory = system_now().memory;
    assert_eq!(memory.total_bytes, Some(total_kb * 1024));
    let available = memory.available_bytes.expect("available");
    assert!(available <= total_kb * 1024);
    assert_eq!(memory.used_bytes, Some(total_kb * 1024 - available));
}

#[test]
fn own_listener_and_connections_are_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let clients: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let servers: Vec<TcpStream> = (0..3)
        .map(|_| listener.accept().expect("accept").0)
        .collect();
    let stats = collect_until("the connections are counted", |s| {
        s.tcp
            .process
            .as_ref()
            .is_some_and(|p| p["established"] >= 6 && p["listen"] >= 2)
    });
    let own = stats.tcp.process.as_ref().expect("own sockets");
    let system = stats.tcp.system.as_ref().expect("all sockets");
    for (state, n) in own {
        assert!(
            system[state] >= *n,
            "{state}: own {n} > system {}",
            system[state]
        );
    }
    drop((clients, servers, listener));
}

#[test]
fn probes_time_an_open_port_and_report_a_closed_one() {
    let f = fixture();
    let stats = collect_until("both probes finished", |s| s.probes.len() == 2);
    let open = stats
        .probes
        .iter()
        .find(|p| p.target == f.open_target)
        .expect("open probe");
    assert!(open.latency_ms.is_some_and(|ms| ms < 2000.0), "{open:?}");
    assert_eq!(open.error, None);
    let closed = stats
        .probes
        .iter()
        .find(|p| p.target == f.closed_target)
        .expect("closed probe");
    assert_eq!(closed.latency_ms, None);
    assert!(
        closed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("connect to")),
        "{closed:?}"
    );
}

#[test]
fn watched_processes_by_pid_and_by_name() {
    let f = fixture();
    let child_pid = f.child.lock().expect("child").id();
    let stats = collect_until("both watches matched, with CPU rates", |s| {
        s.watched.iter().any(|p| p.pid == child_pid)
            && s.watched
                .iter()
                .any(|p| p.pid == std::process::id() && p.cpu_pct_of_core.is_some())
    });
    let me = stats
        .watched
        .iter()
        .find(|p| p.pid == std::process::id())
        .expect("self");
    assert_eq!(me.watch, format!("pid:{}", std::process::id()));
    assert!(me.rss_bytes.is_some_and(|r| r > 0));
    let child = stats
        .watched
        .iter()
        .find(|p| p.pid == child_pid)
        .expect("child");
    assert_eq!(
        (child.watch.as_str(), child.name.as_str()),
        ("sleep", "sleep")
    );
    assert!(child.rss_bytes.is_some_and(|r| r > 0), "{child:?}");
    assert!(child.threads == Some(1), "{child:?}");
    let missing = stats
        .unavailable
        .iter()
        .find(|u| u.reading == "watch:no-such-process-x")
        .expect("a watch matching nothing is marked");
    assert!(missing.reason.contains("no process named"), "{missing:?}");
    let mut child = f.child.lock().expect("child");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn disks_and_interfaces_are_read_on_the_slow_cadence() {
    let stats = collect_until("two slow readings of the loopback", |s| {
        s.networks
            .iter()
            .any(|n| n.interface == "lo" && n.rx_bytes_per_sec.is_some())
    });
    assert!(stats.slow_collect_us > 0);
    for disk in &stats.disks {
        if let (Some(total), Some(free), Some(used)) =
            (disk.total_bytes, disk.free_bytes, disk.used_pct)
        {
            assert!(free <= total && (0.0..=100.0).contains(&used), "{disk:?}");
        }
    }
    assert!(
        !stats.disks.is_empty() || stats.unavailable.iter().any(|u| u.reading == "disks"),
        "disks listed or marked unavailable"
    );
    // Most ticks are fast ones: the slow readings come every 200 ms, ticks every 100 ms or sooner.
    let slow = (0..10).filter(|_| system_now().slow_tick).count();
    assert!(slow < 10, "every collect was slow");
}

#[test]
fn the_http_views_carry_the_figures() {
    let addr: SocketAddr = fixture().monitor.dashboard_addr().expect("dashboard");
    collect_until("a slow reading with rates and both probes", |s| {
        s.tcp.process.is_some()
            && s.process.cpu_pct_of_core.is_some()
            && s.probes.len() == 2
            && s.watched.iter().any(|p| p.pid == std::process::id())
    });
    let (status, body) = http_get(addr, "/api/v1/system").expect("/api/v1/system answers");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        json["process"]["rss_bytes"].as_u64().is_some_and(|r| r > 0),
        "{json}"
    );
    assert!(
        json["memory"]["total_bytes"]
            .as_u64()
            .is_some_and(|r| r > 0),
        "{json}"
    );
    assert!(json["process"]["cpu_pct_of_core"].is_number(), "{json}");
    assert!(
        json["tcp"]["process"]["listen"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{json}"
    );
    assert!(json["unavailable"].is_array());
    let (status, metrics) = http_get(addr, "/metrics").expect("/metrics answers");
    assert_eq!(status, 200);
    for family in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_threads",
        "system_cpu_usage_ratio",
        "system_memory_total_bytes",
        "monitor_thread_cpu_usage_ratio",
    ] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(&format!("{family} "))),
            "no sample of {family} in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("system_tcp_connections{state=\"listen\"} "),
        "{metrics}"
    );
    assert!(
        metrics.contains("system_network_receive_bytes_total{interface=\"lo\"} "),
        "{metrics}"
    );
    let own = format!(
        "watched_process_resident_memory_bytes{{watch=\"pid:{}\"",
        std::process::id()
    );
    assert!(metrics.contains(&own), "{metrics}");
    let probe = format!(
        "system_probe_up{{target=\"{}\"}} 1\n",
        fixture().open_target
    );
    assert!(metrics.contains(&probe), "{metrics}");
    promtool_check(&metrics);
}
