//! [`Builder`]: starting the monitor with settings made in code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, ConfigError, Origin};
use crate::{Error, Monitor};

/// Settings made in code, applied over the file and the environment.
#[derive(Debug, Default)]
#[must_use]
pub struct Builder {
    config_file: Option<PathBuf>,
    dashboard_addr: Option<String>,
    token: Option<String>,
    tick: Option<Duration>,
    dashboard: Option<bool>,
    install_recorder: Option<bool>,
    max_series_per_metric: Option<usize>,
    max_connections: Option<usize>,
    header_timeout: Option<Duration>,
    trace_sample_ratio: Option<f64>,
}

/// A builder for a monitor with settings made in code.
pub fn builder() -> Builder {
    Builder::default()
}

impl Builder {
    /// Reads this TOML file instead of `MONITOR_CONFIG` / `./monitor.toml`.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Where the dashboard listens, like `"127.0.0.1:0"` (checked in [`Builder::start`]).
    pub fn dashboard_addr(mut self, addr: impl Into<String>) -> Self {
        self.dashboard_addr = Some(addr.into());
        self
    }

    /// The bearer token every HTTP request must carry.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How often a snapshot is built (at least 10 ms).
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = Some(tick);
        self
    }

    /// Whether to serve HTTP at all.
    pub fn dashboard(mut self, enabled: bool) -> Self {
        self.dashboard = Some(enabled);
        self
    }

    /// Whether to install the monitor as the global `metrics` recorder.
    pub fn install_recorder(mut self, install: bool) -> Self {
        self.install_recorder = Some(install);
        self
    }

    /// Label sets kept per facade metric before the overflow series.
    pub fn max_series_per_metric(mut self, max: usize) -> Self {
        self.max_series_per_metric = Some(max);
        self
    }

    /// Concurrent HTTP connections (at least 1); more are refused at once.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max);
        self
    }

    /// How long an HTTP client may take to send a request's headers (and,
    /// separately, its body, or to read a response) before the connection
    /// is dropped.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = Some(timeout);
        self
    }

    /// Share of new traces sampled, 0.0 to 1.0 (checked in [`Builder::start`]).
    pub fn trace_sample_ratio(mut self, ratio: f64) -> Self {
        self.trace_sample_ratio = Some(ratio);
        self
    }

    /// The configuration these settings give, over file and environment.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let mut config = Config::load_from(self.config_file.as_deref(), env)?;
        let invalid = |key: &str, reason: String| ConfigError {
            origin: Origin::Builder,
            key: key.into(),
            reason,
        };
        if let Some(addr) = &self.dashboard_addr {
            config.dashboard.addr = addr.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    "dashboard.addr",
                    format!(
                        "{addr:?} is not a socket address; expected host:port such as 127.0.0.1:0"
                    ),
                )
            })?;
        }
        if let Some(token) = &self.token {
            config.dashboard.token = Some(token.clone());
        }
        if let Some(tick) = self.tick {
            if tick < Duration::from_millis(10) {
                return Err(invalid(
                    "tick",
                    format!("{tick:?} is too short; the tick must be at least 10ms"),
                ));
            }
            config.tick = tick;
        }
        if let Some(enabled) = self.dashboard {
            config.dashboard.enabled = enabled;
        }
        if let Some(install) = self.install_recorder {
            config.metrics.install_recorder = install;
        }
        if let Some(max) = self.max_series_per_metric {
            config.metrics.max_series_per_metric = max;
        }
        if let Some(ratio) = self.trace_sample_ratio {
            config.trace.sample_ratio = ratio;
        }
        if let Some(max) = self.max_connections {
            config.dashboard.max_connections = max;
        }
        if let Some(timeout) = self.header_timeout {
            config.dashboard.header_timeout = timeout;
        }
        config.validate(&Origin::Builder)?;
        Ok(config)
    }

    /// Starts the monitor.
    pub fn start(self) -> Result<Monitor, Error> {
        Monitor::start(self.config()?)
    }
}
