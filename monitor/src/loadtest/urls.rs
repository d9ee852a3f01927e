//! Request URLs parsed once: a scenario usually requests the same few
//! paths, and parsing a URL (scheme, host, IDNA) costs a load generator
//! more than anything else it does per request besides the I/O itself.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use reqwest::Url;

/// Distinct paths kept; paths that vary per request (ids in them) stop
/// being added once it is full and are parsed each time.
const MAX_ENTRIES: usize = 256;

/// The base URL and the parsed URLs of the paths requested so far.
pub(crate) struct UrlCache {
    base: String,
    parsed: RwLock<HashMap<Box<str>, Url>>,
}

impl UrlCache {
    /// `base` without its trailing `/`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            parsed: RwLock::new(HashMap::new()),
        }
    }

    /// `path` appended to the base as text, parsed. `Err` gives back the
    /// text when it does not parse, so reqwest reports the error on send.
    pub fn resolve(&self, path: &str) -> Result<Url, String> {
        let known = self
            .parsed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .cloned();
        if let Some(url) = known {
            return Ok(url);
        }
        let text = format!("{}{path}", self.base);
        let url = Url::parse(&text).map_err(|_| text)?;
        let mut parsed = self.parsed.write().unwrap_or_else(PoisonError::into_inner);
        if parsed.len() < MAX_ENTRIES {
            parsed.insert(path.into(), url.clone());
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_the_base_as_text_and_are_kept() {
        let cache = UrlCache::new("http://127.0.0.1:8080/api/");
        let url = cache.resolve("/items?x=1").expect("parses");
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/api/items?x=1");
        // The second time comes from the cache, same URL.
        assert_eq!(cache.resolve("/items?x=1"), Ok(url));
        assert_eq!(cache.parsed.read().map(|p| p.len()).unwrap_or(0), 1);
        assert!(cache.resolve("/a b").is_ok(), "spaces are escaped");
        let bad = UrlCache::new("http://[::1");
        assert_eq!(bad.resolve("/x"), Err("http://[::1/x".to_string()));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = UrlCache::new("http://127.0.0.1:1");
        for i in 0..MAX_ENTRIES + 10 {
            let path = format!("/item/{i}");
            let url = cache.resolve(&path).expect("parses");
            assert!(url.as_str().ends_with(&path));
        }
        assert_eq!(
            cache.parsed.read().map(|p| p.len()).unwrap_or(0),
            MAX_ENTRIES
        );
    }
}
