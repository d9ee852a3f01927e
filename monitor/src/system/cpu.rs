//! Machine-wide CPU use from `/proc/stat` deltas, and `/proc/loadavg`.

use std::time::Instant;

use super::procfs::{self, CpuTimes, ProcRoot};
use super::stats::{CpuStats, LoadAverage, Unavailable, MIN_RATE_INTERVAL};

/// Keeps the previous `/proc/stat` reading for the next delta.
#[derive(Default)]
pub(crate) struct CpuReader {
    previous: Option<(CpuTimes, Instant)>,
    /// The figures of the last delta, repeated for readings too close to it.
    last_total: Option<f64>,
    last_per_core: Vec<f64>,
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
                let too_soon = self
                    .previous
                    .as_ref()
                    .is_some_and(|(_, at)| at.elapsed() < MIN_RATE_INTERVAL);
                if too_soon {
                    stats.total_pct = self.last_total;
                    stats.per_core_pct = self.last_per_core.clone();
                    return self.load(root, buf, unavailable, stats);
                }
                if let Some((previous, _)) = &self.previous {
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
                self.previous = Some((now, Instant::now()));
                self.last_total = stats.total_pct;
                self.last_per_core = stats.per_core_pct.clone();
            }
            Err(reason) => {
                self.previous = None;
                unavailable.push(Unavailable::new("cpu", reason));
            }
        }
        self.load(root, buf, unavailable, stats)
    }

    fn load(
        &self,
        root: &ProcRoot,
        buf: &mut String,
        unavailable: &mut Vec<Unavailable>,
        mut stats: CpuStats,
    ) -> CpuStats {
        match root.parse("loadavg", buf, procfs::parse_loadavg) {
            Ok([one, five, fifteen]) => {
                stats.load_average = Some(LoadAverage { one, five, fifteen })
            }
            Err(reason) => unavailable.push(Unavailable::new("load_average", reason)),
        }
        stats
    }
}
