//! Why a load test could not run.

use std::io;
use std::path::PathBuf;

/// A load test that could not be set up or whose results could not be kept.
/// Failed thresholds are not errors: they are in the [`Report`](super::Report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadTestError {
    /// A threshold string did not parse.
    #[error("threshold {input:?}: {reason}")]
    Threshold {
        /// The string as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The test's name cannot name a report directory.
    #[error("load test name {0:?} is not usable as a directory name; use letters, digits, '-', '_' or '.'")]
    Name(String),
    /// No request or call was added.
    #[error("the load test has no scenario; add one with .request(..) or .call(..)")]
    NoScenario,
    /// Two scenarios share a name.
    #[error("two scenarios are called {0:?}; give each request or call its own name")]
    DuplicateScenario(String),
    /// An HTTP scenario was added without a base URL.
    #[error("request {0:?} needs a base URL; set one with .base_url(\"http://127.0.0.1:PORT\")")]
    NoBaseUrl(String),
    /// The profile cannot run (no duration, zero rate, ...).
    #[error("profile: {0}")]
    Profile(String),
    /// An environment variable the test reads has a bad value.
    #[error("{var}={value:?}: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// A report, baseline or history file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A baseline file exists but is not a baseline this version can read.
    #[error("baseline {}: {reason}; delete it or save a new one with MONITOR_BASELINE=save", path.display())]
    Baseline {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}
