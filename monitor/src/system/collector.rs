//! The cadence of the system readings: cheap ones (CPU, memory, this
//! process and its threads) every tick; expensive ones (disks, networks,
//! TCP tables, watched processes) every `system.slow_interval`, kept
//! in between. Nothing here calls sysinfo's `refresh_all`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::probe::{self, ProbeResults};
use super::stats::{
    DiskIo, DiskSpace, NetworkStats, SystemStats, TcpStats, Unavailable, WatchedProcess,
};
use crate::config::SystemConfig;

use super::disk::DiskSpaceReader;
#[cfg(not(target_os = "linux"))]
use super::fallback::Fallback;
#[cfg(target_os = "linux")]
use super::{cpu, disk::DiskIoReader, memory, net, process, procfs::ProcRoot, threads, watched};

/// The readings of the last slow tick, repeated until the next.
#[derive(Default)]
struct Slow {
    disks: Vec<DiskSpace>,
    disk_io: Vec<DiskIo>,
    networks: Vec<NetworkStats>,
    tcp: TcpStats,
    watched: Vec<WatchedProcess>,
    unavailable: Vec<Unavailable>,
    collect_us: u64,
}

/// Takes the system and process readings; one lives on the monitor thread
/// and is called once a tick. Rates (CPU %, bytes/s) come from the delta to
/// the previous reading, so the first reading has none.
pub struct SystemCollector {
    config: SystemConfig,
    slow: Slow,
    last_slow: Option<Instant>,
    probes: ProbeResults,
    disks: DiskSpaceReader,
    #[cfg(target_os = "linux")]
    linux: Linux,
    #[cfg(not(target_os = "linux"))]
    fallback: Fallback,
}

#[cfg(target_os = "linux")]
struct Linux {
    root: ProcRoot,
    /// Reused for every file read.
    buf: String,
    cpu: cpu::CpuReader,
    process: process::ProcessReader,
    threads: threads::ThreadReader,
    disk_io: DiskIoReader,
    net: net::NetReader,
    watched: watched::WatchedReader,
}

impl SystemCollector {
    /// Reads `/proc` (on Linux).
    pub fn new(config: SystemConfig) -> Self {
        Self::with_proc_root(config, "/proc")
    }

    /// Reads the procfs mounted at `root` instead of `/proc` (such as a
    /// host's `/proc` mounted into a container, or a test directory). Disk
    /// space always comes from the mounts this process sees. Ignored
    /// outside Linux.
    pub fn with_proc_root(config: SystemConfig, root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        #[cfg(not(target_os = "linux"))]
        let _ = root;
        Self {
            probes: ProbeResults::with_targets(config.probes.len()),
            config,
            slow: Slow::default(),
            last_slow: None,
            disks: DiskSpaceReader::default(),
            #[cfg(target_os = "linux")]
            linux: Linux {
                root: ProcRoot::new(root),
                buf: String::with_capacity(4096),
                cpu: Default::default(),
                process: Default::default(),
                threads: Default::default(),
                disk_io: Default::default(),
                net: Default::default(),
                watched: Default::default(),
            },
            #[cfg(not(target_os = "linux"))]
            fallback: Fallback::new(),
        }
    }

    /// Starts the probe tasks on the current tokio runtime; their results
    /// show in the readings from the next call on. Abort the handles to stop.
    pub fn start_probes(&self) -> Vec<JoinHandle<()>> {
        probe::start(
            &self.config.probes,
            self.config.probe_timeout,
            self.config.slow_interval,
            &self.probes,
        )
    }

    /// Takes this tick's readings (and the slow ones when they are due).
    pub fn collect(&mut self) -> SystemStats {
        let begin = Instant::now();
        let mut unavailable = Vec::new();
        let mut stats = self.fast(&mut unavailable);
        let due = self
            .last_slow
            .is_none_or(|at| at.elapsed() >= self.config.slow_interval);
        if due {
            let slow_begin = Instant::now();
            self.last_slow = Some(slow_begin);
            self.slow = self.slow_readings();
            self.slow.collect_us = micros(slow_begin.elapsed());
        }
        stats.slow_tick = due;
        stats.disks = self.slow.disks.clone();
        stats.disk_io = self.slow.disk_io.clone();
        stats.networks = self.slow.networks.clone();
        stats.tcp = self.slow.tcp.clone();
        stats.watched = self.slow.watched.clone();
        stats.slow_collect_us = self.slow.collect_us;
        unavailable.extend(self.slow.unavailable.iter().cloned());
        stats.probes = self.probes.snapshot();
        stats.unavailable = unavailable;
        stats.collect_us = micros(begin.elapsed());
        stats
    }

    #[cfg(target_os = "linux")]
    fn fast(&mut self, unavailable: &mut Vec<Unavailable>) -> SystemStats {
        let l = &mut self.linux;
        let cpu = l.cpu.read(&l.root, &mut l.buf, unavailable);
        let memory = memory::read(&l.root, &mut l.buf, unavailable);
        let process = l.process.read(&l.root, &mut l.buf, cpu.cores, unavailable);
        let threads = l.threads.read(&l.root, &mut l.buf, unavailable);
        SystemStats {
            cpu,
            memory,
            process,
            threads: threads.threads,
            monitor_cpu_pct: threads.collector_cpu_pct,
            ..SystemStats::default()
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn fast(&mut self, unavailable: &mut Vec<Unavailable>) -> SystemStats {
        let cpu = self.fallback.cpu();
        let memory = self.fallback.memory(unavailable);
        let process = self.fallback.process(cpu.cores, unavailable);
        unavailable.push(Unavailable::new(
            "threads",
            "per-thread CPU needs Linux procfs (/proc/self/task)",
        ));
        SystemStats {
            cpu,
            memory,
            process,
            ..SystemStats::default()
        }
    }

    #[cfg(target_os = "linux")]
    fn slow_readings(&mut self) -> Slow {
        let mut unavailable = Vec::new();
        let l = &mut self.linux;
        let disks = self.disks.read(&mut unavailable);
        let disk_io = l.disk_io.read(&l.root, &mut l.buf, &mut unavailable);
        let networks = l.net.read(&l.root, &mut l.buf, &mut unavailable);
        let tcp = net::tcp(&l.root, &mut l.buf, &mut unavailable);
        let watched = l
            .watched
            .read(&l.root, &mut l.buf, &self.config.watch, &mut unavailable);
        Slow {
            disks,
            disk_io,
            networks,
            tcp,
            watched,
            unavailable,
            collect_us: 0,
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn slow_readings(&mut self) -> Slow {
        let mut unavailable = Vec::new();
        let disks = self.disks.read(&mut unavailable);
        let networks = self.fallback.networks();
        let watched = self.fallback.watched(&self.config.watch, &mut unavailable);
        for (reading, reason) in [
            (
                "disk_io",
                "per-device I/O needs Linux procfs (/proc/diskstats)",
            ),
            ("tcp", "TCP states need Linux procfs (/proc/net/tcp)"),
        ] {
            unavailable.push(Unavailable::new(reading, reason));
        }
        Slow {
            disks,
            disk_io: Vec::new(),
            networks,
            tcp: TcpStats::default(),
            watched,
            unavailable,
            collect_us: 0,
        }
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}
