//! A per-thread cache in front of the served-route table: the address and
//! length of the route string and the method pick one of a few slots, and a
//! hit (checked by comparing the text, so a reused address cannot mislead
//! it) skips the shared map entirely. Route templates are usually `'static`
//! strings or axum's shared `MatchedPath`, so their addresses repeat.

use std::cell::Cell;

use super::endpoint::Endpoint;
use super::table::{self, METHODS};

/// Slots per thread (a power of two).
const SLOTS: usize = 64;

thread_local! {
    static SLOTS_OF_THREAD: [Cell<Option<&'static Endpoint>>; SLOTS] =
        const { [const { Cell::new(None) }; SLOTS] };
}

#[inline]
fn slot_of(method: usize, route: &str) -> usize {
    let address = route.as_ptr() as usize;
    ((address >> 3) ^ (address >> 11) ^ route.len() ^ (method << 4)) & (SLOTS - 1)
}

/// The series of `method route` (method as an index into [`METHODS`]).
#[inline]
pub(crate) fn server_endpoint(method: usize, route: &str) -> &'static Endpoint {
    let slot = slot_of(method, route);
    let cached = SLOTS_OF_THREAD
        .try_with(|slots| slots[slot].get())
        .ok()
        .flatten();
    if let Some(endpoint) = cached {
        if endpoint.method == METHODS[method] && *endpoint.route == *route {
            return endpoint;
        }
    }
    let endpoint = table::server().get(method, route, None, route);
    // The overflow series is not cached: its route is not `route`.
    let _ = SLOTS_OF_THREAD.try_with(|slots| slots[slot].set(Some(endpoint)));
    endpoint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_never_returns_another_route() {
        for i in 0..500 {
            let route = format!("/cache/{i}");
            let method = i % METHODS.len();
            let endpoint = server_endpoint(method, &route);
            if &*endpoint.route != table::OVERFLOW_ROUTE {
                assert_eq!(&*endpoint.route, route);
                assert_eq!(endpoint.method, METHODS[method]);
            }
            let again = server_endpoint(method, &route);
            assert!(std::ptr::eq(endpoint, again));
        }
    }
}
