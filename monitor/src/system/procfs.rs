//! Reading `/proc` (or a stand-in directory, for tests and for a host's
//! procfs mounted into a container) and pure parsers of its files. Every
//! parser takes the file's text and returns what it needs or a reason that
//! says what was wrong; [`ProcRoot::parse`] puts the file's path before it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The kernel's fixed unit of CPU times in `/proc` (`USER_HZ`), 100 on every
/// architecture Rust supports on Linux.
pub(crate) const TICKS_PER_SECOND: f64 = 100.0;

/// Bytes per sector in `/proc/diskstats`, whatever the device's own size.
const SECTOR_BYTES: u64 = 512;

/// A procfs root: `/proc`, or a directory laid out like it.
#[derive(Clone, Debug)]
pub(crate) struct ProcRoot {
    root: PathBuf,
}

impl ProcRoot {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of `relative` (like `self/stat`) under the root.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Reads `relative` and parses it; the error names the file, then what
    /// was wrong with it.
    pub(crate) fn parse<T>(
        &self,
        relative: &str,
        buf: &mut String,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, String> {
        self.read_into(relative, buf)?;
        parse(buf).map_err(|what| format!("{}: {what}", self.path(relative).display()))
    }

    /// Reads `relative` into `buf` (cleared first); the error names the file.
    pub(crate) fn read_into(&self, relative: &str, buf: &mut String) -> Result<(), String> {
        buf.clear();
        let path = self.path(relative);
        fs::File::open(&path)
            .and_then(|mut f| f.read_to_string(buf))
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Entries of directory `relative` whose names are numbers (pids, tids, fds).
    pub(crate) fn numeric_entries(&self, relative: &str) -> Result<Vec<u32>, String> {
        let path = self.path(relative);
        let entries = fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect())
    }

    /// How many entries directory `relative` has (open descriptors).
    pub(crate) fn count_entries(&self, relative: &str) -> Result<u64, String> {
        let path = self.path(relative);
        let entries = fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(entries.filter(|e| e.is_ok()).count() as u64)
    }

    /// The target of symbolic link `relative`.
    pub(crate) fn read_link(&self, relative: &str) -> Result<PathBuf, String> {
        let path = self.path(relative);
        fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The root itself, for messages.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
}

fn number<T: std::str::FromStr>(field: &str, text: Option<&str>) -> Result<T, String> {
    let text = text.ok_or_else(|| format!("{field} is missing"))?;
    text.parse()
        .map_err(|_| format!("{field} is not a number: {text:?}"))
}

/// Busy and total CPU time of one line of `/proc/stat`, in ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    pub busy: u64,
    pub total: u64,
}

impl CpuTime {
    /// Busy share of the time between `earlier` and `self`, 0-100; `None`
    /// when no time passed or the counters went backwards.
    pub(crate) fn busy_pct_since(&self, earlier: &CpuTime) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let busy = self.busy.checked_sub(earlier.busy)?;
        if total == 0 {
            return None;
        }
        Some((busy as f64 / total as f64 * 100.0).min(100.0))
    }
}

/// The `cpu` and `cpuN` lines of `/proc/stat`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    pub all: CpuTime,
    pub cores: Vec<CpuTime>,
}

/// Parses `/proc/stat`: user nice system idle iowait irq softirq steal
/// (guest time is already in user). Idle and iowait count as not busy.
pub(crate) fn parse_stat(text: &str) -> Result<CpuTimes, String> {
    let mut all = None;
    let mut cores = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(label) = fields.next() else { continue };
        if !label.starts_with("cpu") {
            continue;
        }
        let values = fields
            .take(8)
            .map(|v| number::<u64>(label, Some(v)))
            .collect::<Result<Vec<_>, _>>()?;
        if values.len() < 4 {
            return Err(format!(
                "{label} has {} fields, expected at least 4",
                values.len()
            ));
        }
        let total: u64 = values.iter().sum();
        let idle = values[3] + values.get(4).copied().unwrap_or(0);
        let time = CpuTime {
            busy: total.saturating_sub(idle),
            total,
        };
        if label == "cpu" {
            all = Some(time);
        } else {
            cores.push(time);
        }
    }
    let all = all.ok_or_else(|| "no `cpu` line".to_string())?;
    Ok(CpuTimes { all, cores })
}

