//! The store's own thread: the monitor thread hands it each tick's values
//! through a bounded queue and never waits for the disk.
//!
//! A full queue drops the tick (counted). While the store is unavailable
//! (cannot open, disk full, read-only) ticks are dropped and counted, and
//! opening or writing is retried with a backoff from 1 s doubling to 1 min.
//! History queries for old ranges go through the same queue with a reply
//! channel, so SQLite is only ever touched by this thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Store, StoreError, StoredPoint};
use crate::config::HistoryConfig;

/// Jobs waiting for the thread; more are dropped and counted.
const QUEUE: usize = 64;
/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Whether history is being written to disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PersistState {
    /// Persistence is turned off (or history is disabled).
    #[default]
    Off,
    /// The database is being opened.
    Starting,
    /// Ticks are being written.
    Ok,
    /// Nothing is written; see the reason. Retried with a backoff.
    Unavailable,
}

/// The store's figures, shown in the snapshot.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PersistStatus {
    /// Whether ticks are being written.
    pub state: PersistState,
    /// Why the store is unavailable.
    pub reason: Option<String>,
    /// The database file.
    pub path: Option<String>,
    /// Where a corrupt database found at open was moved.
    pub moved_aside: Option<String>,
    /// Ticks committed.
    pub persisted_ticks: u64,
    /// Values committed.
    pub persisted_points: u64,
    /// Ticks not written: queue full or store unavailable.
    pub dropped_ticks: u64,
    /// When the last tick was committed, milliseconds since the Unix epoch.
    pub last_write_unix_ms: Option<u64>,
    /// How long the last tick's transaction took, microseconds.
    pub last_write_us: u64,
    /// Size of the database file (pages in use).
    pub db_bytes: u64,
}

/// A query answered by the store thread.
pub(crate) struct Query {
    pub(crate) series: String,
    pub(crate) from_ms: i64,
    pub(crate) to_ms: i64,
    pub(crate) step_ms: i64,
    pub(crate) max_points: usize,
}

/// The answer to a [`Query`]: points, or why there are none.
pub(crate) type Answer = Result<Vec<StoredPoint>, String>;

/// Work another module runs with the store (`None` while unavailable).
type StoreJob = Box<dyn FnOnce(Option<&mut Store>) + Send>;

enum Job {
    Tick {
        t_ms: i64,
        values: Vec<(Arc<str>, f64)>,
    },
    Query(Query, tokio::sync::oneshot::Sender<Answer>),
    /// Any other use of the store (alert state, audit), run on its thread.
    Run(StoreJob),
    /// Write what was queued before, then end the thread.
    Stop,
}

/// Points reloaded at startup: from when (ms), and per series its points
/// `(ms, value)`, oldest first.
pub(crate) type Backfill = (i64, Vec<(String, Vec<(i64, f64)>)>);

/// What to reload once the store is open: series, and how far back.
pub(crate) struct BackfillRequest {
    pub(crate) series: Vec<String>,
    pub(crate) span: Duration,
    pub(crate) reply: SyncSender<Backfill>,
}

/// The sending side, cloned into whoever needs the store.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    jobs: SyncSender<Job>,
    status: Arc<Mutex<PersistStatus>>,
}

/// The running thread; [`StoreWorker::stop`] flushes and joins it.
pub(crate) struct StoreWorker {
    handle: Option<StoreHandle>,
    thread: Option<JoinHandle<()>>,
}

