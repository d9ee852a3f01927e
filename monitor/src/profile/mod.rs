//! Per-function profiling: callsites, per-thread shards, the histogram, and
//! the merge that turns them into [`FunctionStats`](crate::snapshot::FunctionStats).

mod alloc_mark;
mod call;
mod callsite;
pub(crate) mod clock;
mod collect;
mod histogram;
mod shard;

pub(crate) use call::set_enabled;
pub use call::{fn_once, is_enabled, Call, Instrumented, OtherOutcome, ResultOutcome};
pub use callsite::{Callsite, MAX_CALLSITES};
pub use collect::FunctionCollector;
pub use histogram::Histogram;
pub(crate) use histogram::SharedHistogram;