/// Parses `/proc/loadavg` (`0.52 0.58 0.59 1/467 12345`).
pub(crate) fn parse_loadavg(text: &str) -> Result<[f64; 3], String> {
    let mut fields = text.split_ascii_whitespace();
    Ok([
        number("the 1-minute load", fields.next())?,
        number("the 5-minute load", fields.next())?,
        number("the 15-minute load", fields.next())?,
    ])
}

/// The lines of `/proc/meminfo` the monitor uses, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemInfo {
    pub total: u64,
    pub available: Option<u64>,
    pub swap_total: Option<u64>,
    pub swap_free: Option<u64>,
}

/// Parses `/proc/meminfo` (`MemTotal:  16316412 kB`); only `MemTotal` is required.
pub(crate) fn parse_meminfo(text: &str) -> Result<MemInfo, String> {
    let mut total = None;
    let mut info = MemInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "MemTotal" => &mut total,
            "MemAvailable" => &mut info.available,
            "SwapTotal" => &mut info.swap_total,
            "SwapFree" => &mut info.swap_free,
            _ => continue,
        };
        *slot = Some(kilobytes(key, value)?);
    }
    info.total = total.ok_or_else(|| "no MemTotal line".to_string())?;
    Ok(info)
}

/// `  123456 kB` to bytes.
fn kilobytes(key: &str, value: &str) -> Result<u64, String> {
    let digits = value.trim().trim_end_matches("kB").trim();
    let kb: u64 = number(key, Some(digits))?;
    Ok(kb.saturating_mul(1024))
}

/// The fields of `/proc/<pid>/stat` (or `task/<tid>/stat`) the monitor uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PidStat {
    /// The command name between the parentheses (may hold spaces and parentheses).
    pub name: String,
    /// User plus system time, in ticks.
    pub cpu_ticks: u64,
    pub threads: u64,
    /// Start time after boot, in ticks: with the pid it identifies a process.
    pub start_ticks: u64,
}

/// Parses `/proc/<pid>/stat`: `pid (comm) state ppid ... utime stime ...`.
pub(crate) fn parse_pid_stat(text: &str) -> Result<PidStat, String> {
    let open = text
        .find('(')
        .ok_or_else(|| "no `(` before the command name".to_string())?;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| "no `)` after the command name".to_string())?;
    let name = text[open + 1..close].to_string();
    // Fields after the name, from field 3 (state) on.
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    let field = |n: usize, what: &str| number::<u64>(what, rest.get(n - 3).copied());
    let utime = field(14, "utime (field 14)")?;
    let stime = field(15, "stime (field 15)")?;
    Ok(PidStat {
        name,
        cpu_ticks: utime.saturating_add(stime),
        threads: field(20, "num_threads (field 20)")?,
        start_ticks: field(22, "starttime (field 22)")?,
    })
}

/// The lines of `/proc/<pid>/status` the monitor uses, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PidStatus {
    /// Kernel threads have no memory lines.
    pub rss: Option<u64>,
    pub virtual_size: Option<u64>,
    pub threads: Option<u64>,
}

/// Parses `/proc/<pid>/status` (`VmRSS: 10240 kB`, `Threads: 4`, tab-separated).
pub(crate) fn parse_pid_status(text: &str) -> Result<PidStatus, String> {
    let mut status = PidStatus::default();
    let mut seen_name = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "Name" => seen_name = true,
            "VmRSS" => status.rss = Some(kilobytes(key, value)?),
            "VmSize" => status.virtual_size = Some(kilobytes(key, value)?),
            "Threads" => status.threads = Some(number(key, Some(value.trim()))?),
            _ => {}
        }
    }
    if !seen_name {
        return Err("no Name line; not a status file".to_string());
    }
    Ok(status)
}

/// Storage bytes from `/proc/<pid>/io`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PidIo {
    pub read_bytes: u64,
    pub write_bytes: u64,
}