impl StoreWorker {
    /// Starts the thread, which opens `<data_dir>/history.db` and, once
    /// open, answers `backfill`.
    pub(crate) fn start(
        data_dir: PathBuf,
        config: HistoryConfig,
        backfill: Option<BackfillRequest>,
    ) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::sync_channel(QUEUE);
        let status = Arc::new(Mutex::new(PersistStatus {
            state: PersistState::Starting,
            ..PersistStatus::default()
        }));
        let thread = Writer {
            dir: data_dir,
            config,
            status: Arc::clone(&status),
            store: None,
            retry_at: Some(Instant::now()),
            backoff: FIRST_BACKOFF,
            next_retention: Instant::now(),
            last_t_ms: i64::MIN,
            backfill,
        };
        let thread = std::thread::Builder::new()
            .name("monitor-store".into())
            .spawn(move || thread.run(receiver))?;
        Ok(Self {
            handle: Some(StoreHandle { jobs, status }),
            thread: Some(thread),
        })
    }

    /// A handle for sending ticks and queries.
    pub(crate) fn handle(&self) -> Option<StoreHandle> {
        self.handle.clone()
    }

    /// Lets the thread write what is queued, then joins it. Handles cloned
    /// elsewhere see a closed store afterwards.
    pub(crate) fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            // Blocks only while the queue is full, i.e. behind queued writes.
            let _ = handle.jobs.send(Job::Stop);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl StoreHandle {
    /// Queues one tick; drops (and counts) it when the queue is full.
    pub(crate) fn write(&self, t_ms: i64, values: Vec<(Arc<str>, f64)>) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.jobs.try_send(Job::Tick { t_ms, values })
        {
            lock(&self.status).dropped_ticks += 1;
        }
    }

    /// Queues a query; the answer comes on the returned channel.
    pub(crate) fn query(&self, query: Query) -> tokio::sync::oneshot::Receiver<Answer> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if let Err(TrySendError::Full(Job::Query(_, reply)))
        | Err(TrySendError::Disconnected(Job::Query(_, reply))) =
            self.jobs.try_send(Job::Query(query, reply))
        {
            let _ = reply.send(Err("the history store is busy; try again".into()));
        }
        answer
    }

    /// Runs `job` on the store thread with the store (`None` while it is
    /// unavailable): how other modules persist (`put_state`,
    /// `append_audit`). Returns false, without running it, when the queue
    /// is full.
    pub(crate) fn run(&self, job: impl FnOnce(Option<&mut Store>) + Send + 'static) -> bool {
        self.jobs.try_send(Job::Run(Box::new(job))).is_ok()
    }

    /// The store's figures now.
    pub(crate) fn status(&self) -> PersistStatus {
        lock(&self.status).clone()
    }
}

fn lock(status: &Mutex<PersistStatus>) -> std::sync::MutexGuard<'_, PersistStatus> {
    status.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What the store thread owns.
struct Writer {
    dir: PathBuf,
    config: HistoryConfig,
    status: Arc<Mutex<PersistStatus>>,
    store: Option<Store>,
    /// When to try again after a failure; `None` while healthy.
    retry_at: Option<Instant>,
    backoff: Duration,
    next_retention: Instant,
    /// The last tick's time: ticks in the same millisecond (possible with
    /// `collect_now`) are stored 1 ms apart instead of replacing each other.
    last_t_ms: i64,
    /// Answered once, after the first successful open.
    backfill: Option<BackfillRequest>,
}

