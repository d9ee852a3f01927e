//! The `metrics` facade recorder: named series with labels, a cardinality cap
//! per metric name, and a snapshot of everything once a tick.
//!
//! # Recording cost
//!
//! The `metrics` macros call `register_*` on every invocation, so
//! registration is a read path: the key is looked up, with the hash the
//! `metrics` crate already computed, in one of 64 shards (chosen by that
//! hash), each a `HashMap` behind an `RwLock` that is written only when a new
//! label set is seen. A hit costs one shared read lock, one lookup and one
//! `Arc` clone. The handles that come back write relaxed atomics only:
//! counters and gauges are `AtomicU64`s, histograms are
//! [`histogram::AtomicHistogram`]s (fixed log-linear buckets, percentiles
//! within 1%, exact count/sum/min/max).
//!
//! # Bounds
//!
//! - At most `max_series_per_metric` label sets per metric name get their own
//!   series. Every further label set is folded into one overflow series whose
//!   labels are `monitor_overflow="true"`, and [`MetricFamily::overflowed`]
//!   counts the **distinct label sets** folded (see [`overflow`] for how that
//!   is counted in fixed memory). Folding takes shared locks only, so a flood
//!   of new label sets does not serialise the recording threads. Lowering the
//!   cap on a restart keeps existing series and folds only new label sets.
//! - At most [`MAX_METRIC_NAMES`] metric names (and as many descriptions);
//!   registrations of further names get no-op handles and are counted in
//!   `monitor_metrics_dropped_names_total`.
//! - A name is bound to the kind it was first registered as. Registering it
//!   as another kind returns a no-op handle (nothing is recorded) and is
//!   counted per registration in
//!   `monitor_metrics_kind_conflicts_total{metric, kind}`, where `kind` is the
//!   kind that was refused.
//!
//! These two figures appear in the snapshot as ordinary counter families, only
//! once they are non-zero.
//!
//! # Labels
//!
//! Label pairs are kept in the order of the first registration of a label
//! set (the `metrics` crate treats the same pairs in another order as the
//! same key). Values are stored as given, whatever their length.

mod histogram;
mod overflow;

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use metrics::{Key, KeyName, Metadata, SharedString, Unit};

use self::histogram::AtomicHistogram;
use self::overflow::FoldedSet;
use crate::snapshot::{MetricFamily, MetricKind, MetricSeries, MetricValue};
use crate::Error;

/// Metric names kept; registrations of further names are dropped and counted.
pub(crate) const MAX_METRIC_NAMES: usize = 10_000;
/// The labels of the series that label sets beyond the cap are folded into.
pub(crate) const OVERFLOW_LABEL: (&str, &str) = ("monitor_overflow", "true");
/// The family that counts registrations refused for a kind conflict.
pub(crate) const KIND_CONFLICTS_METRIC: &str = "monitor_metrics_kind_conflicts_total";
/// The family that counts registrations refused because of [`MAX_METRIC_NAMES`].
pub(crate) const DROPPED_NAMES_METRIC: &str = "monitor_metrics_dropped_names_total";

const SHARDS: usize = 64;

/// Facade metrics by name and labels. Implements [`metrics::Recorder`]
/// (also through `Arc<Registry>`); [`install`] makes it the global recorder,
/// and tests can scope one with [`metrics::with_local_recorder`].
pub struct Registry {
    max_series_per_metric: AtomicUsize,
    shards: Box<[RwLock<SeriesMap>]>,
    families: RwLock<BTreeMap<String, Arc<Family>>>,
    descriptions: RwLock<HashMap<String, Description>>,
    dropped_names: AtomicU64,
}

// `Key`'s `Hash` writes only its precomputed hash, which does not depend on
// anything mutable, so `Key` is a sound map key (see `metrics::Key`).
#[allow(clippy::mutable_key_type)]
type SeriesMap = HashMap<Key, Slot, BuildHasherDefault<PrehashedHasher>>;

/// What a registered key maps to.
struct Slot {
    family: Arc<Family>,
    value: Value,
}

/// The storage of one series; cloning clones the `Arc`.
#[derive(Clone)]
enum Value {
    Counter(Arc<AtomicU64>),
    /// `f64` bits.
    Gauge(Arc<AtomicU64>),
    Histogram(Arc<AtomicHistogram>),
}

