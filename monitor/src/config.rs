//! Configuration: defaults, then `monitor.toml` (or `MONITOR_CONFIG`), then
//! `MONITOR_*` environment variables; settings made on the builder win over all
//! three, except `MONITOR_DISABLE`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::history::config::FileHistory;
pub use crate::history::config::HistoryConfig;
use crate::trend::config::FileTrend;
pub use crate::trend::config::TrendConfig;

/// Where a setting came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(&'static str),
    /// A call on the builder.
    Builder,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Builder => f.write_str("monitor::builder()"),
        }
    }
}

/// An invalid setting: where it came from, which key, and why.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {key}: {reason}")]
pub struct ConfigError {
    /// The file, variable or builder call.
    pub origin: Origin,
    /// The setting, as a dotted key (`dashboard.addr`), or `-` for the whole file.
    pub key: String,
    /// What is wrong and what is expected.
    pub reason: String,
}

impl ConfigError {
    fn new(origin: Origin, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            origin,
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// The whole configuration. Build it with [`crate::builder`] or read it with
/// [`Config::load`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Start nothing; profiled functions cost a relaxed load.
    pub disabled: bool,
    /// How often shards are merged into a new snapshot.
    pub tick: Duration,
    /// Where persistent state goes (used by later subsystems).
    pub data_dir: PathBuf,
    /// The HTTP endpoint.
    pub dashboard: DashboardConfig,
    /// The `metrics` facade recorder.
    pub metrics: MetricsConfig,
    /// Span sampling and storage.
    pub trace: TraceConfig,
    /// In-memory rings and the SQLite store.
    pub history: HistoryConfig,
    /// Trends, forecasts and leak detection.
    pub trend: TrendConfig,
}

/// Settings of span sampling and the trace store.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TraceConfig {
    /// Share of new traces sampled (0.0 to 1.0); a remote parent's decision
    /// is followed. Unsampled traces are still kept when they fail or are slow.
    pub sample_ratio: f64,
    /// Unsampled traces whose root takes at least this long are kept.
    pub slow_threshold: Duration,
    /// Spans kept in the store.
    pub max_spans: usize,
    /// Where to export spans over OTLP/HTTP (`http://host:port`; spans go
    /// to `<endpoint>/v1/traces`); `None` exports nothing. Needs the
    /// crate's `otlp` feature.
    pub otlp_endpoint: Option<http::Uri>,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self {
            sample_ratio: 1.0,
            slow_threshold: Duration::from_millis(500),
            max_spans: 100_000,
            otlp_endpoint: None,
        }
    }
}

/// Settings of the HTTP endpoint.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DashboardConfig {
    /// Whether to serve at all.
    pub enabled: bool,
    /// Bind address; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Bearer token required on every request; required for a non-loopback address.
    pub token: Option<String>,
    /// Concurrent connections; more are refused at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
}

/// Settings of the `metrics` facade recorder.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// Install the monitor as the global `metrics` recorder.
    pub install_recorder: bool,
    /// Label sets kept per metric name; more fold into one overflow series.
    pub max_series_per_metric: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            disabled: false,
            tick: Duration::from_secs(1),
            data_dir: PathBuf::from(".monitor"),
            dashboard: DashboardConfig::default(),
            metrics: MetricsConfig::default(),
            trace: TraceConfig::default(),
            history: HistoryConfig::default(),
            trend: TrendConfig::default(),
        }
    }
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            addr: SocketAddr::from(([127, 0, 0, 1], 9184)),
            token: None,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            install_recorder: true,
            max_series_per_metric: 1000,
        }
    }
}

