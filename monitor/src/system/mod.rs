//! System and process metrics: CPU (machine, per core, load, this process,
//! its threads, the monitor thread itself), memory, disks, networks, TCP
//! connection states, TCP connect probes and watched processes.
//!
//! On Linux the readings come from procfs, parsed by small pure functions
//! (module `procfs`); elsewhere from sysinfo, for what it gives. A reading that
//! cannot be taken (a file unreadable or garbled, a container hiding it) is
//! left empty and listed in [`SystemStats::unavailable`] with the reason;
//! the other readings are unaffected. [`SystemCollector`] sets the cadence.

// The procfs readers are only used on Linux, the sysinfo ones elsewhere
// (and in tests).
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

mod collector;
mod cpu;
mod disk;
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod fallback;
mod memory;
mod net;
mod probe;
mod process;
mod procfs;
mod stats;
mod threads;
mod watched;

pub use collector::SystemCollector;
pub use stats::{
    CpuStats, DiskIo, DiskSpace, LoadAverage, MemoryStats, NetworkStats, ProbeResult, ProcessStats,
    SystemStats, TcpStates, TcpStats, ThreadStats, Unavailable, WatchedProcess,
};