impl Value {
    fn new(kind: MetricKind) -> Self {
        match kind {
            MetricKind::Counter => Value::Counter(Arc::new(AtomicU64::new(0))),
            MetricKind::Gauge => Value::Gauge(Arc::new(AtomicU64::new(0f64.to_bits()))),
            MetricKind::Histogram => Value::Histogram(Arc::new(AtomicHistogram::new())),
        }
    }

    fn read(&self) -> MetricValue {
        match self {
            Value::Counter(c) => MetricValue::Counter(c.load(Relaxed)),
            Value::Gauge(g) => MetricValue::Gauge(f64::from_bits(g.load(Relaxed))),
            Value::Histogram(h) => MetricValue::Histogram(h.summary()),
        }
    }
}

/// One label set of a family.
struct Series {
    labels: Vec<(String, String)>,
    value: Value,
}

/// All series of one metric name.
struct Family {
    name: String,
    kind: MetricKind,
    /// Series with their own label set, reserved against the cap.
    len: AtomicUsize,
    /// The same series, sorted by labels; written only when one is added.
    series: RwLock<Vec<Arc<Series>>>,
    overflow: OnceLock<Value>,
    folded: OnceLock<FoldedSet>,
    /// Refused registrations, by the kind that was asked for.
    conflicts: [AtomicU64; 3],
}

impl Family {
    fn new(name: &str, kind: MetricKind) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            len: AtomicUsize::new(0),
            series: RwLock::new(Vec::new()),
            overflow: OnceLock::new(),
            folded: OnceLock::new(),
            conflicts: [const { AtomicU64::new(0) }; 3],
        }
    }

    /// Takes one of the `cap` places, if one is left.
    fn reserve(&self, cap: usize) -> bool {
        self.len
            .fetch_update(Relaxed, Relaxed, |n| (n < cap).then_some(n + 1))
            .is_ok()
    }

    /// The overflow series, after noting that `key` was folded into it.
    fn fold(&self, key: &Key, cap: usize) -> Value {
        self.folded
            .get_or_init(|| FoldedSet::for_cap(cap))
            .insert(label_set_hash(key));
        self.overflow.get_or_init(|| Value::new(self.kind)).clone()
    }

    fn conflict(&self, asked: MetricKind) {
        self.conflicts[kind_index(asked)].fetch_add(1, Relaxed);
    }

    fn snapshot(&self, description: Option<Description>) -> MetricFamily {
        let series: Vec<Arc<Series>> = read(&self.series).clone();
        let mut out: Vec<MetricSeries> = series
            .iter()
            .map(|s| MetricSeries {
                labels: s.labels.clone(),
                value: s.value.read(),
            })
            .collect();
        if let Some(overflow) = self.overflow.get() {
            let labels = vec![(OVERFLOW_LABEL.0.to_owned(), OVERFLOW_LABEL.1.to_owned())];
            let at = out.partition_point(|s| s.labels < labels);
            out.insert(
                at,
                MetricSeries {
                    labels,
                    value: overflow.read(),
                },
            );
        }
        let (help, unit) = description.map(|d| (d.help, d.unit)).unwrap_or_default();
        MetricFamily {
            name: self.name.clone(),
            kind: self.kind,
            help,
            unit,
            overflowed: self.folded.get().map_or(0, FoldedSet::len),
            series: out,
        }
    }
}

/// What `describe_*!` said about a name.
#[derive(Clone, Default)]
struct Description {
    help: Option<String>,
    unit: Option<String>,
}

impl Registry {
    /// An empty registry keeping at most `max_series_per_metric` label sets
    /// per metric name (at least 1).
    pub fn new(max_series_per_metric: usize) -> Self {
        Self {
            max_series_per_metric: AtomicUsize::new(max_series_per_metric.max(1)),
            shards: (0..SHARDS)
                .map(|_| RwLock::new(SeriesMap::default()))
                .collect(),
            families: RwLock::new(BTreeMap::new()),
            descriptions: RwLock::new(HashMap::new()),
            dropped_names: AtomicU64::new(0),
        }
    }

    /// Changes the cap for label sets seen from now on.
    pub fn set_max_series_per_metric(&self, max: usize) {
        self.max_series_per_metric.store(max.max(1), Relaxed);
    }

