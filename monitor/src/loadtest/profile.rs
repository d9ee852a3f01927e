//! Load profiles: the model (open: arrival rate, closed: virtual users), the
//! shape over time as stages, and the presets for the usual test types.

use std::time::Duration;

use super::LoadTestError;

/// How load is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Requests are scheduled at a rate whatever the latency (arrival rate).
    Open,
    /// A number of virtual users each send, wait for the answer, think, repeat.
    Closed,
}

/// One stage: over `duration`, the target moves linearly to `fraction` of
/// the profile's peak (rate or VUs).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Stage {
    duration: Duration,
    fraction: f64,
}

/// The variable that sets the endurance (soak) hold duration, in seconds.
pub const SOAK_SECS_VAR: &str = "MONITOR_SOAK_SECS";

/// What load to apply and how it changes over time.
///
/// | preset | model | shape |
/// |---|---|---|
/// | [`smoke`](Self::smoke) | closed, 1 VU | 10 s hold: does it work at all |
/// | [`load`](Self::load) | open, 100/s | 30 s ramp-up, 5 min hold, 30 s ramp-down |
/// | [`stress`](Self::stress) | open, 400/s | ramp to 50 %, hold, ramp to 100 %, hold (2 min each), ramp down |
/// | [`spike`](Self::spike) | open, 400/s | 30 s at 10 %, jump to 100 % in 10 s, hold 1 min, back to 10 % in 10 s, 30 s recovery |
/// | [`volume`](Self::volume) | closed, 10 VUs | like load, with a 1 MiB [`payload`](super::Client::payload) |
/// | [`endurance`](Self::endurance) | open, 50/s | 1 min ramp-up, hold for `MONITOR_SOAK_SECS` (default 3600), 1 min ramp-down |
/// | [`breakpoint`](Self::breakpoint) | open, up to 5000/s | linear ramp over 10 min; every threshold aborts the run when it fails |
///
/// `.rate(n)` switches to the open model with peak `n` requests/s; `.vus(n)`
/// to the closed model with peak `n` users; the stages scale with the peak.
/// `ramp_up_secs`/`hold_secs`/`ramp_down_secs` replace the shape with those
/// three stages; [`stages`](Self::stages) sets any shape.
#[derive(Clone, Debug)]
#[must_use]
pub struct Profile {
    kind: &'static str,
    model: Model,
    peak: f64,
    start_fraction: f64,
    stages: Vec<Stage>,
    /// Whether the hold's duration comes from `MONITOR_SOAK_SECS`.
    soak: bool,
    /// Ramp-up, hold and ramp-down seconds, when the shape is those three.
    standard: Option<(Duration, Duration, Duration)>,
    max_in_flight: usize,
    start_timeout: Duration,
    request_timeout: Duration,
    think_time: (Duration, Duration),
    payload_bytes: usize,
    abort_on_fail: bool,
}

impl Profile {
    fn preset(kind: &'static str, model: Model, peak: f64) -> Self {
        Self {
            kind,
            model,
            peak,
            start_fraction: 0.0,
            stages: Vec::new(),
            soak: false,
            standard: None,
            max_in_flight: 1_000,
            start_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            think_time: (Duration::ZERO, Duration::ZERO),
            payload_bytes: 0,
            abort_on_fail: false,
        }
    }

    /// One virtual user for 10 s: checks that the scenarios work at all.
    pub fn smoke() -> Self {
        Self::preset("smoke", Model::Closed, 1.0).standard(0, 10, 0)
    }

    /// Expected production load: 100 requests/s, 30 s ramp-up, 5 min hold,
    /// 30 s ramp-down.
    pub fn load() -> Self {
        Self::preset("load", Model::Open, 100.0).standard(30, 300, 30)
    }