impl Writer {
    fn run(mut self, jobs: Receiver<Job>) {
        self.try_open();
        loop {
            let job = match jobs.recv_timeout(Duration::from_secs(1)) {
                Ok(Job::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(job) => Some(job),
                Err(RecvTimeoutError::Timeout) => None,
            };
            // A bug here must not end the thread: the job is lost and the
            // store reopened after the backoff.
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if let Some(job) = job {
                    self.handle(job);
                }
                if self.store.is_some() && Instant::now() >= self.next_retention {
                    self.retention();
                }
            }));
            if outcome.is_err() {
                self.store = None;
                self.fail_with("a job on the store thread panicked; reopening".into());
            }
        }
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Tick { t_ms, values } => self.write(t_ms, &values),
            Job::Query(query, reply) => {
                let _ = reply.send(self.query(&query));
            }
            Job::Run(job) => {
                // Another module's bug: its job is lost, the store stays open.
                let store = self.store.as_mut();
                let _ = catch_unwind(AssertUnwindSafe(|| job(store)));
            }
            Job::Stop => {}
        }
    }

    fn try_open(&mut self) {
        match Store::open(&self.dir) {
            Ok(store) => {
                if let Some(limit) = self.config.max_db_bytes {
                    if let Err(e) = store.set_size_limit(limit) {
                        self.fail(&e);
                        return;
                    }
                }
                let mut status = lock(&self.status);
                status.state = PersistState::Ok;
                status.reason = None;
                status.path = Some(store.path().display().to_string());
                status.moved_aside = store.moved_aside().map(|p| p.display().to_string());
                status.db_bytes = store.size_bytes().unwrap_or(0);
                drop(status);
                self.store = Some(store);
                self.retry_at = None;
                self.backoff = FIRST_BACKOFF;
                self.send_backfill();
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Reads back the requested series; a series that fails is skipped.
    fn send_backfill(&mut self) {
        let (Some(request), Some(store)) = (self.backfill.take(), self.store.as_mut()) else {
            return;
        };
        let now = now_ms();
        let from = now.saturating_sub(request.span.as_millis().min(i64::MAX as u128) as i64);
        let series = request
            .series
            .into_iter()
            .filter_map(|name| {
                let points = store.query(&name, from, now, 1000, 100_000).ok()?;
                let points = points.iter().map(|p| (p.t_ms, p.value)).collect();
                Some((name, points))
            })
            .collect();
        let _ = request.reply.try_send((from, series));
    }

    /// Marks the store unavailable and schedules a retry.
    fn fail(&mut self, error: &StoreError) {
        if error.is_corrupt() {
            // Reopening moves the damaged file aside.
            self.store = None;
        }
        self.fail_with(error.to_string());
    }

    fn fail_with(&mut self, reason: String) {
        let mut status = lock(&self.status);
        status.state = PersistState::Unavailable;
        status.reason = Some(reason);
        drop(status);
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    fn write(&mut self, t_ms: i64, values: &[(Arc<str>, f64)]) {
        if let Some(at) = self.retry_at {
            if Instant::now() < at {
                lock(&self.status).dropped_ticks += 1;
                return;
            }
            if self.store.is_none() {
                self.try_open();
            }
        }
        let Some(store) = self.store.as_mut() else {
            lock(&self.status).dropped_ticks += 1;
            return;
        };
        let begin = Instant::now();
        let t_ms = t_ms.max(self.last_t_ms.saturating_add(1));
        match store.write_tick(t_ms, values.iter().map(|(n, v)| (&**n, *v))) {
            Ok(points) => {
                self.last_t_ms = t_ms;
                let mut status = lock(&self.status);
                status.state = PersistState::Ok;
                status.reason = None;
                status.persisted_ticks += 1;
                status.persisted_points += points as u64;
                status.last_write_unix_ms = Some(now_ms().max(0) as u64);
                status.last_write_us = begin.elapsed().as_micros() as u64;
                drop(status);
                self.retry_at = None;
                self.backoff = FIRST_BACKOFF;
            }
            Err(e) => {
                lock(&self.status).dropped_ticks += 1;
                self.fail(&e);
            }
        }
    }

    fn retention(&mut self) {
        self.next_retention = Instant::now() + RETENTION_EVERY;
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let result = store.run_retention(now_ms(), self.config.raw_window, self.config.retention);
        let size = store.size_bytes();
        match result.and(size) {
            Ok(bytes) => lock(&self.status).db_bytes = bytes,
            Err(e) => self.fail(&e),
        }
    }

    fn query(&mut self, query: &Query) -> Answer {
        let Some(store) = self.store.as_mut() else {
            let reason = lock(&self.status).reason.clone();
            return Err(format!(
                "the history store is unavailable: {}",
                reason.unwrap_or_else(|| "not open yet".into())
            ));
        };
        store
            .query(
                &query.series,
                query.from_ms,
                query.to_ms,
                query.step_ms,
                query.max_points,
            )
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(handle: &StoreHandle, done: impl Fn(&PersistStatus) -> bool) -> PersistStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = handle.status();
            if done(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "never reached; last {status:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn an_unusable_dir_is_retried_and_recovers() {
        let dir = std::env::temp_dir().join(format!("monitor-worker-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let data = dir.join("data");
        std::fs::write(&data, b"in the way").expect("write");
        let worker =
            StoreWorker::start(data.clone(), HistoryConfig::default(), None).expect("starts");
        let handle = worker.handle().expect("handle");
        let status = wait_for(&handle, |s| s.state == PersistState::Unavailable);
        assert!(status.reason.expect("reason").contains("data directory"));
        handle.write(1_000, vec![(Arc::from("a"), 1.0)]);
        wait_for(&handle, |s| s.dropped_ticks == 1);
        // The obstacle goes; the next tick after the backoff opens the store.
        std::fs::remove_file(&data).expect("rm");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut t = 2_000;
        while handle.status().persisted_ticks == 0 {
            assert!(
                Instant::now() < deadline,
                "never recovered: {:?}",
                handle.status()
            );
            handle.write(t, vec![(Arc::from("a"), 2.0)]);
            t += 1000;
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(handle.status().state, PersistState::Ok);
        // Other modules run their own statements on the store thread, and a
        // panicking one does not end it.
        assert!(handle.run(|_| panic!("a bug elsewhere")));
        let (sent, got) = mpsc::channel();
        assert!(handle.run(move |store| {
            let store = store.expect("open");
            store
                .put_state("alerts", "cpu", &serde_json::json!("firing"), 5)
                .expect("put");
            let _ = sent.send(store.get_state("alerts", "cpu").expect("get"));
        }));
        let value = got.recv_timeout(Duration::from_secs(10)).expect("ran");
        assert_eq!(value, Some(serde_json::json!("firing")));
        drop(handle);
        worker.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
