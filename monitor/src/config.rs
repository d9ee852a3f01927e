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
    /// System and process metrics.
    pub system: SystemConfig,
    /// Request tracking (`[http]`).
    pub http: HttpConfig,
    /// Component health checks (`[health]`).
    pub health: HealthConfig,
    /// In-memory rings and the SQLite store.
    pub history: HistoryConfig,
    /// Trends, forecasts and leak detection.
    pub trend: TrendConfig,
}

/// Settings of the system and process metrics (`[system]`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SystemConfig {
    /// Whether to collect them at all.
    pub enabled: bool,
    /// How often the expensive readings (disks, networks, TCP tables,
    /// watched processes) and the probes run; the cheap ones run every tick.
    pub slow_interval: Duration,
    /// Other processes to report on.
    pub watch: Vec<Watch>,
    /// Targets whose TCP connect time is measured.
    pub probes: Vec<ProbeTarget>,
    /// How long one probe may take, name resolution included.
    pub probe_timeout: Duration,
}

/// A process to watch: `"postgres"` (every process of that name) or `"pid:1234"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watch {
    /// Every process whose name (as the kernel keeps it) is this.
    Name(String),
    /// The process with this id.
    Pid(u32),
}

impl fmt::Display for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Watch::Name(name) => f.write_str(name),
            Watch::Pid(pid) => write!(f, "pid:{pid}"),
        }
    }
}

/// A `host:port` to probe: a name or an IP address (IPv6 in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Host name or IP address, without brackets.
    pub host: String,
    /// TCP port, not 0.
    pub port: u16,
}

impl fmt::Display for ProbeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl std::str::FromStr for ProbeTarget {
    type Err = String;

    /// `db.internal:5432`, `127.0.0.1:5432`, `[::1]:5432`.
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "{text:?} is not a probe target; expected host:port such as \"127.0.0.1:5432\", \"db.internal:5432\" or \"[::1]:5432\""
            )
        };
        let (host, port) = text.trim().rsplit_once(':').ok_or_else(invalid)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(invalid)?;
        if host.is_empty() || host.contains(['[', ']', ' ', '/']) {
            return Err(invalid());
        }
        Ok(Self {
            host: host.to_string(),
            port,
        })
    }
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            slow_interval: Duration::from_secs(10),
            watch: Vec::new(),
            probes: Vec::new(),
            probe_timeout: Duration::from_secs(2),
        }
    }
}

/// Settings of request tracking.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Distinct route templates with a series of their own, per direction
    /// (served, called); more share one overflow series.
    pub max_routes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_routes: crate::http::DEFAULT_MAX_ROUTES,
        }
    }
}