    /// Beyond the expected load in steps: up to 50 %, hold, up to 100 % of
    /// 400 requests/s, hold (1 min ramps, 2 min holds), then down.
    pub fn stress() -> Self {
        let mut p = Self::preset("stress", Model::Open, 400.0);
        p.stages = [(60, 0.5), (120, 0.5), (60, 1.0), (120, 1.0), (60, 0.0)]
            .into_iter()
            .map(|(secs, fraction)| Stage {
                duration: Duration::from_secs(secs),
                fraction,
            })
            .collect();
        p
    }

    /// A sudden surge: 30 s at 10 % of 400 requests/s, to 100 % in 10 s,
    /// 1 min there, back to 10 % in 10 s, 30 s of recovery.
    pub fn spike() -> Self {
        let mut p = Self::preset("spike", Model::Open, 400.0);
        p.start_fraction = 0.1;
        p.stages = [(30, 0.1), (10, 1.0), (60, 1.0), (10, 0.1), (30, 0.1)]
            .into_iter()
            .map(|(secs, fraction)| Stage {
                duration: Duration::from_secs(secs),
                fraction,
            })
            .collect();
        p
    }

    /// Large payloads: 10 virtual users, load's shape, and a 1 MiB
    /// [`payload`](super::Client::payload) for the requests to send; use
    /// [`Client::iteration`](super::Client::iteration) to walk a large data set.
    pub fn volume() -> Self {
        Self::preset("volume", Model::Closed, 10.0)
            .standard(30, 300, 30)
            .payload_bytes(1 << 20)
    }

    /// Soak: 50 requests/s for a long time, to find leaks and drift. The hold
    /// lasts `MONITOR_SOAK_SECS` seconds (default 3600), read when the test runs.
    pub fn endurance() -> Self {
        let mut p = Self::preset("endurance", Model::Open, 50.0).standard(60, 3600, 60);
        p.soak = true;
        p
    }

    /// Same as [`endurance`](Self::endurance).
    pub fn soak() -> Self {
        Self::endurance()
    }

    /// Finds the breaking point: the rate rises linearly to 5000 requests/s
    /// over 10 min, and the first failing threshold stops the run; the report
    /// gives the rate reached.
    pub fn breakpoint() -> Self {
        let mut p = Self::preset("breakpoint", Model::Open, 5_000.0).standard(600, 0, 0);
        p.abort_on_fail = true;
        p
    }

    fn standard(self, up: u64, hold: u64, down: u64) -> Self {
        let secs = Duration::from_secs;
        self.shaped(secs(up), secs(hold), secs(down))
    }

    fn shaped(mut self, up: Duration, hold: Duration, down: Duration) -> Self {
        self.start_fraction = 0.0;
        self.standard = Some((up, hold, down));
        self.stages = [(up, 1.0), (hold, 1.0), (down, 0.0)]
            .into_iter()
            .filter(|(duration, _)| !duration.is_zero())
            .map(|(duration, fraction)| Stage { duration, fraction })
            .collect();
        if up.is_zero() {
            self.start_fraction = 1.0;
        }
        self
    }

    fn standard_parts(&self) -> (Duration, Duration, Duration) {
        // A custom shape becomes a hold of the same length.
        let total = self.stages.iter().map(|s| s.duration).sum();
        self.standard
            .unwrap_or((Duration::ZERO, total, Duration::ZERO))
    }

    /// Open model at a peak of `per_sec` requests per second.
    pub fn rate(mut self, per_sec: u32) -> Self {
        self.model = Model::Open;
        self.peak = f64::from(per_sec);
        self
    }

    /// Closed model with a peak of `n` virtual users.
    pub fn vus(mut self, n: u32) -> Self {
        self.model = Model::Closed;
        self.peak = f64::from(n);
        self
    }

    /// Ramp-up from zero to the peak over `secs`.
    pub fn ramp_up_secs(self, secs: u64) -> Self {
        let (_, hold, down) = self.standard_parts();
        self.shaped(Duration::from_secs(secs), hold, down)
    }

    /// Hold the peak for `secs`.
    pub fn hold_secs(self, secs: u64) -> Self {
        self.hold(Duration::from_secs(secs))
    }

