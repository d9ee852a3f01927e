//! The [`Monitor`] guard: starts the background thread, runs the tick
//! pipeline on it, and stops it when dropped.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc as async_mpsc, watch};

use crate::config::Config;
use crate::dashboard;
use crate::history::recorder::Recorder;
use crate::profile::{self, FunctionCollector};
use crate::publish::SnapshotCell;
use crate::registry::{self, Registry};
use crate::snapshot::{MonitorStats, Snapshot, TraceStats};
use crate::system::{SystemCollector, SystemStats};
use crate::trace::{self, TraceId, TraceQuery, TraceStore, TraceSummary, TraceTree};
use crate::Error;
use crate::{health, http};

/// Only one monitor runs per process: profiling state is process-wide.
static RUNNING: AtomicBool = AtomicBool::new(false);

enum Command {
    /// Build a snapshot now and send it back.
    Collect(mpsc::SyncSender<Arc<Snapshot>>),
}

/// The running monitor. Dropping it takes a last snapshot, stops the
/// background thread and turns recording off.
#[must_use = "the monitor stops when this guard is dropped"]
pub struct Monitor {
    config: Config,
    snapshots: SnapshotCell,
    traces: Arc<RwLock<TraceStore>>,
    running: Option<Running>,
}

struct Running {
    commands: async_mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
    dashboard_addr: Option<SocketAddr>,
}

impl Monitor {
    pub(crate) fn start(config: Config) -> Result<Self, Error> {
        let snapshots = SnapshotCell::new();
        let traces = Arc::new(RwLock::new(TraceStore::with_slow_threshold(
            config.trace.max_spans,
            config
                .trace
                .slow_threshold
                .as_nanos()
                .min(u128::from(u64::MAX)) as u64,
        )));
        if config.disabled {
            return Ok(Self {
                config,
                snapshots,
                traces,
                running: None,
            });
        }
        if RUNNING.swap(true, SeqCst) {
            return Err(Error::AlreadyRunning);
        }
        match Self::spawn(&config, &snapshots, &traces) {
            Ok(running) => Ok(Self {
                config,
                snapshots,
                traces,
                running: Some(running),
            }),
            Err(e) => {
                RUNNING.store(false, SeqCst);
                Err(e)
            }
        }
    }

    fn spawn(
        config: &Config,
        snapshots: &SnapshotCell,
        traces: &Arc<RwLock<TraceStore>>,
    ) -> Result<Running, Error> {
        let registry = if config.metrics.install_recorder {
            Some(registry::install(config.metrics.max_series_per_metric)?)
        } else {
            None
        };
        // Bind here, not on the thread, so a busy port is an error from init().
        let listener = if config.dashboard.enabled {
            let addr = config.dashboard.addr;
            let listener =
                std::net::TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
            listener
                .set_nonblocking(true)
                .map_err(|source| Error::Bind { addr, source })?;
            Some(listener)
        } else {
            None
        };
        let dashboard_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
        let (commands, receiver) = async_mpsc::unbounded_channel();
        let pipeline = Pipeline {
            config: config.clone(),
            snapshots: snapshots.clone(),
            traces: Arc::clone(traces),
            registry,
            functions: FunctionCollector::new(),
            #[cfg(feature = "alloc")]
            alloc: Default::default(),
            endpoints: http::EndpointCollector::server(),
            dependencies: http::EndpointCollector::client(),
            started: Instant::now(),
            tick: 0,
            system: config
                .system
                .enabled
                .then(|| SystemCollector::new(config.system.clone())),
            history: config.history.enabled.then(|| {
                Recorder::start(
                    config.data_dir.clone(),
                    &config.history,
                    config.trend.clone(),
                )
            }),
            #[cfg(feature = "otlp")]
            otlp: None,
        };
        trace::set_sample_ratio(config.trace.sample_ratio);
        http::set_max_routes(config.http.max_routes);
        profile::set_enabled(true);
        trace::install_if_unset();
        let thread = std::thread::Builder::new()
            .name("monitor".into())
            .spawn(move || pipeline.run(listener, receiver))
            .map_err(|e| {
                profile::set_enabled(false);
                Error::Thread(e)
            })?;
        crate::publish::set_current(Some(snapshots.clone()));
        Ok(Running {
            commands,
            thread: Some(thread),
            dashboard_addr,
        })
    }

    /// The address the dashboard listens on (with the real port when 0 was
    /// asked for); `None` when disabled.
    pub fn dashboard_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(|r| r.dashboard_addr)
    }

    /// Whether the monitor is running (false when `MONITOR_DISABLE` is set).
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The latest published snapshot (at most one tick old).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshots.load()
    }

    /// The stored traces matching `query`, newest first (as of the last tick).
    pub fn find_traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        self.traces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .query(query)
    }

    /// The stored spans of trace `id` as a tree (as of the last tick).
    pub fn trace(&self, id: TraceId) -> Option<TraceTree> {
        self.traces
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .trace(id)
    }

    /// A handle to the published snapshots, for readers that outlive a borrow.
    pub fn snapshots(&self) -> SnapshotCell {
        self.snapshots.clone()
    }

    /// Builds a snapshot now, on the monitor thread, and returns it. Waits
    /// for the thread; returns the latest snapshot if it is not running.
    pub fn collect_now(&self) -> Arc<Snapshot> {
        let Some(running) = &self.running else {
            return self.snapshot();
        };
        let (reply, answer) = mpsc::sync_channel(1);
        if running.commands.send(Command::Collect(reply)).is_err() {
            return self.snapshot();
        }
        answer.recv().unwrap_or_else(|_| self.snapshot())
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        crate::publish::set_current(None);
        let (reply, answer) = mpsc::sync_channel(1);
        // Flush: one last snapshot, then closing the channel stops the thread.
        if running.commands.send(Command::Collect(reply)).is_ok() {
            let _ = answer.recv();
        }
        drop(running.commands);
        if let Some(thread) = running.thread.take() {
            let _ = thread.join();
        }
        profile::set_enabled(false);
        RUNNING.store(false, SeqCst);
    }
}

