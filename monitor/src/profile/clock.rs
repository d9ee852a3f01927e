//! The hot path's clock: the CPU's time-stamp counter, read inline, where it
//! is invariant (constant rate, never stopped), else `quanta`'s clock.
//!
//! Reading the counter directly instead of through `quanta::Clock::raw`
//! saves two out-of-line calls per read; ticks become nanoseconds with one
//! 64×64-bit multiply against a factor calibrated once at start.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Whether `now` reads the time-stamp counter.
static USE_TSC: AtomicBool = AtomicBool::new(false);
/// Nanoseconds per tick, as a 32.32 fixed-point number.
static NANOS_PER_TICK: AtomicU64 = AtomicU64::new(0);
/// The fallback clock.
static FALLBACK: OnceLock<quanta::Clock> = OnceLock::new();
/// A reading of this clock and of the wall clock taken together, to turn
/// ticks into wall-clock time without a system call per reading.
static ANCHOR: OnceLock<(u64, u64)> = OnceLock::new();

/// Picks and calibrates the clock. Runs once; called before recording starts.
pub(crate) fn calibrate() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        FALLBACK.get_or_init(quanta::Clock::new);
        if let Some(factor) = tsc_factor() {
            NANOS_PER_TICK.store(factor, Relaxed);
            USE_TSC.store(true, Relaxed);
        }
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        ANCHOR.get_or_init(|| (now(), wall));
    });
}

/// Nanoseconds since the Unix epoch at tick `ticks` (after [`calibrate`]).
pub(crate) fn unix_nanos(ticks: u64) -> u64 {
    match ANCHOR.get() {
        Some(&(anchor_ticks, anchor_wall)) if ticks >= anchor_ticks => {
            anchor_wall + nanos_between(anchor_ticks, ticks)
        }
        Some(&(anchor_ticks, anchor_wall)) => {
            anchor_wall.saturating_sub(nanos_between(ticks, anchor_ticks))
        }
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    }
}

/// A point in time, in ticks of the chosen clock.
#[inline]
pub(crate) fn now() -> u64 {
    if USE_TSC.load(Relaxed) {
        read_tsc()
    } else {
        fallback().raw()
    }
}

/// Nanoseconds from `start` to `end` (0 if `end` is earlier).
#[inline]
pub(crate) fn nanos_between(start: u64, end: u64) -> u64 {
    let ticks = end.saturating_sub(start);
    if USE_TSC.load(Relaxed) {
        ((u128::from(ticks) * u128::from(NANOS_PER_TICK.load(Relaxed))) >> 32) as u64
    } else {
        fallback().delta_as_nanos(start, end)
    }
}

#[inline]
fn fallback() -> &'static quanta::Clock {
    FALLBACK.get_or_init(quanta::Clock::new)
}

/// The TSC's nanoseconds per tick (32.32), measured against `Instant` over
/// a few milliseconds, or `None` when the counter is not invariant.
fn tsc_factor() -> Option<u64> {
    if !tsc_is_invariant() {
        return None;
    }
    let (start, start_ticks) = (Instant::now(), read_tsc());
    while start.elapsed() < Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let (nanos, ticks) = (
        start.elapsed().as_nanos(),
        read_tsc().saturating_sub(start_ticks),
    );
    let factor = (nanos << 32).checked_div(u128::from(ticks))?;
    u64::try_from(factor).ok().filter(|f| *f != 0)
}

#[cfg(target_arch = "x86_64")]
fn tsc_is_invariant() -> bool {
    // CPUID leaf 0x8000_0007, EDX bit 8: invariant TSC.
    let max_extended = std::arch::x86_64::__cpuid(0x8000_0000).eax;
    max_extended >= 0x8000_0007 && std::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
}

#[cfg(not(target_arch = "x86_64"))]
fn tsc_is_invariant() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn read_tsc() -> u64 {
    // SAFETY: RDTSC reads a register and touches no memory; every x86_64
    // CPU has it (the `tsc` feature is part of the x86_64 baseline).
    unsafe { std::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn read_tsc() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_sleep() {
        calibrate();
        let start = now();
        std::thread::sleep(Duration::from_millis(20));
        let nanos = nanos_between(start, now());
        assert!((20_000_000..200_000_000).contains(&nanos), "{nanos} ns");
    }

    #[test]
    fn ticks_map_to_wall_clock_time() {
        calibrate();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mapped = unix_nanos(now());
        assert!(mapped.abs_diff(wall) < 50_000_000, "{mapped} vs {wall}");
    }

    #[test]
    fn an_earlier_end_is_zero() {
        calibrate();
        let later = now();
        assert_eq!(nanos_between(later + 1_000, later), 0);
    }
}
