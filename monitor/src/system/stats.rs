//! The system and process figures of one tick, as carried by the snapshot
//! (`snapshot.system`). Every reading is optional: when it cannot be taken,
//! it is `None` (or absent from its list) and `unavailable` says why.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// System and own-process figures at one tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SystemStats {
    /// Machine-wide CPU use and load.
    pub cpu: CpuStats,
    /// Machine-wide memory and swap.
    pub memory: MemoryStats,
    /// This process.
    pub process: ProcessStats,
    /// This process's threads (Linux).
    pub threads: Vec<ThreadStats>,
    /// CPU use of the monitor thread itself (the thread that runs the
    /// collector), in % of one core, from its `schedstat` in nanoseconds.
    pub monitor_cpu_pct: Option<f64>,
    /// Space per mounted file system (slow reading).
    pub disks: Vec<DiskSpace>,
    /// I/O per block device (slow reading, Linux).
    pub disk_io: Vec<DiskIo>,
    /// Traffic per network interface (slow reading).
    pub networks: Vec<NetworkStats>,
    /// TCP connections by state (slow reading, Linux).
    pub tcp: TcpStats,
    /// TCP connect times to the configured targets.
    pub probes: Vec<ProbeResult>,
    /// The processes named in `system.watch` (slow reading).
    pub watched: Vec<WatchedProcess>,
    /// Readings that could not be taken, and why.
    pub unavailable: Vec<Unavailable>,
    /// How long the system readings of this tick took.
    pub collect_us: u64,
    /// Whether this tick took the slow readings (disks, networks, TCP,
    /// watched processes); otherwise they are those of the last slow tick.
    pub slow_tick: bool,
    /// How long the last slow readings took.
    pub slow_collect_us: u64,
}

impl SystemStats {
    /// No figures, one mark saying why.
    pub(crate) fn failed(reason: &str) -> Self {
        Self {
            unavailable: vec![Unavailable::new("system", reason)],
            ..Self::default()
        }
    }
}

/// A reading that could not be taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    /// Which reading (`cpu`, `memory`, `disk_io`, `watch:postgres`, ...).
    pub reading: String,
    /// Why, naming the file or call that failed.
    pub reason: String,
}

impl Unavailable {
    pub(crate) fn new(reading: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            reading: reading.into(),
            reason: reason.into(),
        }
    }
}

/// Machine-wide CPU.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CpuStats {
    /// Logical cores.
    pub cores: Option<usize>,
    /// Busy share of all cores since the previous tick, 0-100.
    pub total_pct: Option<f64>,
    /// Busy share of each core since the previous tick, 0-100 (empty on the
    /// first reading).
    pub per_core_pct: Vec<f64>,
    /// Run-queue load averages.
    pub load_average: Option<LoadAverage>,
}

/// Load averages over 1, 5 and 15 minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LoadAverage {
    /// Over 1 minute.
    pub one: f64,
    /// Over 5 minutes.
    pub five: f64,
    /// Over 15 minutes.
    pub fifteen: f64,
}

/// Machine-wide memory, in bytes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MemoryStats {
    /// Physical memory.
    pub total_bytes: Option<u64>,
    /// In use: total minus available.
    pub used_bytes: Option<u64>,
    /// Available to new allocations without swapping (`MemAvailable`).
    pub available_bytes: Option<u64>,
    /// Swap space.
    pub swap_total_bytes: Option<u64>,
    /// Swap in use.
    pub swap_used_bytes: Option<u64>,
}

/// This process.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProcessStats {
    /// Process id.
    pub pid: u32,
    /// CPU time (user + system) since the process started.
    pub cpu_seconds_total: Option<f64>,
    /// CPU use since the previous tick, in % of one core (can exceed 100).
    pub cpu_pct_of_core: Option<f64>,
    /// CPU use since the previous tick, in % of the whole machine.
    pub cpu_pct_of_machine: Option<f64>,
    /// Resident set size.
    pub rss_bytes: Option<u64>,
    /// Virtual memory size.
    pub virtual_bytes: Option<u64>,
    /// Threads.
    pub threads: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// Bytes read from storage since the process started.
    pub read_bytes_total: Option<u64>,
    /// Bytes written to storage since the process started.
    pub write_bytes_total: Option<u64>,
    /// Storage reads since the previous tick, bytes/s.
    pub read_bytes_per_sec: Option<f64>,
    /// Storage writes since the previous tick, bytes/s.
    pub write_bytes_per_sec: Option<f64>,
}

/// One thread of this process.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadStats {
    /// Thread id.
    pub tid: u32,
    /// Thread name (as the kernel keeps it: at most 15 bytes).
    pub name: String,
    /// CPU time (user + system) since the thread started.
    pub cpu_seconds_total: f64,
    /// CPU use since the previous tick, in % of one core.
    pub cpu_pct_of_core: Option<f64>,
}

