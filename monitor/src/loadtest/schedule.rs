//! Send times of the open model: the k-th request is due when the integral
//! of the rate reaches k, so a ramp is followed exactly and no request is
//! lost to rounding.

use std::time::Duration;

use super::profile::{Segment, Shape};

/// Yields the offsets from the start at which requests are due, in order.
pub(crate) struct ArrivalSchedule {
    segments: Vec<Segment>,
    /// Index of the segment being walked.
    current: usize,
    /// Requests due before the current segment starts (the integral so far).
    before: f64,
    /// Index of the next request.
    next: u64,
}

impl ArrivalSchedule {
    pub fn new(shape: &Shape) -> Self {
        Self {
            segments: shape.segments.clone(),
            current: 0,
            before: 0.0,
            next: 0,
        }
    }

    /// Requests due over the whole segment.
    fn count(segment: &Segment) -> f64 {
        (segment.from + segment.to) / 2.0 * (segment.end - segment.start).as_secs_f64()
    }
}

impl Iterator for ArrivalSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let k = self.next as f64;
        loop {
            let segment = self.segments.get(self.current)?;
            let in_segment = Self::count(segment);
            if k < self.before + in_segment {
                // Solve from * s + slope / 2 * s^2 = k - before for s.
                let len = (segment.end - segment.start).as_secs_f64();
                let slope = (segment.to - segment.from) / len;
                let need = k - self.before;
                let s = if slope.abs() < 1e-12 {
                    need / segment.from
                } else {
                    let disc = (segment.from * segment.from + 2.0 * slope * need).max(0.0);
                    (disc.sqrt() - segment.from) / slope
                };
                self.next += 1;
                return Some(segment.start + Duration::from_secs_f64(s.clamp(0.0, len)));
            }
            self.before += in_segment;
            self.current += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadtest::Profile;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let shape = Profile::load()
            .rate(100)
            .ramp_up_secs(0)
            .hold_secs(2)
            .ramp_down_secs(0)
            .resolve()
            .unwrap();
        let times: Vec<Duration> = ArrivalSchedule::new(&shape).collect();
        assert_eq!(times.len(), 200);
        assert_eq!(times[0], Duration::ZERO);
        assert!((times[1].as_secs_f64() - 0.01).abs() < 1e-9);
        assert!((times[199].as_secs_f64() - 1.99).abs() < 1e-9);
    }

    #[test]
    fn ramp_follows_the_integral() {
        // 0 -> 100/s over 10 s, then 10 s at 100/s, then down over 10 s:
        // 500 + 1000 + 500 requests.
        let shape = Profile::load()
            .rate(100)
            .ramp_up_secs(10)
            .hold_secs(10)
            .ramp_down_secs(10)
            .resolve()
            .unwrap();
        let times: Vec<Duration> = ArrivalSchedule::new(&shape).collect();
        assert_eq!(times.len(), 2000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        // Half the ramp's requests arrive in its last 10 - 10/sqrt(2) s.
        let at = times[250].as_secs_f64();
        assert!((at - 10.0 / 2f64.sqrt()).abs() < 0.01, "{at}");
        assert!(times[1999] < Duration::from_secs(30));
    }
}
