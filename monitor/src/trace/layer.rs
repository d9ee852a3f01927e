//! The `tracing` bridge: a [`tracing_subscriber::Layer`] that records
//! `tracing` spans (`#[tracing::instrument]`, `span!`) as monitor spans, in
//! the same store and the same trees as `#[monitor::traced]` spans.
//!
//! A `tracing` span keeps its monitor state in its registry extensions.
//! While it is entered its context is the thread's current monitor span, so
//! `#[traced]` calls inside it become its children, and `tracing` spans
//! started inside a `#[traced]` call become children of that call.

use std::cell::RefCell;
use std::fmt::{self, Debug};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::span::{
    attribute_value, current, new_context, replace_current, Attribute, SpanContext, SpanEvent,
    SpanRecord, MAX_EVENTS_PER_SPAN,
};
use super::submit;
use crate::profile::{clock, is_enabled};

/// The layer that turns `tracing` spans and events into monitor spans; see
/// [`layer`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MonitorLayer {
    _private: (),
}

/// A [`Layer`] recording `tracing` spans as monitor spans, for adding to a
/// subscriber built on [`tracing_subscriber::registry()`].
///
/// Span fields become attributes; events become span events (at most
/// [`MAX_EVENTS_PER_SPAN`] per span, the rest counted in
/// [`SpanRecord::dropped_events`]); an `ERROR` event or an `error` field marks
/// the span as failed. Events outside any span are ignored. Nothing is
/// recorded while the monitor is not running.
///
/// When no global subscriber is set, starting the monitor installs
/// `registry().with(layer())`; with a subscriber of your own, add the layer
/// to it before starting the monitor:
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(monitor::trace::layer());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
/// });
/// ```
pub fn layer() -> MonitorLayer {
    MonitorLayer::default()
}

/// Installs `registry().with(layer())` as the global subscriber when none is
/// set. A subscriber set by someone else in the meantime wins, silently.
pub(crate) fn install_if_unset() {
    use tracing_subscriber::layer::SubscriberExt;

    if !tracing::dispatcher::has_been_set() {
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer()));
    }
}

/// What a recorded `tracing` span carries in its extensions.
struct State {
    context: SpanContext,
    parent: Option<SpanContext>,
    /// Start, in ticks of the profiling clock.
    start: u64,
    attributes: Vec<Attribute>,
    events: Vec<SpanEvent>,
    dropped_events: u32,
    error: Option<String>,
}

thread_local! {
    /// The monitor span current before each `tracing` span entered on this
    /// thread, innermost last.
    static ENTERED: RefCell<Vec<(Id, Option<SpanContext>)>> = const { RefCell::new(Vec::new()) };
}

impl<S> Layer<S> for MonitorLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_enabled() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let parent = if attrs.is_root() {
            None
        } else if let Some(parent) = attrs.parent() {
            // An explicit parent.
            context_of(&ctx, parent).or_else(current)
        } else {
            // The monitor's current span is the innermost: the contextual
            // `tracing` parent's context while it is entered, or a
            // `#[traced]` span started inside it.
            current().or_else(|| {
                ctx.lookup_current()
                    .and_then(|p| p.extensions().get::<State>().map(|s| s.context))
            })
        };
        let context = new_context(parent);
        let mut state = State {
            context,
            parent,
            start: clock::now(),
            attributes: Vec::new(),
            events: Vec::new(),
            dropped_events: 0,
            error: None,
        };
        attrs.record(&mut SpanFields(&mut state));
        span.extensions_mut().insert(state);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<State>() {
            values.record(&mut SpanFields(state));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !is_enabled() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(state) = extensions.get_mut::<State>() else {
            return;
        };
        let level = *event.metadata().level();
        let keep = state.events.len() < MAX_EVENTS_PER_SPAN;
        if !keep && (level != Level::ERROR || state.error.is_some()) {
            state.dropped_events = state.dropped_events.saturating_add(1);
            return;
        }
        let mut attributes = Vec::new();
        event.record(&mut EventFields(&mut attributes));
        if level == Level::ERROR && state.error.is_none() {
            state.error = Some(error_message(&attributes));
        }
        if keep {
            state.events.push(SpanEvent {
                unix_ns: clock::unix_nanos(clock::now()),
                level: level.as_str(),
                attributes,
            });
        } else {
            state.dropped_events = state.dropped_events.saturating_add(1);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !is_enabled() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let Some(context) = span.extensions().get::<State>().map(|s| s.context) else {
            return;
        };
        let previous = replace_current(Some(context));
        let _ = ENTERED.try_with(|entered| entered.borrow_mut().push((id.clone(), previous)));
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        // Restores what `on_enter` replaced, even if the monitor stopped in
        // between. Exits are expected innermost first, as guards drop.
        let previous = ENTERED
            .try_with(|entered| {
                let mut entered = entered.borrow_mut();
                match entered.last() {
                    Some((top, _)) if top == id => entered.pop().map(|(_, previous)| previous),
                    _ => None,
                }
            })
            .ok()
            .flatten();
        if let Some(previous) = previous {
            replace_current(previous);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(state) = span.extensions_mut().remove::<State>() else {
            return;
        };
        // Spans of unsampled traces go to the store too, which keeps such a
        // trace after all when it holds an error or is slow.
        if !is_enabled() {
            return;
        }
        let metadata = span.metadata();
        submit(SpanRecord {
            trace_id: state.context.trace_id,
            span_id: state.context.span_id,
            parent_span_id: state.parent.map(|p| p.span_id),
            remote_parent: state.parent.is_some_and(|p| !p.local),
            sampled: state.context.sampled,
            name: metadata.name(),
            module: metadata.target(),
            start_unix_ns: clock::unix_nanos(state.start),
            duration_ns: clock::nanos_between(state.start, clock::now()),
            attributes: state.attributes,
            error: state.error,
            events: state.events,
            dropped_events: state.dropped_events,
        });
    }
}

/// The monitor context of span `id`, if it is being recorded.
fn context_of<S>(ctx: &Context<'_, S>, id: &Id) -> Option<SpanContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.span(id)?.extensions().get::<State>().map(|s| s.context)
}

/// The error of an `ERROR` event: its message, else its `error` field (what
/// `#[instrument(err)]` records), else all its fields.
fn error_message(attributes: &[Attribute]) -> String {
    let field = |key| attributes.iter().find(|a| a.key == key);
    if let Some(found) = field("message").or_else(|| field("error")) {
        return found.value.clone();
    }
    let mut text = String::new();
    for (i, a) in attributes.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(a.key);
        text.push('=');
        text.push_str(&a.value);
    }
    if text.is_empty() {
        text.push_str("error");
    }
    text
}

/// Records span fields; a field recorded again replaces its value, and an
/// `error` field marks the span as failed.
struct SpanFields<'a>(&'a mut State);

impl SpanFields<'_> {
    fn set(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        let key = field.name();
        let value = attribute_value(value);
        if key == "error" {
            self.0.error = Some(value.clone());
        }
        match self.0.attributes.iter_mut().find(|a| a.key == key) {
            Some(existing) => existing.value = value,
            None => self.0.attributes.push(Attribute { key, value }),
        }
    }
}

impl Visit for SpanFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.set(field, format_args!("{value:?}"));
    }
}

/// Records event fields (`message` included).
struct EventFields<'a>(&'a mut Vec<Attribute>);

impl Visit for EventFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(Attribute {
            key: field.name(),
            value: attribute_value(format_args!("{value}")),
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push(Attribute {
            key: field.name(),
            value: attribute_value(format_args!("{value:?}")),
        });
    }
}