/// The file's shape: every key optional, unknown keys rejected.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    disabled: Option<bool>,
    tick: Option<String>,
    data_dir: Option<PathBuf>,
    dashboard: Option<FileDashboard>,
    metrics: Option<FileMetrics>,
    trace: Option<FileTrace>,
    history: Option<FileHistory>,
    trend: Option<FileTrend>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileTrace {
    sample_ratio: Option<f64>,
    slow_threshold: Option<String>,
    max_spans: Option<usize>,
    otlp_endpoint: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileDashboard {
    enabled: Option<bool>,
    addr: Option<String>,
    token: Option<String>,
    max_connections: Option<usize>,
    header_timeout: Option<String>,
    max_body_bytes: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    install_recorder: Option<bool>,
    max_series_per_metric: Option<usize>,
}

/// The default file, read when present.
pub const DEFAULT_FILE: &str = "monitor.toml";

impl Config {
    /// Defaults, then the file (`MONITOR_CONFIG`, else `./monitor.toml` if it
    /// exists), then `MONITOR_*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(None, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with an explicit file (which must exist) and a
    /// custom environment lookup.
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        let env_file = env("MONITOR_CONFIG").map(PathBuf::from);
        match file.map(Path::to_path_buf).or(env_file) {
            Some(path) => config.apply_file(&path)?,
            None if Path::new(DEFAULT_FILE).exists() => {
                config.apply_file(Path::new(DEFAULT_FILE))?
            }
            None => {}
        }
        config.apply_env(env)?;
        Ok(config)
    }

    /// Reads one TOML file over the current values.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let origin = Origin::File(path.to_path_buf());
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(origin.clone(), "-", format!("cannot read the file: {e}"))
        })?;
        self.apply_toml(&text, origin)
    }

    /// Reads TOML text over the current values; `origin` names it in errors.
    pub fn apply_toml(&mut self, text: &str, origin: Origin) -> Result<(), ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let key = toml_error_key(text, &e);
            ConfigError::new(origin.clone(), key, e.message().to_string())
        })?;
        let err = |key: &str, reason: String| ConfigError::new(origin.clone(), key, reason);
        if let Some(v) = file.disabled {
            self.disabled = v;
        }
        if let Some(v) = file.tick {
            self.tick = parse_tick(&v).map_err(|r| err("tick", r))?;
        }
        if let Some(v) = file.data_dir {
            self.data_dir = v;
        }
        if let Some(d) = file.dashboard {
            if let Some(v) = d.enabled {
                self.dashboard.enabled = v;
            }
            if let Some(v) = d.addr {
                self.dashboard.addr = parse_addr(&v).map_err(|r| err("dashboard.addr", r))?;
            }
            if let Some(v) = d.token {
                self.dashboard.token = Some(v);
            }
            if let Some(v) = d.max_connections {
                self.dashboard.max_connections = v;
            }
            if let Some(v) = d.header_timeout {
                self.dashboard.header_timeout =
                    parse_duration(&v).map_err(|r| err("dashboard.header_timeout", r))?;
            }
            if let Some(v) = d.max_body_bytes {
                self.dashboard.max_body_bytes = v;
            }
        }
        if let Some(t) = file.trace {
            if let Some(v) = t.sample_ratio {
                self.trace.sample_ratio = v;
            }
            if let Some(v) = t.slow_threshold {
                self.trace.slow_threshold =
                    parse_duration(&v).map_err(|r| err("trace.slow_threshold", r))?;
            }
            if let Some(v) = t.max_spans {
                self.trace.max_spans = v;
            }
            if let Some(v) = t.otlp_endpoint {
                self.trace.otlp_endpoint =
                    parse_otlp_endpoint(&v).map_err(|r| err("trace.otlp_endpoint", r))?;
            }
        }
        if let Some(h) = file.history {
            h.apply(&mut self.history).map_err(|(k, r)| err(k, r))?;
        }
        if let Some(t) = file.trend {
            t.apply(&mut self.trend).map_err(|(k, r)| err(k, r))?;
        }
        if let Some(m) = file.metrics {
            if let Some(v) = m.install_recorder {
                self.metrics.install_recorder = v;
            }
            if let Some(v) = m.max_series_per_metric {
                self.metrics.max_series_per_metric = v;
            }
        }
        self.validate(&origin)
    }

    /// Applies `MONITOR_ADDR`, `MONITOR_TOKEN`, `MONITOR_DATA_DIR`,
    /// `MONITOR_TICK`, `MONITOR_TRACE_SAMPLE_RATIO`, `MONITOR_OTLP_ENDPOINT`
    /// and `MONITOR_DISABLE`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = env("MONITOR_ADDR") {
            self.dashboard.addr = parse_addr(&v)
                .map_err(|r| ConfigError::new(Origin::Env("MONITOR_ADDR"), "dashboard.addr", r))?;
        }
        if let Some(v) = env("MONITOR_TOKEN").filter(|v| !v.is_empty()) {
            self.dashboard.token = Some(v);
        }
        if let Some(v) = env("MONITOR_DATA_DIR").filter(|v| !v.is_empty()) {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("MONITOR_TICK") {
            self.tick = parse_tick(&v)
                .map_err(|r| ConfigError::new(Origin::Env("MONITOR_TICK"), "tick", r))?;
        }
        if let Some(v) = env("MONITOR_TRACE_SAMPLE_RATIO") {
            let origin = Origin::Env("MONITOR_TRACE_SAMPLE_RATIO");
            self.trace.sample_ratio = v.trim().parse().map_err(|_| {
                ConfigError::new(
                    origin,
                    "trace.sample_ratio",
                    format!("{v:?} is not a number from 0 to 1"),
                )
            })?;
        }
        if let Some(v) = env("MONITOR_OTLP_ENDPOINT") {
            self.trace.otlp_endpoint = parse_otlp_endpoint(&v).map_err(|r| {
                ConfigError::new(
                    Origin::Env("MONITOR_OTLP_ENDPOINT"),
                    "trace.otlp_endpoint",
                    r,
                )
            })?;
        }
        if let Some(v) = env("MONITOR_DISABLE") {
            self.disabled = parse_flag(&v)
                .map_err(|r| ConfigError::new(Origin::Env("MONITOR_DISABLE"), "disabled", r))?;
        }
        self.validate(&Origin::Env("MONITOR_*"))
    }

    /// Checks the values together; `origin` is blamed for a failure.
    pub fn validate(&self, origin: &Origin) -> Result<(), ConfigError> {
        let err = |key: &str, reason: &str| Err(ConfigError::new(origin.clone(), key, reason));
        let d = &self.dashboard;
        if d.enabled && !d.addr.ip().is_loopback() && d.token.as_deref().unwrap_or("").is_empty() {
            return err(
                "dashboard.addr",
                &format!("{} is not a loopback address; set dashboard.token (or MONITOR_TOKEN) to expose the monitor beyond this machine", d.addr),
            );
        }
        if d.max_connections == 0 {
            return err("dashboard.max_connections", "must be at least 1");
        }
        if d.header_timeout.is_zero() {
            return err("dashboard.header_timeout", "must be longer than zero");
        }
        if !(0.0..=1.0).contains(&self.trace.sample_ratio) {
            return err("trace.sample_ratio", "must be a number from 0 to 1");
        }
        if self.trace.max_spans == 0 {
            return err("trace.max_spans", "must be at least 1");
        }
        if self.metrics.max_series_per_metric == 0 {
            return err("metrics.max_series_per_metric", "must be at least 1");
        }
        if let Err((key, reason)) = self.history.validate().and(self.trend.validate()) {
            return err(key, &reason);
        }
        if cfg!(not(feature = "otlp")) && self.trace.otlp_endpoint.is_some() {
            return err(
                "trace.otlp_endpoint",
                "OTLP export is not compiled in; enable the `otlp` feature of the monitor crate (monitor = { features = [\"otlp\"] }) or remove the endpoint",
            );
        }
        Ok(())
    }
}