    /// Every family and series, sorted by name and then by labels. Takes
    /// each lock only long enough to copy a list of `Arc`s.
    pub fn snapshot(&self) -> Vec<MetricFamily> {
        let families: Vec<Arc<Family>> = read(&self.families).values().cloned().collect();
        let described: Vec<Option<Description>> = {
            let descriptions = read(&self.descriptions);
            families
                .iter()
                .map(|f| descriptions.get(&f.name).cloned())
                .collect()
        };
        let mut out: Vec<MetricFamily> = families
            .iter()
            .zip(described)
            .map(|(f, d)| f.snapshot(d))
            .collect();
        self.add_own_families(&families, &mut out);
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The registry's own counters, when they are non-zero and their names
    /// are not taken by the application.
    fn add_own_families(&self, families: &[Arc<Family>], out: &mut Vec<MetricFamily>) {
        let taken = |name: &str| families.iter().any(|f| f.name == name);
        let conflicts: Vec<MetricSeries> = families
            .iter()
            .flat_map(|f| {
                KINDS.iter().filter_map(move |&kind| {
                    let n = f.conflicts[kind_index(kind)].load(Relaxed);
                    (n > 0).then(|| MetricSeries {
                        labels: vec![
                            ("metric".into(), f.name.clone()),
                            ("kind".into(), kind_name(kind).into()),
                        ],
                        value: MetricValue::Counter(n),
                    })
                })
            })
            .collect();
        if !conflicts.is_empty() && !taken(KIND_CONFLICTS_METRIC) {
            out.push(own_counter(
                KIND_CONFLICTS_METRIC,
                "Registrations of a metric name as another kind than its first registration; they record nothing.",
                conflicts,
            ));
        }
        let dropped = self.dropped_names.load(Relaxed);
        if dropped > 0 && !taken(DROPPED_NAMES_METRIC) {
            out.push(own_counter(
                DROPPED_NAMES_METRIC,
                "Registrations refused because the registry already holds its maximum of metric names; they record nothing.",
                vec![MetricSeries {
                    labels: Vec::new(),
                    value: MetricValue::Counter(dropped),
                }],
            ));
        }
    }

    /// The storage for `key` as `kind`, or `None` when it must not record.
    fn register(&self, key: &Key, kind: MetricKind) -> Option<Value> {
        let shard = &self.shards[shard_of(key.get_hash())];
        if let Some(slot) = read(shard).get(key) {
            if slot.family.kind == kind {
                return Some(slot.value.clone());
            }
            slot.family.conflict(kind);
            return None;
        }
        self.register_new(key, kind, shard)
    }

    /// A label set not seen yet (or folded): only shared locks unless a new
    /// series is created.
    #[cold]
    fn register_new(
        &self,
        key: &Key,
        kind: MetricKind,
        shard: &RwLock<SeriesMap>,
    ) -> Option<Value> {
        let family = self.family(key.name(), kind)?;
        if family.kind != kind {
            family.conflict(kind);
            return None;
        }
        let cap = self.max_series_per_metric.load(Relaxed);
        if family.len.load(Relaxed) < cap {
            let mut map = write(shard);
            if let Some(slot) = map.get(key) {
                return Some(slot.value.clone());
            }
            if family.reserve(cap) {
                let value = Value::new(kind);
                let labels: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                {
                    let mut series = write(&family.series);
                    let at = series.partition_point(|s| s.labels < labels);
                    series.insert(
                        at,
                        Arc::new(Series {
                            labels,
                            value: value.clone(),
                        }),
                    );
                }
                map.insert(
                    key.clone(),
                    Slot {
                        family: Arc::clone(&family),
                        value: value.clone(),
                    },
                );
                return Some(value);
            }
        }
        Some(family.fold(key, cap))
    }

    /// The family named `name`, created as `kind` if it is new and there is
    /// room for it.
    fn family(&self, name: &str, kind: MetricKind) -> Option<Arc<Family>> {
        if let Some(family) = read(&self.families).get(name) {
            return Some(Arc::clone(family));
        }
        let mut families = write(&self.families);
        if let Some(family) = families.get(name) {
            return Some(Arc::clone(family));
        }
        if families.len() >= MAX_METRIC_NAMES {
            self.dropped_names.fetch_add(1, Relaxed);
            return None;
        }
        let family = Arc::new(Family::new(name, kind));
        families.insert(name.to_owned(), Arc::clone(&family));
        Some(family)
    }

    fn describe(&self, name: KeyName, unit: Option<Unit>, description: SharedString) {
        let description = Description {
            help: (!description.is_empty()).then(|| description.to_string()),
            unit: unit.map(|u| u.as_str().to_owned()),
        };
        let mut descriptions = write(&self.descriptions);
        if descriptions.len() < MAX_METRIC_NAMES || descriptions.contains_key(name.as_str()) {
            descriptions.insert(name.as_str().to_owned(), description);
        }
    }
}

impl metrics::Recorder for Registry {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Counter {
        match self.register(key, MetricKind::Counter) {
            Some(Value::Counter(c)) => metrics::Counter::from_arc(c),
            _ => metrics::Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Gauge {
        match self.register(key, MetricKind::Gauge) {
            Some(Value::Gauge(g)) => metrics::Gauge::from_arc(g),
            _ => metrics::Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Histogram {
        match self.register(key, MetricKind::Histogram) {
            Some(Value::Histogram(h)) => metrics::Histogram::from_arc(h),
            _ => metrics::Histogram::noop(),
        }
    }
}

/// The registry installed as the global recorder, once per process.
static INSTALLED: OnceLock<Arc<Registry>> = OnceLock::new();
/// Serialises [`install`], so two callers cannot both try to set the recorder.
static INSTALLING: Mutex<()> = Mutex::new(());

/// Installs the global recorder (once per process) and returns its registry.
///
/// `metrics::set_global_recorder` succeeds only once per process, so a
/// monitor started again after the first one was dropped gets the same
/// registry back, with the new cap, and with the values recorded meanwhile.
/// If another recorder was installed first, this is
/// [`Error::RecorderAlreadyInstalled`].
pub(crate) fn install(max_series_per_metric: usize) -> Result<Arc<Registry>, Error> {
    let _installing = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(registry) = INSTALLED.get() {
        registry.set_max_series_per_metric(max_series_per_metric);
        return Ok(Arc::clone(registry));
    }
    let registry = Arc::new(Registry::new(max_series_per_metric));
    metrics::set_global_recorder(Arc::clone(&registry))
        .map_err(|_| Error::RecorderAlreadyInstalled)?;
    Ok(Arc::clone(INSTALLED.get_or_init(|| registry)))
}

const KINDS: [MetricKind; 3] = [
    MetricKind::Counter,
    MetricKind::Gauge,
    MetricKind::Histogram,
];

fn kind_index(kind: MetricKind) -> usize {
    match kind {
        MetricKind::Counter => 0,
        MetricKind::Gauge => 1,
        MetricKind::Histogram => 2,
    }
}

fn kind_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Histogram => "histogram",
    }
}

fn own_counter(name: &str, help: &str, series: Vec<MetricSeries>) -> MetricFamily {
    MetricFamily {
        name: name.to_owned(),
        kind: MetricKind::Counter,
        help: Some(help.to_owned()),
        unit: None,
        overflowed: 0,
        series,
    }
}

/// A well-mixed 64-bit hash of a key's label set, independent of the order
/// of the labels. `Key::get_hash` is not fit for counting distinct keys: it is
/// not avalanched, and 1,600 values `"0"..="1599"` of one label give only
/// about 1,500 distinct hashes.
fn label_set_hash(key: &Key) -> u64 {
    use std::hash::Hash;
    key.labels().fold(key.labels().len() as u64, |acc, label| {
        // `DefaultHasher::new()` (SipHash) has fixed keys: the same label
        // set always gets the same hash.
        let mut hasher = std::hash::DefaultHasher::new();
        label.key().hash(&mut hasher);
        label.value().hash(&mut hasher);
        acc.wrapping_add(hasher.finish())
    })
}

/// Spreads a `metrics` key hash (not avalanched) over all 64 bits.
#[inline]
fn mix(hash: u64) -> u64 {
    let product = u128::from(hash) * 0x9E37_79B9_7F4A_7C15;
    (product as u64) ^ ((product >> 64) as u64)
}

#[inline]
fn shard_of(hash: u64) -> usize {
    (mix(hash) >> 58) as usize % SHARDS
}

/// Passes `Key`'s precomputed hash through (mixed), instead of hashing again.
#[derive(Default)]
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = mix(self.0 ^ hash);
    }

    /// Not used by `Key`; a plain FNV-1a so that any other use still works.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