/// Defaults of health checks that do not set their own.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HealthConfig {
    /// Longest a check may run before it counts as DOWN.
    pub default_timeout: Duration,
    /// Time from the start of one run of a check to the next.
    pub default_interval: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            default_timeout: Duration::from_secs(5),
            default_interval: Duration::from_secs(10),
        }
    }
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
            system: SystemConfig::default(),
            http: HttpConfig::default(),
            health: HealthConfig::default(),
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
    system: Option<FileSystem>,
    http: Option<FileHttp>,
    health: Option<FileHealth>,
    history: Option<FileHistory>,
    trend: Option<FileTrend>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSystem {
    enabled: Option<bool>,
    slow_interval: Option<String>,
    watch: Option<Vec<String>>,
    probes: Option<Vec<String>>,
    probe_timeout: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileHttp {
    max_routes: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileHealth {
    default_timeout: Option<String>,
    default_interval: Option<String>,
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
        if let Some(s) = file.system {
            if let Some(v) = s.enabled {
                self.system.enabled = v;
            }
            if let Some(v) = s.slow_interval {
                self.system.slow_interval =
                    parse_duration(&v).map_err(|r| err("system.slow_interval", r))?;
            }
            if let Some(v) = s.watch {
                self.system.watch = v
                    .iter()
                    .map(|w| parse_watch(w))
                    .collect::<Result<_, _>>()
                    .map_err(|r| err("system.watch", r))?;
            }
            if let Some(v) = s.probes {
                self.system.probes = parse_probes(&v).map_err(|r| err("system.probes", r))?;
            }
            if let Some(v) = s.probe_timeout {
                self.system.probe_timeout =
                    parse_duration(&v).map_err(|r| err("system.probe_timeout", r))?;
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
        if let Some(h) = file.http {
            if let Some(v) = h.max_routes {
                self.http.max_routes = v;
            }
        }
        if let Some(h) = file.health {
            if let Some(v) = h.default_timeout {
                self.health.default_timeout =
                    parse_duration(&v).map_err(|r| err("health.default_timeout", r))?;
            }
            if let Some(v) = h.default_interval {
                self.health.default_interval =
                    parse_duration(&v).map_err(|r| err("health.default_interval", r))?;
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
        if self.system.slow_interval.is_zero() {
            return err("system.slow_interval", "must be longer than zero");
        }
        if self.system.probe_timeout.is_zero() {
            return err("system.probe_timeout", "must be longer than zero");
        }
        if self.metrics.max_series_per_metric == 0 {
            return err("metrics.max_series_per_metric", "must be at least 1");
        }
        if self.http.max_routes == 0 {
            return err("http.max_routes", "must be at least 1");
        }
        if self.health.default_timeout.is_zero() {
            return err("health.default_timeout", "must be longer than zero");
        }
        if self.health.default_interval.is_zero() {
            return err("health.default_interval", "must be longer than zero");
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

/// `"postgres"` or `"pid:1234"`.
fn parse_watch(text: &str) -> Result<Watch, String> {
    let t = text.trim();
    if let Some(pid) = t.strip_prefix("pid:") {
        return match pid.trim().parse::<u32>() {
            Ok(pid) if pid > 0 => Ok(Watch::Pid(pid)),
            _ => Err(format!(
                "{text:?} has no valid process id after `pid:`; expected e.g. \"pid:1234\""
            )),
        };
    }
    if t.is_empty() || t.contains('/') {
        return Err(format!(
            "{text:?} is not a process name; expected a name such as \"postgres\" or \"pid:1234\""
        ));
    }
    Ok(Watch::Name(t.to_string()))
}

/// `host:port` targets, each once.
fn parse_probes(targets: &[String]) -> Result<Vec<ProbeTarget>, String> {
    let mut probes: Vec<ProbeTarget> = Vec::new();
    for text in targets {
        let target: ProbeTarget = text.parse()?;
        if !probes.contains(&target) {
            probes.push(target);
        }
    }
    Ok(probes)
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
    fn http_and_health_settings() {
        let c = load_toml(
            "[http]\nmax_routes = 50\n[health]\ndefault_timeout = \"250ms\"\ndefault_interval = \"3s\"\n",
        )
        .unwrap();
        assert_eq!(c.http.max_routes, 50);
        assert_eq!(c.health.default_timeout, Duration::from_millis(250));
        assert_eq!(c.health.default_interval, Duration::from_secs(3));
        let e = load_toml("[http]\nmax_routes = 0\n").unwrap_err();
        assert_eq!(e.key, "http.max_routes");
        let e = load_toml("[health]\ndefault_interval = \"soon\"\n").unwrap_err();
        assert_eq!(e.key, "health.default_interval");
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
    fn system_settings() {
        let c = load_toml(
            "[system]\nslow_interval = \"5s\"\nwatch = [\"postgres\", \"pid:42\"]\nprobes = [\"127.0.0.1:5432\", \"db:1\", \"db:1\"]\nprobe_timeout = \"500ms\"\n",
        )
        .unwrap();
        assert!(c.system.enabled);
        assert_eq!(c.system.slow_interval, Duration::from_secs(5));
        assert_eq!(
            c.system.watch,
            vec![Watch::Name("postgres".into()), Watch::Pid(42)]
        );
        let probes: Vec<String> = c.system.probes.iter().map(|p| p.to_string()).collect();
        assert_eq!(probes, vec!["127.0.0.1:5432", "db:1"]);
        let v6: ProbeTarget = "[::1]:80".parse().unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        assert_eq!(v6.to_string(), "[::1]:80");
        assert!("[::1:80".parse::<ProbeTarget>().is_err());
        assert!(":80".parse::<ProbeTarget>().is_err());
        assert_eq!(c.system.probe_timeout, Duration::from_millis(500));
        assert!(
            !load_toml("[system]\nenabled = false\n")
                .unwrap()
                .system
                .enabled
        );

        let e = load_toml("[system]\nwatch = [\"pid:abc\"]\n").unwrap_err();
        assert_eq!(e.key, "system.watch");
        assert!(e.reason.contains("no valid process id"), "{e}");
        let e = load_toml("[system]\nwatch = [\"\"]\n").unwrap_err();
        assert!(e.reason.contains("not a process name"), "{e}");
        let e = load_toml("[system]\nprobes = [\"localhost\"]\n").unwrap_err();
        assert_eq!(e.key, "system.probes");
        assert!(e.reason.contains("expected host:port"), "{e}");
        let e = load_toml("[system]\nprobes = [\"h:0\"]\n").unwrap_err();
        assert_eq!(e.key, "system.probes");
        let e = load_toml("[system]\nslow_interval = \"0s\"\n").unwrap_err();
        assert_eq!(e.key, "system.slow_interval");
        let e = load_toml("[system]\nwatch = \"postgres\"\n").unwrap_err();
        assert_eq!(e.key, "system.watch", "{e}");
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
