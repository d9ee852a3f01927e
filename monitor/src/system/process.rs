//! This process (`/proc/self/{stat,status,io,fd}`), and the same readings of
//! any process for the watched ones.

use std::time::Instant;

use super::procfs::{self, PidIo, PidStat, PidStatus, ProcRoot, TICKS_PER_SECOND};
use super::stats::{rate, ProcessStats, Unavailable, MIN_RATE_INTERVAL};

/// The readings of one process directory (`self` or a pid), each on its own.
pub(crate) struct PidSample {
    pub stat: Result<PidStat, String>,
    pub status: Result<PidStatus, String>,
    pub io: Result<PidIo, String>,
    pub fds: Result<u64, String>,
    pub at: Instant,
}

/// Reads `<dir>/stat`, `status`, `io` and counts `<dir>/fd`.
pub(crate) fn sample(root: &ProcRoot, dir: &str, buf: &mut String) -> PidSample {
    let stat_file = format!("{dir}/stat");
    let stat = root.parse(&stat_file, buf, procfs::parse_pid_stat);
    let status_file = format!("{dir}/status");
    let status = root.parse(&status_file, buf, procfs::parse_pid_status);
    let io_file = format!("{dir}/io");
    let io = root.parse(&io_file, buf, procfs::parse_pid_io);
    let fds = root.count_entries(&format!("{dir}/fd"));
    PidSample {
        stat,
        status,
        io,
        fds,
        at: Instant::now(),
    }
}

/// CPU % of one core between two CPU tick counts `secs` apart.
pub(crate) fn cpu_pct(previous: Option<u64>, now: u64, secs: f64) -> Option<f64> {
    rate(previous, now, secs).map(|ticks_per_sec| ticks_per_sec / TICKS_PER_SECOND * 100.0)
}

/// What the next delta of a process needs from the last one.
#[derive(Clone, Copy)]
pub(crate) struct Previous {
    /// Identifies the process (a reused pid starts later).
    pub start_ticks: u64,
    pub cpu_ticks: u64,
    pub io: Option<PidIo>,
    pub at: Instant,
}

/// The figures of `sample`, with rates against `previous` when it is the same process.
pub(crate) struct Figures {
    pub cpu_seconds_total: Option<f64>,
    pub cpu_pct_of_core: Option<f64>,
    pub rss_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
    pub io: Option<PidIo>,
    pub read_bytes_per_sec: Option<f64>,
    pub write_bytes_per_sec: Option<f64>,
    pub next: Option<Previous>,
}

/// Turns a sample into figures; each failed part is pushed to
/// `unavailable` as `<reading>_<part>` (`process_io`, `watch:pg_fds`).
pub(crate) fn figures(
    sample: PidSample,
    previous: Option<&Previous>,
    reading: &str,
    unavailable: &mut Vec<Unavailable>,
) -> Figures {
    let mut note = |part: &str, reason: String| {
        unavailable.push(Unavailable::new(format!("{reading}_{part}"), reason));
    };
    let stat = sample.stat.map_err(|r| note("cpu", r)).ok();
    let status = sample.status.map_err(|r| note("memory", r)).ok();
    let io = sample.io.map_err(|r| note("io", r)).ok();
    let open_fds = sample.fds.map_err(|r| note("fds", r)).ok();
    let previous = previous.filter(|p| {
        stat.as_ref()
            .is_some_and(|s| s.start_ticks == p.start_ticks)
    });
    let secs = previous.map_or(0.0, |p| sample.at.duration_since(p.at).as_secs_f64());
    let cpu_pct_of_core = stat
        .as_ref()
        .and_then(|s| cpu_pct(previous.map(|p| p.cpu_ticks), s.cpu_ticks, secs));
    let previous_io = previous.and_then(|p| p.io);
    Figures {
        cpu_seconds_total: stat.as_ref().map(|s| s.cpu_ticks as f64 / TICKS_PER_SECOND),
        cpu_pct_of_core,
        rss_bytes: status.and_then(|s| s.rss),
        virtual_bytes: status.and_then(|s| s.virtual_size),
        threads: stat
            .as_ref()
            .map(|s| s.threads)
            .or(status.and_then(|s| s.threads)),
        open_fds,
        io,
        read_bytes_per_sec: io
            .and_then(|io| rate(previous_io.map(|p| p.read_bytes), io.read_bytes, secs)),
        write_bytes_per_sec: io
            .and_then(|io| rate(previous_io.map(|p| p.write_bytes), io.write_bytes, secs)),
        next: stat.map(|s| Previous {
            start_ticks: s.start_ticks,
            cpu_ticks: s.cpu_ticks,
            io,
            at: sample.at,
        }),
    }
}

/// Keeps the previous reading of this process for the next delta.
#[derive(Default)]
pub(crate) struct ProcessReader {
    previous: Option<Previous>,
    /// CPU %, read and write bytes/s of the last delta, repeated for
    /// readings too close to it.
    last_rates: (Option<f64>, Option<f64>, Option<f64>),
}

impl ProcessReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        cores: Option<usize>,
        unavailable: &mut Vec<Unavailable>,
    ) -> ProcessStats {
        let too_soon = self
            .previous
            .is_some_and(|p| p.at.elapsed() < MIN_RATE_INTERVAL);
        let baseline = self.previous.filter(|_| !too_soon);
        let mut f = figures(
            sample(root, "self", buf),
            baseline.as_ref(),
            "process",
            unavailable,
        );
        if too_soon {
            (
                f.cpu_pct_of_core,
                f.read_bytes_per_sec,
                f.write_bytes_per_sec,
            ) = self.last_rates;
        } else {
            self.previous = f.next;
            self.last_rates = (
                f.cpu_pct_of_core,
                f.read_bytes_per_sec,
                f.write_bytes_per_sec,
            );
        }
        // No more than every core; more is the 10 ms granularity of CPU times.
        if let Some(cores) = cores.filter(|&c| c > 0) {
            f.cpu_pct_of_core = f.cpu_pct_of_core.map(|p| p.min(100.0 * cores as f64));
        }
        ProcessStats {
            pid: std::process::id(),
            cpu_seconds_total: f.cpu_seconds_total,
            cpu_pct_of_core: f.cpu_pct_of_core,
            cpu_pct_of_machine: f
                .cpu_pct_of_core
                .zip(cores.filter(|&c| c > 0))
                .map(|(pct, cores)| pct / cores as f64),
            rss_bytes: f.rss_bytes,
            virtual_bytes: f.virtual_bytes,
            threads: f.threads,
            open_fds: f.open_fds,
            read_bytes_total: f.io.map(|io| io.read_bytes),
            write_bytes_total: f.io.map(|io| io.write_bytes),
            read_bytes_per_sec: f.read_bytes_per_sec,
            write_bytes_per_sec: f.write_bytes_per_sec,
        }
    }
}
