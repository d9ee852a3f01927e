//! The system and process families: the standard Prometheus `process_*`
//! names for this process, `system_*` for the machine, `watched_process_*`
//! for watched processes. A reading that is unavailable writes no sample
//! (its family still has HELP and TYPE) and shows in
//! `monitor_system_reading_unavailable`.

use super::text::{Kind, Value};
use super::{push_label, Writer};
use crate::system::{SystemStats, TcpStates};

/// Writes a family and its samples, `(labels, value)`; nothing when the
/// name is taken.
fn family<V: Into<Value>>(
    w: &mut Writer<'_>,
    name: &str,
    kind: Kind,
    help: &str,
    samples: impl IntoIterator<Item = (String, Option<V>)>,
) {
    if !w.family(name, kind, help) {
        return;
    }
    for (labels, value) in samples {
        if let Some(value) = value {
            w.sample(name, &labels, "", value);
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        push_label(&mut out, name, value);
    }
    out
}

fn one<V>(value: Option<V>) -> [(String, Option<V>); 1] {
    [(String::new(), value)]
}

fn ratio(pct: Option<f64>) -> Option<f64> {
    pct.map(|p| p / 100.0)
}

pub(super) fn system(w: &mut Writer<'_>, s: &SystemStats) {
    process(w, s);
    machine(w, s);
    storage_and_network(w, s);
    watched(w, s);
    family(
        w,
        "monitor_system_reading_unavailable",
        Kind::Gauge,
        "1 for each system reading that could not be taken this tick (the reason is in /api/v1/system).",
        s.unavailable
            .iter()
            .map(|u| (labels(&[("reading", &u.reading)]), Some(1u64))),
    );
}

fn process(w: &mut Writer<'_>, s: &SystemStats) {
    let p = &s.process;
    family(
        w,
        "process_cpu_seconds_total",
        Kind::Counter,
        "Total user and system CPU time spent in seconds.",
        one(p.cpu_seconds_total),
    );
    family(
        w,
        "process_resident_memory_bytes",
        Kind::Gauge,
        "Resident memory size in bytes.",
        one(p.rss_bytes),
    );
    family(
        w,
        "process_virtual_memory_bytes",
        Kind::Gauge,
        "Virtual memory size in bytes.",
        one(p.virtual_bytes),
    );
    family(
        w,
        "process_open_fds",
        Kind::Gauge,
        "Number of open file descriptors.",
        one(p.open_fds),
    );
    family(
        w,
        "process_threads",
        Kind::Gauge,
        "Number of OS threads in the process.",
        one(p.threads),
    );
    family(
        w,
        "process_cpu_usage_ratio",
        Kind::Gauge,
        "CPU use of this process since the previous tick, as a share of one core.",
        one(ratio(p.cpu_pct_of_core)),
    );
    family(
        w,
        "process_io_read_bytes_total",
        Kind::Counter,
        "Bytes this process read from storage.",
        one(p.read_bytes_total),
    );
    family(
        w,
        "process_io_written_bytes_total",
        Kind::Counter,
        "Bytes this process wrote to storage.",
        one(p.write_bytes_total),
    );
    family(
        w,
        "process_thread_cpu_seconds_total",
        Kind::Counter,
        "CPU time of each thread of this process, in seconds.",
        s.threads.iter().map(|t| {
            let tid = t.tid.to_string();
            (
                labels(&[("thread", &t.name), ("tid", &tid)]),
                Some(t.cpu_seconds_total),
            )
        }),
    );
    family(
        w,
        "monitor_thread_cpu_usage_ratio",
        Kind::Gauge,
        "CPU use of the monitor thread since the previous tick, as a share of one core.",
        one(ratio(s.monitor_cpu_pct)),
    );
    family(
        w,
        "monitor_system_collect_seconds",
        Kind::Gauge,
        "How long the system readings of the last tick took, in seconds.",
        one(Some(s.collect_us as f64 / 1e6)),
    );
    family(
        w,
        "process_tcp_connections",
        Kind::Gauge,
        "TCP sockets of this process by state.",
        tcp(s.tcp.process.as_ref()),
    );
}

fn tcp(states: Option<&TcpStates>) -> Vec<(String, Option<u64>)> {
    states
        .into_iter()
        .flatten()
        .map(|(state, n)| (labels(&[("state", state)]), Some(*n)))
        .collect()
}

fn machine(w: &mut Writer<'_>, s: &SystemStats) {
    let c = &s.cpu;
    family(
        w,
        "system_cpu_usage_ratio",
        Kind::Gauge,
        "Busy share of all cores since the previous tick.",
        one(ratio(c.total_pct)),
    );
    family(
        w,
        "system_cpu_core_usage_ratio",
        Kind::Gauge,
        "Busy share of each core since the previous tick.",
        c.per_core_pct
            .iter()
            .enumerate()
            .map(|(i, pct)| (labels(&[("core", &i.to_string())]), Some(pct / 100.0))),
    );
    family(
        w,
        "system_cpu_cores",
        Kind::Gauge,
        "Logical cores.",
        one(c.cores),
    );
    family(
        w,
        "system_load_average",
        Kind::Gauge,
        "Run-queue load average over 1, 5 and 15 minutes.",
        c.load_average.into_iter().flat_map(|l| {
            [("1m", l.one), ("5m", l.five), ("15m", l.fifteen)]
                .map(|(period, v)| (labels(&[("period", period)]), Some(v)))
        }),
    );
    let m = &s.memory;
    family(
        w,
        "system_memory_total_bytes",
        Kind::Gauge,
        "Physical memory in bytes.",
        one(m.total_bytes),
    );
    family(
        w,
        "system_memory_used_bytes",
        Kind::Gauge,
        "Memory in use (total minus available) in bytes.",
        one(m.used_bytes),
    );
    family(
        w,
        "system_memory_available_bytes",
        Kind::Gauge,
        "Memory available without swapping in bytes.",
        one(m.available_bytes),
    );
    family(
        w,
        "system_swap_total_bytes",
        Kind::Gauge,
        "Swap space in bytes.",
        one(m.swap_total_bytes),
    );
    family(
        w,
        "system_swap_used_bytes",
        Kind::Gauge,
        "Swap in use in bytes.",
        one(m.swap_used_bytes),
    );
    family(
        w,
        "system_tcp_connections",
        Kind::Gauge,
        "TCP sockets of the network namespace by state.",
        tcp(s.tcp.system.as_ref()),
    );
}

fn storage_and_network(w: &mut Writer<'_>, s: &SystemStats) {
    let mount = |m: &str| labels(&[("mount", m)]);
    family(
        w,
        "system_disk_total_bytes",
        Kind::Gauge,
        "Size of each mounted file system in bytes.",
        s.disks.iter().map(|d| (mount(&d.mount), d.total_bytes)),
    );
    family(
        w,
        "system_disk_free_bytes",
        Kind::Gauge,
        "Space available to unprivileged users on each mounted file system in bytes.",
        s.disks.iter().map(|d| (mount(&d.mount), d.free_bytes)),
    );
    family(
        w,
        "system_disk_used_ratio",
        Kind::Gauge,
        "Share of each mounted file system not available.",
        s.disks.iter().map(|d| (mount(&d.mount), ratio(d.used_pct))),
    );
    let device = |d: &str| labels(&[("device", d)]);
    family(
        w,
        "system_disk_read_bytes_total",
        Kind::Counter,
        "Bytes read from each block device since boot.",
        s.disk_io
            .iter()
            .map(|d| (device(&d.device), Some(d.read_bytes_total))),
    );
    family(
        w,
        "system_disk_written_bytes_total",
        Kind::Counter,
        "Bytes written to each block device since boot.",
        s.disk_io
            .iter()
            .map(|d| (device(&d.device), Some(d.write_bytes_total))),
    );
    let iface = |n: &str| labels(&[("interface", n)]);
    let nets = &s.networks;
    family(
        w,
        "system_network_receive_bytes_total",
        Kind::Counter,
        "Bytes received on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.rx_bytes_total))),
    );
    family(
        w,
        "system_network_transmit_bytes_total",
        Kind::Counter,
        "Bytes sent on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.tx_bytes_total))),
    );
    family(
        w,
        "system_network_receive_packets_total",
        Kind::Counter,
        "Packets received on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.rx_packets_total))),
    );
    family(
        w,
        "system_network_transmit_packets_total",
        Kind::Counter,
        "Packets sent on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.tx_packets_total))),
    );
    family(
        w,
        "system_network_receive_errors_total",
        Kind::Counter,
        "Receive errors on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.rx_errors_total))),
    );
    family(
        w,
        "system_network_transmit_errors_total",
        Kind::Counter,
        "Transmit errors on each interface.",
        nets.iter()
            .map(|n| (iface(&n.interface), Some(n.tx_errors_total))),
    );
    let target = |t: &str| labels(&[("target", t)]);
    family(
        w,
        "system_probe_up",
        Kind::Gauge,
        "1 when the last TCP connect to the target succeeded, else 0.",
        s.probes
            .iter()
            .map(|p| (target(&p.target), Some(u64::from(p.latency_ms.is_some())))),
    );
    family(
        w,
        "system_probe_connect_seconds",
        Kind::Gauge,
        "Duration of the last successful TCP connect to the target.",
        s.probes
            .iter()
            .map(|p| (target(&p.target), p.latency_ms.map(|ms| ms / 1e3))),
    );
}

fn watched(w: &mut Writer<'_>, s: &SystemStats) {
    let key = |p: &crate::system::WatchedProcess| {
        let pid = p.pid.to_string();
        labels(&[("watch", &p.watch), ("pid", &pid), ("name", &p.name)])
    };
    let ps = &s.watched;
    family(
        w,
        "watched_process_cpu_seconds_total",
        Kind::Counter,
        "CPU time of each watched process in seconds.",
        ps.iter().map(|p| (key(p), p.cpu_seconds_total)),
    );
    family(
        w,
        "watched_process_cpu_usage_ratio",
        Kind::Gauge,
        "CPU use of each watched process since the previous slow reading, as a share of one core.",
        ps.iter().map(|p| (key(p), ratio(p.cpu_pct_of_core))),
    );
    family(
        w,
        "watched_process_resident_memory_bytes",
        Kind::Gauge,
        "Resident memory of each watched process in bytes.",
        ps.iter().map(|p| (key(p), p.rss_bytes)),
    );
    family(
        w,
        "watched_process_virtual_memory_bytes",
        Kind::Gauge,
        "Virtual memory of each watched process in bytes.",
        ps.iter().map(|p| (key(p), p.virtual_bytes)),
    );
    family(
        w,
        "watched_process_threads",
        Kind::Gauge,
        "Threads of each watched process.",
        ps.iter().map(|p| (key(p), p.threads)),
    );
    family(
        w,
        "watched_process_open_fds",
        Kind::Gauge,
        "Open file descriptors of each watched process.",
        ps.iter().map(|p| (key(p), p.open_fds)),
    );
    family(
        w,
        "watched_process_io_read_bytes_total",
        Kind::Counter,
        "Bytes each watched process read from storage.",
        ps.iter().map(|p| (key(p), p.read_bytes_total)),
    );
    family(
        w,
        "watched_process_io_written_bytes_total",
        Kind::Counter,
        "Bytes each watched process wrote to storage.",
        ps.iter().map(|p| (key(p), p.write_bytes_total)),
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_well_formed, line, rendered};
    use crate::snapshot::Snapshot;
    use crate::system::{DiskSpace, SystemStats, Unavailable};

    #[test]
    fn figures_are_written_and_missing_ones_left_out() {
        let mut system = SystemStats::default();
        system.process.rss_bytes = Some(4096);
        system.process.cpu_pct_of_core = Some(50.0);
        system.cpu.per_core_pct = vec![10.0, 20.0];
        system.disks = vec![DiskSpace {
            mount: "/data \"x\"".into(),
            device: "sda1".into(),
            file_system: "ext4".into(),
            total_bytes: Some(100),
            free_bytes: Some(25),
            used_pct: Some(75.0),
        }];
        system.unavailable = vec![Unavailable::new("disk_io", "/proc/diskstats: denied")];
        let text = rendered(&Snapshot {
            system,
            ..Snapshot::default()
        });
        assert_well_formed(&text);
        assert_eq!(
            line(&text, "process_resident_memory_bytes "),
            "process_resident_memory_bytes 4096"
        );
        assert_eq!(
            line(&text, "process_cpu_usage_ratio "),
            "process_cpu_usage_ratio 0.5"
        );
        assert_eq!(
            line(&text, "system_cpu_core_usage_ratio{core=\"1\"}"),
            "system_cpu_core_usage_ratio{core=\"1\"} 0.2"
        );
        assert_eq!(
            line(&text, "system_disk_used_ratio{"),
            "system_disk_used_ratio{mount=\"/data \\\"x\\\"\"} 0.75"
        );
        assert_eq!(
            line(&text, "monitor_system_reading_unavailable{"),
            "monitor_system_reading_unavailable{reading=\"disk_io\"} 1"
        );
        // Unknown readings have a family but no sample.
        assert!(text.contains("# TYPE process_open_fds gauge\n"), "{text}");
        assert!(!text.contains("\nprocess_open_fds "), "{text}");
    }
}
