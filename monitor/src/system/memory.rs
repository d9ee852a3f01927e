//! Machine-wide memory and swap from `/proc/meminfo`.

use super::procfs::{self, ProcRoot};
use super::stats::{MemoryStats, Unavailable};

pub(crate) fn read(
    root: &ProcRoot,
    buf: &mut String,
    unavailable: &mut Vec<Unavailable>,
) -> MemoryStats {
    let info = match root.parse("meminfo", buf, procfs::parse_meminfo) {
        Ok(info) => info,
        Err(reason) => {
            unavailable.push(Unavailable::new("memory", reason));
            return MemoryStats::default();
        }
    };
    MemoryStats {
        total_bytes: Some(info.total),
        used_bytes: info.available.map(|a| info.total.saturating_sub(a)),
        available_bytes: info.available,
        swap_total_bytes: info.swap_total,
        swap_used_bytes: info
            .swap_total
            .zip(info.swap_free)
            .map(|(t, f)| t.saturating_sub(f)),
    }
}