/// Space on one mounted file system.
#[derive(Clone, Debug, Serialize)]
pub struct DiskSpace {
    /// Mount point.
    pub mount: String,
    /// Device or source.
    pub device: String,
    /// File system type.
    pub file_system: String,
    /// Size.
    pub total_bytes: Option<u64>,
    /// Space available to unprivileged users.
    pub free_bytes: Option<u64>,
    /// Share not available, 0-100.
    pub used_pct: Option<f64>,
}

/// I/O of one block device.
#[derive(Clone, Debug, Serialize)]
pub struct DiskIo {
    /// Device name (`sda`, `nvme0n1p1`).
    pub device: String,
    /// Bytes read since boot.
    pub read_bytes_total: u64,
    /// Bytes written since boot.
    pub write_bytes_total: u64,
    /// Reads since the previous slow reading, bytes/s.
    pub read_bytes_per_sec: Option<f64>,
    /// Writes since the previous slow reading, bytes/s.
    pub write_bytes_per_sec: Option<f64>,
}

/// Traffic of one network interface.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NetworkStats {
    /// Interface name.
    pub interface: String,
    /// Bytes received since boot.
    pub rx_bytes_total: u64,
    /// Bytes sent since boot.
    pub tx_bytes_total: u64,
    /// Packets received since boot.
    pub rx_packets_total: u64,
    /// Packets sent since boot.
    pub tx_packets_total: u64,
    /// Receive errors since boot.
    pub rx_errors_total: u64,
    /// Transmit errors since boot.
    pub tx_errors_total: u64,
    /// Received since the previous slow reading, bytes/s.
    pub rx_bytes_per_sec: Option<f64>,
    /// Sent since the previous slow reading, bytes/s.
    pub tx_bytes_per_sec: Option<f64>,
    /// Received since the previous slow reading, packets/s.
    pub rx_packets_per_sec: Option<f64>,
    /// Sent since the previous slow reading, packets/s.
    pub tx_packets_per_sec: Option<f64>,
}

/// TCP connection counts by state (`established`, `listen`, `time_wait`, ...;
/// every state is present, zero or not).
pub type TcpStates = BTreeMap<&'static str, u64>;

/// TCP connections (IPv4 and IPv6) by state.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TcpStats {
    /// All sockets of the network namespace.
    pub system: Option<TcpStates>,
    /// The sockets this process holds open.
    pub process: Option<TcpStates>,
}

/// The last TCP connect to one configured target.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeResult {
    /// The target as configured (`host:port`).
    pub target: String,
    /// Connect time, when it connected.
    pub latency_ms: Option<f64>,
    /// Why it did not connect.
    pub error: Option<String>,
    /// When the probe finished, milliseconds since the Unix epoch.
    pub checked_at_unix_ms: u64,
}

/// One process matched by `system.watch`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WatchedProcess {
    /// The watch entry it matched (`postgres`, `pid:1234`).
    pub watch: String,
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub name: String,
    /// CPU use since the previous slow reading, in % of one core.
    pub cpu_pct_of_core: Option<f64>,
    /// CPU time since the process started.
    pub cpu_seconds_total: Option<f64>,
    /// Resident set size.
    pub rss_bytes: Option<u64>,
    /// Virtual memory size.
    pub virtual_bytes: Option<u64>,
    /// Threads.
    pub threads: Option<u64>,
    /// Open file descriptors (needs permission to read its `/proc/<pid>/fd`).
    pub open_fds: Option<u64>,
    /// Bytes read from storage since it started.
    pub read_bytes_total: Option<u64>,
    /// Bytes written to storage since it started.
    pub write_bytes_total: Option<u64>,
    /// Storage reads since the previous slow reading, bytes/s.
    pub read_bytes_per_sec: Option<f64>,
    /// Storage writes since the previous slow reading, bytes/s.
    pub write_bytes_per_sec: Option<f64>,
}

/// Readings closer together than this keep the previous rates (and
/// baseline): CPU times move in 10 ms steps, so a rate over a few
/// milliseconds (a `collect_now` right after a tick) would be noise.
/// Within the interval the error is still one 10 ms step.
pub(crate) const MIN_RATE_INTERVAL: Duration = Duration::from_millis(100);

/// Per-second rate of a counter between two readings `secs` apart; `None`
/// without a previous reading, a positive interval, or when the counter went
/// backwards (reset or wrapped).
pub(crate) fn rate(previous: Option<u64>, now: u64, secs: f64) -> Option<f64> {
    let previous = previous?;
    if secs <= 0.0 || now < previous {
        return None;
    }
    Some((now - previous) as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_a_previous_reading_and_a_forward_counter() {
        assert_eq!(rate(None, 10, 1.0), None);
        assert_eq!(rate(Some(10), 30, 2.0), Some(10.0));
        assert_eq!(rate(Some(30), 10, 2.0), None);
        assert_eq!(rate(Some(10), 30, 0.0), None);
    }
}