/// Finds the dotted key of the line a TOML error points at, if any.
fn toml_error_key(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else {
        return "-".into();
    };
    let mut table = String::new();
    let mut key = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        if offset + line.len() > span.start {
            key = trimmed.split_once('=').map(|(k, _)| k.trim().to_string());
            break;
        }
        offset += line.len();
    }
    match (table.is_empty(), key) {
        (_, None) if table.is_empty() => "-".into(),
        (_, None) => table,
        (true, Some(key)) => key,
        (false, Some(key)) => format!("{table}.{key}"),
    }
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a socket address; expected host:port such as 127.0.0.1:9184 or [::1]:0"))
}

/// An OTLP/HTTP endpoint: `http://host:port` with an optional path prefix;
/// an empty value means none. `https` is not supported yet.
fn parse_otlp_endpoint(text: &str) -> Result<Option<http::Uri>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let uri: http::Uri = text.parse().map_err(|_| {
        format!("{text:?} is not a URL; expected http://host:port such as http://127.0.0.1:4318")
    })?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "{text:?} uses https, which the OTLP exporter does not support yet; use an http:// endpoint such as a local collector at http://127.0.0.1:4318"
            ))
        }
        _ => {
            return Err(format!(
                "{text:?} is not an http:// URL; expected http://host:port such as http://127.0.0.1:4318"
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host; expected http://host:port"));
    }
    if uri.query().is_some() {
        return Err(format!(
            "{text:?} has a query string; give the collector's base URL"
        ));
    }
    Ok(Some(uri))
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{text:?} is not a flag; use 1 or 0")),
    }
}

