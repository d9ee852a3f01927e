//! k6-style thresholds: `"p95 < 150ms"`, `"error_rate < 1%"`, `"rps > 500"`,
//! optionally for one request name: `"buy: p99 < 1s"`.

use std::fmt;
use std::str::FromStr;

use super::LoadTestError;

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// A latency percentile (0-100), corrected for coordinated omission.
    Percentile(f64),
    /// Mean latency.
    Mean,
    /// Smallest latency.
    Min,
    /// Largest latency.
    Max,
    /// Failed plus not-started requests over all scheduled, as a fraction.
    ErrorRate,
    /// Finished requests per second over the run.
    Rps,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A parsed threshold. Latencies are in milliseconds, error rates a
/// fraction (1% is 0.01), rates per second.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The text as given.
    pub source: String,
    /// Request name it applies to; `None` for all requests together.
    pub scope: Option<String>,
    /// What is measured.
    pub metric: Metric,
    /// The comparison.
    pub op: Op,
    /// The limit, in the metric's unit.
    pub limit: f64,
}

impl Threshold {
    /// Parses `"[name:] metric op value"`.
    pub fn parse(input: &str) -> Result<Self, LoadTestError> {
        let fail = |reason: String| LoadTestError::Threshold {
            input: input.to_string(),
            reason,
        };
        let (scope, rest) = match input.split_once(':') {
            Some((name, rest)) if !name.trim().is_empty() => (Some(name.trim().to_string()), rest),
            Some(_) => return Err(fail("the request name before ':' is empty".into())),
            None => (None, input),
        };
        let at = rest
            .find(['<', '>'])
            .ok_or_else(|| fail("no comparison; expected one of <, <=, >, >=".into()))?;
        let (metric, rest) = rest.split_at(at);
        let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            (Op::Gt, &rest[1..])
        };
        let metric = parse_metric(metric.trim()).map_err(fail)?;
        let limit = parse_value(metric, value.trim()).map_err(fail)?;
        Ok(Self {
            source: input.to_string(),
            scope,
            metric,
            op,
            limit,
        })
    }

    /// Whether `actual` is within the limit.
    pub fn holds(&self, actual: f64) -> bool {
        match self.op {
            Op::Lt => actual < self.limit,
            Op::Le => actual <= self.limit,
            Op::Gt => actual > self.limit,
            Op::Ge => actual >= self.limit,
        }
    }

    /// Whether the metric is a latency (in ms).
    pub fn is_latency(&self) -> bool {
        !matches!(self.metric, Metric::ErrorRate | Metric::Rps)
    }
}

impl FromStr for Threshold {
    type Err = LoadTestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

const METRICS: &str = "p50, p90, p95, p99, p99.9 (any pNN), mean, min, max, error_rate, rps";

fn parse_metric(s: &str) -> Result<Metric, String> {
    match s {
        "" => Err(format!(
            "no metric before the comparison; expected {METRICS}"
        )),
        "mean" | "avg" => Ok(Metric::Mean),
        "min" => Ok(Metric::Min),
        "max" => Ok(Metric::Max),
        "error_rate" => Ok(Metric::ErrorRate),
        "rps" => Ok(Metric::Rps),
        _ => {
            let p = s
                .strip_prefix('p')
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|p| *p > 0.0 && *p <= 100.0)
                .ok_or_else(|| format!("unknown metric {s:?}; expected {METRICS}"))?;
            Ok(Metric::Percentile(p))
        }
    }
}

fn parse_value(metric: Metric, s: &str) -> Result<f64, String> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() {
        return Err(format!("no number after the comparison (got {s:?})"));
    }
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{number:?} is not a number"))?;
    let unit = unit.trim();
    match metric {
        Metric::ErrorRate => match unit {
            "%" => Ok(n / 100.0),
            "" if n <= 1.0 => Ok(n),
            "" => Err(format!(
                "error rate {n} is above 1; write a percentage as {n}%"
            )),
            _ => Err(format!(
                "unit {unit:?} does not fit error_rate; use % or a fraction"
            )),
        },
        Metric::Rps => match unit {
            "" | "/s" => Ok(n),
            _ => Err(format!(
                "unit {unit:?} does not fit rps; give requests per second"
            )),
        },
        _ => {
            let ms = match unit {
                "ns" => n / 1e6,
                "us" | "µs" => n / 1e3,
                "ms" => n,
                "s" => n * 1e3,
                "" => return Err(format!("latency {n} has no unit; add ns, us, ms or s")),
                _ => return Err(format!("unknown unit {unit:?}; use ns, us, ms or s")),
            };
            Ok(ms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let t = Threshold::parse("p95 < 150ms").unwrap();
        assert_eq!(
            (t.scope, t.metric, t.op, t.limit),
            (None, Metric::Percentile(95.0), Op::Lt, 150.0)
        );
        assert_eq!(Threshold::parse("p99<1s").unwrap().limit, 1000.0);
        assert_eq!(Threshold::parse("p99.9 <= 250us").unwrap().limit, 0.25);
        assert_eq!(Threshold::parse("error_rate < 1%").unwrap().limit, 0.01);
        assert_eq!(Threshold::parse("error_rate < 0.05").unwrap().limit, 0.05);
        let t = Threshold::parse("rps >= 500").unwrap();
        assert_eq!((t.metric, t.op, t.limit), (Metric::Rps, Op::Ge, 500.0));
        let t = Threshold::parse("buy: mean < 20ms").unwrap();
        assert_eq!(t.scope.as_deref(), Some("buy"));
        assert_eq!(t.metric, Metric::Mean);
    }

    #[test]
    fn bad_strings_name_the_problem() {
        let cases = [
            ("p95 150ms", "no comparison"),
            ("p95x < 1ms", "unknown metric \"p95x\""),
            ("p95 < 150", "has no unit"),
            ("p95 < 150 min", "unknown unit \"min\""),
            ("p95 < fast", "no number"),
            ("error_rate < 5", "percentage"),
            ("rps > 5ms", "does not fit rps"),
            (": p95 < 1ms", "name before ':' is empty"),
            ("< 1ms", "no metric"),
            ("p0 < 1ms", "unknown metric"),
        ];
        for (input, expected) in cases {
            let e = Threshold::parse(input).unwrap_err().to_string();
            assert!(e.contains(expected), "{input:?}: {e}");
            assert!(e.contains(input), "{input:?}: {e}");
        }
    }

    #[test]
    fn holds_compares_with_the_operator() {
        let t = Threshold::parse("p95 < 10ms").unwrap();
        assert!(t.holds(9.9) && !t.holds(10.0));
        let t = Threshold::parse("rps >= 100").unwrap();
        assert!(t.holds(100.0) && !t.holds(99.0));
    }
}
