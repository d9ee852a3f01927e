//! Network: per-interface traffic from `/proc/net/dev` deltas, and TCP
//! connections by state from `/proc/net/tcp{,6}`, system-wide and for this
//! process's own sockets (matched by the socket inodes in `/proc/self/fd`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::procfs::{self, NetCounters, ProcRoot, TcpSocket, TCP_STATES};
use super::stats::{rate, NetworkStats, TcpStates, TcpStats, Unavailable};

/// Keeps each interface's counters for the next delta.
#[derive(Default)]
pub(crate) struct NetReader {
    previous: HashMap<String, NetCounters>,
    at: Option<Instant>,
}

impl NetReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        unavailable: &mut Vec<Unavailable>,
    ) -> Vec<NetworkStats> {
        let counters = match root.parse("net/dev", buf, procfs::parse_net_dev) {
            Ok(counters) => counters,
            Err(reason) => {
                unavailable.push(Unavailable::new("networks", reason));
                self.previous.clear();
                return Vec::new();
            }
        };
        let now = Instant::now();
        let secs = self
            .at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        let stats = counters
            .iter()
            .map(|c| {
                let p = self.previous.get(&c.interface);
                NetworkStats {
                    interface: c.interface.clone(),
                    rx_bytes_total: c.rx_bytes,
                    tx_bytes_total: c.tx_bytes,
                    rx_packets_total: c.rx_packets,
                    tx_packets_total: c.tx_packets,
                    rx_errors_total: c.rx_errors,
                    tx_errors_total: c.tx_errors,
                    rx_bytes_per_sec: rate(p.map(|p| p.rx_bytes), c.rx_bytes, secs),
                    tx_bytes_per_sec: rate(p.map(|p| p.tx_bytes), c.tx_bytes, secs),
                    rx_packets_per_sec: rate(p.map(|p| p.rx_packets), c.rx_packets, secs),
                    tx_packets_per_sec: rate(p.map(|p| p.tx_packets), c.tx_packets, secs),
                }
            })
            .collect();
        self.previous = counters
            .into_iter()
            .map(|c| (c.interface.clone(), c))
            .collect();
        self.at = Some(now);
        stats
    }
}

/// Every state at zero.
fn zero_states() -> TcpStates {
    TCP_STATES.iter().map(|&s| (s, 0)).collect()
}

/// TCP connections by state, system-wide and for this process.
pub(crate) fn tcp(
    root: &ProcRoot,
    buf: &mut String,
    unavailable: &mut Vec<Unavailable>,
) -> TcpStats {
    let mut sockets: Vec<TcpSocket> = Vec::new();
    let mut read_any = false;
    for file in ["net/tcp", "net/tcp6"] {
        match root.parse(file, buf, procfs::parse_tcp) {
            Ok(found) => {
                read_any = true;
                sockets.extend(found);
            }
            // A kernel without IPv6 has no tcp6: not worth a mark when tcp was read.
            Err(_) if file == "net/tcp6" && !root.path(file).exists() && read_any => {}
            Err(reason) => unavailable.push(Unavailable::new("tcp", reason)),
        }
    }
    if !read_any {
        return TcpStats::default();
    }
    let mut system = zero_states();
    for s in &sockets {
        *system.entry(TCP_STATES[s.state]).or_default() += 1;
    }
    let process = match own_socket_inodes(root) {
        Ok(inodes) => {
            let mut own = zero_states();
            for s in sockets
                .iter()
                .filter(|s| s.inode != 0 && inodes.contains(&s.inode))
            {
                *own.entry(TCP_STATES[s.state]).or_default() += 1;
            }
            Some(own)
        }
        Err(reason) => {
            unavailable.push(Unavailable::new("process_tcp", reason));
            None
        }
    };
    TcpStats {
        system: Some(system),
        process,
    }
}

/// The inodes of the sockets among this process's descriptors.
fn own_socket_inodes(root: &ProcRoot) -> Result<HashSet<u64>, String> {
    let fds = root.numeric_entries("self/fd")?;
    Ok(fds
        .into_iter()
        // A descriptor closed since the listing has no link: skip it.
        .filter_map(|fd| root.read_link(&format!("self/fd/{fd}")).ok())
        .filter_map(|link| procfs::socket_inode(&link))
        .collect())
}
