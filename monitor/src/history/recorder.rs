//! What the monitor thread does with history each tick: record the
//! snapshot's series in the rings, hand them to the store thread, and run
//! the trend detectors.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, PoisonError, RwLock};

use super::{series, History, HistoryStats};
use crate::config::HistoryConfig;
use crate::snapshot::Snapshot;
use crate::store::worker::{Backfill, BackfillRequest, PersistStatus, StoreHandle, StoreWorker};
use crate::trend::{self, TrendConfig, TrendReport};

/// The rings and the store readers share with the HTTP server.
#[derive(Clone)]
pub(crate) struct HistoryAccess {
    pub(crate) history: Arc<RwLock<History>>,
    pub(crate) store: Option<StoreHandle>,
}

/// Owned by the monitor thread's pipeline.
pub(crate) struct Recorder {
    access: HistoryAccess,
    worker: Option<StoreWorker>,
    /// Why the store thread could not be started, if it could not.
    worker_error: Option<String>,
    trend: TrendConfig,
    /// The last findings and the second they were computed for: the rings
    /// change once a second, so faster ticks reuse them.
    report: Option<(i64, TrendReport)>,
    /// The watched series reloaded from the store, once it is open.
    backfill: Option<Receiver<Backfill>>,
}

impl Recorder {
    /// Rings sized by `config`; the store thread when persistence is on.
    pub(crate) fn start(data_dir: PathBuf, config: &HistoryConfig, trend: TrendConfig) -> Self {
        let (reply, backfill) = mpsc::sync_channel(1);
        // The series trends watch are reloaded so they carry on across a
        // restart; others are served from the store when asked for.
        let request = BackfillRequest {
            series: trend::watched_series(&trend),
            span: trend.leak_window.max(trend.forecast_window),
            reply,
        };
        let (worker, worker_error) = if config.persist {
            match StoreWorker::start(data_dir, config.clone(), Some(request)) {
                Ok(worker) => (Some(worker), None),
                Err(e) => (None, Some(format!("cannot start the store thread: {e}"))),
            }
        } else {
            (None, None)
        };
        Self {
            access: HistoryAccess {
                history: Arc::new(RwLock::new(History::new(config.max_series))),
                store: worker.as_ref().and_then(StoreWorker::handle),
            },
            worker,
            worker_error,
            trend,
            report: None,
            backfill: Some(backfill),
        }
    }

    /// Readers' access, for the HTTP server.
    pub(crate) fn access(&self) -> HistoryAccess {
        self.access.clone()
    }

    /// Records `snapshot` and returns the figures and findings for it.
    pub(crate) fn record(&mut self, snapshot: &Snapshot) -> (HistoryStats, TrendReport) {
        let begin = std::time::Instant::now();
        let t_ms = snapshot.taken_at_unix_ms.min(i64::MAX as u64) as i64;
        let values = series::series(snapshot);
        let mut history = self
            .access
            .history
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = &self.backfill {
            match receiver.try_recv() {
                Ok((from_ms, series)) => {
                    for (name, points) in &series {
                        history.backfill(name, from_ms.div_euclid(1000), points);
                    }
                    self.backfill = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.backfill = None,
            }
        }
        let persist = history.record(t_ms, values);
        let now = history.now_secs();
        let report = match &self.report {
            Some((at, report)) if *at == now => report.clone(),
            _ => {
                let report = trend::analyse(&history, &self.trend);
                self.report = Some((now, report.clone()));
                report
            }
        };
        let (len, refused) = (history.len(), history.refused());
        drop(history);
        if let Some(store) = &self.access.store {
            store.write(t_ms, persist);
        }
        let store = match (&self.access.store, &self.worker_error) {
            (Some(store), _) => store.status(),
            (None, Some(reason)) => PersistStatus {
                state: crate::store::worker::PersistState::Unavailable,
                reason: Some(reason.clone()),
                ..PersistStatus::default()
            },
            (None, None) => PersistStatus::default(),
        };
        let stats = HistoryStats {
            series: len,
            refused_series: refused,
            record_us: begin.elapsed().as_micros() as u64,
            store,
        };
        (stats, report)
    }

    /// Writes what is queued and stops the store thread.
    pub(crate) fn stop(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.stop();
        }
    }
}
