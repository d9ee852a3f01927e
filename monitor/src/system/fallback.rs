//! Readings through sysinfo, for platforms without Linux procfs: CPU,
//! memory, this process, network interfaces and watched processes. What
//! sysinfo cannot give (per-thread CPU, TCP states, per-device I/O) is
//! reported unavailable by the collector. Built on Linux too, so that its
//! tests run there.

use std::collections::HashMap;
use std::time::Instant;

use sysinfo::{Networks, Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System};

use super::stats::{
    CpuStats, LoadAverage, MemoryStats, NetworkStats, ProcessStats, Unavailable, WatchedProcess,
};
use crate::config::Watch;

/// sysinfo's state, refreshed selectively: never `refresh_all`.
pub(crate) struct Fallback {
    system: System,
    own_pid: Option<Pid>,
    /// sysinfo's first CPU reading is a baseline, not a figure.
    cpu_primed: bool,
    /// When each process was last refreshed (rates need it).
    refreshed: HashMap<Pid, Instant>,
    networks: Option<(Networks, Instant)>,
}

fn process_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .with_disk_usage()
}

impl Fallback {
    pub(crate) fn new() -> Self {
        Self {
            system: System::new(),
            own_pid: sysinfo::get_current_pid().ok(),
            cpu_primed: false,
            refreshed: HashMap::new(),
            networks: None,
        }
    }

    pub(crate) fn cpu(&mut self) -> CpuStats {
        self.system.refresh_cpu_usage();
        let primed = std::mem::replace(&mut self.cpu_primed, true);
        let cpus = self.system.cpus();
        let load = System::load_average();
        CpuStats {
            cores: Some(cpus.len()).filter(|&n| n > 0),
            total_pct: primed.then(|| f64::from(self.system.global_cpu_usage())),
            per_core_pct: if primed {
                cpus.iter().map(|c| f64::from(c.cpu_usage())).collect()
            } else {
                Vec::new()
            },
            load_average: Some(LoadAverage {
                one: load.one,
                five: load.five,
                fifteen: load.fifteen,
            }),
        }
    }

    pub(crate) fn memory(&mut self, unavailable: &mut Vec<Unavailable>) -> MemoryStats {
        self.system.refresh_memory();
        let total = self.system.total_memory();
        if total == 0 {
            unavailable.push(Unavailable::new("memory", "sysinfo reports no memory"));
            return MemoryStats::default();
        }
        MemoryStats {
            total_bytes: Some(total),
            used_bytes: Some(self.system.used_memory()),
            available_bytes: Some(self.system.available_memory()),
            swap_total_bytes: Some(self.system.total_swap()),
            swap_used_bytes: Some(self.system.used_swap()),
        }
    }

    /// Refreshes `pids` and returns the seconds since each was last refreshed.
    fn refresh(&mut self, pids: &[Pid]) -> HashMap<Pid, Option<f64>> {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(pids),
            true,
            process_kind(),
        );
        let now = Instant::now();
        pids.iter()
            .map(|pid| {
                let secs = self
                    .refreshed
                    .insert(*pid, now)
                    .map(|at| now.duration_since(at).as_secs_f64());
                (*pid, secs)
            })
            .collect()
    }

    pub(crate) fn process(
        &mut self,
        cores: Option<usize>,
        unavailable: &mut Vec<Unavailable>,
    ) -> ProcessStats {
        let mut stats = ProcessStats {
            pid: std::process::id(),
            ..ProcessStats::default()
        };
        let Some(pid) = self.own_pid else {
            unavailable.push(Unavailable::new(
                "process",
                "sysinfo cannot tell this process's id",
            ));
            return stats;
        };
        let secs = self.refresh(&[pid]).get(&pid).copied().flatten();
        let Some(p) = self.system.process(pid) else {
            unavailable.push(Unavailable::new(
                "process",
                "sysinfo cannot read this process",
            ));
            return stats;
        };
        let f = figures(p, secs);
        stats.cpu_seconds_total = f.cpu_seconds_total;
        stats.cpu_pct_of_core = f.cpu_pct_of_core;
        stats.cpu_pct_of_machine = f
            .cpu_pct_of_core
            .zip(cores.filter(|&c| c > 0))
            .map(|(pct, cores)| pct / cores as f64);
        stats.rss_bytes = f.rss_bytes;
        stats.virtual_bytes = f.virtual_bytes;
        stats.threads = p.tasks().map(|t| t.len() as u64);
        stats.open_fds = p.open_files().map(|n| n as u64);
        stats.read_bytes_total = f.read_bytes_total;
        stats.write_bytes_total = f.write_bytes_total;
        stats.read_bytes_per_sec = f.read_bytes_per_sec;
        stats.write_bytes_per_sec = f.write_bytes_per_sec;
        stats
    }

    pub(crate) fn networks(&mut self) -> Vec<NetworkStats> {
        let now = Instant::now();
        let secs = match &mut self.networks {
            Some((networks, at)) => {
                networks.refresh(true);
                let secs = now.duration_since(*at).as_secs_f64();
                *at = now;
                Some(secs)
            }
            None => {
                self.networks = Some((Networks::new_with_refreshed_list(), now));
                None
            }
        };
        let Some((networks, _)) = &self.networks else {
            return Vec::new();
        };
        let per_sec = |delta: u64| secs.filter(|&s| s > 0.0).map(|s| delta as f64 / s);
        let mut stats: Vec<NetworkStats> = networks
            .list()
            .iter()
            .map(|(name, n)| NetworkStats {
                interface: name.clone(),
                rx_bytes_total: n.total_received(),
                tx_bytes_total: n.total_transmitted(),
                rx_packets_total: n.total_packets_received(),
                tx_packets_total: n.total_packets_transmitted(),
                rx_errors_total: n.total_errors_on_received(),
                tx_errors_total: n.total_errors_on_transmitted(),
                rx_bytes_per_sec: per_sec(n.received()),
                tx_bytes_per_sec: per_sec(n.transmitted()),
                rx_packets_per_sec: per_sec(n.packets_received()),
                tx_packets_per_sec: per_sec(n.packets_transmitted()),
            })
            .collect();
        stats.sort_by(|a, b| a.interface.cmp(&b.interface));
        stats
    }

    pub(crate) fn watched(
        &mut self,
        watch: &[Watch],
        unavailable: &mut Vec<Unavailable>,
    ) -> Vec<WatchedProcess> {
        if watch.iter().any(|w| matches!(w, Watch::Name(_))) {
            // Names need the process list; this is a slow reading.
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::All,
                true,
                ProcessRefreshKind::nothing(),
            );
        }
        let mut found = Vec::new();
        for entry in watch {
            let reading = format!("watch:{entry}");
            let pids: Vec<Pid> = match entry {
                Watch::Pid(pid) => vec![Pid::from_u32(*pid)],
                Watch::Name(name) => self
                    .system
                    .processes()
                    .values()
                    .filter(|p| p.name().to_str() == Some(name.as_str()))
                    .map(Process::pid)
                    .collect(),
            };
            let secs = self.refresh(&pids);
            let before = found.len();
            for pid in pids {
                let Some(p) = self.system.process(pid) else {
                    continue;
                };
                let f = figures(p, secs.get(&pid).copied().flatten());
                found.push(WatchedProcess {
                    watch: entry.to_string(),
                    pid: pid.as_u32(),
                    name: p.name().to_string_lossy().into_owned(),
                    cpu_pct_of_core: f.cpu_pct_of_core,
                    cpu_seconds_total: f.cpu_seconds_total,
                    rss_bytes: f.rss_bytes,
                    virtual_bytes: f.virtual_bytes,
                    threads: p.tasks().map(|t| t.len() as u64),
                    open_fds: p.open_files().map(|n| n as u64),
                    read_bytes_total: f.read_bytes_total,
                    write_bytes_total: f.write_bytes_total,
                    read_bytes_per_sec: f.read_bytes_per_sec,
                    write_bytes_per_sec: f.write_bytes_per_sec,
                });
            }
            if found.len() == before {
                unavailable.push(Unavailable::new(
                    reading,
                    format!("no running process matches {entry}"),
                ));
            }
        }
        found
    }
}