/// Parses `/proc/<pid>/io` (`read_bytes: 4096`, `write_bytes: 0`).
pub(crate) fn parse_pid_io(text: &str) -> Result<PidIo, String> {
    let mut read = None;
    let mut write = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "read_bytes" => read = Some(number(key, Some(value.trim()))?),
            "write_bytes" => write = Some(number(key, Some(value.trim()))?),
            _ => {}
        }
    }
    Ok(PidIo {
        read_bytes: read.ok_or_else(|| "no read_bytes line".to_string())?,
        write_bytes: write.ok_or_else(|| "no write_bytes line".to_string())?,
    })
}

/// Bytes moved by one block device, from `/proc/diskstats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DiskCounters {
    pub device: String,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

/// Parses `/proc/diskstats`: `major minor name reads merged sectors_read ms
/// writes merged sectors_written ...`. Loop and RAM devices are left out.
pub(crate) fn parse_diskstats(text: &str) -> Result<Vec<DiskCounters>, String> {
    let mut disks = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let device = fields
            .get(2)
            .ok_or_else(|| format!("line {line:?} has no device name"))?;
        if device.starts_with("loop") || device.starts_with("ram") {
            continue;
        }
        let sectors_read: u64 = number("sectors read", fields.get(5).copied())?;
        let sectors_written: u64 = number("sectors written", fields.get(9).copied())?;
        disks.push(DiskCounters {
            device: device.to_string(),
            read_bytes: sectors_read.saturating_mul(SECTOR_BYTES),
            write_bytes: sectors_written.saturating_mul(SECTOR_BYTES),
        });
    }
    Ok(disks)
}

/// Counters of one interface, from `/proc/net/dev`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NetCounters {
    pub interface: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
}

/// Parses `/proc/net/dev`: two header lines, then `iface: rx_bytes
/// rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed rx_multicast
/// tx_bytes tx_packets tx_errs ...`.
pub(crate) fn parse_net_dev(text: &str) -> Result<Vec<NetCounters>, String> {
    let mut interfaces = Vec::new();
    for line in text.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let (name, counters) = line
            .split_once(':')
            .ok_or_else(|| format!("line {line:?} has no `interface:`"))?;
        let name = name.trim();
        let values = counters
            .split_ascii_whitespace()
            .map(|v| number::<u64>(name, Some(v)))
            .collect::<Result<Vec<_>, _>>()?;
        if values.len() < 11 {
            return Err(format!("{name} has {} counters, expected 16", values.len()));
        }
        interfaces.push(NetCounters {
            interface: name.to_string(),
            rx_bytes: values[0],
            rx_packets: values[1],
            rx_errors: values[2],
            tx_bytes: values[8],
            tx_packets: values[9],
            tx_errors: values[10],
        });
    }
    Ok(interfaces)
}

/// TCP states as numbered in `/proc/net/tcp`, from 1.
pub(crate) const TCP_STATES: [&str; 12] = [
    "established",
    "syn_sent",
    "syn_recv",
    "fin_wait1",
    "fin_wait2",
    "time_wait",
    "close",
    "close_wait",
    "last_ack",
    "listen",
    "closing",
    "new_syn_recv",
];

/// One socket of `/proc/net/tcp` or `tcp6`: its state (index into
/// [`TCP_STATES`]) and inode (0 for sockets without one, like `time_wait`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TcpSocket {
    pub state: usize,
    pub inode: u64,
}

/// Parses `/proc/net/tcp` or `/proc/net/tcp6`: a header line, then
/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
pub(crate) fn parse_tcp(text: &str) -> Result<Vec<TcpSocket>, String> {
    let mut sockets = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let state = fields
            .get(3)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .filter(|s| (1..=TCP_STATES.len() as u8).contains(s))
            .ok_or_else(|| format!("line {line:?} has no known state"))?;
        let inode = number("inode", fields.get(9).copied())?;
        sockets.push(TcpSocket {
            state: usize::from(state - 1),
            inode,
        });
    }
    Ok(sockets)
}

/// Parses `/proc/<pid>/task/<tid>/schedstat` (`on-CPU ns, wait ns, slices`):
/// the time on CPU in nanoseconds.
pub(crate) fn parse_schedstat(text: &str) -> Result<u64, String> {
    number(
        "the time on CPU (field 1)",
        text.split_ascii_whitespace().next(),
    )
}