    /// Hold the peak for `duration` (for runs shorter than a second).
    pub fn hold(self, duration: Duration) -> Self {
        let (up, _, down) = self.standard_parts();
        self.shaped(up, duration, down)
    }

    /// Ramp-down from the peak to zero over `secs`.
    pub fn ramp_down_secs(self, secs: u64) -> Self {
        let (up, hold, _) = self.standard_parts();
        self.shaped(up, hold, Duration::from_secs(secs))
    }

    /// Any shape: each `(duration, target)` moves linearly from the previous
    /// target (0 at the start) to `target` (rate or VUs); the peak becomes the
    /// largest target.
    pub fn stages(mut self, stages: &[(Duration, u32)]) -> Self {
        let peak = stages.iter().map(|s| s.1).max().unwrap_or(0).max(1);
        self.peak = f64::from(peak);
        self.start_fraction = 0.0;
        self.soak = false;
        self.standard = None;
        self.stages = stages
            .iter()
            .map(|&(duration, target)| Stage {
                duration,
                fraction: f64::from(target) / f64::from(peak),
            })
            .collect();
        self
    }

    /// Open model: at most `n` requests in flight (default 1000). A scheduled
    /// request waits for a free slot for at most the start timeout; if none
    /// frees up it is counted as not started.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Open model: how long a scheduled request may wait for a slot under the
    /// in-flight cap before it is counted as not started (default 1 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Timeout of each request or call (default 30 s); counted as a timeout error.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Closed model: each virtual user pauses a uniformly random time in
    /// `min..=max` after each answer.
    pub fn think_time(mut self, min: Duration, max: Duration) -> Self {
        self.think_time = (min, max.max(min));
        self
    }

    /// Size of [`Client::payload`](super::Client::payload), for volume tests.
    pub fn payload_bytes(mut self, bytes: usize) -> Self {
        self.payload_bytes = bytes;
        self
    }

    /// Every threshold aborts the run when it fails (the breakpoint preset's way).
    pub fn abort_on_fail(mut self, abort: bool) -> Self {
        self.abort_on_fail = abort;
        self
    }

    /// The preset this profile started from.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Open or closed.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The peak rate (open) or number of users (closed).
    pub fn peak(&self) -> f64 {
        self.peak
    }

    pub(crate) fn settings(&self) -> Settings {
        Settings {
            max_in_flight: self.max_in_flight,
            start_timeout: self.start_timeout,
            request_timeout: self.request_timeout,
            think_time: self.think_time,
            payload_bytes: self.payload_bytes,
            abort_on_fail: self.abort_on_fail,
        }
    }

    /// The timeline with absolute targets, reading `MONITOR_SOAK_SECS` for
    /// the endurance preset.
    pub(crate) fn resolve(&self) -> Result<Shape, LoadTestError> {
        let mut stages = self.stages.clone();
        if let (true, Some((up, _, down)), Ok(value)) =
            (self.soak, self.standard, std::env::var(SOAK_SECS_VAR))
        {
            let secs: u64 = value.trim().parse().map_err(|_| LoadTestError::Env {
                var: SOAK_SECS_VAR,
                value: value.clone(),
                reason: "expected a whole number of seconds",
            })?;
            stages = self
                .clone()
                .shaped(up, Duration::from_secs(secs), down)
                .stages;
        }
        if !(self.peak.is_finite() && self.peak > 0.0) {
            return Err(LoadTestError::Profile(format!(
                "the peak {} must be above zero; set .rate(n) or .vus(n)",
                self.peak
            )));
        }
        let mut segments = Vec::with_capacity(stages.len());
        let mut at = Duration::ZERO;
        let mut from = self.start_fraction * self.peak;
        for stage in stages {
            let to = stage.fraction * self.peak;
            if !stage.duration.is_zero() {
                segments.push(Segment {
                    start: at,
                    end: at + stage.duration,
                    from,
                    to,
                });
            }
            at += stage.duration;
            from = to;
        }
        if at.is_zero() {
            return Err(LoadTestError::Profile(
                "the profile lasts 0 s; give it a hold_secs(..) or stages".into(),
            ));
        }
        Ok(Shape { segments })
    }
}