/// sysinfo's figures of one process; rates only after a first refresh.
struct Figures {
    cpu_seconds_total: Option<f64>,
    cpu_pct_of_core: Option<f64>,
    rss_bytes: Option<u64>,
    virtual_bytes: Option<u64>,
    read_bytes_total: Option<u64>,
    write_bytes_total: Option<u64>,
    read_bytes_per_sec: Option<f64>,
    write_bytes_per_sec: Option<f64>,
}

fn figures(p: &Process, secs: Option<f64>) -> Figures {
    let disk = p.disk_usage();
    let secs = secs.filter(|&s| s > 0.0);
    Figures {
        cpu_seconds_total: Some(p.accumulated_cpu_time() as f64 / 1e3),
        cpu_pct_of_core: secs.map(|_| f64::from(p.cpu_usage())),
        rss_bytes: Some(p.memory()),
        virtual_bytes: Some(p.virtual_memory()),
        read_bytes_total: Some(disk.total_read_bytes),
        write_bytes_total: Some(disk.total_written_bytes),
        read_bytes_per_sec: secs.map(|s| disk.read_bytes as f64 / s),
        write_bytes_per_sec: secs.map(|s| disk.written_bytes as f64 / s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysinfo_readings_have_no_rates_at_first_then_figures() {
        let mut fallback = Fallback::new();
        let mut unavailable = Vec::new();
        let cpu = fallback.cpu();
        assert_eq!(cpu.total_pct, None, "the first reading is a baseline");
        let memory = fallback.memory(&mut unavailable);
        assert!(memory.total_bytes.is_some_and(|t| t > 0));
        let first = fallback.process(cpu.cores, &mut unavailable);
        assert_eq!(first.cpu_pct_of_core, None);
        assert!(first.rss_bytes.is_some_and(|r| r > 0), "{first:?}");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let cpu = fallback.cpu();
        assert!(cpu.total_pct.is_some(), "{cpu:?}");
        let second = fallback.process(cpu.cores, &mut unavailable);
        assert!(second.cpu_pct_of_core.is_some(), "{second:?}");
        assert!(unavailable.is_empty(), "{unavailable:?}");

        let own = Watch::Pid(std::process::id());
        let missing = Watch::Name("no-such-process-name".into());
        let watched = fallback.watched(&[own, missing], &mut unavailable);
        assert_eq!(watched.len(), 1);
        assert_eq!(watched[0].pid, std::process::id());
        assert_eq!(unavailable.len(), 1, "{unavailable:?}");
        assert_eq!(unavailable[0].reading, "watch:no-such-process-name");
        fallback.networks();
        let networks = fallback.networks();
        assert!(networks.iter().any(|n| n.interface == "lo"), "{networks:?}");
    }
}