/// The inode of a descriptor link like `socket:[12345]`; `None` for other files.
pub(crate) fn socket_inode(link: &Path) -> Option<u64> {
    link.to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The thread id in the target of `/proc/thread-self` (`1234/task/1240`).
pub(crate) fn thread_self_tid(link: &Path) -> Option<u32> {
    link.file_name()?.to_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  4705 356 584 3699 23 23 0 0 0 0\n\
cpu0 1393 280 262 1822 12 21 0 0 0 0\n\
cpu1 3312 76 322 1877 11 2 0 0 0 0\n\
intr 114930548 113199788 3 0 5 263 0 4 [... lots more numbers ...]\n\
ctxt 1990473\nbtime 1062191376\nprocesses 2915\n";

    #[test]
    fn stat_gives_busy_and_total_per_core() {
        let times = parse_stat(STAT).unwrap();
        assert_eq!(times.cores.len(), 2);
        assert_eq!(times.all.total, 4705 + 356 + 584 + 3699 + 23 + 23);
        assert_eq!(times.all.busy, 4705 + 356 + 584 + 23);
        let later = CpuTime {
            busy: times.all.busy + 30,
            total: times.all.total + 120,
        };
        assert_eq!(later.busy_pct_since(&times.all), Some(25.0));
        assert_eq!(times.all.busy_pct_since(&times.all), None);
        assert_eq!(times.all.busy_pct_since(&later), None, "backwards");
    }

    #[test]
    fn broken_stat_names_the_fault() {
        let e = parse_stat("intr 1 2 3\n").unwrap_err();
        assert_eq!(e, "no `cpu` line");
        let e = parse_stat("cpu 1 2 x 4\n").unwrap_err();
        assert!(e.starts_with("cpu is not a number"), "{e}");
        let e = parse_stat("cpu 1 2\n").unwrap_err();
        assert!(e.contains("expected at least 4"), "{e}");
    }

    #[test]
    fn loadavg() {
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 1/467 12345\n").unwrap(),
            [0.52, 0.58, 0.59]
        );
        assert!(parse_loadavg("0.52").unwrap_err().contains("5-minute"));
    }

    #[test]
    fn meminfo() {
        let text = "MemTotal:       16316412 kB\nMemFree:         1234 kB\n\
MemAvailable:    8000000 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n";
        let info = parse_meminfo(text).unwrap();
        assert_eq!(info.total, 16316412 * 1024);
        assert_eq!(info.available, Some(8000000 * 1024));
        assert_eq!(info.swap_free, Some(2097148 * 1024));
        // Old kernels have no MemAvailable; only MemTotal is required.
        let old = parse_meminfo("MemTotal: 10 kB\n").unwrap();
        assert_eq!(old.available, None);
        assert!(parse_meminfo("MemFree: 1 kB\n")
            .unwrap_err()
            .contains("no MemTotal"));
        assert!(parse_meminfo("MemTotal: lots kB\n")
            .unwrap_err()
            .contains("MemTotal is not a number"));
    }

    #[test]
    fn pid_stat_with_an_awkward_name() {
        let text = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 5000 0 0 0 \
250 50 0 0 20 0 7 0 123456 1000000 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let stat = parse_pid_stat(text).unwrap();
        assert_eq!(stat.name, "my (odd) name");
        assert_eq!(stat.cpu_ticks, 300);
        assert_eq!(stat.threads, 7);
        assert_eq!(stat.start_ticks, 123456);
        let e = parse_pid_stat("1 (x) S 1 2 3").unwrap_err();
        assert_eq!(e, "utime (field 14) is missing");
        let e = parse_pid_stat("garbage").unwrap_err();
        assert!(e.contains("no `(`"), "{e}");
    }

    #[test]
    fn pid_status_and_io() {
        let status = "Name:\tcat\nState:\tR (running)\nVmSize:\t    5000 kB\nVmRSS:\t     700 kB\nThreads:\t1\n";
        let s = parse_pid_status(status).unwrap();
        assert_eq!(s.rss, Some(700 * 1024));
        assert_eq!(s.virtual_size, Some(5000 * 1024));
        assert_eq!(s.threads, Some(1));
        let kernel = parse_pid_status("Name:\tkthreadd\nThreads:\t1\n").unwrap();
        assert_eq!(kernel.rss, None);
        assert!(parse_pid_status("VmRSS: x kB\nName: a\n").is_err());
        assert!(parse_pid_status("\u{0}\u{1}")
            .unwrap_err()
            .contains("no Name"));

        let io = "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 8192\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n";
        assert_eq!(
            parse_pid_io(io).unwrap(),
            PidIo {
                read_bytes: 8192,
                write_bytes: 4096
            }
        );
        assert_eq!(
            parse_pid_io("rchar: 1\n").unwrap_err(),
            "no read_bytes line"
        );
    }

    #[test]
    fn diskstats() {
        let text = "   7       0 loop0 52 0 2146 12 0 0 0 0 0 28 12 0 0 0 0\n\
 259       0 nvme0n1 118425 40171 9614270 26937 271960 191937 15258096 212411 0 188872 256013 0 0 0 0\n\
   8       1 sda1 10 0 20 1 5 0 8 1 0 2 2\n";
        let disks = parse_diskstats(text).unwrap();
        assert_eq!(disks.len(), 2, "loop devices left out");
        assert_eq!(disks[0].device, "nvme0n1");
        assert_eq!(disks[0].read_bytes, 9614270 * 512);
        assert_eq!(disks[0].write_bytes, 15258096 * 512);
        assert!(parse_diskstats("8 1 sda1 10 0\n")
            .unwrap_err()
            .contains("sectors read is missing"));
    }

    #[test]
    fn net_dev() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n  \
eth0: 98765 432 1 0 0 0 0 0 12345 210 2 0 0 0 0 0\n";
        let ifaces = parse_net_dev(text).unwrap();
        assert_eq!(ifaces.len(), 2);
        assert_eq!(
            ifaces[1],
            NetCounters {
                interface: "eth0".into(),
                rx_bytes: 98765,
                rx_packets: 432,
                rx_errors: 1,
                tx_bytes: 12345,
                tx_packets: 210,
                tx_errors: 2,
            }
        );
        assert!(parse_net_dev("h\nh\neth0 1 2 3\n")
            .unwrap_err()
            .contains("no `interface:`"));
        assert!(parse_net_dev("h\nh\neth0: 1 2 3\n")
            .unwrap_err()
            .contains("expected 16"));
    }

    #[test]
    fn tcp_sockets() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 51234 1 0000000000000000 100 0 0 10 0\n   \