/// The profile's settings other than the shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub max_in_flight: usize,
    pub start_timeout: Duration,
    pub request_timeout: Duration,
    pub think_time: (Duration, Duration),
    pub payload_bytes: usize,
    pub abort_on_fail: bool,
}

/// One linear piece of the target over time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Segment {
    pub start: Duration,
    pub end: Duration,
    pub from: f64,
    pub to: f64,
}

/// The target (rate or VUs) as a piecewise linear function of time.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub segments: Vec<Segment>,
}

impl Shape {
    /// Total duration.
    pub fn duration(&self) -> Duration {
        self.segments.last().map_or(Duration::ZERO, |s| s.end)
    }

    /// The target at `t` (0 after the end).
    pub fn target_at(&self, t: Duration) -> f64 {
        self.segments
            .iter()
            .find(|s| t >= s.start && t < s.end)
            .map_or(0.0, |s| {
                let x = (t - s.start).as_secs_f64() / (s.end - s.start).as_secs_f64();
                s.from + (s.to - s.from) * x
            })
    }

    /// The largest target.
    pub fn max_target(&self) -> f64 {
        self.segments
            .iter()
            .map(|s| s.from.max(s.to))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_preset_ramps_holds_and_ramps_down() {
        let shape = Profile::load()
            .rate(200)
            .ramp_up_secs(5)
            .hold_secs(30)
            .ramp_down_secs(5)
            .resolve()
            .unwrap();
        assert_eq!(shape.duration(), Duration::from_secs(40));
        assert_eq!(shape.target_at(Duration::ZERO), 0.0);
        assert!((shape.target_at(Duration::from_millis(2_500)) - 100.0).abs() < 1e-9);
        assert_eq!(shape.target_at(Duration::from_secs(20)), 200.0);
        assert!((shape.target_at(Duration::from_millis(37_500)) - 100.0).abs() < 1e-9);
        assert_eq!(shape.target_at(Duration::from_secs(41)), 0.0);
    }

    #[test]
    fn hold_only_starts_at_the_peak() {
        let shape = Profile::load()
            .vus(4)
            .ramp_up_secs(0)
            .hold_secs(2)
            .ramp_down_secs(0)
            .resolve()
            .unwrap();
        assert_eq!(shape.segments.len(), 1);
        assert_eq!(shape.target_at(Duration::ZERO), 4.0);
    }

    #[test]
    fn spike_starts_at_ten_percent_and_peaks() {
        let shape = Profile::spike().rate(100).resolve().unwrap();
        assert!((shape.target_at(Duration::from_secs(1)) - 10.0).abs() < 1e-9);
        assert_eq!(shape.target_at(Duration::from_secs(60)), 100.0);
        assert_eq!(shape.max_target(), 100.0);
    }

    #[test]
    fn zero_duration_and_zero_rate_are_errors() {
        let e = Profile::load()
            .hold_secs(0)
            .ramp_up_secs(0)
            .ramp_down_secs(0);
        assert!(e.resolve().unwrap_err().to_string().contains("0 s"));
        let e = Profile::load().rate(0).resolve().unwrap_err();
        assert!(e.to_string().contains("above zero"), "{e}");
    }

    #[test]
    fn custom_stages_scale_to_the_largest_target() {
        let p =
            Profile::load().stages(&[(Duration::from_secs(2), 50), (Duration::from_secs(2), 100)]);
        assert_eq!(p.peak(), 100.0);
        let shape = p.resolve().unwrap();
        assert!((shape.target_at(Duration::from_secs(1)) - 25.0).abs() < 1e-9);
        assert!((shape.target_at(Duration::from_secs(3)) - 75.0).abs() < 1e-9);
    }
}
