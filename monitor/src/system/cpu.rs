//! Machine-wide CPU use from `/proc/stat` deltas, and `/proc/loadavg`.

use super::procfs::{self, CpuTimes, ProcRoot};
use super::stats::{CpuStats, LoadAverage, Unavailable};

/// Keeps the previous `/proc/stat` reading for the next delta.
#[derive(Default)]
pub(crate) struct CpuReader {
    previous: Option<CpuTimes>,
}

impl CpuReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        unavailable: &mut Vec<Unavailable>,
    ) -> CpuStats {
        let mut stats = CpuStats::default();
        match root.parse("stat", buf, procfs::parse_stat) {
            Ok(now) => {
                stats.cores = Some(now.cores.len()).filter(|&n| n > 0);
                if let Some(previous) = &self.previous {
                    stats.total_pct = now.all.busy_pct_since(&previous.all);
                    // A core taken offline or added changes the count: no per-core figures then.
                    if previous.cores.len() == now.cores.len() {
                        stats.per_core_pct = now
                            .cores
                            .iter()
                            .zip(&previous.cores)
                            .map(|(n, p)| n.busy_pct_since(p).unwrap_or(0.0))
                            .collect();
                    }
                }
                self.previous = Some(now);
            }
            Err(reason) => {
                self.previous = None;
                unavailable.push(Unavailable::new("cpu", reason));
            }
        }
        match root.parse("loadavg", buf, procfs::parse_loadavg) {
            Ok([one, five, fifteen]) => {
                stats.load_average = Some(LoadAverage { one, five, fifteen })
            }
            Err(reason) => unavailable.push(Unavailable::new("load_average", reason)),
        }
        stats
    }
}
