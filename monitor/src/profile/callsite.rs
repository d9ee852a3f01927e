//! Callsites: one `static` per instrumented function, registered on first call.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::histogram::SharedHistogram;
use super::shard::Shard;

/// The most callsites one process can register; later ones record nothing
/// and are counted (see `MonitorStats::unregistered_callsites`).
pub const MAX_CALLSITES: u32 = 1 << 16;

/// Callsites that were refused because [`MAX_CALLSITES`] was reached.
pub(crate) static UNREGISTERED: AtomicU64 = AtomicU64::new(0);

/// Static facts about one instrumented function. The attribute macros create
/// one per function; it is not meant to be built by hand.
#[derive(Debug)]
pub struct Callsite {
    id: AtomicU32,
    name: &'static str,
    module: &'static str,
    budget_ns: u64,
    is_async: bool,
}

/// Id of a callsite that could not be registered.
const OVERFLOW: u32 = u32::MAX;

impl Callsite {
    /// A callsite named `name` in `module`; `budget_ns == 0` means no budget.
    pub const fn new(
        name: &'static str,
        module: &'static str,
        budget_ns: u64,
        is_async: bool,
    ) -> Self {
        Self {
            id: AtomicU32::new(0),
            name,
            module,
            budget_ns,
            is_async,
        }
    }

    /// The function name as given to the macro (module path included by default).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module the function is defined in.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The per-call budget in nanoseconds, 0 when none was set.
    pub fn budget_ns(&self) -> u64 {
        self.budget_ns
    }

    /// Whether the function is an `async fn`.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// The callsite's index in the registry, registering it on first use.
    /// `None` once [`MAX_CALLSITES`] callsites exist.
    #[inline]
    pub(crate) fn index(&'static self) -> Option<usize> {
        match self.id.load(Relaxed) {
            0 => self.register(),
            OVERFLOW => None,
            id => Some(id as usize - 1),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> Option<usize> {
        let mut registry = registry();
        // Another thread may have registered it while we waited for the lock.
        match self.id.load(Relaxed) {
            0 => {}
            OVERFLOW => return None,
            id => return Some(id as usize - 1),
        }
        if registry.len() >= MAX_CALLSITES as usize {
            self.id.store(OVERFLOW, Relaxed);
            UNREGISTERED.fetch_add(1, Relaxed);
            return None;
        }
        registry.push(Entry {
            callsite: self,
            shards: Vec::new(),
            shared: Arc::new(SharedHistogram::new()),
        });
        self.id.store(registry.len() as u32, Relaxed);
        Some(registry.len() - 1)
    }
}

/// A registered callsite and the shards every thread that called it owns.
pub(crate) struct Entry {
    pub(crate) callsite: &'static Callsite,
    pub(crate) shards: Vec<Arc<Shard>>,
    /// Durations outside the threads' own chunks, and those of exited threads.
    pub(crate) shared: Arc<SharedHistogram>,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The registry, locked. Taken only when a callsite or a (callsite, thread)
/// pair is seen for the first time, and by the monitor thread once a tick.
pub(crate) fn registry() -> MutexGuard<'static, Vec<Entry>> {
    // A panic while holding the lock leaves the vector intact: keep using it.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates the calling thread's shard for the callsite at `index`.
pub(crate) fn attach_shard(index: usize) -> Option<Arc<Shard>> {
    let mut registry = registry();
    let entry = registry.get_mut(index)?;
    let shard = Arc::new(Shard::new(Arc::clone(&entry.shared)));
    entry.shards.push(Arc::clone(&shard));
    Some(shard)
}
