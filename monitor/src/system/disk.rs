//! Disks: space per mount (sysinfo, every platform, on a helper thread) and I/O per block
//! device (`/proc/diskstats` deltas).

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use sysinfo::{DiskRefreshKind, Disks};

use super::procfs::{self, ProcRoot};
use super::stats::{rate, DiskIo, DiskSpace, Unavailable};

/// How long a tick waits for the disk listing before going on without it.
const LISTING_WAIT: Duration = Duration::from_millis(200);

/// Space per mount, listed on a helper thread: `statvfs` on a hung network
/// mount blocks in the kernel, and must not block the monitor thread. At
/// most one listing runs; while one is stuck, the last result is shown and
/// the reading is marked unavailable.
pub(crate) struct DiskSpaceReader {
    pending: Option<(Receiver<Vec<DiskSpace>>, Instant)>,
    last: Vec<DiskSpace>,
    /// The listing (replaced in tests by a slow one).
    list: fn() -> Vec<DiskSpace>,
}

impl Default for DiskSpaceReader {
    fn default() -> Self {
        Self {
            pending: None,
            last: Vec::new(),
            list,
        }
    }
}

impl DiskSpaceReader {
    pub(crate) fn read(&mut self, unavailable: &mut Vec<Unavailable>) -> Vec<DiskSpace> {
        if self.pending.is_none() {
            let (sender, receiver) = mpsc::sync_channel(1);
            let list = self.list;
            let spawned = std::thread::Builder::new()
                .name("monitor-disks".into())
                .spawn(move || {
                    let _ = sender.send(list());
                });
            match spawned {
                Ok(_) => self.pending = Some((receiver, Instant::now())),
                Err(e) => {
                    unavailable.push(Unavailable::new(
                        "disks",
                        format!("cannot start the disk listing thread: {e}"),
                    ));
                    return self.last.clone();
                }
            }
        }
        if let Some((receiver, started)) = &self.pending {
            match receiver.recv_timeout(LISTING_WAIT) {
                Ok(disks) => {
                    self.pending = None;
                    self.last = disks;
                    if self.last.is_empty() {
                        unavailable.push(Unavailable::new(
                            "disks",
                            "no mounted file system was found (is /proc/mounts hidden?)",
                        ));
                    }
                }
                Err(RecvTimeoutError::Timeout) => unavailable.push(Unavailable::new(
                    "disks",
                    format!(
                        "listing the mounted file systems has not finished after {:.1?}; a mount \
                         (a network file system?) may be hung; the last listing is shown",
                        started.elapsed()
                    ),
                )),
                Err(RecvTimeoutError::Disconnected) => {
                    self.pending = None;
                    unavailable.push(Unavailable::new(
                        "disks",
                        "the disk listing thread failed (sysinfo panicked)",
                    ));
                }
            }
        }
        self.last.clone()
    }
}

/// Space on every mounted file system, one entry per mount point. The list
/// is read afresh so mounts that come and go are followed.
fn list() -> Vec<DiskSpace> {
    let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage());
    let mut seen = HashSet::new();
    disks
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
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(mount: &str) -> DiskSpace {
        DiskSpace {
            mount: mount.into(),
            device: "dev".into(),
            file_system: "fs".into(),
            total_bytes: Some(10),
            free_bytes: Some(5),
            used_pct: Some(50.0),
        }
    }

    #[test]
    fn a_hung_listing_keeps_the_last_result_and_is_marked() {
        fn slow() -> Vec<DiskSpace> {
            std::thread::sleep(Duration::from_millis(700));
            vec![disk("/slow")]
        }
        fn fast() -> Vec<DiskSpace> {
            vec![disk("/fast")]
        }
        let mut reader = DiskSpaceReader {
            list: fast,
            ..DiskSpaceReader::default()
        };
        let mut unavailable = Vec::new();
        assert_eq!(reader.read(&mut unavailable)[0].mount, "/fast");
        assert!(unavailable.is_empty());

        reader.list = slow;
        let shown = reader.read(&mut unavailable);
        assert_eq!(shown[0].mount, "/fast", "the last listing is shown");
        assert_eq!(unavailable.len(), 1);
        assert!(
            unavailable[0].reason.contains("may be hung"),
            "{unavailable:?}"
        );
        // Still running: no second thread, still marked.
        let begin = Instant::now();
        reader.read(&mut unavailable);
        assert!(begin.elapsed() < Duration::from_millis(600));
        assert_eq!(unavailable.len(), 2);
        // It finishes: its result shows.
        let mut marked = Vec::new();
        let mut shown = Vec::new();
        for _ in 0..20 {
            marked.clear();
            shown = reader.read(&mut marked);
            if shown[0].mount == "/slow" {
                break;
            }
        }
        assert_eq!(shown[0].mount, "/slow");
        assert!(marked.is_empty(), "{marked:?}");
    }

    #[test]
    fn the_real_listing_has_a_root_or_says_why_not() {
        let mut unavailable = Vec::new();
        let disks = DiskSpaceReader::default().read(&mut unavailable);
        assert!(!disks.is_empty() || !unavailable.is_empty());
        let mut mounts: Vec<&str> = disks.iter().map(|d| d.mount.as_str()).collect();
        let listed = mounts.len();
        mounts.sort_unstable();
        mounts.dedup();
        assert_eq!(mounts.len(), listed, "one entry per mount");
    }
}
