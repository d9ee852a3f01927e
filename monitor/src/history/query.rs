//! The parameters of `/api/v1/history`: parsing with errors that name the
//! parameter, and defaults.

use crate::config::parse_duration;
use crate::history::config::parse_long_duration;

/// The most points one answer holds; a finer `step` is refused.
pub const MAX_POINTS: i64 = 10_000;
/// Points aimed at when no `step` is given.
const DEFAULT_POINTS: i64 = 600;
/// The range when no `from` is given.
const DEFAULT_RANGE_SECS: i64 = 3600;

/// A parsed request. Times are whole seconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HistoryRequest {
    /// `None` lists the series names.
    pub(crate) series: Option<String>,
    pub(crate) from: i64,
    pub(crate) to: i64,
    /// `None`: chosen from the range and the source's resolution.
    pub(crate) step: Option<i64>,
}

impl HistoryRequest {
    /// The step to use given the source's resolution (seconds per point).
    pub(crate) fn step_for(&self, resolution: i64) -> i64 {
        let range = (self.to - self.from).max(1);
        self.step
            .unwrap_or_else(|| (range + DEFAULT_POINTS - 1) / DEFAULT_POINTS)
            .max(resolution)
            .max(1)
    }
}

/// Parses `series=&from=&to=&step=` (already percent-decoded pairs) at
/// `now` (unix seconds). An error names the parameter and the reason.
pub(crate) fn parse(
    pairs: impl IntoIterator<Item = (String, String)>,
    now: i64,
) -> Result<HistoryRequest, String> {
    let (mut series, mut from, mut to, mut step) = (None, None, None, None);
    for (key, value) in pairs {
        match key.as_str() {
            "series" => series = Some(value).filter(|v| !v.is_empty()),
            "from" => from = Some(time("from", &value, now)?),
            "to" => to = Some(time("to", &value, now)?),
            "step" => {
                let d = parse_duration(&value).map_err(|r| format!("parameter step: {r}"))?;
                if d.as_secs() < 1 {
                    return Err(format!(
                        "parameter step={value:?} is below the finest resolution; use 1s or more"
                    ));
                }
                step = Some(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?}; use series, from, to or step"
                ))
            }
        }
    }
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - DEFAULT_RANGE_SECS);
    if from > to {
        return Err(format!(
            "parameter from ({from}) is after to ({to}); from must be the earlier time"
        ));
    }
    if let Some(step) = step {
        let points = (to - from) / step + 1;
        if points > MAX_POINTS {
            return Err(format!(
                "parameter step={step}s gives {points} points over {}s; at most {MAX_POINTS}: use a step of at least {}s or a shorter range",
                to - from,
                (to - from) / (MAX_POINTS - 1) + 1
            ));
        }
    }
    Ok(HistoryRequest {
        series,
        from,
        to,
        step,
    })
}

/// Unix seconds (`1700000000`), `now`, or relative to now (`-1h`, `-30m`).
fn time(name: &str, value: &str, now: i64) -> Result<i64, String> {
    let v = value.trim();
    if v == "now" {
        return Ok(now);
    }
    if let Some(ago) = v.strip_prefix('-') {
        let d = parse_long_duration(ago).map_err(|r| format!("parameter {name}: {r}"))?;
        return Ok(now - d.as_secs().min(i64::MAX as u64 / 2) as i64);
    }
    match v.parse::<f64>() {
        Ok(secs) if (0.0..1e13).contains(&secs) => Ok(secs as i64),
        _ => Err(format!(
            "parameter {name}={value:?} is not a time; use unix seconds, now, or a relative time such as -1h"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    #[test]
    fn relative_and_absolute_times_and_default_step() {
        let now = 1_000_000;
        let r = parse(pairs("series=a&from=-1h&to=now"), now).expect("valid");
        assert_eq!((r.from, r.to, r.step), (now - 3600, now, None));
        assert_eq!(r.step_for(1), 6);
        assert_eq!(r.step_for(60), 60);
        let r = parse(pairs("from=999000&to=999500&step=10s"), now).expect("valid");
        assert_eq!(
            (r.series, r.from, r.to, r.step),
            (None, 999_000, 999_500, Some(10))
        );
        let r = parse(pairs("from=-7d"), now).expect("days");
        assert_eq!(r.from, now - 7 * 86_400);
        // Absurd but valid values stay in range: one point.
        let r = parse(pairs("from=-100000d&step=10000000000000000000s"), now).expect("huge");
        assert_eq!(r.step_for(1), i64::MAX);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (query, names) in [
            ("from=yesterday", "from"),
            ("to=-5parsecs", "to"),
            ("step=fast", "step"),
            ("step=10ms", "step"),
            ("from=-1d&step=1s", "step"),
            ("from=200&to=100", "from"),
            ("colour=red", "colour"),
        ] {
            let message = parse(pairs(query), 1_000_000).expect_err(query);
            assert!(message.contains(names), "{query}: {message}");
        }
    }
}
