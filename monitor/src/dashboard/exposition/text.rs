//! The pieces of the text format: families, samples, label lists, escaping,
//! float formatting and valid names.

use std::collections::HashSet;
use std::fmt::Write as _;

/// The type of a family, as written after `# TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    /// The sample names a family of this kind writes, as suffixes of its name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Counter | Kind::Gauge => &[""],
            Kind::Histogram => &["", "_bucket", "_sum", "_count"],
        }
    }
}

/// A sample value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    Int(u64),
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

/// Appends families to a buffer, and remembers every sample name taken so
/// that no family is written twice.
pub(crate) struct Writer<'a> {
    out: &'a mut String,
    /// Sample names in use: family names and, for histograms, their
    /// `_bucket`, `_sum` and `_count` series.
    taken: HashSet<String>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        Self {
            out,
            taken: HashSet::new(),
        }
    }

    /// Marks `name` as taken without writing anything.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// Whether none of the sample names of a family `name` of `kind` is taken.
    fn is_free(&self, name: &str, kind: Kind) -> bool {
        kind.suffixes().iter().all(|suffix| {
            let mut sample = String::with_capacity(name.len() + suffix.len());
            sample.push_str(name);
            sample.push_str(suffix);
            !self.taken.contains(&sample)
        })
    }

    /// Writes `# HELP` and `# TYPE` of a new family and takes its names.
    /// Returns false, writing nothing, when any of them is taken.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) -> bool {
        if !self.is_free(name, kind) {
            return false;
        }
        for suffix in kind.suffixes() {
            self.taken.insert(format!("{name}{suffix}"));
        }
        self.header(name, kind, help);
        true
    }

    /// Writes the header of a family whose name was reserved for it.
    pub(crate) fn family_reserved(&mut self, name: &str, kind: Kind, help: &str) {
        self.header(name, kind, help);
    }

    fn header(&mut self, name: &str, kind: Kind, help: &str) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        push_escaped_help(self.out, help);
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(kind.as_str());
        self.out.push('\n');
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of one histogram
    /// series. `buckets` are `(upper bound, cumulative count)`; bounds that
    /// are not finite or not ascending are skipped, and counts are clamped
    /// to stay cumulative and at most `count` (figures read while calls
    /// finish may be one ahead or behind), which also gives `+Inf`.
    pub(crate) fn histogram_series(
        &mut self,
        name: &str,
        labels: &str,
        buckets: impl IntoIterator<Item = (f64, u64)>,
        count: u64,
        sum: f64,
    ) {
        let bucket = format!("{name}_bucket");
        let mut le = String::new();
        let mut last_bound = f64::NEG_INFINITY;
        let mut running = 0;
        for (bound, cumulative) in buckets {
            if !bound.is_finite() || bound <= last_bound {
                continue;
            }
            last_bound = bound;
            running = cumulative.clamp(running, count.max(running));
            le.clear();
            le.push_str("le=\"");
            push_float(&mut le, bound);
            le.push('"');
            self.sample(&bucket, labels, &le, running);
        }
        let count = count.max(running);
        self.sample(&bucket, labels, "le=\"+Inf\"", count);
        self.sample(&format!("{name}_sum"), labels, "", sum);
        self.sample(&format!("{name}_count"), labels, "", count);
    }

    /// Writes one sample line. `labels` is a label list as written by
    /// [`push_label`] (without braces, possibly empty); `extra` is one more
    /// such list (such as `le="0.5"`) appended to it.
    pub(crate) fn sample(
        &mut self,
        name: &str,
        labels: &str,
        extra: &str,
        value: impl Into<Value>,
    ) {
        self.out.push_str(name);
        if !labels.is_empty() || !extra.is_empty() {
            self.out.push('{');
            self.out.push_str(labels);
            if !labels.is_empty() && !extra.is_empty() {
                self.out.push(',');
            }
            self.out.push_str(extra);
            self.out.push('}');
        }
        self.out.push(' ');
        match value.into() {
            Value::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            Value::Float(v) => push_float(self.out, v),
        }
        self.out.push('\n');
    }

    /// Writes a comment line (ignored by parsers). `text` may hold anything.
    pub(crate) fn comment(&mut self, text: &str) {
        self.out.push_str("# ");
        push_escaped_help(self.out, text);
        self.out.push('\n');
    }
}

