//! `#[traced]` on methods: `self` in every form is never recorded (so
//! `Self` need not be `Debug`), other parameters are.
#![deny(warnings)]

#[derive(Default, PartialEq)]
struct Counter {
    hits: u32,
    names: Vec<String>,
}

impl Counter {
    #[monitor::traced]
    fn new() -> Self {
        Self::default()
    }

    #[monitor::traced]
    fn hits(&self) -> u32 {
        self.hits
    }

    #[monitor::traced(fields(before = self.hits))]
    fn hit(&mut self, by: u32) -> u32 {
        self.hits += by;
        self.hits
    }

    #[monitor::traced(skip(self))]
    fn with_name(mut self, name: &str) -> Self {
        self.names.push(name.to_owned());
        self
    }

    #[monitor::traced(fields(names = ?self.names))]
    fn into_names(self) -> Vec<String> {
        self.names
    }

    #[monitor::traced]
    fn unboxed(self: Box<Self>) -> Self {
        *self
    }
}

trait Describe {
    #[monitor::traced(fields(kind = %self.kind()))]
    fn describe(&self, detail: bool) -> String {
        if detail {
            format!("a {}", self.kind())
        } else {
            "something".to_owned()
        }
    }

    fn kind(&self) -> &'static str;
}

impl Describe for Counter {
    #[monitor::traced]
    fn kind(&self) -> &'static str {
        "counter"
    }
}

fn main() {
    let mut counter = Counter::new();
    assert_eq!(counter.hit(1), 1);
    assert_eq!(counter.hit(2), 3);
    assert_eq!(counter.hits(), 3);
    let counter = Box::new(counter.with_name("a")).unboxed();
    assert_eq!(counter.describe(false), "something");
    assert_eq!(counter.describe(true), "a counter");
    assert_eq!(counter.into_names(), ["a"]);
}
