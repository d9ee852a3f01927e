//! The system collector pointed at a procfs stand-in with missing, garbled
//! and unreadable files: each affected reading is marked unavailable with a
//! reason naming the file, the others carry the figures the files hold, and
//! rates appear from the second reading on.

use std::fs;
use std::path::Path;
use std::time::Duration;

use monitor::config::{SystemConfig, Watch};
use monitor::system::{SystemCollector, SystemStats};

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("has a parent")).expect("directory");
    fs::write(path, text).expect("file written");
}

const STAT_LINE: &str = "77 (fakeproc) S 1 77 77 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 5000 9000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
const STATUS: &str = "Name:\tfakeproc\nVmSize:\t    8000 kB\nVmRSS:\t    1200 kB\nThreads:\t3\n";

fn net_dev(lo_rx: u64) -> String {
    format!(
        "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    \
lo: {lo_rx} 10 0 0 0 0 0 0 500 5 0 0 0 0 0 0\n  eth0: 2000 20 3 0 0 0 0 0 1000 10 4 0 0 0 0 0\n"
    )
}

/// A procfs with some good, some broken, some missing files.
fn fake_proc(root: &Path) {
    // Garbled: the cpu line has words for numbers.
    write(root, "stat", "cpu  lots of time\n");
    write(root, "loadavg", "1.50 0.75 0.25 2/300 4242\n");
    write(
        root,
        "meminfo",
        "MemTotal: 1000 kB\nMemAvailable: 250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    );
    // This process: stat missing, status fine, io a directory (unreadable), no fd directory.
    write(root, "self/status", STATUS);
    fs::create_dir_all(root.join("self/io")).expect("directory");
    write(root, "self/task/1/stat", "not a stat line");
    // No diskstats at all.
    write(root, "net/dev", &net_dev(1000));
    write(
        root,
        "net/tcp",
        "  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 QQ\n",
    );
    // A watched process by name, without an io file.
    write(root, "77/comm", "fakeproc\n");
    write(root, "77/stat", STAT_LINE);
    write(root, "77/status", STATUS);
}

fn reason<'a>(stats: &'a SystemStats, reading: &str) -> &'a str {
    stats
        .unavailable
        .iter()
        .find(|u| u.reading == reading)
        .map(|u| u.reason.as_str())
        .unwrap_or_else(|| panic!("{reading} not marked unavailable: {:#?}", stats.unavailable))
}

