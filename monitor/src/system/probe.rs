//! TCP connect-time probes to configured targets. Each target has a task on
//! the monitor's runtime that connects, records the result and sleeps; the
//! collector picks the latest results up at the next tick, so a slow or
//! unreachable target never delays a tick.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::{lookup_host, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::stats::ProbeResult;
use crate::config::ProbeTarget;

/// The latest result per target, in configuration order (`None` until the
/// first probe of that target finished).
#[derive(Clone, Default)]
pub(crate) struct ProbeResults {
    latest: Arc<Mutex<Vec<Option<ProbeResult>>>>,
}

impl ProbeResults {
    pub(crate) fn with_targets(targets: usize) -> Self {
        Self {
            latest: Arc::new(Mutex::new(vec![None; targets])),
        }
    }

    fn store(&self, index: usize, result: ProbeResult) {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = latest.get_mut(index) {
            *slot = Some(result);
        }
    }

    /// The finished probes.
    pub(crate) fn snapshot(&self) -> Vec<ProbeResult> {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        latest.iter().flatten().cloned().collect()
    }
}

/// Spawns one probing task per target on the current runtime; the caller
/// aborts them when the monitor stops.
pub(crate) fn start(
    targets: &[ProbeTarget],
    limit: Duration,
    interval: Duration,
    results: &ProbeResults,
) -> Vec<JoinHandle<()>> {
    targets
        .iter()
        .enumerate()
        .map(|(index, target)| {
            let target = target.clone();
            let results = results.clone();
            tokio::spawn(async move {
                loop {
                    let result = probe(&target, limit).await;
                    results.store(index, result);
                    tokio::time::sleep(interval).await;
                }
            })
        })
        .collect()
}

/// Resolves `target` and times one TCP connect, all within `limit`.
pub(crate) async fn probe(target: &ProbeTarget, limit: Duration) -> ProbeResult {
    let outcome = timeout(limit, async {
        let addr = lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot resolve {target}: {e}"))?
            .next()
            .ok_or_else(|| format!("{target} resolves to no address"))?;
        let begin = Instant::now();
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let latency = begin.elapsed();
        drop(stream);
        Ok::<_, String>(latency)
    })
    .await
    .unwrap_or_else(|_| Err(format!("no connection within {limit:?}")));
    let (latency_ms, error) = match outcome {
        Ok(latency) => (Some(latency.as_secs_f64() * 1e3), None),
        Err(error) => (None, Some(error)),
    };
    ProbeResult {
        target: target.to_string(),
        latency_ms,
        error,
        checked_at_unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listening_port_answers_and_a_closed_one_is_an_error() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let open: ProbeTarget = listener.local_addr().unwrap().to_string().parse().unwrap();
            let closed: ProbeTarget = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().to_string().parse().unwrap()
            };
            let ok = probe(&open, Duration::from_secs(5)).await;
            assert!(ok.latency_ms.is_some_and(|ms| ms >= 0.0), "{ok:?}");
            assert_eq!(ok.error, None);
            let refused = probe(&closed, Duration::from_secs(5)).await;
            assert_eq!(refused.latency_ms, None);
            assert!(
                refused
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains(&closed.to_string())),
                "{refused:?}"
            );
            let nowhere = "no-such-host.invalid:80".parse().unwrap();
            let unresolvable = probe(&nowhere, Duration::from_secs(2)).await;
            assert!(unresolvable.error.is_some(), "{unresolvable:?}");

            let results = ProbeResults::with_targets(1);
            let tasks = start(
                &[open],
                Duration::from_secs(5),
                Duration::from_secs(60),
                &results,
            );
            for _ in 0..500 {
                if !results.snapshot().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(results.snapshot().len(), 1);
            tasks.into_iter().for_each(|t| t.abort());
        });
    }
}
