//! A fixed-size ring of per-slot means: 1 s x 3600 or 1 min x 1440.
//!
//! Slots are addressed by time (`t / step`), so no timestamps are stored:
//! moving forward clears the slots skipped over. Memory is fixed at
//! creation: 10 bytes a slot.

/// Values averaged per time slot over the last `len` slots.
pub(crate) struct Ring {
    /// Seconds per slot.
    step: i64,
    means: Box<[f64]>,
    /// Values averaged into each slot; 0 means empty.
    counts: Box<[u16]>,
    /// The newest slot written (`t / step`).
    newest: Option<i64>,
}

impl Ring {
    pub(crate) fn new(step_secs: i64, len: usize) -> Self {
        Self {
            step: step_secs.max(1),
            means: vec![0.0; len.max(1)].into_boxed_slice(),
            counts: vec![0; len.max(1)].into_boxed_slice(),
            newest: None,
        }
    }

    /// Seconds per slot.
    pub(crate) fn step(&self) -> i64 {
        self.step
    }

    fn len(&self) -> i64 {
        self.means.len() as i64
    }

    /// Adds `value` at `t_secs`. Values older than the ring are ignored;
    /// non-finite ones too.
    pub(crate) fn record(&mut self, t_secs: i64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let slot = t_secs.div_euclid(self.step);
        match self.newest {
            Some(newest) if slot <= newest - self.len() => return,
            Some(newest) if slot > newest => {
                // Clear what was skipped (at most the whole ring).
                let first = (newest + 1).max(slot - self.len() + 1);
                for s in first..=slot {
                    self.counts[s.rem_euclid(self.len()) as usize] = 0;
                }
                self.newest = Some(slot);
            }
            Some(_) => {}
            None => self.newest = Some(slot),
        }
        let i = slot.rem_euclid(self.len()) as usize;
        let count = self.counts[i].saturating_add(1);
        if self.counts[i] == 0 {
            self.means[i] = value;
        } else {
            self.means[i] += (value - self.means[i]) / f64::from(count);
        }
        self.counts[i] = count;
    }

    /// The earliest time (seconds) the ring can still hold.
    pub(crate) fn horizon(&self) -> Option<i64> {
        self.newest.map(|n| (n - self.len() + 1) * self.step)
    }

    /// `(slot start in seconds, mean)` of the non-empty slots in
    /// `[from_secs, to_secs]`, oldest first.
    pub(crate) fn points(&self, from_secs: i64, to_secs: i64) -> Vec<(i64, f64)> {
        let Some(newest) = self.newest else {
            return Vec::new();
        };
        let first = from_secs.div_euclid(self.step).max(newest - self.len() + 1);
        let last = to_secs.div_euclid(self.step).min(newest);
        (first..=last)
            .filter_map(|s| {
                let i = s.rem_euclid(self.len()) as usize;
                (self.counts[i] > 0).then(|| (s * self.step, self.means[i]))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_average_and_wrap_and_gaps_clear() {
        let mut ring = Ring::new(1, 4);
        ring.record(100, 1.0);
        ring.record(100, 3.0);
        ring.record(101, 5.0);
        assert_eq!(ring.points(0, 200), vec![(100, 2.0), (101, 5.0)]);
        // Jump past the ring: only the new slot remains.
        ring.record(110, 7.0);
        assert_eq!(ring.points(0, 200), vec![(110, 7.0)]);
        assert_eq!(ring.horizon(), Some(107));
        ring.record(111, 8.0);
        ring.record(113, 9.0);
        assert_eq!(ring.points(111, 200), vec![(111, 8.0), (113, 9.0)]);
        // Too old for the ring: ignored; NaN ignored.
        ring.record(105, 1.0);
        ring.record(113, f64::NAN);
        assert_eq!(ring.points(0, 200).len(), 3);
    }

    #[test]
    fn minute_slots_start_on_the_minute() {
        let mut ring = Ring::new(60, 3);
        ring.record(125, 2.0);
        ring.record(170, 4.0);
        ring.record(180, 10.0);
        assert_eq!(ring.points(0, 1000), vec![(120, 3.0), (180, 10.0)]);
    }
}
