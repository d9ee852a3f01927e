//! The interned route tables: route template to series, with a cap.
//!
//! Reading is lock-free: the table is an immutable map behind an
//! [`ArcSwap`], looked up by method and template without allocating. Only a
//! template seen for the first time takes the writer lock, copies the map
//! (at most the cap's worth of entries) and publishes the copy. Once the cap
//! is reached, unknown templates go to one overflow series without taking
//! the lock, so a flood of raw paths cannot grow memory or contend.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arc_swap::ArcSwap;

use super::endpoint::{Direction, Endpoint};

/// Methods with a series of their own; any other method is `OTHER`, so
/// made-up methods cannot grow the table either.
pub(crate) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];

/// The route of requests no route template matched.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";
/// The route of the series that holds every template beyond the cap.
pub const OVERFLOW_ROUTE: &str = "<overflow>";
/// The default cap on distinct routes per table (`http.max_routes`).
pub const DEFAULT_MAX_ROUTES: usize = 200;

/// The index in [`METHODS`] of `method` (ASCII case-insensitive).
#[inline]
pub(crate) fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| m.eq_ignore_ascii_case(method))
        .unwrap_or(METHODS.len() - 1)
}

/// FNV-1a: route templates are short, and SipHash's protection against
/// chosen collisions buys nothing for a map capped at a few hundred keys.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type Map = HashMap<Box<str>, &'static Endpoint, BuildHasherDefault<Fnv>>;

/// One published version of a table.
#[derive(Clone, Default)]
struct Routes {
    by_method: [Map; METHODS.len()],
    /// Every series in creation order, the overflow series included.
    list: Vec<&'static Endpoint>,
    /// Series other than the overflow one.
    named: usize,
}

/// The series of one direction (requests served, or calls made).
pub(crate) struct Table {
    direction: Direction,
    routes: ArcSwap<Routes>,
    writer: Mutex<()>,
    overflow: OnceLock<&'static Endpoint>,
    max_routes: AtomicUsize,
}

impl Table {
    pub(crate) fn new(direction: Direction, max_routes: usize) -> Self {
        Self {
            direction,
            routes: ArcSwap::from_pointee(Routes::default()),
            writer: Mutex::new(()),
            overflow: OnceLock::new(),
            max_routes: AtomicUsize::new(max_routes),
        }
    }

    /// Changes the cap; series already made stay.
    pub(crate) fn set_max_routes(&self, max: usize) {
        self.max_routes.store(max, Relaxed);
    }

    /// The series of `key` for `method`, made on first use. `host` and
    /// `route` label a new series; `key` identifies it (the route, or host
    /// and route for outgoing calls).
    #[inline]
    pub(crate) fn get(
        &self,
        method: usize,
        key: &str,
        host: Option<&str>,
        route: &str,
    ) -> &'static Endpoint {
        let routes = self.routes.load();
        if let Some(endpoint) = routes.by_method[method].get(key) {
            return endpoint;
        }
        if routes.named >= self.max_routes.load(Relaxed) {
            return self.overflow();
        }
        drop(routes);
        self.insert(method, key, host, route)
    }

    #[cold]
    #[inline(never)]
    fn insert(
        &self,
        method: usize,
        key: &str,
        host: Option<&str>,
        route: &str,
    ) -> &'static Endpoint {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.routes.load_full();
        if let Some(endpoint) = current.by_method[method].get(key) {
            return endpoint;
        }
        if current.named >= self.max_routes.load(Relaxed) {
            drop(_writer);
            return self.overflow();
        }
        // Leaked on purpose: the cap bounds how many there can be, and
        // guards can then hold a plain reference instead of a refcount.
        let endpoint: &'static Endpoint = Box::leak(Box::new(Endpoint::new(
            self.direction,
            METHODS[method],
            host,
            route,
        )));
        let mut next = Routes::clone(&current);
        next.by_method[method].insert(Box::from(key), endpoint);
        next.list.push(endpoint);
        next.named += 1;
        self.routes.store(Arc::new(next));
        endpoint
    }

    /// The one series for everything beyond the cap.
    fn overflow(&self) -> &'static Endpoint {
        if let Some(endpoint) = self.overflow.get() {
            return endpoint;
        }
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(endpoint) = self.overflow.get() {
            return endpoint;
        }
        let endpoint: &'static Endpoint = Box::leak(Box::new(Endpoint::new(
            self.direction,
            "OTHER",
            None,
            OVERFLOW_ROUTE,
        )));
        let mut next = Routes::clone(&self.routes.load());
        next.list.push(endpoint);
        self.routes.store(Arc::new(next));
        let _ = self.overflow.set(endpoint);
        endpoint
    }

    /// Every series, in creation order.
    pub(crate) fn list(&self) -> Vec<&'static Endpoint> {
        self.routes.load().list.clone()
    }
}

static SERVER: OnceLock<Table> = OnceLock::new();
static CLIENT: OnceLock<Table> = OnceLock::new();

/// The series of requests this service answers.
#[inline]
pub(crate) fn server() -> &'static Table {
    SERVER.get_or_init(|| Table::new(Direction::Server, DEFAULT_MAX_ROUTES))
}

/// The series of calls this service makes.
pub(crate) fn client() -> &'static Table {
    CLIENT.get_or_init(|| Table::new(Direction::Client, DEFAULT_MAX_ROUTES))
}

/// Sets the cap on distinct routes of both tables (`http.max_routes`).
pub(crate) fn set_max_routes(max: usize) {
    server().set_max_routes(max);
    client().set_max_routes(max);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_folded_case_insensitively_and_unknown_ones_into_other() {
        assert_eq!(METHODS[method_index("get")], "GET");
        assert_eq!(METHODS[method_index("PATCH")], "PATCH");
        assert_eq!(METHODS[method_index("BREW")], "OTHER");
    }

    #[test]
    fn a_route_is_one_series_per_method() {
        let table = Table::new(Direction::Server, 10);
        let a = table.get(0, "/users/{id}", None, "/users/{id}");
        let b = table.get(0, "/users/{id}", None, "/users/{id}");
        assert!(std::ptr::eq(a, b));
        let post = table.get(2, "/users/{id}", None, "/users/{id}");
        assert!(!std::ptr::eq(a, post));
        assert_eq!(post.method, "POST");
        assert_eq!(table.list().len(), 2);
    }

    #[test]
    fn routes_beyond_the_cap_share_one_overflow_series() {
        let table = Table::new(Direction::Server, 3);
        for i in 0..1_000 {
            let path = format!("/raw/{i}");
            table.get(0, &path, None, &path);
        }
        let list = table.list();
        assert_eq!(list.len(), 4, "3 routes and the overflow series");
        assert_eq!(&*list[3].route, OVERFLOW_ROUTE);
        let again = table.get(0, "/raw/999", None, "/raw/999");
        assert!(std::ptr::eq(again, list[3]));
        // Known routes keep their own series after the cap is reached.
        let known = table.get(0, "/raw/1", None, "/raw/1");
        assert!(std::ptr::eq(known, list[1]));
    }
}
