//! [`HealthSnapshot`]: the registry's results put together once a tick,
//! with the dependency graph applied and the service's overall status.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::graph::Graph;
use super::outcome::Status;
use super::registry::{components, events, HealthEvent, Transition};
use super::run;
use crate::config::HealthConfig;

/// The health of every component, as of one tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HealthSnapshot {
    /// DOWN when a critical component is DOWN; else DEGRADED when any
    /// component is DOWN, DEGRADED or impaired; else UNKNOWN while any
    /// component has no result yet; else UP (also with no components).
    pub status: Status,
    /// Whether every component has a result and no critical one is DOWN
    /// (`/health/ready`).
    pub ready: bool,
    /// One entry per registered component, in registration order.
    pub components: Vec<ComponentHealth>,
    /// Dependency cycles and dependencies on names not registered.
    pub problems: Vec<String>,
    /// The latest status changes, oldest first (at most 256).
    pub events: Vec<HealthEvent>,
}

/// One component's health.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentHealth {
    /// The name it was registered with.
    pub name: String,
    /// What its own check said last (UNKNOWN before the first result).
    pub status: Status,
    /// Whether a dependency (direct or not) is DOWN, whatever `status` says.
    pub impaired: bool,
    /// The DOWN dependencies that impair it.
    pub impaired_by: Vec<String>,
    /// Whether the service is DOWN when this component is.
    pub critical: bool,
    /// The names it depends on, as registered.
    pub dependencies: Vec<String>,
    /// Why it is DOWN or DEGRADED now (`None` when UP).
    pub details: Option<String>,
    /// The message of the last failed run, kept after recovery.
    pub last_error: Option<String>,
    /// How long the last run took, in milliseconds.
    pub duration_ms: Option<f64>,
    /// When the last run ended, in milliseconds since the Unix epoch.
    pub checked_at_unix_ms: Option<u64>,
    /// Since when `status` holds, in milliseconds since the Unix epoch.
    pub since_unix_ms: u64,
    /// Time between runs, in milliseconds.
    pub interval_ms: u64,
    /// Longest a run may take, in milliseconds.
    pub timeout_ms: u64,
    /// Whether a run is going on now.
    pub running: bool,
    /// Whether a run has gone on longer than the timeout (it is not
    /// started again until it returns).
    pub stuck: bool,
    /// Runs finished.
    pub runs: u64,
    /// Runs that ended DOWN or DEGRADED.
    pub failures: u64,
    /// The latest status changes, oldest first (at most 16).
    pub transitions: Vec<Transition>,
    /// Problems with its dependencies (unknown names, cycles).
    pub problems: Vec<String>,
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

/// The health of every component now.
pub(crate) fn collect(defaults: &HealthConfig) -> HealthSnapshot {
    let now = Instant::now();
    let list = components();
    let settings: Vec<_> = list.iter().map(|c| c.settings()).collect();
    let states: Vec<_> = list.iter().map(|c| c.state()).collect();
    let names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
    let depends_on: Vec<Vec<String>> = settings.iter().map(|s| s.depends_on.clone()).collect();
    let graph = Graph::new(&names, &depends_on);
    let down: Vec<bool> = states.iter().map(|s| s.status == Status::Down).collect();

    let mut problems = Vec::new();
    let mut own_problems = vec![Vec::new(); list.len()];
    for (i, unknown) in graph.unknown.iter().enumerate() {
        for name in unknown {
            let text = format!(
                "component {:?} depends on {name:?}, which is not registered",
                names[i]
            );
            own_problems[i].push(text.clone());
            problems.push(text);
        }
    }
    for cycle in graph.cycles() {
        let mut path: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
        path.push(names[cycle[0]]);
        let text = format!("dependency cycle: {}", path.join(" -> "));
        for &i in &cycle {
            own_problems[i].push(text.clone());
        }
        problems.push(text);
    }

    let components: Vec<ComponentHealth> = list
        .iter()
        .zip(settings)
        .zip(states)
        .zip(own_problems)
        .enumerate()
        .map(|(i, (((component, settings), state), problems))| {
            let timeout = settings.timeout.unwrap_or(defaults.default_timeout);
            let running = component.busy.load(SeqCst);
            let stuck = running
                && state
                    .last_started
                    .is_some_and(|started| now.duration_since(started) > timeout);
            let impaired_by: Vec<String> = graph
                .down_dependencies(i, &down)
                .into_iter()
                .map(|j| names[j].to_string())
                .collect();
            ComponentHealth {
                name: component.name.clone(),
                status: state.status,
                impaired: !impaired_by.is_empty(),
                impaired_by,
                critical: settings.critical,
                dependencies: settings.depends_on,
                details: match state.status {
                    Status::Down | Status::Degraded => state.last_error.clone(),
                    Status::Up | Status::Unknown => None,
                },
                last_error: state.last_error,
                duration_ms: state.last_duration.map(|d| d.as_secs_f64() * 1e3),
                checked_at_unix_ms: state.checked_at_unix_ms,
                since_unix_ms: state.since_unix_ms,
                interval_ms: millis(settings.interval.unwrap_or(defaults.default_interval)),
                timeout_ms: millis(timeout),
                running,
                stuck,
                runs: state.runs,
                failures: state.failures,
                transitions: state.transitions.into_iter().collect(),
                problems,
            }
        })
        .collect();

    let critical_down = components
        .iter()
        .any(|c| c.critical && c.status == Status::Down);
    HealthSnapshot {
        status: overall(&components),
        ready: run::started() && !critical_down && components.iter().all(|c| c.runs > 0),
        components,
        problems,
        events: events(),
    }
}

/// The service's status from its components'.
fn overall(components: &[ComponentHealth]) -> Status {
    if components
        .iter()
        .any(|c| c.critical && c.status == Status::Down)
    {
        Status::Down
    } else if components
        .iter()
        .any(|c| matches!(c.status, Status::Down | Status::Degraded) || c.impaired)
    {
        Status::Degraded
    } else if components.iter().any(|c| c.status == Status::Unknown) {
        Status::Unknown
    } else {
        Status::Up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(status: Status, critical: bool, impaired: bool) -> ComponentHealth {
        ComponentHealth {
            name: "c".into(),
            status,
            impaired,
            impaired_by: Vec::new(),
            critical,
            dependencies: Vec::new(),
            details: None,
            last_error: None,
            duration_ms: None,
            checked_at_unix_ms: None,
            since_unix_ms: 0,
            interval_ms: 0,
            timeout_ms: 0,
            running: false,
            stuck: false,
            runs: 0,
            failures: 0,
            transitions: Vec::new(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn the_overall_status_follows_the_rules() {
        use Status::*;
        assert_eq!(overall(&[]), Up);
        assert_eq!(overall(&[component(Up, true, false)]), Up);
        assert_eq!(
            overall(&[component(Up, true, false), component(Down, true, false)]),
            Down
        );
        assert_eq!(overall(&[component(Down, false, false)]), Degraded);
        assert_eq!(overall(&[component(Up, true, true)]), Degraded);
        assert_eq!(overall(&[component(Degraded, true, false)]), Degraded);
        assert_eq!(
            overall(&[component(Up, true, false), component(Unknown, true, false)]),
            Unknown
        );
    }
}
