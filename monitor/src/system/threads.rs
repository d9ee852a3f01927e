//! Per-thread CPU of this process from `/proc/self/task/<tid>/stat`, which
//! also carries the thread's name.

use std::collections::HashMap;
use std::time::Instant;

use super::process::cpu_pct;
use super::procfs::{self, ProcRoot, TICKS_PER_SECOND};
use super::stats::{ThreadStats, Unavailable, MIN_RATE_INTERVAL};

/// The name of the monitor's own thread, used when `/proc/thread-self`
/// cannot tell which thread is collecting.
const MONITOR_THREAD: &str = "monitor";

/// Keeps each thread's CPU ticks for the next delta.
#[derive(Default)]
pub(crate) struct ThreadReader {
    /// tid → (start ticks, CPU ticks) at `at`.
    previous: HashMap<u32, (u64, u64)>,
    at: Option<Instant>,
    /// tid → CPU % of the last delta, repeated for readings too close to it.
    last_pct: HashMap<u32, f64>,
    /// The collecting thread's (tid, CPU ns, when) and last figure.
    collector: Option<(u32, u64, Instant)>,
    collector_pct: Option<f64>,
}

/// The threads, and the CPU % of the thread running the collector (the
/// monitor thread).
pub(crate) struct Threads {
    pub threads: Vec<ThreadStats>,
    pub collector_cpu_pct: Option<f64>,
}

impl ThreadReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        unavailable: &mut Vec<Unavailable>,
    ) -> Threads {
        let tids = match root.numeric_entries("self/task") {
            Ok(tids) => tids,
            Err(reason) => {
                unavailable.push(Unavailable::new("threads", reason));
                self.previous.clear();
                return Threads {
                    threads: Vec::new(),
                    collector_cpu_pct: None,
                };
            }
        };
        let now = Instant::now();
        let secs = self
            .at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        let too_soon = self.at.is_some() && secs < MIN_RATE_INTERVAL.as_secs_f64();
        let mut current = HashMap::with_capacity(tids.len());
        let mut threads = Vec::with_capacity(tids.len());
        let mut failed = None;
        for tid in tids {
            let file = format!("self/task/{tid}/stat");
            let stat = match root.parse(&file, buf, procfs::parse_pid_stat) {
                Ok(stat) => stat,
                // A thread that ended since the listing is not a fault; a
                // file that cannot be parsed is, but only for that thread.
                Err(reason) => {
                    if root.path(&format!("self/task/{tid}")).exists() {
                        failed.get_or_insert(reason);
                    }
                    continue;
                }
            };
            let previous = self
                .previous
                .get(&tid)
                .filter(|(start, _)| *start == stat.start_ticks)
                .map(|&(_, ticks)| ticks);
            let cpu_pct_of_core = if too_soon {
                self.last_pct.get(&tid).copied()
            } else {
                current.insert(tid, (stat.start_ticks, stat.cpu_ticks));
                // One thread runs on one core at most; more is the 10 ms
                // granularity of CPU times.
                cpu_pct(previous, stat.cpu_ticks, secs).map(|p| p.min(100.0))
            };
            threads.push(ThreadStats {
                tid,
                name: stat.name,
                cpu_seconds_total: stat.cpu_ticks as f64 / TICKS_PER_SECOND,
                cpu_pct_of_core,
            });
        }
        if let Some(reason) = failed {
            unavailable.push(Unavailable::new("threads", reason));
        }
        threads.sort_by_key(|t| t.tid);
        if !too_soon {
            self.previous = current;
            self.at = Some(now);
            self.last_pct = threads
                .iter()
                .filter_map(|t| Some((t.tid, t.cpu_pct_of_core?)))
                .collect();
        }
        let collector = root
            .read_link("thread-self")
            .ok()
            .and_then(|link| procfs::thread_self_tid(&link));
        let collector_cpu_pct = threads
            .iter()
            .find(|t| match collector {
                Some(tid) => t.tid == tid,
                None => t.name == MONITOR_THREAD,
            })
            .and_then(|t| self.precise_pct(root, buf, t.tid).or(t.cpu_pct_of_core));
        Threads {
            threads,
            collector_cpu_pct,
        }
    }

    /// The CPU % of thread `tid` from its `schedstat` (nanoseconds): the
    /// monitor thread uses a fraction of a millisecond a tick, far below the
    /// 10 ms steps of `stat`. `None` when the file cannot be read.
    fn precise_pct(&mut self, root: &ProcRoot, buf: &mut String, tid: u32) -> Option<f64> {
        let ns = root
            .parse(
                &format!("self/task/{tid}/schedstat"),
                buf,
                procfs::parse_schedstat,
            )
            .ok()?;
        let now = Instant::now();
        match self.collector {
            Some((previous_tid, previous_ns, at)) if previous_tid == tid => {
                let elapsed = now.duration_since(at);
                if elapsed < MIN_RATE_INTERVAL {
                    return self.collector_pct;
                }
                self.collector_pct = ns
                    .checked_sub(previous_ns)
                    .map(|used| (used as f64 / elapsed.as_nanos() as f64 * 100.0).min(100.0));
            }
            _ => self.collector_pct = None,
        }
        self.collector = Some((tid, ns, now));
        self.collector_pct
    }
}
