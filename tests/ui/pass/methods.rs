//! Methods taking `&self`, `&mut self`, `self`, `mut self`, `self: Box<Self>`,
//! associated functions returning `Self`, and trait methods.
#![deny(warnings)]

#[derive(Debug, Default, PartialEq)]
struct Counter {
    hits: u32,
    names: Vec<String>,
}

impl Counter {
    #[monitor::profile]
    fn new() -> Self {
        Self::default()
    }

    #[monitor::profile]
    fn hits(&self) -> u32 {
        self.hits
    }

    #[monitor::profile]
    fn hit(&mut self) -> u32 {
        self.hits += 1;
        self.hits
    }

    #[monitor::profile]
    fn with_name(mut self, name: &str) -> Self {
        self.names.push(name.to_owned());
        self
    }

    #[monitor::profile]
    fn into_names(self) -> Vec<String> {
        self.names
    }

    #[monitor::profile]
    fn unboxed(self: Box<Self>) -> Self {
        *self
    }
}

trait Describe {
    #[monitor::profile]
    fn describe(&self) -> String {
        "something".to_owned()
    }

    fn kind(&self) -> &'static str;
}

impl Describe for Counter {
    #[monitor::profile]
    fn kind(&self) -> &'static str {
        "counter"
    }
}

fn main() {
    let mut counter = Counter::new();
    assert_eq!(counter.hit(), 1);
    assert_eq!(counter.hit(), 2);
    assert_eq!(counter.hits(), 2);
    let counter = Box::new(counter.with_name("a")).unboxed();
    assert_eq!(counter.describe(), "something");
    assert_eq!(counter.kind(), "counter");
    assert_eq!(counter.into_names(), ["a"]);
}
