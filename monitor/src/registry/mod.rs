//! The `metrics` facade recorder. (Filled in by the registry work.)

use std::sync::Arc;

use crate::snapshot::MetricFamily;
use crate::Error;

/// Facade metrics by name and labels.
pub struct Registry {
    max_series_per_metric: usize,
}

impl Registry {
    /// Every family and series, for a snapshot.
    pub fn snapshot(&self) -> Vec<MetricFamily> {
        let _ = self.max_series_per_metric;
        Vec::new()
    }
}

/// Installs the global recorder (once per process) and returns its registry.
pub(crate) fn install(max_series_per_metric: usize) -> Result<Arc<Registry>, Error> {
    Ok(Arc::new(Registry { max_series_per_metric }))
}