fn parse_tick(text: &str) -> Result<Duration, String> {
    let tick = parse_duration(text)?;
    if tick < Duration::from_millis(10) {
        return Err(format!(
            "{text:?} is too short; the tick must be at least 10ms"
        ));
    }
    Ok(tick)
}

/// Parses `"250ms"`, `"1s"`, `"2m"`, `"1h"`, `"500us"`, `"100ns"`, or a bare
/// number of seconds; fractions are allowed (`"1.5s"`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration; expected a number and a unit such as 250ms, 1s or 5m")
    })?;
    let seconds_per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "{text:?} has unknown unit {other:?}; use ns, us, ms, s, m or h"
            ))
        }
    };
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        c.apply_toml(text, Origin::File("monitor.toml".into()))
            .map(|_| c)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
    }

    #[test]
    fn a_file_sets_nested_keys() {
        let c = load_toml(
            "tick = \"500ms\"\n[dashboard]\naddr = \"127.0.0.1:0\"\nmax_connections = 8\n",
        )
        .unwrap();
        assert_eq!(c.tick, Duration::from_millis(500));
        assert_eq!(c.dashboard.addr.port(), 0);
        assert_eq!(c.dashboard.max_connections, 8);
    }

    #[test]
    fn errors_name_file_key_and_reason() {
        let e = load_toml("[dashboard]\naddr = \"nowhere\"\n").unwrap_err();
        assert_eq!(e.key, "dashboard.addr");
        assert!(
            e.to_string().starts_with("monitor.toml: dashboard.addr:"),
            "{e}"
        );
        assert!(e.reason.contains("not a socket address"));

        let e = load_toml("[dashboard]\nmax_conections = 3\n").unwrap_err();
        assert_eq!(e.key, "dashboard.max_conections", "{e}");
        assert!(e.reason.contains("unknown field"), "{e}");

        let e = load_toml("[metrics]\nmax_series_per_metric = \"many\"\n").unwrap_err();
        assert_eq!(e.key, "metrics.max_series_per_metric", "{e}");
    }

    #[test]
    fn trace_settings() {
        let c =
            load_toml("[trace]\nsample_ratio = 0.25\nslow_threshold = \"2s\"\nmax_spans = 10\n")
                .unwrap();
        assert_eq!(c.trace.sample_ratio, 0.25);
        assert_eq!(c.trace.slow_threshold, Duration::from_secs(2));
        assert_eq!(c.trace.max_spans, 10);
        let e = load_toml("[trace]\nsample_ratio = 1.5\n").unwrap_err();
        assert_eq!(e.key, "trace.sample_ratio");
    }

    #[test]
    fn an_otlp_endpoint_needs_the_feature() {
        let r = load_toml("[trace]\notlp_endpoint = \"http://127.0.0.1:4318\"\n");
        if cfg!(feature = "otlp") {
            assert!(r.is_ok());
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.key, "trace.otlp_endpoint");
            assert!(e.reason.contains("enable the `otlp` feature"), "{e}");
        }
    }

    #[test]
    fn non_loopback_needs_a_token() {
        let e = load_toml("[dashboard]\naddr = \"0.0.0.0:9184\"\n").unwrap_err();
        assert!(e.reason.contains("not a loopback address"), "{e}");
        assert!(load_toml("[dashboard]\naddr = \"0.0.0.0:9184\"\ntoken = \"s3cret\"\n").is_ok());
    }

    #[test]
    fn environment_overrides_the_file_and_is_checked() {
        let dir = std::env::temp_dir().join(format!("monitor-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("m.toml");
        std::fs::write(&file, "[dashboard]\naddr = \"127.0.0.1:1234\"\n").unwrap();
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = Config::load_from(Some(&file), env(&[("MONITOR_ADDR", "127.0.0.1:4321")])).unwrap();
        assert_eq!(c.dashboard.addr.port(), 4321);
        let e = Config::load_from(Some(&file), env(&[("MONITOR_DISABLE", "maybe")])).unwrap_err();
        assert_eq!(e.origin, Origin::Env("MONITOR_DISABLE"));
        let e = Config::load_from(Some(&dir.join("missing.toml")), env(&[])).unwrap_err();
        assert!(
            e.to_string()
                .contains("missing.toml: -: cannot read the file"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