#[test]
fn broken_readings_are_marked_and_the_rest_kept() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    fake_proc(root);
    let mut config = SystemConfig::default();
    config.slow_interval = Duration::from_millis(50);
    config.watch = vec![
        Watch::Name("fakeproc".into()),
        Watch::Pid(4242),
        Watch::Name("postgres".into()),
    ];
    let mut collector = SystemCollector::with_proc_root(config, root);

    let first = collector.collect();
    let shown = |file: &str| root.join(file).display().to_string();
    assert!(
        reason(&first, "cpu").starts_with(&shown("stat")),
        "{first:#?}"
    );
    assert!(reason(&first, "cpu").contains("not a number"));
    assert_eq!(first.cpu.total_pct, None);
    // One failing reading does not hide the others.
    let load = first.cpu.load_average.expect("load average read");
    assert_eq!((load.one, load.five, load.fifteen), (1.5, 0.75, 0.25));
    assert_eq!(first.memory.total_bytes, Some(1000 * 1024));
    assert_eq!(first.memory.available_bytes, Some(250 * 1024));
    assert_eq!(first.memory.used_bytes, Some(750 * 1024));

    assert!(reason(&first, "process_cpu").contains(&shown("self/stat")));
    assert_eq!(first.process.cpu_seconds_total, None);
    assert_eq!(first.process.rss_bytes, Some(1200 * 1024));
    assert_eq!(first.process.virtual_bytes, Some(8000 * 1024));
    assert_eq!(first.process.threads, Some(3));
    assert!(reason(&first, "process_io").contains(&shown("self/io")));
    assert!(reason(&first, "process_fds").contains(&shown("self/fd")));
    assert_eq!(first.process.open_fds, None);
    assert!(reason(&first, "threads").contains(&shown("self/task/1/stat")));

    assert!(reason(&first, "disk_io").contains(&shown("diskstats")));
    assert!(first.disk_io.is_empty());
    assert!(reason(&first, "tcp").contains("no known state"));
    assert!(first.tcp.system.is_none());

    let lo = first
        .networks
        .iter()
        .find(|n| n.interface == "lo")
        .expect("lo listed");
    assert_eq!(lo.rx_bytes_total, 1000);
    assert_eq!(lo.rx_bytes_per_sec, None, "no rate on the first reading");
    let eth0 = first
        .networks
        .iter()
        .find(|n| n.interface == "eth0")
        .expect("eth0 listed");
    assert_eq!((eth0.rx_errors_total, eth0.tx_errors_total), (3, 4));

    let fake = first
        .watched
        .iter()
        .find(|p| p.pid == 77)
        .expect("fakeproc watched");
    assert_eq!(fake.name, "fakeproc");
    assert_eq!(fake.watch, "fakeproc");
    assert_eq!(fake.cpu_seconds_total, Some(2.0));
    assert_eq!(fake.rss_bytes, Some(1200 * 1024));
    assert_eq!(fake.cpu_pct_of_core, None);
    assert!(reason(&first, "watch:fakeproc_io").contains(&shown("77/io")));
    assert!(reason(&first, "watch:pid:4242").contains("no process with pid 4242"));
    assert!(reason(&first, "watch:postgres").contains("no process named"));

    // Counters move; the files get repaired or broken further.
    std::thread::sleep(Duration::from_millis(100));
    write(root, "net/dev", &net_dev(6000));
    write(root, "77/stat", &STAT_LINE.replace(" 150 50 ", " 170 80 "));
    write(
        root,
        "stat",
        "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n",
    );
    fs::remove_file(root.join("meminfo")).expect("removed");
    let second = collector.collect();
    assert!(second.slow_tick);
    let lo = second
        .networks
        .iter()
        .find(|n| n.interface == "lo")
        .expect("lo listed");
    let rate = lo.rx_bytes_per_sec.expect("a rate on the second reading");
    assert!(rate > 0.0 && rate <= 5000.0 / 0.1, "{rate}");
    let fake = second
        .watched
        .iter()
        .find(|p| p.pid == 77)
        .expect("fakeproc watched");
    assert!(fake.cpu_pct_of_core.is_some_and(|p| p > 0.0), "{fake:?}");
    assert_eq!(second.cpu.cores, Some(1));
    assert_eq!(
        second.cpu.total_pct, None,
        "the previous reading failed: no rate yet"
    );
    assert!(reason(&second, "memory").contains(&shown("meminfo")));
    assert_eq!(second.memory.total_bytes, None);

    // Rates need readings at least 100 ms apart.
    std::thread::sleep(Duration::from_millis(110));
    write(
        root,
        "stat",
        "cpu  150 0 150 900 0 0 0 0 0 0\ncpu0 150 0 150 900 0 0 0 0 0 0\n",
    );
    let third = collector.collect();
    // 100 busy ticks of 200.
    assert_eq!(third.cpu.total_pct, Some(50.0));
    assert_eq!(third.cpu.per_core_pct, vec![50.0]);
}

#[test]
fn slow_readings_wait_for_their_interval() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    fake_proc(root);
    let mut config = SystemConfig::default();
    config.slow_interval = Duration::from_secs(3600);
    let mut collector = SystemCollector::with_proc_root(config, root);
    let first = collector.collect();
    assert!(first.slow_tick);
    write(root, "net/dev", &net_dev(9999));
    write(root, "meminfo", "MemTotal: 2000 kB\n");
    let second = collector.collect();
    assert!(!second.slow_tick);
    // Fast readings are fresh, slow ones are those of the first tick.
    assert_eq!(second.memory.total_bytes, Some(2000 * 1024));
    let lo = second
        .networks
        .iter()
        .find(|n| n.interface == "lo")
        .expect("lo kept");
    assert_eq!(lo.rx_bytes_total, 1000);
    assert!(
        second.unavailable.iter().any(|u| u.reading == "disk_io"),
        "slow marks are kept too"
    );
}

#[test]
fn an_empty_root_marks_every_procfs_reading_and_does_not_fail() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut collector = SystemCollector::with_proc_root(SystemConfig::default(), dir.path());
    let stats = collector.collect();
    for reading in [
        "cpu",
        "load_average",
        "memory",
        "process_cpu",
        "threads",
        "disk_io",
        "networks",
        "tcp",
    ] {
        reason(&stats, reading);
    }
    assert_eq!(stats.process.pid, std::process::id());
    // The JSON of a snapshot full of gaps is still valid.
    let json = serde_json::to_value(&stats).expect("serialises");
    assert!(json["memory"]["total_bytes"].is_null());
}