/// Everything the monitor thread owns.
struct Pipeline {
    config: Config,
    snapshots: SnapshotCell,
    traces: Arc<RwLock<TraceStore>>,
    registry: Option<Arc<Registry>>,
    functions: FunctionCollector,
    #[cfg(feature = "alloc")]
    alloc: crate::alloc::AllocCollector,
    endpoints: http::EndpointCollector,
    dependencies: http::EndpointCollector,
    started: Instant,
    tick: u64,
    /// System and process readings; `None` when `system.enabled` is off.
    system: Option<SystemCollector>,
    /// Rings, the store thread and trends; `None` when history is off.
    history: Option<Recorder>,
    /// The OTLP export task's handle, started on the runtime when an
    /// endpoint is configured.
    #[cfg(feature = "otlp")]
    otlp: Option<trace::OtlpExporter>,
}

impl Pipeline {
    fn run(
        mut self,
        listener: Option<std::net::TcpListener>,
        mut commands: async_mpsc::UnboundedReceiver<Command>,
    ) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(_) => return,
        };
        runtime.block_on(async move {
            #[cfg(feature = "otlp")]
            {
                self.otlp = self
                    .config
                    .trace
                    .otlp_endpoint
                    .as_ref()
                    .map(trace::OtlpExporter::start);
            }
            let (stop, stopped) = watch::channel(false);
            let checks = tokio::spawn(health::run(self.config.health.clone(), stopped.clone()));
            let server = listener.and_then(|listener| {
                let listener = tokio::net::TcpListener::from_std(listener).ok()?;
                let server = dashboard::Server::new(
                    self.config.dashboard.clone(),
                    self.snapshots.clone(),
                    Arc::clone(&self.traces),
                )
                .with_history(self.history.as_ref().map(Recorder::access));
                Some(tokio::spawn(server.run(listener, stopped)))
            });
            let probes = self
                .system
                .as_ref()
                .map(SystemCollector::start_probes)
                .unwrap_or_default();
            let mut ticks = tokio::time::interval(self.config.tick);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => { self.tick(); }
                    command = commands.recv() => match command {
                        Some(Command::Collect(reply)) => { let _ = reply.send(self.tick()); }
                        None => break,
                    },
                }
            }
            let _ = stop.send(true);
            probes.iter().for_each(tokio::task::JoinHandle::abort);
            #[cfg(feature = "otlp")]
            if let Some(otlp) = self.otlp.take() {
                otlp.shutdown().await;
            }
            if let Some(server) = server {
                let _ = server.await;
            }
            let _ = checks.await;
            if let Some(history) = self.history.take() {
                history.stop();
            }
        });
    }

    /// Builds and publishes one snapshot. A bug in a collector must not take
    /// the thread down: a panicking tick keeps the previous snapshot.
    fn tick(&mut self) -> Arc<Snapshot> {
        match catch_unwind(AssertUnwindSafe(|| self.build())) {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                self.snapshots.publish(Arc::clone(&snapshot));
                snapshot
            }
            Err(_) => self.snapshots.load(),
        }
    }

    /// Moves the spans finished since the last tick into the store.
    fn store_spans(&self) -> TraceStats {
        let spans = trace::drain();
        #[cfg(feature = "otlp")]
        if let Some(otlp) = &self.otlp {
            otlp.push(&spans);
        }
        let mut store = self.traces.write().unwrap_or_else(PoisonError::into_inner);
        store.insert(spans);
        let stats = store.stats();
        TraceStats {
            spans: stats.spans,
            evicted: stats.evicted,
            over_trace_cap: stats.over_trace_cap,
            dropped: trace::dropped(),
            sampled_out: stats.sampled_out,
            kept_by_tail: stats.kept_by_tail,
        }
    }

    fn build(&mut self) -> Snapshot {
        let begin = Instant::now();
        self.tick += 1;
        let functions = self.functions.collect();
        let metrics = self
            .registry
            .as_ref()
            .map(|r| r.snapshot())
            .unwrap_or_default();
        let traces = self.store_spans();
        #[cfg(feature = "alloc")]
        let alloc = self.alloc.collect();
        #[cfg(not(feature = "alloc"))]
        let alloc = None;
        // A bug in the system readings loses them alone, not the tick.
        let system = self
            .system
            .as_mut()
            .map(|system| {
                catch_unwind(AssertUnwindSafe(|| system.collect())).unwrap_or_else(|_| {
                    SystemStats::failed(
                        "the system collector panicked; this is a bug in the monitor crate",
                    )
                })
            })
            .unwrap_or_default();
        let mut snapshot = Snapshot {
            tick: self.tick,
            taken_at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            uptime_secs: self.started.elapsed().as_secs_f64(),
            monitor: MonitorStats {
                collect_us: begin.elapsed().as_micros() as u64,
                callsites: functions.len(),
                live_shards: self.functions.live_shards(),
                unregistered_callsites: self.functions.unregistered(),
            },
            functions,
            metrics,
            traces,
            alloc,
            system,
            endpoints: self.endpoints.collect(),
            dependencies: self.dependencies.collect(),
            health: health::collect(&self.config.health),
            ..Snapshot::default()
        };
        if let Some(history) = &mut self.history {
            (snapshot.history, snapshot.trends) = history.record(&snapshot);
        }
        snapshot
    }
}
