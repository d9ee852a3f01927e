//! Disks: space per mount (sysinfo, every platform) and I/O per block
//! device (`/proc/diskstats` deltas).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use sysinfo::{DiskRefreshKind, Disks};

use super::procfs::{self, ProcRoot};
use super::stats::{rate, DiskIo, DiskSpace, Unavailable};

/// Space on every mounted file system, one entry per mount point. The list
/// is read afresh so mounts that come and go are followed.
pub(crate) fn space(unavailable: &mut Vec<Unavailable>) -> Vec<DiskSpace> {
    let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage());
    let mut seen = HashSet::new();
    let space: Vec<DiskSpace> = disks
        .list()
        .iter()
        .filter(|d| seen.insert(d.mount_point().to_path_buf()))
        .map(|d| {
            let total = d.total_space();
            let free = d.available_space();
            let known = total > 0;
            DiskSpace {
                mount: d.mount_point().display().to_string(),
                device: d.name().to_string_lossy().into_owned(),
                file_system: d.file_system().to_string_lossy().into_owned(),
                total_bytes: known.then_some(total),
                free_bytes: known.then_some(free),
                used_pct: known
                    .then(|| (total.saturating_sub(free) as f64 / total as f64 * 100.0).min(100.0)),
            }
        })
        .collect();
    if space.is_empty() {
        unavailable.push(Unavailable::new(
            "disks",
            "no mounted file system was found (is /proc/mounts hidden?)",
        ));
    }
    space
}

/// Keeps each device's byte counters for the next delta.
#[derive(Default)]
pub(crate) struct DiskIoReader {
    previous: HashMap<String, (u64, u64)>,
    at: Option<Instant>,
}

impl DiskIoReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        unavailable: &mut Vec<Unavailable>,
    ) -> Vec<DiskIo> {
        let counters = match root.parse("diskstats", buf, procfs::parse_diskstats) {
            Ok(counters) => counters,
            Err(reason) => {
                unavailable.push(Unavailable::new("disk_io", reason));
                self.previous.clear();
                return Vec::new();
            }
        };
        let now = Instant::now();
        let secs = self
            .at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        let mut current = HashMap::with_capacity(counters.len());
        let io = counters
            .into_iter()
            .map(|c| {
                let previous = self.previous.get(&c.device).copied();
                current.insert(c.device.clone(), (c.read_bytes, c.write_bytes));
                DiskIo {
                    read_bytes_per_sec: rate(previous.map(|p| p.0), c.read_bytes, secs),
                    write_bytes_per_sec: rate(previous.map(|p| p.1), c.write_bytes, secs),
                    device: c.device,
                    read_bytes_total: c.read_bytes,
                    write_bytes_total: c.write_bytes,
                }
            })
            .collect();
        self.previous = current;
        self.at = Some(now);
        io
    }
}