/// Appends `name="value"` to a label list, with a comma when it is not the
/// first. `name` must already be valid; the value is escaped.
pub(crate) fn push_label(list: &mut String, name: &str, value: &str) {
    if !list.is_empty() {
        list.push(',');
    }
    list.push_str(name);
    list.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => list.push_str("\\\\"),
            '"' => list.push_str("\\\""),
            '\n' => list.push_str("\\n"),
            c => list.push(c),
        }
    }
    list.push('"');
}

/// Appends a help text, escaping `\` and line feeds as the format requires.
fn push_escaped_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends a float in a form Prometheus (Go's `ParseFloat`) reads: integers
/// without a fraction, `+Inf`, `-Inf`, `NaN`, else Rust's shortest round-trip
/// form (which uses an exponent for very large or small values: `1e-7`).
pub(crate) fn push_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// A metric or label name made valid: `[a-zA-Z_][a-zA-Z0-9_]*`, every other
/// character becoming `_`, and `_` put before a leading digit.
///
/// Colons, although valid in metric names, become `_` too: they are reserved
/// for recording rules, and `promtool check metrics` rejects them.
pub(crate) fn sanitize_name(raw: &str) -> String {
    let mut name = String::with_capacity(raw.len() + 1);
    for c in raw.chars() {
        if name.is_empty() && c.is_ascii_digit() {
            name.push('_');
        }
        name.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        });
    }
    if name.is_empty() {
        name.push('_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        let f = |v: f64| {
            let mut s = String::new();
            push_float(&mut s, v);
            s
        };
        assert_eq!(f(0.005), "0.005");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(1e300), "1e300");
        assert_eq!(f(-3.0), "-3");
        assert_eq!(f(f64::NAN), "NaN");
    }

    #[test]
    fn names_are_made_valid() {
        assert_eq!(sanitize_name("http.requests-total"), "http_requests_total");
        assert_eq!(sanitize_name("9lives"), "_9lives");
        assert_eq!(sanitize_name("a:b"), "a_b");
        assert_eq!(sanitize_name("größe"), "gr__e");
        assert_eq!(sanitize_name(""), "_");
        assert_eq!(sanitize_name("ok_Name_1"), "ok_Name_1");
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut labels = String::new();
        push_label(&mut labels, "a", "plain");
        push_label(&mut labels, "b", "C:\\dir \"q\"\nnext");
        assert_eq!(labels, r#"a="plain",b="C:\\dir \"q\"\nnext""#);
        let mut help = String::new();
        push_escaped_help(&mut help, "a \\ \"b\"\nc");
        assert_eq!(help, r#"a \\ "b"\nc"#);
    }

    #[test]
    fn a_family_is_declared_once_with_all_its_sample_names() {
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        assert!(w.family("h", Kind::Histogram, "A histogram."));
        assert!(!w.family("h", Kind::Gauge, "Again."));
        assert!(!w.family("h_count", Kind::Counter, "Its count."));
        assert!(w.family("g", Kind::Gauge, "A gauge."));
        assert!(!w.family("g", Kind::Histogram, "The same name."));
        // A histogram whose `_sum` series would be the gauge's name.
        assert!(w.family("x_sum", Kind::Gauge, "Another gauge."));
        assert!(!w.family("x", Kind::Histogram, "Clash."));
        w.sample("g", "", "", 1.5);
        w.sample("g", "a=\"1\"", "le=\"2\"", 7u64);
        assert_eq!(
            out,
            "# HELP h A histogram.\n# TYPE h histogram\n# HELP g A gauge.\n# TYPE g gauge\n\
             # HELP x_sum Another gauge.\n# TYPE x_sum gauge\ng 1.5\ng{a=\"1\",le=\"2\"} 7\n"
        );
    }
}