1: 0100007F:D2F0 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 51300 1 0000000000000000 20 4 30 10 -1\n";
        let sockets = parse_tcp(text).unwrap();
        assert_eq!(
            sockets,
            vec![
                TcpSocket {
                    state: 9,
                    inode: 51234
                },
                TcpSocket {
                    state: 0,
                    inode: 51300
                }
            ]
        );
        assert_eq!(TCP_STATES[sockets[0].state], "listen");
        let e = parse_tcp("h\n 0: a b ZZ c d e 0 0 1\n").unwrap_err();
        assert!(e.starts_with("line"), "{e}");
        assert!(e.contains("no known state"), "{e}");
    }

    #[test]
    fn a_parse_error_names_the_file_under_the_root() {
        let dir = std::env::temp_dir().join(format!("monitor-procfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("loadavg"), "high\n").unwrap();
        let root = ProcRoot::new(&dir);
        let mut buf = String::new();
        let e = root.parse("loadavg", &mut buf, parse_loadavg).unwrap_err();
        assert_eq!(
            e,
            format!(
                "{}: the 1-minute load is not a number: \"high\"",
                dir.join("loadavg").display()
            )
        );
        let e = root.parse("stat", &mut buf, parse_stat).unwrap_err();
        assert!(
            e.starts_with(&dir.join("stat").display().to_string()),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn schedstat() {
        assert_eq!(parse_schedstat("123456789 5000 42\n"), Ok(123456789));
        assert!(parse_schedstat("").unwrap_err().contains("missing"));
        assert!(parse_schedstat("x 1 2")
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn links() {
        assert_eq!(socket_inode(Path::new("socket:[4242]")), Some(4242));
        assert_eq!(socket_inode(Path::new("/dev/null")), None);
        assert_eq!(socket_inode(Path::new("pipe:[1]")), None);
        assert_eq!(thread_self_tid(Path::new("1234/task/1240")), Some(1240));
    }
}
